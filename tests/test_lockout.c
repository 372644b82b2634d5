/* SPDX-License-Identifier: BSD-2-Clause */
/* test_lockout.c: table tests of the exponential-cooldown lockout. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rec_lockout.h"

#define T0	UINT64_C(1700000000)
#define DAY	UINT64_C(86400)
#define TOP	UINT64_MAX

/*
 * The policy the tests start from: the documented defaults, set by hand so
 * these tests depend on nothing but the state machine.
 */
static const struct rec_lock_policy defaults = { 5, 900, 60, 2, 3600, 86400 };

enum op {
	END = 0,
	FAIL,		/* rec_lock_fail at t: expect return and remaining */
	AT,		/* rec_lock_refresh at t: expect remaining */
	PEEK,		/* remaining at t without refreshing */
	CLEAR,		/* rec_lock_clear (a success or an unlock) */
	READ,		/* a reader: refresh a copy, write it back only when
			   rec_lock_clock_back says so; expect the copy's
			   remaining */
};

struct ev {
	enum op op;
	uint64_t t;
	int locked;		/* FAIL: expected return value */
	uint64_t remaining;	/* expected rec_lock_remaining at t */
};

struct scenario {
	const char *name;
	const struct rec_lock_policy *k;	/* NULL = defaults */
	struct ev ev[24];
};

static const struct rec_lock_policy mult1 = { 5, 900, 60, 1, 3600, 86400 };
static const struct rec_lock_policy mult0 = { 5, 900, 60, 0, 3600, 86400 };
static const struct rec_lock_policy cap_below_base = { 5, 900, 60, 2, 30, 86400 };
static const struct rec_lock_policy one_attempt = { 1, 900, 60, 2, 3600, 86400 };
static const struct rec_lock_policy mult10 = { 3, 60, 10, 10, 100000, 86400 };
static const struct rec_lock_policy huge = { 5, TOP, TOP, UINT32_MAX, TOP, TOP };
static const struct rec_lock_policy short_reset = { 5, 900, 60, 2, 3600, 100 };

/* Five failures from t on, one second apart; the fifth locks for 60. */
#define FIVE(t) \
	{ FAIL, (t), 0, 0 }, { FAIL, (t) + 1, 0, 0 }, \
	{ FAIL, (t) + 2, 0, 0 }, { FAIL, (t) + 3, 0, 0 }, \
	{ FAIL, (t) + 4, 1, 60 }

static const struct scenario scenarios[] = {
	{ "four failures do not lock", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 10, 0, 0 },
		{ FAIL, T0 + 20, 0, 0 }, { FAIL, T0 + 30, 0, 0 },
		{ AT, T0 + 31, 0, 0 },
	} },
	{ "the fifth failure locks for base_cooldown", NULL, {
		FIVE(T0),
		{ AT, T0 + 4, 0, 60 }, { AT, T0 + 34, 0, 30 },
		{ AT, T0 + 63, 0, 1 }, { AT, T0 + 64, 0, 0 },
		{ AT, T0 + 1000, 0, 0 },
	} },
	{ "each failure after a lock escalates up to the cap", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 120 }, { FAIL, T0 + 184, 1, 240 },
		{ FAIL, T0 + 424, 1, 480 }, { FAIL, T0 + 904, 1, 960 },
		{ FAIL, T0 + 1864, 1, 1920 }, { FAIL, T0 + 3784, 1, 3600 },
		{ FAIL, T0 + 7384, 1, 3600 }, { AT, T0 + 10983, 0, 1 },
		{ AT, T0 + 10984, 0, 0 },
	} },
	{ "a failure counted during a lock escalates too", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 10, 1, 120 }, { FAIL, T0 + 11, 1, 240 },
		{ AT, T0 + 251, 0, 0 },
	} },
	{ "the window is fail_interval from its first failure", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 1, 0, 0 },
		{ FAIL, T0 + 2, 0, 0 }, { FAIL, T0 + 3, 0, 0 },
		{ FAIL, T0 + 899, 1, 60 },
	} },
	/*
	 * Before a lock the count is a leaky bucket: one failure forgiven per
	 * max(fail_interval, cooldown_cap) = 3600 s.  Failures older than
	 * fail_interval only partly forgive: pacing does not escape the lock.
	 */
	{ "failures spread over more than fail_interval still add up", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 300, 0, 0 },
		{ FAIL, T0 + 600, 0, 0 }, { AT, T0 + 899, 0, 0 },
		{ FAIL, T0 + 900, 0, 0 }, { FAIL, T0 + 1000, 1, 60 },
	} },
	{ "one failure every 250 s locks at the fifth", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 250, 0, 0 },
		{ FAIL, T0 + 500, 0, 0 }, { FAIL, T0 + 750, 0, 0 },
		{ FAIL, T0 + 1000, 1, 60 },
	} },
	{ "four failures every fail_interval lock (was 384 a day)", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 1, 0, 0 },
		{ FAIL, T0 + 2, 0, 0 }, { FAIL, T0 + 3, 0, 0 },
		{ FAIL, T0 + 900, 1, 60 },
	} },
	{ "one failure per hour never locks", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 3600, 0, 0 },
		{ FAIL, T0 + 7200, 0, 0 }, { FAIL, T0 + 10800, 0, 0 },
		{ FAIL, T0 + 14400, 0, 0 }, { FAIL, T0 + 18000, 0, 0 },
		{ FAIL, T0 + 21600, 0, 0 }, { FAIL, T0 + 25200, 0, 0 },
	} },
	{ "four at once, then one an hour; a second in the hour locks", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 1, 0, 0 },
		{ FAIL, T0 + 2, 0, 0 }, { FAIL, T0 + 3, 0, 0 },
		{ FAIL, T0 + 3600, 0, 0 }, { FAIL, T0 + 7200, 0, 0 },
		{ FAIL, T0 + 10800, 0, 0 }, { FAIL, T0 + 10801, 1, 60 },
	} },
	{ "two quiet hours forgive two failures", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 1, 0, 0 },
		{ FAIL, T0 + 2, 0, 0 }, { FAIL, T0 + 3, 0, 0 },
		{ FAIL, T0 + 7200, 0, 0 }, { FAIL, T0 + 7201, 0, 0 },
		{ FAIL, T0 + 7202, 1, 60 },
	} },
	{ "a drain tick inside fail_interval still leaves a lock", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 3599, 0, 0 },
		{ FAIL, T0 + 3600, 0, 0 }, { FAIL, T0 + 3601, 0, 0 },
		{ FAIL, T0 + 3602, 0, 0 }, { FAIL, T0 + 3603, 1, 60 },
	} },
	{ "a quiet level_reset forgives the bucket at once", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 1, 0, 0 },
		{ FAIL, T0 + 2, 0, 0 }, { FAIL, T0 + 3, 0, 0 },
		{ AT, T0 + 3 + DAY, 0, 0 },
		FIVE(T0 + 3 + DAY),
	} },
	{ "after a lock, the window no longer forgets", NULL, {
		FIVE(T0),
		{ AT, T0 + 5000, 0, 0 },
		{ FAIL, T0 + 5000, 1, 120 },
	} },
	{ "level_reset without failures clears the level", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 120 },
		{ AT, T0 + 64 + DAY, 0, 0 },
		{ FAIL, T0 + 64 + DAY, 0, 0 },
		{ FAIL, T0 + 65 + DAY, 0, 0 }, { FAIL, T0 + 66 + DAY, 0, 0 },
		{ FAIL, T0 + 67 + DAY, 0, 0 },
		{ FAIL, T0 + 68 + DAY, 1, 60 },
	} },
	{ "one second short of level_reset still escalates", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 4 + DAY - 1, 1, 120 },
	} },
	{ "clear (success or unlock) clears", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 120 },
		{ CLEAR, T0 + 70, 0, 0 },
		FIVE(T0 + 71),
		{ CLEAR, T0 + 80, 0, 0 },
		{ FAIL, T0 + 80, 0, 0 }, { AT, T0 + 80 + DAY, 0, 0 },
	} },
	{ "a lock outlasting level_reset is not forgiven", &short_reset, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 120 },
		{ AT, T0 + 170, 0, 14 },
		{ FAIL, T0 + 171, 1, 240 },
		{ AT, T0 + 410, 0, 1 },
		/* Lock over, and level_reset passed since the last failure. */
		{ FAIL, T0 + 411, 0, 0 },
	} },
	{ "cooldown_multiplier 1 keeps base_cooldown", &mult1, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 60 }, { FAIL, T0 + 124, 1, 60 },
		{ FAIL, T0 + 130, 1, 60 }, { FAIL, T0 + 5000, 1, 60 },
	} },
	{ "cooldown_multiplier 0 holds the level", &mult0, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 60 }, { FAIL, T0 + 124, 1, 60 },
	} },
	{ "a multiplier of 10 reaches a large cap", &mult10, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0, 0, 0 }, { FAIL, T0, 1, 10 },
		{ FAIL, T0, 1, 100 }, { FAIL, T0, 1, 1000 },
		{ FAIL, T0, 1, 10000 }, { FAIL, T0, 1, 100000 },
		{ FAIL, T0, 1, 100000 },
	} },
	{ "cooldown_cap below base_cooldown wins", &cap_below_base, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0, 0, 0 }, { FAIL, T0, 0, 0 },
		{ FAIL, T0, 0, 0 }, { FAIL, T0, 1, 30 },
		{ FAIL, T0 + 30, 1, 30 },
	} },
	{ "max_attempts 1 locks on the first failure", &one_attempt, {
		{ FAIL, T0, 1, 60 }, { FAIL, T0 + 60, 1, 120 },
	} },
	{ "clock moved back 10 days while locked", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 5, 1, 120 }, { FAIL, T0 + 6, 1, 240 },
		{ FAIL, T0 + 7, 1, 480 }, { FAIL, T0 + 8, 1, 960 },
		{ FAIL, T0 + 9, 1, 1920 }, { FAIL, T0 + 10, 1, 3600 },
		/* Unrefreshed, the lock still reads no longer than the cap. */
		{ PEEK, T0 - 10 * DAY, 0, 3600 },
		{ AT, T0 - 10 * DAY, 0, 3600 },
		{ AT, T0 - 10 * DAY + 3599, 0, 1 },
		{ AT, T0 - 10 * DAY + 3600, 0, 0 },
		/* The level survives the jump: the next failure is capped. */
		{ FAIL, T0 - 10 * DAY + 3600, 1, 3600 },
		/* And level_reset counts from the pulled-in last failure. */
		{ AT, T0 - 9 * DAY + 3600, 0, 0 },
		{ FAIL, T0 - 9 * DAY + 3600, 0, 0 },
	} },
	{ "clock moved back before the window", NULL, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0 + 1, 0, 0 },
		{ FAIL, T0 - DAY, 0, 0 }, { FAIL, T0 - DAY + 1, 0, 0 },
		{ FAIL, T0 - DAY + 2, 1, 60 },
		{ PEEK, T0 - DAY + 2, 0, 60 },
	} },
	{ "huge now does not wrap", NULL, {
		FIVE(TOP - 100),
		/* The lock would end past the end of time: it saturates. */
		{ FAIL, TOP - 30, 1, 30 },
		{ AT, TOP - 1, 0, 1 },
		/* From the end of time back to the epoch: at most the level. */
		{ PEEK, 1, 0, 120 },
		{ AT, TOP, 0, 0 },
		{ FAIL, TOP, 0, 0 },
		{ AT, 1, 0, 0 },
	} },
	/*
	 * The caller's read protocol.  A reader that corrects only its copy
	 * would see 60 s left at every read until the real clock caught up
	 * with the jump (20 060 s); written back, the lock ends 60 s of real
	 * time after the jump, and 3600 s later at the latest.
	 */
	{ "clock back 20000 s: the read writes the lock back", NULL, {
		FIVE(T0),
		{ READ, T0 - 20000, 0, 60 },
		{ READ, T0 - 20000 + 30, 0, 30 },
		{ READ, T0 - 20000 + 59, 0, 1 },
		{ READ, T0 - 20000 + 60, 0, 0 },
		{ FAIL, T0 - 20000 + 3601, 1, 120 },
	} },
	{ "clock back twice: each jump is pulled in", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 120 },
		{ READ, T0 - 5000, 0, 120 },
		{ READ, T0 - 5000 + 100, 0, 20 },
		{ READ, T0 - 90000, 0, 120 },
		{ READ, T0 - 90000 + 120, 0, 0 },
	} },
	{ "clock back during an escalated lock stays within the level", NULL, {
		FIVE(T0),
		{ FAIL, T0 + 64, 1, 120 }, { FAIL, T0 + 184, 1, 240 },
		{ READ, T0 + 100, 0, 240 },
		{ READ, T0 + 339, 0, 1 },
		{ READ, T0 + 340, 0, 0 },
	} },
	{ "huge settings saturate", &huge, {
		{ FAIL, T0, 0, 0 }, { FAIL, T0, 0, 0 }, { FAIL, T0, 0, 0 },
		{ FAIL, T0, 0, 0 }, { FAIL, T0, 1, TOP - T0 },
		{ FAIL, T0 + 1, 1, TOP - T0 - 1 },
		{ AT, TOP - 1, 0, 1 },
	} },
};

static void
test_scenarios(void **state)
{
	struct rec_lock_policy cfg;
	struct rec_lock st, copy;
	unsigned n = 0;

	(void)state;
	for (size_t s = 0; s < sizeof(scenarios) / sizeof(scenarios[0]); s++) {
		const struct scenario *sc = &scenarios[s];

		cfg = *(sc->k != NULL ? sc->k : &defaults);
		memset(&st, 0, sizeof(st));
		for (size_t i = 0; i < sizeof(sc->ev) / sizeof(sc->ev[0]) &&
		    sc->ev[i].op != END; i++) {
			const struct ev *e = &sc->ev[i];
			int ret = 0;
			uint64_t rem;

			switch (e->op) {
			case FAIL:
				ret = rec_lock_fail(&st, e->t, &cfg);
				break;
			case AT:
				rec_lock_refresh(&st, e->t, &cfg);
				break;
			case CLEAR:
				rec_lock_clear(&st);
				break;
			case READ:
				copy = st;
				rec_lock_refresh(&copy, e->t, &cfg);
				if (rec_lock_clock_back(&st, e->t, &cfg))
					st = copy;
				rem = rec_lock_remaining(&copy, e->t, &cfg);
				if (rem != rec_lock_remaining(&st, e->t, &cfg))
					fail_msg("%s, event %zu: the read "
					    "answered %ju, the store enforces "
					    "%ju", sc->name, i, (uintmax_t)rem,
					    (uintmax_t)rec_lock_remaining(&st,
					    e->t, &cfg));
				break;
			case PEEK:
			case END:
				break;
			}
			rem = rec_lock_remaining(&st, e->t, &cfg);
			if (ret != e->locked || rem != e->remaining)
				fail_msg("%s, event %zu: returned %d, "
				    "remaining %ju; expected %d, %ju",
				    sc->name, i, ret,
				    (uintmax_t)rem, e->locked,
				    (uintmax_t)e->remaining);
			assert_true(rem <= cfg.cooldown_cap);
			n++;
		}
	}
	print_message("%u events in %zu scenarios\n", n,
	    sizeof(scenarios) / sizeof(scenarios[0]));
}

/* After the clock jumps back, refresh pulls every timestamp in. */
static void
test_clock_backwards_pulls_in(void **state)
{
	struct rec_lock_policy cfg;
	struct rec_lock st;
	uint64_t now = T0 - 10 * DAY;

	(void)state;
	cfg = *(&defaults);
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 12; i++)
		(void)rec_lock_fail(&st, T0 + (uint64_t)i, &cfg);
	assert_int_equal(st.cooldown, 3600);
	assert_true(st.locked_until == T0 + 11 + 3600);

	rec_lock_refresh(&st, now, &cfg);
	assert_true(st.locked_until == now + 3600);
	assert_true(st.last_fail == now);
	assert_true(st.window_start == now);
	assert_int_equal(st.failures, 12);
	assert_int_equal(st.cooldown, 3600);
	assert_int_equal(rec_lock_remaining(&st, now, &cfg), 3600);

	/* A lock stored by a clock that ran far ahead. */
	memset(&st, 0, sizeof(st));
	st.failures = 5;
	st.window_start = st.last_fail = TOP - 5;
	st.locked_until = TOP;
	st.cooldown = 60;
	assert_int_equal(rec_lock_remaining(&st, T0, &cfg), 60);
	rec_lock_refresh(&st, T0, &cfg);
	assert_true(st.locked_until == T0 + 60);
	assert_true(st.last_fail == T0 && st.window_start == T0);
}

/* When must a reader write the state back? */
static void
test_clock_back_table(void **state)
{
	static const struct {
		const char *name;
		struct rec_lock st;
		uint64_t now;
		int back;
	} cases[] = {
		{ "empty state", { 0, 0, 0, 0, 0 }, T0, 0 },
		{ "failures in the past", { 3, T0 - 10, T0 - 5, 0, 0 }, T0, 0 },
		{ "a failure one second ahead", { 1, T0 - 10, T0 + 1, 0, 0 },
		    T0, 1 },
		{ "a window starting ahead", { 1, T0 + 1, T0 - 1, 0, 0 }, T0, 1 },
		{ "a lock in force, set now", { 5, T0, T0, T0 + 60, 60 }, T0, 0 },
		{ "a lock ending exactly its level from now",
		    { 5, T0 + 1, T0 + 1, T0 + 61, 60 }, T0 + 1, 0 },
		{ "a lock longer than its level", { 5, T0 - 9, T0 - 9, T0 + 61,
		    60 }, T0, 1 },
		{ "a lock without a level, within the cap", { 5, 0, 0, T0 + 3600,
		    0 }, T0, 0 },
		{ "a lock without a level, past the cap", { 5, 0, 0, T0 + 3601,
		    0 }, T0, 1 },
		{ "a level above the cap", { 5, 0, 0, T0 + 3601, 99999 }, T0, 1 },
		{ "the end of time", { 5, TOP, TOP, TOP, 60 }, TOP, 0 },
		{ "the end of time, read at the epoch", { 5, TOP, TOP, TOP, 60 },
		    1, 1 },
	};
	struct rec_lock_policy cfg;
	struct rec_lock st;

	(void)state;
	cfg = *(&defaults);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (rec_lock_clock_back(&cases[i].st, cases[i].now, &cfg) !=
		    cases[i].back)
			fail_msg("%s: expected %d", cases[i].name,
			    cases[i].back);
		/* Once refreshed, nothing is left to write back. */
		st = cases[i].st;
		rec_lock_refresh(&st, cases[i].now, &cfg);
		assert_false(rec_lock_clock_back(&st, cases[i].now, &cfg));
	}
}

/* The failure count: leaking before a lock, cumulative after one. */
static void
test_failure_count(void **state)
{
	struct rec_lock_policy cfg;
	struct rec_lock st;

	(void)state;
	cfg = *(&defaults);
	memset(&st, 0, sizeof(st));
	for (uint64_t i = 0; i < 3; i++)
		(void)rec_lock_fail(&st, T0 + i, &cfg);
	assert_int_equal(st.failures, 3);
	assert_true(st.window_start == T0 && st.last_fail == T0 + 2);
	/* One forgiven per 3600 s, the drain period keeping its phase. */
	rec_lock_refresh(&st, T0 + 900, &cfg);
	assert_int_equal(st.failures, 3);
	rec_lock_refresh(&st, T0 + 3600, &cfg);
	assert_int_equal(st.failures, 2);
	assert_true(st.window_start == T0 + 3600);
	rec_lock_refresh(&st, T0 + 3 * 3600 - 1, &cfg);
	assert_int_equal(st.failures, 1);
	assert_true(st.window_start == T0 + 2 * 3600);
	rec_lock_refresh(&st, T0 + 3 * 3600, &cfg);
	assert_int_equal(st.failures, 0);
	assert_true(st.window_start == 0 && st.last_fail == T0 + 2);

	for (uint64_t i = 0; i < 5; i++)
		(void)rec_lock_fail(&st, T0 + 20000 + i, &cfg);
	assert_int_equal(st.failures, 5);
	assert_int_equal(st.cooldown, 60);
	assert_true(st.locked_until == T0 + 20004 + 60);
	/* After a lock, nothing leaks: only level_reset or a success. */
	rec_lock_refresh(&st, T0 + 30000, &cfg);
	assert_int_equal(st.failures, 5);
	assert_true(rec_lock_fail(&st, T0 + 30000, &cfg));
	assert_int_equal(st.failures, 6);
	assert_int_equal(st.cooldown, 120);

	st.failures = UINT32_MAX;
	assert_true(rec_lock_fail(&st, T0 + 30200, &cfg));
	assert_true(st.failures == UINT32_MAX);

	rec_lock_clear(&st);
	assert_true(st.failures == 0 && st.window_start == 0 &&
	    st.last_fail == 0 && st.locked_until == 0 && st.cooldown == 0);
}

/* rec_lock_fail refreshes by itself: refreshing first changes nothing. */
static void
test_refresh_idempotent(void **state)
{
	static const uint64_t steps[] = {
		0, 1, 1, 2, 59, 60, 61, 300, 899, 900, 901, 3600, 86399,
		86400, 86401, 10 * DAY,
	};
	struct rec_lock_policy cfg;
	struct rec_lock a, b, c;
	uint64_t t = T0;

	(void)state;
	cfg = *(&defaults);
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
			t += steps[i];
			rec_lock_refresh(&b, t, &cfg);
			c = b;
			rec_lock_refresh(&c, t, &cfg);
			assert_memory_equal(&b, &c, sizeof(b));
			assert_int_equal(rec_lock_fail(&a, t, &cfg),
			    rec_lock_fail(&b, t, &cfg));
			assert_memory_equal(&a, &b, sizeof(a));
		}
	}
}

/*
 * The caller's protocol: refuse while locked, otherwise count the failure
 * before evaluating the hash.  However many attempts arrive in the same
 * second, at most max_attempts of them get to a hash before the lock.
 */
static void
test_caller_model(void **state)
{
	struct rec_lock_policy cfg;
	struct rec_lock st;
	unsigned hashed = 0, refused = 0;

	(void)state;
	cfg = *(&defaults);
	memset(&st, 0, sizeof(st));
	for (int i = 0; i < 50; i++) {
		rec_lock_refresh(&st, T0, &cfg);
		if (rec_lock_remaining(&st, T0, &cfg) > 0) {
			refused++;
			continue;
		}
		(void)rec_lock_fail(&st, T0, &cfg);
		hashed++;	/* the attempt that locks still finishes */
	}
	assert_int_equal(hashed, 5);
	assert_int_equal(refused, 45);
	assert_int_equal(rec_lock_remaining(&st, T0, &cfg), 60);
}

/*
 * Hashed guesses on each of 8 simulated days by an attacker who guesses
 * whenever the lockout lets him (greedy), or only when the guess does not
 * lock (paced).  The same loop as bench/bench_guess.c's item 9.
 */
static void
guesses(const struct rec_lock_policy *cfg, int paced, unsigned per_day[8])
{
	struct rec_lock st, trial;
	uint64_t t = T0, wait;

	memset(&st, 0, sizeof(st));
	memset(per_day, 0, 8 * sizeof(per_day[0]));
	while (t < T0 + 8 * DAY) {
		rec_lock_refresh(&st, t, cfg);
		if ((wait = rec_lock_remaining(&st, t, cfg)) > 0) {
			t += wait;
			continue;
		}
		trial = st;
		if (rec_lock_fail(&trial, t, cfg) && paced) {
			t++;
			continue;
		}
		st = trial;
		per_day[(t - T0) / DAY]++;
		t++;
	}
}

/*
 * Whatever the pacing, a day after the first brings no more guesses than
 * one per max(fail_interval, cooldown_cap): the rate of the top of the lock
 * ladder.  (Before, 4 guesses per fail_interval never locked: 384 a day.)
 */
static void
test_paced_attacker(void **state)
{
	static const struct {
		struct rec_lock_policy k;
		unsigned day1, later;	/* most guesses, either strategy */
	} cases[] = {
		{ { 5, 900, 60, 2, 3600, 86400 }, 33, 24 },
		{ { 5, 900, 60, 2, 7200, 86400 }, 22, 12 },
		{ { 5, 7200, 60, 2, 3600, 86400 }, 33, 24 },
		{ { 3, 60, 10, 2, 600, 86400 }, 151, 144 },
		{ { 10, 900, 60, 2, 3600, 86400 }, 38, 24 },
	};
	struct rec_lock_policy cfg;
	unsigned g[8], p[8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		unsigned greedy = 0, paced = 0;

		cfg = *(&cases[i].k);
		guesses(&cfg, 0, g);
		guesses(&cfg, 1, p);
		for (int d = 1; d < 8; d++) {
			greedy = g[d] > greedy ? g[d] : greedy;
			paced = p[d] > paced ? p[d] : paced;
		}
		print_message("case %zu: day 1 %u greedy, %u paced; later %u "
		    "greedy, %u paced\n", i, g[0], p[0], greedy, paced);
		/* Pacing never beats being locked, day after day. */
		assert_true(paced <= greedy);
		assert_true(greedy <= DAY / cfg.cooldown_cap + 1);
		if (cases[i].day1 != 0 && ((g[0] > p[0] ? g[0] : p[0]) !=
		    cases[i].day1 || greedy != cases[i].later))
			fail_msg("case %zu: expected %u on day 1, %u later", i,
			    cases[i].day1, cases[i].later);
	}
}

/* A small deterministic generator: tests must be reproducible. */
static uint64_t
xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/*
 * Random walks with the clock jumping both ways, over random settings,
 * checking what must hold whatever happens.
 */
static void
test_invariants_random(void **state)
{
	struct rec_lock_policy cfg;
	struct rec_lock st;
	uint64_t seed = UINT64_C(0x9e3779b97f4a7c15), now, r, shortest;
	unsigned since_lock;

	(void)state;
	for (int run = 0; run < 2000; run++) {
		struct rec_lock_policy k = {
			1 + (unsigned)(xorshift(&seed) % 10),
			1 + xorshift(&seed) % 2000,
			1 + xorshift(&seed) % 300,
			(unsigned)(xorshift(&seed) % 5),
			0,
			1 + xorshift(&seed) % 200000,
		};

		k.cooldown_cap = k.base_cooldown + xorshift(&seed) % 10000;
		if (run % 10 == 0)	/* a cap below base_cooldown */
			k.cooldown_cap = 1 + xorshift(&seed) % k.base_cooldown;
		shortest = k.base_cooldown < k.cooldown_cap ?
		    k.base_cooldown : k.cooldown_cap;
		cfg = *(&k);
		memset(&st, 0, sizeof(st));
		if (xorshift(&seed) % 4 == 0)
			now = TOP - xorshift(&seed) % 100000;
		else
			now = T0 + xorshift(&seed) % DAY;
		since_lock = 0;
		for (int i = 0; i < 200; i++) {
			r = xorshift(&seed);
			switch (r % 8) {
			case 0:	/* the clock jumps back, up to 20 days */
				r = xorshift(&seed) % (20 * DAY);
				now = now > r ? now - r : 0;
				break;
			case 1:	/* a long quiet spell */
				r = xorshift(&seed) % (2 * DAY);
				now = now > TOP - r ? TOP : now + r;
				break;
			default:
				r = xorshift(&seed) % 400;
				now = now > TOP - r ? TOP : now + r;
				break;
			}
			if (r % 17 == 0) {
				rec_lock_clear(&st);
				since_lock = 0;
				continue;
			}
			rec_lock_refresh(&st, now, &cfg);
			assert_true(st.last_fail <= now);
			assert_true(st.window_start <= now);
			assert_true(st.cooldown <= cfg.cooldown_cap);
			assert_true(st.locked_until <= now ||
			    st.locked_until - now <= cfg.cooldown_cap);
			if (st.failures == 0 && st.cooldown == 0)
				since_lock = 0;
			if (rec_lock_remaining(&st, now, &cfg) > 0)
				continue;
			if (rec_lock_fail(&st, now, &cfg)) {
				since_lock = 0;
				if (now < TOP - cfg.cooldown_cap)
					assert_true(rec_lock_remaining(&st, now,
					    &cfg) >= shortest);
			} else {
				since_lock++;
				/* No lock with max_attempts failures. */
				if (now < TOP) {
					assert_true(st.cooldown == 0);
					assert_true(st.failures <
					    cfg.max_attempts);
					assert_true(st.failures <= since_lock);
				}
			}
			assert_true(rec_lock_remaining(&st, now, &cfg) <=
			    cfg.cooldown_cap);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scenarios),
		cmocka_unit_test(test_clock_backwards_pulls_in),
		cmocka_unit_test(test_clock_back_table),
		cmocka_unit_test(test_failure_count),
		cmocka_unit_test(test_refresh_idempotent),
		cmocka_unit_test(test_caller_model),
		cmocka_unit_test(test_paced_attacker),
		cmocka_unit_test(test_invariants_random),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
