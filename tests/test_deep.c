/* SPDX-License-Identifier: BSD-2-Clause */
/* test_deep.c: check --deep's invariants, each broken on purpose and found. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "testutil.h"
#include "rec_store_lmdb.h"	/* plant: records that break the invariants */
#include "rec_deep.h"
#include "rec_err.h"
#include "rec_issue.h"

#define T0 1800000000ULL	/* a fixed "now"; tests never read the clock */

struct fx {
	struct store_fx s;	/* first: the store, alice, her codes */
	struct rec_batch b;		/* alice's active batch, as stored */
	unsigned seen[REC_DEEP_UNUSED + 1];
	char last[768];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fx_open(&f->s, "test_deep");
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 5, .now = T0 }, &f->s.nb, NULL),
	    REC_OK);
	f->b = f->s.nb.batch;
	*state = f;
	return 0;
}

/* What to plant, in one write transaction. */
struct plant {
	const char *user;
	const struct rec_user *u;
	const struct rec_batch *b;
	const struct rec_code_rec *c;
	uint64_t del_batch;	/* with del_slot: a code record to delete */
	unsigned del_slot;
};

static int
plant_txn(struct rec_txn *t, void *arg)
{
	const struct plant *p = arg;
	int r = REC_OK;

	if (p->u != NULL && (r = rec_user_put(t, p->user, p->u)) != REC_OK)
		return r;
	if (p->b != NULL && (r = rec_batch_put(t, p->user, p->b)) != REC_OK)
		return r;
	if (p->c != NULL && (r = rec_coderec_put(t, p->user, p->b != NULL ?
	    p->b->id : p->del_batch, p->c)) != REC_OK)
		return r;
	if (p->del_slot != 0)
		r = rec_coderec_del(t, p->user, p->del_batch, (uint8_t)p->del_slot);
	return r;
}

static void
plant(struct fx *f, const struct plant *p)
{
	/*
	 * Records that contradict each other: the directory's entries
	 * mostly cannot hold them (a batch's counts are its code values);
	 * e2e_ldap_admin.sh and e2e_ldap_check.sh test its own findings.
	 */
	test_skip_unless_lmdb("it plants records no operation writes, "
	    "through LMDB's transactions");
	assert_int_equal(rec_store_write(f->s.st, plant_txn, (void *)p),
	    REC_OK);
}

static void
found(const struct rec_finding *fd, void *arg)
{
	struct fx *f = arg;

	assert_true(fd->kind <= REC_DEEP_UNUSED);
	assert_non_null(fd->user);
	f->seen[fd->kind]++;
	snprintf(f->last, sizeof(f->last), "%s", fd->text);
}

/* Check the store as a system store (owner NULL) or owner's own. */
static struct rec_deep_counts
check(struct fx *f, const char *owner)
{
	struct rec_deep_counts c;

	memset(f->seen, 0, sizeof(f->seen));
	assert_int_equal(rec_deep_check(f->s.st, owner, T0 + 10, found, f, &c),
	    REC_OK);
	return c;
}

/* Exactly one finding, of kind. */
static void
only(struct fx *f, const struct rec_deep_counts *c, enum rec_deep_kind kind)
{
	if (c->findings != 1 || f->seen[kind] != 1) {
		print_error("expected one finding of kind %d, got %lu (last: "
		    "%s)\n", (int)kind, c->findings, f->last);
		fail();
	}
}

static void
test_sound_store_has_no_findings(void **state)
{
	struct fx *f = *state;
	struct rec_deep_counts c = check(f, NULL);

	assert_int_equal(c.findings, 0);
	assert_int_equal(c.users, 1);
	assert_int_equal(c.batches, 1);
	assert_int_equal(c.codes, 5);
	c = check(f, "alice");
	assert_int_equal(c.findings, 0);
}

static void
test_foreign_record(void **state)
{
	struct fx *f = *state;
	struct rec_deep_counts c = check(f, "bob");

	/* alice's user record and her batch, in bob's own store. */
	assert_int_equal(c.findings, 2);
	assert_int_equal(f->seen[REC_DEEP_FOREIGN], 2);
	assert_non_null(strstr(f->last, "bob's own store"));
}

static void
test_active_batch_missing(void **state)
{
	struct fx *f = *state;
	struct rec_user u;
	struct rec_deep_counts c;

	memset(&u, 0, sizeof(u));
	u.active_batch = 0x5eed;
	plant(f, &(struct plant){ .user = "carol", .u = &u });
	c = check(f, NULL);
	only(f, &c, REC_DEEP_NO_ACTIVE);
}

static void
test_active_batch_not_active(void **state)
{
	struct fx *f = *state;
	struct rec_batch b = f->b;
	struct rec_deep_counts c;

	/* Invalidated with its codes unused: that is a second finding. */
	b.status = REC_BATCH_INVALIDATED;
	b.invalidated = b.count;
	plant(f, &(struct plant){ .user = "alice", .b = &b });
	c = check(f, NULL);
	assert_int_equal(f->seen[REC_DEEP_ACTIVE_DEAD], 1);
	assert_int_equal(f->seen[REC_DEEP_DEAD_UNUSED], b.count);
	assert_int_equal(f->seen[REC_DEEP_UNUSED], 1);	/* 5 of 0 left */
	assert_int_equal(c.findings, 2 + b.count);
}

static void
test_batch_without_user(void **state)
{
	struct fx *f = *state;
	struct rec_batch b = f->b;
	struct rec_deep_counts c;

	b.status = REC_BATCH_PURGED;
	b.used = b.count;
	plant(f, &(struct plant){ .user = "dave", .b = &b });
	c = check(f, NULL);
	only(f, &c, REC_DEEP_NO_USER);
	/* A staged first batch has no user record yet: not a finding. */
	b.status = REC_BATCH_STAGED;
	plant(f, &(struct plant){ .user = "dave", .b = &b });
	c = check(f, NULL);
	assert_int_equal(c.findings, 0);
}

static void
test_stray_active_batch(void **state)
{
	struct fx *f = *state;
	struct rec_batch b = f->b;
	struct rec_deep_counts c;

	b.id = f->b.id + 1;
	b.used = b.count;
	/*
	 * What an activation that stopped after its second step leaves on
	 * the directory (conf/ldap/README); written there through the
	 * interface, a batch without code values: all used.
	 */
	if (test_ldap_conf() != NULL)
		assert_int_equal(rec_store_batch_put(f->s.st, "alice", &b,
		    NULL, 0), REC_OK);
	else
		plant(f, &(struct plant){ .user = "alice", .b = &b });
	c = check(f, NULL);
	only(f, &c, REC_DEEP_STRAY_ACTIVE);
}

static void
test_slot_outside_batch(void **state)
{
	struct fx *f = *state;
	struct rec_code_rec cr = f->s.nb.recs[0];
	struct rec_deep_counts c;

	cr.slot = (uint8_t)(f->b.count + 1);
	cr.state = REC_CODE_USED;
	plant(f, &(struct plant){ .user = "alice", .c = &cr,
	    .del_batch = f->b.id });
	c = check(f, NULL);
	assert_int_equal(f->seen[REC_DEEP_SLOT_RANGE], 1);
	/* The used record is not counted by the batch either. */
	assert_int_equal(f->seen[REC_DEEP_USED], 1);
	assert_int_equal(c.findings, 2);
}

static void
test_code_of_purged_batch(void **state)
{
	struct fx *f = *state;
	struct rec_batch b = f->b;
	struct rec_user u;
	struct rec_deep_counts c;

	memset(&u, 0, sizeof(u));
	b.status = REC_BATCH_PURGED;
	b.invalidated = b.count;
	plant(f, &(struct plant){ .user = "alice", .u = &u, .b = &b });
	c = check(f, NULL);
	assert_int_equal(f->seen[REC_DEEP_PURGED_CODE], b.count);
	assert_int_equal(f->seen[REC_DEEP_UNUSED], 1);	/* 5 of 0 left */
	assert_int_equal(c.findings, b.count + 1);
}

/*
 * Counters beyond the count do not even decode (rec_batch_decode): the walk
 * stops at that store error, with what it read so far.
 */
static void
test_counters_over_count_stop_the_walk(void **state)
{
	struct fx *f = *state;
	struct rec_batch b = f->b;
	struct rec_deep_counts c;

	b.used = (uint16_t)(b.count - 1);
	b.invalidated = 2;
	plant(f, &(struct plant){ .user = "alice", .b = &b });
	assert_int_equal(rec_deep_check(f->s.st, NULL, T0, found, f, &c),
	    REC_ERR_CORRUPT);
	assert_int_equal(c.users, 1);
	assert_int_equal(c.batches, 0);
}

static void
test_more_used_records_than_counted(void **state)
{
	struct fx *f = *state;
	struct rec_code_rec cr = f->s.nb.recs[1];
	struct rec_deep_counts c;

	cr.state = REC_CODE_USED;
	plant(f, &(struct plant){ .user = "alice", .c = &cr,
	    .del_batch = f->b.id });
	c = check(f, NULL);
	/* One used record the batch does not count, one unused too few. */
	assert_int_equal(f->seen[REC_DEEP_USED], 1);
	assert_int_equal(f->seen[REC_DEEP_UNUSED], 1);
	assert_int_equal(c.findings, 2);
}

static void
test_more_invalidated_records_than_counted(void **state)
{
	struct fx *f = *state;
	struct rec_code_rec cr = f->s.nb.recs[2];
	struct rec_deep_counts c;

	cr.state = REC_CODE_INVALID;
	plant(f, &(struct plant){ .user = "alice", .c = &cr,
	    .del_batch = f->b.id });
	c = check(f, NULL);
	assert_int_equal(f->seen[REC_DEEP_INVALIDATED], 1);
	assert_non_null(strstr(f->last, "unused"));
	assert_int_equal(c.findings, 2);
}

/* An unused code of a live batch whose record is gone. */
static void
test_unused_record_missing(void **state)
{
	struct fx *f = *state;
	struct rec_deep_counts c;

	plant(f, &(struct plant){ .user = "alice", .del_batch = f->b.id,
	    .del_slot = 3 });
	c = check(f, NULL);
	only(f, &c, REC_DEEP_UNUSED);
	assert_non_null(strstr(f->last, "4 unused code records"));
}

/* Too many code records to decode as one batch. */
static void
test_code_records_bad(void **state)
{
	struct fx *f = *state;
	struct rec_batch b = f->b;
	struct rec_code_rec cr = f->s.nb.recs[0];
	struct rec_deep_counts c;

	b.count = REC_COUNT_MAX;
	plant(f, &(struct plant){ .user = "alice", .b = &b });
	for (unsigned s = 6; s <= REC_COUNT_MAX + 1; s++) {
		cr.slot = (uint8_t)s;
		plant(f, &(struct plant){ .user = "alice", .c = &cr,
		    .del_batch = b.id });
	}
	c = check(f, NULL);
	only(f, &c, REC_DEEP_CODES_BAD);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, store_fx_teardown)
		T(test_sound_store_has_no_findings),
		T(test_foreign_record),
		T(test_active_batch_missing),
		T(test_active_batch_not_active),
		T(test_batch_without_user),
		T(test_stray_active_batch),
		T(test_slot_outside_batch),
		T(test_code_of_purged_batch),
		T(test_counters_over_count_stop_the_walk),
		T(test_more_used_records_than_counted),
		T(test_more_invalidated_records_than_counted),
		T(test_unused_record_missing),
		T(test_code_records_bad),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
