/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_lockout.c: the exponential-cooldown arithmetic; time is an argument. */
#include <string.h>

#include "rec_lockout.h"

/*
 * Times and durations come from a store that may be old, from a clock that
 * may jump, and from a configuration with wide ranges: every sum and product
 * saturates instead of wrapping, so no input can turn a lock into no lock.
 */
static uint64_t
sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

static uint64_t
sat_mul(uint64_t a, uint64_t b)
{
	if (a != 0 && b > UINT64_MAX / a)
		return UINT64_MAX;
	return a * b;
}

static uint64_t
min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * How long the failure count takes to forget one failure before a lock: at
 * least fail_interval, so that max_attempts failures within fail_interval
 * always lock (at most one failure can leak away inside any fail_interval,
 * and not before the first), and at least cooldown_cap, so that an
 * attacker who paces guesses to stay below the lock gets no more of them
 * than one who is locked at the top of the ladder: one per cooldown_cap.
 */
static uint64_t
drain_period(const struct rec_lock_policy *pol)
{
	uint64_t p = pol->fail_interval > pol->cooldown_cap ?
	    pol->fail_interval : pol->cooldown_cap;

	return p > 0 ? p : 1;
}

/*
 * The longest a lock can still last: a lock of level cooldown was set at
 * most cooldown seconds ago (at its failure), so no clock can leave more of
 * it than that, and never more than cooldown_cap.  A state that says
 * "locked" without a level (a hand-edited store) gets cooldown_cap.
 */
static uint64_t
lock_bound(const struct rec_lock *st, const struct rec_lock_policy *pol)
{
	if (st->cooldown == 0)
		return pol->cooldown_cap;
	return min_u64(st->cooldown, pol->cooldown_cap);
}

uint64_t
rec_lock_remaining(const struct rec_lock *st, uint64_t now,
    const struct rec_lock_policy *pol)
{
	if (st->locked_until <= now)
		return 0;
	return min_u64(st->locked_until - now, lock_bound(st, pol));
}

int
rec_lock_clock_back(const struct rec_lock *st, uint64_t now,
    const struct rec_lock_policy *pol)
{
	return st->last_fail > now || st->window_start > now ||
	    st->locked_until > sat_add(now, lock_bound(st, pol));
}

void
rec_lock_refresh(struct rec_lock *st, uint64_t now,
    const struct rec_lock_policy *pol)
{
	/*
	 * The clock moved backwards: nothing can have happened after now, and
	 * no lock may outlast cooldown_cap from here.  Pulling the timestamps
	 * in keeps the windows below measured from a real past.
	 */
	if (st->last_fail > now)
		st->last_fail = now;
	if (st->window_start > now)
		st->window_start = now;
	if (st->locked_until > sat_add(now, lock_bound(st, pol)))
		st->locked_until = sat_add(now, lock_bound(st, pol));

	/* A quiet level_reset since the last failure forgives everything. */
	if (st->last_fail != 0 && st->locked_until <= now &&
	    now >= sat_add(st->last_fail, pol->level_reset)) {
		rec_lock_clear(st);
		return;
	}

	/*
	 * Before the first lock, the failure count leaks: one failure is
	 * forgiven per drain period, counted from window_start.  After a
	 * lock, only a success or level_reset lowers the level.
	 */
	if (st->cooldown == 0 && st->window_start != 0) {
		uint64_t period = drain_period(pol);
		uint64_t k = (now - st->window_start) / period;

		if (st->failures == 0 || k >= st->failures) {
			st->failures = 0;
			st->window_start = 0;
		} else if (k > 0) {
			st->failures -= (uint32_t)k;
			st->window_start += k * period;
		}
	}
}

int
rec_lock_fail(struct rec_lock *st, uint64_t now, const struct rec_lock_policy *pol)
{
	uint64_t multiplier;

	/* Idempotent, so a caller that already refreshed loses nothing. */
	rec_lock_refresh(st, now, pol);

	if (st->failures < UINT32_MAX)
		st->failures++;
	if (st->window_start == 0)
		st->window_start = now;
	st->last_fail = now;

	if (st->cooldown > 0) {
		/* A multiplier of 0 would reset the level; hold it instead. */
		multiplier = pol->cooldown_multiplier > 0 ?
		    pol->cooldown_multiplier : 1;
		st->cooldown = min_u64(sat_mul(st->cooldown, multiplier),
		    pol->cooldown_cap);
	} else if (st->failures >= pol->max_attempts) {
		st->cooldown = min_u64(pol->base_cooldown, pol->cooldown_cap);
	} else
		return 0;

	st->locked_until = sat_add(now, st->cooldown);
	return st->locked_until > now;
}

void
rec_lock_clear(struct rec_lock *st)
{
	memset(st, 0, sizeof(*st));
}
