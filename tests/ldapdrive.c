/* SPDX-License-Identifier: BSD-2-Clause */
/* ldapdrive.c: one operation of the directory client per run (tests only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "rec_auth.h"
#include "rec_code.h"
#include "rec_config.h"
#include "rec_err.h"
#include "rec_kdf.h"
#include "rec_ldap.h"
#include "rec_store_ldap.h"

/*
 * usage: ldapdrive CONF ping
 *        ldapdrive CONF pause-read USER   (bind, "bound", a stdin line, read)
 *        ldapdrive CONF gen USER N        (prints the N codes, one a line)
 *        ldapdrive CONF login USER CODE   (count, hash one candidate, consume)
 *        ldapdrive CONF count USER        (prints this attempt's count)
 *        ldapdrive CONF refund USER       (count one, then give it back)
 *        ldapdrive CONF clear USER
 *        ldapdrive CONF take-generate USER   ("ok" or "cooldown N")
 *        ldapdrive CONF status USER
 *        ldapdrive CONF invalidate USER SLOT ACTOR
 *        ldapdrive CONF audit USER TYPE SERVICE
 *        ldapdrive CONF events USER
 *        ldapdrive CONF auth USER CODE    (the module's login, layer 4)
 *        ldapdrive CONF verify USER CODE  (the same, testing the code only)
 *        ldapdrive CONF view USER         (rec_store_view)
 *        ldapdrive CONF mark USER SLOT used|verify [expired]
 *                                         (rec_store_code_mark)
 *        ldapdrive CONF lock USER login|gen|both [create]
 *                                         (rec_store_lock_update)
 * Prints "ok ...", or "error REASON (SENTENCE)" (rec_err_reason,
 * rec_strerror) and exits 2 for a store error; login prints "used",
 * "invalidated", "nomatch" or "locked" and count "locked", and exit 3.
 * auth and verify go through the store interface (rec_store_open_ldap)
 * as the store helper does: rec_auth_status, then rec_auth_attempt; they
 * print "ok slot N remaining R", or the refusal ("used", "invalidated",
 * "nomatch", "locked", "expired", "malformed", "notenrolled", exit 3),
 * then "kdf_evals=N", the argon2id evaluations the attempt reported.
 * mark marks a code of the active batch (expired: the batch's end by the
 * policy passed a second ago) and prints "outcome WORD remaining N"; lock
 * counts one failure in each state asked for, both in one update, and
 * prints "ok login N gen N", the failures as written.
 * Every run prints "elapsed_ms=N" on stderr.  The kdf costs of CONF are used
 * as they are (tests set tiny ones).  As a host would: what is read comes
 * from ldap_uri, every change (and the count before it) goes to
 * ldap_write_uri when that is set, over a second connection.
 */

static void
log_stderr(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	fprintf(stderr, "ldapdrive: %s\n", msg);
}

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static int
fail(int r)
{
	printf("error %s (%s)\n", rec_err_reason(r), rec_strerror(r));
	return 2;
}

/* A batch of n codes with distinct tags, as rec_issue_generate makes them. */
static int
gen(struct rec_ldap *c, const struct rec_config *cfg, const char *user,
    unsigned n)
{
	static struct rec_code_rec codes[REC_COUNT_MAX];
	static char text[REC_COUNT_MAX][REC_CODE_MAX + 1];
	struct rec_batch b;
	uint64_t now = (uint64_t)time(NULL);
	uint32_t rnd;
	int r;

	if (n == 0 || n > REC_COUNT_MAX)
		return REC_ERR_USAGE;
	memset(&b, 0, sizeof(b));
	randombytes_buf(&rnd, sizeof(rnd));
	b.id = now << 24 | (rnd & 0xffffff);
	b.status = REC_BATCH_ACTIVE;
	b.created = b.modified = now;
	b.count = (uint16_t)n;
	b.opslimit = cfg->kdf_opslimit;
	b.memlimit = cfg->kdf_memlimit;
	rec_config_format(cfg, &b.fmt);
	b.tag_bits = (uint8_t)rec_format_batch_tag_bits(&b.fmt, n);
	randombytes_buf(b.tag_key, sizeof(b.tag_key));
	for (unsigned i = 0; i < n; i++) {
		unsigned j;

		do {
			rec_code_generate(&b.fmt, text[i]);
			codes[i].tag = rec_kdf_tag(text[i], NULL, b.tag_key,
			    b.tag_bits);
			for (j = 0; j < i && (b.tag_bits == 0 ||
			    codes[j].tag != codes[i].tag); j++)
				;
		} while (j < i);
		codes[i].slot = (uint8_t)(i + 1);
		codes[i].state = REC_CODE_UNUSED;
		randombytes_buf(codes[i].salt, REC_SALT_LEN);
		if ((r = rec_kdf_hash(text[i], NULL, codes[i].salt, b.opslimit,
		    b.memlimit, codes[i].hash)) != REC_OK)
			return r;
	}
	if ((r = rec_ldap_write_batch(c, user, &b, codes, n, now)) != REC_OK)
		return r;
	for (unsigned i = 0; i < n; i++)
		printf("%s\n", text[i]);
	return REC_OK;
}

/*
 * The login path of the module, in small: count (on the writer), read the
 * codes (on the reader, perhaps a replica), one hash, consume and clear
 * (on the writer).
 */
static int
login(struct rec_ldap *rd, struct rec_ldap *wr, const struct rec_config *cfg,
    const char *user, const char *input)
{
	static struct rec_ldap_user st;
	struct rec_lock counted;
	char code[REC_CODE_MAX + 1];
	uint8_t h[REC_HASH_LEN];
	uint16_t tag;
	unsigned pick = REC_COUNT_MAX;
	int r;

	if ((r = rec_ldap_count_attempt(wr, user, (uint64_t)time(NULL), cfg,
	    NULL, &counted)) == REC_ERR_LOCKED) {
		printf("locked\n");
		return 3;
	}
	if (r != REC_OK || (r = rec_ldap_read_user(rd, user, &st)) != REC_OK)
		return fail(r);
	if (!st.have_batch || rec_code_normalise(&st.batch.fmt, input, code) !=
	    REC_OK)
		return fail(REC_ERR_NOSTORE);
	/* An unused code with the tag, else a used one: reuse shows as such. */
	tag = rec_kdf_tag(code, NULL, st.batch.tag_key, st.batch.tag_bits);
	for (unsigned i = 0; i < st.ncodes; i++) {
		if (st.batch.tag_bits != 0 && st.codes[i].tag != tag)
			continue;
		if (pick == REC_COUNT_MAX || (st.codes[pick].state !=
		    REC_CODE_UNUSED && st.codes[i].state == REC_CODE_UNUSED))
			pick = i;
	}
	if (pick == REC_COUNT_MAX) {
		/* One hash all the same, as for a wrong code. */
		(void)rec_kdf_dummy(cfg->kdf_opslimit, cfg->kdf_memlimit);
		printf("nomatch\n");
		return 3;
	}
	if ((r = rec_kdf_hash(code, NULL, st.codes[pick].salt,
	    st.batch.opslimit, st.batch.memlimit, h)) != REC_OK)
		return fail(r);
	if (!rec_kdf_equal(h, st.codes[pick].hash)) {
		printf("nomatch\n");
		return 3;
	}
	if (st.codes[pick].state != REC_CODE_UNUSED) {
		printf("%s\n", st.codes[pick].state == REC_CODE_USED ? "used" :
		    "invalidated");
		return 3;
	}
	r = rec_ldap_mark_code(wr, user, &st.batch, &st.codes[pick],
	    REC_CODE_USED, (uint64_t)time(NULL), cfg->host_name);
	if (r == REC_ERR_USED || r == REC_ERR_INVALIDATED) {
		printf("%s\n", r == REC_ERR_USED ? "used" : "invalidated");
		return 3;
	}
	if (r != REC_OK || (r = rec_ldap_clear_lock(wr, user)) != REC_OK ||
	    (r = rec_ldap_note_use(wr, user, (uint64_t)time(NULL))) != REC_OK)
		return fail(r);
	printf("ok slot %u\n", st.codes[pick].slot);
	return 0;
}

static int
status(struct rec_ldap *c, const char *user)
{
	static struct rec_ldap_user st;
	unsigned n[3] = { 0, 0, 0 };
	int r;

	if ((r = rec_ldap_read_user(c, user, &st)) != REC_OK)
		return fail(r);
	for (unsigned i = 0; i < st.ncodes; i++)
		n[st.codes[i].state]++;
	printf("ok batch %d count %u unused %u used %u invalid %u "
	    "failures %u locked_until %llu last_used %s\n", st.have_batch,
	    st.have_batch ? st.batch.count : 0, n[0], n[1], n[2],
	    st.user.lock.failures,
	    (unsigned long long)st.user.lock.locked_until,
	    st.user.last_used != 0 ? "set" : "never");
	return 0;
}

static int
invalidate(struct rec_ldap *rd, struct rec_ldap *wr, const char *user,
    unsigned slot, const char *actor)
{
	static struct rec_ldap_user st;
	int r;

	if ((r = rec_ldap_read_user(rd, user, &st)) != REC_OK)
		return fail(r);
	for (unsigned i = 0; i < st.ncodes; i++)
		if (st.codes[i].slot == slot) {
			r = rec_ldap_mark_code(wr, user, &st.batch,
			    &st.codes[i], REC_CODE_INVALID,
			    (uint64_t)time(NULL), actor);
			if (r != REC_OK)
				return fail(r);
			printf("ok\n");
			return 0;
		}
	return fail(REC_ERR_NOTFOUND);
}

static int
print_event(const struct rec_event *ev, const char *host, void *arg)
{
	(void)arg;
	printf("event %s host=%s service=%s actor=%s\n",
	    rec_event_name(ev->type), host, ev->service, ev->actor);
	return REC_OK;
}

static int
run(struct rec_ldap *rd, struct rec_ldap *wr, const struct rec_config *cfg,
    int argc, char **argv)
{
	const char *cmd = argv[2], *user = argc > 3 ? argv[3] : "";
	struct rec_lock before, counted;
	struct rec_event ev;
	char line[16];
	int r;

	if (strcmp(cmd, "ping") == 0) {
		printf("ok\n");
		return 0;
	}
	if (strcmp(cmd, "pause-read") == 0 && argc == 4) {
		printf("bound\n");
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL)
			return 1;
		return status(rd, user);
	}
	if (strcmp(cmd, "gen") == 0 && argc == 5)
		return (r = gen(wr, cfg, user, (unsigned)atoi(argv[4]))) ==
		    REC_OK ? 0 : fail(r);
	if (strcmp(cmd, "login") == 0 && argc == 5)
		return login(rd, wr, cfg, user, argv[4]);
	if (strcmp(cmd, "count") == 0 && argc == 4) {
		r = rec_ldap_count_attempt(wr, user, (uint64_t)time(NULL), cfg,
		    NULL, &counted);
		if (r == REC_ERR_LOCKED) {
			printf("locked\n");
			return 3;
		}
		if (r != REC_OK)
			return fail(r);
		printf("ok %u\n", counted.failures);
		return 0;
	}
	if (strcmp(cmd, "refund") == 0 && argc == 4) {
		if ((r = rec_ldap_count_attempt(wr, user, (uint64_t)time(NULL),
		    cfg, &before, &counted)) != REC_OK ||
		    (r = rec_ldap_refund(wr, user, &before, &counted)) !=
		    REC_OK)
			return fail(r);
		printf("ok\n");
		return 0;
	}
	if (strcmp(cmd, "take-generate") == 0 && argc == 4) {
		uint64_t wait = 0;

		r = rec_ldap_take_generate(wr, user, (uint64_t)time(NULL), cfg,
		    &wait);
		if (r == REC_ERR_COOLDOWN) {
			printf("cooldown %llu\n", (unsigned long long)wait);
			return 3;
		}
		return r == REC_OK ? (printf("ok\n"), 0) : fail(r);
	}
	if (strcmp(cmd, "clear") == 0 && argc == 4)
		return (r = rec_ldap_clear_lock(wr, user)) == REC_OK ?
		    (printf("ok\n"), 0) : fail(r);
	if (strcmp(cmd, "status") == 0 && argc == 4)
		return status(rd, user);
	if (strcmp(cmd, "invalidate") == 0 && argc == 6)
		return invalidate(rd, wr, user, (unsigned)atoi(argv[4]),
		    argv[5]);
	if (strcmp(cmd, "audit") == 0 && argc == 6) {
		memset(&ev, 0, sizeof(ev));
		ev.time = (uint64_t)time(NULL);
		for (unsigned t = REC_EV_CODE_USED; t <= REC_EV_FORGOTTEN; t++)
			if (strcmp(rec_event_name(t), argv[4]) == 0)
				ev.type = (uint8_t)t;
		snprintf(ev.user, sizeof(ev.user), "%s", user);
		snprintf(ev.service, sizeof(ev.service), "%s", argv[5]);
		snprintf(ev.actor, sizeof(ev.actor), "tester");
		if ((r = rec_ldap_audit(wr, &ev, cfg->host_name)) != REC_OK)
			return fail(r);
		printf("ok\n");
		return 0;
	}
	if (strcmp(cmd, "events") == 0 && argc == 4)
		return (r = rec_ldap_each_event(rd, user, print_event, NULL)) ==
		    REC_OK ? 0 : fail(r);
	fprintf(stderr, "ldapdrive: bad command line\n");
	return 1;
}

/* Refusals of an attempt, as the words the tests look for. */
static const char *
refusal(int r)
{
	switch (r) {
	case REC_ERR_USED:		return "used";
	case REC_ERR_INVALIDATED:	return "invalidated";
	case REC_ERR_NOMATCH:		return "nomatch";
	case REC_ERR_LOCKED:		return "locked";
	case REC_ERR_EXPIRED:		return "expired";
	case REC_ERR_MALFORMED:		return "malformed";
	case REC_ERR_NOSTORE:		return "notenrolled";
	}
	return NULL;
}

/*
 * What the store helper does for one login (store_helper.c): the status
 * before the prompt, then the attempt with it, on the directory store.
 */
static int
store_auth(struct rec_store *st, const struct rec_config *cfg,
    const char *user, const char *input, unsigned flags)
{
	struct rec_who who = { .user = user, .service = "ldapdrive",
	    .rhost = "192.0.2.1" };
	struct rec_status s;
	struct rec_result res;
	const char *word;
	int r, rc;

	memset(&res, 0, sizeof(res));
	if ((r = rec_auth_status(st, cfg, user, (uint64_t)time(NULL), &s)) !=
	    REC_OK)
		return fail(r);
	r = rec_auth_attempt(st, cfg, &who, &(struct rec_attempt){
	    .input = input, .now = (uint64_t)time(NULL), .flags = flags,
	    .status = &s }, &res);
	if (r == REC_OK) {
		printf("ok slot %u remaining %u\n", res.slot, res.remaining);
		rc = 0;
	} else if ((word = refusal(r)) != NULL) {
		printf("%s\n", word);
		rc = 3;
	} else
		rc = fail(r);
	printf("kdf_evals=%u\n", res.kdf_evals);
	return rc;
}

/* One view through the store interface, as a status reads it. */
static int
store_view(struct rec_store *st, const char *user)
{
	struct rec_view *v;
	unsigned n[3] = { 0, 0, 0 };
	int r;

	if ((v = sodium_malloc(sizeof(*v))) == NULL)
		return fail(REC_ERR_NOMEM);
	if ((r = rec_store_view(st, user, REC_VIEW_CODES, v)) != REC_OK) {
		sodium_free(v);
		return fail(r);
	}
	for (unsigned i = 0; i < v->ncodes; i++)
		n[v->codes[i].state < 3 ? v->codes[i].state : 0]++;
	printf("ok batch %d codes %u unused %u used %u invalid %u "
	    "verified %s failures %u locked_until %llu last_used %s "
	    "counted used %u invalid %u\n",
	    v->have_batch, v->ncodes, n[0], n[1], n[2],
	    v->batch.verified != 0 ? "set" : "never", v->user.lock.failures,
	    (unsigned long long)v->user.lock.locked_until,
	    v->user.last_used != 0 ? "set" : "never", v->batch.used,
	    v->batch.invalidated);
	sodium_memzero(v, sizeof(*v));
	sodium_free(v);
	return 0;
}

static int
mark(struct rec_store *st, const char *user, unsigned slot, const char *to,
    int expired)
{
	struct rec_view *v;
	struct rec_code_mark m;
	const char *word;
	unsigned remaining = 0;
	int r, outcome = REC_ERR_INTERNAL;

	if ((v = sodium_malloc(sizeof(*v))) == NULL)
		return fail(REC_ERR_NOMEM);
	r = rec_store_view(st, user, 0, v);
	memset(&m, 0, sizeof(m));
	m.user = user;
	m.batch = v->batch.id;
	m.slot = slot;
	m.to = strcmp(to, "verify") == 0 ? REC_MARK_VERIFY : REC_MARK_USED;
	m.now = (uint64_t)time(NULL);
	m.expires = expired ? m.now - 1 : 0;
	sodium_memzero(v, sizeof(*v));
	sodium_free(v);
	if (r != REC_OK || (r = rec_store_code_mark(st, &m, NULL, NULL,
	    &outcome, &remaining)) != REC_OK)
		return fail(r);
	word = outcome == REC_OK ? "ok" : refusal(outcome);
	printf("outcome %s remaining %u\n", word != NULL ? word : "?",
	    remaining);
	return 0;
}

/* One more failure in the state asked for, as a pre-count would write. */
static int
count_one(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *arg)
{
	(void)which;
	(void)v;
	(void)arg;
	lk->failures++;
	lk->last_fail = (uint64_t)time(NULL);
	return REC_OK;
}

static int
lock(struct rec_store *st, const char *user, const char *which, int create)
{
	struct rec_user u;
	unsigned w = strcmp(which, "login") == 0 ? REC_LOCK_LOGIN :
	    strcmp(which, "gen") == 0 ? REC_LOCK_GEN :
	    REC_LOCK_LOGIN | REC_LOCK_GEN;
	int r;

	if ((r = rec_store_lock_update(st, user, w, create ? REC_WRITE_CREATE :
	    0, count_one, NULL, NULL, &u)) != REC_OK)
		return fail(r);
	printf("ok login %u gen %u\n", u.lock.failures, u.gen.failures);
	return 0;
}

/* The commands that go through the store interface; -1: not one of them. */
static int
run_store(const struct rec_config *cfg, const struct rec_log *log, int argc,
    char **argv)
{
	const char *cmd = argv[2];
	struct rec_store *st = NULL;
	int r, rc;

	if (!((strcmp(cmd, "auth") == 0 && argc == 5) ||
	    (strcmp(cmd, "verify") == 0 && argc == 5) ||
	    (strcmp(cmd, "view") == 0 && argc == 4) ||
	    (strcmp(cmd, "mark") == 0 && (argc == 6 || argc == 7)) ||
	    (strcmp(cmd, "lock") == 0 && (argc == 5 || argc == 6))))
		return -1;
	if ((r = rec_store_open_ldap(cfg, 0, log, &st)) != REC_OK)
		return fail(r);
	if (strcmp(cmd, "view") == 0)
		rc = store_view(st, argv[3]);
	else if (strcmp(cmd, "mark") == 0)
		rc = mark(st, argv[3], (unsigned)atoi(argv[4]), argv[5],
		    argc == 7 && strcmp(argv[6], "expired") == 0);
	else if (strcmp(cmd, "lock") == 0)
		rc = lock(st, argv[3], argv[4],
		    argc == 6 && strcmp(argv[5], "create") == 0);
	else
		rc = store_auth(st, cfg, argv[3], argv[4],
		    strcmp(cmd, "verify") == 0 ? REC_ATTEMPT_TEST : 0);
	rec_store_close(st);
	return rc;
}

int
main(int argc, char **argv)
{
	struct rec_log log = { log_stderr, NULL, 0 };
	struct rec_config cfg;
	struct rec_ldap *rd = NULL, *wr = NULL;
	uint64_t t0 = now_ms();
	int r, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: ldapdrive CONF COMMAND [ARGS...]\n");
		return 1;
	}
	if (sodium_init() < 0)
		return 1;
	rec_config_defaults(&cfg);
	if ((r = rec_config_load(&cfg, argv[1], &log)) != REC_OK)
		return fail(r);
	if ((rc = run_store(&cfg, &log, argc, argv)) >= 0) {
		fprintf(stderr, "elapsed_ms=%llu\n",
		    (unsigned long long)(now_ms() - t0));
		return rc;
	}
	/* One connection serves both unless writes go elsewhere. */
	r = rec_ldap_open(&cfg, 1, &log, &wr);
	if (r == REC_OK && cfg.ldap_write_uri[0] != '\0' &&
	    strcmp(cfg.ldap_write_uri, cfg.ldap_uri) != 0)
		r = rec_ldap_open(&cfg, 0, &log, &rd);
	else
		rd = wr;
	if (r != REC_OK)
		rc = fail(r);
	else
		rc = run(rd, wr, &cfg, argc, argv);
	if (rd != wr)
		rec_ldap_close(rd);
	rec_ldap_close(wr);
	fprintf(stderr, "elapsed_ms=%llu\n",
	    (unsigned long long)(now_ms() - t0));
	return rc;
}
