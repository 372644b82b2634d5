/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_calibrate.c: the calibrate command: argon2id cost for a time. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>

#include "admin_common.h"
#include "rec_err.h"

#define MIB (1ULL << 20)
#define MEM_FIRST (8 * MIB)	/* the cheapest memory worth suggesting */
#define MEM_CAP (256 * MIB)	/* default top: libsodium's MODERATE */
#define POINTS 12

struct point {
	uint64_t mem;
	double t1, t3;		/* ms at opslimit 1 and 3 */
	uint64_t ops;		/* opslimit within the target (0: none) */
};

/*
 * Milliseconds of one argon2id evaluation, the best of runs (other work on
 * the machine only ever adds time), or -1 when it failed.
 */
static double
measure(uint64_t ops, uint64_t mem, int runs)
{
	struct timespec t0, t1;
	double ms, best = -1;

	for (int i = 0; i < runs; i++) {
		clock_gettime(CLOCK_MONOTONIC, &t0);
		if (rec_kdf_dummy(ops, mem) != REC_OK)
			return -1;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
		    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
		if (best < 0 || ms < best)
			best = ms;
	}
	return best;
}

/*
 * The time grows linearly with opslimit (one more pass over the memory
 * each): from two measurements, the largest opslimit within target.
 */
static uint64_t
ops_for(const struct point *p, double target)
{
	double per_op = (p->t3 - p->t1) / 2, base = p->t1 - per_op;

	if (p->t1 > target)
		return 0;
	/* Noise can hide the slope: then take the time as all passes. */
	if (per_op < p->t3 / 6) {
		per_op = p->t3 / 3;
		base = 0;
	}
	if (per_op <= 0 || target <= base + per_op)
		return 1;
	return (uint64_t)((target - base) / per_op);
}

/* Bytes of RAM installed, and available now (MemAvailable). */
static void
memory(uint64_t *total, uint64_t *avail)
{
	struct sysinfo si;
	unsigned long long kb;
	char line[128];
	FILE *fp;

	*total = *avail = 0;
	if (sysinfo(&si) == 0) {
		*total = (uint64_t)si.totalram * si.mem_unit;
		*avail = (uint64_t)(si.freeram + si.bufferram) * si.mem_unit;
	}
	if ((fp = fopen("/proc/meminfo", "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			*avail = (uint64_t)kb << 10;
	fclose(fp);
}

static const char *
size_text(uint64_t bytes, char *buf, size_t len)
{
	if (bytes % MIB == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(bytes / MIB));
	else
		snprintf(buf, len, "%lluK", (unsigned long long)(bytes >> 10));
	return buf;
}

/* The suggestion: as much memory as fits with two passes or more. */
static const struct point *
choose(const struct point *pts, unsigned n)
{
	const struct point *best = NULL;

	for (unsigned i = 0; i < n; i++)
		if (pts[i].ops >= 2)
			best = &pts[i];
	for (unsigned i = 0; best == NULL && i < n; i++)
		if (pts[i].ops >= 1)
			best = &pts[i];
	return best != NULL ? best : &pts[0];
}

int
admin_cmd_calibrate(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "target-ms", required_argument, NULL, 't' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct point pts[POINTS];
	const struct point *best;
	struct rec_config cur, scratch;
	struct rec_log quiet = { NULL, NULL, 0 };
	uint64_t cap = MEM_CAP, ops, total, avail;
	unsigned target = 250, n = 0;
	char sz[32], fit[32];
	double ms;
	int ch;

	rec_config_defaults(&scratch);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			target = tool_number(optarg, 1, 60000, "--target-ms",
			    a->usage);
			break;
		case 'm':
			/* Sizes, suffixes and range as for kdf_memlimit. */
			if (rec_config_set(&scratch, "kdf_memlimit", optarg,
			    "--max-memory", 0, &a->log) != REC_OK)
				a->usage();
			cap = scratch.kdf_memlimit;
			break;
		default:
			a->usage();
		}
	}
	if (optind != argc)
		a->usage();
	memory(&total, &avail);
	printf("argon2id on this machine, target %u ms per login attempt:\n\n"
	    "  %-10s %12s %12s   %s\n", target, "memlimit", "opslimit 1",
	    "opslimit 3", "within target");
	/* Double the memory until one pass alone takes too long. */
	for (uint64_t mem = MEM_FIRST < cap ? MEM_FIRST : cap; n < POINTS &&
	    mem <= cap; mem *= 2) {
		if (total != 0 && mem > total / 4)
			break;
		pts[n].mem = mem;
		if ((pts[n].t1 = measure(1, mem, 2)) < 0 ||
		    (pts[n].t3 = measure(3, mem, 2)) < 0) {
			warnx("argon2id could not get %s of memory",
			    size_text(mem, sz, sizeof(sz)));
			break;
		}
		pts[n].ops = ops_for(&pts[n], target);
		if (pts[n].ops > 0)
			snprintf(fit, sizeof(fit), "opslimit %llu",
			    (unsigned long long)pts[n].ops);
		else
			snprintf(fit, sizeof(fit), "no");
		printf("  %-10s %9.0f ms %9.0f ms   %s\n",
		    size_text(mem, sz, sizeof(sz)), pts[n].t1, pts[n].t3, fit);
		n++;
		if (pts[n - 1].t1 > target)
			break;
	}
	if (n == 0)
		return EXIT_FAIL;
	best = choose(pts, n);
	ops = best->ops > 0 ? best->ops : 1;
	/* The line is an estimate: scale back while it overshoots. */
	for (int tries = 0; (ms = measure(ops, best->mem, 2)) > target * 1.2 &&
	    ops > 1 && tries < 3; tries++)
		ops = ops * target / (uint64_t)ms > 1 ?
		    ops * target / (uint64_t)ms : 1;
	if (ms < 0) {
		warnx("argon2id failed at the suggested cost");
		return EXIT_FAIL;
	}
	printf("\nSuggested for pam_recovery.conf:\n\n"
	    "  kdf_opslimit = %llu\n  kdf_memlimit = %s\n\n"
	    "measured at that cost: %.0f ms per attempt%s\n",
	    (unsigned long long)ops, size_text(best->mem, sz, sizeof(sz)), ms,
	    best->ops == 0 ? " (the target is below the cheapest sensible "
	    "cost: this is the minimum suggested)" : "");
	if (admin_config(a, &cur, &quiet) == REC_OK &&
	    (ms = measure(cur.kdf_opslimit, cur.kdf_memlimit, 2)) >= 0)
		printf("configured now: kdf_opslimit = %llu, "
		    "kdf_memlimit = %s: "
		    "%.0f ms\n", (unsigned long long)cur.kdf_opslimit,
		    size_text(cur.kdf_memlimit, sz, sizeof(sz)), ms);
	printf("\nEach login attempt holds %s of memory while it hashes",
	    size_text(best->mem, sz, sizeof(sz)));
	if (total != 0)
		printf(": this machine's %llu MiB of RAM fit about %llu "
		    "attempts at once (%llu in the %llu MiB available now)",
		    (unsigned long long)(total / MIB),
		    (unsigned long long)(total / best->mem),
		    (unsigned long long)(avail / best->mem),
		    (unsigned long long)(avail / MIB));
	printf(".\nNew codes use the new cost; existing batches keep theirs "
	    "until they are replaced.\n");
	return EXIT_OK;
}
