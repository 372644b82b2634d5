/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_purge.c: deleting dead codes, batches and old events, step by step. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec_err.h"
#include "rec_purge.h"


/* The state of one run, carried from transaction to transaction. */
struct run {
	const struct rec_purge_opts *o;
	uint64_t cutoff;
	char after_user[REC_USER_MAX];	/* resume after this batch */
	uint64_t after_id;
	char next_user[REC_USER_MAX];	/* where this transaction stopped */
	uint64_t next_id;
	struct rec_purge_job *jobs;		/* this transaction's plan */
	unsigned njobs, budget;
	int full;			/* the budget stopped the walk */
	struct rec_purge_stats count;	/* dry run: what would go */
	/* The user being reported, summed over transactions (see tally). */
	rec_purge_fn *fn;
	void *arg;
	char user[REC_USER_MAX];
	uint64_t user_codes, user_batches;
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
tally(struct run *p, const char *user, enum rec_purge_kind kind)
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
	if (kind == REC_PURGE_CODE)
		p->user_codes++;
	else if (kind == REC_PURGE_MARK)
		p->user_batches++;
}

static int
plan(struct run *p, const char *user, uint64_t batch, unsigned slot,
    enum rec_purge_kind kind)
{
	struct rec_purge_job *j;

	if (p->o->dry_run) {
		if (kind == REC_PURGE_CODE)
			p->count.codes++;
		else if (kind == REC_PURGE_MARK)
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
plan_batch(struct run *p, const char *user, const struct rec_batch *b,
    const struct rec_code_rec *codes, unsigned n)
{
	int whole = b->status != REC_BATCH_PURGED &&
	    dead(b, p->o->now, p->cutoff);
	int r;

	if (b->status == REC_BATCH_PURGED)
		return older(b->modified, p->cutoff) ?
		    plan(p, user, b->id, 0, REC_PURGE_DELETE) : REC_OK;
	for (unsigned i = 0; i < n; i++) {
		const struct rec_code_rec *c = &codes[i];

		if (!whole && (c->state == REC_CODE_UNUSED ||
		    !older(c->changed, p->cutoff)))
			continue;
		if ((r = plan(p, user, b->id, c->slot, REC_PURGE_CODE)) != REC_OK)
			return r;
	}
	return whole ? plan(p, user, b->id, 0, REC_PURGE_MARK) : REC_OK;
}

static int
visit(const char *user, const struct rec_batch *b,
    const struct rec_code_rec *codes, unsigned n, void *arg)
{
	struct run *p = arg;
	unsigned before = p->njobs;
	int r;

	if ((r = plan_batch(p, user, b, codes, n)) == REC_STOP) {
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

/* A step starts afresh: it may be run again from the start. */
static void
step_begin(void *arg)
{
	struct run *p = arg;

	p->njobs = 0;
	p->full = 0;
	memset(&p->count, 0, sizeof(p->count));
	snprintf(p->next_user, sizeof(p->next_user), "%s", p->after_user);
	p->next_id = p->after_id;
}

/* Count what the committed transaction did, in total and per user. */
static void
report(struct run *p, struct rec_purge_stats *s)
{
	for (unsigned i = 0; i < p->njobs; i++) {
		const struct rec_purge_job *j = &p->jobs[i];

		if (j->kind == REC_PURGE_CODE)
			s->codes++;
		else if (j->kind == REC_PURGE_MARK)
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

struct audit_arg {
	const struct rec_config *cfg;
	const struct rec_who *who;
	uint64_t now;
	const struct rec_purge_stats *s;
};

static int
purge_audit(const struct rec_store_done *d, struct rec_event *ev,
    unsigned max, unsigned *n, void *varg)
{
	const struct audit_arg *a = varg;
	char detail[96];

	(void)d;
	if (max < 1)
		return REC_ERR_INTERNAL;
	snprintf(detail, sizeof(detail), "%llu codes, %llu batches purged, "
	    "%llu deleted", (unsigned long long)a->s->codes,
	    (unsigned long long)a->s->batches_purged,
	    (unsigned long long)a->s->batches_deleted);
	*n = (unsigned)rec_auth_event(a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = REC_EV_PURGED, .detail = detail }, ev);
	return REC_OK;
}

/* Record the run in the audit trail, in one synced write. */
static int
purge_note(struct rec_store *st, const struct audit_arg *a)
{
	struct rec_store_done d = { REC_OK, 0, 0, 0 };
	struct rec_event ev;
	unsigned n = 0;
	int r;

	if ((r = purge_audit(&d, &ev, 1, &n, (void *)a)) != REC_OK)
		return r;
	return rec_store_event_append(st, &ev, n);
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
	struct rec_purge_walk w;
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
	memset(&w, 0, sizeof(w));
	w.after_user = p->after_user;
	w.now = o->now;
	w.begin = step_begin;
	w.batch = visit;
	w.arg = p;
	w.jobs = p->jobs;
	w.njobs = &p->njobs;
	for (;;) {
		w.after_id = p->after_id;
		p->budget = o->batch_size;
		if (o->max >= 0 && (uint64_t)o->max - done < p->budget)
			p->budget = (unsigned)((uint64_t)o->max - done);
		if (p->budget == 0 && !o->dry_run)
			break;
		r = rec_store_purge_step(st, &w, o->dry_run ? REC_WRITE_DRY :
		    0);
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
	    (r = purge_note(st, &aa)) != REC_OK)
		goto out;
	stats->batches_left = stats->codes_left = 0;
	r = rec_store_batch_each(st, NULL, count_left, stats);
out:
	/* What committed is reported, even when a later step failed. */
	if (p != NULL) {
		tally(p, NULL, REC_PURGE_CODE);
		free(p->jobs);
	}
	free(p);
	return r;
}

int
rec_purge_audit(struct rec_store *st, unsigned days, uint64_t now,
    unsigned batch_size, int dry_run, uint64_t *deleted)
{
	uint64_t keep = (uint64_t)days * 86400, from = 0, next = 0;
	unsigned n = 0;
	int more = 0, r = REC_ERR_INTERNAL;

	*deleted = 0;
	if (batch_size == 0)
		return REC_ERR_USAGE;
	do {
		if ((r = rec_store_event_purge(st, from, now > keep ?
		    now - keep : 0, batch_size, dry_run ? REC_WRITE_DRY : 0,
		    &n, &next, &more)) != REC_OK)
			break;
		*deleted += n;
		if (next == from)
			break;
		from = next;
	} while (more);
	return r;
}

struct forget {
	const struct rec_config *cfg;
	const struct rec_who *who;
	uint64_t now;
};

static int
forget_audit(const struct rec_store_done *d, struct rec_event *ev,
    unsigned max, unsigned *n, void *varg)
{
	const struct forget *f = varg;
	char detail[64];

	if (max < 1)
		return REC_ERR_INTERNAL;
	snprintf(detail, sizeof(detail), "%u records", d->changed);
	*n = (unsigned)rec_auth_event(f->cfg, f->who, f->now,
	    &(struct rec_mark){ .type = REC_EV_FORGOTTEN, .detail = detail },
	    ev);
	return REC_OK;
}

int
rec_purge_forget(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, uint64_t now, int dry_run, uint64_t *removed)
{
	struct forget f = { cfg, who, now };

	*removed = 0;
	if (st == NULL || who == NULL || who->user == NULL)
		return REC_ERR_USAGE;
	return rec_store_user_forget(st, who->user, dry_run ? REC_WRITE_DRY :
	    0, forget_audit, &f, removed);
}
