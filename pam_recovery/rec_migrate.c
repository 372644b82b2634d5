/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_migrate.c: copying a user's records from one store into another, through the store's operations only. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_migrate.h"

struct reading {
	struct rec_migrate_user *mu;
	int found;
	int err;		/* why the walk was stopped, for the log */
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
	struct rec_migrate_user *mu = rd->mu;
	struct rec_migrate_batch *mb;
	int cmp = strcmp(it->user, mu->user);

	/* Batches come in key order, a user's together. */
	if (cmp > 0)
		return REC_STOP;
	if (cmp < 0)
		return REC_OK;
	if (it->b->status == REC_BATCH_PURGED) {
		mu->purged++;
		return REC_OK;
	}
	if (it->codes_rc != REC_OK)
		return it->codes_rc;
	if (mu->nbatches == REC_MIGRATE_BATCHES) {
		rd->err = REC_ERR_USAGE;
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

int
rec_migrate_read(struct rec_store *src, const char *user,
    struct rec_migrate_user *mu)
{
	struct reading rd = { mu, 0, REC_OK };
	int r = REC_ERR_INTERNAL, have_active = 0;

	sodium_memzero(mu, sizeof(*mu));
	if (user == NULL || user[0] == '\0' || strlen(user) >= REC_USER_MAX)
		return REC_ERR_USAGE;
	memcpy(mu->user, user, strlen(user) + 1);
	r = rec_store_records_each(src, read_user, read_batch, &rd);
	if (r == REC_ERR_USAGE && rd.err == REC_ERR_USAGE)
		rec_logf(rec_store_log(src), LOG_ERR, "%s has more than %u "
		    "batches: purge old ones first", user, REC_MIGRATE_BATCHES);
	if (r != REC_OK)
		goto out;
	r = REC_ERR_NOSTORE;
	if (!rd.found)
		goto out;
	for (unsigned i = 0; i < mu->nbatches; i++)
		if (mu->batches[i].b.id == mu->u.active_batch)
			have_active = 1;
	r = REC_ERR_CORRUPT;
	if (mu->u.active_batch != 0 && !have_active) {
		rec_logf(rec_store_log(src), LOG_ERR, "%s's record names a "
		    "batch that is not there", user);
		goto out;
	}
	r = REC_OK;
out:
	if (r != REC_OK) {
		sodium_memzero(mu, sizeof(*mu));
		if (r == REC_ERR_NOSTORE)
			memcpy(mu->user, user, strlen(user) + 1);
	}
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
	/* Written by someone else since the first look: theirs stays. */
	if (r == REC_ERR_EXISTS) {
		res->skipped = 1;
		r = REC_OK;
	}
	return r;
}
