/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_issue.c: issuing a batch, invalidating codes, export marks, a user's batches read back. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

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
	int take;	/* take the cooldown (the activation) */
};

/*
 * The cooldown and the replace rule, judged with the user's generate
 * cooldown and active batch; with g->take the cooldown is taken.
 */
static int
gen_rules(struct rec_lock *gen, const struct rec_batch *old, void *varg)
{
	struct gen *g = varg;
	struct rec_lock_policy gc;

	g->outcome = REC_OK;
	g->settle = 0;
	g->wait = 0;
	if (g->cfg->generate_cooldown > 0) {
		rec_config_gen_policy(g->cfg, &gc);
		g->settle = rec_lock_clock_back(gen, g->now, &gc);
		rec_lock_refresh(gen, g->now, &gc);
		if ((g->wait = rec_lock_remaining(gen, g->now, &gc)) > 0) {
			g->outcome = REC_ERR_COOLDOWN;
			return REC_STOP;
		}
		if (g->take)
			rec_lock_fail(gen, g->now, &gc);
	}
	if (old != NULL && old->status == REC_BATCH_ACTIVE &&
	    old->count > old->used + old->invalidated &&
	    (old->expires == 0 || old->expires > g->now) &&
	    !(g->flags & REC_GEN_REPLACE)) {
		g->outcome = REC_ERR_EXISTS;
		return REC_STOP;
	}
	return REC_OK;
}

/* The rules as a reader sees them, before any hashing. */
static int
gen_precheck(struct rec_store *st, struct gen *g)
{
	struct rec_view *v = NULL;
	int r = REC_ERR_INTERNAL;

	if ((v = malloc(sizeof(*v))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if ((r = rec_store_view(st, g->who->user, 0, v)) == REC_ERR_NOSTORE) {
		memset(v, 0, sizeof(*v));
		r = REC_OK;
	}
	if (r != REC_OK)
		goto out;
	g->take = 0;
	(void)gen_rules(&v->user.gen, v->have_batch ? &v->batch : NULL, g);
	r = REC_OK;
out:
	free(v);
	return r;
}

/* The event of an activation. */
static int
gen_audit(const struct rec_store_done *d, struct rec_event *ev, unsigned max,
    unsigned *n, void *varg)
{
	const struct gen *g = varg;
	char detail[64];

	if (max < 1)
		return REC_ERR_INTERNAL;
	snprintf(detail, sizeof(detail), "%u codes", d->changed);
	*n = (unsigned)rec_auth_event(g->cfg, g->who, g->now,
	    &(struct rec_mark){ .type = REC_EV_GENERATED, .batch = d->batch,
	    .detail = detail }, ev);
	return REC_OK;
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

int
rec_issue_prepare(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_issue_req *req,
    struct rec_new_batch *out, uint64_t *wait)
{
	const unsigned char *pepper = req->pepper;
	unsigned count = req->count, expires_days = req->expires_days;
	uint64_t now = req->now;
	struct gen g = { cfg, who, now, req->flags, out, 0, REC_OK, 0, 0 };
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
	if ((r = gen_precheck(st, &g)) != REC_OK)
		goto out;
	/* A cooldown read from a clock that moved back is written back. */
	if (g.settle && ((r = rec_auth_settle(st, cfg, who->user, now)) !=
	    REC_OK || (r = gen_precheck(st, &g)) != REC_OK))
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
	struct gen g = { cfg, who, now, nb->flags, nb, 0, REC_OK, 0, 0 };
	int r;

	if (wait != NULL)
		*wait = 0;
	r = rec_store_batch_stage(st, who->user, &nb->batch, nb->recs,
	    nb->batch.count, gen_rules, &g);
	if (wait != NULL)
		*wait = g.wait;
	return r == REC_STOP ? g.outcome : r;
}

int
rec_issue_commit(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, struct rec_new_batch *nb, uint64_t now,
    uint64_t *wait)
{
	struct gen g = { cfg, who, now, nb->flags, nb, 0, REC_OK, 0, 1 };
	struct rec_batch b = nb->batch;
	int r;

	if (wait != NULL)
		*wait = 0;
	b.status = REC_BATCH_ACTIVE;
	r = rec_store_batch_activate(st, who->user, &b, now, gen_rules, &g,
	    gen_audit, &g);
	if (wait != NULL)
		*wait = g.wait;
	return r == REC_STOP ? g.outcome : r;
}

int
rec_issue_discard(struct rec_store *st, const struct rec_who *who,
    struct rec_new_batch *nb)
{
	return rec_store_batch_discard(st, who->user, nb->batch.id);
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
	unsigned nslots;
	uint64_t now;
};

/* The event of an invalidation: how many codes, or the whole batch. */
static int
inval_audit(const struct rec_store_done *d, struct rec_event *ev,
    unsigned max, unsigned *n, void *varg)
{
	const struct inval *iv = varg;
	char detail[64];

	if (max < 1)
		return REC_ERR_INTERNAL;
	snprintf(detail, sizeof(detail), "%u code%s", d->changed,
	    d->changed == 1 ? "" : "s");
	*n = (unsigned)rec_auth_event(iv->cfg, iv->who, iv->now,
	    &(struct rec_mark){ .type = REC_EV_INVALIDATED, .batch = d->batch,
	    .slot = d->slot, .detail = iv->nslots == 0 ? "whole batch" :
	    detail }, ev);
	return REC_OK;
}

int
rec_issue_invalidate(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const unsigned *slots, unsigned nslots,
    uint64_t now)
{
	struct inval iv = { cfg, who, nslots, now };

	return rec_store_code_invalidate(st, who->user, slots, nslots, now,
	    inval_audit, &iv);
}

int
rec_issue_mark_exported(struct rec_store *st, const char *user, uint64_t batch,
    uint32_t how, uint64_t now)
{
	return rec_store_batch_export_mark(st, user, batch, how, now);
}

int
rec_issue_states_read(struct rec_store *st, const char *user,
    struct rec_states *out)
{
	struct rec_view *v = NULL;
	int r = REC_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	/* The hashes are not codes, but nothing gains from leaving them. */
	if ((v = sodium_malloc(sizeof(*v))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if ((r = rec_store_view(st, user, REC_VIEW_CODES, v)) != REC_OK)
		goto out;
	if (!v->have_batch) {
		r = REC_ERR_NOSTORE;
		goto out;
	}
	out->batch = v->batch.id;
	out->count = v->batch.count;
	out->remaining = (unsigned)(v->batch.count - v->batch.used -
	    v->batch.invalidated);
	for (unsigned i = 0; i < v->ncodes; i++)
		if (v->codes[i].slot >= 1 && v->codes[i].slot <= REC_COUNT_MAX)
			out->state[v->codes[i].slot] = v->codes[i].state;
out:
	sodium_free(v);
	return r;
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

int
rec_issue_batches_read(struct rec_store *st, const char *user,
    struct rec_batches *out)
{
	struct rec_view *v = NULL;
	int r = REC_ERR_INTERNAL;

	out->n = 0;
	out->active = 0;
	if ((v = malloc(sizeof(*v))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if ((r = rec_store_view(st, user, 0, v)) == REC_OK)
		out->active = v->user.active_batch;
	else if (r != REC_ERR_NOSTORE && r != REC_ERR_CORRUPT)
		goto out;
	r = rec_store_batch_each(st, user, collect_batch, out);
out:
	free(v);
	return r;
}

void
rec_issue_batches_free(struct rec_batches *bs)
{
	free(bs->v);
	memset(bs, 0, sizeof(*bs));
}
