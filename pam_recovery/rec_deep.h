/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_deep.h: the invariants of a store, checked record against record (check --deep). */
#ifndef REC_DEEP_H
#define REC_DEEP_H

#include <stdint.h>

#include "rec_store.h"

/* Which invariant a finding breaks. */
enum rec_deep_kind {
	REC_DEEP_FOREIGN,	/* a record under another name, in a per-user store */
	REC_DEEP_NO_ACTIVE,	/* the user's active batch does not exist */
	REC_DEEP_ACTIVE_DEAD,	/* the user's active batch is not active */
	REC_DEEP_NO_USER,	/* a batch (not staged) of a user without a record */
	REC_DEEP_STRAY_ACTIVE,	/* an active batch that is not its user's */
	REC_DEEP_CODES_BAD,	/* code records that do not decode */
	REC_DEEP_SLOT_RANGE,	/* a code record's slot outside 1..count */
	REC_DEEP_SLOT_TWICE,	/* two code records of one slot */
	REC_DEEP_CODE_STATE,	/* a code record in an unknown state */
	REC_DEEP_PURGED_CODE,	/* a code record of a purged batch */
	REC_DEEP_DEAD_UNUSED,	/* an unused code of an invalidated batch */
	REC_DEEP_STATUS,	/* a batch in an unknown status */
	REC_DEEP_OVERCOUNT,	/* used + invalidated > count */
	REC_DEEP_USED,		/* more used code records than the batch counts */
	REC_DEEP_INVALIDATED,	/* more invalidated records than it counts */
	REC_DEEP_UNUSED,	/* unused records against count - used - invalidated */
};

/*
 * One broken invariant: where it is (batch 0: the user record; slot 0: the
 * batch) and a sentence saying what is wrong, as check --deep prints it
 * after the place.  Valid during the callback only.
 */
struct rec_finding {
	enum rec_deep_kind kind;
	const char *user;
	uint64_t batch;
	unsigned slot;
	char text[768];
};

typedef void rec_finding_fn(const struct rec_finding *f, void *arg);

/* What a deep check read. */
struct rec_deep_counts {
	unsigned long users, batches, codes, findings;
};

/*
 * Check st record against record in one read transaction: each user's
 * active batch exists and is active; each batch has a user record (unless
 * staged) and is the user's active one when active; its code records
 * decode, hold slots 1..count once each in a known state, none of a purged
 * batch and none unused of an invalidated one; its counters match its code
 * records (of a live batch, every unused code has its record; a batch is
 * live while active and not expired at now).  owner is the owner of a
 * per-user store (NULL for a system store): there a record under another
 * name is a finding too.  fn is called for each finding.  counts (may be
 * NULL) receives what was read, also when a store error stopped the walk.
 * Returns REC_OK (findings are not errors) or the store error.
 */
int rec_deep_check(struct rec_store *st, const char *owner, uint64_t now,
    rec_finding_fn *fn, void *arg, struct rec_deep_counts *counts);

#endif
