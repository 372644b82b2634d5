/* SPDX-License-Identifier: BSD-2-Clause */
/* test_auth.c: attempts and generation against a real store in a temp dir. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "testutil.h"
/* craft, set_memlimit_txn: records as their owner could write them. */
#include "rec_store_lmdb.h"
#include "rec_err.h"
#include "rec_issue.h"

#define T0 1800000000ULL	/* a fixed "now"; tests never read the clock */

/*
 * Reads of the user record and of a batch: the Makefile links this test
 * with --wrap for both, so every call from the core passes through here.
 */
static unsigned user_reads, batch_reads;

int __real_rec_user_get(struct rec_txn *t, const char *user,
    struct rec_user *u);
int __wrap_rec_user_get(struct rec_txn *t, const char *user,
    struct rec_user *u);
int __real_rec_batch_get(struct rec_txn *t, const char *user, uint64_t id,
    struct rec_batch *b);
int __wrap_rec_batch_get(struct rec_txn *t, const char *user, uint64_t id,
    struct rec_batch *b);

int
__wrap_rec_user_get(struct rec_txn *t, const char *user, struct rec_user *u)
{
	user_reads++;
	return __real_rec_user_get(t, user, u);
}

int
__wrap_rec_batch_get(struct rec_txn *t, const char *user, uint64_t id,
    struct rec_batch *b)
{
	batch_reads++;
	return __real_rec_batch_get(t, user, id, b);
}

struct fx {
	struct store_fx s;	/* first: the store, alice, her codes */
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fx_open(&f->s, "test_auth");
	*state = f;
	return 0;
}

static void
generate(struct fx *f, unsigned n, uint64_t now)
{
	store_fx_generate(&f->s, n, now);
}

static int
attempt(struct fx *f, const char *code, uint64_t now, struct rec_result *res)
{
	return rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = code, .now = now }, res);
}

/* A well-formed code that no batch holds (2^-95 chance of a clash). */
static void
wrong_code(const struct fx *f, char *out)
{
	struct rec_format fmt;

	rec_config_format(&f->s.cfg, &fmt);
	rec_code_generate(&fmt, out);
}

static struct rec_status
status(struct fx *f, uint64_t now)
{
	struct rec_status s;

	assert_int_equal(rec_auth_status(f->s.st, &f->s.cfg, "alice", now, &s),
	    REC_OK);
	return s;
}

static void
test_success_then_reuse(void **state)
{
	struct fx *f = *state;
	struct rec_result res;

	generate(f, 10, T0);
	assert_int_equal(attempt(f, f->s.nb.codes[2], T0, &res), REC_OK);
	assert_int_equal(res.slot, 3);
	assert_int_equal(res.remaining, 9);
	assert_int_equal(res.kdf_evals, 1);
	assert_int_equal(attempt(f, f->s.nb.codes[2], T0, &res), REC_ERR_USED);
	assert_int_equal(res.kdf_evals, 1);
	assert_int_equal(status(f, T0).failures, 1);
	assert_int_equal(status(f, T0).remaining, 9);
}

/* The number of argon2id evaluations must not grow with the codes. */
static void
evals_per_attempt(struct fx *f, unsigned n)
{
	struct rec_result res;
	char code[REC_CODE_MAX + 1];
	unsigned evals = 0;

	assert_int_equal(rec_config_set(&f->s.cfg, "max_attempts", "1000",
	    "test", 0, NULL), REC_OK);
	generate(f, n, T0);
	for (int i = 0; i < 100; i++) {
		wrong_code(f, code);
		assert_int_equal(attempt(f, code, T0, &res), REC_ERR_NOMATCH);
		evals += res.kdf_evals;
	}
	assert_true(evals <= 110);
	evals = 0;
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(attempt(f, f->s.nb.codes[i], T0, &res),
		    REC_OK);
		evals += res.kdf_evals;
	}
	assert_true(evals * 10 <= n * 11);
}

static void
test_one_eval_10(void **state)
{
	evals_per_attempt(*state, 10);
}

static void
test_one_eval_100(void **state)
{
	evals_per_attempt(*state, 100);
}

static void
test_not_enrolled_costs_one_eval(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	char code[REC_CODE_MAX + 1];

	wrong_code(f, code);
	assert_int_equal(rec_auth_attempt(NULL, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = code, .now = T0 }, &res),
	    REC_ERR_NOSTORE);
	assert_int_equal(res.kdf_evals, 1);
	assert_int_equal(attempt(f, code, T0, &res), REC_ERR_NOSTORE);
	assert_int_equal(res.kdf_evals, 1);
}

static void
test_malformed_not_counted(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	static const char *const bad[] = {
		"", "hello", "7KQ2M-XH9PD-3RT4W-ZB8N", "UUUUU-UUUUU-UUUUU-UUUUU",
	};

	generate(f, 10, T0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(attempt(f, bad[i], T0, &res), REC_ERR_MALFORMED);
		assert_int_equal(res.kdf_evals, 0);
	}
	assert_int_equal(status(f, T0).failures, 0);
}

static void
test_lockout_escalates_and_clears(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	char code[REC_CODE_MAX + 1];

	generate(f, 10, T0);
	for (int i = 1; i <= 5; i++) {
		wrong_code(f, code);
		assert_int_equal(attempt(f, code, T0 + (uint64_t)i, &res),
		    REC_ERR_NOMATCH);
		assert_int_equal(res.locked_now, i == 5);
	}
	assert_int_equal(res.lock_remaining, 60);
	/* Locked: refused without a hash, even the right code. */
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 30, &res),
	    REC_ERR_LOCKED);
	assert_int_equal(res.kdf_evals, 0);
	assert_int_equal(res.lock_remaining, 35);
	/* After the cooldown, one more failure doubles it. */
	wrong_code(f, code);
	assert_int_equal(attempt(f, code, T0 + 70, &res), REC_ERR_NOMATCH);
	assert_true(res.locked_now);
	assert_int_equal(res.lock_remaining, 120);
	/* A success clears everything. */
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 200, &res), REC_OK);
	assert_int_equal(status(f, T0 + 200).failures, 0);
	assert_int_equal(status(f, T0 + 200).lock_remaining, 0);
}

static void
test_clock_backwards(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	char code[REC_CODE_MAX + 1];

	generate(f, 10, T0);
	for (int i = 0; i < 5; i++) {
		wrong_code(f, code);
		attempt(f, code, T0, &res);
	}
	assert_true(status(f, T0 - 10 * 86400).lock_remaining <=
	    f->s.cfg.cooldown_cap);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 - 10 * 86400, &res),
	    REC_ERR_LOCKED);
	assert_true(res.lock_remaining <= f->s.cfg.cooldown_cap);
}

/*
 * The clock jumps back 20 000 s during a 60 s lock.  The lock must end
 * within its level of real time, 3600 s at the latest: the reads before the
 * prompt write the corrected lock back, instead of correcting a copy that
 * the next read measures from the jumped clock again.
 */
static void
test_clock_back_lock_ends(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	char code[REC_CODE_MAX + 1];
	uint64_t back = T0 - 20000;

	generate(f, 10, T0);
	for (int i = 0; i < 5; i++) {
		wrong_code(f, code);
		attempt(f, code, T0, &res);
	}
	assert_int_equal(res.lock_remaining, 60);
	assert_int_equal(status(f, back).lock_remaining, 60);
	assert_int_equal(attempt(f, f->s.nb.codes[0], back + 30, &res),
	    REC_ERR_LOCKED);
	assert_int_equal(res.kdf_evals, 0);
	assert_int_equal(res.lock_remaining, 30);
	assert_int_equal(status(f, back + 59).lock_remaining, 1);
	assert_int_equal(status(f, back + 60).lock_remaining, 0);
	assert_int_equal(attempt(f, f->s.nb.codes[0], back + 3601, &res),
	    REC_OK);
	assert_int_equal(res.slot, 1);
}

/*
 * A reader that opened the store read-only (the admin tool's show) after
 * the clock moved back: it reports the corrected lock and writes nothing;
 * the next writer settles the record.
 */
static void
test_clock_back_read_only(void **state)
{
	struct fx *f = *state;
	struct rec_store *ro = NULL;
	struct rec_status s;
	struct rec_result res;
	char code[REC_CODE_MAX + 1];
	uint64_t back = T0 - 20000;

	generate(f, 10, T0);
	for (int i = 0; i < 5; i++) {
		wrong_code(f, code);
		attempt(f, code, T0, &res);
	}
	rec_store_close(f->s.st);
	f->s.st = NULL;
	assert_int_equal(test_store_reopen(f->s.path, REC_STORE_RDONLY, NULL,
	    &ro), REC_OK);
	assert_int_equal(rec_store_writable(ro), 0);
	assert_int_equal(rec_auth_status(ro, &f->s.cfg, "alice", back + 30, &s),
	    REC_OK);
	/* Not the 20 000 s of the jump: the level, from the time of reading. */
	assert_int_equal(s.lock_remaining, 60);
	rec_store_close(ro);
	assert_int_equal(test_store_reopen(f->s.path, 0, NULL, &f->s.st),
	    REC_OK);
	assert_int_equal(rec_store_writable(f->s.st), 1);
	assert_int_equal(status(f, back + 30).lock_remaining, 60);
	assert_int_equal(status(f, back + 89).lock_remaining, 1);
	assert_int_equal(status(f, back + 90).lock_remaining, 0);
}

/* The same for generate_cooldown: a jump back does not lengthen it. */
static void
test_clock_back_generate_cooldown(void **state)
{
	struct fx *f = *state;
	uint64_t wait = 0, back = T0 - 20000;

	assert_int_equal(rec_config_set(&f->s.cfg, "generate_cooldown", "60",
	    "test", 0, NULL), REC_OK);
	generate(f, 3, T0);
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = back,
	    .flags = REC_GEN_REPLACE }, &f->s.nb, &wait), REC_ERR_COOLDOWN);
	assert_int_equal(wait, 60);
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = back + 59,
	    .flags = REC_GEN_REPLACE }, &f->s.nb, &wait), REC_ERR_COOLDOWN);
	assert_int_equal(wait, 1);
	generate(f, 3, back + 60);
}

static void
test_verify_only_does_not_consume(void **state)
{
	struct fx *f = *state;
	struct rec_result res;

	generate(f, 3, T0);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .now = T0 + 5,
	    .flags = REC_ATTEMPT_TEST }, &res), REC_OK);
	assert_int_equal(status(f, T0).verified, T0 + 5);
	assert_int_equal(status(f, T0).remaining, 3);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 6, &res), REC_OK);
}

static void
test_invalidate(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	unsigned slots[] = { 2 };
	unsigned nope[] = { 11 };

	generate(f, 10, T0);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &f->s.who,
	    slots, 1, T0), REC_OK);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &f->s.who,
	    nope, 1, T0), REC_ERR_NOTFOUND);
	assert_int_equal(attempt(f, f->s.nb.codes[1], T0, &res),
	    REC_ERR_INVALIDATED);
	assert_int_equal(status(f, T0).remaining, 9);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &f->s.who,
	    NULL, 0, T0), REC_OK);
	assert_int_equal(status(f, T0).enrolled, 0);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0, &res),
	    REC_ERR_NOSTORE);
}

/* Issue #15 item 4: "last used" is of the active batch, not an older one. */
static void
test_last_used_of_active_batch(void **state)
{
	struct fx *f = *state;
	struct rec_result res;

	generate(f, 5, T0);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 10, &res), REC_OK);
	assert_true(status(f, T0 + 10).last_used == T0 + 10);
	generate(f, 5, T0 + 20);
	assert_true(status(f, T0 + 20).last_used == 0);
	assert_int_equal(attempt(f, f->s.nb.codes[1], T0 + 30, &res), REC_OK);
	assert_true(status(f, T0 + 30).last_used == T0 + 30);
}

/* The invalidation events: how many, and the last one's slot and detail. */
struct inval_events {
	unsigned n;
	unsigned slot;
	char detail[REC_FIELD_MAX];
};

static int
inval_event(uint64_t seq, const struct rec_event *ev, void *varg)
{
	struct inval_events *e = varg;

	(void)seq;
	if (ev->type != REC_EV_INVALIDATED)
		return REC_OK;
	e->n++;
	e->slot = ev->slot;
	snprintf(e->detail, sizeof(e->detail), "%s", ev->detail);
	return REC_OK;
}

static int
read_inval(struct rec_store *st, struct inval_events *e)
{
	memset(e, 0, sizeof(*e));
	return rec_store_event_each(st, NULL, 0, inval_event, e);
}

/*
 * Issue #15 item 4: invalidating a code that is already invalidated (or
 * used) changes nothing and audits nothing; a mixed list audits the true
 * count.
 */
static void
test_invalidate_audits_true_count(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	struct inval_events e;
	unsigned three[] = { 3 }, mixed[] = { 3, 1, 4 };

	generate(f, 5, T0);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &f->s.who,
	    three, 1, T0), REC_OK);
	assert_int_equal(read_inval(f->s.st, &e), REC_OK);
	assert_int_equal(e.n, 1);
	assert_int_equal(e.slot, 3);
	assert_string_equal(e.detail, "1 code");
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &f->s.who,
	    three, 1, T0 + 1), REC_OK);
	assert_int_equal(read_inval(f->s.st, &e), REC_OK);
	assert_int_equal(e.n, 1);
	/* #1 used, #3 invalidated: only #4 changes. */
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 2, &res), REC_OK);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &f->s.who,
	    mixed, 3, T0 + 3), REC_OK);
	assert_int_equal(read_inval(f->s.st, &e), REC_OK);
	assert_int_equal(e.n, 2);
	assert_int_equal(e.slot, 4);
	assert_string_equal(e.detail, "1 code");
	assert_int_equal(status(f, T0 + 3).remaining, 2);
}

static void
test_expired(void **state)
{
	struct fx *f = *state;
	struct rec_result res;

	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 5, .expires_days = 1, .now = T0 },
	    &f->s.nb, NULL), REC_OK);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 86399, &res),
	    REC_OK);
	assert_int_equal(attempt(f, f->s.nb.codes[1], T0 + 86400, &res),
	    REC_ERR_EXPIRED);
	assert_true(status(f, T0 + 86400).expired);
}

static void
test_regenerate(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	char old[REC_CODE_MAX + 1];

	generate(f, 5, T0);
	memcpy(old, f->s.nb.codes[0], sizeof(old));
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 5, .now = T0 }, &f->s.nb, NULL),
	    REC_ERR_EXISTS);
	generate(f, 5, T0 + 1);
	assert_int_not_equal(attempt(f, old, T0 + 2, &res), REC_OK);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 2, &res), REC_OK);
}

/*
 * Issue #15 item 7: codes are stored (staged) before they are shown; a
 * staged batch does not work and leaves the old one active; the commit
 * activates it; a discard removes it.
 */
static void
test_stage_commit_discard(void **state)
{
	struct fx *f = *state;
	struct rec_new_batch *nb = sodium_malloc(sizeof(*nb));
	struct rec_result res;
	struct rec_status s;
	uint64_t old;

	assert_non_null(nb);
	generate(f, 5, T0);
	old = status(f, T0).batch;
	assert_int_equal(rec_issue_prepare(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = T0 + 1,
	    .flags = REC_GEN_REPLACE }, nb, NULL), REC_OK);
	assert_int_equal(rec_issue_stage(f->s.st, &f->s.cfg, &f->s.who, nb,
	    T0 + 1, NULL), REC_OK);
	/* Staged: the new codes do not work, the old ones still do. */
	assert_int_equal(attempt(f, nb->codes[0], T0 + 2, &res),
	    REC_ERR_NOMATCH);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 2, &res), REC_OK);
	s = status(f, T0 + 2);
	assert_true(s.batch == old);
	assert_int_equal(s.remaining, 4);
	/* Discarded: gone, and discarding twice is harmless. */
	assert_int_equal(rec_issue_discard(f->s.st, &f->s.who, nb), REC_OK);
	assert_int_equal(rec_issue_discard(f->s.st, &f->s.who, nb), REC_OK);
	assert_int_equal(rec_issue_commit(f->s.st, &f->s.cfg, &f->s.who, nb,
	    T0 + 3, NULL), REC_ERR_CORRUPT);
	assert_true(status(f, T0 + 3).batch == old);
	/* Staged and committed: the new batch replaces the old one. */
	assert_int_equal(rec_issue_prepare(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = T0 + 4,
	    .flags = REC_GEN_REPLACE }, nb, NULL), REC_OK);
	assert_int_equal(rec_issue_stage(f->s.st, &f->s.cfg, &f->s.who, nb,
	    T0 + 4, NULL), REC_OK);
	assert_int_equal(rec_issue_commit(f->s.st, &f->s.cfg, &f->s.who, nb,
	    T0 + 4, NULL), REC_OK);
	/* A committed batch is not discarded. */
	assert_int_equal(rec_issue_discard(f->s.st, &f->s.who, nb), REC_OK);
	assert_int_equal(attempt(f, nb->codes[1], T0 + 5, &res), REC_OK);
	assert_int_equal(attempt(f, f->s.nb.codes[1], T0 + 5, &res),
	    REC_ERR_NOMATCH);
	s = status(f, T0 + 5);
	assert_true(s.batch == nb->batch.id);
	assert_int_equal(s.remaining, 2);
	rec_new_batch_wipe(nb);
	sodium_free(nb);
}

/*
 * A store that cannot grow (the file size limit stands in for a full disk):
 * staging fails, so nothing would be shown, and the old codes still work.
 */
static void
test_stage_fails_when_store_cannot_grow(void **state)
{
	struct fx *f = *state;
	struct rec_new_batch *nb;
	struct rec_result res;
	struct rlimit saved, rl;
	struct stat sb;
	char data[160];
	void (*old_xfsz)(int);
	int r;

	test_skip_unless_lmdb("the full disk is LMDB's data file and its "
	    "size limit");
	nb = sodium_malloc(sizeof(*nb));
	assert_non_null(nb);
	generate(f, 5, T0);
	assert_int_equal(rec_issue_prepare(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 100, .now = T0 + 1,
	    .flags = REC_GEN_REPLACE }, nb, NULL), REC_OK);
	snprintf(data, sizeof(data), "%s/data.mdb", f->s.path);
	assert_int_equal(stat(data, &sb), 0);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
	rl = saved;
	rl.rlim_cur = (rlim_t)sb.st_size;
	old_xfsz = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
	r = rec_issue_stage(f->s.st, &f->s.cfg, &f->s.who, nb, T0 + 1, NULL);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
	signal(SIGXFSZ, old_xfsz);
	assert_int_not_equal(r, REC_OK);
	assert_int_equal(rec_issue_commit(f->s.st, &f->s.cfg, &f->s.who, nb,
	    T0 + 2, NULL), REC_ERR_CORRUPT);
	assert_int_equal(attempt(f, nb->codes[0], T0 + 2, &res),
	    REC_ERR_NOMATCH);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 2, &res), REC_OK);
	rec_new_batch_wipe(nb);
	sodium_free(nb);
}

static void craft(struct fx *, void (*)(struct rec_batch *),
    void (*)(struct rec_code_rec *));
static void mem_2t(struct rec_batch *b) { b->memlimit = 1ULL << 41; }

/* argon2id without its memory is a system error, never a wrong code. */
static void
test_nomem_is_refunded(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	struct rlimit saved;
	int r;

	generate(f, 3, T0);
	craft(f, mem_2t, NULL);
	/* A policy that allows the cost, so that argon2id is tried. */
	f->s.cfg.kdf_memlimit_max = 1ULL << 41;
	if (!cap_address_space(&saved)) {
		print_message("cannot cap the address space: skipped\n");
		skip();
	}
	r = attempt(f, f->s.nb.codes[0], T0, &res);
	assert_int_equal(setrlimit(RLIMIT_AS, &saved), 0);
	assert_int_equal(r, REC_ERR_NOMEM);
	assert_int_equal(status(f, T0).failures, 0);
	assert_int_equal(status(f, T0).remaining, 3);
}

static void
test_pepper(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	unsigned char pepper[REC_PEPPER_LEN], other[REC_PEPPER_LEN];

	randombytes_buf(pepper, sizeof(pepper));
	randombytes_buf(other, sizeof(other));
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .pepper = pepper, .count = 3, .now = T0 },
	    &f->s.nb, NULL), REC_OK);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0, &res),
	    REC_ERR_CONFIG);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .pepper = other,
	    .now = T0 }, &res), REC_ERR_NOMATCH);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .pepper = pepper,
	    .now = T0 }, &res), REC_OK);
}

static void
test_generate_cooldown(void **state)
{
	struct fx *f = *state;
	uint64_t wait = 0;

	assert_int_equal(rec_config_set(&f->s.cfg, "generate_cooldown", "60",
	    "test", 0, NULL), REC_OK);
	generate(f, 3, T0);
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = T0 + 10,
	    .flags = REC_GEN_REPLACE }, &f->s.nb, &wait), REC_ERR_COOLDOWN);
	assert_int_equal(wait, 50);
	/* The next generation escalates the cooldown to 120 s. */
	generate(f, 3, T0 + 61);
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = T0 + 131,
	    .flags = REC_GEN_REPLACE }, &f->s.nb, &wait), REC_ERR_COOLDOWN);
	assert_int_equal(wait, 120 - 70);
}

struct events {
	int used, generated, locked;
	unsigned slot;
};

static int
count_event(uint64_t seq, const struct rec_event *ev, void *varg)
{
	struct events *e = varg;

	(void)seq;
	if (ev->type == REC_EV_CODE_USED) {
		e->used++;
		e->slot = ev->slot;
	}
	e->generated += ev->type == REC_EV_GENERATED;
	e->locked += ev->type == REC_EV_LOCKED;
	return REC_OK;
}


static void
test_audit_trail(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	struct events e = { 0, 0, 0, 0 };

	generate(f, 5, T0);
	assert_int_equal(attempt(f, f->s.nb.codes[3], T0, &res), REC_OK);
	assert_int_equal(rec_store_event_each(f->s.st, NULL, 0, count_event, &e),
	    REC_OK);
	assert_int_equal(e.generated, 1);
	assert_int_equal(e.used, 1);
	assert_int_equal(e.slot, 4);
}

/* --- What a crafted batch can make the server do ---------------------- */

/* A change to the active batch (and its codes), as a user could write it. */
struct craft {
	void (*batch)(struct rec_batch *);
	void (*code)(struct rec_code_rec *);
};

static int
craft_txn(struct rec_txn *t, void *varg)
{
	struct craft *c = varg;
	struct rec_code_rec codes[REC_COUNT_MAX];
	struct rec_user u;
	struct rec_batch b;
	unsigned n = 0;
	int r;

	if ((r = rec_user_get(t, "alice", &u)) != REC_OK ||
	    (r = rec_batch_get(t, "alice", u.active_batch, &b)) != REC_OK ||
	    (r = rec_coderec_get_all(t, "alice", b.id, codes, REC_COUNT_MAX,
	    &n)) != REC_OK)
		return r;
	if (c->batch != NULL)
		c->batch(&b);
	for (unsigned i = 0; c->code != NULL && i < n; i++) {
		c->code(&codes[i]);
		if ((r = rec_coderec_put(t, "alice", b.id,
		    &codes[i])) != REC_OK)
			return r;
	}
	return rec_batch_put(t, "alice", &b);
}

/*
 * The same on the directory: alice's active batch read, changed, and
 * written again as it is then (testldap.h).  rec_store_batch_put writes
 * only a batch whose code records fit it.
 */
static int
craft_ldap(struct fx *f, const struct craft *c)
{
	struct rec_view *v = sodium_malloc(sizeof(*v));
	int r;

	assert_non_null(v);
	assert_int_equal(rec_store_view(f->s.st, "alice", REC_VIEW_CODES, v),
	    REC_OK);
	if (c->batch != NULL)
		c->batch(&v->batch);
	for (unsigned i = 0; c->code != NULL && i < v->ncodes; i++)
		c->code(&v->codes[i]);
	r = test_ldap_batch_rewrite(f->s.st, &f->s.cfg, "alice", &v->batch,
	    v->codes, v->ncodes);
	sodium_memzero(v, sizeof(*v));
	sodium_free(v);
	return r;
}

static void
craft(struct fx *f, void (*batch)(struct rec_batch *),
    void (*code)(struct rec_code_rec *))
{
	struct craft c = { batch, code };

	if (test_ldap_conf() != NULL)
		assert_int_equal(craft_ldap(f, &c), REC_OK);
	else
		assert_int_equal(rec_store_write(f->s.st, craft_txn, &c),
		    REC_OK);
}

static void no_tag(struct rec_batch *b) { b->tag_bits = 0; }
static void same_tag(struct rec_code_rec *c) { c->tag = 7; }
static void tag_3(struct rec_batch *b) { b->tag_bits = 3; }

/*
 * tag_bits 0 makes every code a candidate; tags all alike do the same with
 * a tag.  Either way an attempt costs one argon2id evaluation, and the one
 * candidate is the first unused code.
 */
static void
test_crafted_tags_one_eval(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	char code[REC_CODE_MAX + 1];

	assert_int_equal(rec_config_set(&f->s.cfg, "max_attempts", "1000",
	    "test", 0, NULL), REC_OK);
	generate(f, 100, T0);
	craft(f, no_tag, NULL);
	for (int i = 0; i < 5; i++) {
		wrong_code(f, code);
		assert_int_equal(attempt(f, code, T0, &res), REC_ERR_NOMATCH);
		assert_int_equal(res.kdf_evals, 1);
	}
	assert_int_equal(attempt(f, f->s.nb.codes[50], T0, &res),
	    REC_ERR_NOMATCH);
	assert_int_equal(res.kdf_evals, 1);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0, &res), REC_OK);
	assert_int_equal(res.kdf_evals, 1);
	assert_int_equal(attempt(f, f->s.nb.codes[1], T0, &res), REC_OK);
	assert_int_equal(res.slot, 2);

	generate(f, 100, T0 + 1);
	craft(f, tag_3, same_tag);
	for (int i = 0; i < 5; i++) {
		wrong_code(f, code);
		assert_int_equal(attempt(f, code, T0 + 1, &res),
		    REC_ERR_NOMATCH);
		assert_int_equal(res.kdf_evals, 1);
	}
}

/* Generation gives every code its own tag, even where the format is short. */
static void
test_generated_tags_distinct(void **state)
{
	struct fx *f = *state;
	struct rec_result res;

	/* 14 random base32 characters: 70 bits, 6 spare, 7 needed. */
	assert_int_equal(rec_config_set(&f->s.cfg, "code_length", "15", "test",
	    0, NULL), REC_OK);
	assert_int_equal(rec_config_set(&f->s.cfg, "max_attempts", "1000",
	    "test", 0, NULL), REC_OK);
	generate(f, 100, T0);
	assert_int_equal(f->s.nb.batch.tag_bits, 7);
	for (unsigned i = 0; i < 100; i++)
		for (unsigned j = 0; j < i; j++)
			assert_int_not_equal(f->s.nb.recs[i].tag,
			    f->s.nb.recs[j].tag);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(attempt(f, f->s.nb.codes[i], T0, &res),
		    REC_OK);
		assert_int_equal(res.kdf_evals, 1);
	}
}

static void ops_40(struct rec_batch *b) { b->opslimit = 40; }
static void ops_huge(struct rec_batch *b) { b->opslimit = 4294967295u; }
static void mem_4g(struct rec_batch *b) { b->memlimit = 4ULL << 30; }
static void ops_cheap(struct rec_batch *b) { b->opslimit = 1; }
static void short_fmt(struct rec_batch *b) { b->fmt.length = 9; }
static void future(struct rec_batch *b) { b->created = T0 + 3 * 86400; }
static void all_used(struct rec_batch *b) { b->used = b->count; }
static void fewer(struct rec_batch *b) { b->count = 5; }

/*
 * A batch outside the policy is refused before the prompt and before
 * anything is counted or hashed.
 */
static void
test_crafted_policy_refused(void **state)
{
	static const struct {
		const char *name;
		void (*batch)(struct rec_batch *);
		const char *key, *value;	/* the policy, or NULL */
		int want;
		const char *logged;
	} cases[] = {
		{ "opslimit 40", ops_40, NULL, NULL, REC_ERR_POLICY,
		    "opslimit 40 outside" },
		{ "opslimit 2^32-1", ops_huge, NULL, NULL, REC_ERR_POLICY,
		    "opslimit 4294967295 outside" },
		{ "memlimit 4 GiB", mem_4g, NULL, NULL, REC_ERR_POLICY,
		    "memlimit 4294967296 outside" },
		{ "cheaper than the floor", ops_cheap, "kdf_opslimit_min", "2",
		    REC_ERR_POLICY, "kdf_opslimit_min" },
		{ "9 characters", short_fmt, NULL, NULL, REC_ERR_POLICY,
		    "40.0 bits of entropy" },
		{ "created in the future", future, "code_expiry_days", "7",
		    REC_ERR_POLICY, "created in the future" },
		{ "counts say none left", all_used, NULL, NULL, REC_ERR_CORRUPT,
		    "do not match its counts" },
		{ "more codes than count", fewer, NULL, NULL, REC_ERR_CORRUPT,
		    "do not match its counts" },
	};
	struct fx *f = *state;
	struct rec_config base = f->s.cfg;
	struct rec_result res;
	struct rec_status s;
	struct capture c;
	struct rec_log log;

	/* The same store, opened again with a log the test can read. */
	capture_init(&c, &log);
	rec_store_close(f->s.st);
	f->s.st = NULL;
	assert_int_equal(test_store_reopen(f->s.path, 0, &log, &f->s.st),
	    REC_OK);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		/*
		 * The directory has no counters to contradict: a batch's
		 * counts are its code values (conf/ldap/README), and a
		 * batch whose values do not fit it cannot be written.
		 */
		if (cases[i].want == REC_ERR_CORRUPT && test_ldap_conf() != NULL)
			continue;
		f->s.cfg = base;
		generate(f, 10, T0 + i * 10);
		craft(f, cases[i].batch, NULL);
		if (cases[i].key != NULL)
			assert_int_equal(rec_config_set(&f->s.cfg, cases[i].key,
			    cases[i].value, "test", 0, NULL), REC_OK);
		capture_init(&c, &log);
		if (cases[i].want == REC_ERR_POLICY)
			assert_int_equal(rec_auth_status(f->s.st, &f->s.cfg,
			    "alice", T0, &s), REC_ERR_POLICY);
		if (attempt(f, f->s.nb.codes[0], T0 + i * 10, &res) !=
		    cases[i].want)
			fail_msg("%s: expected %d", cases[i].name,
			    cases[i].want);
		assert_int_equal(res.kdf_evals, 0);
		assert_logged(&c, cases[i].logged);
		f->s.cfg = base;
		/* Nothing counted, nothing consumed, no underflow. */
		f->s.cfg.kdf_opslimit_max = UINT32_MAX;
		f->s.cfg.kdf_memlimit_max = 4ULL << 30;
		f->s.cfg.code_min_entropy = 40;
		if (cases[i].want == REC_ERR_POLICY &&
		    cases[i].key == NULL) {
			s = status(f, T0 + i * 10);
			assert_int_equal(s.failures, 0);
			assert_int_equal(s.remaining, 10);
		}
	}
	f->s.cfg = base;
}

/* The lifetime of the policy ends batches that were made without one. */
static void
test_policy_expiry(void **state)
{
	struct fx *f = *state;
	struct rec_result res;

	generate(f, 5, T0);
	assert_int_equal(f->s.nb.batch.expires, 0);
	assert_int_equal(rec_config_set(&f->s.cfg, "code_expiry_days", "2",
	    "test", 0, NULL), REC_OK);
	assert_int_equal(status(f, T0).expires, T0 + 2 * 86400);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 2 * 86400 - 1, &res),
	    REC_OK);
	assert_int_equal(attempt(f, f->s.nb.codes[1], T0 + 2 * 86400, &res),
	    REC_ERR_EXPIRED);
	assert_true(status(f, T0 + 2 * 86400).expired);
	/* Nor can new codes be made to last longer, or forever. */
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = T0 + 5,
	    .flags = REC_GEN_REPLACE }, &f->s.nb, NULL), REC_ERR_POLICY);
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .expires_days = 3,
	    .now = T0 + 5, .flags = REC_GEN_REPLACE }, &f->s.nb, NULL),
	    REC_ERR_POLICY);
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .expires_days = 1,
	    .now = T0 + 5, .flags = REC_GEN_REPLACE }, &f->s.nb, NULL), REC_OK);
}

/* The event types of the trail, in sequence order. */
struct trail {
	uint8_t type[32];
	unsigned n;
};

static int
trail_event(uint64_t seq, const struct rec_event *ev, void *varg)
{
	struct trail *tr = varg;

	(void)seq;
	if (tr->n < sizeof(tr->type))
		tr->type[tr->n] = ev->type;
	tr->n++;
	return REC_OK;
}


/*
 * Issue #15: five failures lock; the lock is audited after the rejection
 * that set it.  After the cooldown a valid code succeeds: phase 1 counted
 * it as a failure that would lock again, but no lock ever held, so none is
 * audited.  A wrong code after the cooldown does lock again, and says so.
 */
static void
test_audit_lock_only_when_it_held(void **state)
{
	static const uint8_t want[] = {
		REC_EV_GENERATED,
		REC_EV_CODE_REJECTED, REC_EV_CODE_REJECTED,
		REC_EV_CODE_REJECTED, REC_EV_CODE_REJECTED,
		REC_EV_CODE_REJECTED, REC_EV_LOCKED,
		REC_EV_CODE_USED,
	};
	struct fx *f = *state;
	struct rec_result res;
	struct trail tr;
	char code[REC_CODE_MAX + 1];

	generate(f, 10, T0);
	for (int i = 1; i <= 5; i++) {
		wrong_code(f, code);
		assert_int_equal(attempt(f, code, T0 + (uint64_t)i, &res),
		    REC_ERR_NOMATCH);
	}
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 70, &res), REC_OK);
	assert_false(res.locked_now);
	/* The fifth failure is a used code: rejected, then locked. */
	for (int i = 1; i <= 4; i++) {
		wrong_code(f, code);
		assert_int_equal(attempt(f, code, T0 + 100, &res),
		    REC_ERR_NOMATCH);
	}
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(rec_store_event_each(f->s.st, NULL, 0, trail_event, &tr),
	    REC_OK);
	assert_int_equal(tr.n, 12);
	assert_int_equal(attempt(f, f->s.nb.codes[0], T0 + 100, &res),
	    REC_ERR_USED);
	assert_true(res.locked_now);
	memset(&tr, 0, sizeof(tr));
	assert_int_equal(rec_store_event_each(f->s.st, NULL, 0, trail_event, &tr),
	    REC_OK);
	assert_int_equal(tr.n, 14);
	for (unsigned i = 0; i < sizeof(want); i++)
		assert_int_equal(tr.type[i], want[i]);
	assert_int_equal(tr.type[tr.n - 3], REC_EV_CODE_REJECTED);
	assert_int_equal(tr.type[tr.n - 2], REC_EV_CODE_REJECTED);
	assert_int_equal(tr.type[tr.n - 1], REC_EV_LOCKED);
}

/*
 * A login as the store helper makes it (issue #14): the status before the
 * prompt, then the attempt with that status.  The attempt reads the user
 * and the batch once more for the count before the hash and once for the
 * consumption, each under its own write lock: three reads of each, where
 * an attempt that reads the status again makes four.
 */
static void
test_login_reads(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	struct rec_status s;

	test_skip_unless_lmdb("it counts LMDB's record readers (--wrap)");

	generate(f, 10, T0);
	user_reads = batch_reads = 0;
	assert_int_equal(rec_auth_status(f->s.st, &f->s.cfg, "alice", T0, &s),
	    REC_OK);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .now = T0,
	    .status = &s }, &res), REC_OK);
	assert_int_equal(res.remaining, 9);
	assert_int_equal(user_reads, 3);
	assert_int_equal(batch_reads, 3);
	/* The same login with an attempt that reads the status again. */
	user_reads = batch_reads = 0;
	assert_int_equal(rec_auth_status(f->s.st, &f->s.cfg, "alice", T0, &s),
	    REC_OK);
	assert_int_equal(attempt(f, f->s.nb.codes[1], T0, &res), REC_OK);
	assert_int_equal(user_reads, 4);
	assert_int_equal(batch_reads, 4);
}

/* Lock the codes of f's user at now with five wrong codes. */
static void
lock_up(struct fx *f, uint64_t now)
{
	struct rec_result res;
	char code[REC_CODE_MAX + 1];

	for (int i = 0; i < 5; i++) {
		wrong_code(f, code);
		assert_int_equal(attempt(f, code, now, &res), REC_ERR_NOMATCH);
	}
	assert_int_equal(res.lock_remaining, 60);
}

/*
 * A status read before the prompt may be stale by the time the code is
 * typed.  A lock set since is still enforced (the count re-reads under the
 * write lock), and neither hashes nor consumes; a lock it showed that ran
 * out meanwhile is read again, not enforced from the old copy.
 */
static void
test_stale_status(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	struct rec_status s;

	generate(f, 10, T0);
	s = status(f, T0);
	assert_int_equal(s.lock_remaining, 0);
	lock_up(f, T0 + 1);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .now = T0 + 2,
	    .status = &s }, &res), REC_ERR_LOCKED);
	assert_int_equal(res.kdf_evals, 0);
	assert_true(res.lock_remaining > 0);
	assert_int_equal(status(f, T0 + 2).remaining, 10);
	/* Locked when read; typed after the lock ran out. */
	s = status(f, T0 + 2);
	assert_true(s.lock_remaining > 0);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .now = T0 + 100,
	    .status = &s }, &res), REC_OK);
	assert_int_equal(res.remaining, 9);
}

/*
 * The batch was replaced between the status and the attempt: a code of
 * the old batch is refused as the new batch judges it, a code of the new
 * one accepted; a user enrolled since is tried as not enrolled.
 */
static void
test_status_of_replaced_batch(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	struct rec_status s;
	char old[REC_CODE_MAX + 1];

	s = status(f, T0);
	assert_false(s.enrolled);
	generate(f, 10, T0);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .now = T0,
	    .status = &s }, &res), REC_ERR_NOSTORE);
	assert_int_equal(res.kdf_evals, 1);
	assert_int_equal(status(f, T0).remaining, 10);
	s = status(f, T0);
	memcpy(old, f->s.nb.codes[0], sizeof(old));
	generate(f, 10, T0 + 10);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = old, .now = T0 + 10,
	    .status = &s }, &res), REC_ERR_NOMATCH);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = f->s.nb.codes[0], .now = T0 + 10,
	    .status = &s }, &res), REC_OK);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_success_then_reuse, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_eval_10, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_one_eval_100, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_not_enrolled_costs_one_eval, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_malformed_not_counted, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_lockout_escalates_and_clears, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_clock_backwards, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_clock_back_lock_ends, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_clock_back_generate_cooldown, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_clock_back_read_only, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_verify_only_does_not_consume, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_invalidate, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_last_used_of_active_batch, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_invalidate_audits_true_count, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_expired, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_regenerate, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_stage_commit_discard, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_stage_fails_when_store_cannot_grow, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_nomem_is_refunded, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_pepper, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_generate_cooldown, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_trail, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_crafted_tags_one_eval, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_generated_tags_distinct, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_crafted_policy_refused, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_policy_expiry, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_audit_lock_only_when_it_held, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_login_reads, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_stale_status, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_status_of_replaced_batch, setup, store_fx_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
