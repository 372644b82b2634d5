/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_req.c: the directory client's shared requests: a Modify/Add builder, sending and judging a change, one search, reading an entry's values. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

#define MODS_MAX 24		/* attributes of one Modify or Add */
/* Every old and new code value of a batch, and a few per attribute. */
#define VALS_MAX (2 * REC_COUNT_MAX + 2 * MODS_MAX)

struct rec_ldap_mods {
	LDAPMod mod[MODS_MAX];
	LDAPMod *list[MODS_MAX + 1];
	struct berval bv[VALS_MAX];
	struct berval *bvp[VALS_MAX + MODS_MAX];
	char text[VALS_MAX][REC_LDAP_VAL_MAX];
	unsigned nmod, nbv, nbvp;
	int open, bad;
};

struct rec_ldap_mods *
rec_ldap_mods_new(void)
{
	return calloc(1, sizeof(struct rec_ldap_mods));
}

void
rec_ldap_mods_free(struct rec_ldap_mods *m)
{
	if (m == NULL)
		return;
	sodium_memzero(m, sizeof(*m));
	free(m);
}

static void
mods_end(struct rec_ldap_mods *m)
{
	if (!m->open)
		return;
	m->bvp[m->nbvp++] = NULL;
	m->open = 0;
}

void
rec_ldap_mods_attr(struct rec_ldap_mods *m, int op, const char *attr)
{
	mods_end(m);
	if (m->nmod == MODS_MAX || m->nbvp >= VALS_MAX + MODS_MAX - 1) {
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

void
rec_ldap_mods_val(struct rec_ldap_mods *m, const void *v, size_t len)
{
	if (!m->open || m->nbv == VALS_MAX || len > REC_LDAP_VAL_MAX ||
	    m->nbvp >= VALS_MAX + MODS_MAX - 1) {
		m->bad = 1;
		return;
	}
	memcpy(m->text[m->nbv], v, len);
	m->bv[m->nbv].bv_val = m->text[m->nbv];
	m->bv[m->nbv].bv_len = len;
	m->bvp[m->nbvp++] = &m->bv[m->nbv++];
}

void
rec_ldap_mods_str(struct rec_ldap_mods *m, const char *s)
{
	rec_ldap_mods_val(m, s, strlen(s));
}

void
rec_ldap_mods_fmt(struct rec_ldap_mods *m, const char *fmt, ...)
{
	char buf[REC_LDAP_VAL_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf))
		m->bad = 1;
	else
		rec_ldap_mods_val(m, buf, (size_t)n);
	sodium_memzero(buf, sizeof(buf));
}

void
rec_ldap_mods_u64(struct rec_ldap_mods *m, int op, const char *attr,
    uint64_t v)
{
	rec_ldap_mods_attr(m, op, attr);
	rec_ldap_mods_fmt(m, "%" PRIu64, v);
}

void
rec_ldap_mods_one(struct rec_ldap_mods *m, int op, const char *attr,
    const char *s)
{
	rec_ldap_mods_attr(m, op, attr);
	rec_ldap_mods_str(m, s);
}

unsigned
rec_ldap_mods_count(const struct rec_ldap_mods *m)
{
	return m->nmod;
}

LDAPMod **
rec_ldap_mods_list(struct rec_ldap_mods *m)
{
	mods_end(m);
	m->list[m->nmod] = NULL;
	return m->bad ? NULL : m->list;
}

/* ---- Changes ---------------------------------------------------------- */

int
rec_ldap_need_write(struct rec_ldap *c, const char *what)
{
	if (c->write)
		return REC_OK;
	rec_logf(c->log, LOG_ERR, "directory %s: %s over a connection opened "
	    "for reading", c->uri, what);
	return REC_ERR_USAGE;
}

int
rec_ldap_send(struct rec_ldap *c, enum rec_ldap_op op, const char *dn,
    LDAPMod **list, int *lrc)
{
	static const char *const names[] = { "modify", "add", "delete" };
	const char *what = names[op];
	LDAPMessage *res = NULL;
	int msgid = -1, rc, r;

	*lrc = LDAP_OTHER;
	if (op != REC_LDAP_DELETE && list == NULL)
		return REC_ERR_INTERNAL;	/* the builder overflowed */
	if ((r = rec_ldap_need_write(c, what)) != REC_OK)
		return r;
	if (c->broken)
		return REC_ERR_IO;
	switch (op) {
	case REC_LDAP_MODIFY:
		rc = ldap_modify_ext(c->ld, dn, list, NULL, NULL, &msgid);
		break;
	case REC_LDAP_ADD:
		rc = ldap_add_ext(c->ld, dn, list, NULL, NULL, &msgid);
		break;
	default:
		rc = ldap_delete_ext(c->ld, dn, NULL, NULL, &msgid);
		break;
	}
	if (rc != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: %s %s: %s", c->uri,
		    what, dn, ldap_err2string(rc));
		return REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, what, &res)) != REC_OK)
		return r;
	return rec_ldap_result(c, res, what, lrc);
}

int
rec_ldap_failed(struct rec_ldap *c, int r, int lrc, const char *what,
    const char *dn)
{
	if (r != REC_ERR_TIMEOUT && r != REC_ERR_IO && r != REC_ERR_USAGE)
		rec_logf(c->log, LOG_ERR, "directory %s: %s %s: %s", c->uri,
		    what, dn, ldap_err2string(lrc));
	return r;
}

int
rec_ldap_judge(struct rec_ldap *c, int r, int lrc, const char *what,
    const char *dn)
{
	if (r == REC_OK)
		return REC_OK;
	if (lrc == LDAP_NO_SUCH_ATTRIBUTE || lrc == LDAP_TYPE_OR_VALUE_EXISTS ||
	    lrc == LDAP_CONSTRAINT_VIOLATION)
		return REC_LDAP_LOST;
	if (lrc == LDAP_NO_SUCH_OBJECT)
		return REC_ERR_NOTFOUND;
	return rec_ldap_failed(c, r, lrc, what, dn);
}

int
rec_ldap_batch_dn(const struct rec_ldap *c, const char *user, uint64_t id,
    char *dn)
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

int
rec_ldap_search(struct rec_ldap *c, const char *base, int scope,
    const char *filter, char **attrs, LDAPMessage **res)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	LDAPMessage *all = NULL, *m;
	int msgid, lrc, r = REC_ERR_INTERNAL;

	*res = NULL;
	if (c->broken)
		return REC_ERR_IO;
	if ((lrc = ldap_search_ext(c->ld, base, scope, filter, attrs, 0, NULL,
	    NULL, &tv, LDAP_NO_LIMIT, &msgid)) != LDAP_SUCCESS) {
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
	if (m == NULL) {
		r = REC_ERR_IO;
		goto out;
	}
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
rec_ldap_read_entry(struct rec_ldap *c, const char *dn, char **attrs,
    LDAPMessage **res, LDAPMessage **e)
{
	int r;

	*e = NULL;
	r = rec_ldap_search(c, dn, LDAP_SCOPE_BASE, "(objectClass=*)", attrs,
	    res);
	if (r == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r == REC_OK)
		*e = ldap_first_entry(c->ld, *res);
	return r;
}

int
rec_ldap_get_str(LDAP *ld, LDAPMessage *e, const char *attr, char *buf,
    size_t len)
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

int
rec_ldap_get_u64(LDAP *ld, LDAPMessage *e, const char *attr, int optional,
    uint64_t max, uint64_t *out)
{
	char buf[32];
	const char *end;
	int r = rec_ldap_get_str(ld, e, attr, buf, sizeof(buf));

	if (r == REC_ERR_NOTFOUND && optional) {
		*out = 0;
		return REC_OK;
	}
	if (r != REC_OK || rec_ldap_parse_num(buf, max, out, &end) != REC_OK ||
	    *end != '\0')
		return REC_ERR_CORRUPT;
	return REC_OK;
}

int
rec_ldap_get_lock(LDAP *ld, LDAPMessage *e, const char *attr,
    struct rec_lock *lk, int *have)
{
	char buf[REC_LDAP_VAL_MAX];
	int r = rec_ldap_get_str(ld, e, attr, buf, sizeof(buf));

	memset(lk, 0, sizeof(*lk));
	*have = r == REC_OK;
	if (r == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK || rec_ldap_lock_parse(buf, lk) != REC_OK)
		return REC_ERR_CORRUPT;
	return REC_OK;
}

int
rec_ldap_is_class(LDAP *ld, LDAPMessage *e, const char *oc)
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

int
rec_ldap_has_attr(struct rec_ldap *c, LDAPMessage *e, const char *attr)
{
	struct berval **v = ldap_get_values_len(c->ld, e, attr);
	int yes = v != NULL && v[0] != NULL;

	ldap_value_free_len(v);
	return yes;
}
