/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_lmdb_issue.c: the LMDB store's generate and invalidate steps, one transaction each. */
#include <string.h>

#include "rec_err.h"
#include "rec_store_lmdb_int.h"

/* Mark every unused code of batch b invalid; b is updated, not stored. */
static int
invalidate_all(struct rec_txn *t, const char *user, struct rec_batch *b,
    uint64_t now, unsigned *changed)
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
		(*changed)++;
	}
	b->status = REC_BATCH_INVALIDATED;
	b->modified = now;
	return REC_OK;
}

struct gen_arg {
	const char *user;
	const struct rec_batch *b;
	const struct rec_code_rec *recs;
	unsigned n;
	uint64_t now;
	rec_store_gen_fn *fn;
	void *arg;
	rec_store_audit_fn *audit;
	void *aarg;
};

/*
 * Read user (a zero record when there is none) and its active batch into
 * *u and *old, and judge fn; *has_old says whether there is one.  REC_STOP
 * when fn refused.
 */
static int
gen_judge(struct rec_txn *t, const struct gen_arg *g, struct rec_user *u,
    struct rec_batch *old, int *has_old)
{
	int r;

	*has_old = 0;
	if ((r = rec_user_get(t, g->user, u)) == REC_ERR_NOTFOUND)
		memset(u, 0, sizeof(*u));
	else if (r != REC_OK)
		return r;
	if (u->active_batch != 0) {
		if ((r = rec_batch_get(t, g->user, u->active_batch, old)) !=
		    REC_OK)
			return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
		*has_old = 1;
	}
	return g->fn(&u->gen, *has_old ? old : NULL, g->arg);
}

static int
stage_txn(struct rec_txn *t, void *varg)
{
	const struct gen_arg *g = varg;
	struct rec_batch b = *g->b, old, other;
	struct rec_user u;
	int has_old, r;

	if ((r = gen_judge(t, g, &u, &old, &has_old)) != REC_OK)
		return r;
	/* 24 random bits a second per user: a clash is a bug, not bad luck. */
	if ((r = rec_batch_get(t, g->user, b.id, &other)) != REC_ERR_NOTFOUND)
		return r == REC_OK ? REC_ERR_INTERNAL : r;
	b.status = REC_BATCH_STAGED;
	if ((r = rec_batch_put(t, g->user, &b)) != REC_OK)
		return r;
	for (unsigned i = 0; i < g->n; i++)
		if ((r = rec_coderec_put(t, g->user, b.id, &g->recs[i])) !=
		    REC_OK)
			return r;
	return REC_OK;
}

int
lmdb_batch_stage(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n,
    rec_store_gen_fn *fn, void *arg)
{
	struct gen_arg g = { user, b, recs, n, 0, fn, arg, NULL, NULL };

	return rec_store_write(st, stage_txn, &g);
}

/*
 * Only small records change here; the codes were written by the staging.
 */
static int
activate_txn(struct rec_txn *t, void *varg)
{
	const struct gen_arg *g = varg;
	struct rec_batch b, old;
	struct rec_user u;
	struct rec_store_done d;
	unsigned changed = 0;
	int has_old, r;

	if ((r = gen_judge(t, g, &u, &old, &has_old)) != REC_OK)
		return r;
	if ((r = rec_batch_get(t, g->user, g->b->id, &b)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	if (b.status != REC_BATCH_STAGED)
		return REC_ERR_INTERNAL;
	if (has_old && old.status == REC_BATCH_ACTIVE &&
	    ((r = invalidate_all(t, g->user, &old, g->now, &changed)) !=
	    REC_OK || (r = rec_batch_put(t, g->user, &old)) != REC_OK))
		return r;
	b = *g->b;
	b.status = REC_BATCH_ACTIVE;
	if ((r = rec_batch_put(t, g->user, &b)) != REC_OK)
		return r;
	u.active_batch = b.id;
	u.last_generated = g->now;
	if ((r = rec_user_put(t, g->user, &u)) != REC_OK)
		return r;
	memset(&d, 0, sizeof(d));
	d.batch = b.id;
	d.changed = b.count;
	return rec_lmdb_audit(t, g->audit, g->aarg, &d);
}

int
lmdb_batch_activate(struct rec_store *st, const char *user,
    const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn,
    void *arg, rec_store_audit_fn *audit, void *aarg)
{
	struct gen_arg g = { user, b, NULL, 0, now, fn, arg, audit, aarg };

	return rec_store_write(st, activate_txn, &g);
}

struct discard_arg {
	const char *user;
	uint64_t id;
};

static int
discard_txn(struct rec_txn *t, void *varg)
{
	const struct discard_arg *a = varg;
	struct rec_batch b;
	int r;

	if ((r = rec_batch_get(t, a->user, a->id, &b)) == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK || b.status != REC_BATCH_STAGED)
		return r;
	for (unsigned slot = 1; slot <= b.count; slot++)
		if ((r = rec_coderec_del(t, a->user, b.id, slot)) != REC_OK &&
		    r != REC_ERR_NOTFOUND)
			return r;
	return rec_batch_del(t, a->user, b.id);
}

int
lmdb_batch_discard(struct rec_store *st, const char *user, uint64_t id)
{
	struct discard_arg a = { user, id };

	return rec_store_write(st, discard_txn, &a);
}

struct inval_arg {
	const char *user;
	const unsigned *slots;
	unsigned nslots;
	uint64_t now;
	rec_store_audit_fn *audit;
	void *arg;
};

static int
invalidate_txn(struct rec_txn *t, void *varg)
{
	const struct inval_arg *iv = varg;
	struct rec_store_done d;
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	int r;

	memset(&d, 0, sizeof(d));
	if ((r = rec_batch_get_active(t, iv->user, &u, &b)) != REC_OK)
		return r;
	d.batch = b.id;
	if (iv->nslots == 0) {
		if ((r = invalidate_all(t, iv->user, &b, iv->now,
		    &d.changed)) != REC_OK)
			return r;
		u.active_batch = 0;
		if ((r = rec_user_put(t, iv->user, &u)) != REC_OK)
			return r;
	}
	for (unsigned i = 0; i < iv->nslots; i++) {
		if (iv->slots[i] < 1 || iv->slots[i] > b.count)
			return REC_ERR_NOTFOUND;
		if ((r = rec_coderec_get(t, iv->user, b.id, iv->slots[i],
		    &c)) == REC_ERR_NOTFOUND)
			continue;
		if (r != REC_OK)
			return r;
		if (c.state != REC_CODE_UNUSED)
			continue;
		c.state = REC_CODE_INVALID;
		c.changed = iv->now;
		b.invalidated++;
		if ((r = rec_coderec_put(t, iv->user, b.id, &c)) != REC_OK)
			return r;
		d.changed++;
		d.slot = iv->slots[i];
	}
	/* Codes that were already used or invalidated: nothing happened. */
	if (iv->nslots > 0 && d.changed == 0)
		return REC_OK;
	if (d.changed != 1)
		d.slot = 0;
	b.modified = iv->now;
	if ((r = rec_batch_put(t, iv->user, &b)) != REC_OK)
		return r;
	return rec_lmdb_audit(t, iv->audit, iv->arg, &d);
}

int
lmdb_code_invalidate(struct rec_store *st, const char *user,
    const unsigned *slots, unsigned nslots, uint64_t now,
    rec_store_audit_fn *audit, void *arg)
{
	struct inval_arg iv = { user, slots, nslots, now, audit, arg };

	return rec_store_write(st, invalidate_txn, &iv);
}

struct export_arg {
	const char *user;
	uint64_t id;
	uint32_t how;
	uint64_t now;
};

static int
export_txn(struct rec_txn *t, void *varg)
{
	const struct export_arg *m = varg;
	struct rec_batch b;
	int r;

	if ((r = rec_batch_get(t, m->user, m->id, &b)) != REC_OK)
		return r;
	b.exported |= m->how;
	b.modified = m->now;
	return rec_batch_put(t, m->user, &b);
}

int
lmdb_batch_export_mark(struct rec_store *st, const char *user, uint64_t id,
    uint32_t how, uint64_t now)
{
	struct export_arg m = { user, id, how, now };

	return rec_store_write(st, export_txn, &m);
}
