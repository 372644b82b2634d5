/* SPDX-License-Identifier: BSD-2-Clause */
/* test_purge.c: purge and audit purge against a real store, time passed in. */
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
#include "rec_err.h"
#include "rec_issue.h"
#include "rec_purge.h"

#define T0 1800000000ULL
#define DAY 86400ULL

struct fx {
	struct store_fx s;	/* first: the store, alice, her codes */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fx_open(&f->s, "test_purge");
	*state = f;
	return 0;
}

static void
generate(struct fx *f, const char *user, unsigned n, unsigned days,
    uint64_t now)
{
	struct rec_who who = { .user = user };

	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &who,
	    &(struct rec_issue_req){ .count = n, .expires_days = days,
	    .now = now, .flags = REC_GEN_REPLACE }, &f->s.nb, NULL), REC_OK);
}

static int
use(struct fx *f, const char *user, unsigned slot, uint64_t now)
{
	struct rec_who who = { .user = user };
	struct rec_result res;

	return rec_auth_attempt(f->s.st, &f->s.cfg, &who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[slot - 1],
	    .now = now }, &res);
}

static struct rec_purge_stats
purge(struct fx *f, uint64_t now, unsigned batch, long max, int dry)
{
	struct rec_purge_opts o = { now, 90, batch, max, dry };
	/* No user, as the admin tool's run on a system store. */
	struct rec_who who = { .user = NULL, .actor = "test" };
	struct rec_purge_stats s;

	assert_int_equal(rec_purge(f->s.st, &f->s.cfg, &who, &o, NULL, NULL,
	    &s), REC_OK);
	return s;
}

/* Invariants that must hold after every transaction of a purge. */
struct inv {
	unsigned batches, codes;
};

static int
check_batch(const struct rec_store_item *it, void *arg)
{
	struct inv *iv = arg;
	const struct rec_batch *b = it->b;
	const struct rec_code_rec *codes = it->codes;
	unsigned n = it->ncodes, used = 0, inval = 0;

	assert_int_equal(it->codes_rc, REC_OK);
	assert_true(n <= b->count);
	if (b->status == REC_BATCH_PURGED)
		assert_int_equal(n, 0);
	for (unsigned i = 0; i < n; i++) {
		used += codes[i].state == REC_CODE_USED;
		inval += codes[i].state == REC_CODE_INVALID;
	}
	/* Counters never fall below what the remaining records show. */
	assert_true(used <= b->used);
	assert_true(inval <= b->invalidated);
	iv->batches++;
	iv->codes += n;
	return REC_OK;
}


static struct inv
invariants(struct fx *f)
{
	struct inv iv;

	iv.batches = iv.codes = 0;
	assert_int_equal(rec_store_records_each(f->s.st, NULL, check_batch,
	    &iv), REC_OK);
	return iv;
}

static void
test_used_codes_of_a_live_batch(void **state)
{
	struct fx *f = *state;
	struct rec_purge_stats s;

	generate(f, "alice", 10, 0, T0);
	for (unsigned i = 1; i <= 3; i++)
		assert_int_equal(use(f, "alice", i, T0 + 10), REC_OK);
	s = purge(f, T0 + 30 * DAY, 1000, -1, 0);
	assert_int_equal(s.codes, 0);	/* not older than the retention */
	s = purge(f, T0 + 91 * DAY, 1000, -1, 0);
	assert_int_equal(s.codes, 3);
	assert_int_equal(s.batches_purged, 0);
	assert_int_equal(invariants(f).codes, 7);
	/* The rest still works; a purged code is simply unknown. */
	assert_int_equal(use(f, "alice", 4, T0 + 92 * DAY), REC_OK);
	assert_int_not_equal(use(f, "alice", 1, T0 + 92 * DAY), REC_OK);
}

static void
test_replaced_batch_then_card(void **state)
{
	struct fx *f = *state;
	struct rec_purge_stats s;

	generate(f, "bob", 10, 0, T0);
	generate(f, "bob", 5, 0, T0 + 5);
	s = purge(f, T0 + 91 * DAY, 1000, -1, 0);
	assert_int_equal(s.codes, 10);
	assert_int_equal(s.batches_purged, 1);
	assert_int_equal(s.batches_deleted, 0);
	assert_int_equal(s.batches_left, 2);
	assert_int_equal(s.codes_left, 5);
	/* The purged card is kept for the retention, then goes. */
	s = purge(f, T0 + 182 * DAY, 1000, -1, 0);
	assert_int_equal(s.batches_deleted, 1);
	assert_int_equal(s.batches_left, 1);
	assert_int_equal(use(f, "bob", 1, T0 + 182 * DAY), REC_OK);
}

static void
test_expired_batch(void **state)
{
	struct fx *f = *state;
	struct rec_status st;

	generate(f, "carol", 4, 1, T0);
	assert_int_equal(purge(f, T0 + 92 * DAY, 1000, -1, 0).codes, 4);
	assert_int_equal(rec_auth_status(f->s.st, &f->s.cfg, "carol",
	    T0 + 92 * DAY, &st), REC_OK);
	assert_false(st.enrolled);
}

static void
test_bounded_and_resumable(void **state)
{
	struct fx *f = *state;
	struct rec_purge_stats s, dry;
	const char *users[] = { "u1", "u2", "u3" };
	uint64_t total = 0;
	int runs = 0;

	for (int i = 0; i < 3; i++) {
		generate(f, users[i], 10, 0, T0);
		generate(f, users[i], 10, 0, T0 + 1);
	}
	dry = purge(f, T0 + 100 * DAY, 4, -1, 1);
	assert_int_equal(dry.codes, 30);
	assert_int_equal(dry.batches_purged, 3);
	assert_int_equal(invariants(f).codes, 60);	/* dry run: untouched */
	/* Batches of 4 records: one "interrupted" run of at most 5 each. */
	do {
		s = purge(f, T0 + 100 * DAY, 4, 5, 0);
		total += s.codes + s.batches_purged;
		assert_true(s.codes + s.batches_purged <= 5);
		assert_true(s.txns <= 2);
		invariants(f);
		assert_true(++runs < 20);
	} while (!s.complete);
	assert_int_equal(total, 33);
	s = purge(f, T0 + 100 * DAY, 4, -1, 0);
	assert_int_equal(s.codes + s.batches_purged + s.batches_deleted, 0);
	assert_int_equal(invariants(f).codes, 30);
}

/* What the per-user callback was told. */
struct calls {
	unsigned n;
	char user[8][16];
	uint64_t codes[8], batches[8];
};

static void
per_user(const char *user, uint64_t codes, uint64_t batches, void *arg)
{
	struct calls *c = arg;

	if (c->n < 8) {
		snprintf(c->user[c->n], sizeof(c->user[0]), "%s", user);
		c->codes[c->n] = codes;
		c->batches[c->n] = batches;
	}
	c->n++;
}

/*
 * Issue #15 item 4: each user is reported once, with the totals of all
 * transactions, and a dry run reports the same users as the real run.
 */
static void
test_report_once_per_user(void **state)
{
	struct fx *f = *state;
	const char *users[] = { "u1", "u2", "u3" };
	struct rec_who who = { .user = NULL, .actor = "test" };
	struct rec_purge_stats s;

	for (int dry = 1; dry >= 0; dry--) {
		struct rec_purge_opts o = { T0 + 100 * DAY, 90, 4, -1, dry };
		struct calls c;

		if (dry)
			for (int i = 0; i < 3; i++) {
				generate(f, users[i], 10, 0, T0);
				generate(f, users[i], 10, 0, T0 + 1);
			}
		memset(&c, 0, sizeof(c));
		assert_int_equal(rec_purge(f->s.st, &f->s.cfg, &who, &o,
		    per_user, &c, &s), REC_OK);
		assert_int_equal(s.codes, 30);
		assert_int_equal(c.n, 3);
		for (unsigned i = 0; i < 3; i++) {
			assert_string_equal(c.user[i], users[i]);
			assert_int_equal(c.codes[i], 10);
			assert_int_equal(c.batches[i], 1);
		}
		if (!dry)
			assert_true(s.txns > 3);
	}
}

/* Fifty events, one a day from T0, in one write. */
static int
add_events(struct rec_store *st, const struct rec_config *cfg)
{
	struct rec_who who = { .user = "alice" };
	struct rec_event ev[50];

	for (uint64_t d = 0; d < 50; d++)
		assert_int_equal(rec_auth_event(cfg, &who, T0 + d * DAY,
		    &(struct rec_mark){ .type = REC_EV_ADMIN, .detail = "x" },
		    &ev[d]), 1);
	return rec_store_event_append(st, ev, 50);
}

static void
test_audit_purge(void **state)
{
	struct fx *f = *state;
	uint64_t deleted = 0;
	unsigned n = 0;

	/*
	 * The directory keeps a user's events below the user's entry, and
	 * refuses those of a name without one (REC_ERR_NOSTORE), where LMDB
	 * keeps them: alice has none here.
	 */
	test_skip_unless_lmdb("events of a user without an entry are "
	    "refused there");
	assert_int_equal(add_events(f->s.st, &f->s.cfg), REC_OK);
	assert_int_equal(rec_purge_audit(f->s.st, 30, T0 + 40 * DAY, 3, 1,
	    &deleted), REC_OK);
	assert_int_equal(deleted, 10);
	assert_int_equal(test_count_events(f->s.st, &n), REC_OK);
	assert_int_equal(n, 50);
	assert_int_equal(rec_purge_audit(f->s.st, 30, T0 + 40 * DAY, 3, 0,
	    &deleted), REC_OK);
	assert_int_equal(deleted, 10);
	assert_int_equal(test_count_events(f->s.st, &n), REC_OK);
	assert_int_equal(n, 40);
	assert_int_equal(rec_purge_audit(f->s.st, 30, T0 + 40 * DAY, 3, 0,
	    &deleted), REC_OK);
	assert_int_equal(deleted, 0);
}

/* The last audit event of a store, for rec_purge_forget's. */
static int
last_event(uint64_t seq, const struct rec_event *ev, void *arg)
{
	(void)seq;
	memcpy(arg, ev, sizeof(*ev));
	return REC_OK;
}


/*
 * Offboarding: forget removes one user's codes, batches and user record,
 * nobody else's, audits the count once, and a second run finds nothing.
 */
static void
test_forget(void **state)
{
	struct fx *f = *state;
	struct rec_who who = { .user = "alice", .actor = "admin" };
	struct rec_event ev;
	struct inv iv;
	uint64_t n = 99;
	unsigned before = 0, after = 0;

	generate(f, "alice", 3, 0, T0);
	generate(f, "alice", 2, 0, T0 + 1);	/* replaces: 2 batches */
	assert_int_equal(use(f, "alice", 1, T0 + 2), REC_OK);
	generate(f, "bob", 4, 0, T0 + 3);
	/* Dry run: counts 3 + 2 codes, 2 batches, 1 user; changes nothing. */
	assert_int_equal(test_count_events(f->s.st, &before), REC_OK);
	assert_int_equal(rec_purge_forget(f->s.st, &f->s.cfg, &who, T0 + 4, 1,
	    &n), REC_OK);
	assert_int_equal(n, 8);
	iv = invariants(f);
	assert_int_equal(iv.batches, 3);
	assert_int_equal(iv.codes, 9);
	assert_int_equal(rec_purge_forget(f->s.st, &f->s.cfg, &who, T0 + 4, 0,
	    &n), REC_OK);
	assert_int_equal(n, 8);
	iv = invariants(f);
	assert_int_equal(iv.batches, 1);	/* bob's */
	assert_int_equal(iv.codes, 4);
	/* One event, naming alice, the actor and the count. */
	assert_int_equal(test_count_events(f->s.st, &after), REC_OK);
	assert_int_equal(after, before + 1);
	assert_int_equal(rec_store_event_each(f->s.st, NULL, 0, last_event, &ev),
	    REC_OK);
	assert_int_equal(ev.type, REC_EV_FORGOTTEN);
	assert_string_equal(ev.user, "alice");
	assert_string_equal(ev.actor, "admin");
	assert_string_equal(ev.detail, "8 records");
	assert_string_equal(rec_event_name(ev.type), "forgotten");
	/* Nothing left: nothing removed, nothing audited. */
	assert_int_equal(rec_purge_forget(f->s.st, &f->s.cfg, &who, T0 + 5, 0,
	    &n), REC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(test_count_events(f->s.st, &before), REC_OK);
	assert_int_equal(before, after);
	assert_int_equal(rec_purge_forget(NULL, &f->s.cfg, &who, T0, 0, &n),
	    REC_ERR_USAGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_used_codes_of_a_live_batch, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_replaced_batch_then_card, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired_batch, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_bounded_and_resumable, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_report_once_per_user, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_purge, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_forget, setup, store_fx_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
