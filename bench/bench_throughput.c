/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_throughput.c: item 4, logins per second in 1, 2, 4 and 8 processes. */
#include <sys/resource.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <sodium.h>

#include "rec_err.h"

#include "bench.h"

#define MAX_WORKERS	WORKERS_MAX	/* throughput levels go up to this */
#define TARGET_EFF	0.9

static const unsigned levels[] = { 1, 2, 4, 8 };

/*
 * The body of one throughput worker (a worker_fn; arg points to an int,
 * bare): k logins with wrong codes as user bench-w<w> in the system
 * store, or with bare, k bare evaluations.  Returns the exit status.
 */
static int
worker(const struct bench *b, unsigned w, unsigned k, void *arg)
{
	int bare = *(const int *)arg;
	char user[32], code[REC_CODE_MAX + 1];
	uint8_t salt[REC_SALT_LEN], h[REC_HASH_LEN];
	int ret = 1;

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
 * Run `workers` processes, each calling fn(b, w, k, arg) once all are
 * released at once (EOF on the go pipe).  Returns the wall time from the
 * release to the last exit in ms, or -1 when a worker could not start or
 * failed; *cpu receives the CPU time the workers used.
 */
double
workers_run(const struct bench *b, unsigned workers, unsigned k,
    worker_fn *fn, void *arg, double *cpu)
{
	pid_t pids[WORKERS_MAX];
	struct rusage r0, r1;
	int go[2] = { -1, -1 }, status, ok = 1;
	unsigned started = 0;
	double t0, ms = -1;

	*cpu = 0;
	if (workers > WORKERS_MAX)
		return -1;
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
			char c;

			close(go[1]);
			while (read(go[0], &c, 1) == -1 && errno == EINTR)
				;
			_exit(fn(b, w, k, arg));
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
		fprintf(stderr, "bench: a worker failed\n");
out:
	if (go[0] != -1)
		close(go[0]);
	if (go[1] != -1)
		close(go[1]);
	return ms;
}

/* Logins (bare 0) or bare evaluations (1) in workers processes. */
static double
parallel(const struct bench *b, unsigned workers, unsigned k, int bare,
    double *cpu)
{
	return workers_run(b, workers, k, worker, &bare, cpu);
}

/*
 * 4. Logins per second with 1, 2, 4, 8 processes, against bare argon2id
 * in as many processes.  The CPU the workers got, as a share of the
 * machine over the wall time, tells whether anything else was running.
 */
int
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
		if (w == MAX_WORKERS) {	/* for item 11's side by side */
			b->rate8 = rate;
			b->bare_rate8 = bare_rate;
		}
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
