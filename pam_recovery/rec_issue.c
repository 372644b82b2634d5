/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_issue.c: issuing a batch, invalidating codes, export marks, a user's batches read back. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_store_lmdb.h"
#include "rec_err.h"
#include "rec_issue.h"
#include "rec_policy.h"

struct gen {
	const struct rec_config *cfg;
	const struct rec_who *who;
	uint64_t now;
	unsigned flags;
	struct rec_new_batch *nb;
	uint64_t wait;
	int outcome;
	int settle;	/* the clock moved back behind the cooldown state */
};

/* Mark every unused code of batch b invalid; b is updated, not stored. */
static int
invalidate_all(struct rec_txn *t, const char *user, struct rec_batch *b,
    uint64_t now)
{
	struct rec_code_rec c;
	int r;

	for (unsigned slot = 1; slot <= b->count; slot++) {
		/* A code purge removed was not usable any more anyway. */
		if ((r = rec_coderec_get(t, user, b->id, slot, &c)) ==
		    REC_ERR_NOTFOUND)
			continue;
		if (r != REC_OK)
			return r;
		if (c.state != REC_CODE_UNUSED)
			continue;
		c.state = REC_CODE_INVALID;
		c.changed = now;
		if ((r = rec_coderec_put(t, user, b->id, &c)) != REC_OK)
			return r;
		b->invalidated++;
	}
	b->status = REC_BATCH_INVALIDATED;
	b->modified = now;
	return REC_OK;
}

/* Check (and with store set, take) the cooldown and the replace rule. */
static int
gen_check(struct rec_txn *t, struct gen *g, struct rec_user *u, int store)
{
	struct rec_lock_policy gc;
	struct rec_batch old;
	int r;

	if ((r = rec_user_get(t, g->who->user, u)) == REC_ERR_NOTFOUND) {
		memset(u, 0, sizeof(*u));
		r = REC_OK;
	}
	if (r != REC_OK)
		return r;
	g->outcome = REC_OK;
	if (g->cfg->generate_cooldown > 0) {
		rec_config_gen_policy(g->cfg, &gc);
		g->settle = rec_lock_clock_back(&u->gen, g->now, &gc);
		rec_lock_refresh(&u->gen, g->now, &gc);
		if ((g->wait = rec_lock_remaining(&u->gen, g->now, &gc)) > 0) {
			g->outcome = REC_ERR_COOLDOWN;
			return REC_OK;
		}
		if (store)
			rec_lock_fail(&u->gen, g->now, &gc);
	}
	if (u->active_batch == 0)
		return REC_OK;
	if ((r = rec_batch_get(t, g->who->user, u->active_batch,
	    &old)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	if (old.status == REC_BATCH_ACTIVE && old.count > old.used +
	    old.invalidated && (old.expires == 0 || old.expires > g->now) &&
	    !(g->flags & REC_GEN_REPLACE)) {
		g->outcome = REC_ERR_EXISTS;
		return REC_OK;
	}
	if (!store || old.status != REC_BATCH_ACTIVE)
		return REC_OK;
	if ((r = invalidate_all(t, g->who->user, &old, g->now)) != REC_OK)
		return r;
	return rec_batch_put(t, g->who->user, &old);
}

static int
gen_precheck_txn(struct rec_txn *t, void *varg)
{
	struct rec_user u;

	return gen_check(t, varg, &u, 0);
}

/*
 * Stage: the new batch and its codes go into the store, not active, so that
 * whatever can stop them being stored (a full disk) stops them before any
 * code is shown.  The rules are checked, not taken.
 */
static int
gen_stage_txn(struct rec_txn *t, void *varg)
{
	struct gen *g = varg;
	struct rec_batch b = g->nb->batch, other;
	struct rec_user u;
	int r;

	if ((r = gen_check(t, g, &u, 0)) != REC_OK || g->outcome != REC_OK)
		return r;
	/* 24 random bits a second per user: a clash is a bug, not bad luck. */
	if ((r = rec_batch_get(t, g->who->user, b.id, &other)) !=
	    REC_ERR_NOTFOUND)
		return r == REC_OK ? REC_ERR_INTERNAL : r;
	b.status = REC_BATCH_STAGED;
	if ((r = rec_batch_put(t, g->who->user, &b)) != REC_OK)
		return r;
	for (unsigned i = 0; i < b.count; i++)
		if ((r = rec_coderec_put(t, g->who->user, b.id,
		    &g->nb->recs[i])) != REC_OK)
			return r;
	return REC_OK;
}

/*
 * Activate the staged batch: take the cooldown, replace the old batch and
 * point the user at the new one.  Only small records change here; the
 * codes were written by the staging.
 */
static int
gen_activate_txn(struct rec_txn *t, void *varg)
{
	struct gen *g = varg;
	struct rec_batch b;
	struct rec_user u;
	char detail[64];
	int r;

	if ((r = gen_check(t, g, &u, 1)) != REC_OK || g->outcome != REC_OK)
		return r;
	if ((r = rec_batch_get(t, g->who->user, g->nb->batch.id, &b)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	if (b.status != REC_BATCH_STAGED)
		return REC_ERR_INTERNAL;
	b = g->nb->batch;
	b.status = REC_BATCH_ACTIVE;
	if ((r = rec_batch_put(t, g->who->user, &b)) != REC_OK)
		return r;
	u.active_batch = b.id;
	u.last_generated = g->now;
	if ((r = rec_user_put(t, g->who->user, &u)) != REC_OK)
		return r;
	snprintf(detail, sizeof(detail), "%u codes", b.count);
	return rec_auth_audit(t, g->cfg, g->who, g->now,
	    &(struct rec_mark){ .type = REC_EV_GENERATED, .batch = b.id,
	    .detail = detail });
}

/* 1 when one of the first n codes already has this tag. */
static int
tag_taken(const struct rec_code_rec *recs, unsigned n, uint16_t tag)
{
	for (unsigned i = 0; i < n; i++)
		if (recs[i].tag == tag)
			return 1;
	return 0;
}

/* Remove a batch that is still staged, with its codes. */
static int
gen_discard_txn(struct rec_txn *t, void *varg)
{
	struct gen *g = varg;
	struct rec_batch b;
	int r;

	if ((r = rec_batch_get(t, g->who->user, g->nb->batch.id, &b)) ==
	    REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK || b.status != REC_BATCH_STAGED)
		return r;
	for (unsigned slot = 1; slot <= b.count; slot++)
		if ((r = rec_coderec_del(t, g->who->user, b.id,
		    slot)) != REC_OK && r != REC_ERR_NOTFOUND)
			return r;
	return rec_batch_del(t, g->who->user, b.id);
}

int
rec_issue_prepare(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_issue_req *req,
    struct rec_new_batch *out, uint64_t *wait)
{
	const unsigned char *pepper = req->pepper;
	unsigned count = req->count, expires_days = req->expires_days;
	uint64_t now = req->now;
	struct gen g = { cfg, who, now, req->flags, out, 0, REC_OK, 0 };
	struct rec_batch *b = &out->batch;
	int r = REC_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (wait != NULL)
		*wait = 0;
	if (count < 1 || count > REC_COUNT_MAX || expires_days > 36500) {
		r = REC_ERR_USAGE;
		goto out;
	}
	/* The module would end such a batch at code_expiry_days anyway. */
	if (cfg->code_expiry_days > 0 && (expires_days == 0 ||
	    expires_days > cfg->code_expiry_days)) {
		r = REC_ERR_POLICY;
		goto out;
	}
	/* Fail fast, before the hashing, on the cooldown and replace rule. */
	if ((r = rec_store_read(st, gen_precheck_txn, &g)) != REC_OK)
		goto out;
	/* A cooldown read from a clock that moved back is written back. */
	if (g.settle && ((r = rec_auth_settle(st, cfg, who->user, now)) !=
	    REC_OK || (r = rec_store_read(st, gen_precheck_txn, &g)) != REC_OK))
		goto out;
	if ((r = g.outcome) != REC_OK)
		goto out;
	out->flags = req->flags;
	rec_config_format(cfg, &b->fmt);
	/* Batch ids sort by creation time; the low bits make them unique. */
	b->id = now << 24 | (1 + randombytes_uniform((1u << 24) - 1));
	b->status = REC_BATCH_ACTIVE;
	b->created = b->modified = now;
	b->expires = expires_days != 0 ? now + (uint64_t)expires_days * 86400 : 0;
	b->count = (uint16_t)count;
	b->opslimit = cfg->kdf_opslimit;
	b->memlimit = cfg->kdf_memlimit;
	b->peppered = pepper != NULL;
	b->tag_bits = (uint8_t)rec_format_batch_tag_bits(&b->fmt, count);
	randombytes_buf(b->tag_key, sizeof(b->tag_key));
	for (unsigned i = 0; i < count; i++) {
		struct rec_code_rec *c = &out->recs[i];

		/*
		 * An attempt hashes against one candidate only: a code whose
		 * tag an earlier code has already would never be found, so
		 * draw it again.  2^tag_bits >= count keeps this finite.
		 */
		do {
			rec_code_generate(&b->fmt, out->codes[i]);
			c->tag = rec_kdf_tag(out->codes[i], pepper, b->tag_key,
			    b->tag_bits);
		} while (tag_taken(out->recs, i, c->tag));
		c->slot = (uint8_t)(i + 1);
		c->state = REC_CODE_UNUSED;
		randombytes_buf(c->salt, sizeof(c->salt));
		if ((r = rec_kdf_hash(out->codes[i], pepper, c->salt,
		    b->opslimit, b->memlimit, c->hash)) != REC_OK)
			goto out;
	}
	r = REC_OK;
out:
	if (wait != NULL)
		*wait = g.wait;
	if (r != REC_OK)
		rec_new_batch_wipe(out);
	return r;
}

int
rec_issue_stage(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, struct rec_new_batch *nb, uint64_t now,
    uint64_t *wait)
{
	struct gen g = { cfg, who, now, nb->flags, nb, 0, REC_OK, 0 };
	int r;

	if (wait != NULL)
		*wait = 0;
	r = rec_store_write(st, gen_stage_txn, &g);
	if (wait != NULL)
		*wait = g.wait;
	return r != REC_OK ? r : g.outcome;
}

int
rec_issue_commit(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, struct rec_new_batch *nb, uint64_t now,
    uint64_t *wait)
{
	struct gen g = { cfg, who, now, nb->flags, nb, 0, REC_OK, 0 };
	int r;

	if (wait != NULL)
		*wait = 0;
	r = rec_store_write(st, gen_activate_txn, &g);
	if (wait != NULL)
		*wait = g.wait;
	return r != REC_OK ? r : g.outcome;
}

int
rec_issue_discard(struct rec_store *st, const struct rec_who *who,
    struct rec_new_batch *nb)
{
	struct gen g = { NULL, who, 0, 0, nb, 0, REC_OK, 0 };

	return rec_store_write(st, gen_discard_txn, &g);
}

int
rec_issue_generate(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_issue_req *req,
    struct rec_new_batch *out, uint64_t *wait)
{
	int r, staged = 0;

	r = rec_issue_prepare(st, cfg, who, req, out, wait);
	if (r == REC_OK && (r = rec_issue_stage(st, cfg, who, out, req->now,
	    wait)) == REC_OK) {
		staged = 1;
		r = rec_issue_commit(st, cfg, who, out, req->now, wait);
	}
	if (r != REC_OK && staged)
		(void)rec_issue_discard(st, who, out);
	if (r != REC_OK)
		rec_new_batch_wipe(out);
	return r;
}

void
rec_new_batch_wipe(struct rec_new_batch *nb)
{
	if (nb != NULL)
		sodium_memzero(nb, sizeof(*nb));
}

struct inval {
	const struct rec_config *cfg;
	const struct rec_who *who;
	const unsigned *slots;
	unsigned nslots;
	uint64_t now;
};

static int
invalidate_txn(struct rec_txn *t, void *varg)
{
	struct inval *iv = varg;
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	char detail[64];
	unsigned changed = 0, last = 0;
	int r;

	if ((r = rec_batch_get_active(t, iv->who->user, &u, &b)) != REC_OK)
		return r;
	if (iv->nslots == 0) {
		if ((r = invalidate_all(t, iv->who->user, &b,
		    iv->now)) != REC_OK)
			return r;
		u.active_batch = 0;
		if ((r = rec_user_put(t, iv->who->user, &u)) != REC_OK)
			return r;
	}
	for (unsigned i = 0; i < iv->nslots; i++) {
		if (iv->slots[i] < 1 || iv->slots[i] > b.count)
			return REC_ERR_NOTFOUND;
		if ((r = rec_coderec_get(t, iv->who->user, b.id, iv->slots[i],
		    &c)) == REC_ERR_NOTFOUND)
			continue;
		if (r != REC_OK)
			return r;
		if (c.state != REC_CODE_UNUSED)
			continue;
		c.state = REC_CODE_INVALID;
		c.changed = iv->now;
		b.invalidated++;
		if ((r = rec_coderec_put(t, iv->who->user, b.id, &c)) != REC_OK)
			return r;
		changed++;
		last = iv->slots[i];
	}
	/* Codes that were already used or invalidated: nothing happened. */
	if (iv->nslots > 0 && changed == 0)
		return REC_OK;
	b.modified = iv->now;
	if ((r = rec_batch_put(t, iv->who->user, &b)) != REC_OK)
		return r;
	snprintf(detail, sizeof(detail), "%u code%s", changed,
	    changed == 1 ? "" : "s");
	return rec_auth_audit(t, iv->cfg, iv->who, iv->now,
	    &(struct rec_mark){ .type = REC_EV_INVALIDATED, .batch = b.id,
	    .slot = changed == 1 ? last : 0,
	    .detail = iv->nslots == 0 ? "whole batch" : detail });
}

int
rec_issue_invalidate(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const unsigned *slots, unsigned nslots,
    uint64_t now)
{
	struct inval iv = { cfg, who, slots, nslots, now };

	return rec_store_write(st, invalidate_txn, &iv);
}

struct mark {
	const char *user;
	uint64_t batch;
	uint32_t how;
	uint64_t now;
};

static int
mark_txn(struct rec_txn *t, void *varg)
{
	struct mark *m = varg;
	struct rec_batch b;
	int r;

	if ((r = rec_batch_get(t, m->user, m->batch, &b)) != REC_OK)
		return r;
	b.exported |= m->how;
	b.modified = m->now;
	return rec_batch_put(t, m->user, &b);
}

int
rec_issue_mark_exported(struct rec_store *st, const char *user, uint64_t batch,
    uint32_t how, uint64_t now)
{
	struct mark m = { user, batch, how, now };

	return rec_store_write(st, mark_txn, &m);
}

struct states {
	const char *user;
	struct rec_states *out;
};

static int
states_txn(struct rec_txn *t, void *varg)
{
	const struct states *s = varg;
	struct rec_code_rec codes[REC_COUNT_MAX];
	struct rec_user u;
	struct rec_batch b;
	unsigned n = 0;
	int r = REC_ERR_INTERNAL;

	memset(s->out, 0, sizeof(*s->out));
	if ((r = rec_batch_get_active(t, s->user, &u, &b)) != REC_OK ||
	    (r = rec_coderec_get_all(t, s->user, b.id, codes, REC_COUNT_MAX,
	    &n)) != REC_OK)
		goto out;
	s->out->batch = b.id;
	s->out->count = b.count;
	s->out->remaining = (unsigned)(b.count - b.used - b.invalidated);
	for (unsigned i = 0; i < n; i++)
		if (codes[i].slot >= 1 && codes[i].slot <= REC_COUNT_MAX)
			s->out->state[codes[i].slot] = codes[i].state;
out:
	/* The hashes are not codes, but nothing gains from leaving them. */
	sodium_memzero(codes, sizeof(codes));
	return r;
}

int
rec_issue_states_read(struct rec_store *st, const char *user,
    struct rec_states *out)
{
	struct states s = { user, out };

	return rec_store_read(st, states_txn, &s);
}

static int
collect_batch(const char *user, const struct rec_batch *b, void *varg)
{
	struct rec_batches *bs = varg;
	struct rec_batch *grown;

	(void)user;
	if (bs->n == bs->cap) {
		bs->cap = bs->cap == 0 ? 16 : bs->cap * 2;
		if ((grown = reallocarray(bs->v, bs->cap, sizeof(*grown))) ==
		    NULL)
			return REC_ERR_NOMEM;
		bs->v = grown;
	}
	bs->v[bs->n++] = *b;
	return REC_OK;
}

struct batches {
	const char *user;
	struct rec_batches *out;
};

static int
batches_txn(struct rec_txn *t, void *varg)
{
	const struct batches *a = varg;
	struct rec_user u;
	int r;

	a->out->n = 0;	/* the transaction may run again from the start */
	a->out->active = 0;
	if ((r = rec_user_get(t, a->user, &u)) == REC_OK)
		a->out->active = u.active_batch;
	else if (r != REC_ERR_NOTFOUND)
		return r;
	return rec_batch_each(t, a->user, collect_batch, a->out);
}

int
rec_issue_batches_read(struct rec_store *st, const char *user,
    struct rec_batches *out)
{
	struct batches a = { user, out };

	return rec_store_read(st, batches_txn, &a);
}

void
rec_issue_batches_free(struct rec_batches *bs)
{
	free(bs->v);
	memset(bs, 0, sizeof(*bs));
}
