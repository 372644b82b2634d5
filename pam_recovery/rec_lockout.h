/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_lockout.h: the exponential-cooldown state machine, pure. */
#ifndef REC_LOCKOUT_H
#define REC_LOCKOUT_H

#include <stdint.h>

/*
 * The persistent lockout state of one user.  Times are Unix seconds.  All
 * zero means "no failures".  cooldown is the length of the current lock
 * level: 0 until the first lock, then base_cooldown, escalated by
 * cooldown_multiplier on every failure after a lock, capped at cooldown_cap.
 *
 * Before the first lock, failures is a leaky bucket: every failure adds
 * one, and one is forgiven per drain period of max(fail_interval,
 * cooldown_cap) seconds (3600 by default); max_attempts in the bucket
 * lock.  So max_attempts failures within fail_interval always lock, and
 * guesses paced to stay under the lock come no faster than one per
 * cooldown_cap, like those of an attacker at the top of the lock ladder.
 */
/*
 * The six numbers a lock runs by, built from the configuration by
 * rec_config_lock_policy() (the login lockout) and rec_config_gen_policy()
 * (the generate cooldown); see pam_recovery.conf(5) for each.
 */
struct rec_lock_policy {
	unsigned max_attempts;		/* failures in the bucket that lock */
	uint64_t fail_interval;		/* seconds */
	uint64_t base_cooldown;		/* the first lock, seconds */
	unsigned cooldown_multiplier;	/* each failure after a lock */
	uint64_t cooldown_cap;		/* the longest lock, seconds */
	uint64_t level_reset;		/* quiet seconds that clear the state */
};

struct rec_lock {
	uint32_t failures;	/* failures not yet forgiven */
	uint64_t window_start;	/* start of the current drain period */
	uint64_t last_fail;	/* most recent failure */
	uint64_t locked_until;	/* 0 = not locked */
	uint64_t cooldown;	/* current level, seconds; 0 = never locked */
};

/*
 * Seconds the user must still wait at time now (0 = not locked).  Never more
 * than the current level (cooldown) nor cooldown_cap, even when the clock
 * moved backwards.
 */
uint64_t rec_lock_remaining(const struct rec_lock *st, uint64_t now,
    const struct rec_lock_policy *pol);

/*
 * 1 when the clock has moved back behind st: a failure or a lock start in
 * the future of now, or a lock that ends later than its level allows.
 * rec_lock_refresh() pulls such a state in to now; a caller that sees 1 must
 * write the refreshed state back to the store, or the lock is measured from
 * the jumped clock again at every read and lasts as long as the jump.
 */
int rec_lock_clock_back(const struct rec_lock *st, uint64_t now,
    const struct rec_lock_policy *pol);

/*
 * Bring st up to date at now without counting anything: clear a state with
 * no failure for level_reset seconds, forgive one failure per drain period
 * passed (before any lock), and pull timestamps in the future of now
 * (the clock moved back) in to now, and a lock that ends more than its level
 * (cooldown, at most cooldown_cap) after now in to now + that level.
 */
void rec_lock_refresh(struct rec_lock *st, uint64_t now,
    const struct rec_lock_policy *pol);

/*
 * Count one failure at now (after rec_lock_refresh).  Locks for
 * base_cooldown when the window reaches max_attempts, and after a lock
 * escalates every further failure.  Returns 1 when this failure set a lock.
 */
int rec_lock_fail(struct rec_lock *st, uint64_t now, const struct rec_lock_policy *pol);

/* A success or an administrator's unlock: back to the all-zero state. */
void rec_lock_clear(struct rec_lock *st);

#endif
