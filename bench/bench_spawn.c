/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_spawn.c: item 9: what starting the store reader costs, and a login in a fresh process. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <sodium.h>

#include "bench.h"
#include "rec_child.h"
#include "rec_code.h"
#include "rec_err.h"
#include "rec_kdf.h"

#define HOST_BIG	(256UL << 20)	/* a host the size the issue measured */

/* One fork whose child ends at once, reaped: what the old store child cost. */
static int
one_fork(double *ms)
{
	double t0 = now_ms();
	int status;
	pid_t pid;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0)
		_exit(0);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	*ms = now_ms() - t0;
	return 0;
}

/* One spawn of the store helper, ended at once (no job), reaped. */
static int
one_spawn(const struct bench *b, double *ms)
{
	struct rec_child c;
	double t0;
	int fd, r;

	if ((fd = open(b->helper, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	t0 = now_ms();
	r = rec_child_spawn(&c, geteuid(), fd, 10, &b->log);
	close(fd);
	if (r != REC_OK)
		return -1;
	rec_child_end(&c);
	*ms = now_ms() - t0;
	return c.status != -1 && WIFEXITED(c.status) ? 0 : -1;
}

/* fn reps times into b->v; its summary in *s. */
static int
sample(struct bench *b, int (*fn)(const struct bench *, double *),
    struct stats *s)
{
	for (unsigned i = 0; i < b->reps; i++)
		if (fn(b, &b->v[i]) != 0)
			return -1;
	*s = summarise(b->v, b->reps);
	return 0;
}

static int
fork_fn(const struct bench *b, double *ms)
{
	(void)b;
	return one_fork(ms);
}

static int
row_starts(struct bench *b, const char *host)
{
	struct stats f, s;

	if (sample(b, fork_fn, &f) != 0 || sample(b, one_spawn, &s) != 0) {
		fprintf(stderr, "bench: cannot start a store reader\n");
		return -1;
	}
	printf("   %-24s fork %6.2f ms (p99 %6.2f)   spawn of the helper "
	    "%6.2f ms (p99 %6.2f)\n", host, f.med, f.p99, s.med, s.p99);
	return 0;
}

/*
 * Run argv in a fresh process (its output to out, unless NULL, as
 * len - 1 bytes at most); its wall time in *ms.  Returns its exit status
 * or -1.
 */
static int
fresh(char *const argv[], char *const envp[], double *ms, char *out,
    size_t len)
{
	char buf[256];
	int p[2], status;
	double t0;
	ssize_t n;
	size_t got = 0, k;
	pid_t pid;

	if (pipe(p) == -1)
		return -1;
	fflush(NULL);
	t0 = now_ms();
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execve(argv[0], argv, envp);
		_exit(127);
	}
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0 ||
	    (n == -1 && errno == EINTR)) {
		k = n > 0 && out != NULL && got + 1 < len ? len - 1 - got : 0;
		k = k < (size_t)(n > 0 ? n : 0) ? k : (size_t)(n > 0 ? n : 0);
		memcpy(out + got, buf, k);
		got += k;
	}
	close(p[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	*ms = now_ms() - t0;
	if (out != NULL)
		out[got] = '\0';
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int
bench_one_hash(void)
{
	uint8_t salt[REC_SALT_LEN], h[REC_HASH_LEN];
	struct rusage r0, r1, r2;
	uint64_t ops = 2, mem = UINT64_C(64) << 20;
	const char *o = getenv("BENCH_OPSLIMIT"), *m = getenv("BENCH_MEMLIMIT");
	double t0, t1, t2;

	if (sodium_init() < 0)
		return 1;
	if (o != NULL)
		ops = strtoull(o, NULL, 10);
	if (m != NULL)
		mem = strtoull(m, NULL, 10);
	randombytes_buf(salt, sizeof(salt));
	getrusage(RUSAGE_SELF, &r0);
	t0 = now_ms();
	if (rec_kdf_hash("ABCDEFGHJKMNPQRSTVWX", NULL, salt, ops, mem, h) !=
	    REC_OK)
		return 1;
	t1 = now_ms();
	getrusage(RUSAGE_SELF, &r1);
	if (rec_kdf_hash("ABCDEFGHJKMNPQRSTVWX", NULL, salt, ops, mem, h) !=
	    REC_OK)
		return 1;
	t2 = now_ms();
	getrusage(RUSAGE_SELF, &r2);
	printf("%.3f %.3f %ld %ld\n", t1 - t0, t2 - t1,
	    r1.ru_minflt - r0.ru_minflt, r2.ru_minflt - r1.ru_minflt);
	return 0;
}

/*
 * 9. The store reader's constant cost: a fork of a small and of a
 * 256 MiB host (what the store child cost) next to a spawn of the helper
 * (what it costs now); then a login as sshd makes it, in a fresh process
 * that loads libpam and the module (pamdrive, a wrong code in the per-user
 * store at the configured cost), next to a fresh process that makes one
 * bare argon2id, and inside it the first hash next to the second: the
 * difference is the page faults of memlimit's fresh memory, which the
 * helper, a fresh process at every login, pays as the old fork did.
 */
int
measure_spawn(struct bench *b)
{
	char drive[PATH_MAX], dir[PATH_MAX], self[PATH_MAX], out[256],
	    code[REC_CODE_MAX + 1], ops[32], mem[32];
	char *big = NULL;
	double first = 0, second = 0;
	long flt1 = 0, flt2 = 0;
	struct stats login_s, hash_s;
	ssize_t n;
	int ret = -1, r;

	printf("\n 9 the store reader's start and end, medians of %u\n",
	    b->reps);
	if (row_starts(b, "small host (this one)") != 0)
		goto out;
	if ((big = mmap(NULL, HOST_BIG, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		big = NULL;
		fprintf(stderr, "bench: mmap: %s\n", strerror(errno));
		goto out;
	}
	memset(big, 1, HOST_BIG);
	if (row_starts(b, "256 MiB host") != 0)
		goto out;
	munmap(big, HOST_BIG);
	big = NULL;

	snprintf(dir, sizeof(dir), "%s", b->module);
	snprintf(drive, sizeof(drive), "%s/pamdrive", dirname(dir));
	/* readlink does not terminate the name: it ends where n says. */
	if ((n = readlink("/proc/self/exe", self, sizeof(self) - 1)) <= 0) {
		fprintf(stderr, "bench: /proc/self/exe: %s\n", strerror(errno));
		goto out;
	}
	self[n] = '\0';
	snprintf(ops, sizeof(ops), "BENCH_OPSLIMIT=%llu",
	    (unsigned long long)b->opslimit);
	snprintf(mem, sizeof(mem), "BENCH_MEMLIMIT=%llu",
	    (unsigned long long)b->memlimit);
	for (unsigned i = 0; i < b->reps; i++) {
		char *dargv[] = { drive, b->confdir, SVC_USER, b->pu, "auth",
		    "--", code, NULL };
		char *denv[] = { NULL };
		char *hargv[] = { self, NULL };
		char *henv[] = { "BENCH_ONE_HASH=1", ops, mem, NULL };
		double f, s;
		long a, c;

		rec_code_generate(&b->fmt, code);
		r = fresh(dargv, denv, &b->v[i], NULL, 0);
		sodium_memzero(code, sizeof(code));
		if (r != PAM_AUTH_ERR) {
			fprintf(stderr, "bench: a fresh login gave %d, not "
			    "PAM_AUTH_ERR\n", r);
			goto out;
		}
		if ((r = fresh(hargv, henv, &b->d[i], out, sizeof(out))) != 0 ||
		    sscanf(out, "%lf %lf %ld %ld", &f, &s, &a, &c) != 4) {
			fprintf(stderr, "bench: the fresh hash failed (%d: %s)\n",
			    r, out);
			goto out;
		}
		/* The process with one hash: without its second. */
		b->d[i] -= s;
		first += f / b->reps;
		second += s / b->reps;
		flt1 += a / (long)b->reps;
		flt2 += c / (long)b->reps;
	}
	login_s = summarise(b->v, b->reps);
	hash_s = summarise(b->d, b->reps);
	printf("   a login as sshd makes it, a fresh process (pamdrive: "
	    "libpam, the module, the helper;\n   a wrong code, per-user "
	    "store):             %8.2f ms median, p99 %.2f\n", login_s.med,
	    login_s.p99);
	printf("   a fresh process making one bare argon2id: %8.2f ms median, "
	    "p99 %.2f\n", hash_s.med, hash_s.p99);
	printf("   difference: %.2f ms: starting libpam and the module, the "
	    "helper's spawn, the store\n", login_s.med - hash_s.med);
	printf("   in one process, the first argon2id %.2f ms (%ld page "
	    "faults), the second %.2f ms (%ld):\n   every hash maps memlimit "
	    "afresh, so a fresh process pays no more for its first\n",
	    first, flt1, second, flt2);
	ret = 0;
out:
	if (big != NULL)
		munmap(big, HOST_BIG);
	return ret;
}
