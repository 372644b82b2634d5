/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap.c: the directory backend: its handle, and what a login does. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_store_ldap_int.h"

static const struct rec_store_ops sldap_ops;

int
rec_store_open_ldap(const struct rec_config *cfg, unsigned flags,
    const struct rec_log *log, struct rec_store **out)
{
	return rec_store_open_ldap_as(cfg, flags, NULL, log, out);
}

int
rec_store_open_ldap_as(const struct rec_config *cfg, unsigned flags,
    const struct rec_ldap_bind *as, const struct rec_log *log,
    struct rec_store **out)
{
	struct rec_store_ldap *s;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return REC_ERR_NOMEM;
	s->base.ops = &sldap_ops;
	s->base.log = log;
	s->cfg = *cfg;
	if (flags & REC_STORE_RDONLY)
		r = rec_ldap_open_as(cfg, 0, as, log, &s->rd);
	else if (cfg->ldap_write_uri[0] == '\0') {
		r = rec_ldap_open_as(cfg, 1, as, log, &s->wr);
		s->rd = s->wr;
	} else if ((r = rec_ldap_open_as(cfg, 0, as, log, &s->rd)) == REC_OK)
		r = rec_ldap_open_as(cfg, 1, as, log, &s->wr);
	if (r != REC_OK) {
		sldap_close(&s->base);
		return r;
	}
	*out = &s->base;
	return REC_OK;
}

void
sldap_close(struct rec_store *st)
{
	struct rec_store_ldap *s = rec_sldap_of(st);

	if (s->wr != s->rd)
		rec_ldap_close(s->wr);
	rec_ldap_close(s->rd);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

int
sldap_writable(const struct rec_store *st)
{
	return ((const struct rec_store_ldap *)(const void *)st)->wr != NULL;
}

int
rec_sldap_writer(struct rec_store_ldap *s, const char *what,
    struct rec_ldap **c)
{
	if (s->wr == NULL) {
		rec_logf(s->base.log, LOG_ERR, "directory store: %s: opened "
		    "read only", what);
		return REC_ERR_USAGE;
	}
	*c = s->wr;
	return REC_OK;
}

/*
 * What a login does.  Each operation works on one entry at a time with
 * one Modify, whose exact-value deletes are its assertions
 * (conf/ldap/README); every read that decides a change is made over the
 * write connection, in the same round as the change.  Audit events are
 * entries of their own below the user's, added after the change they
 * record: a crash in between loses the event, never the change.
 */

#define SWAP_MAX 256	/* rounds of a contended lock update */
#define MARK_MAX 4	/* a refused mark is judged again on a fresh read */

/*
 * Read user's entry, its active batch and (REC_VIEW_CODES) that batch's
 * codes over c into *v in one search; *have (may be NULL) receives which
 * lockout values the entry holds.
 */
static int
view_read(struct rec_store_ldap *s, struct rec_ldap *c, const char *user,
    unsigned flags, struct rec_view *v, unsigned *have)
{
	struct rec_ldap_user *u = NULL;
	int r = REC_ERR_INTERNAL;

	memset(v, 0, sizeof(*v));
	/* It holds the codes' hashes: guarded, and wiped on release. */
	if ((u = sodium_malloc(sizeof(*u))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if ((r = rec_ldap_read_user(c, user, u)) != REC_OK)
		goto out;
	if (u->user.active_batch != 0 && !u->have_batch) {
		rec_logf(s->base.log, LOG_ERR, "directory store: user %s names "
		    "batch %016llx as active, which is not there", user,
		    (unsigned long long)u->user.active_batch);
		r = REC_ERR_CORRUPT;
		goto out;
	}
	v->user = u->user;
	v->have_batch = u->have_batch;
	v->batch = u->batch;
	if (flags & REC_VIEW_CODES) {
		memcpy(v->codes, u->codes, u->ncodes * sizeof(u->codes[0]));
		v->ncodes = u->ncodes;
	}
	if (have != NULL)
		*have = u->have_locks;
	r = REC_OK;
out:
	if (u != NULL)
		sodium_memzero(u, sizeof(*u));
	sodium_free(u);
	if (r != REC_OK)
		sodium_memzero(v, sizeof(*v));
	return r;
}

int
sldap_view(struct rec_store *st, const char *user, unsigned flags,
    struct rec_view *v)
{
	struct rec_store_ldap *s = rec_sldap_of(st);

	return view_read(s, s->rd, user, flags, v, NULL);
}

/* Add ev[0..n) below their users' entries, each with this host's name. */
static int
append_events(struct rec_store_ldap *s, struct rec_ldap *c,
    const struct rec_event *ev, unsigned n)
{
	int r;

	for (unsigned i = 0; i < n; i++)
		if ((r = rec_ldap_audit(c, &ev[i], s->cfg.host_name)) !=
		    REC_OK)
			return r;
	return REC_OK;
}

/* The events of a change (what) were lost: say so, and fail closed. */
static int
events_lost(struct rec_store_ldap *s, const char *user, const char *what,
    int r)
{
	rec_logf(s->base.log, LOG_ERR, "directory store: user %s: %s, but "
	    "its audit events could not be recorded: %s", user, what,
	    rec_strerror(r));
	return r;
}

/* The events audit gives for d, into ev (room for 2) and *n. */
static int
audit_events(rec_store_audit_fn *audit, void *arg,
    const struct rec_store_done *d, struct rec_event ev[2], unsigned *n)
{
	int r;

	*n = 0;
	memset(ev, 0, 2 * sizeof(ev[0]));
	if (audit == NULL)
		return REC_OK;
	if ((r = audit(d, ev, 2, n, arg)) != REC_OK)
		return r;
	if (*n > 2)
		*n = 2;
	return REC_OK;
}

/*
 * Apply fn to one state of *u when `which` asks for it: 1 when fn changed
 * it (REC_OK), 0 when not, or fn's error.
 */
static int
lock_one(rec_store_lock_fn *fn, void *arg, unsigned which, unsigned one,
    struct rec_lock *lk, const struct rec_view *v)
{
	int r;

	if (!(which & one))
		return 0;
	if ((r = fn(lk, one, v, arg)) == REC_STOP)
		return 0;
	return r == REC_OK ? 1 : r;
}

/*
 * A compare-and-swap of the user's entry: read the states (and with
 * REC_WRITE_VIEW the view, in the same search), let fn change them, and
 * write those it changed in one Modify that deletes each exact value read;
 * when another host changed one in between, nothing is applied and the
 * round starts again from a fresh read, so fn may run several times.  The
 * states both go in that one Modify.  REC_WRITE_LAZY asks nothing here:
 * every Modify the directory applies is already durable.
 */
int
sldap_lock_update(struct rec_store *st, const char *user, unsigned which,
    unsigned flags, rec_store_lock_fn *fn, void *arg,
    rec_store_audit_fn *audit, struct rec_user *out)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_store_done d = { REC_OK, 0, 0, 0 };
	struct rec_ldap *c = NULL;
	struct rec_view *v = NULL;
	struct rec_event ev[2];
	struct rec_user old, nu;
	unsigned have = 0, round, nev = 0, mask;
	int r = REC_ERR_INTERNAL, exists, w1, w2;

	memset(ev, 0, sizeof(ev));
	if ((r = rec_sldap_writer(s, "lockout update", &c)) != REC_OK)
		goto out;
	if ((flags & REC_WRITE_VIEW) &&
	    (v = sodium_malloc(sizeof(*v))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (round = 0; round < SWAP_MAX; round++) {
		exists = 1;
		if (v != NULL) {
			r = view_read(s, c, user, REC_VIEW_CODES, v, &have);
			old = v->user;
		} else
			r = rec_ldap_read_locks(c, user, &old, &have);
		if (r == REC_ERR_NOSTORE && v == NULL &&
		    (flags & REC_WRITE_CREATE)) {
			memset(&old, 0, sizeof(old));
			have = 0;
			exists = 0;
			r = REC_OK;
		}
		if (r != REC_OK)
			goto out;
		nu = old;
		if ((w1 = lock_one(fn, arg, which, REC_LOCK_LOGIN, &nu.lock,
		    v)) < 0) {
			r = w1;
			goto out;
		}
		if ((w2 = lock_one(fn, arg, which, REC_LOCK_GEN, &nu.gen,
		    v)) < 0) {
			r = w2;
			goto out;
		}
		if (!w1 && !w2) {
			r = REC_OK;
			goto done;
		}
		/* Before the write: an audit error writes nothing. */
		d.batch = old.active_batch;
		if ((r = audit_events(audit, arg, &d, ev, &nev)) != REC_OK)
			goto out;
		mask = (w1 ? REC_LOCK_LOGIN : 0) | (w2 ? REC_LOCK_GEN : 0);
		/*
		 * A user without an entry gets one holding the new states;
		 * when another host added it first, the add is refused and
		 * the next round swaps on what that host wrote.
		 */
		r = rec_ldap_swap_locks(c, user, mask, exists ? &old : NULL,
		    have, &nu);
		if (r == REC_OK)
			break;
		if (r != REC_ERR_EXISTS)
			goto out;
	}
	if (round == SWAP_MAX) {
		rec_logf(st->log, LOG_ERR, "directory store: lockout of user "
		    "%s: still contended after %d rounds", user, SWAP_MAX);
		r = REC_ERR_IO;
		goto out;
	}
	if ((r = append_events(s, c, ev, nev)) != REC_OK) {
		r = events_lost(s, user, "the lockout update stands", r);
		goto out;
	}
done:
	/* As the LMDB store: what fn made of each state, also one it left. */
	if (out != NULL)
		*out = nu;
	r = REC_OK;
out:
	sodium_memzero(ev, sizeof(ev));
	if (v != NULL)
		sodium_memzero(v, sizeof(*v));
	sodium_free(v);
	return r;
}

/*
 * Judge mark m against u, the user's entry and active batch as the write
 * connection just read them: *oc the outcome, in rec_store_code_mark's
 * order of precedence, *code the unused code to consume (for REC_OK),
 * *rem the batch's unused codes.  REC_OK, or REC_ERR_CORRUPT.
 */
static int
mark_judge(struct rec_store_ldap *s, const struct rec_code_mark *m,
    const struct rec_ldap_user *u, int *oc, const struct rec_code_rec **code,
    unsigned *rem)
{
	const struct rec_code_rec *cr = NULL;
	enum rec_code_state state;

	*code = NULL;
	*rem = 0;
	/* Replaced or invalidated as a whole: no code of it is left. */
	if (u->user.active_batch != m->batch) {
		*oc = REC_ERR_INVALIDATED;
		return REC_OK;
	}
	if (!u->have_batch) {
		rec_logf(s->base.log, LOG_ERR, "directory store: user %s names "
		    "batch %016llx as active, which is not there", m->user,
		    (unsigned long long)m->batch);
		return REC_ERR_CORRUPT;
	}
	for (unsigned i = 0; i < u->ncodes; i++) {
		if (u->codes[i].state == REC_CODE_UNUSED)
			(*rem)++;
		if (u->codes[i].slot == m->slot)
			cr = &u->codes[i];
	}
	/* A code purge removed counts as used. */
	state = cr != NULL ? (enum rec_code_state)cr->state : REC_CODE_USED;
	if (u->batch.status != REC_BATCH_ACTIVE || state == REC_CODE_INVALID)
		*oc = REC_ERR_INVALIDATED;
	else if (state == REC_CODE_USED)
		*oc = REC_ERR_USED;
	else if (m->expires != 0 && m->expires <= m->now)
		*oc = REC_ERR_EXPIRED;
	else {
		*oc = REC_OK;
		*code = cr;
	}
	return REC_OK;
}

/*
 * Read the user's entry and batch over the write connection and judge the
 * mark; then a consume is the one Modify of the batch entry that deletes
 * the code's exact unused value and asserts the batch's active status
 * (rec_ldap_mark_code), a verify the one that sets pamRecoveryVerified
 * under the same assertion.  Of any number of racing marks of one code the
 * server applies one; the others' Modify is refused as a whole, and they
 * judge again on a fresh read, which then finds the code used (or the
 * batch out of force).  After a success, one Modify of the user's entry
 * clears the login lockout and records the last use: a crash before it
 * leaves the code used and the lock as it was, which fails closed.
 */
int
sldap_code_mark(struct rec_store *st, const struct rec_code_mark *m,
    rec_store_audit_fn *audit, void *arg, int *outcome, unsigned *remaining)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_store_done d = { REC_ERR_INTERNAL, 0, 0, 0 };
	const struct rec_code_rec *code = NULL;
	struct rec_ldap_user *u = NULL;
	struct rec_ldap *c = NULL;
	struct rec_event ev[2];
	unsigned round, rem = 0, nev = 0;
	int r = REC_ERR_INTERNAL, oc = REC_ERR_INTERNAL;

	*outcome = REC_ERR_INTERNAL;
	*remaining = 0;
	memset(ev, 0, sizeof(ev));
	if (m->to != REC_MARK_USED && m->to != REC_MARK_VERIFY) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_sldap_writer(s, "code mark", &c)) != REC_OK)
		goto out;
	if ((u = sodium_malloc(sizeof(*u))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (round = 0; round < MARK_MAX; round++) {
		if ((r = rec_ldap_read_user(c, m->user, u)) != REC_OK) {
			if (r == REC_ERR_NOSTORE)
				r = REC_ERR_CORRUPT;	/* it had a batch */
			goto out;
		}
		if ((r = mark_judge(s, m, u, &oc, &code, &rem)) != REC_OK)
			goto out;
		d = (struct rec_store_done){ oc, m->batch, m->slot,
		    oc == REC_OK };
		if ((r = audit_events(audit, arg, &d, ev, &nev)) != REC_OK)
			goto out;
		if (oc != REC_OK)
			break;
		if (m->to == REC_MARK_USED)
			r = rec_ldap_mark_code(c, m->user, &u->batch, code,
			    REC_CODE_USED, m->now, s->cfg.host_name);
		else
			r = rec_ldap_mark_verified(c, m->user, m->batch,
			    m->now);
		if (r == REC_OK)
			break;
		if (r != REC_ERR_USED && r != REC_ERR_INVALIDATED)
			goto out;
	}
	if (round == MARK_MAX) {
		rec_logf(st->log, LOG_ERR, "directory store: code %u of user "
		    "%s: still contended after %d rounds", m->slot, m->user,
		    MARK_MAX);
		r = REC_ERR_IO;
		goto out;
	}
	if (oc == REC_OK) {
		if (m->to == REC_MARK_USED)
			rem--;
		if ((r = rec_ldap_note_success(c, m->user,
		    m->to == REC_MARK_USED ? m->now : 0)) != REC_OK) {
			rec_logf(st->log, LOG_ERR, "directory store: user %s: "
			    "code %u of batch %016llx was %s, but the lockout "
			    "could not be cleared: %s", m->user, m->slot,
			    (unsigned long long)m->batch, m->to ==
			    REC_MARK_USED ? "used" : "tested", rec_strerror(r));
			goto out;
		}
	}
	if ((r = append_events(s, c, ev, nev)) != REC_OK) {
		r = events_lost(s, m->user, oc != REC_OK ? "the code was "
		    "refused" : m->to == REC_MARK_USED ? "the code's use "
		    "stands" : "the batch's test stands", r);
		goto out;
	}
	*outcome = oc;
	*remaining = rem;
	r = REC_OK;
out:
	sodium_memzero(ev, sizeof(ev));
	if (u != NULL)
		sodium_memzero(u, sizeof(*u));
	sodium_free(u);
	return r;
}

int
sldap_event_append(struct rec_store *st, const struct rec_event *ev,
    unsigned n)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap *c = NULL;
	int r;

	if ((r = rec_sldap_writer(s, "audit", &c)) != REC_OK)
		return r;
	return append_events(s, c, ev, n);
}

static const struct rec_store_ops sldap_ops = {
	.name = "ldap",
	.close = sldap_close,
	.writable = sldap_writable,
	.view = sldap_view,
	.lock_update = sldap_lock_update,
	.code_mark = sldap_code_mark,
	.event_append = sldap_event_append,
	.batch_stage = sldap_batch_stage,
	.batch_activate = sldap_batch_activate,
	.batch_discard = sldap_batch_discard,
	.code_invalidate = sldap_code_invalidate,
	.batch_export_mark = sldap_batch_export_mark,
	.user_each = sldap_user_each,
	.batch_each = sldap_batch_each,
	.event_each = sldap_event_each,
	.user_forget = sldap_user_forget,
	.event_purge = sldap_event_purge,
	.purge_step = sldap_purge_step,
	.records_each = sldap_records_each,
	.copy = NULL,	/* slapcat makes the directory's backup */
	.probe = NULL,
	.batch_put = sldap_batch_put,
	.user_put = sldap_user_put,
};
