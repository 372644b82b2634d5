/* SPDX-License-Identifier: BSD-2-Clause */
/* test_slots.c: cmocka tests for rec_slots (each code of the active batch). */
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
#include "rec_err.h"
#include "rec_issue.h"
#include "rec_slots.h"

#define T0 1800000000ULL

struct fx {
	struct store_fx s;	/* first: the store, alice, her codes */
	struct rec_slots sl;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fx_open(&f->s, "test_slots");
	*state = f;
	return 0;
}

/* Five codes: 2 used at a login, 4 invalidated by an admin, 1 and 3 together by the user. */
static void
scenario(struct fx *f, unsigned days)
{
	struct rec_who user = { .user = "alice" };
	struct rec_who login = { .user = "alice", .service = "sshd",
	    .rhost = "203.0.113.5" };
	struct rec_who admin = { .user = "alice", .actor = "bob" };
	struct rec_result res;
	const unsigned one[] = { 4 }, two[] = { 1, 3 };

	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &user,
	    &(struct rec_issue_req){ .count = 5, .expires_days = days,
	    .now = T0, .flags = REC_GEN_REPLACE }, &f->s.nb, NULL), REC_OK);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &login,
	    &(struct rec_attempt){ .input = f->s.nb.codes[1], .now = T0 + 10 },
	    &res), REC_OK);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &admin, one,
	    1, T0 + 20), REC_OK);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &user, two, 2,
	    T0 + 30), REC_OK);
}

static void
test_states_and_trail(void **state)
{
	struct fx *f = *state;
	struct rec_slots *s = &f->sl;

	scenario(f, 0);
	assert_int_equal(rec_slots_read(f->s.st, "alice", T0 + 40, s), REC_OK);
	assert_int_equal(s->n, 5);
	assert_int_equal(s->s[1].state, REC_SLOT_USED);
	assert_int_equal(s->s[1].when, T0 + 10);
	assert_true(s->s[1].audited);
	assert_string_equal(s->s[1].service, "sshd");
	assert_string_equal(s->s[1].rhost, "203.0.113.5");
	assert_int_equal(s->s[3].state, REC_SLOT_INVALIDATED);
	assert_int_equal(s->s[3].when, T0 + 20);
	assert_string_equal(s->s[3].actor, "bob");
	/* Several at once: matched by the moment, the user as actor. */
	for (unsigned i = 0; i < 3; i += 2) {
		assert_int_equal(s->s[i].state, REC_SLOT_INVALIDATED);
		assert_true(s->s[i].audited);
		assert_string_equal(s->s[i].actor, "");
		assert_int_equal(s->s[i].when, T0 + 30);
	}
	assert_int_equal(s->s[4].state, REC_SLOT_UNUSED);
	assert_false(s->s[4].audited);
	assert_string_equal(rec_slot_state_name(REC_SLOT_GONE), "gone");
	/* Nobody else's codes, and no store at all. */
	assert_int_equal(rec_slots_read(f->s.st, "carol", T0, s), REC_OK);
	assert_int_equal(s->n, 0);
	assert_int_equal(s->batch, 0);
	assert_int_equal(rec_slots_read(NULL, "alice", T0, s), REC_OK);
	assert_int_equal(s->n, 0);
}

static void
test_expired_and_no_audit(void **state)
{
	struct fx *f = *state;
	struct rec_slots *s = &f->sl;

	f->s.cfg.audit = 0;
	scenario(f, 1);
	assert_int_equal(rec_slots_read(f->s.st, "alice", T0 + 2 * 86400, s),
	    REC_OK);
	assert_int_equal(s->s[4].state, REC_SLOT_EXPIRED);
	/* Without a trail the state and time are still known. */
	assert_int_equal(s->s[1].state, REC_SLOT_USED);
	assert_int_equal(s->s[1].when, T0 + 10);
	assert_false(s->s[1].audited);
	assert_int_equal(s->s[3].state, REC_SLOT_INVALIDATED);
	assert_false(s->s[3].audited);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states_and_trail, setup,
		    store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired_and_no_audit,
		    setup, store_fx_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
