/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_issue.c: the directory's side of generate and invalidate: what they read, and their asserted Modifies. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

/*
 * The small request builder, reader and parsers below mirror the private
 * ones of rec_ldap_entry.c (static there); they accept exactly what that
 * file writes.
 */

#define ISS_MODS_MAX 12
#define ISS_VALS_MAX (2 * REC_COUNT_MAX + 2 * ISS_MODS_MAX)

#define OC_USER "pamRecoveryUser"
#define OC_BATCH "pamRecoveryBatch"

/* A Modify being built; every value a copy kept here, wiped when freed. */
struct imods {
	LDAPMod mod[ISS_MODS_MAX];
	LDAPMod *list[ISS_MODS_MAX + 1];
	struct berval bv[ISS_VALS_MAX];
	struct berval *bvp[ISS_VALS_MAX + ISS_MODS_MAX];
	char text[ISS_VALS_MAX][REC_LDAP_VAL_MAX];
	unsigned nmod, nbv, nbvp;
	int open, bad;
};

static void
imods_end(struct imods *m)
{
	if (m->open) {
		m->bvp[m->nbvp++] = NULL;
		m->open = 0;
	}
}

static void
imods_attr(struct imods *m, int op, const char *attr)
{
	imods_end(m);
	if (m->nmod == ISS_MODS_MAX ||
	    m->nbvp >= ISS_VALS_MAX + ISS_MODS_MAX - 1) {
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
imods_str(struct imods *m, const char *s)
{
	size_t len = strlen(s);

	if (!m->open || m->nbv == ISS_VALS_MAX || len >= REC_LDAP_VAL_MAX ||
	    m->nbvp >= ISS_VALS_MAX + ISS_MODS_MAX - 1) {
		m->bad = 1;
		return;
	}
	memcpy(m->text[m->nbv], s, len);
	m->bv[m->nbv].bv_val = m->text[m->nbv];
	m->bv[m->nbv].bv_len = len;
	m->bvp[m->nbvp++] = &m->bv[m->nbv++];
}

static void
imods_u64(struct imods *m, int op, const char *attr, uint64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	imods_attr(m, op, attr);
	imods_str(m, buf);
}

static void
imods_free(struct imods *m)
{
	if (m != NULL) {
		sodium_memzero(m, sizeof(*m));
		free(m);
	}
}

/*
 * Send one Modify (or, with m NULL, a Delete) of dn over c, opened for
 * writing, and wait for it.  *lrc receives the LDAP result.
 */
static int
iss_send(struct rec_ldap *c, const char *dn, struct imods *m, int *lrc)
{
	LDAPMessage *res = NULL;
	int msgid = -1, rc, r;
	const char *what = m != NULL ? "modify" : "delete";

	*lrc = LDAP_OTHER;
	if (!c->write) {
		rec_logf(c->log, LOG_ERR, "directory %s: %s over a connection "
		    "opened for reading", c->uri, what);
		return REC_ERR_USAGE;
	}
	if (c->broken)
		return REC_ERR_IO;
	if (m != NULL) {
		imods_end(m);
		m->list[m->nmod] = NULL;
		if (m->bad)
			return REC_ERR_INTERNAL;
		rc = ldap_modify_ext(c->ld, dn, m->list, NULL, NULL, &msgid);
	} else
		rc = ldap_delete_ext(c->ld, dn, NULL, NULL, &msgid);
	if (rc != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: %s %s: %s", c->uri,
		    what, dn, ldap_err2string(rc));
		return REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, what, &res)) != REC_OK)
		return r;
	return rec_ldap_result(c, res, what, lrc);
}

/*
 * The outcome of an asserted Modify: a value deleted that was gone, or a
 * single value added where another host had put one, is a lost race
 * (REC_LDAP_LOST, nothing applied); no entry is REC_ERR_NOTFOUND; anything
 * else unexpected is logged.
 */
static int
iss_judge(struct rec_ldap *c, int r, int lrc, const char *what,
    const char *dn)
{
	if (r == REC_OK)
		return REC_OK;
	if (lrc == LDAP_NO_SUCH_ATTRIBUTE || lrc == LDAP_TYPE_OR_VALUE_EXISTS ||
	    lrc == LDAP_CONSTRAINT_VIOLATION)
		return REC_LDAP_LOST;
	if (lrc == LDAP_NO_SUCH_OBJECT)
		return REC_ERR_NOTFOUND;
	if (r != REC_ERR_TIMEOUT && r != REC_ERR_IO && r != REC_ERR_USAGE)
		rec_logf(c->log, LOG_ERR, "directory %s: %s %s: %s", c->uri,
		    what, dn, ldap_err2string(lrc));
	return r;
}

static int
iss_batch_dn(struct rec_ldap *c, const char *user, uint64_t id, char *dn)
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

/* ---- Reading ---------------------------------------------------------- */

/* The one value of attr in e into buf (len); REC_ERR_NOTFOUND when none. */
static int
iss_str(LDAP *ld, LDAPMessage *e, const char *attr, char *buf, size_t len)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	int r = REC_ERR_NOTFOUND;

	if (v == NULL || v[0] == NULL)
		goto out;
	r = REC_ERR_CORRUPT;
	if (v[1] != NULL || v[0]->bv_len >= len ||
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) != NULL)
		goto out;
	memcpy(buf, v[0]->bv_val, v[0]->bv_len);
	buf[v[0]->bv_len] = '\0';
	r = REC_OK;
out:
	ldap_value_free_len(v);
	return r;
}

/* A number; *have 0 (and *out def) when absent and have is not NULL. */
static int
iss_u64(LDAP *ld, LDAPMessage *e, const char *attr, int *have, uint64_t def,
    uint64_t max, uint64_t *out)
{
	char buf[32];
	const char *end;
	int r = iss_str(ld, e, attr, buf, sizeof(buf));

	if (have != NULL)
		*have = r != REC_ERR_NOTFOUND;
	if (r == REC_ERR_NOTFOUND && have != NULL) {
		*out = def;
		return REC_OK;
	}
	if (r != REC_OK || rec_ldap_parse_num(buf, max, out, &end) != REC_OK ||
	    *end != '\0')
		return REC_ERR_CORRUPT;
	return REC_OK;
}

/* A lockout value, *have 0 (zero state) when absent. */
static int
iss_lock(LDAP *ld, LDAPMessage *e, const char *attr, struct rec_lock *lk,
    int *have)
{
	char buf[REC_LDAP_VAL_MAX];
	int r = iss_str(ld, e, attr, buf, sizeof(buf));

	memset(lk, 0, sizeof(*lk));
	*have = r == REC_OK;
	if (r == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK || rec_ldap_lock_parse(buf, lk) != REC_OK)
		return REC_ERR_CORRUPT;
	return REC_OK;
}

static int
iss_user(LDAP *ld, LDAPMessage *e, struct rec_ldap_issue *o)
{
	struct rec_user *u = &o->user;
	int have;

	if (iss_u64(ld, e, "pamRecoveryActiveBatch", &o->have_active, 0,
	    UINT64_MAX, &u->active_batch) != REC_OK ||
	    iss_u64(ld, e, "pamRecoveryLastUsed", &have, 0, UINT64_MAX,
	    &u->last_used) != REC_OK ||
	    iss_u64(ld, e, "pamRecoveryLastGenerated", &have, 0, UINT64_MAX,
	    &u->last_generated) != REC_OK ||
	    iss_lock(ld, e, "pamRecoveryLock", &u->lock, &have) != REC_OK ||
	    iss_lock(ld, e, "pamRecoveryGenLock", &u->gen, &o->have_gen) !=
	    REC_OK)
		return REC_ERR_CORRUPT;
	return REC_OK;
}

static int
iss_batch(LDAP *ld, LDAPMessage *e, struct rec_batch *b, int *have_exp)
{
	char buf[REC_LDAP_VAL_MAX];
	struct berval **key = NULL;
	uint64_t v;
	int have, r = REC_ERR_CORRUPT;

	memset(b, 0, sizeof(*b));
	if (iss_u64(ld, e, "pamRecoveryBatchId", NULL, 0, UINT64_MAX, &b->id) ||
	    iss_u64(ld, e, "pamRecoveryBatchStatus", NULL, 0, REC_BATCH_STAGED,
	    &v) || v < REC_BATCH_ACTIVE)
		goto out;
	b->status = (uint8_t)v;
	if (iss_u64(ld, e, "pamRecoveryCreated", NULL, 0, UINT64_MAX,
	    &b->created) ||
	    iss_u64(ld, e, "pamRecoveryExpires", &have, 0, UINT64_MAX,
	    &b->expires) ||
	    iss_u64(ld, e, "pamRecoveryVerified", &have, 0, UINT64_MAX,
	    &b->verified) ||
	    iss_u64(ld, e, "pamRecoveryExported", have_exp, 0, UINT32_MAX, &v))
		goto out;
	b->exported = (uint32_t)v;
	if (iss_u64(ld, e, "pamRecoveryCodeCount", NULL, 0, REC_COUNT_MAX,
	    &v) || v == 0)
		goto out;
	b->count = (uint16_t)v;
	if (iss_u64(ld, e, "pamRecoveryOpsLimit", NULL, 0, UINT64_MAX,
	    &b->opslimit) || iss_u64(ld, e, "pamRecoveryMemLimit", NULL, 0,
	    UINT64_MAX, &b->memlimit) || iss_u64(ld, e, "pamRecoveryTagBits",
	    &have, 0, 16, &v))
		goto out;
	b->tag_bits = (uint8_t)v;
	if (iss_str(ld, e, "pamRecoveryFormat", buf, sizeof(buf)) != REC_OK ||
	    rec_ldap_format_parse(buf, &b->fmt) != REC_OK)
		goto out;
	if (iss_str(ld, e, "pamRecoveryPeppered", buf, sizeof(buf)) == REC_OK) {
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

static int
iss_by_slot(const void *a, const void *b)
{
	const struct rec_code_rec *x = a, *y = b;

	return (x->slot > y->slot) - (x->slot < y->slot);
}

/* The code values and marks of batch entry e, counted into b. */
static int
iss_codes(LDAP *ld, LDAPMessage *e, struct rec_batch *b,
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
	qsort(codes, *n, sizeof(codes[0]), iss_by_slot);
	r = rec_batch_check_codes(b, codes, *n);
out:
	ldap_value_free_len(v);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

static int
iss_is_class(LDAP *ld, LDAPMessage *e, const char *oc)
{
	struct berval **v = ldap_get_values_len(ld, e, "objectClass");
	int yes = 0;

	for (unsigned i = 0; v != NULL && v[i] != NULL; i++)
		if (v[i]->bv_len == strlen(oc) &&
		    strncasecmp(v[i]->bv_val, oc, v[i]->bv_len) == 0)
			yes = 1;
	ldap_value_free_len(v);
	return yes;
}

/* The search of rec_ldap_issue_read; REC_ERR_NOTFOUND for no entry. */
static int
iss_search(struct rec_ldap *c, const char *base, LDAPMessage **res)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	LDAPMessage *all = NULL, *m;
	int msgid, lrc, r = REC_ERR_INTERNAL;

	*res = NULL;
	if (c->broken)
		return REC_ERR_IO;
	if ((lrc = ldap_search_ext(c->ld, base, LDAP_SCOPE_SUBTREE,
	    "(|(objectClass=" OC_USER ")(objectClass=" OC_BATCH "))", NULL, 0,
	    NULL, NULL, &tv, LDAP_NO_LIMIT, &msgid)) != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s", c->uri,
		    base, ldap_err2string(lrc));
		return REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, "search", &all)) != REC_OK)
		goto out;
	for (m = ldap_first_message(c->ld, all); m != NULL;
	    m = ldap_next_message(c->ld, m))
		if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
			break;
	r = REC_ERR_IO;
	if (m == NULL)
		goto out;
	lrc = LDAP_OTHER;
	if (ldap_parse_result(c->ld, m, &lrc, NULL, NULL, NULL, NULL, 0) !=
	    LDAP_SUCCESS || lrc != LDAP_SUCCESS) {
		r = rec_ldap_err(lrc);
		if (r != REC_ERR_NOTFOUND)
			rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s",
			    c->uri, base, ldap_err2string(lrc));
		goto out;
	}
	*res = all;
	all = NULL;
	r = REC_OK;
out:
	ldap_msgfree(all);
	return r;
}

int
rec_ldap_issue_read(struct rec_ldap *c, const char *user, uint64_t id,
    struct rec_ldap_issue *out)
{
	char dn[REC_DN_MAX];
	struct rec_code_rec *codes = NULL;
	LDAPMessage *res = NULL, *e, *ue = NULL, *ae = NULL, *be = NULL;
	uint64_t bid;
	unsigned n;
	int r = REC_ERR_INTERNAL, have_exp;

	memset(out, 0, sizeof(*out));
	if (!c->write) {
		rec_logf(c->log, LOG_ERR, "directory %s: the reads that decide "
		    "a change go over the connection opened for writing",
		    c->uri);
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		goto out;
	if ((r = iss_search(c, dn, &res)) == REC_ERR_NOTFOUND) {
		r = REC_OK;	/* no user entry: the zero state */
		goto out;
	}
	if (r != REC_OK)
		goto out;
	for (e = ldap_first_entry(c->ld, res); e != NULL;
	    e = ldap_next_entry(c->ld, e))
		if (iss_is_class(c->ld, e, OC_USER))
			ue = e;
	if (ue == NULL)
		goto out;	/* r is REC_OK: as no entry */
	out->have_user = 1;
	if ((r = iss_user(c->ld, ue, out)) != REC_OK)
		goto bad;
	for (e = ldap_first_entry(c->ld, res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if (!iss_is_class(c->ld, e, OC_BATCH) || iss_u64(c->ld, e,
		    "pamRecoveryBatchId", NULL, 0, UINT64_MAX, &bid) != REC_OK)
			continue;
		if (out->user.active_batch != 0 &&
		    bid == out->user.active_batch)
			ae = e;
		if (id != 0 && bid == id)
			be = e;
	}
	if (ae != NULL) {
		r = iss_batch(c->ld, ae, &out->old, &have_exp);
		if (r == REC_OK)
			r = iss_codes(c->ld, ae, &out->old, out->old_codes,
			    &out->nold);
		if (r != REC_OK)
			goto bad;
		out->have_old = 1;
	}
	if (be != NULL) {
		if ((codes = calloc(REC_COUNT_MAX, sizeof(*codes))) == NULL) {
			r = REC_ERR_NOMEM;
			goto out;
		}
		if ((r = iss_batch(c->ld, be, &out->batch,
		    &out->have_exported)) != REC_OK ||
		    (r = iss_codes(c->ld, be, &out->batch, codes, &n)) !=
		    REC_OK)
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
	if (codes != NULL) {
		sodium_memzero(codes, REC_COUNT_MAX * sizeof(*codes));
		free(codes);
	}
	if (r != REC_OK)
		sodium_memzero(out, sizeof(*out));
	return r;
}

/* ---- Writing ---------------------------------------------------------- */

int
rec_ldap_batch_change(struct rec_ldap *c, const char *user,
    const struct rec_ldap_batch_change *ch)
{
	char dn[REC_DN_MAX], val[REC_LDAP_VAL_MAX], word[REC_FIELD_MAX];
	struct imods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if (ch->ninval > REC_COUNT_MAX || (ch->ninval > 0 && (ch->b == NULL ||
	    ch->what == NULL || ch->what[0] == '\0'))) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = iss_batch_dn(c, user, ch->id, dn)) != REC_OK)
		goto out;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if (ch->from != 0) {
		imods_u64(m, LDAP_MOD_DELETE, "pamRecoveryBatchStatus",
		    ch->from);
		imods_u64(m, LDAP_MOD_ADD, "pamRecoveryBatchStatus", ch->to);
	}
	if (ch->exported) {
		if (ch->have_exported)
			imods_u64(m, LDAP_MOD_DELETE, "pamRecoveryExported",
			    ch->old_exported);
		imods_u64(m, LDAP_MOD_ADD, "pamRecoveryExported",
		    ch->new_exported);
	}
	if (ch->ninval > 0) {
		rec_ldap_printable(ch->what, word, sizeof(word));
		imods_attr(m, LDAP_MOD_DELETE, "pamRecoveryCode");
		for (unsigned i = 0; i < ch->ninval; i++) {
			if (ch->inval[i].state != REC_CODE_UNUSED) {
				r = REC_ERR_USAGE;
				goto out;
			}
			if ((r = rec_ldap_code_encode(ch->b, &ch->inval[i], val,
			    sizeof(val))) != REC_OK)
				goto out;
			imods_str(m, val);
		}
		imods_attr(m, LDAP_MOD_ADD, "pamRecoveryInvalidCode");
		for (unsigned i = 0; i < ch->ninval; i++) {
			if ((r = rec_ldap_mark_encode(ch->b, &ch->inval[i],
			    ch->now, word, val, sizeof(val))) != REC_OK)
				goto out;
			imods_str(m, val);
		}
	}
	if (m->nmod == 0) {
		r = REC_OK;
		goto out;
	}
	r = iss_send(c, dn, m, &lrc);
	r = iss_judge(c, r, lrc, "batch change", dn);
out:
	sodium_memzero(val, sizeof(val));
	imods_free(m);
	return r;
}

int
rec_ldap_user_switch(struct rec_ldap *c, const char *user,
    const struct rec_ldap_switch *sw)
{
	char dn[REC_DN_MAX], v[REC_LDAP_VAL_MAX];
	struct imods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		goto out;
	if ((m = calloc(1, sizeof(*m))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	/*
	 * Each old value goes and the new one comes in this one Modify:
	 * when another host changed either since it was read, the delete
	 * finds no such value (or, where there was none, the single-valued
	 * add finds one) and nothing is applied.
	 */
	if (sw->gen) {
		if (sw->have_gen) {
			if ((r = rec_ldap_lock_encode(&sw->old_gen, v,
			    sizeof(v))) != REC_OK)
				goto out;
			imods_attr(m, LDAP_MOD_DELETE, "pamRecoveryGenLock");
			imods_str(m, v);
		}
		if ((r = rec_ldap_lock_encode(&sw->new_gen, v, sizeof(v))) !=
		    REC_OK)
			goto out;
		imods_attr(m, LDAP_MOD_ADD, "pamRecoveryGenLock");
		imods_str(m, v);
	}
	if (sw->have_active)
		imods_u64(m, LDAP_MOD_DELETE, "pamRecoveryActiveBatch",
		    sw->old_active);
	if (sw->new_active != 0)
		imods_u64(m, LDAP_MOD_ADD, "pamRecoveryActiveBatch",
		    sw->new_active);
	if (sw->last_generated != 0)
		imods_u64(m, LDAP_MOD_REPLACE, "pamRecoveryLastGenerated",
		    sw->last_generated);
	if (m->nmod == 0) {
		r = REC_OK;
		goto out;
	}
	r = iss_send(c, dn, m, &lrc);
	if ((r = iss_judge(c, r, lrc, "user switch", dn)) == REC_ERR_NOTFOUND)
		r = REC_ERR_NOSTORE;
out:
	imods_free(m);
	return r;
}

int
rec_ldap_batch_delete(struct rec_ldap *c, const char *user, uint64_t id)
{
	char dn[REC_DN_MAX];
	int r, lrc;

	if ((r = iss_batch_dn(c, user, id, dn)) != REC_OK)
		return r;
	r = iss_send(c, dn, NULL, &lrc);
	return iss_judge(c, r, lrc, "delete batch", dn);
}
