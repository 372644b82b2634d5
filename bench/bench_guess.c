/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_guess.c: item 10, the online guesses a lockout lets through a day. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "rec_lockout.h"

#include "bench.h"

#define SIM_DAY		UINT64_C(86400)
#define SIM_DAYS	8
#define SIM_T0		UINT64_C(1800000000)

/*
 * One attacker against one user, over SIM_DAYS simulated days, through the
 * lockout functions the module uses (refresh, remaining, fail), exactly as
 * an attempt uses them: refused while locked, otherwise counted before the
 * hash.  Every counted attempt is one hashed guess.  Time is an argument:
 * nothing sleeps.  Two strategies:
 *   greedy  - guess whenever not locked (the lock escalates to the cap);
 *   paced   - guess only when the guess does not lock: as fast as the
 *             failure count forgets, never triggering a lock.
 * per_day[d] receives the guesses of day d.
 */
static void
simulate(const struct rec_lock_policy *cfg, int paced,
    unsigned per_day[SIM_DAYS])
{
	struct rec_lock st, trial;
	uint64_t t = SIM_T0, end = SIM_T0 + SIM_DAYS * SIM_DAY;

	memset(&st, 0, sizeof(st));
	memset(per_day, 0, SIM_DAYS * sizeof(per_day[0]));
	while (t < end) {
		uint64_t wait;

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
		per_day[(t - SIM_T0) / SIM_DAY]++;
		t++;
	}
}

int
guess_rate(struct bench *b)
{
	struct rec_config cfg;
	struct rec_lock_policy pol;
	unsigned greedy[SIM_DAYS], paced[SIM_DAYS], g = 0, p = 0;

	(void)b;
	rec_config_defaults(&cfg);
	rec_config_lock_policy(&cfg, &pol);
	simulate(&pol, 0, greedy);
	simulate(&pol, 1, paced);
	for (unsigned d = 1; d < SIM_DAYS; d++) {
		g = greedy[d] > g ? greedy[d] : g;
		p = paced[d] > p ? paced[d] : p;
	}
	printf("\n 10 online guessing: hashed guesses per day against one user "
	    "under the default\n   lockout (%u in %llu s lock %llu s, x%u up "
	    "to %llu s), %d simulated days through\n   rec_lock_refresh/"
	    "remaining/fail (no sleeping); target: about 24 a day\n",
	    cfg.max_attempts, (unsigned long long)cfg.fail_interval,
	    (unsigned long long)cfg.base_cooldown, cfg.cooldown_multiplier,
	    (unsigned long long)cfg.cooldown_cap, SIM_DAYS);
	printf("   %-44s %8s %14s\n", "", "day 1", "any later day");
	printf("   %-44s %8u %14u\n", "greedy (guess whenever not locked)",
	    greedy[0], g);
	printf("   %-44s %8u %14u\n", "paced (only guesses that do not lock)",
	    paced[0], p);
	printf("   %-44s %8u %14u\n", "the better strategy",
	    greedy[0] > paced[0] ? greedy[0] : paced[0], g > p ? g : p);
	return 0;
}
