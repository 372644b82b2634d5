/* SPDX-License-Identifier: BSD-2-Clause */
/* test_migrate.c: copying users from one LMDB store into another through the store interface (rec_migrate). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "testutil.h"
#include "rec_auth.h"
#include "rec_err.h"
#include "rec_issue.h"
#include "rec_migrate.h"
#include "rec_store_be.h"	/* the spy below is a backend */

#define T0 1800000000ULL

struct fx {
	struct store_fx s;		/* first: the source, alice */
	char ddir[64], dpath[128];
	struct rec_config dcfg;
	struct rec_store *dst;		/* the destination */
	struct rec_new_batch old;	/* alice's first, replaced batch */
	struct rec_migrate_user *mu;
	struct rec_who admin;
};

static int
set_failures(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *arg)
{
	(void)which;
	(void)v;
	lk->failures = *(uint32_t *)arg;
	lk->window_start = T0 + 50;
	lk->last_fail = T0 + 50;
	return REC_OK;
}

/*
 * alice in the source: a first batch of 5, replaced by a second of 5 whose
 * code 1 is used and code 2 invalidated, and two failures counted.
 */
static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct rec_result res;
	uint32_t two = 2;
	unsigned slot = 2;

	assert_non_null(f);
	/* LMDB into the store under test (the directory: migrate --from). */
	store_fx_open_lmdb(&f->s, "test_migrate");
	test_store_open("test_migrate_dst", f->ddir, sizeof(f->ddir),
	    f->dpath, sizeof(f->dpath), &f->dcfg, &f->dst);
	store_fx_generate(&f->s, 5, T0);
	f->old = f->s.nb;
	store_fx_generate(&f->s, 5, T0 + 10);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .now = T0 + 20 },
	    &res), REC_OK);
	assert_int_equal(rec_store_code_invalidate(f->s.st, "alice", &slot, 1,
	    T0 + 30, NULL, NULL), REC_OK);
	assert_int_equal(rec_store_lock_update(f->s.st, "alice", REC_LOCK_LOGIN,
	    0, set_failures, &two, NULL, NULL), REC_OK);
	assert_non_null(f->mu = sodium_malloc(sizeof(*f->mu)));
	f->admin.user = "alice";
	f->admin.actor = "root";
	f->admin.service = "pam-recovery-admin";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	sodium_free(f->mu);
	rec_new_batch_wipe(&f->old);
	rec_store_close(f->dst);
	assert_int_equal(tmpdir_remove(f->ddir), 0);
	return store_fx_teardown(state);
}

static int
migrate(struct fx *f, const char *user, unsigned flags,
    struct rec_migrate_result *res)
{
	int r;

	f->admin.user = user;
	if ((r = rec_migrate_read(f->s.st, user, f->mu)) != REC_OK)
		return r;
	return rec_migrate_write(f->dst, f->mu, &f->dcfg, &f->admin,
	    f->s.path, T0 + 100, flags, res);
}

static int
try(struct fx *f, const char *code, uint64_t now)
{
	struct rec_result res;

	return rec_auth_attempt(f->dst, &f->dcfg, &f->s.who,
	    &(struct rec_attempt){ .input = code, .now = now }, &res);
}

static int
count_batch(const char *user, const struct rec_batch *b, void *arg)
{
	(void)user;
	(void)b;
	(*(unsigned *)arg)++;
	return REC_OK;
}

static unsigned
batches(struct rec_store *st, const char *user)
{
	unsigned n = 0;

	assert_int_equal(rec_store_batch_each(st, user, count_batch, &n),
	    REC_OK);
	return n;
}

static void
test_read(void **state)
{
	struct fx *f = *state;

	assert_int_equal(rec_migrate_read(f->s.st, "alice", f->mu), REC_OK);
	assert_string_equal(f->mu->user, "alice");
	assert_int_equal(f->mu->nbatches, 2);
	assert_int_equal(f->mu->purged, 0);
	assert_int_equal(f->mu->u.active_batch, f->s.nb.batch.id);
	assert_int_equal(f->mu->u.lock.failures, 2);
	assert_int_equal(rec_migrate_read(f->s.st, "nobody", f->mu),
	    REC_ERR_NOSTORE);
}

/* Every code keeps its state, the counters and times come along. */
static void
test_copy(void **state)
{
	struct fx *f = *state;
	struct rec_migrate_result res;
	struct rec_view *v = sodium_malloc(sizeof(*v));
	unsigned events = 0;

	assert_non_null(v);
	assert_int_equal(migrate(f, "alice", 0, &res), REC_OK);
	assert_false(res.skipped);
	assert_int_equal(res.batches, 2);
	assert_int_equal(res.unused, 3);
	assert_int_equal(res.used, 1);
	assert_int_equal(res.invalid, 5 + 1);
	assert_int_equal(rec_store_view(f->dst, "alice", REC_VIEW_CODES, v),
	    REC_OK);
	assert_int_equal(v->user.active_batch, f->s.nb.batch.id);
	assert_int_equal(v->user.lock.failures, 2);
	assert_int_equal(v->user.lock.window_start, T0 + 50);
	assert_int_equal(v->user.last_used, T0 + 20);
	assert_int_equal(v->user.last_generated, T0 + 10);
	assert_int_equal(v->batch.used, 1);
	assert_int_equal(v->batch.invalidated, 1);
	assert_int_equal(v->ncodes, 5);
	assert_int_equal(v->codes[0].state, REC_CODE_USED);
	assert_int_equal(v->codes[0].changed, T0 + 20);
	assert_int_equal(v->codes[1].state, REC_CODE_INVALID);
	assert_memory_equal(v->codes[2].hash, f->s.nb.recs[2].hash,
	    REC_HASH_LEN);
	sodium_free(v);
	assert_int_equal(batches(f->dst, "alice"), 2);
	/* One event says who copied from where. */
	assert_int_equal(test_count_events(f->dst, &events), REC_OK);
	assert_int_equal(events, 1);

	/*
	 * The printed codes: used stays used, the rest as before; the two
	 * failures came along, so the third that follows (max_attempts 5)
	 * locks, and a good code waits for the lock like in the source.
	 */
	assert_int_equal(try(f, f->s.nb.codes[0], T0 + 200), REC_ERR_USED);
	assert_int_equal(try(f, f->s.nb.codes[1], T0 + 201),
	    REC_ERR_INVALIDATED);
	/* A replaced batch's codes match nothing, as in the source. */
	assert_int_equal(try(f, f->old.codes[0], T0 + 202), REC_ERR_NOMATCH);
	assert_int_equal(try(f, f->s.nb.codes[2], T0 + 203), REC_ERR_LOCKED);
	assert_int_equal(try(f, f->s.nb.codes[2], T0 + 100000), REC_OK);
	assert_int_equal(try(f, f->s.nb.codes[2], T0 + 100001), REC_ERR_USED);
	assert_int_equal(try(f, f->s.nb.codes[4], T0 + 100002), REC_OK);
	/* The source is only read. */
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[2], .now = T0 + 60 },
	    &(struct rec_result){ 0 }), REC_OK);
}

/* A dry run counts and writes nothing. */
static void
test_dry_run(void **state)
{
	struct fx *f = *state;
	struct rec_migrate_result res;
	struct rec_view *v = sodium_malloc(sizeof(*v));
	unsigned events = 0;

	assert_non_null(v);
	assert_int_equal(migrate(f, "alice", REC_MIGRATE_DRY, &res), REC_OK);
	assert_false(res.skipped);
	assert_int_equal(res.batches, 2);
	assert_int_equal(res.unused, 3);
	assert_int_equal(rec_store_view(f->dst, "alice", 0, v),
	    REC_ERR_NOSTORE);
	assert_int_equal(batches(f->dst, "alice"), 0);
	assert_int_equal(test_count_events(f->dst, &events), REC_OK);
	assert_int_equal(events, 0);
	sodium_free(v);
}

/* A user the destination has already is left alone, and said so. */
static void
test_existing_user(void **state)
{
	struct fx *f = *state;
	struct rec_migrate_result res;
	struct rec_new_batch *mine = calloc(1, sizeof(*mine));
	struct rec_view *v = sodium_malloc(sizeof(*v));
	unsigned events = 0;

	assert_non_null(mine);
	assert_non_null(v);
	assert_int_equal(rec_issue_generate(f->dst, &f->dcfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = T0 + 90 }, mine, NULL),
	    REC_OK);
	assert_int_equal(test_count_events(f->dst, &events), REC_OK);
	assert_int_equal(migrate(f, "alice", 0, &res), REC_OK);
	assert_true(res.skipped);
	assert_int_equal(rec_store_view(f->dst, "alice", 0, v), REC_OK);
	assert_int_equal(v->user.active_batch, mine->batch.id);
	assert_int_equal(v->user.lock.failures, 0);
	assert_int_equal(batches(f->dst, "alice"), 1);
	assert_int_equal(try(f, f->s.nb.codes[2], T0 + 200), REC_ERR_NOMATCH);
	assert_int_equal(try(f, mine->codes[0], T0 + 201), REC_OK);
	/* A second run after a copy: skipped as well. */
	assert_int_equal(migrate(f, "alice", REC_MIGRATE_DRY, &res), REC_OK);
	assert_true(res.skipped);
	rec_new_batch_wipe(mine);
	free(mine);
	sodium_free(v);
}

/*
 * A copy that stopped after its batches: no login trusts them, and a run
 * again fails rather than write over them.
 */
static void
test_half_done(void **state)
{
	struct fx *f = *state;
	struct rec_migrate_result res;
	const struct rec_migrate_batch *mb;

	assert_int_equal(rec_migrate_read(f->s.st, "alice", f->mu), REC_OK);
	mb = &f->mu->batches[1];
	assert_int_equal(rec_store_batch_put(f->dst, "alice", &mb->b, mb->codes,
	    mb->ncodes), REC_OK);
	assert_int_equal(try(f, f->s.nb.codes[2], T0 + 200), REC_ERR_NOSTORE);
	assert_int_equal(rec_store_batch_put(f->dst, "alice", &mb->b, mb->codes,
	    mb->ncodes), REC_ERR_EXISTS);
	assert_int_equal(migrate(f, "alice", 0, &res), REC_ERR_EXISTS);
	assert_false(res.skipped);
	assert_int_equal(try(f, f->s.nb.codes[2], T0 + 201), REC_ERR_NOSTORE);
}

/* What batch_put and user_put refuse. */
static void
test_put_refusals(void **state)
{
	struct fx *f = *state;
	struct rec_migrate_batch *mb;
	struct rec_batch purged;
	struct rec_user u;

	assert_int_equal(rec_migrate_read(f->s.st, "alice", f->mu), REC_OK);
	mb = &f->mu->batches[1];
	/* Counters that do not fit the code records. */
	mb->b.used = 0;
	assert_int_equal(rec_store_batch_put(f->dst, "alice", &mb->b, mb->codes,
	    mb->ncodes), REC_ERR_USAGE);
	/* A record that names a batch not copied. */
	u = f->mu->u;
	assert_int_equal(rec_store_user_put(f->dst, "alice", &u, REC_WRITE_DRY,
	    NULL, NULL), REC_OK);
	assert_int_equal(rec_store_user_put(f->dst, "alice", &u, 0, NULL,
	    NULL), REC_ERR_CORRUPT);
	u.active_batch = 0;
	assert_int_equal(rec_store_user_put(f->dst, "alice", &u, 0, NULL,
	    NULL), REC_OK);
	assert_int_equal(rec_store_user_put(f->dst, "alice", &u, REC_WRITE_DRY,
	    NULL, NULL), REC_ERR_EXISTS);
	assert_int_equal(rec_store_user_put(f->dst, "alice", &u, 0, NULL,
	    NULL), REC_ERR_EXISTS);

	/* A copy out of bounds (a child's word) is refused before use. */
	f->mu->nbatches = REC_MIGRATE_BATCHES + 1;
	assert_int_equal(rec_migrate_write(f->dst, f->mu, &f->dcfg, &f->admin,
	    "x", T0, 0, &(struct rec_migrate_result){ 0 }), REC_ERR_CORRUPT);
	f->mu->nbatches = 2;
	f->mu->batches[1].ncodes = REC_COUNT_MAX + 1;
	assert_int_equal(rec_migrate_write(f->dst, f->mu, &f->dcfg, &f->admin,
	    "x", T0, 0, &(struct rec_migrate_result){ 0 }), REC_ERR_CORRUPT);
	memset(f->mu->user, 'a', sizeof(f->mu->user));
	f->mu->batches[1].ncodes = 5;
	assert_int_equal(rec_migrate_write(f->dst, f->mu, &f->dcfg, &f->admin,
	    "x", T0, 0, &(struct rec_migrate_result){ 0 }), REC_ERR_CORRUPT);

	/* A purged batch in the source is left out, and counted. */
	purged = f->mu->batches[0].b;
	purged.id += 1;
	purged.status = REC_BATCH_PURGED;
	purged.used = purged.invalidated = 0;
	assert_int_equal(rec_store_batch_put(f->s.st, "alice", &purged, NULL,
	    0), REC_OK);
	assert_int_equal(rec_migrate_read(f->s.st, "alice", f->mu), REC_OK);
	assert_int_equal(f->mu->nbatches, 2);
	assert_int_equal(f->mu->purged, 1);
}

struct seen {
	char names[8][REC_USER_MAX];
	unsigned nbatches[8];
	int rc[8];
	unsigned n;
	struct rec_store *src;
	struct rec_migrate_user *one;
};

static int
seen_user(int rc, const struct rec_migrate_user *mu, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 8);
	snprintf(s->names[s->n], REC_USER_MAX, "%s", mu->user);
	s->nbatches[s->n] = mu->nbatches;
	s->rc[s->n] = rc;
	/* The same as a read of that user alone. */
	assert_int_equal(rec_migrate_read(s->src, mu->user, s->one), rc);
	if (rc == REC_OK) {
		assert_int_equal(s->one->nbatches, mu->nbatches);
		assert_int_equal(s->one->u.active_batch, mu->u.active_batch);
		assert_int_equal(s->one->u.lock.failures, mu->u.lock.failures);
		for (unsigned i = 0; i < mu->nbatches; i++) {
			const struct rec_migrate_batch *a = &s->one->batches[i];
			const struct rec_migrate_batch *b = &mu->batches[i];

			assert_int_equal(a->b.id, b->b.id);
			assert_int_equal(a->ncodes, b->ncodes);
			for (unsigned k = 0; k < a->ncodes; k++) {
				assert_int_equal(a->codes[k].slot,
				    b->codes[k].slot);
				assert_int_equal(a->codes[k].state,
				    b->codes[k].state);
				assert_memory_equal(a->codes[k].hash,
				    b->codes[k].hash, REC_HASH_LEN);
			}
		}
	}
	s->n++;
	return REC_OK;
}

static int
create_record(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *arg)
{
	(void)which;
	(void)v;
	(void)arg;
	lk->failures = 1;
	return REC_OK;
}

/*
 * A whole store in one walk: every user with a record, in name order
 * (a name that is the start of another's first), each as read alone;
 * batches without a user's record left behind.
 */
static void
test_read_each(void **state)
{
	struct fx *f = *state;
	struct seen *s = calloc(1, sizeof(*s));
	struct rec_migrate_user *mu = sodium_malloc(sizeof(*mu));
	struct rec_new_batch *nb = calloc(1, sizeof(*nb));
	const char *users[] = { "al", "bob" };

	assert_non_null(s);
	assert_non_null(mu);
	assert_non_null(nb);
	assert_non_null(s->one = sodium_malloc(sizeof(*s->one)));
	s->src = f->s.st;
	for (unsigned i = 0; i < 2; i++)
		assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg,
		    &(struct rec_who){ .user = users[i] },
		    &(struct rec_issue_req){ .count = 2, .now = T0 + i },
		    nb, NULL), REC_OK);
	/* dave: a batch and no record; erin: a record and no batch. */
	assert_int_equal(rec_store_batch_put(f->s.st, "dave", &nb->batch,
	    nb->recs, 2), REC_OK);
	assert_int_equal(rec_store_lock_update(f->s.st, "erin", REC_LOCK_LOGIN,
	    REC_WRITE_CREATE, create_record, NULL, NULL, NULL), REC_OK);
	assert_int_equal(rec_migrate_read_each(f->s.st, mu, seen_user, s),
	    REC_OK);
	assert_int_equal(s->n, 4);
	assert_string_equal(s->names[0], "al");
	assert_string_equal(s->names[1], "alice");
	assert_string_equal(s->names[2], "bob");
	assert_string_equal(s->names[3], "erin");
	assert_int_equal(s->nbatches[0], 1);
	assert_int_equal(s->nbatches[1], 2);
	assert_int_equal(s->nbatches[2], 1);
	assert_int_equal(s->nbatches[3], 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(s->rc[i], REC_OK);
	assert_int_equal(rec_migrate_read(f->s.st, "dave", mu),
	    REC_ERR_NOSTORE);
	rec_new_batch_wipe(nb);
	free(nb);
	sodium_free(s->one);
	sodium_free(mu);
	free(s);
}

/*
 * A backend that passes a copy's writes on to a real store and notes
 * them in order; with race set, the user gets a record of their own
 * just before the first batch is written (a generation that slips in).
 */
struct spy {
	struct rec_store base;
	struct rec_store *inner;
	struct fx *f;
	char calls[32];
	unsigned n;
	int race;
};

static int
spy_batch_put(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n)
{
	struct spy *sp = (struct spy *)(void *)st;

	if (sp->race && sp->n == 1)
		assert_int_equal(rec_issue_generate(sp->inner, &sp->f->dcfg,
		    &(struct rec_who){ .user = user },
		    &(struct rec_issue_req){ .count = 2, .now = T0 + 95 },
		    &sp->f->old, NULL), REC_OK);
	sp->calls[sp->n++] = 'b';
	return rec_store_batch_put(sp->inner, user, b, recs, n);
}

static int
spy_user_put(struct rec_store *st, const char *user,
    const struct rec_user *u, unsigned flags, rec_store_audit_fn *audit,
    void *arg)
{
	struct spy *sp = (struct spy *)(void *)st;

	sp->calls[sp->n++] = (flags & REC_WRITE_DRY) ? 'd' : 'u';
	return rec_store_user_put(sp->inner, user, u, flags, audit, arg);
}

static const struct rec_store_ops spy_ops = {
	.name = "spy",
	.batch_put = spy_batch_put,
	.user_put = spy_user_put,
};

/*
 * The order a copy writes in: a look, the batches, the record last; and
 * a record given meanwhile stays, the copy failing.
 */
static void
test_order(void **state)
{
	struct fx *f = *state;
	struct spy sp;
	struct rec_migrate_result res;
	struct rec_view *v = sodium_malloc(sizeof(*v));

	assert_non_null(v);
	memset(&sp, 0, sizeof(sp));
	sp.base.ops = &spy_ops;
	sp.inner = f->dst;
	sp.f = f;
	assert_int_equal(rec_migrate_read(f->s.st, "alice", f->mu), REC_OK);
	assert_int_equal(rec_migrate_write(&sp.base, f->mu, &f->dcfg,
	    &f->admin, "x", T0 + 100, 0, &res), REC_OK);
	assert_string_equal(sp.calls, "dbbu");

	rec_new_batch_wipe(&f->old);
	memset(&sp, 0, sizeof(sp));
	sp.base.ops = &spy_ops;
	sp.inner = f->dst;
	sp.f = f;
	sp.race = 1;
	f->admin.user = "bob";
	snprintf(f->mu->user, sizeof(f->mu->user), "bob");
	assert_int_equal(rec_migrate_write(&sp.base, f->mu, &f->dcfg,
	    &f->admin, "x", T0 + 100, 0, &res), REC_ERR_EXISTS);
	assert_string_equal(sp.calls, "dbbu");
	/* bob's own record and batch stay in force. */
	assert_int_equal(rec_store_view(f->dst, "bob", 0, v), REC_OK);
	assert_int_equal(v->user.active_batch, f->old.batch.id);
	assert_int_equal(v->user.lock.failures, 0);
	sodium_free(v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_copy, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dry_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_existing_user, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_half_done, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_put_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_read_each, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_order, setup, teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
