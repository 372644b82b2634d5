/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_login.c: one login and one issue; items 2 and 3 (login latency) and the timing rows. */
#include <sys/fsuid.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <sodium.h>

#include "rec_err.h"

#include "bench.h"

#define TARGET_SPREAD	10.0	/* per cent, issue #8 */

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
 * 2, 3. Latency of logins of user through service, whose store holds a
 * batch of count codes: one untimed login to warm up, reps wrong codes on a
 * fresh batch, then reps valid ones, with a fresh batch whenever the
 * current one is used up.  A bare evaluation precedes every timed login,
 * so that each ratio compares samples taken side by side on a machine
 * whose speed drifts.  The medians go to BENCH_DATA as kind at x; with
 * overhead, the medians of (valid login - its floor) in wall and CPU time
 * are kept in b.
 */
int
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
	b->last_ok = ok;
	b->last_floor = okf.med;
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

/*
 * Issue #8: a login takes as long for an unknown user, for a user without
 * codes and for a wrong code.  2 x reps wrong codes for each (a difference
 * of a few per cent needs more samples than a ratio to the floor), in turn
 * with the order rotating, after one of each to warm up; the medians side
 * by side and their spread, (largest - smallest) / smallest.
 */
int
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
