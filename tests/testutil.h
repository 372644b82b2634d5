/* SPDX-License-Identifier: BSD-2-Clause */
/* testutil.h: small helpers shared by the unit tests (static, header only). */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rec_config.h"
#include "rec_err.h"
#include "rec_issue.h"
#include "rec_log.h"
#include "rec_store.h"

/* Include after <cmocka.h>: assert_logged() uses its fail(). */
#include "testldap.h"

/* Messages handed to a rec_log sink, one per line, for assertions. */
struct capture {
	char text[16384];
	size_t len;
	int count;	/* messages */
	int errors;	/* of them at LOG_ERR or worse */
};

static inline void
capture_fn(void *ctx, int prio, const char *msg)
{
	struct capture *c = ctx;
	int n;

	c->count++;
	if (prio <= LOG_ERR)
		c->errors++;
	n = snprintf(c->text + c->len, sizeof(c->text) - c->len, "%s\n", msg);
	if (n > 0)
		c->len += (size_t)n < sizeof(c->text) - c->len ?
		    (size_t)n : sizeof(c->text) - c->len - 1;
}

static inline void
capture_init(struct capture *c, struct rec_log *log)
{
	memset(c, 0, sizeof(*c));
	log->fn = capture_fn;
	log->ctx = c;
	log->debug = 1;
}

static inline void
assert_logged(const struct capture *c, const char *needle)
{
	if (strstr(c->text, needle) == NULL) {
		print_error("expected \"%s\" in the log:\n%s", needle, c->text);
		fail();
	}
}

/*
 * Cap the address space at what is mapped now plus 1 TiB, so that a 2 TiB
 * argon2 request fails whatever the overcommit policy, instead of being
 * granted and then filled.  Returns 0 when the cap could not be set.
 */
static inline int
cap_address_space(struct rlimit *saved)
{
	unsigned long long pages = 0, cap;
	struct rlimit rl;
	FILE *fp;

	if (getrlimit(RLIMIT_AS, saved) == -1)
		return 0;
	if ((fp = fopen("/proc/self/statm", "r")) == NULL)
		return 0;
	if (fscanf(fp, "%llu", &pages) != 1)
		pages = 0;
	fclose(fp);
	if (pages == 0)
		return 0;
	cap = pages * (unsigned long long)sysconf(_SC_PAGESIZE) + (1ULL << 40);
	if (saved->rlim_cur != RLIM_INFINITY && saved->rlim_cur <= cap)
		return 1;	/* already tighter */
	if (saved->rlim_max != RLIM_INFINITY && saved->rlim_max < cap)
		return 0;
	rl.rlim_cur = cap;
	rl.rlim_max = saved->rlim_max;
	return setrlimit(RLIMIT_AS, &rl) == 0;
}

static inline int
tmpdir_rm_one(const char *p, const struct stat *sb, int type, struct FTW *ftw)
{
	(void)sb;
	(void)ftw;
	return type == FTW_DP ? rmdir(p) : unlink(p);
}

/* Remove a test's temporary directory and everything in it. */
static inline int
tmpdir_remove(const char *dir)
{
	return nftw(dir, tmpdir_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Defaults with tiny argon2 limits, set the way a user would set them. */
static inline void
tiny_config(struct rec_config *cfg)
{
	rec_config_defaults(cfg);
	assert_int_equal(rec_config_set(cfg, "kdf_opslimit", "1", "test", 0,
	    NULL), REC_OK);
	assert_int_equal(rec_config_set(cfg, "kdf_memlimit", "8K", "test", 0,
	    NULL), REC_OK);
}

/* rec_event_each callback: counts the events into *(unsigned *)arg. */
static inline int
test_count_event(uint64_t seq, const struct rec_event *ev, void *arg)
{
	(void)seq;
	(void)ev;
	(*(unsigned *)arg)++;
	return REC_OK;
}

/* Set *n to the number of events of st, in one read. */
static inline int
test_count_events(struct rec_store *st, unsigned *n)
{
	*n = 0;
	return rec_store_event_each(st, NULL, 0, test_count_event, n);
}

/*
 * A test's own LMDB store: a new directory /tmp/NAME.XXXXXX in dir
 * (dirlen bytes), the store dir/store in path (pathlen bytes), made by us
 * and open in *st, and tiny_config in cfg.
 */
static inline void
test_store_open_lmdb(const char *name, char *dir, size_t dirlen, char *path,
    size_t pathlen, struct rec_config *cfg, struct rec_store **st)
{
	snprintf(dir, dirlen, "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(dir));
	snprintf(path, pathlen, "%s/store", dir);
	tiny_config(cfg);
	assert_int_equal(rec_store_open(path, getuid(), REC_STORE_CREATE,
	    NULL, st), REC_OK);
}

/*
 * A test's own store: test_store_open_lmdb, or with REC_TEST_STORE=ldap
 * (testldap.h) the directory store of REC_TEST_LDAP_CONF, emptied, with
 * its configuration (tiny costs) in cfg; dir is made all the same (tests
 * keep other files there) and path names the configuration file.
 */
static inline void
test_store_open(const char *name, char *dir, size_t dirlen, char *path,
    size_t pathlen, struct rec_config *cfg, struct rec_store **st)
{
	const char *conf = test_ldap_conf();

	if (conf == NULL) {
		test_store_open_lmdb(name, dir, dirlen, path, pathlen, cfg, st);
		return;
	}
	snprintf(dir, dirlen, "/tmp/%s.XXXXXX", name);
	assert_non_null(mkdtemp(dir));
	snprintf(path, pathlen, "%s", conf);
	test_ldap_open(conf, cfg, st);
}

/*
 * Open the store test_store_open opened (path) once more, with flags and
 * log, into *st: the same LMDB directory, or the same directory store.
 */
static inline int
test_store_reopen(const char *path, unsigned flags, const struct rec_log *log,
    struct rec_store **st)
{
	struct rec_config cfg;
	const char *conf = test_ldap_conf();

	if (conf == NULL)
		return rec_store_open(path, getuid(), flags, log, st);
	test_ldap_config(conf, &cfg);
	return rec_store_open_ldap(&cfg, flags, log, st);
}

/* Close it, wipe the codes the test kept in nb, remove the directory. */
static inline void
test_store_close(struct rec_store *st, struct rec_new_batch *nb,
    const char *dir)
{
	rec_store_close(st);
	rec_new_batch_wipe(nb);
	assert_int_equal(tmpdir_remove(dir), 0);
}

/*
 * What the tests of layers 3 and 4 start from: a fresh store (tiny
 * costs) in a temporary directory, and alice logging in to "test".  A
 * test's own fixture holds one as its first member.
 */
struct store_fx {
	char dir[64];
	char path[128];
	struct rec_config cfg;
	struct rec_store *st;
	struct rec_new_batch nb;	/* the codes a test made; wiped at close
	    */
	struct rec_who who;
};

static inline void
store_fx_open(struct store_fx *s, const char *name)
{
	test_store_open(name, s->dir, sizeof(s->dir), s->path,
	    sizeof(s->path), &s->cfg, &s->st);
	s->who.user = "alice";
	s->who.service = "test";
}

/* The same, always an LMDB store (a copy's source, beside the store). */
static inline void
store_fx_open_lmdb(struct store_fx *s, const char *name)
{
	test_store_open_lmdb(name, s->dir, sizeof(s->dir), s->path,
	    sizeof(s->path), &s->cfg, &s->st);
	s->who.user = "alice";
	s->who.service = "test";
}

static inline void
store_fx_close(struct store_fx *s)
{
	test_store_close(s->st, &s->nb, s->dir);
}

/*
 * The cmocka teardown of a fixture calloc'ed by its setup with a struct
 * store_fx as its first member (so *state points to both).
 */
static inline int
store_fx_teardown(void **state)
{
	struct store_fx *s = *state;

	store_fx_close(s);
	free(s);
	return 0;
}

/* n codes for s->who at now into s->nb, replacing any batch. */
static inline void
store_fx_generate(struct store_fx *s, unsigned n, uint64_t now)
{
	assert_int_equal(rec_issue_generate(s->st, &s->cfg, &s->who,
	    &(struct rec_issue_req){ .count = n, .now = now,
	    .flags = REC_GEN_REPLACE }, &s->nb, NULL), REC_OK);
}

#endif
