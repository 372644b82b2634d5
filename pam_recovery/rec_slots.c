/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_slots.c: each code of a user's active batch, and what the audit trail says of it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_slots.h"

struct read {
	const char *user;
	struct rec_slots *out;
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
	snprintf(s->host, sizeof(s->host), "%s", ev->host);
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

/* The slots of v's active batch at now, from its code records. */
static int
slots_of(const struct rec_view *v, uint64_t now, struct rec_slots *o)
{
	const struct rec_batch *b = &v->batch;
	int r, expired;

	if (!v->have_batch || b->status != REC_BATCH_ACTIVE)
		return REC_OK;
	if ((r = rec_batch_check_codes(b, v->codes, v->ncodes)) != REC_OK)
		return r;
	expired = b->expires != 0 && b->expires <= now;
	o->batch = b->id;
	o->expires = b->expires;
	o->n = b->count;
	for (unsigned i = 0; i < o->n; i++) {
		o->s[i].slot = i + 1;
		o->s[i].state = REC_SLOT_GONE;	/* no record: purged */
	}
	for (unsigned i = 0; i < v->ncodes; i++) {
		struct rec_slot *s = &o->s[v->codes[i].slot - 1];

		s->when = v->codes[i].changed;
		if (v->codes[i].state == REC_CODE_USED)
			s->state = REC_SLOT_USED;
		else if (v->codes[i].state == REC_CODE_INVALID)
			s->state = REC_SLOT_INVALIDATED;
		else {
			s->state = expired ? REC_SLOT_EXPIRED : REC_SLOT_UNUSED;
			s->when = 0;
		}
	}
	return REC_OK;
}

int
rec_slots_read(struct rec_store *st, const char *user, uint64_t now,
    struct rec_slots *out)
{
	struct read rd = { user, out };
	struct rec_view *v = NULL;
	int r = REC_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (st == NULL)
		return REC_OK;
	if ((v = sodium_malloc(sizeof(*v))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if ((r = rec_store_view(st, user, REC_VIEW_CODES, v)) ==
	    REC_ERR_NOSTORE) {
		r = REC_OK;
		goto out;
	}
	if (r != REC_OK || (r = slots_of(v, now, out)) != REC_OK ||
	    out->batch == 0)
		goto out;
	r = rec_store_event_each(st, user, 0, match, &rd);
out:
	if (r != REC_OK)
		memset(out, 0, sizeof(*out));
	sodium_free(v);
	return r;
}
