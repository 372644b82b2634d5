/* SPDX-License-Identifier: BSD-2-Clause */
/* test_faults.c: damaged records, map growth and a missing pepper. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lmdb.h>
#include <security/pam_appl.h>
#include <sodium.h>

#include "rec_err.h"
#include "rec_issue.h"
#include "testutil.h"

/*
 * Faults covered elsewhere: the clock moving backwards during a lock is
 * test_clock_backwards in test_auth.c and the "clock moved back" rows of
 * test_lockout.c; argon2id running out of memory is test_nomem_is_refunded
 * in test_auth.c (and, through the module, tests/e2e_faults.sh).
 */

#define T0 1800000000ULL	/* a fixed "now"; tests never read the clock */
#define MAP_INITIAL (8UL << 20)	/* rec_store_lmdb.c's first map size */

struct fx {
	char dir[64];
	char path[160];		/* the store: dir/USER.store */
	char user[64];
	struct capture cap;
	struct rec_log log;
	struct rec_config cfg;
	struct rec_store *st;
	struct rec_new_batch nb;
	struct rec_who who;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct passwd *pw = getpwuid(getuid());

	assert_non_null(f);
	assert_non_null(pw);
	assert_true(strlen(pw->pw_name) < sizeof(f->user));
	snprintf(f->user, sizeof(f->user), "%s", pw->pw_name);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_faults.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/%s.store", f->dir, f->user);
	capture_init(&f->cap, &f->log);
	tiny_config(&f->cfg);
	assert_int_equal(rec_store_open(f->path, getuid(), REC_STORE_CREATE,
	    &f->log, &f->st), REC_OK);
	f->who.user = f->user;
	f->who.service = "test";
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int r;

	rec_store_close(f->st);
	rec_new_batch_wipe(&f->nb);
	r = tmpdir_remove(f->dir);
	free(f);
	return r;
}

static void
generate(struct fx *f, unsigned n, const unsigned char *pepper)
{
	assert_int_equal(rec_issue_generate(f->st, &f->cfg, &f->who,
	    &(struct rec_issue_req){ .pepper = pepper, .count = n, .now = T0,
	    .flags = REC_GEN_REPLACE }, &f->nb, NULL), REC_OK);
}

static int
attempt(struct fx *f, const char *code, const unsigned char *pepper,
    uint64_t now, struct rec_result *res)
{
	return rec_auth_attempt(f->st, &f->cfg, &f->who,
	    &(struct rec_attempt){ .input = code, .pepper = pepper,
	    .now = now }, res);
}

static struct rec_status
status(struct fx *f)
{
	struct rec_status s;

	assert_int_equal(rec_auth_status(f->st, &f->cfg, f->user, T0, &s),
	    REC_OK);
	return s;
}

/* A well-formed code that no batch holds (2^-95 chance of a clash). */
static void
wrong_code(const struct fx *f, char *out)
{
	struct rec_format fmt;

	rec_config_format(&f->cfg, &fmt);
	rec_code_generate(&fmt, out);
}

/*
 * ---- Raw LMDB access, to plant what the core would never write. ----
 * LMDB must not open one environment twice in a process, so the fixture's
 * store is closed around every raw access.
 */

static void
store_close(struct fx *f)
{
	rec_store_close(f->st);
	f->st = NULL;
}

static void
store_open(struct fx *f)
{
	assert_null(f->st);
	assert_int_equal(rec_store_open(f->path, getuid(), 0, &f->log, &f->st),
	    REC_OK);
}

/* Read (val == NULL: nothing) and/or replace one record; *len in and out. */
static void
raw(struct fx *f, const char *db, const void *key, size_t klen, void *out,
    size_t *outlen, const void *val, size_t vlen)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	MDB_val k = { klen, (void *)key }, v;

	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_set_maxdbs(env, 8), 0);
	assert_int_equal(mdb_env_open(env, f->path, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, db, 0, &dbi), 0);
	if (out != NULL) {
		assert_int_equal(mdb_get(txn, dbi, &k, &v), 0);
		assert_true(v.mv_size <= *outlen);
		memcpy(out, v.mv_data, v.mv_size);
		*outlen = v.mv_size;
	}
	if (val != NULL) {
		v.mv_size = vlen;
		v.mv_data = (void *)val;
		assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	}
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
}

/* Keys as rec_store_lmdb_access.c makes them: user [NUL batch(8, BE) [slot]]. */
static size_t
make_key(const struct fx *f, uint8_t *key, const uint64_t *batch, int slot)
{
	size_t n = strlen(f->user);

	memcpy(key, f->user, n);
	if (batch == NULL)
		return n;
	key[n++] = '\0';
	for (int i = 0; i < 8; i++)
		key[n++] = (uint8_t)(*batch >> (56 - 8 * i));
	if (slot > 0)
		key[n++] = (uint8_t)slot;
	return n;
}

/* ---- Driving the built module through libpam, in this process. ---- */

struct answer {
	const char *code;
	int prompts;
};

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct answer *a = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++)
		if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF ||
		    msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
			a->prompts++;
			r[i].resp = strdup(a->code);
		}
	*resp = r;
	return PAM_SUCCESS;
}

/*
 * pam_authenticate with the built module ($B/pam_recovery.so, as
 * test_module.c finds it) on this fixture's store.  The fixture's own
 * environment is closed meanwhile.
 */
static int
module_auth(struct fx *f, const char *code, int *prompts)
{
	char path[256], mod[4096], rel[4096], helper[4096];
	const char *b = getenv("B");
	struct answer a = { code, 0 };
	struct pam_conv pc = { conv, &a };
	pam_handle_t *pamh = NULL;
	FILE *fp;
	int r, reopen = f->st != NULL;

	store_close(f);
	snprintf(rel, sizeof(rel), "%s/pam-recovery-store", b != NULL ? b : "build");
	assert_non_null(realpath(rel, helper));
	snprintf(rel, sizeof(rel), "%s/pam_recovery.so", b != NULL ? b : "build");
	assert_non_null(realpath(rel, mod));
	snprintf(path, sizeof(path), "%s/conf", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "store = %s/%%u.store\nkdf_opslimit = 1\nkdf_memlimit = 8K\n"
	    "store_helper = %s\n", f->dir, helper);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, 0644), 0);
	snprintf(path, sizeof(path), "%s/pam.d", f->dir);
	if (mkdir(path, 0755) == -1)
		assert_true(access(path, F_OK) == 0);
	snprintf(path, sizeof(path), "%s/pam.d/faults", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fprintf(fp, "auth required %s conf=%s/conf\n", mod, f->dir);
	assert_int_equal(fclose(fp), 0);
	snprintf(path, sizeof(path), "%s/pam.d", f->dir);
	assert_int_equal(pam_start_confdir("faults", f->user, &pc, path, &pamh),
	    PAM_SUCCESS);
	r = pam_authenticate(pamh, 0);
	pam_end(pamh, r);
	if (prompts != NULL)
		*prompts = a.prompts;
	if (reopen)
		store_open(f);
	return r;
}

/* ---- Records of an unknown version, short or long: corrupt. ---- */

/*
 * Replace the user's record by a damaged copy, check that the core reports
 * REC_ERR_CORRUPT (logged), that the module answers PAM_AUTHINFO_UNAVAIL
 * without a prompt, and that with the good record back nothing was lost.
 */
static void
damaged_user_record(struct fx *f, int version, int delta)
{
	uint8_t key[REC_USER_MAX + 16], good[REC_RECORD_BUF], bad[REC_RECORD_BUF + 1];
	size_t klen = make_key(f, key, NULL, 0), len = sizeof(good), badlen;
	struct rec_result res;
	int prompts;

	store_close(f);
	raw(f, "users", key, klen, good, &len, NULL, 0);
	memcpy(bad, good, len);
	badlen = len + (size_t)delta;	/* a byte more (zero) or less */
	bad[len] = 0;
	if (version >= 0)
		bad[0] = (uint8_t)version;
	raw(f, "users", key, klen, NULL, NULL, bad, badlen);
	store_open(f);

	memset(&f->cap, 0, sizeof(f->cap));
	assert_int_equal(rec_auth_status(f->st, &f->cfg, f->user, T0,
	    &(struct rec_status){ 0 }), REC_ERR_CORRUPT);
	assert_logged(&f->cap, "corrupt user record");
	assert_int_equal(attempt(f, f->nb.codes[0], NULL, T0, &res),
	    REC_ERR_CORRUPT);
	assert_int_equal(module_auth(f, f->nb.codes[0], &prompts),
	    PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(prompts, 0);

	store_close(f);
	raw(f, "users", key, klen, NULL, NULL, good, len);
	store_open(f);
	assert_int_equal(status(f).failures, 0);
	assert_int_equal(status(f).remaining, f->nb.batch.count);
}

static void
test_user_record_unknown_version(void **state)
{
	struct fx *f = *state;
	static const int versions[] = { 0, 2, 9, 255 };
	struct rec_result res;

	generate(f, 10, NULL);
	for (size_t i = 0; i < sizeof(versions) / sizeof(versions[0]); i++)
		damaged_user_record(f, versions[i], 0);
	assert_int_equal(attempt(f, f->nb.codes[0], NULL, T0, &res), REC_OK);
	assert_int_equal(res.remaining, 9);
}

static void
test_user_record_short_or_long(void **state)
{
	struct fx *f = *state;
	struct rec_result res;

	generate(f, 10, NULL);
	damaged_user_record(f, -1, -1);
	damaged_user_record(f, -1, +1);
	assert_int_equal(attempt(f, f->nb.codes[0], NULL, T0, &res), REC_OK);
}

static void
test_batch_record_unknown_version(void **state)
{
	struct fx *f = *state;
	uint8_t key[REC_USER_MAX + 16], good[REC_RECORD_BUF], bad[REC_RECORD_BUF];
	size_t klen, len = sizeof(good);
	struct rec_result res;
	int prompts;

	generate(f, 10, NULL);
	klen = make_key(f, key, &f->nb.batch.id, 0);
	store_close(f);
	raw(f, "batches", key, klen, good, &len, NULL, 0);
	memcpy(bad, good, len);
	bad[0] = 9;
	raw(f, "batches", key, klen, NULL, NULL, bad, len);
	store_open(f);

	assert_int_equal(rec_auth_status(f->st, &f->cfg, f->user, T0,
	    &(struct rec_status){ 0 }), REC_ERR_CORRUPT);
	assert_logged(&f->cap, "corrupt batch record");
	assert_int_equal(attempt(f, f->nb.codes[1], NULL, T0, &res),
	    REC_ERR_CORRUPT);
	assert_int_equal(module_auth(f, f->nb.codes[1], &prompts),
	    PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(prompts, 0);

	store_close(f);
	raw(f, "batches", key, klen, NULL, NULL, good, len);
	store_open(f);
	assert_int_equal(attempt(f, f->nb.codes[1], NULL, T0, &res), REC_OK);
	assert_int_equal(res.remaining, 9);
	assert_int_equal(status(f).failures, 0);
}

/*
 * A damaged code record is only read by an attempt, after the prompt: the
 * attempt fails as corrupt and its pre-counted failure is not kept.
 */
static void
test_code_record_unknown_version(void **state)
{
	struct fx *f = *state;
	uint8_t key[REC_USER_MAX + 16], good[REC_RECORD_BUF], bad[REC_RECORD_BUF];
	size_t klen, len = sizeof(good);
	struct rec_result res;
	int prompts;

	generate(f, 10, NULL);
	klen = make_key(f, key, &f->nb.batch.id, 1);
	store_close(f);
	raw(f, "codes", key, klen, good, &len, NULL, 0);
	memcpy(bad, good, len);
	bad[0] = 9;
	raw(f, "codes", key, klen, NULL, NULL, bad, len);
	store_open(f);

	memset(&f->cap, 0, sizeof(f->cap));
	assert_int_equal(attempt(f, f->nb.codes[1], NULL, T0, &res),
	    REC_ERR_CORRUPT);
	assert_logged(&f->cap, "corrupt code record");
	assert_int_equal(status(f).failures, 0);
	assert_int_equal(module_auth(f, f->nb.codes[1], &prompts),
	    PAM_AUTHINFO_UNAVAIL);
	assert_int_equal(prompts, 1);
	assert_int_equal(status(f).failures, 0);
	assert_int_equal(status(f).remaining, 10);

	store_close(f);
	raw(f, "codes", key, klen, NULL, NULL, good, len);
	store_open(f);
	assert_int_equal(attempt(f, f->nb.codes[0], NULL, T0, &res), REC_OK);
	assert_int_equal(res.slot, 1);
	assert_int_equal(res.remaining, 9);
}

/* Logins never read the audit trail: a damaged event does not stop them. */
static void
test_audit_record_unknown_version(void **state)
{
	struct fx *f = *state;
	uint8_t key[8] = { 0, 0, 0, 0, 0, 0, 0, 1 }, good[REC_RECORD_BUF];
	size_t len = sizeof(good);
	struct rec_result res;

	f->cfg.audit = 1;
	generate(f, 10, NULL);
	store_close(f);
	raw(f, "audit", key, sizeof(key), good, &len, NULL, 0);
	good[0] = 9;
	raw(f, "audit", key, sizeof(key), NULL, NULL, good, len);
	store_open(f);
	assert_int_equal(attempt(f, f->nb.codes[0], NULL, T0, &res), REC_OK);
	assert_int_equal(module_auth(f, f->nb.codes[1], NULL), PAM_SUCCESS);
}

/* ---- A peppered batch and a missing or wrong pepper. ---- */

static void
test_peppered_batch_without_pepper(void **state)
{
	struct fx *f = *state;
	unsigned char pepper[REC_PEPPER_LEN], other[REC_PEPPER_LEN];
	struct rec_result res;

	randombytes_buf(pepper, sizeof(pepper));
	randombytes_buf(other, sizeof(other));
	generate(f, 10, pepper);
	assert_int_equal(status(f).peppered, 1);

	/* No pepper configured: a configuration error, not a wrong code. */
	memset(&f->cap, 0, sizeof(f->cap));
	assert_int_equal(attempt(f, f->nb.codes[0], NULL, T0, &res),
	    REC_ERR_CONFIG);
	assert_logged(&f->cap, "generated with a pepper");
	assert_int_equal(res.kdf_evals, 0);
	assert_int_equal(status(f).failures, 0);
	assert_int_equal(status(f).remaining, 10);

	/* Another pepper: the code cannot match, which counts. */
	assert_int_equal(attempt(f, f->nb.codes[0], other, T0, &res),
	    REC_ERR_NOMATCH);
	assert_int_equal(res.kdf_evals, 1);
	assert_int_equal(status(f).failures, 1);

	assert_int_equal(attempt(f, f->nb.codes[0], pepper, T0, &res), REC_OK);
	assert_int_equal(status(f).failures, 0);
	sodium_memzero(pepper, sizeof(pepper));
}

/* ---- MDB_MAP_FULL in the middle of logins. ---- */

static off_t
data_size(const struct fx *f)
{
	char p[192];
	struct stat sb;

	snprintf(p, sizeof(p), "%s/data.mdb", f->path);
	assert_int_equal(stat(p, &sb), 0);
	return sb.st_size;
}

struct fill {
	const struct fx *f;
	unsigned n;
};

/* Fifty long audit events in one write. */
static int
fill_events(struct fill *a)
{
	struct rec_event ev[50];
	char text[REC_FIELD_MAX];

	memset(text, 'x', sizeof(text) - 1);
	text[sizeof(text) - 1] = '\0';
	for (unsigned i = 0; i < 50; i++)
		assert_int_equal(rec_auth_event(&a->f->cfg, &a->f->who, T0,
		    &(struct rec_mark){ .type = REC_EV_ADMIN, .detail = text },
		    &ev[i]), 1);
	return rec_store_event_append(a->f->st, ev, 50);
}

static unsigned
events(struct fx *f)
{
	unsigned n = 0;

	assert_int_equal(test_count_events(f->st, &n), REC_OK);
	return n;
}

/*
 * Fill the first map nearly full, then log in (wrong codes, and every
 * eighth attempt a valid one) until the store has grown past it.  Whichever
 * transaction of an attempt hit MDB_MAP_FULL was run again from the start in
 * a doubled map: every attempt must count exactly once, every success
 * consume exactly one code, and every outcome leave exactly one event.
 */
static void
test_map_full_during_logins(void **state)
{
	struct fx *f = *state;
	char longtext[REC_FIELD_MAX], code[REC_CODE_MAX + 1];
	struct fill fl = { f, 0 };
	struct rec_result res;
	unsigned before, tries = 0, used = 0, wrong = 0, next = 0;

	f->cfg.audit = 1;
	f->cfg.max_attempts = 1000;
	memset(longtext, 'h', sizeof(longtext) - 1);
	longtext[sizeof(longtext) - 1] = '\0';
	f->who.service = longtext;
	f->who.rhost = longtext;
	f->who.tty = longtext;
	generate(f, 100, NULL);
	for (int i = 0; i < 400 && data_size(f) < (off_t)(MAP_INITIAL - (192 << 10));
	    i++)
		assert_int_equal(fill_events(&fl), REC_OK);
	assert_true(data_size(f) <= (off_t)MAP_INITIAL);
	before = events(f);

	while (data_size(f) <= (off_t)MAP_INITIAL && tries < 2000) {
		tries++;
		if (tries % 8 == 0) {
			assert_true(next < 100);
			assert_int_equal(attempt(f, f->nb.codes[next++], NULL,
			    T0 + tries, &res), REC_OK);
			used++;
			wrong = 0;
		} else {
			wrong_code(f, code);
			assert_int_equal(attempt(f, code, NULL, T0 + tries, &res),
			    REC_ERR_NOMATCH);
			wrong++;
		}
		/* Two codes of 100 may share a 16-bit tag: then two. */
		assert_in_range(res.kdf_evals, 1, 2);
	}
	assert_true(data_size(f) > (off_t)MAP_INITIAL);

	/* The same in this process and after reopening. */
	for (int pass = 0; pass < 2; pass++) {
		struct rec_status s;

		assert_int_equal(rec_auth_status(f->st, &f->cfg, f->user,
		    T0 + tries, &s), REC_OK);
		assert_int_equal(s.used, used);
		assert_int_equal(s.remaining, 100 - used);
		assert_int_equal(s.failures, wrong);
		assert_int_equal(events(f), before + tries);
		store_close(f);
		store_open(f);
	}
	/* A code already used stays used in the grown map. */
	assert_int_equal(attempt(f, f->nb.codes[0], NULL, T0 + tries + 1, &res),
	    REC_ERR_USED);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_user_record_unknown_version),
		T(test_user_record_short_or_long),
		T(test_batch_record_unknown_version),
		T(test_code_record_unknown_version),
		T(test_audit_record_unknown_version),
		T(test_peppered_batch_without_pepper),
		T(test_map_full_during_logins),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
