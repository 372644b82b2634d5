/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_deep.c: check --deep: every batch's counters against its codes. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "admin_check.h"
#include "rec_err.h"

/*
 * The deep walk of one store (--deep), in one read transaction: what the
 * counters of each batch say against its code records, and what each user
 * record says against its batches.  Code records hold hashes, so this lives
 * in guarded memory.
 */
struct deep {
	struct report *rp;
	struct rec_txn *t;
	const char *owner;	/* of a per-user store, or NULL */
	char what[REC_PATH_MAX + 16];
	uint64_t now;
	unsigned long n[4];	/* users, batches, codes, violations */
	struct rec_code_rec codes[REC_COUNT_MAX];
};

/* One violation: a FAIL line naming user, batch (0: none) and slot (0: none). */
static void
violation(struct deep *d, const char *user, uint64_t batch, unsigned slot,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
violation(struct deep *d, const char *user, uint64_t batch, unsigned slot,
    const char *fmt, ...)
{
	struct where w = { user, batch, slot, NULL };
	char msg[768], id[32], at[REC_USER_MAX + 64];
	va_list ap;

	if (++d->n[3] > DEEP_SHOWN)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (batch == 0)
		snprintf(at, sizeof(at), "user %s", user);
	else if (slot == 0)
		snprintf(at, sizeof(at), "user %s, batch %s", user,
		    tool_batch_id(batch, id, sizeof(id)));
	else
		snprintf(at, sizeof(at), "user %s, batch %s, slot %u", user,
		    tool_batch_id(batch, id, sizeof(id)), slot);
	admin_check_item(d->rp, FAIL, d->what, &w, "%s: %s", at, msg);
}

/* A record under another name than the owner's, in a per-user store. */
static void
foreign(struct deep *d, const char *user, uint64_t batch)
{
	if (d->owner != NULL && strcmp(user, d->owner) != 0)
		violation(d, user, batch, 0, "a record under another user's "
		    "name in %s's own store (forged: the owner can write "
		    "anything there)", d->owner);
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
deep_user(const char *user, const struct rec_user *u, void *arg)
{
	struct deep *d = arg;
	struct rec_batch b;
	int r;

	d->n[0]++;
	foreign(d, user, 0);
	if (u->active_batch == 0)
		return REC_OK;
	if ((r = rec_batch_get(d->t, user, u->active_batch, &b)) ==
	    REC_ERR_NOTFOUND) {
		violation(d, user, u->active_batch, 0, "the user's active "
		    "batch does not exist");
		return REC_OK;
	}
	if (r != REC_OK)
		return r;
	if (b.status != REC_BATCH_ACTIVE)
		violation(d, user, b.id, 0, "the user's active batch is %s",
		    rec_batch_status_name(&b, 0));
	return REC_OK;
}

/* One batch against its code records and its user. */
static int
deep_batch(const char *user, const struct rec_batch *b, void *arg)
{
	struct deep *d = arg;
	struct rec_user u;
	unsigned n = 0, k[3] = { 0, 0, 0 }, prev = 0, left;
	char sl[REC_COUNT_MAX * 4 + 1];
	int live, r;

	d->n[1]++;
	foreign(d, user, b->id);
	/* A first batch is staged before its user has a record. */
	if ((r = rec_user_get(d->t, user, &u)) == REC_ERR_NOTFOUND) {
		if (b->status != REC_BATCH_STAGED)
			violation(d, user, b->id, 0, "batch of a user the "
			    "store has no record of");
	} else if (r != REC_OK)
		return r;
	else if (b->status == REC_BATCH_ACTIVE && u.active_batch != b->id)
		violation(d, user, b->id, 0, "an active batch that is not the "
		    "user's active batch");
	if ((r = rec_coderec_get_all(d->t, user, b->id, d->codes, REC_COUNT_MAX,
	    &n)) == REC_ERR_CORRUPT) {
		violation(d, user, b->id, 0, "its code records do not decode "
		    "(or there are more than %u)", REC_COUNT_MAX);
		return REC_OK;
	}
	if (r != REC_OK)
		return r;
	d->n[2] += n;
	for (unsigned i = 0; i < n; i++) {
		const struct rec_code_rec *c = &d->codes[i];

		if (c->slot < 1 || c->slot > b->count)
			violation(d, user, b->id, c->slot, "slot outside "
			    "1..%u", b->count);
		else if (c->slot <= prev)
			violation(d, user, b->id, c->slot, "slot not unique");
		prev = c->slot;
		if (c->state > REC_CODE_INVALID)
			violation(d, user, b->id, c->slot, "unknown state %u",
			    c->state);
		else
			k[c->state]++;
		if (b->status == REC_BATCH_PURGED)
			violation(d, user, b->id, c->slot, "a code record of a "
			    "purged batch");
		else if (b->status == REC_BATCH_INVALIDATED &&
		    c->state == REC_CODE_UNUSED)
			violation(d, user, b->id, c->slot, "an unused code of "
			    "an invalidated batch");
	}
	if (b->status < REC_BATCH_ACTIVE || b->status > REC_BATCH_STAGED)
		violation(d, user, b->id, 0, "unknown status %u", b->status);
	if ((unsigned)b->used + b->invalidated > b->count) {
		violation(d, user, b->id, 0, "%u used + %u invalidated > "
		    "%u codes", b->used, b->invalidated, b->count);
		return REC_OK;
	}
	if (k[REC_CODE_USED] > b->used)
		violation(d, user, b->id, 0, "%u used code records (slots%s), "
		    "but the batch counts %u used", k[REC_CODE_USED],
		    slots_in(d, n, REC_CODE_USED, sl, sizeof(sl)), b->used);
	if (k[REC_CODE_INVALID] > b->invalidated)
		violation(d, user, b->id, 0, "%u invalidated code records "
		    "(slots%s), but the batch counts %u invalidated",
		    k[REC_CODE_INVALID], slots_in(d, n, REC_CODE_INVALID, sl,
		    sizeof(sl)), b->invalidated);
	/*
	 * Purge removes only used and invalidated codes of a live batch, so
	 * there every code the counters call unused has its record; of a
	 * dead batch the records go in any order.
	 */
	left = (unsigned)(b->count - b->used - b->invalidated);
	live = b->status == REC_BATCH_ACTIVE &&
	    (b->expires == 0 || b->expires > d->now);
	if (k[REC_CODE_UNUSED] > left || (live && k[REC_CODE_UNUSED] != left))
		violation(d, user, b->id, 0, "%u unused code records "
		    "(slots%s), but the batch counts %u of %u unused",
		    k[REC_CODE_UNUSED], slots_in(d, n, REC_CODE_UNUSED, sl,
		    sizeof(sl)), left, b->count);
	return REC_OK;
}

static int
deep_txn(struct rec_txn *t, void *arg)
{
	struct deep *d = arg;
	int r;

	d->t = t;
	if ((r = rec_user_each(t, deep_user, d)) != REC_OK)
		return r;
	return rec_batch_each(t, NULL, deep_batch, d);
}

/*
 * What a login needs besides the records: LMDB's free-page database, read
 * whole, and a write transaction (aborted).  A damaged free-page tree
 * fails every login while the records all read back fine.
 */
static void
deep_probe(struct report *rp, struct rec_store *st, const char *path)
{
	char what[REC_PATH_MAX + 32];
	unsigned long n = 0;
	int r;

	snprintf(what, sizeof(what), "%s (deep, free pages)", path);
	rp->captured[0] = '\0';
	r = rec_store_probe(st, &n);
	rp->deep_violations += r != REC_OK;
	if (r != REC_OK)
		admin_check_item(rp, FAIL, what, NULL, "a login's write would "
		    "fail: %s%s%s", rec_strerror(r), rp->captured[0] != '\0' ?
		    ": " : "", rp->captured);
	else
		admin_check_item(rp, OK, what, NULL, "%lu free-page entr%s "
		    "read; a write transaction works (aborted, nothing written)",
		    n, n == 1 ? "y" : "ies");
}

void
admin_check_deep(struct report *rp, struct rec_store *st, const char *path,
    const char *owner)
{
	struct deep *d;
	struct where w = { NULL, 0, 0, NULL };
	int r;

	if ((d = sodium_malloc(sizeof(*d))) == NULL) {
		admin_check_item(rp, FAIL, path, NULL, "deep check: out of memory");
		return;
	}
	memset(d, 0, sizeof(*d));
	d->rp = rp;
	d->owner = owner;
	d->now = (uint64_t)time(NULL);
	snprintf(d->what, sizeof(d->what), "%s (deep)", path);
	rp->captured[0] = '\0';
	r = rec_store_read(st, deep_txn, d);
	rp->deep_stores++;
	rp->deep_violations += d->n[3] + (r != REC_OK);
	w.summary = d->n;
	if (r != REC_OK)
		admin_check_item(rp, FAIL, d->what, &w, "stopped after %lu users and "
		    "%lu batches: %s", d->n[0], d->n[1], rp->captured[0] !=
		    '\0' ? rp->captured : rec_strerror(r));
	else if (d->n[3] > DEEP_SHOWN)
		admin_check_item(rp, FAIL, d->what, &w, "%lu users, %lu batches, %lu "
		    "code records: %lu violations (the first %d shown)",
		    d->n[0], d->n[1], d->n[2], d->n[3], DEEP_SHOWN);
	else if (d->n[3] > 0)
		admin_check_item(rp, FAIL, d->what, &w, "%lu users, %lu batches, %lu "
		    "code records: %lu violation%s", d->n[0], d->n[1],
		    d->n[2], d->n[3], d->n[3] == 1 ? "" : "s");
	else
		admin_check_item(rp, OK, d->what, &w, "%lu users, %lu batches, %lu "
		    "code records: the counters match the codes, every active "
		    "batch is its user's", d->n[0], d->n[1], d->n[2]);
	sodium_memzero(d, sizeof(*d));
	sodium_free(d);
	deep_probe(rp, st, path);
}

