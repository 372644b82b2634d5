/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_lmdb_import.c: the LMDB store's side of a copy: a batch as given, then the user's record. */
#include <string.h>

#include "rec_err.h"
#include "rec_store_lmdb_int.h"

struct batch_put {
	const char *user;
	const struct rec_batch *b;
	const struct rec_code_rec *recs;
	unsigned n;
};

static int
batch_put_txn(struct rec_txn *t, void *varg)
{
	const struct batch_put *p = varg;
	struct rec_batch other;
	int r;

	if ((r = rec_batch_get(t, p->user, p->b->id, &other)) !=
	    REC_ERR_NOTFOUND)
		return r == REC_OK ? REC_ERR_EXISTS : r;
	if ((r = rec_batch_put(t, p->user, p->b)) != REC_OK)
		return r;
	for (unsigned i = 0; i < p->n; i++)
		if ((r = rec_coderec_put(t, p->user, p->b->id, &p->recs[i])) !=
		    REC_OK)
			return r;
	return REC_OK;
}

int
lmdb_batch_put(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n)
{
	struct batch_put p = { user, b, recs, n };

	if (b->id == 0 || b->count == 0 || b->count > REC_COUNT_MAX ||
	    b->status < REC_BATCH_ACTIVE || b->status > REC_BATCH_STAGED ||
	    rec_batch_check_codes(b, recs, n) != REC_OK)
		return REC_ERR_USAGE;
	return rec_store_write(st, batch_put_txn, &p);
}

struct user_put {
	const char *user;
	const struct rec_user *u;
	rec_store_audit_fn *audit;
	void *arg;
};

/* The checks of a user_put; the write too unless dry. */
static int
user_put_txn(struct rec_txn *t, void *varg, int dry)
{
	const struct user_put *p = varg;
	struct rec_store_done d;
	struct rec_user old;
	struct rec_batch b;
	int r;

	if ((r = rec_user_get(t, p->user, &old)) != REC_ERR_NOTFOUND)
		return r == REC_OK ? REC_ERR_EXISTS : r;
	if (dry)
		return REC_OK;
	if (p->u->active_batch != 0 && (r = rec_batch_get(t, p->user,
	    p->u->active_batch, &b)) != REC_OK)
		return r == REC_ERR_NOTFOUND ? REC_ERR_CORRUPT : r;
	if ((r = rec_user_put(t, p->user, p->u)) != REC_OK)
		return r;
	memset(&d, 0, sizeof(d));
	d.batch = p->u->active_batch;
	return rec_lmdb_audit(t, p->audit, p->arg, &d);
}

static int
user_put_write(struct rec_txn *t, void *varg)
{
	return user_put_txn(t, varg, 0);
}

static int
user_put_dry(struct rec_txn *t, void *varg)
{
	return user_put_txn(t, varg, 1);
}

int
lmdb_user_put(struct rec_store *st, const char *user,
    const struct rec_user *u, unsigned flags, rec_store_audit_fn *audit,
    void *arg)
{
	struct user_put p = { user, u, audit, arg };

	return (flags & REC_WRITE_DRY) ? rec_store_read(st, user_put_dry, &p) :
	    rec_store_write(st, user_put_write, &p);
}
