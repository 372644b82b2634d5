/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_cost.c: argon2id alone (item 1, the floor), generate (6) and peak memory (8). */
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

#define GEN_REPS	3	/* rec_issue_generate of 10 codes, timed */
#define GEN_USER	"bench-gen"	/* user whose codes `generate` times */

/*
 * One bare argon2id evaluation of a fresh code; its wall and CPU time in
 * *ms and *cpu (unless NULL).
 */
int
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
int
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
 * 6. rec_issue_generate of 10 codes at the configured cost, in the system
 * store, each after 10 bare evaluations to compare it with.
 */
int
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
int
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
