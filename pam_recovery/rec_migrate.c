/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_migrate.c: copying a user's records from one store into another, through the store's operations only. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_migrate.h"

/*
 * Add batch it->b with its code records to mu: REC_OK (a purged batch is
 * counted and left out), the error of its code records, or REC_ERR_USAGE
 * (logged) past REC_MIGRATE_BATCHES.
 */
static int
add_batch(struct rec_migrate_user *mu, const struct rec_store_item *it,
    const struct rec_log *log)
{
	struct rec_migrate_batch *mb;

	if (it->b->status == REC_BATCH_PURGED) {
		mu->purged++;
		return REC_OK;
	}
	if (it->codes_rc != REC_OK)
		return it->codes_rc;
	if (mu->nbatches == REC_MIGRATE_BATCHES) {
		rec_logf(log, LOG_ERR, "%s has more than %u batches: purge old "
		    "ones first", mu->user, REC_MIGRATE_BATCHES);
		return REC_ERR_USAGE;
	}
	mb = &mu->batches[mu->nbatches++];
	mb->b = *it->b;
	mb->ncodes = it->ncodes;
	memcpy(mb->codes, it->codes, it->ncodes * sizeof(mb->codes[0]));
	if (it->b->peppered)
		mu->peppered++;
	return REC_OK;
}

/* The read of mu is complete: REC_OK, or REC_ERR_CORRUPT (logged). */
static int
check_user(const struct rec_migrate_user *mu, const struct rec_log *log)
{
	if (mu->u.active_batch == 0)
		return REC_OK;
	for (unsigned i = 0; i < mu->nbatches; i++)
		if (mu->batches[i].b.id == mu->u.active_batch)
			return REC_OK;
	rec_logf(log, LOG_ERR, "%s's record names a batch that is not there",
	    mu->user);
	return REC_ERR_CORRUPT;
}

struct reading {
	struct rec_migrate_user *mu;
	const struct rec_log *log;
	int found;
};

static int
read_user(const struct rec_store_item *it, void *arg)
{
	struct reading *rd = arg;

	if (strcmp(it->user, rd->mu->user) != 0 || it->u == NULL)
		return REC_OK;
	rd->mu->u = *it->u;
	rd->found = 1;
	return REC_OK;
}

static int
read_batch(const struct rec_store_item *it, void *arg)
{
	struct reading *rd = arg;
	int cmp = strcmp(it->user, rd->mu->user);

	/* Batches come in key order, a user's together. */
	if (cmp > 0)
		return REC_STOP;
	if (cmp < 0)
		return REC_OK;
	return add_batch(rd->mu, it, rd->log);
}

int
rec_migrate_read(struct rec_store *src, const char *user,
    struct rec_migrate_user *mu)
{
	struct reading rd = { mu, rec_store_log(src), 0 };
	int r = REC_ERR_INTERNAL;

	sodium_memzero(mu, sizeof(*mu));
	if (user == NULL || user[0] == '\0' || strlen(user) >= REC_USER_MAX)
		return REC_ERR_USAGE;
	memcpy(mu->user, user, strlen(user) + 1);
	r = rec_store_records_each(src, read_user, read_batch, &rd);
	if (r == REC_OK)
		r = rd.found ? check_user(mu, rd.log) : REC_ERR_NOSTORE;
	if (r != REC_OK) {
		sodium_memzero(mu, sizeof(*mu));
		memcpy(mu->user, user, strlen(user) + 1);
	}
	return r;
}

/* One walk over a whole store: the user records first, then the batches. */
struct walking {
	struct rec_migrate_user *mu;
	const struct rec_log *log;
	rec_migrate_fn *fn;
	void *arg;
	struct walked {
		char name[REC_USER_MAX];
		struct rec_user u;
	} *users;
	size_t n, cap;
	size_t next;		/* the first user not yet given to fn */
	int started;		/* mu holds users[next], rc its reading */
	int rc;
};

static int
walk_user(const struct rec_store_item *it, void *arg)
{
	struct walking *w = arg;
	struct walked *more;

	if (it->u == NULL)
		return REC_OK;
	if (w->n == w->cap) {
		w->cap = w->cap ? 2 * w->cap : 64;
		if ((more = realloc(w->users, w->cap * sizeof(*more))) == NULL)
			return REC_ERR_NOMEM;
		w->users = more;
	}
	snprintf(w->users[w->n].name, REC_USER_MAX, "%s", it->user);
	w->users[w->n].u = *it->u;
	w->n++;
	return REC_OK;
}

/* Make mu users[next]'s, empty. */
static void
walk_start(struct walking *w)
{
	sodium_memzero(w->mu, sizeof(*w->mu));
	memcpy(w->mu->user, w->users[w->next].name, REC_USER_MAX);
	w->mu->u = w->users[w->next].u;
	w->rc = REC_OK;
	w->started = 1;
}

/* Give users[next] to fn, read to the end, and go to the next. */
static int
walk_flush(struct walking *w)
{
	int r;

	if (!w->started)
		walk_start(w);
	if (w->rc == REC_OK)
		w->rc = check_user(w->mu, w->log);
	r = w->fn(w->rc, w->mu, w->arg);
	sodium_memzero(w->mu, sizeof(*w->mu));
	w->started = 0;
	w->next++;
	return r;
}

static int
walk_batch(const struct rec_store_item *it, void *arg)
{
	struct walking *w = arg;
	int r;

	/* Users before this batch's are complete (key order: by name). */
	while (w->next < w->n && strcmp(w->users[w->next].name,
	    it->user) < 0)
		if ((r = walk_flush(w)) != REC_OK)
			return r;
	/* Batches of no user's record are left behind, as by the read. */
	if (w->next == w->n || strcmp(w->users[w->next].name, it->user) != 0)
		return REC_OK;
	if (!w->started)
		walk_start(w);
	if (w->rc == REC_OK)
		w->rc = add_batch(w->mu, it, w->log);
	return REC_OK;
}

int
rec_migrate_read_each(struct rec_store *src, struct rec_migrate_user *mu,
    rec_migrate_fn *fn, void *arg)
{
	struct walking w;
	int r = REC_ERR_INTERNAL;

	memset(&w, 0, sizeof(w));
	w.mu = mu;
	w.log = rec_store_log(src);
	w.fn = fn;
	w.arg = arg;
	r = rec_store_records_each(src, walk_user, walk_batch, &w);
	while (r == REC_OK && w.next < w.n)
		r = walk_flush(&w);
	sodium_memzero(mu, sizeof(*mu));
	free(w.users);
	return r;
}

struct migrated {
	const struct rec_config *cfg;
	const struct rec_who *who;
	uint64_t now;
	char detail[REC_FIELD_MAX];
};

static int
migrated_audit(const struct rec_store_done *d, struct rec_event *ev,
    unsigned max, unsigned *n, void *arg)
{
	const struct migrated *m = arg;

	if (max < 1)
		return REC_ERR_INTERNAL;
	*n = (unsigned)rec_auth_event(m->cfg, m->who, m->now,
	    &(struct rec_mark){ .type = REC_EV_ADMIN, .batch = d->batch,
	    .detail = m->detail }, ev);
	return REC_OK;
}

int
rec_migrate_write(struct rec_store *dst, const struct rec_migrate_user *mu,
    const struct rec_config *cfg, const struct rec_who *who,
    const char *from, uint64_t now, unsigned flags,
    struct rec_migrate_result *res)
{
	struct migrated m = { cfg, who, now, "" };
	const struct rec_migrate_batch *mb;
	int r = REC_ERR_INTERNAL;

	memset(res, 0, sizeof(*res));
	/* *mu may come from a user's child: nothing in it is taken on trust. */
	if (memchr(mu->user, '\0', sizeof(mu->user)) == NULL ||
	    mu->user[0] == '\0' || mu->nbatches > REC_MIGRATE_BATCHES)
		return REC_ERR_CORRUPT;
	for (unsigned i = 0; i < mu->nbatches; i++)
		if (mu->batches[i].ncodes > REC_COUNT_MAX)
			return REC_ERR_CORRUPT;
	for (unsigned i = 0; i < mu->nbatches; i++) {
		mb = &mu->batches[i];
		res->batches++;
		for (unsigned k = 0; k < mb->ncodes; k++)
			switch (mb->codes[k].state) {
			case REC_CODE_UNUSED:
				res->unused++;
				break;
			case REC_CODE_USED:
				res->used++;
				break;
			default:
				res->invalid++;
				break;
			}
	}
	/* A destination not made yet holds nobody. */
	if (dst == NULL)
		return (flags & REC_MIGRATE_DRY) ? REC_OK : REC_ERR_USAGE;
	/* A record there already is someone's: never overwritten. */
	r = rec_store_user_put(dst, mu->user, &mu->u, REC_WRITE_DRY, NULL,
	    NULL);
	if (r == REC_ERR_EXISTS) {
		res->skipped = 1;
		return REC_OK;
	}
	if (r != REC_OK || (flags & REC_MIGRATE_DRY))
		return r;
	for (unsigned i = 0; i < mu->nbatches; i++) {
		mb = &mu->batches[i];
		r = rec_store_batch_put(dst, mu->user, &mb->b, mb->codes,
		    mb->ncodes);
		if (r == REC_ERR_EXISTS)
			rec_logf(rec_store_log(dst), LOG_ERR, "%s: a batch of "
			    "the copy is there already (an earlier copy that "
			    "stopped half-way?): forget %s there, then copy "
			    "again", mu->user, mu->user);
		if (r != REC_OK)
			return r;
	}
	snprintf(m.detail, sizeof(m.detail), "migrated from %s: %u batches",
	    from, mu->nbatches);
	r = rec_store_user_put(dst, mu->user, &mu->u, 0, migrated_audit, &m);
	/*
	 * Given a record by someone else since the first look: theirs
	 * stays, and the batches copied lie beside it, named by no record.
	 */
	if (r == REC_ERR_EXISTS)
		rec_logf(rec_store_log(dst), LOG_ERR, "%s was given a record "
		    "in the destination while the copy ran: it stays, and the "
		    "batches copied are there unused", mu->user);
	return r;
}
