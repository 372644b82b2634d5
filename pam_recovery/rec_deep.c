/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_deep.c: the invariants of a store, checked record against record (check --deep). */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "rec_deep.h"
#include "rec_err.h"

/* The walk of one store, in one consistent read (rec_store_records_each). */
struct deep {
	const char *owner;	/* of a per-user store, or NULL */
	uint64_t now;
	rec_finding_fn *fn;
	void *arg;
	struct rec_deep_counts n;
	struct rec_finding f;
	const struct rec_code_rec *codes;	/* of the batch looked at */
};

static void finding(struct deep *, enum rec_deep_kind, const char *, uint64_t,
    unsigned, const char *, ...) __attribute__((format(printf, 6, 7)));

static void
finding(struct deep *d, enum rec_deep_kind kind, const char *user,
    uint64_t batch, unsigned slot, const char *fmt, ...)
{
	va_list ap;

	d->n.findings++;
	memset(&d->f, 0, sizeof(d->f));
	d->f.kind = kind;
	d->f.user = user;
	d->f.batch = batch;
	d->f.slot = slot;
	va_start(ap, fmt);
	vsnprintf(d->f.text, sizeof(d->f.text), fmt, ap);
	va_end(ap);
	d->fn(&d->f, d->arg);
}

/* A record under another name than the owner's, in a per-user store. */
static void
foreign(struct deep *d, const char *user, uint64_t batch)
{
	if (d->owner != NULL && strcmp(user, d->owner) != 0)
		finding(d, REC_DEEP_FOREIGN, user, batch, 0, "a record under "
		    "another user's name in %s's own store (forged: the owner "
		    "can write anything there)", d->owner);
}

/* The slots of the codes in state st, as " 1 4 5", into buf. */
static const char *
slots_in(const struct deep *d, unsigned n, int st, char *buf, size_t len)
{
	size_t used = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < n && used + 5 < len; i++)
		if (d->codes[i].state == st)
			used += (size_t)snprintf(buf + used, len - used, " %u",
			    d->codes[i].slot);
	return buf;
}

/* A user's active batch exists and is active. */
static int
deep_user(const struct rec_store_item *it, void *arg)
{
	struct deep *d = arg;
	const char *user = it->user;

	d->n.users++;
	foreign(d, user, 0);
	if (it->u->active_batch == 0)
		return REC_OK;
	if (it->b_rc != REC_OK && it->b_rc != REC_ERR_NOTFOUND)
		return it->b_rc;
	if (it->b == NULL) {
		finding(d, REC_DEEP_NO_ACTIVE, user, it->u->active_batch, 0,
		    "the user's active batch does not exist");
		return REC_OK;
	}
	if (it->b->status != REC_BATCH_ACTIVE)
		finding(d, REC_DEEP_ACTIVE_DEAD, user, it->b->id, 0, "the "
		    "user's active batch is %s",
		    rec_batch_status_name(it->b, 0));
	return REC_OK;
}

/* The code records of b, one by one: slots and states. */
static void
deep_codes(struct deep *d, const char *user, const struct rec_batch *b,
    unsigned n, unsigned k[3])
{
	unsigned prev = 0;

	for (unsigned i = 0; i < n; i++) {
		const struct rec_code_rec *c = &d->codes[i];

		if (c->slot < 1 || c->slot > b->count)
			finding(d, REC_DEEP_SLOT_RANGE, user, b->id, c->slot,
			    "slot outside 1..%u", b->count);
		else if (c->slot <= prev)
			finding(d, REC_DEEP_SLOT_TWICE, user, b->id, c->slot,
			    "slot not unique");
		prev = c->slot;
		if (c->state > REC_CODE_INVALID)
			finding(d, REC_DEEP_CODE_STATE, user, b->id, c->slot,
			    "unknown state %u", c->state);
		else
			k[c->state]++;
		if (b->status == REC_BATCH_PURGED)
			finding(d, REC_DEEP_PURGED_CODE, user, b->id, c->slot,
			    "a code record of a purged batch");
		else if (b->status == REC_BATCH_INVALIDATED &&
		    c->state == REC_CODE_UNUSED)
			finding(d, REC_DEEP_DEAD_UNUSED, user, b->id, c->slot,
			    "an unused code of an invalidated batch");
	}
}

/* One batch against its code records and its user. */
static int
deep_batch(const struct rec_store_item *it, void *arg)
{
	struct deep *d = arg;
	const char *user = it->user;
	const struct rec_batch *b = it->b;
	unsigned n = it->ncodes, k[3] = { 0, 0, 0 }, left;
	char sl[REC_COUNT_MAX * 4 + 1];
	int live;

	d->n.batches++;
	foreign(d, user, b->id);
	/* A first batch is staged before its user has a record. */
	if (it->u == NULL) {
		if (b->status != REC_BATCH_STAGED)
			finding(d, REC_DEEP_NO_USER, user, b->id, 0, "batch "
			    "of a user the store has no record of");
	} else if (b->status == REC_BATCH_ACTIVE &&
	    it->u->active_batch != b->id)
		finding(d, REC_DEEP_STRAY_ACTIVE, user, b->id, 0, "an active "
		    "batch that is not the user's active batch");
	if (it->codes_rc == REC_ERR_CORRUPT) {
		finding(d, REC_DEEP_CODES_BAD, user, b->id, 0, "its code "
		    "records do not decode (or there are more than %u)",
		    REC_COUNT_MAX);
		return REC_OK;
	}
	d->codes = it->codes;
	d->n.codes += n;
	deep_codes(d, user, b, n, k);
	if (b->status < REC_BATCH_ACTIVE || b->status > REC_BATCH_STAGED)
		finding(d, REC_DEEP_STATUS, user, b->id, 0, "unknown status %u",
		    b->status);
	if ((unsigned)b->used + b->invalidated > b->count) {
		finding(d, REC_DEEP_OVERCOUNT, user, b->id, 0, "%u used + %u "
		    "invalidated > %u codes", b->used, b->invalidated,
		    b->count);
		return REC_OK;
	}
	if (k[REC_CODE_USED] > b->used)
		finding(d, REC_DEEP_USED, user, b->id, 0, "%u used code "
		    "records (slots%s), but the batch counts %u used",
		    k[REC_CODE_USED], slots_in(d, n, REC_CODE_USED, sl,
		    sizeof(sl)), b->used);
	if (k[REC_CODE_INVALID] > b->invalidated)
		finding(d, REC_DEEP_INVALIDATED, user, b->id, 0, "%u "
		    "invalidated code records (slots%s), but the batch counts "
		    "%u invalidated", k[REC_CODE_INVALID], slots_in(d, n,
		    REC_CODE_INVALID, sl, sizeof(sl)), b->invalidated);
	/*
	 * Purge removes only used and invalidated codes of a live batch, so
	 * there every code the counters call unused has its record; of a
	 * dead batch the records go in any order.
	 */
	left = (unsigned)(b->count - b->used - b->invalidated);
	live = b->status == REC_BATCH_ACTIVE &&
	    (b->expires == 0 || b->expires > d->now);
	if (k[REC_CODE_UNUSED] > left || (live && k[REC_CODE_UNUSED] != left))
		finding(d, REC_DEEP_UNUSED, user, b->id, 0, "%u unused code "
		    "records (slots%s), but the batch counts %u of %u unused",
		    k[REC_CODE_UNUSED], slots_in(d, n, REC_CODE_UNUSED, sl,
		    sizeof(sl)), left, b->count);
	return REC_OK;
}

int
rec_deep_check(struct rec_store *st, const char *owner, uint64_t now,
    rec_finding_fn *fn, void *arg, struct rec_deep_counts *counts)
{
	struct deep *d = NULL;
	int r = REC_ERR_INTERNAL;

	if (counts != NULL)
		memset(counts, 0, sizeof(*counts));
	if ((d = sodium_malloc(sizeof(*d))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	memset(d, 0, sizeof(*d));
	d->owner = owner;
	d->now = now;
	d->fn = fn;
	d->arg = arg;
	r = rec_store_records_each(st, deep_user, deep_batch, d);
	if (counts != NULL)
		*counts = d->n;
out:
	if (d != NULL) {
		sodium_memzero(d, sizeof(*d));
		sodium_free(d);
	}
	return r;
}
