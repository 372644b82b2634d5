/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_purge.h: removing dead codes, batches and old events, step by step. */
#ifndef REC_PURGE_H
#define REC_PURGE_H

#include <stdint.h>

#include "rec_auth.h"

struct rec_purge_opts {
	uint64_t now;
	unsigned retention_days;	/* keep what changed more recently */
	unsigned batch_size;		/* most records one transaction deletes */
	long max;			/* most records one run deletes; -1 = all */
	int dry_run;			/* count, change nothing */
};

struct rec_purge_stats {
	uint64_t codes;		/* code records deleted (or that would be) */
	uint64_t batches_purged;	/* batches whose codes are all gone */
	uint64_t batches_deleted;	/* purged batch cards older than retention */
	uint64_t txns;		/* write transactions committed */
	uint64_t codes_left, batches_left; /* what remains afterwards */
	int complete;		/* 0 when --max stopped the run early */
};

/*
 * Called once per user the run removed something of (or, in a dry run,
 * would remove something of), with the user's counts summed over all of
 * the run's transactions.
 */
typedef void rec_purge_fn(const char *user, uint64_t codes, uint64_t batches,
    void *arg);

/*
 * Purge one store.  A batch is dead when it was invalidated, has expired, or
 * has no unused code left, and its last change is older than the retention:
 * its code records are deleted, then it is marked purged (its card stays for
 * history); a purged card older than the retention is deleted.  Of a live
 * batch, used and invalidated codes older than the retention are deleted.
 * Each write transaction deletes at most batch_size records, so logins wait
 * at most that long; the run stops after max records.  Every transaction
 * leaves the store consistent, so the run may be interrupted at any point
 * and the next one finishes the job; a second run finds nothing to do.  One
 * audit event (REC_EV_PURGED, actor from who) records a run that deleted
 * anything.  Returns REC_OK or a store error (stats say how far it got).
 */
int rec_purge(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_purge_opts *o,
    rec_purge_fn *fn, void *arg, struct rec_purge_stats *stats);

/*
 * Delete audit events older than days, at most batch_size per transaction.
 * *deleted receives the count.
 */
int rec_purge_audit(struct rec_store *st, unsigned days, uint64_t now,
    unsigned batch_size, int dry_run, uint64_t *deleted);

/*
 * Forget who->user in st (offboarding): delete the user's code records,
 * batch cards and user record (lock state) in one write transaction, and
 * append one REC_EV_FORGOTTEN event (actor from who) with the count; the
 * audit trail itself stays.  With dry_run, count and change nothing.
 * *removed receives the number of records (0: the user had none, and
 * nothing is audited).  Returns REC_OK or a store error.
 */
int rec_purge_forget(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, uint64_t now, int dry_run, uint64_t *removed);

#endif
