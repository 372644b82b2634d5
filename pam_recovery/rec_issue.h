/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_issue.h: issuing a new batch of codes, invalidating codes, and reading a user's batches back. */
#ifndef REC_ISSUE_H
#define REC_ISSUE_H

#include <stdint.h>

#include "rec_auth.h"

/* A freshly generated batch: the only place codes ever exist in clear. */
struct rec_new_batch {
	struct rec_batch batch;
	char codes[REC_COUNT_MAX][REC_CODE_MAX + 1]; /* normalised */
	struct rec_code_rec recs[REC_COUNT_MAX];     /* what the store keeps */
	unsigned flags;				     /* enum rec_issue_flags */
};

enum rec_issue_flags {
	REC_GEN_REPLACE = 1 << 0,	/* replace an active batch with codes left */
};

/* What to issue: the options of rec_issue_generate and rec_issue_prepare. */
struct rec_issue_req {
	const unsigned char *pepper;	/* REC_PEPPER_LEN bytes, or NULL */
	unsigned count;			/* 1..REC_COUNT_MAX codes */
	unsigned expires_days;		/* 0: never */
	uint64_t now;
	unsigned flags;			/* enum rec_issue_flags */
};

/*
 * Generate `count` codes (1..REC_COUNT_MAX) in the configured format, hash
 * them at the configured cost outside any transaction, and store them as the
 * user's new active batch, invalidating the previous one, in one write
 * transaction.  expires_days 0 means never.  Without REC_GEN_REPLACE an
 * active batch that still has unused codes is kept and REC_ERR_EXISTS
 * returned.  generate_cooldown is enforced (REC_ERR_COOLDOWN, with the wait
 * in *wait when wait is not NULL).  The caller must rec_new_batch_wipe(out)
 * on every path.
 */
int rec_issue_generate(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_issue_req *req,
    struct rec_new_batch *out, uint64_t *wait);

/*
 * The same in steps, so that a tool shows or saves only codes that are
 * already stored, and never activates codes nobody saw:
 *
 * rec_issue_prepare() checks the cooldown and the replace rule and makes
 * and hashes the codes (batch id and times included) without storing
 * anything.
 *
 * rec_issue_stage() stores the batch and its codes durably (a synced
 * commit), as a staged batch that no login accepts; the old batch stays
 * active.  This is where a full disk or a read-only store fails, before any
 * code is shown.  Both rules are checked again (REC_ERR_COOLDOWN,
 * REC_ERR_EXISTS) but not taken.
 *
 * rec_issue_commit(), once the codes were shown or saved, activates the
 * staged batch: it takes the cooldown, invalidates the old batch and makes
 * the new one active, checking both rules again under the write lock, in
 * one small write transaction.  Set nb->batch.exported before to record how
 * the codes were shown.
 *
 * rec_issue_discard() removes the staged batch and its codes when the
 * codes could not be shown or saved, or the commit failed; a batch already
 * active is left alone.  A staged batch left by a process that died goes at
 * the next purge after the retention (rec_purge.h).
 */
int rec_issue_prepare(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_issue_req *req,
    struct rec_new_batch *out, uint64_t *wait);
int rec_issue_stage(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, struct rec_new_batch *nb, uint64_t now,
    uint64_t *wait);
int rec_issue_commit(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, struct rec_new_batch *nb, uint64_t now,
    uint64_t *wait);
int rec_issue_discard(struct rec_store *st, const struct rec_who *who,
    struct rec_new_batch *nb);

/* Wipe the codes of a new batch; NULL is accepted. */
void rec_new_batch_wipe(struct rec_new_batch *nb);

/*
 * Invalidate the given slots (nslots of them) of the user's active batch, or
 * the whole batch when nslots is 0.  REC_ERR_NOTFOUND for a slot that does
 * not exist, REC_ERR_NOSTORE when there is no active batch.
 */
int rec_issue_invalidate(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const unsigned *slots, unsigned nslots,
    uint64_t now);

/* Record that the active batch was exported as `how` (enum rec_exported). */
int rec_issue_mark_exported(struct rec_store *st, const char *user,
    uint64_t batch, uint32_t how, uint64_t now);

/* The state of each code of a user's active batch, as invalidate reads it first. */
struct rec_states {
	uint64_t batch;
	unsigned count, remaining;
	uint8_t state[REC_COUNT_MAX + 1];	/* enum rec_code_state, by slot */
};

/*
 * Fill out with user's active batch and the state of each of its codes
 * from their records (a slot without a record reads as unused), in one
 * view (rec_store_view).  Returns REC_OK, REC_ERR_NOSTORE when the user has no
 * active batch, or a store error.
 */
int rec_issue_states_read(struct rec_store *st, const char *user,
    struct rec_states *out);

/* Every batch of a user, as history shows them. */
struct rec_batches {
	uint64_t active;		/* the user's active batch, 0 = none */
	struct rec_batch *v;		/* in key order */
	size_t n, cap;
};

/*
 * Fill out with the user's active batch id (one view) and every batch the
 * store keeps of user (one walk after it).  out starts empty ({ 0 }) and
 * is released with rec_issue_batches_free on every path.  Returns REC_OK,
 * REC_ERR_NOMEM or a store error.
 */
int rec_issue_batches_read(struct rec_store *st, const char *user,
    struct rec_batches *out);
void rec_issue_batches_free(struct rec_batches *bs);

#endif
