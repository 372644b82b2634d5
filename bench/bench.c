/* SPDX-License-Identifier: BSD-2-Clause */
/* bench.c: pam_recovery's speed at the default argon2id cost, via libpam: the settings, the heading and the order of the items. */
#include <sys/utsname.h>
#include <sys/vfs.h>

#include <errno.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <lmdb.h>
#include <sodium.h>

#include "rec_err.h"

#include "bench.h"

/*
 * Environment: B (build directory holding pam_recovery.so), BENCH_OPSLIMIT,
 * BENCH_MEMLIMIT (bytes, or with a K, M or G suffix), BENCH_REPS,
 * BENCH_USERS, BENCH_PURGE_USERS (users of 10 dead codes each that purge
 * removes), BENCH_LDAP_USERS (filler users of item 11's directory; 0 skips
 * it), BENCH_ONLY (9: the floor and item 9 alone; ldap: the floor, items
 * 3, 4 and 11), BENCH_DATA (a file to write the login latencies to, for
 * bench/plot.gp), TMPDIR.  Every number printed is measured in this run;
 * none is checked against its target: the targets are printed for the
 * reader.
 */

#define DEFAULT_REPS	15
#define MAX_REPS	200	/* keeps every user below max_attempts */
#define DEFAULT_USERS	100000
#define MAX_USERS	10000000
#define DEFAULT_PURGE_USERS 100000
#define DEFAULT_LDAP_USERS 100000

static void
log_stderr(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	if (prio <= LOG_WARNING)
		fprintf(stderr, "bench: %s\n", msg);
}

/*
 * An unsigned setting from the environment, def when unset; with `size`, a
 * K, M or G suffix multiplies.  Returns 0, or -1 (reported) for a value that
 * is not a number in [lo, hi].
 */
static int
env_number(const char *name, uint64_t def, int size, uint64_t lo, uint64_t hi,
    uint64_t *out)
{
	const char *s = getenv(name);
	char *end = NULL;
	unsigned long long v;
	uint64_t mult = 1;

	*out = def;
	if (s == NULL || *s == '\0')
		return 0;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (size && end != s && *end != '\0' && end[1] == '\0') {
		switch (*end) {
		case 'K': case 'k': mult = UINT64_C(1) << 10; end++; break;
		case 'M': case 'm': mult = UINT64_C(1) << 20; end++; break;
		case 'G': case 'g': mult = UINT64_C(1) << 30; end++; break;
		}
	}
	if (errno != 0 || end == s || *end != '\0' || *s < '0' || *s > '9' ||
	    v > hi / mult || v * mult < lo || v * mult > hi) {
		fprintf(stderr, "bench: %s=%s: not a number from %llu to %llu\n",
		    name, s, (unsigned long long)lo, (unsigned long long)hi);
		return -1;
	}
	*out = v * mult;
	return 0;
}

/* The machine and the settings, as the heading of the table. */
static void
describe(const struct bench *b)
{
	char model[256] = "unknown", line[512], date[64] = "?";
	double load[3];
	struct utsname u;
	struct statfs sf;
	struct tm tm;
	time_t t = time(NULL);
	FILE *f;

	if ((f = fopen("/proc/cpuinfo", "r")) != NULL) {
		while (fgets(line, sizeof(line), f) != NULL) {
			char *colon = strchr(line, ':');

			if (strncmp(line, "model name", 10) != 0 || colon == NULL)
				continue;
			colon += strspn(colon, ": \t");
			colon[strcspn(colon, "\n")] = '\0';
			snprintf(model, sizeof(model), "%s", colon);
			break;
		}
		fclose(f);
	}
	if (gmtime_r(&t, &tm) != NULL)
		strftime(date, sizeof(date), "%Y-%m-%d %H:%M:%S UTC", &tm);
	if (uname(&u) == -1)
		snprintf(u.release, sizeof(u.release), "?");
	if (statfs(b->tmp, &sf) == -1)
		sf.f_type = 0;
	if (getloadavg(load, 3) != 3)
		load[0] = load[1] = load[2] = -1;
	printf("pam_recovery benchmark, %s\n", date);
	printf("machine: %ld CPUs online, %s; Linux %s; libsodium %s; %s\n",
	    b->cores, model, u.release, sodium_version_string(),
	    mdb_version(NULL, NULL, NULL));
	printf("load average before the run: %.2f %.2f %.2f (anything else "
	    "running skews every number)\n", load[0], load[1], load[2]);
	printf("cost: argon2id opslimit %llu, memlimit %llu KiB; %u repetitions; "
	    "stores in %s (%s, 0x%lx)\n", (unsigned long long)b->opslimit,
	    (unsigned long long)(b->memlimit >> 10), b->reps, b->tmp,
	    fs_name((long)sf.f_type), (unsigned long)sf.f_type);
	printf("sizes: system store %u users (BENCH_USERS), purge store %u "
	    "users (BENCH_PURGE_USERS),\n   directory %u users "
	    "(BENCH_LDAP_USERS)\n", b->users, b->purge_users, b->ldap_users);
	printf("logins: pam_start_confdir + pam_authenticate (timed alone) + "
	    "pam_end, in this process (%s),\n   as user %s in per-user "
	    "stores\n", b->me, b->pu);
	printf("p99 is the nearest rank (the maximum below 100 samples); floor "
	    "is the median of\nbare evaluations made one before each login "
	    "of the row; ratio = median / floor,\nin wall time and in CPU "
	    "time (cpu: this thread's and the module's children's),\nwhich "
	    "other load does not skew\n\n");
	printf("   %-40s %3s %7s %7s %7s %7s %6s %6s  %s\n", "ms", "n", "min",
	    "median", "p99", "floor", "ratio", "cpu", "target");
	fflush(stdout);
}

int
main(void)
{
	struct bench b;
	const char *data = getenv("BENCH_DATA");
	uint64_t n;
	double t0 = now_ms();
	int ret = 1;

	if (getenv("BENCH_ONE_HASH") != NULL)
		return bench_one_hash();
	memset(&b, 0, sizeof(b));
	b.log.fn = log_stderr;
	if ((b.cores = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		b.cores = 1;
	if (sodium_init() < 0) {
		fprintf(stderr, "bench: libsodium failed to initialise\n");
		goto out;
	}
	if (env_number("BENCH_OPSLIMIT", 2, 0,
	    crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_OPSLIMIT_MAX, &b.opslimit) != 0 ||
	    env_number("BENCH_MEMLIMIT", UINT64_C(64) << 20, 1,
	    crypto_pwhash_argon2id_MEMLIMIT_MIN, UINT64_C(4) << 30,
	    &b.memlimit) != 0)
		goto out;
	if (env_number("BENCH_REPS", DEFAULT_REPS, 0, 1, MAX_REPS, &n) != 0)
		goto out;
	b.reps = (unsigned)n;
	if (env_number("BENCH_USERS", DEFAULT_USERS, 0, 0, MAX_USERS, &n) != 0)
		goto out;
	b.users = (unsigned)n;
	if (env_number("BENCH_PURGE_USERS", DEFAULT_PURGE_USERS, 0, 0,
	    MAX_USERS, &n) != 0)
		goto out;
	b.purge_users = (unsigned)n;
	if (env_number("BENCH_LDAP_USERS", DEFAULT_LDAP_USERS, 0, 0,
	    MAX_USERS, &n) != 0)
		goto out;
	b.ldap_users = (unsigned)n;
	if ((b.v = calloc(b.reps, sizeof(*b.v))) == NULL ||
	    (b.vc = calloc(b.reps, sizeof(*b.vc))) == NULL ||
	    (b.f = calloc(b.reps, sizeof(*b.f))) == NULL ||
	    (b.fc = calloc(b.reps, sizeof(*b.fc))) == NULL ||
	    (b.d = calloc(b.reps, sizeof(*b.d))) == NULL ||
	    (b.dc = calloc(b.reps, sizeof(*b.dc))) == NULL ||
	    (b.nb = sodium_malloc(sizeof(*b.nb))) == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		goto out;
	}
	if (data != NULL && *data != '\0' && (b.data = fopen(data, "w")) ==
	    NULL) {
		fprintf(stderr, "bench: %s: %s\n", data, strerror(errno));
		goto out;
	}
	if (getpwnam(NO_USER) != NULL) {
		fprintf(stderr, "bench: a user " NO_USER " exists: the unknown "
		    "user of the timing line must not\n");
		goto out;
	}
	if (setup(&b) != 0)
		goto out;
	describe(&b);

	if (measure_floor(&b) != 0)
		goto out;
	/* BENCH_ONLY=9: the store reader's costs alone, for a quick look. */
	if (getenv("BENCH_ONLY") != NULL && strcmp(getenv("BENCH_ONLY"), "9") ==
	    0) {
		ret = measure_spawn(&b) != 0;
		goto out;
	}
	/* BENCH_ONLY=ldap: the directory, and the LMDB rows beside it. */
	if (getenv("BENCH_ONLY") != NULL && strcmp(getenv("BENCH_ONLY"),
	    "ldap") == 0) {
		ret = system_store(&b) != 0 || throughput(&b) != 0 ||
		    measure_ldap(&b) != 0;
		printf("\ntotal run time %.1f s\n", (now_ms() - t0) / 1e3);
		goto out;
	}
	printf(" 2 logins, per-user store %s/%%u.store (user %s)%s\n", b.udir,
	    b.pu, b.pu_uid != geteuid() ? ",\n   which the module, as root, "
	    "reads in a child that is the user" : "");
	if (latency(&b, SVC_USER, b.user_store, b.pu_uid, &b.ucfg, b.pu, 10,
	    "login, per-user store, 10 codes", "codes", 10, 1) != 0 ||
	    latency(&b, SVC_USER, b.user_store, b.pu_uid, &b.ucfg, b.pu, 100,
	    "login, per-user store, 100 codes", "codes", 100, 0) != 0)
		goto out;
	if (system_store(&b) != 0 || throughput(&b) != 0 ||
	    versus_apart(&b) != 0 ||
	    measure_generate(&b) != 0 || measure_purge(&b) != 0 ||
	    peak_memory(&b) != 0 || measure_spawn(&b) != 0 ||
	    guess_rate(&b) != 0)
		goto out;

	printf("\n timing (issue #8): medians of wrong codes, ms; spread = "
	    "(largest - smallest) / smallest\n   %-40s %3s %8s %8s %8s %8s\n",
	    "", "n", "unknown", "no codes", "wrong", "spread");
	if (timing(&b, "system store (no codes: in passwd)", SVC_SYSTEM,
	    SVC_SYSTEM, b.me, SVC_SYSTEM, SYS_USER) != 0 ||
	    timing(&b, "per-user store (no codes: no store)", SVC_USER,
	    SVC_NONE, b.pu, SVC_USER, b.pu) != 0)
		goto out;
	if (measure_ldap(&b) != 0)
		goto out;
	printf("\ntotal run time %.1f s\n", (now_ms() - t0) / 1e3);
	ret = 0;
out:
	fflush(stdout);
	if (b.data != NULL && fclose(b.data) != 0) {
		fprintf(stderr, "bench: %s: %s\n", data, strerror(errno));
		ret = 1;
	}
	if (b.nb != NULL)
		rec_new_batch_wipe(b.nb);
	sodium_free(b.nb);
	free(b.v);
	free(b.vc);
	free(b.f);
	free(b.fc);
	free(b.d);
	free(b.dc);
	if (b.tmp[0] != '\0')
		remove_tree(b.tmp);
	if (b.shm[0] != '\0')
		remove_tree(b.shm);
	return ret;
}
