/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap_issue.c: the directory backend: generate and invalidate. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_store_ldap_int.h"

/*
 * A directory applies one Modify per entry atomically and has no
 * transaction over several: each step below is one asserted Modify
 * (rec_ldap_issue.c), decided on what was read over the write connection
 * just before, and a step whose assertion no longer holds (another host
 * changed the entry) is read and judged again, a bounded number of times.
 * Where an operation changes several entries, the order is the one that
 * fails closed when it stops half-way (a crash, a lost connection, a lost
 * race): a code stops working before anything new starts to.
 */

#define ISSUE_ROUNDS 32		/* rounds of a contended step */
#define ISSUE_EVENTS 2		/* events one change records */

static struct rec_ldap_issue *
iss_new(void)
{
	return calloc(1, sizeof(struct rec_ldap_issue));
}

static void
iss_free(struct rec_ldap_issue *iss)
{
	if (iss != NULL) {
		sodium_memzero(iss, sizeof(*iss));
		free(iss);
	}
}

/*
 * Record audit's events for d below their users' entries, after the change
 * (the directory cannot add them in the same Modify).  An event that
 * cannot be recorded is a store error: the change stands, but the caller
 * is not told all went well.
 */
static int
issue_audit(struct rec_store_ldap *s, struct rec_ldap *c,
    rec_store_audit_fn *audit, void *arg, const struct rec_store_done *d)
{
	struct rec_event ev[ISSUE_EVENTS];
	unsigned n = 0;
	int r = REC_OK;

	if (audit == NULL)
		return REC_OK;
	memset(ev, 0, sizeof(ev));
	if ((r = audit(d, ev, ISSUE_EVENTS, &n, arg)) != REC_OK)
		goto out;
	for (unsigned i = 0; i < n && i < ISSUE_EVENTS; i++)
		if ((r = rec_ldap_audit(c, &ev[i], s->cfg.host_name)) !=
		    REC_OK) {
			rec_logf(s->base.log, LOG_ERR, "directory store: user "
			    "%s: the change was made but its audit event "
			    "could not be recorded", ev[i].user);
			goto out;
		}
out:
	sodium_memzero(ev, sizeof(ev));
	return r;
}

/* The user's active batch as fn judges it; REC_ERR_CORRUPT if it is gone. */
static int
issue_active(const struct rec_ldap_issue *iss, const struct rec_batch **old)
{
	*old = NULL;
	if (iss->user.active_batch == 0)
		return REC_OK;
	if (!iss->have_old)
		return REC_ERR_CORRUPT;
	*old = &iss->old;
	return REC_OK;
}

/* The unused codes of the batch read, into out; their number. */
static unsigned
issue_unused(const struct rec_ldap_issue *iss, struct rec_code_rec *out)
{
	unsigned n = 0;

	for (unsigned i = 0; i < iss->nold; i++)
		if (iss->old_codes[i].state == REC_CODE_UNUSED)
			out[n++] = iss->old_codes[i];
	return n;
}

int
sldap_batch_stage(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n,
    rec_store_gen_fn *fn, void *arg)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap_issue *iss = NULL;
	const struct rec_batch *old;
	struct rec_ldap *c;
	struct rec_batch sb;
	struct rec_lock gen;
	int r = REC_ERR_INTERNAL;

	if ((r = rec_sldap_writer(s, "batch_stage", &c)) != REC_OK)
		goto out;
	if ((iss = iss_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	/* Judged on the writer's copy; nothing fn changes is kept. */
	if ((r = rec_ldap_issue_read(c, user, 0, iss)) != REC_OK ||
	    (r = issue_active(iss, &old)) != REC_OK)
		goto out;
	gen = iss->user.gen;
	if ((r = fn(&gen, old, arg)) != REC_OK)
		goto out;
	/*
	 * One Add of the batch entry with every code, as staged (no login
	 * uses it); the user's entry is created first when missing, and an
	 * Add of an entry that exists is refused by the directory, so two
	 * hosts cannot both create it.
	 */
	sb = *b;
	sb.status = REC_BATCH_STAGED;
	r = rec_ldap_write_batch(c, user, &sb, recs, n, b->created);
	if (r == REC_ERR_EXISTS) {
		rec_logf(st->log, LOG_ERR, "directory store: user %s already "
		    "has a batch %llu", user, (unsigned long long)b->id);
		r = REC_ERR_INTERNAL;
	}
out:
	sodium_memzero(&sb, sizeof(sb));
	iss_free(iss);
	return r;
}

/*
 * The order of an activation, one asserted Modify each:
 *
 *  1. the old active batch: status 1 -> 2, each unused code invalidated;
 *  2. the staged batch: status 4 -> 1, its exported mark set;
 *  3. the user's entry: the old generate lock and active batch (exact
 *     values) out, the new ones and last_generated in.
 *
 * A code of the old batch stops working at 1, before the new codes can
 * work anywhere (3): a login consumes a code only while its batch has
 * status 1 on the server that applies the consume, so no host, however
 * stale its replica, can use an old code once the new ones may have been
 * shown.  What a stop half-way leaves, all closed:
 *  - after 1: the user names a batch with status 2: no code works; a
 *    generate (the cooldown was not taken) or invalidate goes on from
 *    there;
 *  - after 2: also a batch with status 1 that the user does not name: no
 *    login reaches it (a login uses the batch the user's entry names);
 *    check --deep shows it;
 *  - 3 lost to another host (its generate, an unlock of the cooldown):
 *    the staged batch is put back to status 4 and the whole is read and
 *    judged again; when fn then refuses (REC_STOP), the old batch stays
 *    invalidated and the user has no working codes, as after a stop
 *    after 1.
 */
int
sldap_batch_activate(struct rec_store *st, const char *user,
    const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn,
    void *arg, rec_store_audit_fn *audit, void *aarg)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap_issue *iss = NULL;
	struct rec_code_rec *unused = NULL;
	const struct rec_batch *old;
	struct rec_ldap *c;
	struct rec_ldap_batch_change ch;
	struct rec_ldap_switch sw;
	struct rec_store_done d;
	struct rec_lock gen;
	int r = REC_ERR_INTERNAL;

	if ((r = rec_sldap_writer(s, "batch_activate", &c)) != REC_OK)
		goto out;
	if ((iss = iss_new()) == NULL ||
	    (unused = calloc(REC_COUNT_MAX, sizeof(*unused))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (unsigned round = 0; round < ISSUE_ROUNDS; round++) {
		if ((r = rec_ldap_issue_read(c, user, b->id, iss)) != REC_OK ||
		    (r = issue_active(iss, &old)) != REC_OK)
			goto out;
		gen = iss->user.gen;
		if ((r = fn(&gen, old, arg)) != REC_OK)
			goto out;
		if (!iss->have_batch) {
			r = REC_ERR_CORRUPT;
			goto out;
		}
		if (iss->batch.status != REC_BATCH_STAGED) {
			r = REC_ERR_INTERNAL;
			goto out;
		}
		/* 1: the old batch out of force, its unused codes with it. */
		if (old != NULL && old->status == REC_BATCH_ACTIVE) {
			memset(&ch, 0, sizeof(ch));
			ch.id = old->id;
			ch.from = REC_BATCH_ACTIVE;
			ch.to = REC_BATCH_INVALIDATED;
			ch.b = old;
			ch.inval = unused;
			ch.ninval = issue_unused(iss, unused);
			ch.now = now;
			ch.what = s->cfg.host_name;
			r = rec_ldap_batch_change(c, user, &ch);
			if (r == REC_LDAP_LOST || r == REC_ERR_NOTFOUND)
				continue;	/* a code used meanwhile */
			if (r != REC_OK)
				goto out;
		}
		/* 2: the new batch active, not yet named by the user. */
		memset(&ch, 0, sizeof(ch));
		ch.id = b->id;
		ch.from = REC_BATCH_STAGED;
		ch.to = REC_BATCH_ACTIVE;
		ch.exported = 1;
		ch.have_exported = iss->have_exported;
		ch.old_exported = iss->batch.exported;
		ch.new_exported = b->exported;
		r = rec_ldap_batch_change(c, user, &ch);
		if (r == REC_LDAP_LOST || r == REC_ERR_NOTFOUND)
			continue;	/* judged again: not staged, or gone */
		if (r != REC_OK)
			goto out;
		/* 3: the user switches, if nobody else changed it meanwhile. */
		memset(&sw, 0, sizeof(sw));
		sw.gen = 1;
		sw.have_gen = iss->have_gen;
		sw.old_gen = iss->user.gen;
		sw.new_gen = gen;
		sw.have_active = iss->have_active;
		sw.old_active = iss->user.active_batch;
		sw.new_active = b->id;
		sw.last_generated = now;
		if ((r = rec_ldap_user_switch(c, user, &sw)) == REC_OK)
			goto done;
		if (r != REC_LDAP_LOST)
			goto out;	/* may have been applied: leave it */
		/* Lost: back to staged, so that a discard can remove it. */
		memset(&ch, 0, sizeof(ch));
		ch.id = b->id;
		ch.from = REC_BATCH_ACTIVE;
		ch.to = REC_BATCH_STAGED;
		if ((r = rec_ldap_batch_change(c, user, &ch)) != REC_OK) {
			if (r == REC_LDAP_LOST || r == REC_ERR_NOTFOUND)
				r = REC_ERR_INTERNAL;
			goto out;
		}
	}
	rec_logf(st->log, LOG_ERR, "directory store: generate for user %s: "
	    "still contended after %d rounds", user, ISSUE_ROUNDS);
	r = REC_ERR_IO;
	goto out;
done:
	memset(&d, 0, sizeof(d));
	d.batch = b->id;
	d.changed = b->count;
	r = issue_audit(s, c, audit, aarg, &d);
out:
	if (unused != NULL) {
		sodium_memzero(unused, REC_COUNT_MAX * sizeof(*unused));
		free(unused);
	}
	iss_free(iss);
	return r;
}

/*
 * A staged batch goes in two steps: status 4 -> 2 asserted (so that an
 * activation racing with it can no longer make it active), then the entry
 * is deleted.  Stopped between the two, an invalidated batch that nobody
 * names is left for purge.
 */
int
sldap_batch_discard(struct rec_store *st, const char *user, uint64_t id)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap_issue *iss = NULL;
	struct rec_ldap_batch_change ch;
	struct rec_ldap *c;
	int r = REC_ERR_INTERNAL;

	if ((r = rec_sldap_writer(s, "batch_discard", &c)) != REC_OK)
		goto out;
	if ((iss = iss_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if ((r = rec_ldap_issue_read(c, user, id, iss)) != REC_OK)
		goto out;
	if (!iss->have_batch || iss->batch.status != REC_BATCH_STAGED)
		goto out;	/* r is REC_OK */
	memset(&ch, 0, sizeof(ch));
	ch.id = id;
	ch.from = REC_BATCH_STAGED;
	ch.to = REC_BATCH_INVALIDATED;
	r = rec_ldap_batch_change(c, user, &ch);
	if (r == REC_LDAP_LOST || r == REC_ERR_NOTFOUND) {
		r = REC_OK;	/* no longer staged, or gone */
		goto out;
	}
	if (r != REC_OK)
		goto out;
	if ((r = rec_ldap_batch_delete(c, user, id)) == REC_ERR_NOTFOUND)
		r = REC_OK;
out:
	iss_free(iss);
	return r;
}

/* The unused codes among slots[0..nslots) of the batch read, once each. */
static int
issue_named(const struct rec_ldap_issue *iss, const unsigned *slots,
    unsigned nslots, struct rec_code_rec *out, unsigned *n, unsigned *slot)
{
	uint8_t seen[REC_COUNT_MAX + 1];

	*n = 0;
	*slot = 0;
	memset(seen, 0, sizeof(seen));
	for (unsigned i = 0; i < nslots; i++)
		if (slots[i] < 1 || slots[i] > iss->old.count)
			return REC_ERR_NOTFOUND;
	for (unsigned i = 0; i < nslots; i++) {
		if (seen[slots[i]])
			continue;
		seen[slots[i]] = 1;
		/* A code purge removed has no value: passed over. */
		for (unsigned k = 0; k < iss->nold; k++)
			if (iss->old_codes[k].slot == slots[i] &&
			    iss->old_codes[k].state == REC_CODE_UNUSED) {
				out[(*n)++] = iss->old_codes[k];
				*slot = slots[i];
			}
	}
	return REC_OK;
}

/*
 * Named codes: one Modify of the batch entry that deletes each code's
 * exact unused value and adds its invalid mark, so it is applied whole or,
 * when a login used one of them meanwhile, not at all and read again.
 * The whole batch: first the batch (status out of force, asserted, and its
 * unused codes invalidated) in one Modify, then the user's entry stops
 * naming it (asserting it still does); stopped between the two, the user
 * names a batch that no login accepts, and invalidating again completes it.
 */
int
sldap_code_invalidate(struct rec_store *st, const char *user,
    const unsigned *slots, unsigned nslots, uint64_t now,
    rec_store_audit_fn *audit, void *arg)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap_issue *iss = NULL;
	struct rec_code_rec *codes = NULL;
	struct rec_ldap_batch_change ch;
	struct rec_ldap_switch sw;
	struct rec_store_done d;
	struct rec_ldap *c;
	unsigned slot = 0;
	int r = REC_ERR_INTERNAL;

	memset(&d, 0, sizeof(d));
	if ((r = rec_sldap_writer(s, "code_invalidate", &c)) != REC_OK)
		goto out;
	if ((iss = iss_new()) == NULL ||
	    (codes = calloc(REC_COUNT_MAX, sizeof(*codes))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (unsigned round = 0; round < ISSUE_ROUNDS; round++) {
		if ((r = rec_ldap_issue_read(c, user, 0, iss)) != REC_OK)
			goto out;
		if (!iss->have_user || iss->user.active_batch == 0) {
			r = REC_ERR_NOSTORE;
			goto out;
		}
		if (!iss->have_old) {
			r = REC_ERR_CORRUPT;
			goto out;
		}
		memset(&ch, 0, sizeof(ch));
		ch.id = iss->old.id;
		ch.b = &iss->old;
		ch.inval = codes;
		ch.now = now;
		ch.what = s->cfg.host_name;
		if (nslots > 0) {
			if ((r = issue_named(iss, slots, nslots, codes,
			    &ch.ninval, &slot)) != REC_OK)
				goto out;
			/* Already used or invalidated: nothing happened. */
			if (ch.ninval == 0) {
				r = REC_OK;
				goto out;
			}
		} else {
			ch.ninval = issue_unused(iss, codes);
			if (iss->old.status != REC_BATCH_INVALIDATED) {
				ch.from = iss->old.status;
				ch.to = REC_BATCH_INVALIDATED;
			}
		}
		r = rec_ldap_batch_change(c, user, &ch);
		if (r == REC_LDAP_LOST || r == REC_ERR_NOTFOUND)
			continue;	/* a code used meanwhile: again */
		if (r != REC_OK)
			goto out;
		d.batch = iss->old.id;
		d.changed = ch.ninval;
		d.slot = ch.ninval == 1 ? slot : 0;
		break;
	}
	if (r != REC_OK) {
		rec_logf(st->log, LOG_ERR, "directory store: invalidate for "
		    "user %s: still contended after %d rounds", user,
		    ISSUE_ROUNDS);
		r = REC_ERR_IO;
		goto out;
	}
	if (nslots == 0) {
		d.slot = 0;
		memset(&sw, 0, sizeof(sw));
		sw.have_active = 1;
		sw.old_active = d.batch;
		r = rec_ldap_user_switch(c, user, &sw);
		/* Lost: the user names another batch now (a generate). */
		if (r != REC_OK && r != REC_LDAP_LOST)
			goto out;
	}
	r = issue_audit(s, c, audit, arg, &d);
out:
	if (codes != NULL) {
		sodium_memzero(codes, REC_COUNT_MAX * sizeof(*codes));
		free(codes);
	}
	iss_free(iss);
	return r;
}

/*
 * The new mark is the old one with the bits added, swapped for the exact
 * old value.  The directory keeps no modified time of its own for a batch:
 * the entry's modifyTimestamp (operational) records when, so now is not
 * written.
 */
int
sldap_batch_export_mark(struct rec_store *st, const char *user, uint64_t id,
    uint32_t how, uint64_t now)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap_issue *iss = NULL;
	struct rec_ldap_batch_change ch;
	struct rec_ldap *c;
	int r = REC_ERR_INTERNAL;

	(void)now;
	if ((r = rec_sldap_writer(s, "batch_export_mark", &c)) != REC_OK)
		goto out;
	if ((iss = iss_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (unsigned round = 0; round < ISSUE_ROUNDS; round++) {
		if ((r = rec_ldap_issue_read(c, user, id, iss)) != REC_OK)
			goto out;
		if (!iss->have_batch) {
			r = REC_ERR_NOTFOUND;
			goto out;
		}
		memset(&ch, 0, sizeof(ch));
		ch.id = id;
		ch.exported = 1;
		ch.have_exported = iss->have_exported;
		ch.old_exported = iss->batch.exported;
		ch.new_exported = iss->batch.exported | how;
		if ((r = rec_ldap_batch_change(c, user, &ch)) != REC_LDAP_LOST)
			goto out;
	}
	rec_logf(st->log, LOG_ERR, "directory store: export mark for user %s: "
	    "still contended after %d rounds", user, ISSUE_ROUNDS);
	r = REC_ERR_IO;
out:
	iss_free(iss);
	return r;
}
