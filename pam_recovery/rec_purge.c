/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_purge.c: deleting dead codes, batches and old events, step by step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec_store_lmdb.h"
#include "rec_err.h"
#include "rec_purge.h"

enum job_kind { JOB_CODE, JOB_MARK, JOB_DELETE };

/* One record to delete or update, planned while walking the batches. */
struct job {
	char user[REC_USER_MAX];
	uint64_t batch;
	unsigned slot;
	enum job_kind kind;
};

/* The state of one run, carried from transaction to transaction. */
struct run {
	const struct rec_purge_opts *o;
	uint64_t cutoff;
	char after_user[REC_USER_MAX];	/* resume after this batch */
	uint64_t after_id;
	char next_user[REC_USER_MAX];	/* where this transaction stopped */
	uint64_t next_id;
	struct job *jobs;		/* this transaction's plan */
	unsigned njobs, budget;
	int full;			/* the budget stopped the walk */
	struct rec_purge_stats count;	/* dry run: what would go */
	/* The user being reported, summed over transactions (see tally). */
	rec_purge_fn *fn;
	void *arg;
	char user[REC_USER_MAX];
	uint64_t user_codes, user_batches;
	struct rec_code_rec codes[REC_COUNT_MAX];
};

static int
older(uint64_t t, uint64_t cutoff)
{
	return t < cutoff;
}

/* Dead: nothing in the batch can ever be used again, for long enough. */
static int
dead(const struct rec_batch *b, uint64_t now, uint64_t cutoff)
{
	/* A staged batch whose generate died never became usable. */
	if (b->status == REC_BATCH_INVALIDATED || b->status == REC_BATCH_STAGED)
		return older(b->modified, cutoff);
	if (b->expires != 0 && b->expires <= now && older(b->expires, cutoff))
		return 1;
	return b->used + b->invalidated >= b->count && older(b->modified, cutoff);
}

/*
 * Report a user once per run with the sum of all transactions: the walk
 * visits users in key order, so a user's records are contiguous even when
 * they span transactions.  user NULL flushes the last one.
 */
static void
tally(struct run *p, const char *user, enum job_kind kind)
{
	if (p->user[0] != '\0' && (user == NULL ||
	    strcmp(user, p->user) != 0)) {
		if (p->fn != NULL && (p->user_codes != 0 ||
		    p->user_batches != 0))
			p->fn(p->user, p->user_codes, p->user_batches, p->arg);
		p->user[0] = '\0';
		p->user_codes = p->user_batches = 0;
	}
	if (user == NULL)
		return;
	snprintf(p->user, sizeof(p->user), "%s", user);
	if (kind == JOB_CODE)
		p->user_codes++;
	else if (kind == JOB_MARK)
		p->user_batches++;
}

static int
plan(struct run *p, const char *user, uint64_t batch, unsigned slot,
    enum job_kind kind)
{
	struct job *j;

	if (p->o->dry_run) {
		if (kind == JOB_CODE)
			p->count.codes++;
		else if (kind == JOB_MARK)
			p->count.batches_purged++;
		else
			p->count.batches_deleted++;
		tally(p, user, kind);
		return REC_OK;
	}
	if (p->njobs >= p->budget)
		return REC_STOP;
	j = &p->jobs[p->njobs++];
	snprintf(j->user, sizeof(j->user), "%s", user);
	j->batch = batch;
	j->slot = slot;
	j->kind = kind;
	return REC_OK;
}

/*
 * Plan what goes of one batch.  When the budget runs out part way, the walk
 * stops before this batch, which the next transaction looks at again.
 */
static int
plan_batch(struct rec_txn *t, struct run *p, const char *user,
    const struct rec_batch *b)
{
	unsigned n = 0;
	int whole = b->status != REC_BATCH_PURGED &&
	    dead(b, p->o->now, p->cutoff);
	int r;

	if (b->status == REC_BATCH_PURGED)
		return older(b->modified, p->cutoff) ?
		    plan(p, user, b->id, 0, JOB_DELETE) : REC_OK;
	if ((r = rec_coderec_get_all(t, user, b->id, p->codes, REC_COUNT_MAX,
	    &n)) != REC_OK)
		return r;
	for (unsigned i = 0; i < n; i++) {
		const struct rec_code_rec *c = &p->codes[i];

		if (!whole && (c->state == REC_CODE_UNUSED ||
		    !older(c->changed, p->cutoff)))
			continue;
		if ((r = plan(p, user, b->id, c->slot, JOB_CODE)) != REC_OK)
			return r;
	}
	return whole ? plan(p, user, b->id, 0, JOB_MARK) : REC_OK;
}

static int
visit(const char *user, const struct rec_batch *b, void *arg)
{
	struct rec_txn *t = ((void **)arg)[0];
	struct run *p = ((void **)arg)[1];
	unsigned before = p->njobs;
	int r;

	if ((r = plan_batch(t, p, user, b)) == REC_STOP) {
		/*
		 * Leave this batch to the next transaction, whole -- unless
		 * it is the first of this one: then delete what fits, so
		 * that every transaction makes progress.
		 */
		if (before > 0)
			p->njobs = before;
		p->full = 1;
		return REC_STOP;
	}
	if (r != REC_OK)
		return r;
	snprintf(p->next_user, sizeof(p->next_user), "%s", user);
	p->next_id = b->id;
	return REC_OK;
}

/* Mark a batch purged; a user whose active batch it was has none now. */
static int
mark_purged(struct rec_txn *t, const struct job *j, uint64_t now)
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

static int
step_txn(struct rec_txn *t, void *arg)
{
	struct run *p = arg;
	void *pair[2] = { t, p };
	int r;

	p->njobs = 0;
	p->full = 0;
	memset(&p->count, 0, sizeof(p->count));
	snprintf(p->next_user, sizeof(p->next_user), "%s", p->after_user);
	p->next_id = p->after_id;
	if ((r = rec_batch_scan(t, p->after_user, p->after_id, visit,
	    pair)) != REC_OK)
		return r;
	for (unsigned i = 0; i < p->njobs && !p->o->dry_run; i++) {
		const struct job *j = &p->jobs[i];

		if (j->kind == JOB_CODE)
			r = rec_coderec_del(t, j->user, j->batch, j->slot);
		else if (j->kind == JOB_MARK)
			r = mark_purged(t, j, p->o->now);
		else
			r = rec_batch_del(t, j->user, j->batch);
		if (r != REC_OK)
			return r;
	}
	return REC_OK;
}

/* Count what the committed transaction did, in total and per user. */
static void
report(struct run *p, struct rec_purge_stats *s)
{
	for (unsigned i = 0; i < p->njobs; i++) {
		const struct job *j = &p->jobs[i];

		if (j->kind == JOB_CODE)
			s->codes++;
		else if (j->kind == JOB_MARK)
			s->batches_purged++;
		else
			s->batches_deleted++;
		tally(p, j->user, j->kind);
	}
}

static int
count_left(const char *user, const struct rec_batch *b, void *arg)
{
	struct rec_purge_stats *s = arg;

	(void)user;
	s->batches_left++;
	if (b->status != REC_BATCH_PURGED)
		s->codes_left += b->count;
	return REC_OK;
}

static int
left_txn(struct rec_txn *t, void *arg)
{
	struct rec_purge_stats *s = arg;

	s->batches_left = s->codes_left = 0;
	return rec_batch_each(t, NULL, count_left, s);
}

struct audit_arg {
	const struct rec_config *cfg;
	const struct rec_who *who;
	uint64_t now;
	const struct rec_purge_stats *s;
};

static int
audit_txn(struct rec_txn *t, void *varg)
{
	struct audit_arg *a = varg;
	char detail[96];

	snprintf(detail, sizeof(detail), "%llu codes, %llu batches purged, "
	    "%llu deleted", (unsigned long long)a->s->codes,
	    (unsigned long long)a->s->batches_purged,
	    (unsigned long long)a->s->batches_deleted);
	return rec_auth_audit(t, a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = REC_EV_PURGED, .detail = detail });
}

int
rec_purge(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_purge_opts *o,
    rec_purge_fn *fn, void *arg, struct rec_purge_stats *stats)
{
	struct run *p = NULL;
	uint64_t retention = (uint64_t)o->retention_days * 86400, done = 0;
	struct audit_arg aa = { cfg, who, o->now, stats };
	struct timespec pause = { 0, 100000 };
	int r = REC_ERR_INTERNAL;

	memset(stats, 0, sizeof(*stats));
	if (o->batch_size == 0 || o->max < -1) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (!o->dry_run && (p->jobs = calloc(o->batch_size,
	    sizeof(*p->jobs))) == NULL)) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	p->o = o;
	p->fn = fn;
	p->arg = arg;
	p->cutoff = o->now > retention ? o->now - retention : 0;
	for (;;) {
		p->budget = o->batch_size;
		if (o->max >= 0 && (uint64_t)o->max - done < p->budget)
			p->budget = (unsigned)((uint64_t)o->max - done);
		if (p->budget == 0 && !o->dry_run)
			break;
		r = o->dry_run ? rec_store_read(st, step_txn, p) :
		    rec_store_write(st, step_txn, p);
		if (r != REC_OK)
			goto out;
		if (!o->dry_run) {
			stats->txns++;
			done += p->njobs;
			report(p, stats);
		}
		memcpy(p->after_user, p->next_user, sizeof(p->after_user));
		p->after_id = p->next_id;
		if (!p->full || o->dry_run)
			break;
		/*
		 * Let a waiting login take the write lock: without a pause
		 * the purge takes it again at once, and a login waited up to
		 * 587 ms behind transactions of 13 ms (make bench).
		 */
		nanosleep(&pause, NULL);
	}
	if (o->dry_run) {
		stats->codes = p->count.codes;
		stats->batches_purged = p->count.batches_purged;
		stats->batches_deleted = p->count.batches_deleted;
	}
	stats->complete = !p->full || o->dry_run;
	if (!o->dry_run && stats->codes + stats->batches_purged +
	    stats->batches_deleted != 0 &&
	    (r = rec_store_write(st, audit_txn, &aa)) != REC_OK)
		goto out;
	r = rec_store_read(st, left_txn, stats);
out:
	/* What committed is reported, even when a later step failed. */
	if (p != NULL) {
		tally(p, NULL, JOB_CODE);
		free(p->jobs);
	}
	free(p);
	return r;
}

struct audit_purge {
	uint64_t cutoff;
	uint64_t from;		/* committed: resume after this sequence */
	uint64_t after;		/* this transaction's position */
	unsigned max, n;
	uint64_t *seqs;
	int more, dry_run;
};

static int
old_event(uint64_t seq, const struct rec_event *ev, void *arg)
{
	struct audit_purge *a = arg;

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
audit_purge_txn(struct rec_txn *t, void *arg)
{
	struct audit_purge *a = arg;
	int r;

	a->n = 0;
	a->more = 0;
	a->after = a->from;
	if ((r = rec_event_scan(t, a->after, old_event, a)) != REC_OK)
		return r;
	for (unsigned i = 0; i < a->n && !a->dry_run; i++)
		if ((r = rec_event_del(t, a->seqs[i])) != REC_OK)
			return r;
	return REC_OK;
}

int
rec_purge_audit(struct rec_store *st, unsigned days, uint64_t now,
    unsigned batch_size, int dry_run, uint64_t *deleted)
{
	struct audit_purge a;
	uint64_t keep = (uint64_t)days * 86400, start;
	int r = REC_ERR_INTERNAL;

	*deleted = 0;
	memset(&a, 0, sizeof(a));
	if (batch_size == 0)
		return REC_ERR_USAGE;
	if ((a.seqs = calloc(batch_size, sizeof(*a.seqs))) == NULL)
		return REC_ERR_NOMEM;
	a.cutoff = now > keep ? now - keep : 0;
	a.max = batch_size;
	a.dry_run = dry_run;
	do {
		start = a.from;
		r = dry_run ? rec_store_read(st, audit_purge_txn, &a) :
		    rec_store_write(st, audit_purge_txn, &a);
		if (r != REC_OK)
			break;
		*deleted += a.n;
		a.from = a.after;
	} while (a.more && a.from != start);
	free(a.seqs);
	return r;
}

/* The batch ids of one user, gathered before any is deleted. */
struct forget {
	const struct rec_config *cfg;
	const struct rec_who *who;	/* who->user: the user forgotten */
	uint64_t now;
	int dry_run;
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
	struct rec_code_rec c;
	struct rec_user u;
	char detail[64];
	int r;

	f->nids = 0;
	f->removed = 0;
	if ((r = rec_batch_each(t, f->who->user, forget_batch, f)) != REC_OK)
		return r;
	for (size_t i = 0; i < f->nids; i++) {
		for (unsigned s = 1; s <= f->counts[i]; s++) {
			r = f->dry_run ? rec_coderec_get(t, f->who->user,
			    f->ids[i], s, &c) : rec_coderec_del(t, f->who->user,
			    f->ids[i], s);
			if ((r = forget_one(f, r)) != REC_OK)
				return r;
		}
		r = f->dry_run ? REC_OK : rec_batch_del(t, f->who->user,
		    f->ids[i]);
		if ((r = forget_one(f, r)) != REC_OK)
			return r;
	}
	r = f->dry_run ? rec_user_get(t, f->who->user, &u) :
	    rec_user_del(t, f->who->user);
	if ((r = forget_one(f, r)) != REC_OK || f->dry_run || f->removed == 0)
		return r;
	snprintf(detail, sizeof(detail), "%llu records",
	    (unsigned long long)f->removed);
	return rec_auth_audit(t, f->cfg, f->who, f->now,
	    &(struct rec_mark){ .type = REC_EV_FORGOTTEN, .detail = detail });
}

int
rec_purge_forget(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, uint64_t now, int dry_run, uint64_t *removed)
{
	struct forget f;
	int r;

	memset(&f, 0, sizeof(f));
	f.cfg = cfg;
	f.who = who;
	f.now = now;
	f.dry_run = dry_run;
	*removed = 0;
	if (st == NULL || who == NULL || who->user == NULL)
		return REC_ERR_USAGE;
	r = dry_run ? rec_store_read(st, forget_txn, &f) :
	    rec_store_write(st, forget_txn, &f);
	if (r == REC_OK)
		*removed = f.removed;
	free(f.ids);
	free(f.counts);
	return r;
}
