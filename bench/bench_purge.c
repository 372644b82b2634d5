/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_purge.c: item 7, purge throughput and a login's latency meanwhile. */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <sodium.h>

#include "rec_store_lmdb.h"	/* the LMDB store filled directly */
#include "rec_err.h"
#include "rec_purge.h"

#include "bench.h"

#define LIVE_USER	"bench-live"	/* who logs in while purge runs */
#define LIVE_MAX	8192	/* most logins recorded during the purge */

/* Users [first, first + n) of the purge store, made in one transaction. */
struct dead_chunk {
	unsigned first, n;
	uint64_t old;			/* when they were last touched */
	const struct rec_format *fmt;
};

/*
 * Each user gets one dead batch of FILL_CODES codes last changed at old:
 * every other one invalidated (codes, batch and user as rec_issue_invalidate
 * leaves them), the others used up.  Salts and hashes are random bytes: a
 * dead code is never evaluated again, and its record is as large.
 */
static int
dead_txn(struct rec_txn *t, void *arg)
{
	const struct dead_chunk *c = arg;
	unsigned bits = rec_format_tag_bits(c->fmt);
	struct rec_code_rec cr;
	struct rec_batch bt;
	struct rec_user u;
	char name[32];
	int r = REC_ERR_INTERNAL;

	for (unsigned i = 0; i < c->n; i++) {
		int used = (c->first + i) % 2;

		snprintf(name, sizeof(name), "dead%07u", c->first + i);
		memset(&bt, 0, sizeof(bt));
		bt.id = c->old << 24 | randombytes_uniform(1u << 24);
		bt.status = used ? REC_BATCH_ACTIVE : REC_BATCH_INVALIDATED;
		bt.created = bt.modified = c->old;
		bt.count = FILL_CODES;
		bt.used = used ? FILL_CODES : 0;
		bt.invalidated = used ? 0 : FILL_CODES;
		bt.opslimit = TINY_OPS;
		bt.memlimit = TINY_MEM;
		bt.tag_bits = (uint8_t)bits;
		randombytes_buf(bt.tag_key, sizeof(bt.tag_key));
		bt.fmt = *c->fmt;
		if ((r = rec_batch_put(t, name, &bt)) != REC_OK)
			return r;
		for (unsigned k = 0; k < FILL_CODES; k++) {
			memset(&cr, 0, sizeof(cr));
			cr.slot = (uint8_t)(k + 1);
			cr.state = used ? REC_CODE_USED : REC_CODE_INVALID;
			cr.tag = (uint16_t)randombytes_uniform(1u << bits);
			randombytes_buf(cr.salt, sizeof(cr.salt));
			randombytes_buf(cr.hash, sizeof(cr.hash));
			cr.changed = c->old;
			if ((r = rec_coderec_put(t, name, bt.id,
			    &cr)) != REC_OK)
				return r;
		}
		memset(&u, 0, sizeof(u));
		u.active_batch = used ? bt.id : 0;
		u.last_used = used ? c->old : 0;
		u.last_generated = c->old;
		if ((r = rec_user_put(t, name, &u)) != REC_OK)
			return r;
	}
	return REC_OK;
}

/* What the login process records, in memory shared with it. */
struct live {
	unsigned n;				/* logins refused, as due */
	double ms[LIVE_MAX], cpu[LIVE_MAX];	/* wall, CPU */
	unsigned failed;			/* logins that went otherwise */
	int fail;				/* the last one's PAM result */
};

/* One round: a store of dead codes, its service, and what was measured. */
struct round {
	const char *svc;		/* the live user logs in with it */
	const char *store;
	const struct rec_config *cfg;	/* its configuration */
	double fill_ms;
	struct rec_purge_stats s;
	double ms;			/* wall time of rec_purge */
	double last, gap;		/* last commit; longest between two */
};

/*
 * The body of the login process: wait for the go (EOF on gofd), then log
 * in as LIVE_USER with wrong codes through service, at most max times,
 * until stopfd (unless -1) reaches EOF.  The times of each login refused
 * as it should be (PAM_AUTH_ERR) go to lv; any other outcome is counted
 * there as a failure, which the table shows: it is what a user would see.
 */
static void
live_logins(const struct bench *b, const char *service, struct live *lv,
    unsigned max, int gofd, int stopfd)
{
	struct pollfd pfd = { stopfd, POLLIN, 0 };
	char code[REC_CODE_MAX + 1], c;
	int r;

	while (read(gofd, &c, 1) == -1 && errno == EINTR)
		;
	lv->n = lv->failed = 0;
	for (unsigned i = 0; i < max; i++) {
		if (stopfd != -1 && poll(&pfd, 1, 0) != 0)
			break;
		rec_code_generate(&b->fmt, code);
		if ((r = login(b, service, LIVE_USER, code, &lv->ms[lv->n],
		    &lv->cpu[lv->n])) == PAM_AUTH_ERR)
			lv->n++;
		else {
			lv->failed++;
			lv->fail = r;
		}
	}
	sodium_memzero(code, sizeof(code));
}

/* Called after each commit (per user): the longest time between commits. */
static void
purge_seen(const char *user, uint64_t codes, uint64_t batches, void *arg)
{
	struct round *rd = arg;
	double t = now_ms();

	(void)user;
	(void)codes;
	(void)batches;
	if (t - rd->last > rd->gap)
		rd->gap = t - rd->last;
	rd->last = t;
}

/*
 * Run the login process of round rd: for max logins, or, with purge set,
 * for as long as rec_purge runs over rd's store in this process (rd
 * receives its counts and times).  The process is forked before the store
 * is opened here: LMDB must not be inherited open.
 */
static int
live_run(struct bench *b, struct round *rd, struct live *lv, unsigned max,
    int purge)
{
	struct rec_who who = { "bench", "bench", NULL, NULL, "bench" };
	struct rec_purge_opts o;
	struct rec_store *st = NULL;
	int go[2] = { -1, -1 }, stop[2] = { -1, -1 }, status, r, ret = -1;
	pid_t pid = -1;
	double t0;

	if (pipe(go) == -1 || pipe(stop) == -1) {
		fprintf(stderr, "bench: pipe: %s\n", strerror(errno));
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		goto out;
	}
	if (pid == 0) {
		close(go[1]);
		close(stop[1]);
		live_logins(b, rd->svc, lv, max, go[0], purge ? stop[0] : -1);
		_exit(0);
	}
	close(go[0]);
	close(stop[0]);
	go[0] = stop[0] = -1;
	if (purge) {
		memset(&o, 0, sizeof(o));
		o.now = (uint64_t)time(NULL);
		o.retention_days = rd->cfg->retention_days;
		o.batch_size = rd->cfg->purge_batch_size;
		o.max = -1;
		if ((r = rec_store_open(rd->store, geteuid(), 0, &b->log,
		    &st)) != REC_OK) {
			fprintf(stderr, "bench: %s: %s\n", rd->store,
			    rec_strerror(r));
			goto out;
		}
	}
	close(go[1]);
	go[1] = -1;
	if (purge) {
		t0 = rd->last = now_ms();
		r = rec_purge(st, rd->cfg, &who, &o, purge_seen, rd, &rd->s);
		rd->ms = now_ms() - t0;
		if (r != REC_OK) {
			fprintf(stderr, "bench: purge: %s\n", rec_strerror(r));
			goto out;
		}
	}
	ret = 0;
out:
	rec_store_close(st);
	for (unsigned i = 0; i < 2; i++) {
		if (go[i] != -1)
			close(go[i]);
		if (stop[i] != -1)
			close(stop[i]);
	}
	if (pid > 0 && (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)) {
		fprintf(stderr, "bench: the login process failed (status "
		    "0x%x)\n", (unsigned)status);
		ret = -1;
	}
	return ret;
}

/*
 * Fill rd's store with b->purge_users users of FILL_CODES dead codes each,
 * last changed a year before the retention, FILL_CHUNK users per write
 * transaction, and give LIVE_USER 10 codes at the store's cost.
 */
static int
fill_dead(struct bench *b, struct round *rd)
{
	struct rec_store *st = NULL;
	uint64_t now = (uint64_t)time(NULL);
	uint64_t old = now - ((uint64_t)rd->cfg->retention_days + 365) * 86400;
	double t0 = now_ms();
	int r = REC_OK, ret = -1;

	for (unsigned first = 0; first < b->purge_users; first += FILL_CHUNK) {
		struct dead_chunk c = { first, b->purge_users - first, old,
		    &b->fmt };

		if (c.n > FILL_CHUNK)
			c.n = FILL_CHUNK;
		if ((r = rec_store_open(rd->store, geteuid(), REC_STORE_CREATE,
		    &b->log, &st)) != REC_OK ||
		    (r = rec_store_write(st, dead_txn, &c)) != REC_OK)
			goto out;
		rec_store_close(st);
		st = NULL;
	}
	if (issue(b, rd->store, geteuid(), rd->cfg, LIVE_USER, 10, b->nb,
	    NULL, NULL) != 0)
		goto out;
	/* Leave no writeback of the fill to slow what is measured next. */
	sync();
	rd->fill_ms = now_ms() - t0;
	ret = 0;
out:
	if (r != REC_OK)
		fprintf(stderr, "bench: filling %s: %s\n", rd->store,
		    rec_strerror(r));
	rec_new_batch_wipe(b->nb);
	rec_store_close(st);
	return ret;
}

/* The logins that ended otherwise than with PAM_AUTH_ERR, if any. */
static void
failures(unsigned failed, int fail, const char *when)
{
	if (failed > 0)
		printf("   %-40s %3u FAILED, the last with %s\n", when, failed,
		    fail == -1 ? "no handle" : pam_strerror(NULL, fail));
}

/*
 * One round: fill its store; b->reps logins of the live user alone; then
 * rec_purge with the logins going on until it ends.  Prints its rows.
 */
static int
purge_round(struct bench *b, struct round *rd, struct live *lv,
    const char *what)
{
	uint64_t want = (uint64_t)b->purge_users * FILL_CODES;
	struct stats idle, busy;
	double idle_cpu;
	unsigned n_idle, failed_idle;
	int fail_idle;

	if (fill_dead(b, rd) != 0 || live_run(b, rd, lv, b->reps, 0) != 0)
		return -1;
	if (lv->n == 0) {
		failures(lv->failed, lv->fail, "  login alone");
		return -1;
	}
	n_idle = lv->n;
	failed_idle = lv->failed;
	fail_idle = lv->fail;
	idle = summarise(lv->ms, n_idle);
	idle_cpu = summarise(lv->cpu, n_idle).med;
	if (live_run(b, rd, lv, LIVE_MAX, 1) != 0)
		return -1;
	printf("   %s\n     %s, filled in %.1f s; purged %llu codes (%s) and "
	    "%llu batches\n     in %llu transactions, %.2f s: %.0f codes/s, "
	    "%.0f records/s; longest between\n     two commits %.1f ms, mean "
	    "%.2f ms; left %llu codes in %llu batches\n", what, rd->store,
	    rd->fill_ms / 1e3, (unsigned long long)rd->s.codes,
	    rd->s.codes == want ? "all" : "NOT all",
	    (unsigned long long)rd->s.batches_purged,
	    (unsigned long long)rd->s.txns, rd->ms / 1e3,
	    rd->s.codes / (rd->ms / 1e3),
	    (rd->s.codes + rd->s.batches_purged) / (rd->ms / 1e3), rd->gap,
	    rd->s.txns > 0 ? rd->ms / rd->s.txns : 0.0,
	    (unsigned long long)rd->s.codes_left,
	    (unsigned long long)rd->s.batches_left);
	printf("   %-40s %3u %7.2f %7.2f %7.2f %7.2f %7.2f\n",
	    "  login alone", n_idle, idle.min, idle.med, idle.p99, idle.max,
	    idle_cpu);
	failures(failed_idle, fail_idle, "  login alone");
	if (lv->n == 0)
		printf("   %-40s   0  (none refused in time)\n",
		    "  login during the purge");
	else {
		busy = summarise(lv->ms, lv->n);
		printf("   %-40s %3u %7.2f %7.2f %7.2f %7.2f %7.2f  (median "
		    "x%.2f)\n", "  login during the purge", lv->n, busy.min,
		    busy.med, busy.p99, busy.max, summarise(lv->cpu, lv->n).med,
		    busy.med / idle.med);
	}
	failures(lv->failed, lv->fail, "  login during the purge");
	return 0;
}

int
measure_purge(struct bench *b)
{
	struct round rd[2];
	struct live *lv = MAP_FAILED;
	char what[2][128];
	int ret = -1;

	memset(rd, 0, sizeof(rd));
	rd[0].svc = SVC_PURGE;
	rd[0].store = b->purge_store;
	rd[0].cfg = &b->pcfg;
	rd[1].svc = SVC_PURGE_TINY;
	rd[1].store = b->purge_tiny_store;
	rd[1].cfg = &b->ptcfg;
	snprintf(what[0], sizeof(what[0]), "logins at the configured cost:");
	snprintf(what[1], sizeof(what[1]), "logins at opslimit %d, memlimit "
	    "%d (nearly all store work):", TINY_OPS, TINY_MEM);
	printf("\n 7 purge: %u users x %d dead codes (%llu codes, last changed "
	    "a year before\n   the retention of %u days) and one live user "
	    "(" LIVE_USER ", 10 codes) per store;\n   rec_purge (batch_size "
	    "%u) in this process while another logs in as\n   " LIVE_USER
	    " with wrong codes, in two rounds, each with a fresh store\n",
	    b->purge_users, FILL_CODES,
	    (unsigned long long)b->purge_users * FILL_CODES,
	    b->pcfg.retention_days, b->pcfg.purge_batch_size);
	printf("   %-40s %3s %7s %7s %7s %7s %7s\n", "ms", "n", "min", "median",
	    "p99", "max", "cpu");
	fflush(stdout);
	if ((lv = mmap(NULL, sizeof(*lv), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		fprintf(stderr, "bench: mmap: %s\n", strerror(errno));
		goto out;
	}
	for (unsigned k = 0; k < 2; k++)
		if (purge_round(b, &rd[k], lv, what[k]) != 0)
			goto out;
	printf("   (cpu: median CPU time of the login process and its "
	    "children; what the wall\n   time adds to it is waiting: for a "
	    "core, for the disk, or for a write\n   transaction of the "
	    "purge)\n");
	ret = 0;
out:
	if (lv != MAP_FAILED)
		munmap(lv, sizeof(*lv));
	return ret;
}
