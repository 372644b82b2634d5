/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_auth.c: one attempt: normalise, pre-count, hash outside, consume. */
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
rec_auth_audit(struct rec_txn *t, const struct rec_config *cfg,
    const struct rec_who *who, uint64_t now, const struct rec_mark *m)
{
	struct rec_event ev;

	if (!cfg->audit)
		return REC_OK;
	memset(&ev, 0, sizeof(ev));
	ev.time = now;
	ev.type = (uint8_t)m->type;
	ev.batch = m->batch;
	ev.slot = (uint8_t)m->slot;
	copy_field(ev.user, sizeof(ev.user), who->user);
	copy_field(ev.service, sizeof(ev.service), who->service);
	copy_field(ev.rhost, sizeof(ev.rhost), who->rhost);
	copy_field(ev.tty, sizeof(ev.tty), who->tty);
	copy_field(ev.actor, sizeof(ev.actor), who->actor);
	copy_field(ev.detail, sizeof(ev.detail), m->detail);
	return rec_event_append(t, &ev);
}

/* Decoding refuses used + invalidated > count, and so do the writers. */
static unsigned
remaining_of(const struct rec_batch *b)
{
	if (b->used + b->invalidated > b->count)
		return 0;
	return (unsigned)(b->count - b->used - b->invalidated);
}

struct status_arg {
	const struct rec_config *cfg;
	const char *user;
	uint64_t now;
	struct rec_status *out;
	int settle;		/* the clock moved back behind the state */
};

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

static int
settle_txn(struct rec_txn *t, void *varg)
{
	struct status_arg *a = varg;
	struct rec_lock_policy lp, gp;
	struct rec_user u;
	int r;

	if ((r = rec_user_get(t, a->user, &u)) == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK || !needs_settle(&u, a->now, a->cfg))
		return r;
	rec_config_lock_policy(a->cfg, &lp);
	rec_config_gen_policy(a->cfg, &gp);
	rec_lock_refresh(&u.lock, a->now, &lp);
	rec_lock_refresh(&u.gen, a->now, &gp);
	return rec_user_put(t, a->user, &u);
}

int
rec_auth_settle(struct rec_store *st, const struct rec_config *cfg,
    const char *user, uint64_t now)
{
	struct status_arg a = { cfg, user, now, NULL, 0 };

	return rec_store_write(st, settle_txn, &a);
}

static int
status_txn(struct rec_txn *t, void *varg)
{
	struct status_arg *a = varg;
	struct rec_status *s = a->out;
	struct rec_lock_policy lp;
	struct rec_user u;
	struct rec_batch b;
	int r;

	if ((r = rec_user_get(t, a->user, &u)) == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK)
		return r;
	a->settle = needs_settle(&u, a->now, a->cfg);
	rec_config_lock_policy(a->cfg, &lp);
	rec_lock_refresh(&u.lock, a->now, &lp);
	s->lock_remaining = rec_lock_remaining(&u.lock, a->now, &lp);
	s->failures = u.lock.failures;
	if (u.active_batch == 0)
		return REC_OK;
	if ((r = rec_batch_get(t, a->user, u.active_batch, &b)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	if ((r = rec_policy_batch(&b, a->cfg, a->now, a->user,
	    rec_txn_log(t))) != REC_OK)
		return r;
	s->enrolled = 1;
	s->fmt = b.fmt;
	s->batch = b.id;
	s->count = b.count;
	s->used = b.used;
	s->invalidated = b.invalidated;
	s->remaining = remaining_of(&b);
	s->created = b.created;
	s->expires = rec_policy_expires(&b, a->cfg);
	s->verified = b.verified;
	/*
	 * The user's last use is one of this batch's only when the batch has
	 * a used code: uses of older batches all came before it was active.
	 */
	s->last_used = b.used > 0 ? u.last_used : 0;
	s->peppered = b.peppered;
	s->expired = s->expires != 0 && s->expires <= a->now;
	return REC_OK;
}

int
rec_auth_status(struct rec_store *st, const struct rec_config *cfg,
    const char *user, uint64_t now, struct rec_status *out)
{
	struct status_arg a = { cfg, user, now, out, 0 };
	int r;

	memset(out, 0, sizeof(*out));
	rec_config_format(cfg, &out->fmt);
	if (st == NULL)
		return REC_OK;
	if ((r = rec_store_read(st, status_txn, &a)) != REC_OK || !a.settle)
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
	memset(out, 0, sizeof(*out));
	rec_config_format(cfg, &out->fmt);
	a.settle = 0;
	return rec_store_read(st, status_txn, &a);
}

/*
 * Phase 1: refuse while locked, count this attempt as a failure before any
 * hash is evaluated, and pick the one stored code to hash against.  The
 * store decides nothing about the server's work: a batch outside the policy
 * is refused before anything is counted, and whatever its tags say, one
 * candidate at most is taken: the first unused code whose tag matches (a
 * used one only when no unused one does, so that reuse is reported as
 * such).  Generation gives the codes of a batch distinct tags, so a
 * well-formed batch never hides a code behind another.
 */
static int
precount_txn(struct rec_txn *t, void *varg)
{
	struct attempt *a = varg;
	struct rec_code_rec codes[REC_COUNT_MAX];
	unsigned n = 0, pick = REC_COUNT_MAX;
	uint16_t tag;
	int r = REC_ERR_INTERNAL;

	a->ncand = 0;
	a->locked_now = 0;
	if ((r = rec_user_get(t, a->who->user,
	    &a->before)) == REC_ERR_NOTFOUND) {
		a->outcome = REC_ERR_NOSTORE;
		r = REC_OK;
		goto out;
	}
	if (r != REC_OK)
		goto out;
	a->after = a->before;
	rec_lock_refresh(&a->after.lock, a->now, &a->lock);
	if (rec_lock_remaining(&a->after.lock, a->now, &a->lock) > 0) {
		a->outcome = REC_ERR_LOCKED;
		r = rec_user_put(t, a->who->user, &a->after);
		goto out;
	}
	if (a->after.active_batch == 0) {
		a->outcome = REC_ERR_NOSTORE;
		r = REC_OK;
		goto out;
	}
	if ((r = rec_batch_get(t, a->who->user, a->after.active_batch,
	    &a->batch)) != REC_OK) {
		if (r == REC_ERR_NOTFOUND)
			r = REC_ERR_CORRUPT;
		goto out;
	}
	if ((r = rec_policy_batch(&a->batch, a->cfg, a->now, a->who->user,
	    rec_txn_log(t))) != REC_OK)
		goto out;
	if (a->batch.peppered && a->pepper_in == NULL) {
		rec_logf(rec_txn_log(t), LOG_ERR, "batch of user %s was "
		    "generated with a pepper, but pepper_file is not set",
		    a->who->user);
		a->outcome = REC_ERR_CONFIG;
		r = REC_OK;
		goto out;
	}
	a->pepper = a->batch.peppered ? a->pepper_in : NULL;
	if ((r = rec_coderec_get_all(t, a->who->user, a->batch.id, codes,
	    REC_COUNT_MAX, &n)) != REC_OK)
		goto out;
	if ((r = rec_batch_check_codes(&a->batch, codes, n)) != REC_OK) {
		rec_logf(rec_txn_log(t), LOG_ERR, "batch %016llx of user %s: "
		    "its codes do not match its counts",
		    (unsigned long long)a->batch.id, a->who->user);
		goto out;
	}
	tag = rec_kdf_tag(a->code, a->pepper, a->batch.tag_key,
	    a->batch.tag_bits);
	for (unsigned i = 0; i < n; i++) {
		if (a->batch.tag_bits != 0 && codes[i].tag != tag)
			continue;
		if (pick == REC_COUNT_MAX || (codes[pick].state !=
		    REC_CODE_UNUSED && codes[i].state == REC_CODE_UNUSED))
			pick = i;
	}
	if (pick != REC_COUNT_MAX) {
		a->cand.slot = codes[pick].slot;
		memcpy(a->cand.salt, codes[pick].salt, REC_SALT_LEN);
		memcpy(a->cand.hash, codes[pick].hash, REC_HASH_LEN);
		a->ncand = 1;
	}
	/*
	 * The lock this failure would set is only audited once the attempt is
	 * judged a failure (reject_after): a valid code clears it in phase 2,
	 * and an attempt that is refunded never counted.
	 */
	a->locked_now = rec_lock_fail(&a->after.lock, a->now, &a->lock);
	if ((r = rec_user_put(t, a->who->user, &a->after)) != REC_OK)
		goto out;
	a->outcome = REC_OK;
	r = REC_OK;
out:
	sodium_memzero(codes, sizeof(codes));
	return r;
}

/*
 * Audit a rejection, then the lock it set in phase 1, in that order: the
 * trail reads as it happened, and a lock is only written for a failure.
 */
static int
reject_after(struct rec_txn *t, const struct attempt *a, uint64_t batch,
    unsigned slot, const char *why)
{
	int r;

	if ((r = rec_auth_audit(t, a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = REC_EV_CODE_REJECTED, .batch = batch,
	    .slot = slot, .detail = why })) != REC_OK)
		return r;
	if (!a->locked_now)
		return REC_OK;
	return rec_auth_audit(t, a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = REC_EV_LOCKED, .batch = batch,
	    .detail = "too many failed attempts" });
}

/*
 * Phase 2 for a matching code: re-check under the write lock that the code
 * is still unused and its batch still active, then consume it (or, when
 * only testing, mark the batch verified) and clear the lockout.
 */
static int
consume_txn(struct rec_txn *t, void *varg)
{
	struct attempt *a = varg;
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	int test = (a->flags & REC_ATTEMPT_TEST) != 0, r;

	if ((r = rec_user_get(t, a->who->user, &u)) != REC_OK ||
	    (r = rec_batch_get(t, a->who->user, a->batch.id, &b)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	/* Purge may have removed the code since: only dead codes go. */
	if ((r = rec_coderec_get(t, a->who->user, a->batch.id, a->slot, &c)) ==
	    REC_ERR_NOTFOUND) {
		memset(&c, 0, sizeof(c));
		c.state = REC_CODE_USED;
	} else if (r != REC_OK)
		return r;
	a->remaining = remaining_of(&b);
	/* An unused code in a batch that counts none left: not ours. */
	if (c.state == REC_CODE_UNUSED && a->remaining == 0)
		return REC_ERR_CORRUPT;
	if (u.active_batch != b.id || b.status != REC_BATCH_ACTIVE ||
	    c.state == REC_CODE_INVALID)
		a->outcome = REC_ERR_INVALIDATED;
	else if (c.state == REC_CODE_USED)
		a->outcome = REC_ERR_USED;
	else if (rec_policy_expires(&b, a->cfg) != 0 &&
	    rec_policy_expires(&b, a->cfg) <= a->now)
		a->outcome = REC_ERR_EXPIRED;
	else
		a->outcome = REC_OK;
	if (a->outcome != REC_OK)
		return reject_after(t, a, b.id, a->slot,
		    rec_strerror(a->outcome));
	if (test)
		b.verified = a->now;
	else {
		c.state = REC_CODE_USED;
		c.changed = a->now;
		b.used++;
		u.last_used = a->now;
		a->remaining = remaining_of(&b);
	}
	b.modified = a->now;
	rec_lock_clear(&u.lock);
	if ((r = rec_user_put(t, a->who->user, &u)) != REC_OK ||
	    (r = rec_batch_put(t, a->who->user, &b)) != REC_OK ||
	    (!test && (r = rec_coderec_put(t, a->who->user, b.id,
	    &c)) != REC_OK))
		return r;
	return rec_auth_audit(t, a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = test ? REC_EV_VERIFIED :
	    REC_EV_CODE_USED, .batch = b.id, .slot = a->slot, .detail = "" });
}

/* Phase 2 for a code that matched nothing: the failure stays counted. */
static int
reject_txn(struct rec_txn *t, void *varg)
{
	struct attempt *a = varg;

	return reject_after(t, a, a->batch.id, 0, "no matching code");
}

/*
 * The attempt could not be judged (no memory for argon2id, a store error):
 * give back the failure phase 1 counted.  When nothing else touched the
 * record since, restore it exactly; otherwise take one failure off.
 */
static int
refund_txn(struct rec_txn *t, void *varg)
{
	struct attempt *a = varg;
	struct rec_user u;
	uint8_t now_enc[REC_RECORD_BUF], after_enc[REC_RECORD_BUF];
	size_t n, m;
	int r;

	if ((r = rec_user_get(t, a->who->user, &u)) != REC_OK)
		return r;
	n = rec_user_encode(&u, now_enc);
	m = rec_user_encode(&a->after, after_enc);
	if (n == m && memcmp(now_enc, after_enc, n) == 0)
		u = a->before;
	else if (u.lock.failures > 0)
		u.lock.failures--;
	return rec_user_put(t, a->who->user, &u);
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
	if (st != NULL && s.enrolled &&
	    (r = rec_store_write_lazy(st, precount_txn, a)) != REC_OK)
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
		if (a->outcome == REC_OK && rec_store_write(st, refund_txn, a) ==
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
		r = rec_store_write(st, reject_txn, a);
	} else
		r = rec_store_write(st, consume_txn, a);
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
