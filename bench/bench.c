/* SPDX-License-Identifier: BSD-2-Clause */
/* bench.c: pam_recovery's speed at the default argon2id cost, via libpam. */
#include <sys/fsuid.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <pwd.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <lmdb.h>
#include <sodium.h>

#include "rec_auth.h"
#include "rec_err.h"
#include "rec_issue.h"

#include "bench.h"

/*
 * Environment: B (build directory holding pam_recovery.so), BENCH_OPSLIMIT,
 * BENCH_MEMLIMIT (bytes, or with a K, M or G suffix), BENCH_REPS,
 * BENCH_USERS, BENCH_PURGE_USERS (users of 10 dead codes each that purge
 * removes), BENCH_DATA (a file to write the login latencies to, for
 * bench/plot.gp), TMPDIR.  Every number printed is measured in this run;
 * none is checked against its target: the targets are printed for the
 * reader.
 */

#define DEFAULT_REPS	15
#define MAX_REPS	200	/* keeps every user below max_attempts */
#define DEFAULT_USERS	100000
#define MAX_USERS	10000000
#define DEFAULT_PURGE_USERS 100000
#define GEN_REPS	3	/* rec_issue_generate of 10 codes, timed */
#define MAX_HASHERS	64	/* hashing processes of the fill */
#define MAX_WORKERS	8	/* throughput levels go up to this */
#define MAX_ATTEMPTS	"1000"	/* the configuration's maximum */
#define TARGET_RATIO	1.1
#define TARGET_EFF	0.9
#define TARGET_SPREAD	10.0	/* per cent, issue #8 */

#define SYS_USER	"bench-user"	/* measured user of the system store */
#define GEN_USER	"bench-gen"	/* user whose codes `generate` times */
#define NO_USER		"bench-nosuch"	/* in no passwd and no store */
#define ROOT_PU		"nobody"	/* root's user of per-user stores */

static const unsigned levels[] = { 1, 2, 4, 8 };

static void
log_stderr(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	if (prio <= LOG_WARNING)
		fprintf(stderr, "bench: %s\n", msg);
}

static double
clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

double
now_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

static double
tv_ms(const struct timeval *tv)
{
	return (double)tv->tv_sec * 1e3 + (double)tv->tv_usec / 1e3;
}

/*
 * CPU time of this thread and of the children it has waited for (the
 * module does its store work and hashing in a child of its own): unlike the
 * wall clock, it does not count the time other processes on a busy machine
 * take from us.  Only differences of it mean anything.
 */
double
cpu_ms(void)
{
	struct rusage ru;

	if (getrusage(RUSAGE_CHILDREN, &ru) == -1)
		memset(&ru, 0, sizeof(ru));
	return clock_ms(CLOCK_THREAD_CPUTIME_ID) + tv_ms(&ru.ru_utime) +
	    tv_ms(&ru.ru_stime);
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* p99 is the nearest rank: the maximum below 100 samples. */
struct stats
summarise(double *v, unsigned n)
{
	struct stats s;
	size_t rank = ((size_t)n * 99 + 99) / 100;

	qsort(v, n, sizeof(*v), cmp_double);
	s.min = v[0];
	s.med = n % 2 != 0 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
	s.p99 = v[rank - 1];
	s.max = v[n - 1];
	return s;
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

int
write_file(const char *path, mode_t mode, const char *text)
{
	size_t len = strlen(text), done = 0;
	ssize_t n;
	int fd, ret = -1;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, mode)) == -1) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (done < len) {
		if ((n = write(fd, text + done, len - done)) == -1) {
			if (errno == EINTR)
				continue;
			fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
			goto out;
		}
		done += (size_t)n;
	}
	ret = 0;
out:
	if (fd != -1 && close(fd) == -1 && ret == 0) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		ret = -1;
	}
	return ret;
}

static int
remove_entry(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)type;
	(void)ftw;
	if (remove(path) == -1)
		fprintf(stderr, "bench: cannot remove %s: %s\n", path,
		    strerror(errno));
	return 0;
}

/* rm -rf of our own mkdtemp directory, never following a symlink. */
static void
remove_tree(const char *dir)
{
	if (nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) == -1)
		fprintf(stderr, "bench: cannot remove %s: %s\n", dir,
		    strerror(errno));
}

/*
 * Write one configuration file (argon2id at ops and mem) and its service
 * file, then read the file back as the module will, into cfg.
 */
static int
make_service(struct bench *b, const char *name, const char *store,
    uint64_t ops, uint64_t mem, struct rec_config *cfg)
{
	char conf[PATH_MAX + 16], svc[PATH_MAX + 16];
	char text[3 * PATH_MAX];
	int n;

	if ((size_t)snprintf(conf, sizeof(conf), "%s/%s.conf", b->tmp, name) >=
	    sizeof(conf) ||
	    (size_t)snprintf(svc, sizeof(svc), "%s/%s", b->confdir, name) >=
	    sizeof(svc))
		return -1;
	/*
	 * max_attempts is at its maximum and fail_interval at its minimum:
	 * only failures within one second count, and no user of the bench
	 * makes a thousand of them in a second, so the lockout never engages
	 * however long a loop of wrong codes runs.  The arithmetic and the
	 * records written are the same as with the defaults.
	 */
	n = snprintf(text, sizeof(text),
	    "# Written by bench/bench.c for one run.\n"
	    "store = %s\n"
	    "kdf_opslimit = %llu\n"
	    "kdf_memlimit = %llu\n"
	    "max_attempts = " MAX_ATTEMPTS "\n"
	    "fail_interval = 1\n"
	    "store_helper = %s\n",
	    store, (unsigned long long)ops, (unsigned long long)mem, b->helper);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    write_file(conf, 0600, text) != 0)
		return -1;
	n = snprintf(text, sizeof(text), "auth required %s conf=%s\n",
	    b->module, conf);
	if (n < 0 || (size_t)n >= sizeof(text) ||
	    write_file(svc, 0600, text) != 0)
		return -1;
	rec_config_defaults(cfg);
	if (rec_config_load(cfg, conf, &b->log) != REC_OK ||
	    rec_config_validate(cfg, &b->log) != REC_OK)
		return -1;
	return 0;
}

/*
 * Make dir, in parent, pu's own; when pu is not this process's user, let
 * pu pass through parent to reach it.
 */
static int
make_udir(const struct bench *b, const char *parent, const char *dir)
{
	if ((b->pu_uid != geteuid() && chmod(parent, 0711) == -1) ||
	    mkdir(dir, 0700) == -1 || chown(dir, b->pu_uid, b->pu_gid) == -1) {
		fprintf(stderr, "bench: %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}

/* The temporary directory, configuration and service files. */
static int
setup(struct bench *b)
{
	const char *bdir = getenv("B"), *base = getenv("TMPDIR");
	char path[PATH_MAX];
	const struct passwd *pw;
	char store[REC_PATH_MAX], home[PATH_MAX];
	struct rec_config other;	/* read back to check, not kept */
	int ret = -1;

	if (bdir == NULL || *bdir == '\0')
		bdir = "build";
	if (base == NULL || *base == '\0')
		base = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/pam-recovery-store",
	    bdir) >= sizeof(path) || realpath(path, b->helper) == NULL) {
		fprintf(stderr, "bench: %s/pam-recovery-store: %s (set B to the "
		    "build directory)\n", bdir, strerror(errno));
		goto out;
	}
	if ((size_t)snprintf(path, sizeof(path), "%s/pam_recovery.so", bdir) >=
	    sizeof(path) || realpath(path, b->module) == NULL) {
		fprintf(stderr, "bench: %s/pam_recovery.so: %s (set B to the "
		    "build directory)\n", bdir, strerror(errno));
		goto out;
	}
	if ((pw = getpwuid(getuid())) == NULL ||
	    strlen(pw->pw_name) >= sizeof(b->me)) {
		fprintf(stderr, "bench: who am I? uid %u\n", (unsigned)getuid());
		goto out;
	}
	snprintf(b->me, sizeof(b->me), "%s", pw->pw_name);
	snprintf(b->pu, sizeof(b->pu), "%s", pw->pw_name);
	snprintf(home, sizeof(home), "%s", pw->pw_dir);
	b->pu_uid = pw->pw_uid;
	b->pu_gid = pw->pw_gid;
	/*
	 * As root, the module reads another user's per-user store in a child
	 * that is that user, which a login as root would leave out: root logs
	 * in as nobody instead, a user every system has, and makes nobody's
	 * stores with nobody's file-system identity.
	 */
	if (geteuid() == 0 && (pw = getpwnam(ROOT_PU)) != NULL &&
	    pw->pw_uid != 0) {
		snprintf(b->pu, sizeof(b->pu), "%s", pw->pw_name);
		snprintf(home, sizeof(home), "%s", pw->pw_dir);
		b->pu_uid = pw->pw_uid;
		b->pu_gid = pw->pw_gid;
	}
	if ((size_t)snprintf(b->tmp, sizeof(b->tmp), "%s/pam_recovery-bench."
	    "XXXXXX", base) >= sizeof(b->tmp) || mkdtemp(b->tmp) == NULL) {
		fprintf(stderr, "bench: mkdtemp in %s: %s\n", base,
		    strerror(errno));
		b->tmp[0] = '\0';
		goto out;
	}
	/* The service files are split on blanks. */
	if (strpbrk(b->tmp, " \t\n") != NULL ||
	    strpbrk(b->module, " \t\n") != NULL) {
		fprintf(stderr, "bench: paths with blanks do not fit a PAM "
		    "service file: %s, %s\n", b->tmp, b->module);
		goto out;
	}
	snprintf(b->confdir, sizeof(b->confdir), "%s/pam.d", b->tmp);
	if (mkdir(b->confdir, 0700) == -1) {
		fprintf(stderr, "bench: %s: %s\n", b->confdir, strerror(errno));
		goto out;
	}
	/* The same on tmpfs, where a sync costs nothing; optional. */
	snprintf(b->shm, sizeof(b->shm), "/dev/shm/pam_recovery-bench.XXXXXX");
	if (mkdtemp(b->shm) == NULL) {
		fprintf(stderr, "bench: no tmpfs rows: /dev/shm: %s\n",
		    strerror(errno));
		b->shm[0] = '\0';
	}
	/*
	 * pu's per-user stores (and secret files) live in a directory of its
	 * own, as in a home directory; pu may pass through the rest.
	 */
	snprintf(b->udir, sizeof(b->udir), "%s/users", b->tmp);
	snprintf(b->shm_udir, sizeof(b->shm_udir), "%s/users", b->shm);
	if (make_udir(b, b->tmp, b->udir) != 0 || (b->shm[0] != '\0' &&
	    make_udir(b, b->shm, b->shm_udir) != 0))
		goto out;
	snprintf(b->sys_store, sizeof(b->sys_store), "%s/system", b->tmp);
	snprintf(b->purge_store, sizeof(b->purge_store), "%s/purge", b->tmp);
	snprintf(b->purge_tiny_store, sizeof(b->purge_tiny_store),
	    "%s/purge-tiny", b->tmp);
	snprintf(store, sizeof(store), "%s/%%u.store", b->udir);
	if (make_service(b, SVC_USER, store, b->opslimit, b->memlimit,
	    &b->ucfg) != 0 ||
	    make_service(b, SVC_SYSTEM, b->sys_store, b->opslimit, b->memlimit,
	    &b->scfg) != 0 ||
	    make_service(b, SVC_PURGE, b->purge_store, b->opslimit,
	    b->memlimit, &b->pcfg) != 0 ||
	    make_service(b, SVC_PURGE_TINY, b->purge_tiny_store, TINY_OPS,
	    TINY_MEM, &b->ptcfg) != 0)
		goto out;
	if (!rec_config_per_user(&b->ucfg) || rec_config_per_user(&b->scfg) ||
	    rec_config_store_path(&b->ucfg, b->pu, home, b->user_store,
	    sizeof(b->user_store)) != REC_OK) {
		fprintf(stderr, "bench: the store patterns are not understood "
		    "as expected\n");
		goto out;
	}
	snprintf(store, sizeof(store), "%s/none.%%u.store", b->udir);
	if (make_service(b, SVC_NONE, store, b->opslimit, b->memlimit,
	    &other) != 0)
		goto out;
	snprintf(store, sizeof(store), "%s/tiny.%%u.store", b->udir);
	snprintf(b->tiny_sys_store, sizeof(b->tiny_sys_store), "%s/tiny-system",
	    b->tmp);
	if (make_service(b, SVC_TINY, store, TINY_OPS, TINY_MEM, &b->tcfg) !=
	    0 || rec_config_store_path(&b->tcfg, b->pu, home, b->tiny_store,
	    sizeof(b->tiny_store)) != REC_OK ||
	    make_service(b, SVC_TINY_SYS, b->tiny_sys_store, TINY_OPS, TINY_MEM,
	    &b->tscfg) != 0)
		goto out;
	snprintf(store, sizeof(store), "%s/tiny.%%u.store", b->shm_udir);
	snprintf(b->tiny_sys_shm_store, sizeof(b->tiny_sys_shm_store),
	    "%s/tiny-system", b->shm);
	if (b->shm[0] != '\0' && (make_service(b, SVC_TINY_SHM, store,
	    TINY_OPS, TINY_MEM, &other) != 0 || rec_config_store_path(&other,
	    b->pu, home, b->tiny_shm_store, sizeof(b->tiny_shm_store)) !=
	    REC_OK || make_service(b, SVC_TINY_SYS_SHM, b->tiny_sys_shm_store,
	    TINY_OPS, TINY_MEM, &other) != 0))
		goto out;
	rec_config_format(&b->scfg, &b->fmt);
	ret = 0;
out:
	return ret;
}

const char *
fs_name(long type)
{
	switch (type) {
	case 0xEF53:		return "ext2/3/4";
	case 0x01021994:	return "tmpfs";
	case 0x58465342:	return "xfs";
	case 0x9123683E:	return "btrfs";
	case 0x794c7630:	return "overlayfs";
	case 0x2fc12fc1:	return "zfs";
	}
	return "other";
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
	    "users (BENCH_PURGE_USERS)\n", b->users, b->purge_users);
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

/*
 * One line of the table.  With a floor (the bare evaluations made beside
 * these samples), its median and the ratio of the medians follow, in wall
 * time and in CPU time (cpu and cpu_base: medians of CPU time).
 */
static void
row(const char *what, unsigned n, const struct stats *s,
    const struct stats *base, double cpu, double cpu_base)
{
	printf("   %-40s %3u %7.2f %7.2f %7.2f", what, n, s->min, s->med, s->p99);
	if (base != NULL)
		printf(" %7.2f %6.3f %6.3f  <= %.2f %s", base->med,
		    s->med / base->med, cpu / cpu_base, TARGET_RATIO,
		    s->med / base->med <= TARGET_RATIO &&
		    cpu / cpu_base <= TARGET_RATIO ? "ok" : "MISSED");
	printf("\n");
	fflush(stdout);
}

/* Answers every prompt with the code; messages are not looked at. */
static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	const char *code = data;
	struct pam_response *r = NULL;
	int pr = PAM_CONV_ERR;

	*resp = NULL;
	if (n <= 0)
		goto out;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL) {
		pr = PAM_BUF_ERR;
		goto out;
	}
	for (int i = 0; i < n; i++) {
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if ((r[i].resp = strdup(code)) == NULL) {
			pr = PAM_BUF_ERR;
			goto out;
		}
	}
	*resp = r;
	r = NULL;
	pr = PAM_SUCCESS;
out:
	for (int i = 0; r != NULL && i < n; i++) {
		if (r[i].resp != NULL)
			sodium_memzero(r[i].resp, strlen(r[i].resp));
		free(r[i].resp);
	}
	free(r);
	return pr;
}

/*
 * One login as sshd makes it: a fresh handle for service, the code typed at
 * the prompt, pam_authenticate, pam_end.  *ms and *cpu (unless NULL)
 * receive the wall and CPU time of pam_authenticate alone.  Returns its PAM
 * result, or -1 when the handle could not be started.
 */
int
login(const struct bench *b, const char *service, const char *user,
    const char *code, double *ms, double *cpu)
{
	struct pam_conv pc = { conv, (void *)(uintptr_t)code };
	pam_handle_t *pamh = NULL;
	double t0, c0;
	int r;

	if ((r = pam_start_confdir(service, user, &pc, b->confdir, &pamh)) !=
	    PAM_SUCCESS) {
		fprintf(stderr, "bench: pam_start_confdir: %s\n",
		    pam_strerror(pamh, r));
		return -1;
	}
	pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
	pam_set_item(pamh, PAM_TTY, "ssh");
	c0 = cpu_ms();
	t0 = now_ms();
	r = pam_authenticate(pamh, 0);
	if (ms != NULL)
		*ms = now_ms() - t0;
	if (cpu != NULL)
		*cpu = cpu_ms() - c0;
	pam_end(pamh, r);
	return r;
}

/*
 * Issue a fresh batch of count codes for user in the store at path (owned
 * by owner; created if need be) at cfg's cost, replacing any batch it has.
 * The store is open for this call only: LMDB must never be open twice in
 * one process, and the module opens it in this process at every login.
 * *ms and *cpu (unless NULL) receive the wall and CPU time of
 * rec_issue_generate
 * alone.
 */
int
issue(const struct bench *b, const char *path, uid_t owner,
    const struct rec_config *cfg, const char *user, unsigned count,
    struct rec_new_batch *nb, double *ms, double *cpu)
{
	struct rec_who who = { user, "bench", NULL, NULL, NULL };
	struct rec_store *st = NULL;
	int as_pu = owner != geteuid();
	double t0, c0;
	int r = REC_ERR_INTERNAL;

	/* As root, pu's store is made as pu would make it: owned by pu. */
	if (as_pu && (owner != b->pu_uid || geteuid() != 0)) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if (as_pu) {
		setfsgid(b->pu_gid);
		setfsuid(b->pu_uid);
	}
	if ((r = rec_store_open(path, owner, REC_STORE_CREATE, &b->log,
	    &st)) != REC_OK)
		goto out;
	c0 = cpu_ms();
	t0 = now_ms();
	r = rec_issue_generate(st, cfg, &who,
	    &(struct rec_issue_req){ .count = count,
	    .now = (uint64_t)time(NULL), .flags = REC_GEN_REPLACE }, nb, NULL);
	if (ms != NULL)
		*ms = now_ms() - t0;
	if (cpu != NULL)
		*cpu = cpu_ms() - c0;
out:
	rec_store_close(st);
	if (as_pu) {
		setfsuid(geteuid());
		setfsgid(getegid());
	}
	if (r != REC_OK)
		fprintf(stderr, "bench: issuing %u codes for %s in %s: %s\n",
		    count, user, path, rec_strerror(r));
	return r == REC_OK ? 0 : -1;
}

/*
 * One bare argon2id evaluation of a fresh code; its wall and CPU time in
 * *ms and *cpu (unless NULL).
 */
static int
bare_eval(const struct bench *b, double *ms, double *cpu)
{
	char code[REC_CODE_MAX + 1];
	uint8_t salt[REC_SALT_LEN], h[REC_HASH_LEN];
	double t0, c0;
	int ret = -1;

	rec_code_generate(&b->fmt, code);
	randombytes_buf(salt, sizeof(salt));
	c0 = cpu_ms();
	t0 = now_ms();
	if (rec_kdf_hash(code, NULL, salt, b->opslimit, b->memlimit, h) !=
	    REC_OK) {
		fprintf(stderr, "bench: argon2id failed (memory?)\n");
		goto out;
	}
	*ms = now_ms() - t0;
	if (cpu != NULL)
		*cpu = cpu_ms() - c0;
	ret = 0;
out:
	sodium_memzero(code, sizeof(code));
	sodium_memzero(h, sizeof(h));
	return ret;
}

/* 1. The floor: one bare argon2id evaluation, after one to warm up. */
static int
measure_floor(struct bench *b)
{
	struct stats s, cpu;
	double warm;

	if (bare_eval(b, &warm, NULL) != 0)
		return -1;
	for (unsigned i = 0; i < b->reps; i++)
		if (bare_eval(b, &b->v[i], &b->vc[i]) != 0)
			return -1;
	s = summarise(b->v, b->reps);
	b->floor_ms = s.med;
	cpu = summarise(b->vc, b->reps);
	b->floor_cpu = cpu.med;
	row("1 argon2id alone (the floor)", b->reps, &s, NULL, 0, 0);
	printf("   %-40s %3u %7.2f %7.2f %7.2f\n", "  (its CPU time)", b->reps,
	    cpu.min, cpu.med, cpu.p99);
	return 0;
}

/*
 * One line of BENCH_DATA: x (codes or users, as kind says), then median,
 * minimum and p99 of valid and of wrong codes, and the medians of the
 * floors taken beside each.  Gnuplot's `index` tells the kinds apart by
 * the two blank lines between.
 */
static void
data_row(struct bench *b, const char *kind, unsigned x, const struct stats *ok,
    const struct stats *bad, const struct stats *okf, const struct stats *badf)
{
	if (b->data == NULL)
		return;
	if (b->data_kind != NULL && strcmp(b->data_kind, kind) != 0)
		fprintf(b->data, "\n\n");
	if (b->data_kind == NULL || strcmp(b->data_kind, kind) != 0)
		fprintf(b->data, "# %s ok_med ok_min ok_p99 bad_med bad_min "
		    "bad_p99 ok_floor bad_floor\n", kind);
	b->data_kind = kind;
	fprintf(b->data, "%u %.3f %.3f %.3f %.3f %.3f %.3f %.3f %.3f\n", x,
	    ok->med, ok->min, ok->p99, bad->med, bad->min, bad->p99, okf->med,
	    badf->med);
	fflush(b->data);
}

/*
 * 2, 3. Latency of logins of user through service, whose store holds a
 * batch of count codes: one untimed login to warm up, reps wrong codes on a
 * fresh batch, then reps valid ones, with a fresh batch whenever the
 * current one is used up.  A bare evaluation precedes every timed login,
 * so that each ratio compares samples taken side by side on a machine
 * whose speed drifts.  The medians go to BENCH_DATA as kind at x; with
 * overhead, the medians of (valid login - its floor) in wall and CPU time
 * are kept in b.
 */
static int
latency(struct bench *b, const char *service, const char *path, uid_t owner,
    const struct rec_config *cfg, const char *user, unsigned count,
    const char *what, const char *kind, unsigned x, int overhead)
{
	char code[REC_CODE_MAX + 1], label[128];
	struct stats ok, bad, okf, badf;
	double okc, badc, okfc, badfc;
	unsigned next = 0;
	int r, ret = -1;

	if (issue(b, path, owner, cfg, user, count, b->nb, NULL, NULL) != 0)
		goto out;
	for (unsigned i = 0; i <= b->reps; i++) {
		rec_code_generate(&b->fmt, code);
		if (i > 0 && bare_eval(b, &b->f[i - 1], &b->fc[i - 1]) != 0)
			goto out;
		if ((r = login(b, service, user, code,
		    i > 0 ? &b->v[i - 1] : NULL,
		    i > 0 ? &b->vc[i - 1] : NULL)) != PAM_AUTH_ERR) {
			fprintf(stderr, "bench: %s: a wrong code gave %s\n",
			    what, r == -1 ? "no handle" : pam_strerror(NULL, r));
			goto out;
		}
	}
	bad = summarise(b->v, b->reps);
	badf = summarise(b->f, b->reps);
	badc = summarise(b->vc, b->reps).med;
	badfc = summarise(b->fc, b->reps).med;
	for (unsigned i = 0; i < b->reps; i++) {
		if (next == count) {
			if (issue(b, path, owner, cfg, user, count, b->nb,
			    NULL, NULL) != 0)
				goto out;
			next = 0;
		}
		if (bare_eval(b, &b->f[i], &b->fc[i]) != 0)
			goto out;
		if ((r = login(b, service, user, b->nb->codes[next++],
		    &b->v[i], &b->vc[i])) != PAM_SUCCESS) {
			fprintf(stderr, "bench: %s: a valid code gave %s\n",
			    what, r == -1 ? "no handle" : pam_strerror(NULL, r));
			goto out;
		}
	}
	for (unsigned i = 0; i < b->reps; i++) {
		b->d[i] = b->v[i] - b->f[i];
		b->dc[i] = b->vc[i] - b->fc[i];
	}
	if (overhead) {
		b->ovh = summarise(b->d, b->reps);
		b->ovh_cpu = summarise(b->dc, b->reps).med;
	}
	ok = summarise(b->v, b->reps);
	okf = summarise(b->f, b->reps);
	okc = summarise(b->vc, b->reps).med;
	okfc = summarise(b->fc, b->reps).med;
	snprintf(label, sizeof(label), "  %s, valid", what);
	row(label, b->reps, &ok, &okf, okc, okfc);
	snprintf(label, sizeof(label), "  %s, wrong", what);
	row(label, b->reps, &bad, &badf, badc, badfc);
	data_row(b, kind, x, &ok, &bad, &okf, &badf);
	ret = 0;
out:
	rec_new_batch_wipe(b->nb);
	sodium_memzero(code, sizeof(code));
	return ret;
}

/* A chunk of filled users, in memory shared with the hashing processes. */
struct fill_shared {
	struct rec_batch batches[FILL_CHUNK];
	struct rec_code_rec codes[FILL_CHUNK * FILL_CODES];
};

/*
 * Batches of users [from, to) of the chunk, whose codes are real codes
 * hashed at a tiny cost that each batch records: a legitimate store, cheap
 * to build.  Returns REC_OK or the error of rec_kdf_hash.
 */
static int
fill_hash(const struct rec_format *fmt, struct fill_shared *sh, unsigned from,
    unsigned to, uint64_t now)
{
	char code[REC_CODE_MAX + 1];
	unsigned bits = rec_format_tag_bits(fmt);
	int r = REC_ERR_INTERNAL;

	for (unsigned u = from; u < to; u++) {
		struct rec_batch *bt = &sh->batches[u];

		memset(bt, 0, sizeof(*bt));
		bt->id = now << 24 | randombytes_uniform(1u << 24);
		bt->status = REC_BATCH_ACTIVE;
		bt->created = bt->modified = now;
		bt->count = FILL_CODES;
		bt->opslimit = TINY_OPS;
		bt->memlimit = TINY_MEM;
		bt->tag_bits = (uint8_t)bits;
		randombytes_buf(bt->tag_key, sizeof(bt->tag_key));
		bt->fmt = *fmt;
		for (unsigned k = 0; k < FILL_CODES; k++) {
			struct rec_code_rec *c = &sh->codes[u * FILL_CODES + k];

			memset(c, 0, sizeof(*c));
			c->slot = (uint8_t)(k + 1);
			c->state = REC_CODE_UNUSED;
			rec_code_generate(fmt, code);
			randombytes_buf(c->salt, sizeof(c->salt));
			c->tag = rec_kdf_tag(code, NULL, bt->tag_key, bits);
			if ((r = rec_kdf_hash(code, NULL, c->salt, TINY_OPS,
			    TINY_MEM, c->hash)) != REC_OK)
				goto out;
		}
	}
	r = REC_OK;
out:
	sodium_memzero(code, sizeof(code));
	return r;
}

/*
 * Hash the n users of a chunk in one process per core.  Processes, not
 * threads: libsodium maps the memory of every argon2id evaluation afresh,
 * and threads of one process serialise on its address space (measured:
 * two threads were slower than one).
 */
static int
fill_chunk_hash(const struct bench *b, struct fill_shared *sh, unsigned n,
    uint64_t now)
{
	pid_t pids[MAX_HASHERS];
	unsigned np = b->cores > MAX_HASHERS ? MAX_HASHERS : (unsigned)b->cores;
	unsigned started = 0;
	int status, ret = 0;

	fflush(NULL);
	for (unsigned i = 0; i < np; i++) {
		pid_t pid = fork();

		if (pid == -1) {
			fprintf(stderr, "bench: fork: %s\n", strerror(errno));
			ret = -1;
			break;
		}
		if (pid == 0)
			_exit(fill_hash(&b->fmt, sh, n * i / np, n * (i + 1) / np,
			    now) == REC_OK ? 0 : 1);
		pids[started++] = pid;
	}
	for (unsigned i = 0; i < started; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ret = -1;
	return ret;
}

/* One write transaction of the fill. */
struct fill_chunk {
	unsigned first, n;
	const struct fill_shared *sh;
	uint64_t now;
};

static int
fill_txn(struct rec_txn *t, void *arg)
{
	const struct fill_chunk *c = arg;
	const struct rec_batch *bt;
	struct rec_user u;
	char name[32];
	int r = REC_ERR_INTERNAL;

	for (unsigned i = 0; i < c->n; i++) {
		bt = &c->sh->batches[i];
		snprintf(name, sizeof(name), "user%07u", c->first + i);
		memset(&u, 0, sizeof(u));
		u.active_batch = bt->id;
		u.last_generated = c->now;
		if ((r = rec_batch_put(t, name, bt)) != REC_OK)
			return r;
		for (unsigned k = 0; k < FILL_CODES; k++)
			if ((r = rec_coderec_put(t, name, bt->id,
			    &c->sh->codes[i * FILL_CODES + k])) != REC_OK)
				return r;
		if ((r = rec_user_put(t, name, &u)) != REC_OK)
			return r;
	}
	return REC_OK;
}

/*
 * 3. Fill the system store with users [from, to) of FILL_CODES codes each,
 * through the core store API, FILL_CHUNK users per write transaction.
 * *ms receives the time taken.  The store is open only while a chunk is
 * written, so that no hashing process inherits an open environment.
 */
static int
fill(struct bench *b, unsigned from, unsigned to, double *ms)
{
	struct rec_store *st = NULL;
	struct fill_shared *sh = MAP_FAILED;
	uint64_t now = (uint64_t)time(NULL);
	double t0 = now_ms();
	int r = REC_ERR_INTERNAL, ret = -1;

	if ((sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (unsigned first = from; first < to; first += FILL_CHUNK) {
		struct fill_chunk c = { first, to - first, sh, now };

		if (c.n > FILL_CHUNK)
			c.n = FILL_CHUNK;
		if (fill_chunk_hash(b, sh, c.n, now) != 0) {
			r = REC_ERR_INTERNAL;
			goto out;
		}
		if ((r = rec_store_open(b->sys_store, geteuid(),
		    REC_STORE_CREATE, &b->log, &st)) != REC_OK ||
		    (r = rec_store_write(st, fill_txn, &c)) != REC_OK)
			goto out;
		rec_store_close(st);
		st = NULL;
	}
	/* Leave no writeback of the fill to slow the logins measured next. */
	sync();
	*ms = now_ms() - t0;
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "bench: filling %s: %s\n", b->sys_store,
		    rec_strerror(r));
	rec_store_close(st);
	if (sh != MAP_FAILED)
		munmap(sh, sizeof(*sh));
	return ret;
}

/*
 * The body of one throughput worker: wait for the go (EOF on gofd), then
 * make k logins with wrong codes as user bench-w<w> in the system store,
 * or with bare, k bare evaluations.  Returns the exit status.
 */
static int
worker(const struct bench *b, unsigned w, unsigned k, int bare, int gofd)
{
	char user[32], code[REC_CODE_MAX + 1], c;
	uint8_t salt[REC_SALT_LEN], h[REC_HASH_LEN];
	int ret = 1;

	while (read(gofd, &c, 1) == -1 && errno == EINTR)
		;
	snprintf(user, sizeof(user), "bench-w%u", w);
	for (unsigned i = 0; i < k; i++) {
		rec_code_generate(&b->fmt, code);
		if (bare) {
			randombytes_buf(salt, sizeof(salt));
			if (rec_kdf_hash(code, NULL, salt, b->opslimit,
			    b->memlimit, h) != REC_OK)
				goto out;
		} else if (login(b, SVC_SYSTEM, user, code, NULL, NULL) !=
		    PAM_AUTH_ERR)
			goto out;
	}
	ret = 0;
out:
	sodium_memzero(code, sizeof(code));
	return ret;
}

/*
 * Run `workers` processes of k logins (or bare evaluations) each, all
 * released at once.  Returns the wall time from the release to the last
 * exit in ms, or -1 when a worker could not start or failed; *cpu receives
 * the CPU time the workers used.
 */
static double
parallel(const struct bench *b, unsigned workers, unsigned k, int bare,
    double *cpu)
{
	pid_t pids[MAX_WORKERS];
	struct rusage r0, r1;
	int go[2] = { -1, -1 }, status, ok = 1;
	unsigned started = 0;
	double t0, ms = -1;

	*cpu = 0;
	getrusage(RUSAGE_CHILDREN, &r0);
	if (pipe(go) == -1) {
		fprintf(stderr, "bench: pipe: %s\n", strerror(errno));
		goto out;
	}
	fflush(NULL);
	for (unsigned w = 0; w < workers; w++) {
		pid_t pid = fork();

		if (pid == -1) {
			fprintf(stderr, "bench: fork: %s\n", strerror(errno));
			ok = 0;
			break;
		}
		if (pid == 0) {
			close(go[1]);
			_exit(worker(b, w, k, bare, go[0]));
		}
		pids[started++] = pid;
	}
	t0 = now_ms();
	close(go[1]);
	go[1] = -1;
	for (unsigned w = 0; w < started; w++)
		if (waitpid(pids[w], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = 0;
	if (ok) {
		ms = now_ms() - t0;
		getrusage(RUSAGE_CHILDREN, &r1);
		*cpu = tv_ms(&r1.ru_utime) + tv_ms(&r1.ru_stime) -
		    tv_ms(&r0.ru_utime) - tv_ms(&r0.ru_stime);
	} else
		fprintf(stderr, "bench: a %s worker failed\n",
		    bare ? "bare argon2id" : "login");
out:
	if (go[0] != -1)
		close(go[0]);
	if (go[1] != -1)
		close(go[1]);
	return ms;
}

/*
 * 4. Logins per second with 1, 2, 4, 8 processes, against bare argon2id
 * in as many processes.  The CPU the workers got, as a share of the
 * machine over the wall time, tells whether anything else was running.
 */
static int
throughput(struct bench *b)
{
	double floor_s = b->floor_ms / 1e3, ms, bare_ms, cpu, bare_cpu;
	double ideal = (double)b->cores / floor_s, rate, bare_rate;
	char target[32];
	int ret = -1;

	for (unsigned w = 0; w < MAX_WORKERS; w++) {
		char user[32];

		snprintf(user, sizeof(user), "bench-w%u", w);
		if (issue(b, b->sys_store, geteuid(), &b->scfg, user, 1, b->nb,
		    NULL, NULL) != 0)
			goto out;
		rec_new_batch_wipe(b->nb);
	}
	printf("\n 4 throughput: wrong codes in the system store, one process "
	    "and user per worker\n"
	    "   effic. = logins/s / (%ld cores / floor %.3f s = %.1f/s)\n"
	    "   got = CPU time the workers used / (wall time x %ld cores)\n"
	    "   cpu eff. = floor CPU time %.1f ms x logins / CPU time the "
	    "workers used\n"
	    "   bare = argon2id alone in as many processes; vs bare = logins/s "
	    "/ bare ev/s\n", b->cores, floor_s, ideal, b->cores, b->floor_cpu);
	printf("   %7s %6s %6s %8s %6s %7s %5s %8s | %9s %5s %8s | %7s\n",
	    "workers", "logins", "wall s", "logins/s", "effic.", "target",
	    "got", "cpu eff.", "bare ev/s", "got", "cpu eff.", "vs bare");
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		unsigned w = levels[i];
		unsigned total = 2 * b->reps < 4 * w ? 4 * w : 2 * b->reps;
		unsigned k = (total + w - 1) / w;
		double machine;

		if ((ms = parallel(b, w, k, 0, &cpu)) < 0 ||
		    (bare_ms = parallel(b, w, k, 1, &bare_cpu)) < 0)
			goto out;
		rate = w * k / (ms / 1e3);
		bare_rate = w * k / (bare_ms / 1e3);
		machine = (double)b->cores;
		if ((long)w >= b->cores)
			snprintf(target, sizeof(target), ">=%.2f", TARGET_EFF);
		else
			snprintf(target, sizeof(target), "(%.2f)",
			    (double)w / machine);
		printf("   %7u %6u %6.2f %8.2f %6.3f %7s %5.2f %8.3f | %9.2f "
		    "%5.2f %8.3f | %7.3f\n", w, w * k, ms / 1e3, rate,
		    rate / ideal, target, cpu / (ms * machine),
		    w * k * b->floor_cpu / cpu, bare_rate,
		    bare_cpu / (bare_ms * machine),
		    w * k * b->floor_cpu / bare_cpu, rate / bare_rate);
		fflush(stdout);
	}
	printf("   (a target in parentheses is the most w workers can reach "
	    "on %ld cores)\n", b->cores);
	ret = 0;
out:
	return ret;
}

/*
 * Issue #8: a login takes as long for an unknown user, for a user without
 * codes and for a wrong code.  2 x reps wrong codes for each (a difference
 * of a few per cent needs more samples than a ratio to the floor), in turn
 * with the order rotating, after one of each to warm up; the medians side
 * by side and their spread, (largest - smallest) / smallest.
 */
static int
timing(struct bench *b, const char *what, const char *svc_unknown,
    const char *svc_none, const char *none_user, const char *svc_wrong,
    const char *wrong_user)
{
	const char *svc[3] = { svc_unknown, svc_none, svc_wrong };
	const char *user[3] = { NO_USER, none_user, wrong_user };
	unsigned n = 2 * b->reps;
	double *buf = NULL, *out[3], med[3], lo, hi, spread;
	char code[REC_CODE_MAX + 1];
	int r, ret = -1;

	if ((buf = calloc((size_t)n * 3, sizeof(*buf))) == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		goto out;
	}
	for (unsigned k = 0; k < 3; k++)
		out[k] = buf + (size_t)k * n;
	for (unsigned i = 0; i <= n; i++) {
		for (unsigned j = 0; j < 3; j++) {
			unsigned k = (i + j) % 3;

			rec_code_generate(&b->fmt, code);
			if ((r = login(b, svc[k], user[k], code,
			    i > 0 ? &out[k][i - 1] : NULL, NULL)) !=
			    PAM_AUTH_ERR) {
				fprintf(stderr, "bench: %s, %s: a wrong code "
				    "gave %s\n", what, user[k], r == -1 ?
				    "no handle" : pam_strerror(NULL, r));
				goto out;
			}
		}
	}
	for (unsigned k = 0; k < 3; k++)
		med[k] = summarise(out[k], n).med;
	lo = hi = med[0];
	for (unsigned k = 1; k < 3; k++) {
		lo = med[k] < lo ? med[k] : lo;
		hi = med[k] > hi ? med[k] : hi;
	}
	spread = (hi - lo) / lo * 100;
	printf("   %-40s %3u %8.2f %8.2f %8.2f %6.1f %%  <= %.0f %% %s\n", what,
	    n, med[0], med[1], med[2], spread, TARGET_SPREAD,
	    spread <= TARGET_SPREAD ? "ok" : "MISSED");
	fflush(stdout);
	ret = 0;
out:
	sodium_memzero(code, sizeof(code));
	free(buf);
	return ret;
}

/*
 * 6. rec_issue_generate of 10 codes at the configured cost, in the system
 * store, each after 10 bare evaluations to compare it with.
 */
static int
measure_generate(struct bench *b)
{
	double v[GEN_REPS], vc[GEN_REPS], f[GEN_REPS * 10], fc[GEN_REPS * 10];
	struct stats s, fs;
	double cpu, fcpu;
	int ret = -1;

	for (unsigned i = 0; i < GEN_REPS; i++) {
		for (unsigned k = 0; k < 10; k++)
			if (bare_eval(b, &f[i * 10 + k], &fc[i * 10 + k]) != 0)
				goto out;
		if (issue(b, b->sys_store, geteuid(), &b->scfg, GEN_USER, 10,
		    b->nb, &v[i], &vc[i]) != 0)
			goto out;
		rec_new_batch_wipe(b->nb);
	}
	s = summarise(v, GEN_REPS);
	fs = summarise(f, GEN_REPS * 10);
	cpu = summarise(vc, GEN_REPS).med;
	fcpu = summarise(fc, GEN_REPS * 10).med;
	printf("\n   %-40s %3u %7.2f %7.2f %7.2f %7.1f %6.3f %6.3f  (vs 10 x "
	    "floor)\n", "6 generate 10 codes (rec_issue_generate)", GEN_REPS,
	    s.min, s.med, s.p99, 10 * fs.med, s.med / (10 * fs.med),
	    cpu / (10 * fcpu));
	ret = 0;
out:
	return ret;
}

/*
 * 8. Peak resident memory of a process that makes one login (a wrong code
 * in the system store), from getrusage in a forked child: before the login
 * (what the child inherited) and after it; and, where the module does its
 * store work and hashing in a child of its own, that child's peak (the
 * largest child the probe waited for), which began with what the probe had.
 */
static int
peak_memory(struct bench *b)
{
	long kb[3] = { 0, 0, 0 };	/* inherited, self peak, child peak */
	long added;
	int p[2] = { -1, -1 }, status, ret = -1;
	pid_t pid;
	ssize_t n;

	if (pipe(p) == -1) {
		fprintf(stderr, "bench: pipe: %s\n", strerror(errno));
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		struct rusage ru;
		char code[REC_CODE_MAX + 1];
		int r;

		close(p[0]);
		getrusage(RUSAGE_SELF, &ru);
		kb[0] = ru.ru_maxrss;
		rec_code_generate(&b->fmt, code);
		r = login(b, SVC_SYSTEM, "bench-w0", code, NULL, NULL);
		sodium_memzero(code, sizeof(code));
		getrusage(RUSAGE_SELF, &ru);
		kb[1] = ru.ru_maxrss;
		getrusage(RUSAGE_CHILDREN, &ru);
		kb[2] = ru.ru_maxrss;
		_exit(r == PAM_AUTH_ERR && write(p[1], kb, sizeof(kb)) ==
		    (ssize_t)sizeof(kb) ? 0 : 1);
	}
	close(p[1]);
	p[1] = -1;
	while ((n = read(p[0], kb, sizeof(kb))) == -1 && errno == EINTR)
		;
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0 || n != (ssize_t)sizeof(kb)) {
		fprintf(stderr, "bench: the memory probe failed\n");
		goto out;
	}
	printf("\n 8 peak RSS of a process making one login: %.1f MiB "
	    "(%.1f MiB inherited at fork, %.1f MiB added)\n",
	    kb[1] / 1024.0, kb[0] / 1024.0, (kb[1] - kb[0]) / 1024.0);
	added = kb[1] - kb[0];
	if (kb[2] > 0) {
		printf("   peak RSS of the module's child: %.1f MiB (%.1f MiB "
		    "more than the process had)\n", kb[2] / 1024.0,
		    (kb[2] - kb[0]) / 1024.0);
		if (kb[2] - kb[0] > added)
			added = kb[2] - kb[0];
	}
	printf("   memlimit %.3f MiB: the larger added / memlimit = %.3f\n",
	    (double)b->memlimit / 1048576.0,
	    (double)added * 1024.0 / (double)b->memlimit);
	ret = 0;
out:
	if (p[0] != -1)
		close(p[0]);
	if (p[1] != -1)
		close(p[1]);
	return ret;
}

/*
 * 3. The system store filled to a hundredth, a tenth and all of b->users,
 * with the logins of SYS_USER measured at each size.
 */
static int
system_store(struct bench *b)
{
	unsigned marks[3] = { b->users / 100, b->users / 10, b->users };
	unsigned filled = 0;
	double ms, fill_ms = 0;
	char what[128];

	printf(" 3 logins, system store %s (user " SYS_USER "), filled with "
	    "users of %d codes\n   at opslimit %d, memlimit %d\n",
	    b->sys_store, FILL_CODES, TINY_OPS, TINY_MEM);
	for (unsigned i = 0; i < 3; i++) {
		if (i < 2 && (marks[i] == 0 || marks[i] == marks[i + 1]))
			continue;
		if (fill(b, filled, marks[i], &ms) != 0)
			return -1;
		fill_ms += ms;
		filled = marks[i];
		snprintf(what, sizeof(what), "login, system store, %u users",
		    filled);
		if (latency(b, SVC_SYSTEM, b->sys_store, geteuid(), &b->scfg,
		    SYS_USER, 10, what, "users", filled, 0) != 0)
			return -1;
	}
	printf("   (filled in %.1f s, %.0f users/s)\n", fill_ms / 1e3,
	    fill_ms > 0 ? b->users / (fill_ms / 1e3) : 0.0);
	return 0;
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
