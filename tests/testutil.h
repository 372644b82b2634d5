/* testutil.h: small helpers shared by the unit tests (static, header only). */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

/*
 * Cap the address space at what is mapped now plus 1 TiB, so that a 2 TiB
 * argon2 request fails whatever the overcommit policy, instead of being
 * granted and then filled.  Returns 0 when the cap could not be set.
 */
static inline int
cap_address_space(struct rlimit *saved)
{
	unsigned long long pages = 0, cap;
	struct rlimit rl;
	FILE *fp;

	if (getrlimit(RLIMIT_AS, saved) == -1)
		return 0;
	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(fp, "%llu", &pages) != 1)
		pages = 0;
	fclose(fp);
	if (pages == 0)
		return 0;
	cap = pages * (unsigned long long)sysconf(_SC_PAGESIZE) + (1ULL << 40);
	if (saved->rlim_cur != RLIM_INFINITY && saved->rlim_cur <= cap)
		return 1;	/* already tighter */
	if (saved->rlim_max != RLIM_INFINITY && saved->rlim_max < cap)
		return 0;
	rl.rlim_cur = cap;
	rl.rlim_max = saved->rlim_max;
	return setrlimit(RLIMIT_AS, &rl) == 0;
}

#endif
