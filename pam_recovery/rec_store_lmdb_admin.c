/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_lmdb_admin.c: the LMDB store's walks and deletions for the administrator. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_store_lmdb_int.h"

/* The batch ids of one user, gathered before any is deleted. */
struct forget {
	const char *user;
	unsigned flags;
	rec_store_audit_fn *audit;
	void *arg;
	uint64_t *ids;
	size_t nids, cap;
	uint16_t *counts;
	uint64_t removed;
};

static int
forget_batch(const char *user, const struct rec_batch *b, void *arg)
{
	struct forget *f = arg;
	void *p;

	(void)user;
	if (f->nids == f->cap) {
		f->cap = f->cap == 0 ? 16 : f->cap * 2;
		if ((p = reallocarray(f->ids, f->cap, sizeof(*f->ids))) == NULL)
			return REC_ERR_NOMEM;
		f->ids = p;
		if ((p = reallocarray(f->counts, f->cap, sizeof(*f->counts))) ==
		    NULL)
			return REC_ERR_NOMEM;
		f->counts = p;
	}
	f->ids[f->nids] = b->id;
	f->counts[f->nids++] = b->count;
	return REC_OK;
}

/* One deletion: counted when there was a record, NOTFOUND is none. */
static int
forget_one(struct forget *f, int r)
{
	if (r == REC_OK)
		f->removed++;
	return r == REC_ERR_NOTFOUND ? REC_OK : r;
}

static int
forget_txn(struct rec_txn *t, void *arg)
{
	struct forget *f = arg;
	int dry = (f->flags & REC_WRITE_DRY) != 0;
	struct rec_store_done d;
	struct rec_code_rec c;
	struct rec_user u;
	int r;

	f->nids = 0;
	f->removed = 0;
	if ((r = rec_batch_each(t, f->user, forget_batch, f)) != REC_OK)
		return r;
	for (size_t i = 0; i < f->nids; i++) {
		for (unsigned s = 1; s <= f->counts[i]; s++) {
			r = dry ? rec_coderec_get(t, f->user, f->ids[i], s,
			    &c) : rec_coderec_del(t, f->user, f->ids[i], s);
			if ((r = forget_one(f, r)) != REC_OK)
				return r;
		}
		r = dry ? REC_OK : rec_batch_del(t, f->user, f->ids[i]);
		if ((r = forget_one(f, r)) != REC_OK)
			return r;
	}
	r = dry ? rec_user_get(t, f->user, &u) : rec_user_del(t, f->user);
	if ((r = forget_one(f, r)) != REC_OK || dry || f->removed == 0)
		return r;
	memset(&d, 0, sizeof(d));
	d.changed = (unsigned)(f->removed > ~0u ? ~0u : f->removed);
	return rec_lmdb_audit(t, f->audit, f->arg, &d);
}

int
lmdb_user_forget(struct rec_store *st, const char *user, unsigned flags,
    rec_store_audit_fn *audit, void *arg, uint64_t *removed)
{
	struct forget f;
	int r;

	memset(&f, 0, sizeof(f));
	f.user = user;
	f.flags = flags;
	f.audit = audit;
	f.arg = arg;
	*removed = 0;
	r = (flags & REC_WRITE_DRY) ? rec_store_read(st, forget_txn, &f) :
	    rec_store_write(st, forget_txn, &f);
	if (r == REC_OK)
		*removed = f.removed;
	free(f.ids);
	free(f.counts);
	return r;
}

struct event_purge {
	uint64_t from;		/* resume after this sequence */
	uint64_t after;		/* this transaction's position */
	uint64_t cutoff;
	unsigned max, n;
	uint64_t *seqs;
	int more, dry;
};

static int
old_event(uint64_t seq, const struct rec_event *ev, void *arg)
{
	struct event_purge *a = arg;

	if (a->after != 0 && seq <= a->after)
		return REC_OK;
	if (a->n >= a->max) {
		a->more = 1;
		return REC_STOP;
	}
	if (ev->time < a->cutoff)
		a->seqs[a->n++] = seq;
	a->after = seq;
	return REC_OK;
}

static int
event_purge_txn(struct rec_txn *t, void *arg)
{
	struct event_purge *a = arg;
	int r;

	a->n = 0;
	a->more = 0;
	a->after = a->from;
	if ((r = rec_event_scan(t, a->after, old_event, a)) != REC_OK)
		return r;
	for (unsigned i = 0; i < a->n && !a->dry; i++)
		if ((r = rec_event_del(t, a->seqs[i])) != REC_OK)
			return r;
	return REC_OK;
}

int
lmdb_event_purge(struct rec_store *st, uint64_t after, uint64_t cutoff,
    unsigned max, unsigned flags, unsigned *n, uint64_t *next, int *more)
{
	struct event_purge a;
	int r;

	*n = 0;
	*next = after;
	*more = 0;
	memset(&a, 0, sizeof(a));
	if (max == 0)
		return REC_ERR_USAGE;
	if ((a.seqs = calloc(max, sizeof(*a.seqs))) == NULL)
		return REC_ERR_NOMEM;
	a.from = after;
	a.cutoff = cutoff;
	a.max = max;
	a.dry = (flags & REC_WRITE_DRY) != 0;
	r = a.dry ? rec_store_read(st, event_purge_txn, &a) :
	    rec_store_write(st, event_purge_txn, &a);
	if (r == REC_OK) {
		*n = a.n;
		*next = a.after;
		*more = a.more;
	}
	free(a.seqs);
	return r;
}

/* A purge step's walk; code records hold hashes: guarded memory. */
struct step {
	const struct rec_purge_walk *w;
	struct rec_txn *t;
	struct rec_code_rec codes[REC_COUNT_MAX];
};

static int
step_batch(const char *user, const struct rec_batch *b, void *arg)
{
	struct step *s = arg;
	unsigned n = 0;
	int r;

	if (b->status != REC_BATCH_PURGED && (r = rec_coderec_get_all(s->t,
	    user, b->id, s->codes, REC_COUNT_MAX, &n)) != REC_OK)
		return r;
	return s->w->batch(user, b, s->codes, n, s->w->arg);
}

/* Mark a batch purged; a user whose active batch it was has none now. */
static int
mark_purged(struct rec_txn *t, const struct rec_purge_job *j, uint64_t now)
{
	struct rec_batch b;
	struct rec_user u;
	int r;

	if ((r = rec_batch_get(t, j->user, j->batch, &b)) != REC_OK)
		return r;
	b.status = REC_BATCH_PURGED;
	b.modified = now;
	if ((r = rec_batch_put(t, j->user, &b)) != REC_OK)
		return r;
	if ((r = rec_user_get(t, j->user, &u)) == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK || u.active_batch != j->batch)
		return r;
	u.active_batch = 0;
	return rec_user_put(t, j->user, &u);
}

struct step_run {
	struct step *s;
	unsigned flags;
	uint64_t now;
};

static int
step_txn(struct rec_txn *t, void *arg)
{
	struct step_run *sr = arg;
	const struct rec_purge_walk *w = sr->s->w;
	int r;

	sr->s->t = t;
	w->begin(w->arg);
	if ((r = rec_batch_scan(t, w->after_user, w->after_id, step_batch,
	    sr->s)) != REC_OK)
		return r;
	for (unsigned i = 0; i < *w->njobs && !(sr->flags & REC_WRITE_DRY);
	    i++) {
		const struct rec_purge_job *j = &w->jobs[i];

		if (j->kind == REC_PURGE_CODE)
			r = rec_coderec_del(t, j->user, j->batch, j->slot);
		else if (j->kind == REC_PURGE_MARK)
			r = mark_purged(t, j, sr->now);
		else
			r = rec_batch_del(t, j->user, j->batch);
		if (r != REC_OK)
			return r;
	}
	return REC_OK;
}

int
lmdb_purge_step(struct rec_store *st, const struct rec_purge_walk *w,
    unsigned flags)
{
	struct step_run sr = { NULL, flags, w->now };
	int r = REC_ERR_INTERNAL;

	if ((sr.s = sodium_malloc(sizeof(*sr.s))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	sr.s->w = w;
	r = (flags & REC_WRITE_DRY) ? rec_store_read(st, step_txn, &sr) :
	    rec_store_write(st, step_txn, &sr);
out:
	sodium_free(sr.s);
	return r;
}

/* The consistency walk: one read transaction for both passes. */
struct records {
	struct rec_txn *t;
	rec_store_item_fn *ufn, *bfn;
	void *arg;
	struct rec_code_rec codes[REC_COUNT_MAX];
};

static int
records_user(const char *user, const struct rec_user *u, void *arg)
{
	struct records *rs = arg;
	struct rec_store_item it = { user, u, NULL, NULL, 0, REC_OK, REC_OK };
	struct rec_batch b;

	if (u->active_batch != 0 && (it.b_rc = rec_batch_get(rs->t, user,
	    u->active_batch, &b)) == REC_OK)
		it.b = &b;
	return rs->ufn(&it, rs->arg);
}

static int
records_batch(const char *user, const struct rec_batch *b, void *arg)
{
	struct records *rs = arg;
	struct rec_store_item it = { user, NULL, b, rs->codes, 0, REC_OK,
	    REC_OK };
	struct rec_user u;
	int r;

	if ((r = rec_user_get(rs->t, user, &u)) == REC_OK)
		it.u = &u;
	else if (r != REC_ERR_NOTFOUND)
		return r;
	r = rec_coderec_get_all(rs->t, user, b->id, rs->codes, REC_COUNT_MAX,
	    &it.ncodes);
	if (r == REC_ERR_CORRUPT) {
		it.codes_rc = r;
		it.ncodes = 0;
	} else if (r != REC_OK)
		return r;
	return rs->bfn(&it, rs->arg);
}

static int
records_txn(struct rec_txn *t, void *arg)
{
	struct records *rs = arg;
	int r;

	rs->t = t;
	if (rs->ufn != NULL &&
	    (r = rec_user_each(t, records_user, rs)) != REC_OK)
		return r;
	if (rs->bfn == NULL)
		return REC_OK;
	return rec_batch_each(t, NULL, records_batch, rs);
}

int
lmdb_records_each(struct rec_store *st, rec_store_item_fn *ufn,
    rec_store_item_fn *bfn, void *arg)
{
	struct records *rs = NULL;
	int r = REC_ERR_INTERNAL;

	if ((rs = sodium_malloc(sizeof(*rs))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	memset(rs, 0, sizeof(*rs));
	rs->ufn = ufn;
	rs->bfn = bfn;
	rs->arg = arg;
	r = rec_store_read(st, records_txn, rs);
out:
	sodium_free(rs);
	return r;
}
