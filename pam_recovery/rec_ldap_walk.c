/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_walk.c: the directory's walks for the administrator: paged searches, users, batches, events. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

#define PAGE 500		/* entries a page: slapd's default sizelimit */
#define PAGES_MAX 200000	/* 100 million entries: a bound, not a limit */

#define OC_USER "pamRecoveryUser"
#define OC_BATCH "pamRecoveryBatch"
#define OC_EVENT "pamRecoveryEvent"

/* The state of a user's entry; none of them: a forgotten user's holder. */
char *const rec_ldap_user_state[] = {
	"pamRecoveryActiveBatch", "pamRecoveryLock", "pamRecoveryGenLock",
	"pamRecoveryLastUsed", "pamRecoveryLastGenerated", NULL,
};

int
rec_ldap_is_holder(struct rec_ldap *c, LDAPMessage *e)
{
	for (unsigned i = 0; rec_ldap_user_state[i] != NULL; i++)
		if (rec_ldap_has_attr(c, e, rec_ldap_user_state[i]))
			return 0;
	return 1;
}

const struct rec_ldap_code_attr rec_ldap_code_attrs[REC_LDAP_CODE_ATTRS] = {
	{ "pamRecoveryCode", REC_CODE_UNUSED },
	{ "pamRecoveryUsedCode", REC_CODE_USED },
	{ "pamRecoveryInvalidCode", REC_CODE_INVALID },
};

/* ---- Paged searches --------------------------------------------------- */

/* Ask the server to drop a paged search left half-way (RFC 2696: size 0). */
static void
page_drop(struct rec_ldap *c, const char *base, int scope, const char *filter,
    struct berval *cookie)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	LDAPControl *pc = NULL, *ctrls[2] = { NULL, NULL };
	LDAPMessage *res = NULL;
	char *none[] = { LDAP_NO_ATTRS, NULL };
	int msgid;

	if (c->broken || cookie->bv_len == 0 ||
	    ldap_create_page_control(c->ld, 0, cookie, 0, &pc) != LDAP_SUCCESS)
		return;
	ctrls[0] = pc;
	if (ldap_search_ext(c->ld, base, scope, filter, none, 1, ctrls, NULL,
	    &tv, LDAP_NO_LIMIT, &msgid) == LDAP_SUCCESS &&
	    rec_ldap_wait(c, msgid, "end of a paged search", &res) == REC_OK)
		ldap_msgfree(res);
	ldap_control_free(pc);
}

/*
 * Search below base in pages of PAGE entries (the Simple Paged Results
 * control, RFC 2696, marked critical: a server without it refuses the
 * search rather than stopping at its size limit), each page within
 * ldap_timeout, and hand each page to fn.  A base that is not there is
 * REC_ERR_NOTFOUND (not logged); a size or time limit the server puts on
 * the whole search is an error: a walk never ends short as if complete.
 */
int
rec_ldap_paged(struct rec_ldap *c, const char *base, int scope, const char *filter,
    char **attrs, rec_ldap_page_fn *fn, void *arg)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	struct berval cookie = { 0, NULL };
	LDAPControl *pc = NULL, *ctrls[2] = { NULL, NULL }, **rctrls = NULL;
	LDAPControl *pr;
	LDAPMessage *res = NULL, *m;
	ber_int_t total;
	char *msg = NULL;
	int r = REC_ERR_INTERNAL, msgid, lrc;

	for (unsigned long page = 0; page < PAGES_MAX; page++) {
		if (c->broken) {
			r = REC_ERR_IO;
			goto out;
		}
		if ((lrc = ldap_create_page_control(c->ld, PAGE, &cookie, 1,
		    &pc)) != LDAP_SUCCESS) {
			r = rec_ldap_err(lrc) == REC_ERR_NOMEM ? REC_ERR_NOMEM :
			    REC_ERR_INTERNAL;
			goto out;
		}
		ctrls[0] = pc;
		lrc = ldap_search_ext(c->ld, base, scope, filter, attrs, 0,
		    ctrls, NULL, &tv, LDAP_NO_LIMIT, &msgid);
		ldap_control_free(pc);
		pc = NULL;
		if (lrc != LDAP_SUCCESS) {
			rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s",
			    c->uri, base, ldap_err2string(lrc));
			r = REC_ERR_IO;
			goto out;
		}
		if ((r = rec_ldap_wait(c, msgid, "paged search", &res)) !=
		    REC_OK)
			goto out;
		for (m = ldap_first_message(c->ld, res); m != NULL;
		    m = ldap_next_message(c->ld, m))
			if (ldap_msgtype(m) == LDAP_RES_SEARCH_RESULT)
				break;
		if (m == NULL) {
			r = REC_ERR_IO;
			goto out;
		}
		lrc = LDAP_OTHER;
		if (ldap_parse_result(c->ld, m, &lrc, NULL, &msg, NULL, &rctrls,
		    0) != LDAP_SUCCESS || lrc != LDAP_SUCCESS) {
			r = rec_ldap_err(lrc);
			if (r == REC_ERR_NOTFOUND)
				goto out;
			if (lrc == LDAP_SIZELIMIT_EXCEEDED ||
			    lrc == LDAP_ADMINLIMIT_EXCEEDED)
				r = REC_ERR_IO;
			rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s%s%s"
			    "%s", c->uri, base, ldap_err2string(lrc),
			    msg != NULL && *msg != '\0' ? ": " : "",
			    msg != NULL ? msg : "", lrc == LDAP_SIZELIMIT_EXCEEDED ?
			    " (the bind DN needs a size limit for paged "
			    "searches, e.g. limits ... size.prtotal=unlimited)" :
			    "");
			goto out;
		}
		ldap_memfree(msg);
		msg = NULL;
		ber_memfree(cookie.bv_val);
		cookie.bv_val = NULL;
		cookie.bv_len = 0;
		pr = ldap_control_find(LDAP_CONTROL_PAGEDRESULTS, rctrls, NULL);
		if (pr == NULL || ldap_parse_pageresponse_control(c->ld, pr,
		    &total, &cookie) != LDAP_SUCCESS) {
			rec_logf(c->log, LOG_ERR, "directory %s: search %s: no "
			    "paged results in the answer", c->uri, base);
			r = REC_ERR_IO;
			goto out;
		}
		ldap_controls_free(rctrls);
		rctrls = NULL;
		r = fn(c, &res, arg);
		ldap_msgfree(res);
		res = NULL;
		if (r != REC_OK) {
			if (r == REC_STOP)
				page_drop(c, base, scope, filter, &cookie);
			goto out;
		}
		if (cookie.bv_len == 0) {
			r = REC_OK;
			goto out;
		}
	}
	rec_logf(c->log, LOG_ERR, "directory %s: search %s: more than %d pages",
	    c->uri, base, PAGES_MAX);
	r = REC_ERR_IO;
out:
	ldap_control_free(pc);
	ldap_controls_free(rctrls);
	ldap_memfree(msg);
	ber_memfree(cookie.bv_val);
	ldap_msgfree(res);
	return r;
}

/* ---- Names from DNs --------------------------------------------------- */

/*
 * The user name of entry e: the value of its RDN (up = 0) or of its
 * parent's (up = 1), which must be uid=NAME, into name (REC_USER_MAX).
 */
static int
user_of(struct rec_ldap *c, LDAPMessage *e, unsigned up, char *name)
{
	char *dn = ldap_get_dn(c->ld, e);
	LDAPDN parts = NULL;
	LDAPAVA *ava;
	int r = REC_ERR_CORRUPT;

	if (dn == NULL || ldap_str2dn(dn, &parts, LDAP_DN_FORMAT_LDAPV3) !=
	    LDAP_SUCCESS)
		goto out;
	for (unsigned i = 0; i <= up; i++)
		if (parts[i] == NULL)
			goto out;
	if (parts[up][0] == NULL || parts[up][1] != NULL)
		goto out;
	ava = parts[up][0];
	if (ava->la_attr.bv_len != 3 ||
	    strncasecmp(ava->la_attr.bv_val, "uid", 3) != 0 ||
	    ava->la_value.bv_len == 0 ||
	    ava->la_value.bv_len >= REC_USER_MAX ||
	    memchr(ava->la_value.bv_val, '\0', ava->la_value.bv_len) != NULL)
		goto out;
	memcpy(name, ava->la_value.bv_val, ava->la_value.bv_len);
	name[ava->la_value.bv_len] = '\0';
	r = REC_OK;
out:
	if (r != REC_OK)
		rec_logf(c->log, LOG_ERR, "directory %s: entry %s is not where "
		    "a recovery entry belongs", c->uri, dn != NULL ? dn : "?");
	ldap_dnfree(parts);
	ldap_memfree(dn);
	return r;
}

/* ---- Users ------------------------------------------------------------ */

static int
by_name(const void *a, const void *b)
{
	const struct rec_ldap_user_rec *x = a, *y = b;

	return strcmp(x->name, y->name);
}

static int
users_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct rec_ldap_users *us = arg;
	struct rec_ldap_user_rec *u;
	char name[REC_USER_MAX];
	LDAPMessage *e;
	void *p;
	unsigned have;
	int r;

	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if ((r = user_of(c, e, 0, name)) != REC_OK)
			return r;
		if (us->n == us->cap) {
			us->cap = us->cap != 0 ? us->cap * 2 : 256;
			if ((p = reallocarray(us->v, us->cap,
			    sizeof(*us->v))) == NULL)
				return REC_ERR_NOMEM;
			us->v = p;
		}
		u = &us->v[us->n];
		memset(u, 0, sizeof(*u));
		if ((u->name = strdup(name)) == NULL)
			return REC_ERR_NOMEM;
		us->n++;
		if (rec_ldap_parse_user(c->ld, e, &u->u, &have) != REC_OK) {
			rec_logf(c->log, LOG_ERR, "directory %s: the entry of "
			    "user %s does not parse", c->uri, name);
			return REC_ERR_CORRUPT;
		}
		u->holder = rec_ldap_is_holder(c, e);
	}
	return REC_OK;
}

int
rec_ldap_users_read(struct rec_ldap *c, struct rec_ldap_users *out)
{
	int r;

	memset(out, 0, sizeof(*out));
	r = rec_ldap_paged(c, c->cfg.ldap_base, LDAP_SCOPE_ONELEVEL,
	    "(objectClass=" OC_USER ")", (char **)rec_ldap_user_state, users_page,
	    out);
	if (r == REC_OK && out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), by_name);
	else
		rec_ldap_users_free(out);
	return r;
}

void
rec_ldap_users_free(struct rec_ldap_users *us)
{
	for (size_t i = 0; i < us->n; i++)
		free(us->v[i].name);
	free(us->v);
	memset(us, 0, sizeof(*us));
}

size_t
rec_ldap_users_from(const struct rec_ldap_users *us, const char *name)
{
	size_t lo = 0, hi = us->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(us->v[mid].name, name) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static int
marks_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct rec_ldap_users *us = arg;
	char name[REC_USER_MAX];
	LDAPMessage *e;
	size_t i;
	int r;

	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if ((r = user_of(c, e, 1, name)) != REC_OK)
			return r;
		i = rec_ldap_users_from(us, name);
		if (i < us->n && strcmp(us->v[i].name, name) == 0)
			us->v[i].batches = 1;
	}
	return REC_OK;
}

int
rec_ldap_users_batches(struct rec_ldap *c, struct rec_ldap_users *us)
{
	char *none[] = { LDAP_NO_ATTRS, NULL };
	int r;

	r = rec_ldap_paged(c, c->cfg.ldap_base, LDAP_SCOPE_SUBTREE,
	    "(objectClass=" OC_BATCH ")", none, marks_page, us);
	return r == REC_ERR_NOTFOUND ? REC_OK : r;
}

static int
owners_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct rec_ldap_users *us = arg;
	char name[REC_USER_MAX];
	LDAPMessage *e;
	void *p;
	int r;

	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if ((r = user_of(c, e, 1, name)) != REC_OK)
			return r;
		/* A user's batches usually come together: skip repeats. */
		if (us->n > 0 && strcmp(us->v[us->n - 1].name, name) == 0)
			continue;
		if (us->n == us->cap) {
			us->cap = us->cap != 0 ? us->cap * 2 : 256;
			if ((p = reallocarray(us->v, us->cap,
			    sizeof(*us->v))) == NULL)
				return REC_ERR_NOMEM;
			us->v = p;
		}
		memset(&us->v[us->n], 0, sizeof(us->v[us->n]));
		if ((us->v[us->n].name = strdup(name)) == NULL)
			return REC_ERR_NOMEM;
		us->v[us->n++].batches = 1;
	}
	return REC_OK;
}

int
rec_ldap_batch_owners(struct rec_ldap *c, struct rec_ldap_users *out)
{
	char *none[] = { LDAP_NO_ATTRS, NULL };
	size_t k = 0;
	int r;

	memset(out, 0, sizeof(*out));
	r = rec_ldap_paged(c, c->cfg.ldap_base, LDAP_SCOPE_SUBTREE,
	    "(objectClass=" OC_BATCH ")", none, owners_page, out);
	if (r == REC_ERR_NOTFOUND)
		r = REC_OK;
	if (r != REC_OK) {
		rec_ldap_users_free(out);
		return r;
	}
	if (out->n > 0)
		qsort(out->v, out->n, sizeof(*out->v), by_name);
	for (size_t i = 0; i < out->n; i++) {
		if (k > 0 && strcmp(out->v[k - 1].name, out->v[i].name) == 0) {
			free(out->v[i].name);
			continue;
		}
		out->v[k++] = out->v[i];
	}
	out->n = k;
	return REC_OK;
}

/* ---- One user's entries ----------------------------------------------- */

static int
ents_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct rec_ldap_ents *ue = arg;
	LDAPMessage *e;
	void *p;
	int r;

	if (ue->npages == REC_LDAP_PAGES_KEPT)
		return REC_ERR_FULL;
	ue->pages[ue->npages++] = *res;
	*res = NULL;
	for (e = ldap_first_entry(c->ld, ue->pages[ue->npages - 1]); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if (rec_ldap_is_class(c->ld, e, OC_USER)) {
			ue->user = e;
			continue;
		}
		if (ue->nb == ue->cap) {
			ue->cap = ue->cap != 0 ? ue->cap * 2 : 16;
			if ((p = reallocarray(ue->b, ue->cap,
			    sizeof(*ue->b))) == NULL)
				return REC_ERR_NOMEM;
			ue->b = p;
		}
		ue->b[ue->nb].e = e;
		if ((r = rec_ldap_get_u64(c->ld, e, "pamRecoveryBatchId", 1,
		    UINT64_MAX, &ue->b[ue->nb].id)) != REC_OK)
			return r;
		ue->nb++;
	}
	return REC_OK;
}

void
rec_ldap_ents_free(struct rec_ldap_ents *ue)
{
	for (size_t i = 0; i < ue->npages; i++)
		ldap_msgfree(ue->pages[i]);
	free(ue->b);
	free(ue);
}

static int
by_id(const void *a, const void *b)
{
	const struct rec_ldap_batch_ent *x = a, *y = b;

	return (x->id > y->id) - (x->id < y->id);
}

/*
 * Read user's entry and batch entries (attrs NULL: all of them) in one
 * paged search below the user's entry, batches sorted by id.  *out is
 * NULL with REC_OK when the user has no entry.
 */
int
rec_ldap_ents_read(struct rec_ldap *c, const char *user, char **attrs,
    struct rec_ldap_ents **out)
{
	char dn[REC_DN_MAX];
	struct rec_ldap_ents *ue = NULL;
	int r;

	*out = NULL;
	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		return r;
	if ((ue = calloc(1, sizeof(*ue))) == NULL)
		return REC_ERR_NOMEM;
	r = rec_ldap_paged(c, dn, LDAP_SCOPE_SUBTREE, "(|(objectClass=" OC_USER
	    ")(objectClass=" OC_BATCH "))", attrs, ents_page, ue);
	if (r == REC_ERR_NOTFOUND) {
		rec_ldap_ents_free(ue);
		return REC_OK;
	}
	if (r != REC_OK) {
		rec_ldap_ents_free(ue);
		return r;
	}
	if (ue->nb > 0)
		qsort(ue->b, ue->nb, sizeof(*ue->b), by_id);
	*out = ue;
	return REC_OK;
}

/*
 * Batch entry e with its codes into *b and codes (*n), as a login reads
 * them (a slot without any value counts as used); then what only the
 * administrator's walks see: a purged batch was last changed when purge
 * marked it (pamRecoveryPurged).  *codes_rc: REC_OK or REC_ERR_CORRUPT for
 * codes that do not parse (then *n is 0).  REC_ERR_CORRUPT for a batch
 * that does not parse.
 */
static int
batch_read(struct rec_ldap *c, LDAPMessage *e, struct rec_batch *b,
    struct rec_code_rec *codes, unsigned *n, int *codes_rc)
{
	uint64_t purged;

	*n = 0;
	*codes_rc = REC_OK;
	if (rec_ldap_parse_batch(c->ld, e, b) != REC_OK ||
	    rec_ldap_get_u64(c->ld, e, "pamRecoveryPurged", 1, UINT64_MAX,
	    &purged) != REC_OK)
		return REC_ERR_CORRUPT;
	if (rec_ldap_parse_codes(c->ld, e, b, codes, n) != REC_OK) {
		*codes_rc = REC_ERR_CORRUPT;
		*n = 0;
		return REC_OK;
	}
	if (b->status == REC_BATCH_PURGED && purged > b->modified)
		b->modified = purged;
	return REC_OK;
}

int
rec_ldap_batch_bad(struct rec_ldap *c, const char *user, uint64_t id)
{
	rec_logf(c->log, LOG_ERR, "directory %s: batch %" PRIu64 " of user %s "
	    "does not parse", c->uri, id, user);
	return REC_ERR_CORRUPT;
}

/* Scratch for one batch: code records hold hashes (guarded, wiped). */
struct scratch {
	struct rec_batch b, active;
	struct rec_user u;
	struct rec_code_rec codes[REC_COUNT_MAX];
};

int
rec_ldap_user_records(struct rec_ldap *c, const char *user,
    rec_store_item_fn *ufn, rec_store_item_fn *bfn, void *arg)
{
	struct rec_ldap_ents *ue = NULL;
	struct scratch *s = NULL;
	struct rec_store_item it;
	unsigned n, have;
	int r = REC_ERR_INTERNAL, rc, holder = 1;

	if ((s = sodium_malloc(sizeof(*s))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	memset(s, 0, sizeof(*s));
	if ((r = rec_ldap_ents_read(c, user, NULL, &ue)) != REC_OK || ue == NULL)
		goto out;
	if (ue->user != NULL) {
		if (rec_ldap_parse_user(c->ld, ue->user, &s->u, &have) != REC_OK) {
			rec_logf(c->log, LOG_ERR, "directory %s: the entry of "
			    "user %s does not parse", c->uri, user);
			r = REC_ERR_CORRUPT;
			goto out;
		}
		holder = rec_ldap_is_holder(c, ue->user);
	}
	if (ufn != NULL && ue->user != NULL && !holder) {
		memset(&it, 0, sizeof(it));
		it.user = user;
		it.u = &s->u;
		it.b_rc = REC_ERR_NOTFOUND;
		for (size_t i = 0; i < ue->nb && s->u.active_batch != 0; i++) {
			if (ue->b[i].id != s->u.active_batch)
				continue;
			if (batch_read(c, ue->b[i].e, &s->active, s->codes, &n,
			    &rc) != REC_OK) {
				it.b_rc = rec_ldap_batch_bad(c, user, ue->b[i].id);
				break;
			}
			it.b = &s->active;
			it.b_rc = REC_OK;
		}
		if ((r = ufn(&it, arg)) != REC_OK)
			goto out;
	}
	for (size_t i = 0; i < ue->nb && bfn != NULL; i++) {
		memset(&it, 0, sizeof(it));
		it.user = user;
		it.u = ue->user != NULL && !holder ? &s->u : NULL;
		if (batch_read(c, ue->b[i].e, &s->b, s->codes, &it.ncodes,
		    &it.codes_rc) != REC_OK) {
			r = rec_ldap_batch_bad(c, user, ue->b[i].id);
			goto out;
		}
		it.b = &s->b;
		it.codes = s->codes;
		if ((r = bfn(&it, arg)) != REC_OK)
			goto out;
	}
	r = REC_OK;
out:
	if (s != NULL) {
		sodium_memzero(s, sizeof(*s));
		sodium_free(s);
	}
	if (ue != NULL)
		rec_ldap_ents_free(ue);
	return r;
}

/* ---- Every batch ------------------------------------------------------ */

struct all_batches {
	rec_batch_fn *fn;
	void *arg;
	struct scratch *s;
};

static int
batches_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct all_batches *a = arg;
	char user[REC_USER_MAX];
	LDAPMessage *e;
	unsigned n;
	int r, rc;

	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if ((r = user_of(c, e, 1, user)) != REC_OK)
			return r;
		if (batch_read(c, e, &a->s->b, a->s->codes, &n, &rc) !=
		    REC_OK || rc != REC_OK)
			return rec_ldap_batch_bad(c, user, a->s->b.id);
		if ((r = a->fn(user, &a->s->b, a->arg)) != REC_OK)
			return r;
	}
	return REC_OK;
}

int
rec_ldap_batches_each(struct rec_ldap *c, rec_batch_fn *fn, void *arg)
{
	struct all_batches a = { fn, arg, NULL };
	int r;

	if ((a.s = sodium_malloc(sizeof(*a.s))) == NULL)
		return REC_ERR_NOMEM;
	r = rec_ldap_paged(c, c->cfg.ldap_base, LDAP_SCOPE_SUBTREE,
	    "(objectClass=" OC_BATCH ")", NULL, batches_page, &a);
	if (r == REC_STOP)
		r = REC_OK;
	sodium_memzero(a.s, sizeof(*a.s));
	sodium_free(a.s);
	return r;
}

/* ---- Events ----------------------------------------------------------- */

/* The events of one user, gathered to be put in order. */
struct user_events {
	const char *user;
	struct rec_event *ev;
	char (*id)[64];
	size_t *order;
	size_t n, cap;
};

/* The id of event entry e (its RDN value), for a stable order. */
static void
event_id(struct rec_ldap *c, LDAPMessage *e, char *id, size_t len)
{
	struct berval **v = ldap_get_values_len(c->ld, e, "pamRecoveryEventId");

	id[0] = '\0';
	if (v != NULL && v[0] != NULL && v[0]->bv_len < len) {
		memcpy(id, v[0]->bv_val, v[0]->bv_len);
		id[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
}

static int
bad_event(struct rec_ldap *c, const char *user)
{
	rec_logf(c->log, LOG_ERR, "directory %s: an audit event of user %s "
	    "does not parse", c->uri, user);
	return REC_ERR_CORRUPT;
}

static int
user_events_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct user_events *ue = arg;
	LDAPMessage *e;
	void *p;

	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if (ue->n == ue->cap) {
			ue->cap = ue->cap != 0 ? ue->cap * 2 : 64;
			if ((p = reallocarray(ue->ev, ue->cap,
			    sizeof(*ue->ev))) == NULL)
				return REC_ERR_NOMEM;
			ue->ev = p;
			if ((p = reallocarray(ue->id, ue->cap,
			    sizeof(*ue->id))) == NULL)
				return REC_ERR_NOMEM;
			ue->id = p;
		}
		if (rec_ldap_parse_event(c->ld, e, ue->user, &ue->ev[ue->n],
		    ue->ev[ue->n].host, sizeof(ue->ev[ue->n].host)) != REC_OK)
			return bad_event(c, ue->user);
		event_id(c, e, ue->id[ue->n], sizeof(ue->id[ue->n]));
		ue->n++;
	}
	return REC_OK;
}

/* qsort has no argument: the order is decided on copies of the keys. */
struct event_key {
	uint64_t time;
	const char *id;
	size_t i;
};

static int
by_time(const void *a, const void *b)
{
	const struct event_key *x = a, *y = b;

	if (x->time != y->time)
		return (x->time > y->time) - (x->time < y->time);
	return strcmp(x->id, y->id);
}

static int
events_of_user(struct rec_ldap *c, const char *user, uint64_t from,
    rec_event_fn *fn, void *arg)
{
	struct user_events ue = { user, NULL, NULL, NULL, 0, 0 };
	struct event_key *keys = NULL;
	char dn[REC_DN_MAX];
	int r;

	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		return r;
	r = rec_ldap_paged(c, dn, LDAP_SCOPE_ONELEVEL, "(objectClass=" OC_EVENT ")",
	    NULL, user_events_page, &ue);
	if (r == REC_ERR_NOTFOUND)
		r = REC_OK;	/* no entry: no events */
	if (r != REC_OK || ue.n == 0)
		goto out;
	if ((keys = calloc(ue.n, sizeof(*keys))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < ue.n; i++)
		keys[i] = (struct event_key){ ue.ev[i].time, ue.id[i], i };
	qsort(keys, ue.n, sizeof(*keys), by_time);
	for (size_t i = 0; i < ue.n; i++) {
		if (i + 1 < from)
			continue;
		if ((r = fn(i + 1, &ue.ev[keys[i].i], arg)) != REC_OK)
			goto out;
	}
	r = REC_OK;
out:
	free(keys);
	free(ue.ev);
	free(ue.id);
	return r;
}

/*
 * The user of event entry e: its parent's uid, or none ("") for an event
 * directly below ldap_base (one that names no user, as purge's run).
 */
static int
event_user(struct rec_ldap *c, LDAPMessage *e, char *user)
{
	char *dn = ldap_get_dn(c->ld, e), *parent;
	int top;

	parent = dn != NULL ? strchr(dn, ',') : NULL;
	top = parent != NULL && strcasecmp(parent + 1, c->cfg.ldap_base) == 0;
	ldap_memfree(dn);
	if (!top)
		return user_of(c, e, 1, user);
	user[0] = '\0';
	return REC_OK;
}

struct all_events {
	uint64_t seq, from;
	rec_event_fn *fn;
	void *arg;
	struct rec_event ev;
};

static int
events_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct all_events *a = arg;
	char user[REC_USER_MAX];
	LDAPMessage *e;
	int r;

	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if ((r = event_user(c, e, user)) != REC_OK)
			return r;
		if (rec_ldap_parse_event(c->ld, e, user, &a->ev, a->ev.host,
		    sizeof(a->ev.host)) != REC_OK)
			return bad_event(c, user);
		if (++a->seq < a->from)
			continue;
		if ((r = a->fn(a->seq, &a->ev, a->arg)) != REC_OK)
			return r;
	}
	return REC_OK;
}

int
rec_ldap_events_each(struct rec_ldap *c, const char *user, uint64_t from,
    rec_event_fn *fn, void *arg)
{
	struct all_events *a = NULL;
	int r;

	if (user != NULL)
		r = events_of_user(c, user, from, fn, arg);
	else if ((a = calloc(1, sizeof(*a))) == NULL)
		r = REC_ERR_NOMEM;
	else {
		a->from = from;
		a->fn = fn;
		a->arg = arg;
		r = rec_ldap_paged(c, c->cfg.ldap_base, LDAP_SCOPE_SUBTREE,
		    "(objectClass=" OC_EVENT ")", NULL, events_page, a);
		if (r == REC_ERR_NOTFOUND)
			r = REC_OK;
	}
	free(a);
	return r == REC_STOP ? REC_OK : r;
}

