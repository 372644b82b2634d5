/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_lmdb_ops.c: the store interface's operations, each one LMDB transaction. */
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_store_lmdb_int.h"

/* Decoding refuses used + invalidated > count, and so do the writers. */
static unsigned
remaining_of(const struct rec_batch *b)
{
	if (b->used + b->invalidated > b->count)
		return 0;
	return (unsigned)(b->count - b->used - b->invalidated);
}

struct view_arg {
	const char *user;
	unsigned flags;
	struct rec_view *v;
};

static int
view_txn(struct rec_txn *t, void *varg)
{
	struct view_arg *a = varg;
	struct rec_view *v = a->v;
	int r;

	memset(v, 0, sizeof(*v));
	if ((r = rec_user_get(t, a->user, &v->user)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_NOSTORE : r;
	if (v->user.active_batch == 0)
		return REC_OK;
	if ((r = rec_batch_get(t, a->user, v->user.active_batch,
	    &v->batch)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	v->have_batch = 1;
	if (a->flags & REC_VIEW_CODES)
		return rec_coderec_get_all(t, a->user, v->batch.id, v->codes,
		    REC_COUNT_MAX, &v->ncodes);
	return REC_OK;
}

static int
lmdb_view(struct rec_store *st, const char *user, unsigned flags,
    struct rec_view *v)
{
	struct view_arg a = { user, flags, v };
	int r;

	if ((r = rec_store_read(st, view_txn, &a)) != REC_OK)
		sodium_memzero(v, sizeof(*v));
	return r;
}

struct lock_arg {
	const char *user;
	unsigned which, flags;
	rec_store_lock_fn *fn;
	void *arg;
	rec_store_audit_fn *audit;
	struct rec_view *v;	/* REC_WRITE_VIEW: room for the view */
	struct rec_user u;
};

/* Apply fn to one state; 1 when it changed it, 0 when not, or an error. */
static int
lock_one(struct lock_arg *a, unsigned which, struct rec_lock *lk)
{
	int r;

	if (!(a->which & which))
		return 0;
	if ((r = a->fn(lk, which, a->v, a->arg)) == REC_STOP)
		return 0;
	return r == REC_OK ? 1 : r;
}

static int
lock_txn(struct rec_txn *t, void *varg)
{
	struct lock_arg *a = varg;
	struct view_arg va = { a->user, REC_VIEW_CODES, a->v };
	struct rec_store_done d = { REC_OK, 0, 0, 0 };
	int r, w1, w2;

	memset(&a->u, 0, sizeof(a->u));
	if (a->v != NULL) {
		if ((r = view_txn(t, &va)) != REC_OK)
			return r;
		a->u = a->v->user;
	} else if ((r = rec_user_get(t, a->user, &a->u)) == REC_ERR_NOTFOUND) {
		if (!(a->flags & REC_WRITE_CREATE))
			return REC_ERR_NOSTORE;
		memset(&a->u, 0, sizeof(a->u));
	} else if (r != REC_OK)
		return r;
	if ((w1 = lock_one(a, REC_LOCK_LOGIN, &a->u.lock)) < 0)
		return w1;
	if ((w2 = lock_one(a, REC_LOCK_GEN, &a->u.gen)) < 0)
		return w2;
	if (!w1 && !w2)
		return REC_OK;
	if ((r = rec_user_put(t, a->user, &a->u)) != REC_OK)
		return r;
	d.batch = a->u.active_batch;
	return rec_lmdb_audit(t, a->audit, a->arg, &d);
}

static int
lmdb_lock_update(struct rec_store *st, const char *user, unsigned which,
    unsigned flags, rec_store_lock_fn *fn, void *arg, rec_store_audit_fn *audit,
    struct rec_user *out)
{
	struct lock_arg a = { user, which, flags, fn, arg, audit, NULL, { 0 } };
	int r = REC_ERR_INTERNAL;

	/* A view holds the codes' hashes: guarded, and wiped on release. */
	if ((flags & REC_WRITE_VIEW) &&
	    (a.v = sodium_malloc(sizeof(*a.v))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	r = (flags & REC_WRITE_LAZY) ? rec_store_write_lazy(st, lock_txn, &a) :
	    rec_store_write(st, lock_txn, &a);
	if (r == REC_OK && out != NULL)
		*out = a.u;
out:
	if (a.v != NULL)
		sodium_memzero(a.v, sizeof(*a.v));
	sodium_free(a.v);
	return r;
}

struct mark_arg {
	const struct rec_code_mark *m;
	rec_store_audit_fn *audit;
	void *arg;
	int outcome;
	unsigned remaining;
};

int
rec_lmdb_audit(struct rec_txn *t, rec_store_audit_fn *audit, void *arg,
    const struct rec_store_done *d)
{
	struct rec_event ev[2];
	unsigned n = 0;
	int r;

	if (audit == NULL)
		return REC_OK;
	memset(ev, 0, sizeof(ev));
	if ((r = audit(d, ev, 2, &n, arg)) != REC_OK)
		return r;
	for (unsigned i = 0; i < n && i < 2; i++)
		if ((r = rec_event_append(t, &ev[i])) != REC_OK)
			return r;
	return REC_OK;
}

/* The events of a mark's outcome. */
static int
mark_audit(struct rec_txn *t, struct mark_arg *a, uint64_t batch)
{
	struct rec_store_done d = { a->outcome, batch, a->m->slot,
	    a->outcome == REC_OK };

	return rec_lmdb_audit(t, a->audit, a->arg, &d);
}

/*
 * Under the write lock: re-check the code is still unused and its batch
 * still active, then consume it (or mark the batch verified) and clear
 * the lockout; a refusal is committed with its events only.
 */
static int
mark_txn(struct rec_txn *t, void *varg)
{
	struct mark_arg *a = varg;
	const struct rec_code_mark *m = a->m;
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	int r;

	if ((r = rec_user_get(t, m->user, &u)) != REC_OK ||
	    (r = rec_batch_get(t, m->user, m->batch, &b)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	/* Purge may have removed the code since: only dead codes go. */
	if ((r = rec_coderec_get(t, m->user, m->batch, m->slot, &c)) ==
	    REC_ERR_NOTFOUND) {
		memset(&c, 0, sizeof(c));
		c.state = REC_CODE_USED;
	} else if (r != REC_OK)
		return r;
	a->remaining = remaining_of(&b);
	/* An unused code in a batch that counts none left: not ours. */
	if (c.state == REC_CODE_UNUSED && a->remaining == 0)
		return REC_ERR_CORRUPT;
	if (u.active_batch != b.id || b.status != REC_BATCH_ACTIVE ||
	    c.state == REC_CODE_INVALID)
		a->outcome = REC_ERR_INVALIDATED;
	else if (c.state == REC_CODE_USED)
		a->outcome = REC_ERR_USED;
	else if (m->expires != 0 && m->expires <= m->now)
		a->outcome = REC_ERR_EXPIRED;
	else
		a->outcome = REC_OK;
	if (a->outcome != REC_OK)
		return mark_audit(t, a, b.id);
	if (m->to == REC_MARK_VERIFY)
		b.verified = m->now;
	else {
		c.state = REC_CODE_USED;
		c.changed = m->now;
		b.used++;
		u.last_used = m->now;
		a->remaining = remaining_of(&b);
	}
	b.modified = m->now;
	rec_lock_clear(&u.lock);
	if ((r = rec_user_put(t, m->user, &u)) != REC_OK ||
	    (r = rec_batch_put(t, m->user, &b)) != REC_OK ||
	    (m->to != REC_MARK_VERIFY && (r = rec_coderec_put(t, m->user,
	    b.id, &c)) != REC_OK))
		return r;
	return mark_audit(t, a, b.id);
}

static int
lmdb_code_mark(struct rec_store *st, const struct rec_code_mark *m,
    rec_store_audit_fn *audit, void *arg, int *outcome, unsigned *remaining)
{
	struct mark_arg a = { m, audit, arg, REC_ERR_INTERNAL, 0 };
	int r;

	*outcome = REC_ERR_INTERNAL;
	*remaining = 0;
	if (m->to != REC_MARK_USED && m->to != REC_MARK_VERIFY)
		return REC_ERR_USAGE;
	if ((r = rec_store_write(st, mark_txn, &a)) != REC_OK)
		return r;
	*outcome = a.outcome;
	*remaining = a.remaining;
	return REC_OK;
}

struct append_arg {
	const struct rec_event *ev;
	unsigned n;
};

static int
append_txn(struct rec_txn *t, void *varg)
{
	struct append_arg *a = varg;
	int r;

	for (unsigned i = 0; i < a->n; i++)
		if ((r = rec_event_append(t, &a->ev[i])) != REC_OK)
			return r;
	return REC_OK;
}

static int
lmdb_event_append(struct rec_store *st, const struct rec_event *ev,
    unsigned n)
{
	struct append_arg a = { ev, n };

	return rec_store_write(st, append_txn, &a);
}

/* A walk's inputs, for the one read transaction it runs in. */
struct walk_arg {
	const char *user;
	uint64_t from;
	rec_user_fn *ufn;
	rec_batch_fn *bfn;
	rec_event_fn *efn;
	void *arg;
};

static int
users_txn(struct rec_txn *t, void *varg)
{
	const struct walk_arg *w = varg;

	return rec_user_each(t, w->ufn, w->arg);
}

static int
batches_txn(struct rec_txn *t, void *varg)
{
	const struct walk_arg *w = varg;

	return rec_batch_each(t, w->user, w->bfn, w->arg);
}

/* One user's events: the others are passed over. */
static int
user_event(uint64_t seq, const struct rec_event *ev, void *varg)
{
	const struct walk_arg *w = varg;

	if (strcmp(ev->user, w->user) != 0)
		return REC_OK;
	return w->efn(seq, ev, w->arg);
}

static int
events_txn(struct rec_txn *t, void *varg)
{
	const struct walk_arg *w = varg;

	if (w->user != NULL)
		return rec_event_scan(t, w->from, user_event, varg);
	return rec_event_scan(t, w->from, w->efn, w->arg);
}

static int
lmdb_user_each(struct rec_store *st, rec_user_fn *fn, void *arg)
{
	struct walk_arg w = { .ufn = fn, .arg = arg };

	return rec_store_read(st, users_txn, &w);
}

static int
lmdb_batch_each(struct rec_store *st, const char *user, rec_batch_fn *fn,
    void *arg)
{
	struct walk_arg w = { .user = user, .bfn = fn, .arg = arg };

	return rec_store_read(st, batches_txn, &w);
}

static int
lmdb_event_each(struct rec_store *st, const char *user, uint64_t from,
    rec_event_fn *fn, void *arg)
{
	struct walk_arg w = { .user = user, .from = from, .efn = fn,
	    .arg = arg };

	return rec_store_read(st, events_txn, &w);
}

const struct rec_store_ops rec_lmdb_ops = {
	.name = "lmdb",
	.close = lmdb_close,
	.writable = lmdb_writable,
	.view = lmdb_view,
	.lock_update = lmdb_lock_update,
	.code_mark = lmdb_code_mark,
	.event_append = lmdb_event_append,
	.batch_stage = lmdb_batch_stage,
	.batch_activate = lmdb_batch_activate,
	.batch_discard = lmdb_batch_discard,
	.code_invalidate = lmdb_code_invalidate,
	.batch_export_mark = lmdb_batch_export_mark,
	.user_each = lmdb_user_each,
	.batch_each = lmdb_batch_each,
	.event_each = lmdb_event_each,
	.user_forget = lmdb_user_forget,
	.event_purge = lmdb_event_purge,
	.purge_step = lmdb_purge_step,
	.records_each = lmdb_records_each,
	.batch_put = lmdb_batch_put,
	.user_put = lmdb_user_put,
	.copy = lmdb_copy,
	.probe = lmdb_probe,
};
