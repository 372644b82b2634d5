/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_slots.h: each code of a user's active batch, and what the audit trail says of it. */
#ifndef REC_SLOTS_H
#define REC_SLOTS_H

#include <stdint.h>

#include "rec_record.h"
#include "rec_store.h"

enum rec_slot_state {
	REC_SLOT_UNUSED,	/* can still be used */
	REC_SLOT_USED,
	REC_SLOT_INVALIDATED,
	REC_SLOT_EXPIRED,	/* unused, but the batch has expired */
	REC_SLOT_GONE,		/* used or invalidated, its record purged */
};

struct rec_slot {
	unsigned slot;			/* 1..count */
	enum rec_slot_state state;
	uint64_t when;			/* used or invalidated at; 0 = unknown */
	int audited;			/* the fields below come from an event */
	char service[REC_FIELD_MAX], rhost[REC_FIELD_MAX];
	char actor[REC_FIELD_MAX];	/* who invalidated; "" = the user */
	char host[REC_FIELD_MAX];	/* the event's host (a directory
					   store's); "" = not recorded */
};

struct rec_slots {
	uint64_t batch;			/* the active batch; 0 = none */
	uint64_t expires;		/* 0 = never */
	unsigned n;			/* = the batch's count */
	struct rec_slot s[REC_COUNT_MAX];
};

/* "unused", "used", "invalidated", "expired" or "gone". */
const char *rec_slot_state_name(enum rec_slot_state s);

/*
 * Fill out with one entry per code of user's active batch at now, in slot
 * order: its state from the code record (one view of the user), and for a
 * used code its service and rhost, for an invalidated one who did it, from
 * the audit trail read after it (matched by batch and slot, or by batch and time
 * for an invalidation of several codes at once); audited is 0 when the
 * trail has no such event (audit = no, or audit events purged).  A user
 * without an active batch gets batch 0 and n 0.  Returns REC_OK or a store
 * error (REC_ERR_CORRUPT for code records that do not match their batch).
 */
int rec_slots_read(struct rec_store *st, const char *user, uint64_t now,
    struct rec_slots *out);

#endif
