/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_entry.c: the directory's entries, values and atomic Modifies. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"
#include "rec_lockout.h"

#define CAS_MAX 256		/* rounds of a contended lockout update */

#define OC_USER "pamRecoveryUser"
#define OC_BATCH "pamRecoveryBatch"
#define OC_EVENT "pamRecoveryEvent"

/* The Modify or Add m of dn; *result the LDAP result. */
static int
modify(struct rec_ldap *c, const char *dn, struct rec_ldap_mods *m,
    int *result)
{
	return rec_ldap_send(c, REC_LDAP_MODIFY, dn, rec_ldap_mods_list(m),
	    result);
}

static int
add(struct rec_ldap *c, const char *dn, struct rec_ldap_mods *m, int *result)
{
	return rec_ldap_send(c, REC_LDAP_ADD, dn, rec_ldap_mods_list(m),
	    result);
}

/* ---- The user's entry and the active batch --------------------------- */

/* *have: REC_LOCK_LOGIN, REC_LOCK_GEN for the lockout values e holds. */
int
rec_ldap_parse_user(LDAP *ld, LDAPMessage *e, struct rec_user *u,
    unsigned *have)
{
	int login, gen;

	memset(u, 0, sizeof(*u));
	*have = 0;
	if (rec_ldap_get_u64(ld, e, "pamRecoveryActiveBatch", 1, UINT64_MAX,
	    &u->active_batch) != REC_OK ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryLastUsed", 1, UINT64_MAX,
	    &u->last_used) != REC_OK ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryLastGenerated", 1, UINT64_MAX,
	    &u->last_generated) != REC_OK ||
	    rec_ldap_get_lock(ld, e, "pamRecoveryLock", &u->lock, &login) !=
	    REC_OK ||
	    rec_ldap_get_lock(ld, e, "pamRecoveryGenLock", &u->gen, &gen) !=
	    REC_OK)
		return REC_ERR_CORRUPT;
	*have = (login ? REC_LOCK_LOGIN : 0) | (gen ? REC_LOCK_GEN : 0);
	return REC_OK;
}

int
rec_ldap_parse_batch(LDAP *ld, LDAPMessage *e, struct rec_batch *b)
{
	char buf[REC_LDAP_VAL_MAX];
	uint64_t v;
	struct berval **key = NULL;
	int r = REC_ERR_CORRUPT;

	memset(b, 0, sizeof(*b));
	if (rec_ldap_get_u64(ld, e, "pamRecoveryBatchId", 0, UINT64_MAX,
	    &b->id) || rec_ldap_get_u64(ld, e, "pamRecoveryBatchStatus", 0,
	    REC_BATCH_STAGED, &v))
		goto out;
	b->status = (uint8_t)v;
	if (b->status < REC_BATCH_ACTIVE ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryCreated", 0, UINT64_MAX,
	    &b->created) ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryExpires", 1, UINT64_MAX,
	    &b->expires) ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryVerified", 1, UINT64_MAX,
	    &b->verified) ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryExported", 1, UINT32_MAX, &v))
		goto out;
	b->exported = (uint32_t)v;
	if (rec_ldap_get_u64(ld, e, "pamRecoveryCodeCount", 0, REC_COUNT_MAX,
	    &v) || v == 0)
		goto out;
	b->count = (uint16_t)v;
	if (rec_ldap_get_u64(ld, e, "pamRecoveryOpsLimit", 0, UINT64_MAX,
	    &b->opslimit) ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryMemLimit", 0, UINT64_MAX,
	    &b->memlimit) ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryTagBits", 1, 16, &v))
		goto out;
	b->tag_bits = (uint8_t)v;
	if (rec_ldap_get_str(ld, e, "pamRecoveryFormat", buf, sizeof(buf)) !=
	    REC_OK || rec_ldap_format_parse(buf, &b->fmt) != REC_OK)
		goto out;
	if (rec_ldap_get_str(ld, e, "pamRecoveryPeppered", buf, sizeof(buf)) ==
	    REC_OK) {
		if (strcmp(buf, "TRUE") == 0)
			b->peppered = 1;
		else if (strcmp(buf, "FALSE") != 0)
			goto out;
	}
	key = ldap_get_values_len(ld, e, "pamRecoveryTagKey");
	if (b->tag_bits != 0) {
		if (key == NULL || key[0] == NULL || key[1] != NULL ||
		    key[0]->bv_len != REC_TAGKEY_LEN)
			goto out;
		memcpy(b->tag_key, key[0]->bv_val, REC_TAGKEY_LEN);
	}
	b->modified = b->created;
	r = REC_OK;
out:
	ldap_value_free_len(key);
	return r;
}

void
rec_ldap_mods_batch(struct rec_ldap_mods *m, const struct rec_batch *b)
{
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "objectClass");
	rec_ldap_mods_fmt(m, "%s", OC_BATCH);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryBatchId", b->id);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryBatchStatus", b->status);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryCreated", b->created);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryExpires", b->expires);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryVerified", b->verified);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryExported", b->exported);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryCodeCount", b->count);
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryFormat");
	rec_ldap_mods_fmt(m, "%s %u %u %d",
	    rec_config_alphabet_name(b->fmt.alphabet),
	    b->fmt.length, b->fmt.group, b->fmt.check ? 1 : 0);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryOpsLimit", b->opslimit);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryMemLimit", b->memlimit);
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryPeppered");
	rec_ldap_mods_fmt(m, "%s", b->peppered ? "TRUE" : "FALSE");
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryTagBits", b->tag_bits);
	if (b->tag_bits != 0) {
		rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryTagKey");
		rec_ldap_mods_val(m, b->tag_key, REC_TAGKEY_LEN);
	}
}

static int
by_slot(const void *a, const void *b)
{
	const struct rec_code_rec *x = a, *y = b;

	return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The code values and marks of batch entry e, counted into b. */
int
rec_ldap_parse_codes(LDAP *ld, LDAPMessage *e, struct rec_batch *b,
    struct rec_code_rec *codes, unsigned *n)
{
	static const struct {
		const char *attr;
		enum rec_code_state state;
	} kinds[] = {
		{ "pamRecoveryCode", REC_CODE_UNUSED },
		{ "pamRecoveryUsedCode", REC_CODE_USED },
		{ "pamRecoveryInvalidCode", REC_CODE_INVALID },
	};
	char buf[REC_LDAP_VAL_MAX];
	struct berval **v = NULL;
	int r = REC_ERR_CORRUPT;

	*n = 0;
	for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		v = ldap_get_values_len(ld, e, kinds[k].attr);
		for (unsigned i = 0; v != NULL && v[i] != NULL; i++) {
			if (*n == REC_COUNT_MAX || v[i]->bv_len >= sizeof(buf))
				goto out;
			memcpy(buf, v[i]->bv_val, v[i]->bv_len);
			buf[v[i]->bv_len] = '\0';
			if (strlen(buf) != v[i]->bv_len)
				goto out;
			if (kinds[k].state == REC_CODE_UNUSED ?
			    rec_ldap_code_parse(b, buf, &codes[*n]) :
			    rec_ldap_mark_parse(b, buf, kinds[k].state,
			    &codes[*n]))
				goto out;
			if (kinds[k].state == REC_CODE_USED)
				b->used++;
			else if (kinds[k].state == REC_CODE_INVALID)
				b->invalidated++;
			if (codes[*n].changed > b->modified)
				b->modified = codes[*n].changed;
			(*n)++;
		}
		ldap_value_free_len(v);
		v = NULL;
	}
	qsort(codes, *n, sizeof(codes[0]), by_slot);
	r = rec_batch_check_codes(b, codes, *n);
	/*
	 * A slot without any value was purged, and counts as used (as a
	 * code record purge removed does in the LMDB store, whose batch
	 * keeps its count): a login's remaining codes, a walk's and a
	 * mark's agree.
	 */
	if (r == REC_OK && *n < b->count)
		b->used = (uint16_t)(b->used + b->count - *n);
out:
	ldap_value_free_len(v);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

int
rec_ldap_user_entries(struct rec_ldap *c, const char *user,
    LDAPMessage **res, LDAPMessage **ue)
{
	char dn[REC_DN_MAX];
	LDAPMessage *e;
	int r;

	*res = *ue = NULL;
	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		return r;
	r = rec_ldap_search(c, dn, LDAP_SCOPE_SUBTREE, "(|(objectClass=" OC_USER
	    ")(objectClass=" OC_BATCH "))", NULL, res);
	if (r != REC_OK)
		return r;
	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e))
		if (rec_ldap_is_class(c->ld, e, OC_USER))
			*ue = e;
	return REC_OK;
}

LDAPMessage *
rec_ldap_batch_entry(struct rec_ldap *c, LDAPMessage *res, uint64_t id)
{
	LDAPMessage *e;
	uint64_t bid;

	for (e = ldap_first_entry(c->ld, res); e != NULL && id != 0;
	    e = ldap_next_entry(c->ld, e))
		if (rec_ldap_is_class(c->ld, e, OC_BATCH) &&
		    rec_ldap_get_u64(c->ld, e, "pamRecoveryBatchId", 0,
		    UINT64_MAX, &bid) == REC_OK && bid == id)
			return e;
	return NULL;
}

int
rec_ldap_read_user(struct rec_ldap *c, const char *user,
    struct rec_ldap_user *out)
{
	LDAPMessage *res = NULL, *ue, *e;
	int r = REC_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	r = rec_ldap_user_entries(c, user, &res, &ue);
	if (r == REC_ERR_NOTFOUND) {
		r = REC_ERR_NOSTORE;
		goto out;
	}
	if (r != REC_OK)
		goto out;
	/* A holder is no record: a login sees no user, as on LMDB. */
	if (ue == NULL || rec_ldap_is_holder(c, ue)) {
		r = REC_ERR_NOSTORE;
		goto out;
	}
	if ((r = rec_ldap_parse_user(c->ld, ue, &out->user,
	    &out->have_locks)) != REC_OK)
		goto bad;
	if ((e = rec_ldap_batch_entry(c, res, out->user.active_batch)) !=
	    NULL) {
		if ((r = rec_ldap_parse_batch(c->ld, e, &out->batch)) !=
		    REC_OK ||
		    (r = rec_ldap_parse_codes(c->ld, e, &out->batch, out->codes,
		    &out->ncodes)) != REC_OK)
			goto bad;
		out->have_batch = 1;
	}
	r = REC_OK;
	goto out;
bad:
	rec_logf(c->log, LOG_ERR, "directory %s: the recovery entries of user "
	    "%s do not parse", c->uri, user);
	r = REC_ERR_CORRUPT;
out:
	ldap_msgfree(res);
	if (r != REC_OK)
		sodium_memzero(out, sizeof(*out));
	return r;
}

int
rec_ldap_read_locks(struct rec_ldap *c, const char *user, struct rec_user *u,
    unsigned *have)
{
	char dn[REC_DN_MAX];
	LDAPMessage *res = NULL, *e;
	int r = REC_ERR_INTERNAL;

	memset(u, 0, sizeof(*u));
	*have = 0;
	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		goto out;
	r = rec_ldap_search(c, dn, LDAP_SCOPE_BASE, "(objectClass=" OC_USER ")",
	    NULL, &res);
	if (r == REC_ERR_NOTFOUND ||
	    (r == REC_OK && ((e = ldap_first_entry(c->ld, res)) == NULL ||
	    rec_ldap_is_holder(c, e)))) {
		r = REC_ERR_NOSTORE;	/* a holder too: no record */
		goto out;
	}
	if (r != REC_OK)
		goto out;
	if ((r = rec_ldap_parse_user(c->ld, e, u, have)) != REC_OK) {
		rec_logf(c->log, LOG_ERR, "directory %s: the entry of user %s "
		    "does not parse", c->uri, user);
		r = REC_ERR_CORRUPT;
	}
out:
	ldap_msgfree(res);
	return r;
}

/* ---- The lockout state ------------------------------------------------ */

/* The lockout value attr of user's entry (*have 0 when it has none). */
static int
read_lock(struct rec_ldap *c, const char *dn, const char *attr,
    struct rec_lock *lk, int *have)
{
	char *attrs[] = { "objectClass", (char *)attr, NULL };
	char buf[REC_LDAP_VAL_MAX];
	LDAPMessage *res = NULL, *e;
	int r;

	memset(lk, 0, sizeof(*lk));
	*have = 0;
	r = rec_ldap_search(c, dn, LDAP_SCOPE_BASE, "(objectClass=" OC_USER ")",
	    attrs, &res);
	if (r == REC_ERR_NOTFOUND)
		r = REC_ERR_NOSTORE;
	if (r != REC_OK)
		goto out;
	if ((e = ldap_first_entry(c->ld, res)) == NULL) {
		r = REC_ERR_NOSTORE;
		goto out;
	}
	r = rec_ldap_get_str(c->ld, e, attr, buf, sizeof(buf));
	if (r == REC_ERR_NOTFOUND) {
		r = REC_OK;
		goto out;
	}
	if (r == REC_OK && (r = rec_ldap_lock_parse(buf, lk)) == REC_OK)
		*have = 1;
	if (r != REC_OK)
		rec_logf(c->log, LOG_ERR, "directory %s: %s: %s does not "
		    "parse", c->uri, dn, attr);
out:
	ldap_msgfree(res);
	return r;
}

/*
 * The compare-and-swap of rec_ldap_lock_update on the value attr; *before
 * (may be NULL) receives the state that the round which decided read.
 */
static int
swap_lock(struct rec_ldap *c, const char *user, const char *attr,
    rec_ldap_lock_fn *fn, void *arg, struct rec_lock *before,
    struct rec_lock *out)
{
	char dn[REC_DN_MAX], oldv[REC_LDAP_VAL_MAX], newv[REC_LDAP_VAL_MAX];
	struct rec_lock old, lk;
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, have, lrc;

	if ((r = rec_ldap_need_write(c, "lockout update")) != REC_OK ||
	    (r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		goto out;
	for (unsigned round = 0; round < CAS_MAX; round++) {
		if ((r = read_lock(c, dn, attr, &old, &have)) != REC_OK)
			goto out;
		if (before != NULL)
			*before = old;
		lk = old;
		if ((r = fn(&lk, arg)) == REC_STOP) {
			if (out != NULL)
				*out = lk;
			r = REC_OK;
			goto out;
		}
		if (r != REC_OK)
			goto out;
		if ((r = rec_ldap_lock_encode(&old, oldv, sizeof(oldv))) !=
		    REC_OK || (r = rec_ldap_lock_encode(&lk, newv,
		    sizeof(newv))) != REC_OK)
			goto out;
		if (have && strcmp(oldv, newv) == 0) {
			if (out != NULL)
				*out = lk;
			goto out;
		}
		rec_ldap_mods_free(m);
		if ((m = rec_ldap_mods_new()) == NULL) {
			r = REC_ERR_NOMEM;
			goto out;
		}
		/*
		 * The exact old value goes and the new one comes in one
		 * Modify: when another host wrote in between, the delete
		 * finds no such value (or, where there was none, the add
		 * finds one) and nothing is applied.
		 */
		if (have) {
			rec_ldap_mods_attr(m, LDAP_MOD_DELETE, attr);
			rec_ldap_mods_val(m, oldv, strlen(oldv));
		}
		rec_ldap_mods_attr(m, LDAP_MOD_ADD, attr);
		rec_ldap_mods_val(m, newv, strlen(newv));
		r = modify(c, dn, m, &lrc);
		if (r == REC_OK) {
			if (out != NULL)
				*out = lk;
			goto out;
		}
		if (lrc != LDAP_NO_SUCH_ATTRIBUTE &&
		    lrc != LDAP_TYPE_OR_VALUE_EXISTS &&
		    lrc != LDAP_CONSTRAINT_VIOLATION) {
			if (lrc == LDAP_NO_SUCH_OBJECT)
				r = REC_ERR_NOSTORE;
			else
				r = rec_ldap_failed(c, r, lrc, "lockout update",
				    dn);
			goto out;
		}
	}
	rec_logf(c->log, LOG_ERR, "directory %s: lockout of user %s: still "
	    "contended after %d rounds", c->uri, user, CAS_MAX);
	r = REC_ERR_IO;
out:
	rec_ldap_mods_free(m);
	return r;
}

static int add_user(struct rec_ldap *, const char *, const char *,
    unsigned, const struct rec_user *, int *);

/* One lockout value of a swap: the old one goes, the new one comes. */
static int
swap_one(struct rec_ldap_mods *m, const char *attr, int had,
    const struct rec_lock *old,
    const struct rec_lock *nu, int *changed)
{
	char oldv[REC_LDAP_VAL_MAX], newv[REC_LDAP_VAL_MAX];
	int r;

	*changed = 0;
	if ((r = rec_ldap_lock_encode(old, oldv, sizeof(oldv))) != REC_OK ||
	    (r = rec_ldap_lock_encode(nu, newv, sizeof(newv))) != REC_OK)
		return r;
	if (had && strcmp(oldv, newv) == 0)
		return REC_OK;
	if (had) {
		rec_ldap_mods_attr(m, LDAP_MOD_DELETE, attr);
		rec_ldap_mods_val(m, oldv, strlen(oldv));
	}
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, attr);
	rec_ldap_mods_val(m, newv, strlen(newv));
	*changed = 1;
	return REC_OK;
}

int
rec_ldap_swap_locks(struct rec_ldap *c, const char *user, unsigned which,
    const struct rec_user *old, unsigned have, const struct rec_user *nu)
{
	static const struct rec_user zero;
	char dn[REC_DN_MAX];
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc, ch1 = 0, ch2 = 0;

	if ((r = rec_ldap_need_write(c, "lockout update")) != REC_OK ||
	    (r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		goto out;
	if (old == NULL) {
		r = add_user(c, user, dn, which, nu, &lrc);
		if (r == REC_OK || lrc != LDAP_ALREADY_EXISTS)
			goto out;
		/*
		 * The entry is there: a holder (a forgotten user's, read as
		 * no record), or another host's since the read.  The states
		 * are added to it as to an entry without them: an add of a
		 * single value another host put there is refused, and the
		 * caller reads again.
		 */
		old = &zero;
		have = 0;
	}
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if (((which & REC_LOCK_LOGIN) && (r = swap_one(m, "pamRecoveryLock",
	    (have & REC_LOCK_LOGIN) != 0, &old->lock, &nu->lock, &ch1)) !=
	    REC_OK) || ((which & REC_LOCK_GEN) && (r = swap_one(m,
	    "pamRecoveryGenLock", (have & REC_LOCK_GEN) != 0, &old->gen,
	    &nu->gen, &ch2)) != REC_OK))
		goto out;
	if (!ch1 && !ch2) {
		r = REC_OK;
		goto out;
	}
	/*
	 * Each exact old value goes and its new one comes in this one
	 * Modify: when another host wrote either in between, a delete finds
	 * no such value (or, where there was none, an add finds one) and the
	 * server applies none of it.
	 */
	r = modify(c, dn, m, &lrc);
	if (r != REC_OK && (lrc == LDAP_NO_SUCH_ATTRIBUTE ||
	    lrc == LDAP_TYPE_OR_VALUE_EXISTS ||
	    lrc == LDAP_CONSTRAINT_VIOLATION))
		r = REC_ERR_EXISTS;
	else if (r != REC_OK && lrc == LDAP_NO_SUCH_OBJECT)
		r = REC_ERR_NOSTORE;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "lockout update", dn);
out:
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_lock_update(struct rec_ldap *c, const char *user,
    rec_ldap_lock_fn *fn, void *arg, struct rec_lock *out)
{
	return swap_lock(c, user, "pamRecoveryLock", fn, arg, NULL, out);
}

struct count_arg {
	uint64_t now;
	struct rec_lock_policy pol;
	int locked;
};

static int
count_fn(struct rec_lock *lk, void *varg)
{
	struct count_arg *a = varg;

	rec_lock_refresh(lk, a->now, &a->pol);
	a->locked = rec_lock_remaining(lk, a->now, &a->pol) > 0;
	if (a->locked)
		return REC_OK;	/* the refreshed state, nothing counted */
	(void)rec_lock_fail(lk, a->now, &a->pol);
	return REC_OK;
}

int
rec_ldap_count_attempt(struct rec_ldap *c, const char *user, uint64_t now,
    const struct rec_config *cfg, struct rec_lock *before,
    struct rec_lock *out)
{
	struct count_arg a = { .now = now };
	int r;

	rec_config_lock_policy(cfg, &a.pol);
	r = swap_lock(c, user, "pamRecoveryLock", count_fn, &a, before, out);

	return r == REC_OK && a.locked ? REC_ERR_LOCKED : r;
}

struct refund_arg {
	const struct rec_lock *before, *counted;
};

/* Field by field: the padding of two copies need not agree. */
static int
lock_equal(const struct rec_lock *a, const struct rec_lock *b)
{
	return a->failures == b->failures &&
	    a->window_start == b->window_start &&
	    a->last_fail == b->last_fail &&
	    a->locked_until == b->locked_until && a->cooldown == b->cooldown;
}

static int
refund_fn(struct rec_lock *lk, void *varg)
{
	struct refund_arg *a = varg;

	if (lock_equal(lk, a->counted))
		*lk = *a->before;
	else if (lk->failures > 0)
		lk->failures--;
	else
		return REC_STOP;
	return REC_OK;
}

int
rec_ldap_refund(struct rec_ldap *c, const char *user,
    const struct rec_lock *before, const struct rec_lock *counted)
{
	struct refund_arg a = { .before = before, .counted = counted };

	return rec_ldap_lock_update(c, user, refund_fn, &a, NULL);
}

static int
clear_fn(struct rec_lock *lk, void *varg)
{
	(void)varg;
	rec_lock_clear(lk);
	return REC_OK;
}

int
rec_ldap_clear_lock(struct rec_ldap *c, const char *user)
{
	return rec_ldap_lock_update(c, user, clear_fn, NULL, NULL);
}

struct gen_arg {
	uint64_t now;
	struct rec_lock_policy gc;	/* generate_cooldown as a lockout */
	uint64_t wait;
};

static int
gen_fn(struct rec_lock *lk, void *varg)
{
	struct gen_arg *a = varg;

	rec_lock_refresh(lk, a->now, &a->gc);
	if ((a->wait = rec_lock_remaining(lk, a->now, &a->gc)) == 0)
		(void)rec_lock_fail(lk, a->now, &a->gc);
	return REC_OK;
}

static int ensure_user(struct rec_ldap *, const char *, const char *);

int
rec_ldap_take_generate(struct rec_ldap *c, const char *user, uint64_t now,
    const struct rec_config *cfg, uint64_t *wait)
{
	struct gen_arg a = { .now = now };
	char dn[REC_DN_MAX];
	int r;

	*wait = 0;
	if (cfg->generate_cooldown == 0)
		return REC_OK;
	rec_config_gen_policy(cfg, &a.gc);
	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK ||
	    (r = ensure_user(c, user, dn)) != REC_OK ||
	    (r = swap_lock(c, user, "pamRecoveryGenLock", gen_fn, &a,
	    NULL, NULL)) != REC_OK)
		return r;
	*wait = a.wait;
	return a.wait > 0 ? REC_ERR_COOLDOWN : REC_OK;
}

/* ---- Codes and batches ------------------------------------------------ */

/*
 * After a consume was refused: REC_ERR_INVALIDATED when the batch entry at
 * dn is no longer active on this server, else REC_ERR_USED.
 */
static int
refused_why(struct rec_ldap *c, const char *dn)
{
	char *attrs[] = { "pamRecoveryBatchStatus", NULL };
	LDAPMessage *res = NULL;
	int r;

	r = rec_ldap_search(c, dn, LDAP_SCOPE_BASE,
	    "(pamRecoveryBatchStatus=1)", attrs, &res);
	if (r == REC_OK && ldap_first_entry(c->ld, res) == NULL)
		r = REC_ERR_INVALIDATED;
	else
		r = REC_ERR_USED;
	ldap_msgfree(res);
	return r;
}

int
rec_ldap_mark_code(struct rec_ldap *c, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *code,
    enum rec_code_state to, uint64_t now, const char *what)
{
	char dn[REC_DN_MAX], val[REC_LDAP_VAL_MAX], word[REC_FIELD_MAX];
	char mark[REC_LDAP_VAL_MAX];
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if (code->state != REC_CODE_UNUSED || (to != REC_CODE_USED &&
	    to != REC_CODE_INVALID) || what == NULL || what[0] == '\0') {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_ldap_batch_dn(c, user, b->id, dn)) != REC_OK ||
	    (r = rec_ldap_code_encode(b, code, val, sizeof(val))) != REC_OK)
		goto out;
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	rec_ldap_printable(what, word, sizeof(word));
	/*
	 * A consume also asserts that the batch is still in force where it
	 * is written: the active status goes and comes back in the same
	 * Modify, whose delete finds no such value once the batch was
	 * replaced or invalidated, whatever the copy read (a replica's,
	 * perhaps behind) said.
	 */
	if (to == REC_CODE_USED) {
		rec_ldap_mods_attr(m, LDAP_MOD_DELETE,
		    "pamRecoveryBatchStatus");
		rec_ldap_mods_fmt(m, "%d", REC_BATCH_ACTIVE);
		rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryBatchStatus");
		rec_ldap_mods_fmt(m, "%d", REC_BATCH_ACTIVE);
	}
	rec_ldap_mods_attr(m, LDAP_MOD_DELETE, "pamRecoveryCode");
	rec_ldap_mods_val(m, val, strlen(val));
	rec_ldap_mods_attr(m, LDAP_MOD_ADD,
	    to == REC_CODE_USED ? "pamRecoveryUsedCode" :
	    "pamRecoveryInvalidCode");
	if ((r = rec_ldap_mark_encode(b, code, now, word, mark,
	    sizeof(mark))) != REC_OK)
		goto out;
	rec_ldap_mods_val(m, mark, strlen(mark));
	r = modify(c, dn, m, &lrc);
	/*
	 * The loser of a race: the value is gone (or the batch out of
	 * force), nothing was applied.
	 */
	if (r != REC_OK && lrc == LDAP_NO_SUCH_ATTRIBUTE)
		r = to == REC_CODE_USED ? refused_why(c, dn) : REC_ERR_USED;
	else if (r != REC_OK && lrc == LDAP_NO_SUCH_OBJECT)
		r = REC_ERR_USED;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, to == REC_CODE_USED ? "consume" :
		    "invalidate", dn);
out:
	sodium_memzero(val, sizeof(val));
	sodium_memzero(mark, sizeof(mark));
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_mark_verified(struct rec_ldap *c, const char *user, uint64_t id,
    uint64_t now)
{
	char dn[REC_DN_MAX];
	struct rec_ldap_mods *m = NULL;
	int r, lrc;

	if ((r = rec_ldap_batch_dn(c, user, id, dn)) != REC_OK)
		return r;
	if ((m = rec_ldap_mods_new()) == NULL)
		return REC_ERR_NOMEM;
	/* The active status goes and comes back: the consume's assertion. */
	rec_ldap_mods_attr(m, LDAP_MOD_DELETE, "pamRecoveryBatchStatus");
	rec_ldap_mods_fmt(m, "%d", REC_BATCH_ACTIVE);
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryBatchStatus");
	rec_ldap_mods_fmt(m, "%d", REC_BATCH_ACTIVE);
	rec_ldap_mods_u64(m, LDAP_MOD_REPLACE, "pamRecoveryVerified", now);
	r = modify(c, dn, m, &lrc);
	if (r != REC_OK && (lrc == LDAP_NO_SUCH_ATTRIBUTE ||
	    lrc == LDAP_NO_SUCH_OBJECT))
		r = REC_ERR_INVALIDATED;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "verified", dn);
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_note_use(struct rec_ldap *c, const char *user, uint64_t now)
{
	char dn[REC_DN_MAX];
	struct rec_ldap_mods *m = NULL;
	int r, lrc;

	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		return r;
	if ((m = rec_ldap_mods_new()) == NULL)
		return REC_ERR_NOMEM;
	rec_ldap_mods_u64(m, LDAP_MOD_REPLACE, "pamRecoveryLastUsed", now);
	r = modify(c, dn, m, &lrc);
	if (r != REC_OK && lrc == LDAP_NO_SUCH_OBJECT)
		r = REC_ERR_NOSTORE;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "last use", dn);
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_note_success(struct rec_ldap *c, const char *user, uint64_t last_used)
{
	char dn[REC_DN_MAX], clear[REC_LDAP_VAL_MAX];
	struct rec_lock none;
	struct rec_ldap_mods *m = NULL;
	int r, lrc;

	rec_lock_clear(&none);
	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK ||
	    (r = rec_ldap_lock_encode(&none, clear, sizeof(clear))) != REC_OK)
		return r;
	if ((m = rec_ldap_mods_new()) == NULL)
		return REC_ERR_NOMEM;
	rec_ldap_mods_attr(m, LDAP_MOD_REPLACE, "pamRecoveryLock");
	rec_ldap_mods_val(m, clear, strlen(clear));
	if (last_used != 0)
		rec_ldap_mods_u64(m, LDAP_MOD_REPLACE, "pamRecoveryLastUsed",
		    last_used);
	r = modify(c, dn, m, &lrc);
	if (r != REC_OK && lrc == LDAP_NO_SUCH_OBJECT)
		r = REC_ERR_NOSTORE;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "success", dn);
	rec_ldap_mods_free(m);
	return r;
}

/*
 * Add user's entry at dn, with the lockout states `which` of *u (NULL:
 * none); the login state is always there, as the all-zero one at least.
 * *lrc receives the directory's answer.
 */
static int
add_user(struct rec_ldap *c, const char *user, const char *dn, unsigned which,
    const struct rec_user *u, int *lrc)
{
	struct rec_lock none;
	struct rec_ldap_mods *m = NULL;
	char v[REC_LDAP_VAL_MAX];
	int r;

	*lrc = LDAP_OTHER;
	rec_lock_clear(&none);
	if ((m = rec_ldap_mods_new()) == NULL)
		return REC_ERR_NOMEM;
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "objectClass");
	rec_ldap_mods_fmt(m, "%s", OC_USER);
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "uid");
	rec_ldap_mods_fmt(m, "%s", user);
	if ((r = rec_ldap_lock_encode(u != NULL && (which & REC_LOCK_LOGIN) ?
	    &u->lock : &none, v, sizeof(v))) != REC_OK)
		goto out;
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryLock");
	rec_ldap_mods_val(m, v, strlen(v));
	if (u != NULL && (which & REC_LOCK_GEN)) {
		if ((r = rec_ldap_lock_encode(&u->gen, v, sizeof(v))) != REC_OK)
			goto out;
		rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryGenLock");
		rec_ldap_mods_val(m, v, strlen(v));
	}
	r = add(c, dn, m, lrc);
	if (r != REC_OK && *lrc != LDAP_ALREADY_EXISTS)
		r = rec_ldap_failed(c, r, *lrc, "add", dn);
out:
	rec_ldap_mods_free(m);
	return r;
}

/* The user's entry, unless it exists already. */
static int
ensure_user(struct rec_ldap *c, const char *user, const char *dn)
{
	int lrc, r = add_user(c, user, dn, 0, NULL, &lrc);

	return r != REC_OK && lrc == LDAP_ALREADY_EXISTS ? REC_OK : r;
}

static int
set_status(struct rec_ldap *c, const char *user, uint64_t id, unsigned status)
{
	char dn[REC_DN_MAX];
	struct rec_ldap_mods *m = NULL;
	int r, lrc;

	if ((r = rec_ldap_batch_dn(c, user, id, dn)) != REC_OK)
		return r;
	if ((m = rec_ldap_mods_new()) == NULL)
		return REC_ERR_NOMEM;
	rec_ldap_mods_u64(m, LDAP_MOD_REPLACE, "pamRecoveryBatchStatus",
	    status);
	r = modify(c, dn, m, &lrc);
	if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "batch status", dn);
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_write_batch(struct rec_ldap *c, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *codes, unsigned n,
    uint64_t now)
{
	char udn[REC_DN_MAX], dn[REC_DN_MAX], val[REC_LDAP_VAL_MAX];
	struct rec_ldap_user *old = NULL;
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if (n == 0 || n > b->count || b->count > REC_COUNT_MAX || b->id == 0 ||
	    b->status < REC_BATCH_ACTIVE || b->status > REC_BATCH_STAGED) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_ldap_user_dn(c, user, udn)) != REC_OK ||
	    (r = rec_ldap_batch_dn(c, user, b->id, dn)) != REC_OK ||
	    (r = ensure_user(c, user, udn)) != REC_OK)
		goto out;
	if ((m = rec_ldap_mods_new()) == NULL ||
	    (old = calloc(1, sizeof(*old))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	rec_ldap_mods_batch(m, b);
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryCode");
	for (unsigned i = 0; i < n; i++) {
		if (codes[i].state != REC_CODE_UNUSED || codes[i].slot == 0 ||
		    codes[i].slot > b->count) {
			r = REC_ERR_USAGE;
			goto out;
		}
		r = rec_ldap_code_encode(b, &codes[i], val, sizeof(val));
		if (r != REC_OK)
			goto out;
		rec_ldap_mods_val(m, val, strlen(val));
	}
	r = add(c, dn, m, &lrc);
	if (r != REC_OK) {
		if (lrc != LDAP_ALREADY_EXISTS)
			r = rec_ldap_failed(c, r, lrc, "add", dn);
		goto out;
	}
	if (b->status != REC_BATCH_ACTIVE) {
		r = REC_OK;
		goto out;
	}
	/* Switch the user over, then retire the batch that was active. */
	if ((r = rec_ldap_read_user(c, user, old)) != REC_OK)
		goto out;
	rec_ldap_mods_free(m);
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	rec_ldap_mods_u64(m, LDAP_MOD_REPLACE, "pamRecoveryActiveBatch", b->id);
	rec_ldap_mods_u64(m, LDAP_MOD_REPLACE, "pamRecoveryLastGenerated", now);
	if ((r = modify(c, udn, m, &lrc)) != REC_OK) {
		r = rec_ldap_failed(c, r, lrc, "activate batch", udn);
		goto out;
	}
	if (old->user.active_batch != 0 && old->user.active_batch != b->id &&
	    (r = set_status(c, user, old->user.active_batch,
	    REC_BATCH_INVALIDATED)) != REC_OK && r != REC_ERR_NOTFOUND)
		goto out;
	r = REC_OK;
out:
	sodium_memzero(val, sizeof(val));
	if (old != NULL) {
		sodium_memzero(old, sizeof(*old));
		free(old);
	}
	rec_ldap_mods_free(m);
	return r;
}

/* ---- Audit events ----------------------------------------------------- */

static void
mods_text(struct rec_ldap_mods *m, const char *attr, const char *s)
{
	char buf[REC_FIELD_MAX];

	if (s == NULL || s[0] == '\0')
		return;		/* a Directory String is never empty */
	rec_ldap_printable(s, buf, sizeof(buf));
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, attr);
	rec_ldap_mods_fmt(m, "%s", buf);
}

int
rec_ldap_audit(struct rec_ldap *c, const struct rec_event *ev,
    const char *host)
{
	char udn[REC_DN_MAX], dn[REC_DN_MAX], id[48];
	const char *parent = udn;
	uint64_t rnd;
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if (ev->type < REC_EV_CODE_USED || ev->type > REC_EV_FORGOTTEN ||
	    host == NULL || host[0] == '\0') {
		r = REC_ERR_USAGE;
		goto out;
	}
	/*
	 * An event that names no user (a purge's run, an audit purge) goes
	 * directly below ldap_base, where the walks read it as user "".
	 */
	if (ev->user[0] == '\0')
		parent = c->cfg.ldap_base;
	else if ((r = rec_ldap_user_dn(c, ev->user, udn)) != REC_OK)
		goto out;
	randombytes_buf(&rnd, sizeof(rnd));
	snprintf(id, sizeof(id), "%016" PRIx64 "-%016" PRIx64, ev->time, rnd);
	if ((size_t)snprintf(dn, sizeof(dn), "pamRecoveryEventId=%s,%s", id,
	    parent) >= sizeof(dn)) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "objectClass");
	rec_ldap_mods_fmt(m, "%s", OC_EVENT);
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryEventId");
	rec_ldap_mods_fmt(m, "%s", id);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryEventTime", ev->time);
	rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryEventType");
	rec_ldap_mods_fmt(m, "%s", rec_event_name(ev->type));
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryEventBatch", ev->batch);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryEventSlot", ev->slot);
	mods_text(m, "pamRecoveryHost", host);
	mods_text(m, "pamRecoveryService", ev->service);
	mods_text(m, "pamRecoveryRhost", ev->rhost);
	mods_text(m, "pamRecoveryTty", ev->tty);
	mods_text(m, "pamRecoveryActor", ev->actor);
	mods_text(m, "pamRecoveryDetail", ev->detail);
	r = add(c, dn, m, &lrc);
	if (r != REC_OK && lrc == LDAP_NO_SUCH_OBJECT)
		r = REC_ERR_NOSTORE;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "audit", dn);
out:
	rec_ldap_mods_free(m);
	return r;
}

static int
event_type(const char *name, uint8_t *type)
{
	for (unsigned t = REC_EV_CODE_USED; t <= REC_EV_FORGOTTEN; t++)
		if (strcmp(rec_event_name((enum rec_event_type)t), name) == 0) {
			*type = (uint8_t)t;
			return REC_OK;
		}
	return REC_ERR_CORRUPT;
}

int
rec_ldap_parse_event(LDAP *ld, LDAPMessage *e, const char *user,
    struct rec_event *ev,
    char *host, size_t hostlen)
{
	char buf[REC_LDAP_VAL_MAX];
	uint64_t slot;

	memset(ev, 0, sizeof(*ev));
	snprintf(ev->user, sizeof(ev->user), "%s", user);
	if (rec_ldap_get_u64(ld, e, "pamRecoveryEventTime", 0, UINT64_MAX,
	    &ev->time) ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryEventBatch", 1, UINT64_MAX,
	    &ev->batch) ||
	    rec_ldap_get_u64(ld, e, "pamRecoveryEventSlot", 1, REC_COUNT_MAX,
	    &slot) ||
	    rec_ldap_get_str(ld, e, "pamRecoveryEventType", buf,
	    sizeof(buf)) ||
	    event_type(buf, &ev->type) ||
	    rec_ldap_get_str(ld, e, "pamRecoveryHost", host, hostlen))
		return REC_ERR_CORRUPT;
	ev->slot = (uint8_t)slot;
	(void)rec_ldap_get_str(ld, e, "pamRecoveryService", ev->service,
	    sizeof(ev->service));
	(void)rec_ldap_get_str(ld, e, "pamRecoveryRhost", ev->rhost,
	    sizeof(ev->rhost));
	(void)rec_ldap_get_str(ld, e, "pamRecoveryTty", ev->tty,
	    sizeof(ev->tty));
	(void)rec_ldap_get_str(ld, e, "pamRecoveryActor", ev->actor,
	    sizeof(ev->actor));
	(void)rec_ldap_get_str(ld, e, "pamRecoveryDetail", ev->detail,
	    sizeof(ev->detail));
	return REC_OK;
}

int
rec_ldap_each_event(struct rec_ldap *c, const char *user,
    rec_ldap_event_fn *fn, void *arg)
{
	char dn[REC_DN_MAX], host[REC_FIELD_MAX];
	struct rec_event ev;
	LDAPMessage *res = NULL, *e;
	int r = REC_ERR_INTERNAL;

	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		goto out;
	r = rec_ldap_search(c, dn, LDAP_SCOPE_ONELEVEL,
	    "(objectClass=" OC_EVENT ")", NULL, &res);
	if (r == REC_ERR_NOTFOUND)
		r = REC_ERR_NOSTORE;
	if (r != REC_OK)
		goto out;
	for (e = ldap_first_entry(c->ld, res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if ((r = rec_ldap_parse_event(c->ld, e, user, &ev, host,
		    sizeof(host))) != REC_OK) {
			rec_logf(c->log, LOG_ERR, "directory %s: an audit "
			    "event of user %s does not parse", c->uri, user);
			goto out;
		}
		if ((r = fn(&ev, host, arg)) != REC_OK) {
			if (r == REC_STOP)
				r = REC_OK;
			goto out;
		}
	}
	r = REC_OK;
out:
	ldap_msgfree(res);
	return r;
}
