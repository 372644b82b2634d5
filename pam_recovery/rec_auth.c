/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_auth.c: one attempt: normalise, pre-count, hash outside, consume. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_auth.h"
#include "rec_err.h"
#include "rec_policy.h"

/* A stored code that the typed code's tag points at. */
struct candidate {
	unsigned slot;
	uint8_t salt[REC_SALT_LEN];
	uint8_t hash[REC_HASH_LEN];
};

/* State carried between the transactions of one attempt. */
struct attempt {
	const struct rec_config *cfg;
	struct rec_lock_policy lock;	/* of cfg */
	const struct rec_who *who;
	uint64_t now;
	unsigned flags;
	const char *code;		/* normalised */
	const unsigned char *pepper_in;	/* the configured pepper, or NULL */
	const unsigned char *pepper;	/* as the batch wants it */
	const struct rec_log *log;	/* the store's */
	/* phase 1 results */
	int outcome;
	struct rec_user before, after;
	struct rec_batch batch;
	struct candidate cand;		/* at most one: one argon2id */
	unsigned ncand;
	int locked_now;
	/* phase 2 inputs and results */
	unsigned slot;
	unsigned remaining;
};

static void
copy_field(char *dst, size_t len, const char *src)
{
	snprintf(dst, len, "%s", src != NULL ? src : "");
}

int
rec_auth_event(const struct rec_config *cfg, const struct rec_who *who,
    uint64_t now, const struct rec_mark *m, struct rec_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	if (!cfg->audit)
		return 0;
	ev->time = now;
	ev->type = (uint8_t)m->type;
	ev->batch = m->batch;
	ev->slot = (uint8_t)m->slot;
	copy_field(ev->user, sizeof(ev->user), who->user);
	copy_field(ev->service, sizeof(ev->service), who->service);
	copy_field(ev->rhost, sizeof(ev->rhost), who->rhost);
	copy_field(ev->tty, sizeof(ev->tty), who->tty);
	copy_field(ev->actor, sizeof(ev->actor), who->actor);
	copy_field(ev->detail, sizeof(ev->detail), m->detail);
	return 1;
}

/* Decoding refuses used + invalidated > count, and so do the writers. */
static unsigned
remaining_of(const struct rec_batch *b)
{
	if (b->used + b->invalidated > b->count)
		return 0;
	return (unsigned)(b->count - b->used - b->invalidated);
}

/* The clock moved back behind a lock: pull it in to now. */
struct settle_arg {
	uint64_t now;
	struct rec_lock_policy lock, gen;
};

static int
settle_lock(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *varg)
{
	struct settle_arg *a = varg;
	const struct rec_lock_policy *p = which == REC_LOCK_GEN ? &a->gen :
	    &a->lock;

	(void)v;
	if (!rec_lock_clock_back(lk, a->now, p))
		return REC_STOP;
	rec_lock_refresh(lk, a->now, p);
	return REC_OK;
}

/* 1 when u's lock or generate cooldown needs rec_auth_settle at now. */
static int
needs_settle(const struct rec_user *u, uint64_t now,
    const struct rec_config *cfg)
{
	struct rec_lock_policy lp, gp;

	rec_config_lock_policy(cfg, &lp);
	rec_config_gen_policy(cfg, &gp);
	return rec_lock_clock_back(&u->lock, now, &lp) ||
	    rec_lock_clock_back(&u->gen, now, &gp);
}

int
rec_auth_settle(struct rec_store *st, const struct rec_config *cfg,
    const char *user, uint64_t now)
{
	struct settle_arg a;
	int r;

	a.now = now;
	rec_config_lock_policy(cfg, &a.lock);
	rec_config_gen_policy(cfg, &a.gen);
	r = rec_store_lock_update(st, user, REC_LOCK_LOGIN | REC_LOCK_GEN, 0,
	    settle_lock, &a, NULL, NULL);
	return r == REC_ERR_NOSTORE ? REC_OK : r;
}

/* *s from a view; *settle: the clock moved back behind the state. */
static int
status_of(struct rec_store *st, const struct rec_config *cfg,
    const char *user, uint64_t now, struct rec_status *s, int *settle)
{
	struct rec_lock_policy lp;
	struct rec_view *v = NULL;
	struct rec_user *u;
	struct rec_batch *b;
	int r = REC_ERR_INTERNAL;

	memset(s, 0, sizeof(*s));
	rec_config_format(cfg, &s->fmt);
	*settle = 0;
	if ((v = malloc(sizeof(*v))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if ((r = rec_store_view(st, user, 0, v)) == REC_ERR_NOSTORE) {
		r = REC_OK;
		goto out;
	}
	if (r != REC_OK)
		goto out;
	u = &v->user;
	b = &v->batch;
	*settle = needs_settle(u, now, cfg);
	rec_config_lock_policy(cfg, &lp);
	rec_lock_refresh(&u->lock, now, &lp);
	s->lock_remaining = rec_lock_remaining(&u->lock, now, &lp);
	s->failures = u->lock.failures;
	if (!v->have_batch) {
		r = REC_OK;
		goto out;
	}
	if ((r = rec_policy_batch(b, cfg, now, user, rec_store_log(st))) !=
	    REC_OK)
		goto out;
	s->enrolled = 1;
	s->fmt = b->fmt;
	s->batch = b->id;
	s->count = b->count;
	s->used = b->used;
	s->invalidated = b->invalidated;
	s->remaining = remaining_of(b);
	s->created = b->created;
	s->expires = rec_policy_expires(b, cfg);
	s->verified = b->verified;
	/*
	 * The user's last use is one of this batch's only when the batch has
	 * a used code: uses of older batches all came before it was active.
	 */
	s->last_used = b->used > 0 ? u->last_used : 0;
	s->peppered = b->peppered;
	s->expired = s->expires != 0 && s->expires <= now;
	r = REC_OK;
out:
	free(v);
	return r;
}

int
rec_auth_status(struct rec_store *st, const struct rec_config *cfg,
    const char *user, uint64_t now, struct rec_status *out)
{
	int r, settle = 0;

	memset(out, 0, sizeof(*out));
	rec_config_format(cfg, &out->fmt);
	if (st == NULL)
		return REC_OK;
	if ((r = status_of(st, cfg, user, now, out, &settle)) != REC_OK ||
	    !settle)
		return r;
	/*
	 * Rare: the clock moved back.  A lock corrected only in a copy would
	 * be measured from the jumped clock again at the next read, and last
	 * as long as the jump; write the correction, then read what is now
	 * enforced.  A reader that opened the store read-only (the admin
	 * tool's show, list) reports the corrected copy it read; the next
	 * login or generate writes the correction.
	 */
	if (!rec_store_writable(st))
		return REC_OK;
	if ((r = rec_auth_settle(st, cfg, user, now)) != REC_OK)
		return r;
	return status_of(st, cfg, user, now, out, &settle);
}

/*
 * Phase 1, one atomic step on the store: refuse while locked (the
 * refreshed state is written back), and count this attempt as a failure
 * before any hash is evaluated, having picked the one stored code to hash
 * against.  The store decides nothing about the server's work: a batch
 * outside the policy is refused before anything is counted, and whatever
 * its tags say, one candidate at most is taken: the first unused code
 * whose tag matches (a used one only when no unused one does, so that
 * reuse is reported as such).  Generation gives the codes of a batch
 * distinct tags, so a well-formed batch never hides a code behind another.
 * The lock this failure would set is only audited once the attempt is
 * judged a failure (reject_events): a valid code clears it in phase 2,
 * and an attempt that is refunded never counted.
 */
static int
count_lock(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *varg)
{
	struct attempt *a = varg;
	unsigned best = REC_COUNT_MAX;
	uint16_t tag;
	int r;

	(void)which;
	a->ncand = 0;
	a->locked_now = 0;
	a->before.lock = *lk;
	rec_lock_refresh(lk, a->now, &a->lock);
	if (rec_lock_remaining(lk, a->now, &a->lock) > 0) {
		a->outcome = REC_ERR_LOCKED;
		return REC_OK;
	}
	a->outcome = REC_ERR_NOSTORE;
	if (!v->have_batch)
		return REC_STOP;
	a->batch = v->batch;
	if ((r = rec_policy_batch(&a->batch, a->cfg, a->now, a->who->user,
	    a->log)) != REC_OK)
		return r;
	if (a->batch.peppered && a->pepper_in == NULL) {
		rec_logf(a->log, LOG_ERR, "batch of user %s was generated with "
		    "a pepper, but pepper_file is not set", a->who->user);
		a->outcome = REC_ERR_CONFIG;
		return REC_STOP;
	}
	a->pepper = a->batch.peppered ? a->pepper_in : NULL;
	if ((r = rec_batch_check_codes(&a->batch, v->codes, v->ncodes)) !=
	    REC_OK) {
		rec_logf(a->log, LOG_ERR, "batch %016llx of user %s: its codes "
		    "do not match its counts", (unsigned long long)a->batch.id,
		    a->who->user);
		return r;
	}
	tag = rec_kdf_tag(a->code, a->pepper, a->batch.tag_key,
	    a->batch.tag_bits);
	for (unsigned i = 0; i < v->ncodes; i++) {
		if (a->batch.tag_bits != 0 && v->codes[i].tag != tag)
			continue;
		if (best == REC_COUNT_MAX || (v->codes[best].state !=
		    REC_CODE_UNUSED && v->codes[i].state == REC_CODE_UNUSED))
			best = i;
	}
	if (best != REC_COUNT_MAX) {
		a->cand.slot = v->codes[best].slot;
		memcpy(a->cand.salt, v->codes[best].salt, REC_SALT_LEN);
		memcpy(a->cand.hash, v->codes[best].hash, REC_HASH_LEN);
		a->ncand = 1;
	}
	a->locked_now = rec_lock_fail(lk, a->now, &a->lock);
	a->outcome = REC_OK;
	return REC_OK;
}

/* Phase 1: the count, a lazy write; a user without a record is not enrolled. */
static int
precount(struct rec_store *st, struct attempt *a)
{
	int r;

	a->log = rec_store_log(st);
	a->outcome = REC_ERR_NOSTORE;
	r = rec_store_lock_update(st, a->who->user, REC_LOCK_LOGIN,
	    REC_WRITE_LAZY | REC_WRITE_VIEW, count_lock, a, NULL, &a->after);
	if (r == REC_ERR_NOSTORE) {
		a->outcome = REC_ERR_NOSTORE;
		r = REC_OK;
	}
	return r;
}

/*
 * The events of a rejection, then of the lock it set in phase 1, in that
 * order: the trail reads as it happened, and a lock is only written for a
 * failure.
 */
static unsigned
reject_events(const struct attempt *a, uint64_t batch, unsigned slot,
    const char *why, struct rec_event ev[2])
{
	unsigned n = 0;

	n += (unsigned)rec_auth_event(a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = REC_EV_CODE_REJECTED, .batch = batch,
	    .slot = slot, .detail = why }, &ev[n]);
	if (a->locked_now)
		n += (unsigned)rec_auth_event(a->cfg, a->who, a->now,
		    &(struct rec_mark){ .type = REC_EV_LOCKED, .batch = batch,
		    .detail = "too many failed attempts" }, &ev[n]);
	return n;
}

/* What phase 2's mark appends, for whichever outcome it found. */
static int
consume_audit(const struct rec_store_done *d, struct rec_event *ev,
    unsigned max, unsigned *n, void *varg)
{
	const struct attempt *a = varg;
	int test = (a->flags & REC_ATTEMPT_TEST) != 0;

	if (max < 2)
		return REC_ERR_INTERNAL;
	if (d->outcome != REC_OK) {
		*n = reject_events(a, d->batch, a->slot,
		    rec_strerror(d->outcome), ev);
		return REC_OK;
	}
	*n = (unsigned)rec_auth_event(a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = test ? REC_EV_VERIFIED :
	    REC_EV_CODE_USED, .batch = d->batch, .slot = a->slot,
	    .detail = "" }, ev);
	return REC_OK;
}

/*
 * Phase 2 for a matching code: the store re-checks under its write lock
 * that the code is still unused and its batch still active, then consumes
 * it (or, when only testing, marks the batch verified) and clears the
 * lockout.
 */
static int
consume(struct rec_store *st, struct attempt *a)
{
	struct rec_code_mark m = {
		.user = a->who->user,
		.batch = a->batch.id,
		.slot = a->slot,
		.to = (a->flags & REC_ATTEMPT_TEST) ? REC_MARK_VERIFY :
		    REC_MARK_USED,
		.now = a->now,
		.expires = rec_policy_expires(&a->batch, a->cfg),
	};

	return rec_store_code_mark(st, &m, consume_audit, a, &a->outcome,
	    &a->remaining);
}

/* Phase 2 for a code that matched nothing: the failure stays counted. */
static int
reject(struct rec_store *st, struct attempt *a)
{
	struct rec_event ev[2];
	unsigned n;
	int r;

	n = reject_events(a, a->batch.id, 0, "no matching code", ev);
	r = rec_store_event_append(st, ev, n);
	sodium_memzero(ev, sizeof(ev));
	return r;
}

/*
 * The attempt could not be judged (no memory for argon2id, a store error):
 * give back the failure phase 1 counted.  When nothing else touched the
 * state since, restore it exactly; otherwise take one failure off.
 */
static int
refund_lock(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *varg)
{
	const struct attempt *a = varg;

	(void)which;
	(void)v;
	if (lk->failures == a->after.lock.failures &&
	    lk->window_start == a->after.lock.window_start &&
	    lk->last_fail == a->after.lock.last_fail &&
	    lk->locked_until == a->after.lock.locked_until &&
	    lk->cooldown == a->after.lock.cooldown)
		*lk = a->before.lock;
	else if (lk->failures > 0)
		lk->failures--;
	return REC_OK;
}

/*
 * Hash the code against the candidate, or a dummy when there is none: one
 * argon2id evaluation, always.  The matching slot or 0.
 */
static int
evaluate(struct attempt *a, struct rec_result *res, unsigned *slot)
{
	uint8_t h[REC_HASH_LEN];
	int r = REC_ERR_INTERNAL;

	*slot = 0;
	res->kdf_evals++;
	if (a->ncand == 0) {
		r = rec_kdf_dummy(a->batch.opslimit, a->batch.memlimit);
		goto out;
	}
	if ((r = rec_kdf_hash(a->code, a->pepper, a->cand.salt,
	    a->batch.opslimit, a->batch.memlimit, h)) != REC_OK)
		goto out;
	if (rec_kdf_equal(h, a->cand.hash))
		*slot = a->cand.slot;
	r = REC_OK;
out:
	sodium_memzero(h, sizeof(h));
	return r;
}

/*
 * The attempt: normalise (malformed input costs no hash and is not
 * counted); refuse while locked (no hash); count the failure in a short
 * write transaction before hashing, so that parallel attempts cannot
 * outrun the lockout; hash outside any transaction; then, for a match,
 * consume the code in a second write transaction that re-checks it is
 * still unused and clears the lockout, so that of two racing attempts
 * with one code only one succeeds.  A store error after the count
 * refunds it.
 */
int
rec_auth_attempt(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_attempt *in,
    struct rec_result *res)
{
	const unsigned char *pepper = in->pepper;
	const char *input = in->input;
	uint64_t now = in->now;
	unsigned flags = in->flags;
	struct attempt *a = NULL;
	struct rec_status s;
	char code[REC_CODE_MAX + 1];
	unsigned slot = 0;
	int r = REC_ERR_INTERNAL, hr;

	memset(res, 0, sizeof(*res));
	memset(code, 0, sizeof(code));
	/* Guarded memory: the attempt holds the code and candidate hashes. */
	if ((a = sodium_malloc(sizeof(*a))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	rec_config_lock_policy(cfg, &a->lock);
	a->who = who;
	a->now = now;
	a->flags = flags;
	a->code = code;
	a->pepper_in = pepper;
	a->batch.opslimit = cfg->kdf_opslimit;
	a->batch.memlimit = cfg->kdf_memlimit;

	/*
	 * The status read before the prompt stands, unless it showed a lock,
	 * which may have run out while the user typed.  A stale one lets
	 * nothing through: the count below reads the user and the batch again
	 * under the write lock, refusing a lock set since and judging the
	 * batch active now; the consumption re-checks both.  At worst a batch
	 * made since is not tried (not enrolled) or a code is read in the
	 * format of the batch it replaced (no match).
	 */
	if (in->status != NULL && in->status->lock_remaining == 0)
		s = *in->status;
	else if ((r = rec_auth_status(st, cfg, who->user, now, &s)) != REC_OK)
		goto out;
	res->batch = s.batch;
	if (s.lock_remaining > 0) {
		res->lock_remaining = s.lock_remaining;
		r = REC_ERR_LOCKED;
		goto out;
	}
	if ((r = rec_code_normalise(&s.fmt, input, code)) != REC_OK)
		goto out;
	/*
	 * The count is visible to every parallel attempt as soon as this
	 * commits, and outlives this process; the synced commit that ends
	 * every judged attempt below (reject, consume or refund) puts it on
	 * the disk before the answer is given.  One disk flush per attempt.
	 */
	a->outcome = REC_ERR_NOSTORE;
	if (st != NULL && s.enrolled && (r = precount(st, a)) != REC_OK)
		goto out;
	res->batch = a->batch.id;
	res->locked_now = a->locked_now;
	res->lock_remaining = rec_lock_remaining(&a->after.lock, now,
	    &a->lock);
	if (a->outcome == REC_ERR_LOCKED || a->outcome == REC_ERR_CONFIG) {
		r = a->outcome;
		goto out;
	}
	/* Not enrolled or enrolled: the same single evaluation either way. */
	if ((hr = evaluate(a, res, &slot)) != REC_OK) {
		if (a->outcome == REC_OK && rec_store_lock_update(st,
		    a->who->user, REC_LOCK_LOGIN, 0, refund_lock, a, NULL, NULL) ==
		    REC_OK)
			res->lock_remaining = 0;
		r = hr;
		goto out;
	}
	if (a->outcome != REC_OK) {
		r = a->outcome;
		goto out;
	}
	a->slot = slot;
	if (slot == 0) {
		a->outcome = REC_ERR_NOMATCH;
		r = reject(st, a);
	} else
		r = consume(st, a);
	if (r != REC_OK)
		goto out;
	res->slot = a->outcome == REC_OK ? slot : 0;
	res->remaining = a->remaining;
	if (a->outcome == REC_OK) {
		res->lock_remaining = 0;
		res->locked_now = 0;
	}
	r = a->outcome;
out:
	sodium_memzero(code, sizeof(code));
	sodium_free(a);
	return r;
}
