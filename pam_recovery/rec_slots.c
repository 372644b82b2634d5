/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_slots.c: each code of a user's active batch, and what the audit trail says of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_store_lmdb.h"
#include "rec_err.h"
#include "rec_slots.h"

struct read {
	const char *user;
	uint64_t now;
	struct rec_slots *out;
	struct rec_code_rec codes[REC_COUNT_MAX];
};

const char *
rec_slot_state_name(enum rec_slot_state s)
{
	switch (s) {
	case REC_SLOT_UNUSED:		return "unused";
	case REC_SLOT_USED:		return "used";
	case REC_SLOT_INVALIDATED:	return "invalidated";
	case REC_SLOT_EXPIRED:		return "expired";
	case REC_SLOT_GONE:		return "gone";
	}
	return "unknown";
}

static void
take(struct rec_slot *s, const struct rec_event *ev)
{
	s->audited = 1;
	snprintf(s->service, sizeof(s->service), "%s", ev->service);
	snprintf(s->rhost, sizeof(s->rhost), "%s", ev->rhost);
	snprintf(s->actor, sizeof(s->actor), "%s", ev->actor);
	if (s->when == 0)
		s->when = ev->time;
}

/* The events of this user's active batch that say who used or invalidated. */
static int
match(uint64_t seq, const struct rec_event *ev, void *arg)
{
	struct read *rd = arg;
	struct rec_slots *o = rd->out;

	(void)seq;
	if (ev->batch != o->batch || strcmp(ev->user, rd->user) != 0)
		return REC_OK;
	if (ev->type == REC_EV_CODE_USED && ev->slot >= 1 && ev->slot <= o->n &&
	    (o->s[ev->slot - 1].state == REC_SLOT_USED ||
	    o->s[ev->slot - 1].state == REC_SLOT_GONE))
		take(&o->s[ev->slot - 1], ev);
	else if (ev->type == REC_EV_INVALIDATED) {
		/* One code by slot; several at once by the moment they went. */
		for (unsigned i = 0; i < o->n; i++)
			if ((o->s[i].state == REC_SLOT_INVALIDATED &&
			    (ev->slot != 0 ? ev->slot == i + 1 :
			    o->s[i].when == ev->time)) ||
			    (o->s[i].state == REC_SLOT_GONE && ev->slot == i + 1))
				take(&o->s[i], ev);
	}
	return REC_OK;
}

static int
read_txn(struct rec_txn *t, void *arg)
{
	struct read *rd = arg;
	struct rec_slots *o = rd->out;
	struct rec_user u;
	struct rec_batch b;
	unsigned n = 0;
	int r, expired;

	memset(o, 0, sizeof(*o));
	if ((r = rec_batch_get_active(t, rd->user, &u, &b)) != REC_OK)
		return r == REC_ERR_NOSTORE ? REC_OK : r;
	if (b.status != REC_BATCH_ACTIVE)
		return REC_OK;
	if ((r = rec_coderec_get_all(t, rd->user, b.id, rd->codes,
	    REC_COUNT_MAX,
	    &n)) != REC_OK || (r = rec_batch_check_codes(&b, rd->codes, n)) !=
	    REC_OK)
		return r;
	expired = b.expires != 0 && b.expires <= rd->now;
	o->batch = b.id;
	o->expires = b.expires;
	o->n = b.count;
	for (unsigned i = 0; i < o->n; i++) {
		o->s[i].slot = i + 1;
		o->s[i].state = REC_SLOT_GONE;	/* no record: purged */
	}
	for (unsigned i = 0; i < n; i++) {
		struct rec_slot *s = &o->s[rd->codes[i].slot - 1];

		s->when = rd->codes[i].changed;
		if (rd->codes[i].state == REC_CODE_USED)
			s->state = REC_SLOT_USED;
		else if (rd->codes[i].state == REC_CODE_INVALID)
			s->state = REC_SLOT_INVALIDATED;
		else {
			s->state = expired ? REC_SLOT_EXPIRED : REC_SLOT_UNUSED;
			s->when = 0;
		}
	}
	return rec_event_each(t, match, rd);
}

int
rec_slots_read(struct rec_store *st, const char *user, uint64_t now,
    struct rec_slots *out)
{
	struct read *rd;
	int r;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return REC_OK;
	if ((rd = calloc(1, sizeof(*rd))) == NULL)
		return REC_ERR_NOMEM;
	rd->user = user;
	rd->now = now;
	rd->out = out;
	r = rec_store_read(st, read_txn, rd);
	free(rd);
	return r;
}
