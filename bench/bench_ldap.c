/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_ldap.c: item 11, the directory store: a login over StartTLS on loopback next to its floor, 8 workers, the LMDB store beside. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "rec_auth.h"
#include "rec_code.h"
#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_store_ldap.h"

#include "bench.h"

#define TMPL_USER	"bench-tmpl"	/* copied to every filler user */
#define LAT_USER	"bench-lat"	/* the valid logins */
#define WRONG_USER	"bench-wrongc"	/* the wrong codes */
#define RTT_SAMPLES	200
#define TARGET_SLACK	1.1	/* issue #13: <= 1.1 x argon2id + round trips */
#define REPS_FACTOR	4	/* samples of a row: BENCH_REPS times this, */
				/* so that p95 is not the maximum */

enum { P_TMPL, P_LAT, P_WRONG, P_WORKER, P_N = P_WORKER + WORKERS_MAX };

/* The run of item 11. */
struct ctx {
	struct bench *b;
	struct ldap_dir d;
	struct ldap_pool *pool;		/* P_N of them, sodium_malloc */
	unsigned n;			/* samples of a row */
	double *v, *f;			/* n logins, n floors beside them */
	double rtt;			/* median round trip, ms */
	double wrtt;			/* of a Modify, committed to disk */
};

/* What one kind of login measured. */
struct lrow {
	struct stats s;
	double argon;			/* median of the bare evaluations */
	unsigned long ops[LOP_N];	/* of one login */
	unsigned rts;			/* their sum: round trips */
	unsigned evals;			/* argon2id evaluations of one login */
	int varied;			/* not every login made as many */
};

/* The round trips between two counts, by kind into ops (may be NULL). */
static unsigned
delta(const unsigned long before[LOP_N], const unsigned long after[LOP_N],
    unsigned long *ops)
{
	unsigned n = 0;

	for (unsigned k = 0; k < LOP_N; k++) {
		if (ops != NULL)
			ops[k] = after[k] - before[k];
		n += (unsigned)(after[k] - before[k]);
	}
	return n;
}

/*
 * One login as the store helper makes it (tests/ldapdrive.c auth): with
 * st NULL, open the directory store as the hosts' account (connect,
 * StartTLS, bind) and close it afterwards; rec_auth_status, then
 * rec_auth_attempt with it.  *ms (unless NULL) receives the wall time of
 * it all, *evals (unless NULL) the argon2id evaluations it reported.
 * Returns rec_auth_attempt's result, or the error that came first.
 */
static int
dir_login(const struct ctx *c, struct rec_store *st, const char *user,
    const char *code, double *ms, unsigned *evals)
{
	const struct rec_config *cfg = &c->d.host;
	struct rec_who who = { .user = user, .service = "bench",
	    .rhost = "127.0.0.1" };
	struct rec_store *own = NULL;
	struct rec_status s;
	struct rec_result res;
	uint64_t now = (uint64_t)time(NULL);
	double t0 = now_ms();
	int r;

	memset(&res, 0, sizeof(res));
	if (st == NULL) {
		if ((r = rec_store_open_ldap(cfg, 0, &c->b->log, &own)) !=
		    REC_OK)
			goto out;
		st = own;
	}
	if ((r = rec_auth_status(st, cfg, user, now, &s)) != REC_OK)
		goto out;
	r = rec_auth_attempt(st, cfg, &who, &(struct rec_attempt){
	    .input = code, .now = now, .status = &s }, &res);
out:
	rec_store_close(own);
	if (ms != NULL)
		*ms = now_ms() - t0;
	if (evals != NULL)
		*evals = res.kdf_evals;
	return r;
}

/*
 * reps logins of user, each after a bare evaluation: with p, its valid
 * codes, else fresh random ones; on st, or on a store opened for each
 * (st NULL).  Each must give want.  The samples and their round trips
 * into *out.  Returns 0 or -1.
 */
static int
measure(struct ctx *c, struct rec_store *st, struct ldap_pool *p,
    const char *user, int want, const char *what, struct lrow *out)
{
	struct bench *b = c->b;
	char code[REC_CODE_MAX + 1];
	unsigned long before[LOP_N], after[LOP_N], ops[LOP_N];
	unsigned evals, n;
	int r, ret = -1;

	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i < c->n; i++) {
		const char *cd = p != NULL ? dir_code(b, &c->d, p) : NULL;

		if (p != NULL && cd == NULL)
			goto out;
		if (cd != NULL)
			snprintf(code, sizeof(code), "%s", cd);
		else
			rec_code_generate(&b->fmt, code);
		if (bare_eval(b, &c->f[i], NULL) != 0)
			goto out;
		ldap_ops(before);
		r = dir_login(c, st, user, code, &c->v[i], &evals);
		ldap_ops(after);
		if (r != want) {
			fprintf(stderr, "bench: %s: %s where %s was expected\n",
			    what, rec_strerror(r), rec_strerror(want));
			goto out;
		}
		n = delta(before, after, ops);
		if (i == 0) {
			memcpy(out->ops, ops, sizeof(ops));
			out->rts = n;
			out->evals = evals;
		} else if (n != out->rts || evals != out->evals)
			out->varied = 1;
	}
	out->s = summarise(c->v, c->n);
	out->argon = summarise(c->f, c->n).med;
	ret = 0;
out:
	sodium_memzero(code, sizeof(code));
	return ret;
}

static void
print_row(const struct ctx *c, const char *what, const struct lrow *l)
{
	double floor = l->argon + l->rts * c->rtt;
	double target = TARGET_SLACK * l->argon + l->rts * c->rtt;
	unsigned long writes = l->ops[LOP_MODIFY] + l->ops[LOP_ADD];
	double wfloor = floor + writes * (c->wrtt - c->rtt);
	const char *sep = "";

	printf("   %-34s %3u %7.2f %7.2f %7.2f %7.2f %7.2f %3u %7.2f %6.3f "
	    "%7.2f %6.3f\n", what, c->n, l->s.min, l->s.med, l->s.p95,
	    l->s.p99, l->argon, l->rts, floor, l->s.med / floor, target,
	    l->s.med / target);
	printf("     (round trips: ");
	for (unsigned k = 0; k < LOP_N; k++) {
		if (l->ops[k] == 0)
			continue;
		printf("%s%s %lu", sep, ldap_op_name[k], l->ops[k]);
		sep = ", ";
	}
	printf("; argon2id %u%s)\n     (the writes at a Modify's round "
	    "trip: floor %.2f ms, ratio %.3f)\n", l->evals, l->varied ?
	    "; not the same in every login" : "", wfloor, l->s.med / wfloor);
	fflush(stdout);
}

/*
 * The round trip: a base search of a user's entry (rec_ldap_read_locks)
 * on an open connection, RTT_SAMPLES times after one to warm up, into
 * c->rtt; that of a Modify (rec_ldap_note_success: the user's lockout
 * cleared, which slapd commits to its database on disk), RTT_SAMPLES / 4
 * times, into c->wrtt; and the cost of opening the store alone (connect,
 * StartTLS, TLS handshake, bind) and closing it, reps times.  Prints
 * them.
 */
static int
measure_rtt(struct ctx *c)
{
	struct bench *b = c->b;
	struct rec_ldap *h = NULL;
	struct rec_store *st = NULL;
	struct rec_user u;
	unsigned long before[LOP_N], after[LOP_N];
	unsigned have, per = 0, wper = 0, open_rts = 0;
	double *v = NULL, t0;
	struct stats s, w, o;
	int r = REC_ERR_NOMEM, ret = -1;

	if ((v = calloc(RTT_SAMPLES, sizeof(*v))) == NULL)
		goto out;
	if ((r = rec_ldap_open(&c->d.host, 1, &b->log, &h)) != REC_OK)
		goto out;
	for (unsigned i = 0; i <= RTT_SAMPLES; i++) {
		ldap_ops(before);
		t0 = now_ms();
		if ((r = rec_ldap_read_locks(h, LAT_USER, &u, &have)) != REC_OK)
			goto out;
		if (i > 0)
			v[i - 1] = now_ms() - t0;
		ldap_ops(after);
		per = delta(before, after, NULL);
	}
	s = summarise(v, RTT_SAMPLES);
	c->rtt = s.med;
	for (unsigned i = 0; i <= RTT_SAMPLES / 4; i++) {
		ldap_ops(before);
		t0 = now_ms();
		if ((r = rec_ldap_note_success(h, LAT_USER, 0)) != REC_OK)
			goto out;
		if (i > 0)
			v[i - 1] = now_ms() - t0;
		ldap_ops(after);
		wper = delta(before, after, NULL);
	}
	w = summarise(v, RTT_SAMPLES / 4);
	c->wrtt = w.med;
	for (unsigned i = 0; i < c->n; i++) {
		ldap_ops(before);
		t0 = now_ms();
		if ((r = rec_store_open_ldap(&c->d.host, 0, &b->log, &st)) !=
		    REC_OK)
			goto out;
		rec_store_close(st);
		st = NULL;
		c->v[i] = now_ms() - t0;
		ldap_ops(after);
		open_rts = delta(before, after, NULL);
	}
	o = summarise(c->v, c->n);
	printf("   round trip: a base search of a user's entry "
	    "(rec_ldap_read_locks, %u request) on an\n   open connection, "
	    "%u times: median %.3f ms, p95 %.3f ms, min %.3f ms\n", per,
	    RTT_SAMPLES, s.med, s.p95, s.min);
	printf("   a Modify's round trip (rec_ldap_note_success, %u request; "
	    "slapd commits it\n   to disk), %u times: median %.3f ms, p95 "
	    "%.3f ms, min %.3f ms\n", wper, RTT_SAMPLES / 4, w.med, w.p95,
	    w.min);
	printf("   opening and closing the store alone (connect, StartTLS, "
	    "TLS handshake, bind:\n   %u round trips): median %.2f ms, p95 "
	    "%.2f ms, %u times\n", open_rts, o.med, o.p95, c->n);
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "bench: the round trip: %s\n", rec_strerror(r));
	rec_ldap_close(h);
	free(v);
	return ret;
}

/* What a throughput worker does: valid or wrong codes, or bare argon2id. */
struct work {
	struct ctx *c;
	int wrong;
};

static int
dir_worker(const struct bench *b, unsigned w, unsigned k, void *arg)
{
	const struct work *wk = arg;
	struct ldap_pool *p = &wk->c->pool[P_WORKER + w];
	char code[REC_CODE_MAX + 1];
	int ret = 1;

	for (unsigned i = 0; i < k; i++) {
		if (wk->wrong)
			rec_code_generate(&b->fmt, code);
		else
			snprintf(code, sizeof(code), "%s",
			    p->codes[p->next + i]);
		if (dir_login(wk->c, NULL, p->user, code, NULL, NULL) !=
		    (wk->wrong ? REC_ERR_NOMATCH : REC_OK))
			goto out;
	}
	ret = 0;
out:
	sodium_memzero(code, sizeof(code));
	return ret;
}

static int
bare_worker(const struct bench *b, unsigned w, unsigned k, void *arg)
{
	double ms;

	(void)w;
	(void)arg;
	for (unsigned i = 0; i < k; i++)
		if (bare_eval(b, &ms, NULL) != 0)
			return 1;
	return 0;
}

/*
 * (b) WORKERS_MAX processes, one user each, k logins each with a store
 * opened for each login, valid codes then wrong ones, each run followed
 * by bare argon2id in as many processes (as item 4 does), so that a
 * change of load shows as a change of the bare rate.  *wrong_rate and
 * *bare_rate: the wrong codes' logins/s and the bare rate beside them.
 */
static int
measure_parallel(struct ctx *c, double *wrong_rate, double *bare_rate)
{
	struct bench *b = c->b;
	unsigned w = WORKERS_MAX;
	unsigned total = 2 * b->reps < 4 * w ? 4 * w : 2 * b->reps;	/* as 4 */
	unsigned k = (total + w - 1) / w;
	struct work wk = { c, 0 };
	double ms, cpu, bare_ms, rate, bare;

	k = k < 2 ? 2 : k > FILL_CODES ? FILL_CODES : k;
	for (unsigned i = 0; i < w; i++) {
		struct ldap_pool *p = &c->pool[P_WORKER + i];

		if (p->n - p->next < k && dir_seed(b, &c->d, p, b->opslimit,
		    b->memlimit) != 0)
			return -1;
	}
	printf("   %u workers, one process and user each, %u logins each, "
	    "a store opened for each login;\n   bare: argon2id alone in as "
	    "many processes, right after the logins\n", w, k);
	printf("   %-34s %7s %6s %8s %9s %7s\n", "", "logins", "wall s",
	    "logins/s", "bare ev/s", "vs bare");
	for (wk.wrong = 0; wk.wrong < 2; wk.wrong++) {
		if ((ms = workers_run(b, w, k, dir_worker, &wk, &cpu)) < 0 ||
		    (bare_ms = workers_run(b, w, k, bare_worker, NULL,
		    &cpu)) < 0)
			return -1;
		if (!wk.wrong)
			for (unsigned i = 0; i < w; i++)
				c->pool[P_WORKER + i].next += k;
		rate = w * k / (ms / 1e3);
		bare = w * k / (bare_ms / 1e3);
		printf("   %-34s %7u %6.2f %8.2f %9.2f %7.3f\n", wk.wrong ?
		    "wrong codes (as row 4)" : "valid codes", w * k, ms / 1e3,
		    rate, bare, rate / bare);
		*wrong_rate = rate;
		*bare_rate = bare;
	}
	fflush(stdout);
	return 0;
}

/* (c) The LMDB store's rows 3 and 4 of this run, beside the directory's. */
static void
side_by_side(const struct ctx *c, const struct lrow *valid, double rate,
    double bare)
{
	const struct bench *b = c->b;

	printf("   side by side: the LMDB system store (rows 3 and 4 of this "
	    "run) and the directory\n");
	printf("   %-40s %10s %10s\n", "", "LMDB", "directory");
	if (b->sys_users == 0 || b->rate8 <= 0) {
		printf("   (rows 3 and 4 did not run in this run: see them in "
		    "a whole run)\n");
		fflush(stdout);
		return;
	}
	printf("   %-40s %10u %10u\n", "users", b->sys_users,
	    b->ldap_users + P_N);
	printf("   %-40s %10u %10u\n", "valid logins measured", b->reps,
	    c->n);
	printf("   %-40s %10.2f %10.2f\n", "valid login, median ms",
	    b->sys_ok.med, valid->s.med);
	printf("   %-40s %10.2f %10.2f\n", "valid login, p95 ms", b->sys_ok.p95,
	    valid->s.p95);
	printf("   %-40s %10.2f %10.2f\n", "argon2id beside them, median ms",
	    b->sys_floor, valid->argon);
	printf("   %-40s %10.3f %10.3f\n", "median / argon2id",
	    b->sys_ok.med / b->sys_floor, valid->s.med / valid->argon);
	printf("   %-40s %10.2f %10.2f\n", "8 workers, wrong codes, logins/s",
	    b->rate8, rate);
	printf("   %-40s %10.2f %10.2f\n", "8 workers, bare argon2id, ev/s",
	    b->bare_rate8, bare);
	printf("   %-40s %10.3f %10.3f\n", "logins/s / bare ev/s",
	    b->rate8 / b->bare_rate8, rate / bare);
	printf("   (LMDB: logins through libpam, the module and its store "
	    "helper; directory: the\n   store helper's part alone, "
	    "rec_auth_* on the directory store, in this process)\n");
	fflush(stdout);
}

/* The heading: the server, its users, what is measured. */
static void
describe_dir(const struct ctx *c, double seed_ms, unsigned seeded)
{
	const struct bench *b = c->b;

	printf("   slapd %s on 127.0.0.1:%u (ldap:// + StartTLS, a test CA, "
	    "bound as the hosts' account,\n   acl.conf), started by "
	    "bench/bench_slapd.sh in %s\n", c->d.version[0] != '\0' ?
	    c->d.version : "?", c->d.port, c->d.path);
	printf("   %u filler users (BENCH_LDAP_USERS) + %u, each with an "
	    "active batch of %d codes;\n   the fillers' codes are one batch "
	    "hashed at opslimit %d, memlimit %d KiB and copied\n   to every "
	    "filler (only the measured users' codes need to verify): "
	    "LDIF %.0f MB\n   made in %.1f s, loaded with slapadd -q in %.1f "
	    "s (%.0f users/s); the server then\n   held %u user entries "
	    "(ldapsearch)\n",
	    b->ldap_users, P_N, FILL_CODES, TINY_OPS, TINY_MEM >> 10,
	    c->d.ldif_bytes / 1e6, c->d.ldif_s, c->d.slapadd_s,
	    c->d.slapadd_s > 0 ? b->ldap_users / c->d.slapadd_s : 0.0,
	    c->d.held);
	printf("   measured users: %u batches of %d codes at this run's cost, "
	    "written with\n   rec_ldap_write_batch in %.1f s\n", seeded,
	    FILL_CODES, seed_ms / 1e3);
	printf("   a login: rec_store_open_ldap (connect, StartTLS, bind), "
	    "rec_auth_status,\n   rec_auth_attempt, rec_store_close, as the "
	    "store helper makes it, in this process\n");
	fflush(stdout);
}

int
measure_ldap(struct bench *b)
{
	struct ctx c;
	struct rec_store *st = NULL;
	struct lrow open1, onopen, wrong, unknown;
	const char *code;
	char why[256];
	double t0, seed_ms, rate = 0, bare = 0, load[1];
	unsigned seeded = 0;
	int r, ret = -1;

	memset(&c, 0, sizeof(c));
	c.b = b;
	c.n = REPS_FACTOR * b->reps;
	if (getloadavg(load, 1) != 1)
		load[0] = -1;
	printf("\n11 the directory store (store = ldap, issue #13); load "
	    "average now %.2f\n", load[0]);
	if (b->ldap_users == 0) {
		printf("   skipped (BENCH_LDAP_USERS=0)\n");
		return 0;
	}
	if (dir_missing(why, sizeof(why))) {
		printf("   skipped: %s (make deps-bench installs what it "
		    "needs)\n", why);
		return 0;
	}
	if ((c.pool = sodium_malloc(P_N * sizeof(*c.pool))) == NULL ||
	    (c.v = calloc(c.n, sizeof(*c.v))) == NULL ||
	    (c.f = calloc(c.n, sizeof(*c.f))) == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		goto out;
	}
	memset(c.pool, 0, P_N * sizeof(*c.pool));
	snprintf(c.pool[P_TMPL].user, sizeof(c.pool[P_TMPL].user), TMPL_USER);
	snprintf(c.pool[P_LAT].user, sizeof(c.pool[P_LAT].user), LAT_USER);
	snprintf(c.pool[P_WRONG].user, sizeof(c.pool[P_WRONG].user),
	    WRONG_USER);
	for (unsigned w = 0; w < WORKERS_MAX; w++)
		snprintf(c.pool[P_WORKER + w].user,
		    sizeof(c.pool[P_WORKER + w].user), "bench-p%u", w);
	if (dir_start(b, &c.d) != 0 ||
	    dir_seed(b, &c.d, &c.pool[P_TMPL], TINY_OPS, TINY_MEM) != 0 ||
	    dir_fill(b, &c.d, b->ldap_users, TMPL_USER) != 0)
		goto out;
	t0 = now_ms();
	for (unsigned i = P_LAT; i < P_N; i++, seeded++)
		if (dir_seed(b, &c.d, &c.pool[i], b->opslimit, b->memlimit) !=
		    0)
			goto out;
	seed_ms = now_ms() - t0;
	describe_dir(&c, seed_ms, seeded);
	/* One of each, untimed, to warm up the server, the caches, TLS. */
	if ((code = dir_code(b, &c.d, &c.pool[P_LAT])) == NULL)
		goto out;
	rec_code_generate(&b->fmt, why);
	if ((r = dir_login(&c, NULL, LAT_USER, code, NULL, NULL)) != REC_OK ||
	    (r = dir_login(&c, NULL, NO_USER, why, NULL, NULL)) !=
	    REC_ERR_NOSTORE) {
		fprintf(stderr, "bench: directory, warming up: %s\n",
		    rec_strerror(r));
		goto out;
	}
	if (measure_rtt(&c) != 0)
		goto out;
	printf("   n = %u x BENCH_REPS logins a row; argon2id: median of "
	    "bare evaluations made\n   one before each login of the row;\n"
	    "   floor = argon2id + round trips x round trip; ratio = median / "
	    "floor;\n   target = %.1f x argon2id + round trips x round trip "
	    "(issue #13); vs tgt = median / target\n", REPS_FACTOR,
	    TARGET_SLACK);
	printf("   %-34s %3s %7s %7s %7s %7s %7s %3s %7s %6s %7s %6s\n", "ms",
	    "n", "min", "median", "p95", "p99", "argon2", "rts", "floor",
	    "ratio", "target", "vs tgt");
	if (measure(&c, NULL, &c.pool[P_LAT], LAT_USER, REC_OK,
	    "valid code", &open1) != 0)
		goto out;
	print_row(&c, "login, valid code", &open1);
	if ((r = rec_store_open_ldap(&c.d.host, 0, &b->log, &st)) != REC_OK) {
		fprintf(stderr, "bench: directory: %s\n", rec_strerror(r));
		goto out;
	}
	if (measure(&c, st, &c.pool[P_LAT], LAT_USER, REC_OK,
	    "valid code, open store", &onopen) != 0)
		goto out;
	rec_store_close(st);
	st = NULL;
	print_row(&c, "  on a store opened before", &onopen);
	if (measure(&c, NULL, NULL, WRONG_USER, REC_ERR_NOMATCH, "wrong code",
	    &wrong) != 0)
		goto out;
	print_row(&c, "login, wrong code", &wrong);
	if (measure(&c, NULL, NULL, NO_USER, REC_ERR_NOSTORE, "unknown user",
	    &unknown) != 0)
		goto out;
	print_row(&c, "login, unknown user", &unknown);
	if (measure_parallel(&c, &rate, &bare) != 0)
		goto out;
	side_by_side(&c, &open1, rate, bare);
	if (getloadavg(load, 1) != 1)
		load[0] = -1;
	printf("   (load average at the end of item 11: %.2f)\n", load[0]);
	ret = 0;
out:
	rec_store_close(st);
	dir_stop(&c.d);
	if (c.pool != NULL) {
		sodium_memzero(c.pool, P_N * sizeof(*c.pool));
		sodium_free(c.pool);
	}
	free(c.v);
	free(c.f);
	return ret;
}
