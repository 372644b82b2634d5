/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_import.c: the directory's side of a copy from another store: a batch entry as given, a bare user's record. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

#define IMP_MODS 24		/* attributes of one Add or Modify */
#define IMP_VALS (REC_COUNT_MAX + 2 * IMP_MODS)

/* What a user's entry holds when a copy's batch made it, and nothing since. */
#define BARE_LOCK "0 0 0 0 0"

/*
 * An Add or Modify being built, every value a copy kept here (code values
 * hold hashes: wiped when freed).  The same shape as rec_ldap_entry.c's,
 * whose builder is private to it.
 */
struct imp {
	LDAPMod mod[IMP_MODS];
	LDAPMod *list[IMP_MODS + 1];
	struct berval bv[IMP_VALS];
	struct berval *bvp[IMP_VALS + IMP_MODS];
	char text[IMP_VALS][REC_LDAP_VAL_MAX];
	unsigned nmod, nbv, nbvp;
	int open, bad;
};

static void
imp_free(struct imp *m)
{
	if (m == NULL)
		return;
	sodium_memzero(m, sizeof(*m));
	free(m);
}

static void
imp_end(struct imp *m)
{
	if (m->open)
		m->bvp[m->nbvp++] = NULL;
	m->open = 0;
}

static void
imp_attr(struct imp *m, int op, const char *attr)
{
	imp_end(m);
	if (m->nmod == IMP_MODS || m->nbvp >= IMP_VALS + IMP_MODS - 1) {
		m->bad = 1;
		return;
	}
	m->mod[m->nmod].mod_op = op | LDAP_MOD_BVALUES;
	m->mod[m->nmod].mod_type = (char *)attr;
	m->mod[m->nmod].mod_bvalues = &m->bvp[m->nbvp];
	m->list[m->nmod] = &m->mod[m->nmod];
	m->nmod++;
	m->open = 1;
}

static void
imp_val(struct imp *m, const void *v, size_t len)
{
	if (!m->open || m->nbv == IMP_VALS || len > REC_LDAP_VAL_MAX ||
	    m->nbvp >= IMP_VALS + IMP_MODS - 1) {
		m->bad = 1;
		return;
	}
	memcpy(m->text[m->nbv], v, len);
	m->bv[m->nbv].bv_val = m->text[m->nbv];
	m->bv[m->nbv].bv_len = len;
	m->bvp[m->nbvp++] = &m->bv[m->nbv++];
}

static void
imp_str(struct imp *m, const char *s)
{
	imp_val(m, s, strlen(s));
}

/* One attribute with one value: a number, or a string. */
static void
imp_u64(struct imp *m, int op, const char *attr, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	imp_attr(m, op, attr);
	imp_str(m, buf);
}

static void
imp_one(struct imp *m, int op, const char *attr, const char *s)
{
	imp_attr(m, op, attr);
	imp_str(m, s);
}

static LDAPMod **
imp_list(struct imp *m)
{
	imp_end(m);
	m->list[m->nmod] = NULL;
	return m->bad ? NULL : m->list;
}

/*
 * Send the Add (add set) or Modify m of dn over c, which must be open for
 * writing, and wait for its result: REC_OK, or the error with the LDAP
 * result in *lrc.
 */
static int
imp_send(struct rec_ldap *c, const char *dn, struct imp *m, int add,
    int *lrc)
{
	LDAPMod **list = imp_list(m);
	LDAPMessage *res = NULL;
	const char *what = add ? "add" : "modify";
	int msgid = -1, rc, r;

	*lrc = LDAP_OTHER;
	if (list == NULL)
		return REC_ERR_INTERNAL;
	if (!c->write) {
		rec_logf(c->log, LOG_ERR, "directory %s: %s over a connection "
		    "opened for reading", c->uri, what);
		return REC_ERR_USAGE;
	}
	if (c->broken)
		return REC_ERR_IO;
	rc = add ? ldap_add_ext(c->ld, dn, list, NULL, NULL, &msgid) :
	    ldap_modify_ext(c->ld, dn, list, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: %s %s: %s", c->uri,
		    what, dn, ldap_err2string(rc));
		return REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, what, &res)) != REC_OK)
		return r;
	return rec_ldap_result(c, res, what, lrc);
}

/* Log a refusal that is not the one the caller expects. */
static int
imp_failed(struct rec_ldap *c, int r, int lrc, const char *what,
    const char *dn)
{
	if (r != REC_ERR_TIMEOUT && r != REC_ERR_IO)
		rec_logf(c->log, LOG_ERR, "directory %s: %s %s: %s", c->uri,
		    what, dn, ldap_err2string(lrc));
	return r;
}

/*
 * Read the entry at dn (base scope) with attrs over c: REC_OK and *res
 * (the caller frees it) with its entry, or REC_ERR_NOTFOUND.
 */
static int
imp_read(struct rec_ldap *c, const char *dn, char **attrs,
    LDAPMessage **res)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	LDAPMessage *all = NULL, *m;
	int msgid, lrc = LDAP_OTHER, r;

	*res = NULL;
	if (c->broken)
		return REC_ERR_IO;
	if ((lrc = ldap_search_ext(c->ld, dn, LDAP_SCOPE_BASE,
	    "(objectClass=*)", attrs, 0, NULL, NULL, &tv, 1, &msgid)) !=
	    LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s",
		    c->uri, dn, ldap_err2string(lrc));
		return REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, "search", &all)) != REC_OK)
		return r;
	for (m = ldap_first_message(c->ld, all); m != NULL;
	    m = ldap_next_message(c->ld, m))
		if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
			break;
	r = REC_ERR_IO;
	if (m != NULL && ldap_parse_result(c->ld, m, &lrc, NULL, NULL, NULL,
	    NULL, 0) == LDAP_SUCCESS)
		r = rec_ldap_err(lrc);
	if (r == REC_OK && ldap_first_entry(c->ld, all) == NULL)
		r = REC_ERR_NOTFOUND;
	if (r != REC_OK && r != REC_ERR_NOTFOUND)
		rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s", c->uri,
		    dn, ldap_err2string(lrc));
	if (r == REC_OK) {
		*res = all;
		all = NULL;
	}
	ldap_msgfree(all);
	return r;
}

static int
imp_batch_dn(struct rec_ldap *c, const char *user, uint64_t id, char *dn)
{
	char udn[REC_DN_MAX];
	int r;

	if ((r = rec_ldap_user_dn(c, user, udn)) != REC_OK)
		return r;
	if ((size_t)snprintf(dn, REC_DN_MAX, "pamRecoveryBatchId=%" PRIu64
	    ",%s", id, udn) >= REC_DN_MAX)
		return REC_ERR_USAGE;
	return REC_OK;
}

/* user's entry as a generation would make it, unless it exists. */
static int
imp_bare_user(struct rec_ldap *c, const char *user, const char *dn)
{
	struct imp *m;
	int r, lrc;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return REC_ERR_NOMEM;
	imp_one(m, LDAP_MOD_ADD, "objectClass", "pamRecoveryUser");
	imp_one(m, LDAP_MOD_ADD, "uid", user);
	imp_one(m, LDAP_MOD_ADD, "pamRecoveryLock", BARE_LOCK);
	r = imp_send(c, dn, m, 1, &lrc);
	if (r != REC_OK && lrc == LDAP_ALREADY_EXISTS)
		r = REC_OK;
	else if (r != REC_OK)
		r = imp_failed(c, r, lrc, "add", dn);
	imp_free(m);
	return r;
}

int
rec_ldap_put_batch(struct rec_ldap *c, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *codes, unsigned n,
    const char *host)
{
	static const char *const attr[] = {
		[REC_CODE_UNUSED] = "pamRecoveryCode",
		[REC_CODE_USED] = "pamRecoveryUsedCode",
		[REC_CODE_INVALID] = "pamRecoveryInvalidCode",
	};
	char udn[REC_DN_MAX], dn[REC_DN_MAX], val[REC_LDAP_VAL_MAX];
	char fmt[64], who[REC_FIELD_MAX];
	struct imp *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if (b->id == 0 || b->count == 0 || b->count > REC_COUNT_MAX ||
	    b->status < REC_BATCH_ACTIVE || b->status > REC_BATCH_STAGED ||
	    rec_batch_check_codes(b, codes, n) != REC_OK) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_ldap_user_dn(c, user, udn)) != REC_OK ||
	    (r = imp_batch_dn(c, user, b->id, dn)) != REC_OK)
		goto out;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	imp_one(m, LDAP_MOD_ADD, "objectClass", "pamRecoveryBatch");
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryBatchId", b->id);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryBatchStatus", b->status);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryCreated", b->created);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryExpires", b->expires);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryVerified", b->verified);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryExported", b->exported);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryCodeCount", b->count);
	snprintf(fmt, sizeof(fmt), "%s %u %u %d",
	    rec_config_alphabet_name(b->fmt.alphabet), b->fmt.length,
	    b->fmt.group, b->fmt.check ? 1 : 0);
	imp_one(m, LDAP_MOD_ADD, "pamRecoveryFormat", fmt);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryOpsLimit", b->opslimit);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryMemLimit", b->memlimit);
	imp_one(m, LDAP_MOD_ADD, "pamRecoveryPeppered", b->peppered ? "TRUE" :
	    "FALSE");
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryTagBits", b->tag_bits);
	if (b->tag_bits != 0) {
		imp_attr(m, LDAP_MOD_ADD, "pamRecoveryTagKey");
		imp_val(m, b->tag_key, REC_TAGKEY_LEN);
	}
	/*
	 * Each state's values as one attribute.  A used code is marked with
	 * the host that copies it (a local store is used on its own host
	 * alone); an invalidated one with "migrated", since a local store
	 * does not keep who invalidated it.
	 */
	for (unsigned s = REC_CODE_UNUSED; s <= REC_CODE_INVALID; s++) {
		int any = 0;

		for (unsigned i = 0; i < n; i++) {
			if (codes[i].state != s)
				continue;
			if (!any)
				imp_attr(m, LDAP_MOD_ADD, attr[s]);
			any = 1;
			if (s == REC_CODE_UNUSED)
				r = rec_ldap_code_encode(b, &codes[i], val,
				    sizeof(val));
			else {
				rec_ldap_printable(s == REC_CODE_USED ? host :
				    "migrated", who, sizeof(who));
				r = rec_ldap_mark_encode(b, &codes[i],
				    codes[i].changed, who[0] != '\0' ? who :
				    "?", val, sizeof(val));
			}
			if (r != REC_OK)
				goto out;
			imp_str(m, val);
		}
	}
	if ((r = imp_bare_user(c, user, udn)) != REC_OK)
		goto out;
	if ((r = imp_send(c, dn, m, 1, &lrc)) != REC_OK && lrc !=
	    LDAP_ALREADY_EXISTS)
		r = imp_failed(c, r, lrc, "add", dn);
out:
	sodium_memzero(val, sizeof(val));
	imp_free(m);
	return r;
}

/*
 * Whether the entry e (read with the attributes of put_user) holds
 * anything beyond what imp_bare_user writes.
 */
static int
imp_has_state(LDAP *ld, LDAPMessage *e)
{
	static const char *const state[] = { "pamRecoveryActiveBatch",
	    "pamRecoveryGenLock", "pamRecoveryLastUsed",
	    "pamRecoveryLastGenerated" };
	struct berval **v;
	int yes = 0;

	for (unsigned i = 0; i < sizeof(state) / sizeof(state[0]); i++) {
		v = ldap_get_values_len(ld, e, state[i]);
		if (v != NULL && v[0] != NULL)
			yes = 1;
		ldap_value_free_len(v);
	}
	v = ldap_get_values_len(ld, e, "pamRecoveryLock");
	if (v == NULL || v[0] == NULL || v[1] != NULL ||
	    v[0]->bv_len != strlen(BARE_LOCK) ||
	    memcmp(v[0]->bv_val, BARE_LOCK, v[0]->bv_len) != 0)
		yes = 1;
	ldap_value_free_len(v);
	return yes;
}

int
rec_ldap_put_user(struct rec_ldap *c, const char *user,
    const struct rec_user *u, int dry)
{
	char *attrs[] = { "pamRecoveryActiveBatch", "pamRecoveryLock",
	    "pamRecoveryGenLock", "pamRecoveryLastUsed",
	    "pamRecoveryLastGenerated", NULL };
	char *none[] = { "1.1", NULL };
	char udn[REC_DN_MAX], dn[REC_DN_MAX], lock[REC_LDAP_VAL_MAX];
	char gen[REC_LDAP_VAL_MAX];
	LDAPMessage *res = NULL;
	struct imp *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if ((r = rec_ldap_user_dn(c, user, udn)) != REC_OK)
		goto out;
	if (!c->write) {
		rec_logf(c->log, LOG_ERR, "directory %s: a user's record is "
		    "written over a connection opened for writing", c->uri);
		r = REC_ERR_USAGE;
		goto out;
	}
	r = imp_read(c, udn, attrs, &res);
	if (r == REC_OK && imp_has_state(c->ld, ldap_first_entry(c->ld, res)))
		r = REC_ERR_EXISTS;
	else if (r == REC_ERR_NOTFOUND)
		r = REC_OK;
	if (r != REC_OK || dry)
		goto out;
	ldap_msgfree(res);
	res = NULL;
	if (u->active_batch != 0) {
		if ((r = imp_batch_dn(c, user, u->active_batch, dn)) != REC_OK)
			goto out;
		if ((r = imp_read(c, dn, none, &res)) == REC_ERR_NOTFOUND)
			r = REC_ERR_CORRUPT;
		if (r != REC_OK)
			goto out;
	}
	if ((r = imp_bare_user(c, user, udn)) != REC_OK ||
	    (r = rec_ldap_lock_encode(&u->lock, lock, sizeof(lock))) !=
	    REC_OK ||
	    (r = rec_ldap_lock_encode(&u->gen, gen, sizeof(gen))) != REC_OK)
		goto out;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	/*
	 * One Modify that holds only on a bare entry: the lockout value
	 * goes only when it is still the one a bare entry has, and each
	 * other attribute is single-valued, so adding one that is there
	 * already is refused.  Whatever wrote to the entry since it was
	 * read (a generation, a login) makes the whole Modify fail, and the
	 * record that was there stays.
	 */
	imp_one(m, LDAP_MOD_DELETE, "pamRecoveryLock", BARE_LOCK);
	imp_one(m, LDAP_MOD_ADD, "pamRecoveryLock", lock);
	imp_one(m, LDAP_MOD_ADD, "pamRecoveryGenLock", gen);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryActiveBatch", u->active_batch);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryLastUsed", u->last_used);
	imp_u64(m, LDAP_MOD_ADD, "pamRecoveryLastGenerated",
	    u->last_generated);
	r = imp_send(c, udn, m, 0, &lrc);
	if (r != REC_OK && (lrc == LDAP_NO_SUCH_ATTRIBUTE ||
	    lrc == LDAP_TYPE_OR_VALUE_EXISTS ||
	    lrc == LDAP_CONSTRAINT_VIOLATION))
		r = REC_ERR_EXISTS;
	else if (r != REC_OK)
		r = imp_failed(c, r, lrc, "modify", udn);
out:
	ldap_msgfree(res);
	imp_free(m);
	return r;
}
