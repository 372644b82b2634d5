/* SPDX-License-Identifier: BSD-2-Clause */
/* test_admin.c: the administrator's unlock, backup and report walks against a real store. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "testutil.h"
#include "rec_store_lmdb.h"	/* plant_orphan: no operation writes it */
#include "rec_admin.h"
#include "rec_err.h"
#include "rec_issue.h"

#define T0 1800000000ULL	/* a fixed "now"; tests never read the clock */

struct fx {
	struct store_fx s;	/* first: the store, alice, her codes */
	char dest[128];
	struct rec_who admin;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	store_fx_open(&f->s, "test_admin");
	snprintf(f->dest, sizeof(f->dest), "%s/backup", f->s.dir);
	f->admin.user = "alice";
	f->admin.service = "pam-recovery-admin";
	f->admin.actor = "helpdesk";
	*state = f;
	return 0;
}

static void
generate(struct fx *f, unsigned n, uint64_t now)
{
	store_fx_generate(&f->s, n, now);
}

static int
attempt(struct rec_store *st, struct fx *f, const char *code, uint64_t now)
{
	struct rec_result res;

	return rec_auth_attempt(st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = code, .now = now }, &res);
}

static struct rec_status
status(struct rec_store *st, struct fx *f, uint64_t now)
{
	struct rec_status s;

	assert_int_equal(rec_auth_status(st, &f->s.cfg, "alice", now, &s),
	    REC_OK);
	return s;
}

/* Lock alice out with max_attempts well-formed wrong codes. */
static void
lock_out(struct fx *f, uint64_t now)
{
	struct rec_format fmt;
	char wrong[REC_CODE_MAX + 1];

	rec_config_format(&f->s.cfg, &fmt);
	for (unsigned i = 0; i < f->s.cfg.max_attempts; i++) {
		rec_code_generate(&fmt, wrong);
		assert_int_equal(attempt(f->s.st, f, wrong, now),
		    REC_ERR_NOMATCH);
	}
	assert_true(status(f->s.st, f, now).lock_remaining > 0);
}

/* The last audit event, its type and actor. */
struct last {
	uint8_t type;
	char actor[REC_FIELD_MAX], detail[REC_FIELD_MAX];
	unsigned n;
};

static int
last_event(uint64_t seq, const struct rec_event *ev, void *varg)
{
	struct last *l = varg;

	(void)seq;
	l->type = ev->type;
	snprintf(l->actor, sizeof(l->actor), "%s", ev->actor);
	snprintf(l->detail, sizeof(l->detail), "%s", ev->detail);
	l->n++;
	return REC_OK;
}

static struct last
audit_tail(struct rec_store *st)
{
	struct last l;

	memset(&l, 0, sizeof(l));
	assert_int_equal(rec_store_event_each(st, NULL, 0, last_event, &l), REC_OK);
	return l;
}

static void
test_unlock_clears_lock(void **state)
{
	struct fx *f = *state;
	struct rec_unlocked found;
	struct last l;

	generate(f, 5, T0);
	lock_out(f, T0);
	assert_int_equal(attempt(f->s.st, f, f->s.nb.codes[0], T0 + 1),
	    REC_ERR_LOCKED);
	assert_int_equal(rec_admin_unlock(f->s.st, &f->s.cfg, &f->admin, T0 + 1,
	    &found), REC_OK);
	assert_int_equal(found.lock_remaining, f->s.cfg.base_cooldown - 1);
	assert_int_equal(found.failures, f->s.cfg.max_attempts);
	assert_int_equal(status(f->s.st, f, T0 + 1).lock_remaining, 0);
	assert_int_equal(status(f->s.st, f, T0 + 1).failures, 0);
	l = audit_tail(f->s.st);
	assert_int_equal(l.type, REC_EV_UNLOCKED);
	assert_string_equal(l.actor, "helpdesk");
	assert_non_null(strstr(l.detail, "failures=5"));
	/* The next valid code works at once. */
	assert_int_equal(attempt(f->s.st, f, f->s.nb.codes[0], T0 + 2), REC_OK);
}

/* After an unlock, the escalation starts again from base_cooldown. */
static void
test_unlock_resets_escalation(void **state)
{
	struct fx *f = *state;
	struct rec_result res;
	struct rec_format fmt;
	char wrong[REC_CODE_MAX + 1];

	generate(f, 5, T0);
	lock_out(f, T0);
	rec_config_format(&f->s.cfg, &fmt);
	rec_code_generate(&fmt, wrong);
	assert_int_equal(rec_admin_unlock(f->s.st, &f->s.cfg, &f->admin, T0,
	    NULL), REC_OK);
	for (unsigned i = 0; i + 1 < f->s.cfg.max_attempts; i++)
		assert_int_equal(attempt(f->s.st, f, wrong, T0 + 1),
		    REC_ERR_NOMATCH);
	assert_int_equal(status(f->s.st, f, T0 + 1).lock_remaining, 0);
	assert_int_equal(rec_auth_attempt(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_attempt){ .input = wrong, .now = T0 + 1 }, &res),
	    REC_ERR_NOMATCH);
	assert_int_equal(res.lock_remaining, f->s.cfg.base_cooldown);
}

static void
test_unlock_not_locked_is_audited(void **state)
{
	struct fx *f = *state;
	struct rec_unlocked found;

	generate(f, 3, T0);
	assert_int_equal(rec_admin_unlock(f->s.st, &f->s.cfg, &f->admin, T0,
	    &found), REC_OK);
	assert_int_equal(found.lock_remaining, 0);
	assert_int_equal(found.failures, 0);
	assert_int_equal(audit_tail(f->s.st).type, REC_EV_UNLOCKED);
}

static void
test_unlock_unknown_user(void **state)
{
	struct fx *f = *state;
	struct rec_who nobody = { "nobody-here", NULL, NULL, NULL, "helpdesk" };

	generate(f, 3, T0);
	assert_int_equal(rec_admin_unlock(f->s.st, &f->s.cfg, &nobody, T0,
	    NULL), REC_ERR_NOTFOUND);
	/* Nothing was written: the last event is still the generation. */
	assert_int_equal(audit_tail(f->s.st).type, REC_EV_GENERATED);
	assert_int_equal(audit_tail(f->s.st).n, 1);
}

static void
test_unlock_clears_generate_cooldown(void **state)
{
	struct fx *f = *state;
	struct rec_unlocked found;
	uint64_t wait = 0;

	assert_int_equal(rec_config_set(&f->s.cfg, "generate_cooldown", "600",
	    "test", 0, NULL), REC_OK);
	generate(f, 3, T0);
	assert_int_equal(rec_issue_generate(f->s.st, &f->s.cfg, &f->s.who,
	    &(struct rec_issue_req){ .count = 3, .now = T0 + 10,
	    .flags = REC_GEN_REPLACE }, &f->s.nb, &wait), REC_ERR_COOLDOWN);
	assert_int_equal(wait, 590);
	assert_int_equal(rec_admin_unlock(f->s.st, &f->s.cfg, &f->admin,
	    T0 + 10, &found), REC_OK);
	assert_int_equal(found.gen_remaining, 590);
	generate(f, 3, T0 + 11);
}

static void
test_unlock_audit_off(void **state)
{
	struct fx *f = *state;

	generate(f, 3, T0);
	assert_int_equal(rec_config_set(&f->s.cfg, "audit", "no", "test", 0,
	    NULL), REC_OK);
	assert_int_equal(rec_admin_unlock(f->s.st, &f->s.cfg, &f->admin, T0,
	    NULL), REC_OK);
	assert_int_equal(audit_tail(f->s.st).type, REC_EV_GENERATED);
}

static void
test_admin_event(void **state)
{
	struct fx *f = *state;
	struct last l;

	generate(f, 3, T0);
	assert_int_equal(rec_admin_event(f->s.st, &f->s.cfg, &f->admin,
	    REC_EV_PURGED, T0, "deleted 5 audit events"), REC_OK);
	l = audit_tail(f->s.st);
	assert_int_equal(l.type, REC_EV_PURGED);
	assert_string_equal(l.actor, "helpdesk");
	assert_string_equal(l.detail, "deleted 5 audit events");
	assert_int_equal(rec_config_set(&f->s.cfg, "audit", "no", "test", 0,
	    NULL), REC_OK);
	assert_int_equal(rec_admin_event(f->s.st, &f->s.cfg, &f->admin,
	    REC_EV_ADMIN, T0, NULL), REC_OK);
	assert_int_equal(audit_tail(f->s.st).n, 2);
}

/* rec_admin_event_each: every event (or one user's), oldest first; a callback's error stops it. */
struct seqs {
	uint64_t prev;
	unsigned n, stop_at;
};

static int
seq_event(uint64_t seq, const struct rec_event *ev, void *varg)
{
	struct seqs *q = varg;

	assert_true(seq > q->prev);
	assert_string_equal(ev->user, "alice");
	q->prev = seq;
	if (++q->n == q->stop_at)
		return REC_ERR_NOMEM;
	return REC_OK;
}

static void
test_event_each(void **state)
{
	struct fx *f = *state;
	struct seqs q = { 0, 0, 0 };

	generate(f, 3, T0);
	generate(f, 3, T0 + 86400);
	assert_int_equal(rec_admin_event_each(f->s.st, NULL, seq_event, &q), REC_OK);
	assert_int_equal(q.n, audit_tail(f->s.st).n);
	assert_true(q.n >= 2);
	/* One user's: alice's are all; nobody's are none. */
	q = (struct seqs){ 0, 0, 0 };
	assert_int_equal(rec_admin_event_each(f->s.st, "alice", seq_event, &q),
	    REC_OK);
	assert_int_equal(q.n, audit_tail(f->s.st).n);
	q = (struct seqs){ 0, 0, 0 };
	assert_int_equal(rec_admin_event_each(f->s.st, "bob", seq_event, &q),
	    REC_OK);
	assert_int_equal(q.n, 0);
	assert_int_equal(rec_admin_event_each(f->s.st, "alic", seq_event, &q),
	    REC_OK);
	assert_int_equal(q.n, 0);
	q = (struct seqs){ 0, 0, 1 };
	assert_int_equal(rec_admin_event_each(f->s.st, NULL, seq_event, &q),
	    REC_ERR_NOMEM);
	assert_int_equal(q.n, 1);
}

/* A batch under name with no user record (what a departed user leaves). */
struct orphan {
	const char *user;
	struct rec_batch b;
};

static int
orphan_txn(struct rec_txn *t, void *varg)
{
	const struct orphan *o = varg;

	return rec_batch_put(t, o->user, &o->b);
}

/*
 * The LMDB store gets the record in a transaction of its own; the
 * directory through the interface (rec_store_batch_put), which writes a
 * batch of a user without a record as it is given (its entry made as a
 * generation makes it).
 */
static void
orphan_put(struct fx *f, const struct orphan *o)
{
	if (test_ldap_conf() != NULL)
		assert_int_equal(rec_store_batch_put(f->s.st, o->user, &o->b,
		    NULL, 0), REC_OK);
	else
		assert_int_equal(rec_store_write(f->s.st, orphan_txn,
		    (void *)o), REC_OK);
}

static void
plant_orphan(struct fx *f, const char *user)
{
	struct orphan o = { user, f->s.nb.batch };

	o.b.status = REC_BATCH_PURGED;
	orphan_put(f, &o);
}

static void
plant_orphan_id(struct fx *f, const char *user, uint64_t id)
{
	struct orphan o = { user, f->s.nb.batch };

	o.b.id = id;
	o.b.status = REC_BATCH_PURGED;
	orphan_put(f, &o);
}

static void
test_names_read(void **state)
{
	struct fx *f = *state;
	struct rec_names nm = { NULL, 0, 0 };

	/*
	 * The directory makes a batch's user entry as a generation would
	 * (rec_ldap_import.c), and so a user record of an orphan's name.
	 */
	test_skip_unless_lmdb("an orphan batch's user entry is a user record "
	    "there");
	assert_int_equal(rec_admin_names_read(f->s.st, REC_NAMES_BATCHES, &nm),
	    REC_OK);
	assert_int_equal(nm.n, 0);
	generate(f, 3, T0);
	f->s.who.user = "bob";
	generate(f, 3, T0);
	generate(f, 3, T0 + 86400);	/* two batches of bob: one name */
	plant_orphan(f, "zed");
	assert_int_equal(rec_admin_names_read(f->s.st, 0, &nm), REC_OK);
	assert_int_equal(nm.n, 2);
	assert_string_equal(nm.v[0], "alice");
	assert_string_equal(nm.v[1], "bob");
	/* Read again into the same list: it starts afresh. */
	assert_int_equal(rec_admin_names_read(f->s.st, REC_NAMES_BATCHES, &nm),
	    REC_OK);
	assert_int_equal(nm.n, 3);
	assert_string_equal(nm.v[2], "zed");
	/* Further names: after the users', in name order, each once. */
	plant_orphan_id(f, "zed", f->s.nb.batch.id + 1);
	plant_orphan_id(f, "carl", f->s.nb.batch.id);
	plant_orphan_id(f, "carl", f->s.nb.batch.id + 1);
	assert_int_equal(rec_admin_names_read(f->s.st, REC_NAMES_BATCHES, &nm),
	    REC_OK);
	assert_int_equal(nm.n, 4);
	assert_string_equal(nm.v[0], "alice");
	assert_string_equal(nm.v[1], "bob");
	assert_string_equal(nm.v[2], "carl");
	assert_string_equal(nm.v[3], "zed");
	rec_admin_names_free(&nm);
	assert_null(nm.v);
	assert_int_equal(nm.n, 0);
}

static void
test_batch_count(void **state)
{
	struct fx *f = *state;
	unsigned long live = 99;

	assert_int_equal(rec_admin_batch_count(f->s.st, "alice", &live),
	    REC_OK);
	assert_int_equal(live, 0);
	generate(f, 3, T0);
	generate(f, 3, T0 + 86400);
	assert_int_equal(rec_admin_batch_count(f->s.st, "alice", &live),
	    REC_OK);
	assert_int_equal(live, 2);
	plant_orphan(f, "zed");		/* purged: nothing left to show */
	assert_int_equal(rec_admin_batch_count(f->s.st, "zed", &live), REC_OK);
	assert_int_equal(live, 0);
}

static void
test_states_read(void **state)
{
	struct fx *f = *state;
	struct rec_states s;
	unsigned two = 2;

	assert_int_equal(rec_issue_states_read(f->s.st, "alice", &s),
	    REC_ERR_NOSTORE);
	generate(f, 4, T0);
	assert_int_equal(attempt(f->s.st, f, f->s.nb.codes[0], T0), REC_OK);
	assert_int_equal(rec_issue_invalidate(f->s.st, &f->s.cfg, &f->s.who,
	    &two, 1, T0), REC_OK);
	assert_int_equal(rec_issue_states_read(f->s.st, "alice", &s), REC_OK);
	assert_true(s.batch == f->s.nb.batch.id);
	assert_int_equal(s.count, 4);
	assert_int_equal(s.remaining, 2);
	assert_int_equal(s.state[1], REC_CODE_USED);
	assert_int_equal(s.state[2], REC_CODE_INVALID);
	assert_int_equal(s.state[3], REC_CODE_UNUSED);
	assert_int_equal(s.state[4], REC_CODE_UNUSED);
}

static void
test_batches_read(void **state)
{
	struct fx *f = *state;
	struct rec_batches bs = { 0, NULL, 0, 0 };
	uint64_t first;

	assert_int_equal(rec_issue_batches_read(f->s.st, "alice", &bs), REC_OK);
	assert_int_equal(bs.n, 0);
	assert_true(bs.active == 0);
	generate(f, 3, T0);
	first = f->s.nb.batch.id;
	generate(f, 3, T0 + 86400);
	assert_int_equal(rec_issue_batches_read(f->s.st, "alice", &bs), REC_OK);
	assert_int_equal(bs.n, 2);
	assert_true(bs.active == f->s.nb.batch.id);
	assert_true(bs.v[0].id == first || bs.v[1].id == first);
	for (size_t i = 0; i < bs.n; i++)
		assert_int_equal(bs.v[i].status, bs.v[i].id == bs.active ?
		    REC_BATCH_ACTIVE : REC_BATCH_INVALIDATED);
	rec_issue_batches_free(&bs);
	assert_null(bs.v);
	/* Another user's batches are not alice's. */
	assert_int_equal(rec_issue_batches_read(f->s.st, "bob", &bs), REC_OK);
	assert_int_equal(bs.n, 0);
	rec_issue_batches_free(&bs);
}


static mode_t
mode_of(const char *path)
{
	struct stat sb;

	assert_int_equal(lstat(path, &sb), 0);
	return sb.st_mode & 07777;
}

static void
backup_and_check(struct fx *f, mode_t mask)
{
	struct rec_store_counts info;
	struct rec_store *copy = NULL;
	char data[160], lock[160];
	mode_t old;

	test_skip_unless_lmdb("backup is LMDB's own copy (the directory's is "
	    "slapcat)");
	generate(f, 5, T0);
	assert_int_equal(attempt(f->s.st, f, f->s.nb.codes[1], T0), REC_OK);
	old = umask(mask);
	assert_int_equal(rec_admin_backup(f->s.st, f->dest, NULL, &info),
	    REC_OK);
	umask(old);
	assert_int_equal(info.users, 1);
	assert_int_equal(info.batches, 1);
	assert_int_equal(info.codes, 5);
	assert_int_equal(info.events, 2);
	snprintf(data, sizeof(data), "%s/data.mdb", f->dest);
	snprintf(lock, sizeof(lock), "%s/lock.mdb", f->dest);
	assert_int_equal(mode_of(f->dest), 0700);
	assert_int_equal(mode_of(data), 0600);
	assert_int_equal(access(lock, F_OK), -1);
	/* The copy is a store of its own with the same codes. */
	assert_int_equal(rec_store_open(f->dest, getuid(), 0, NULL, &copy),
	    REC_OK);
	assert_int_equal(status(copy, f, T0).remaining, 4);
	assert_int_equal(attempt(copy, f, f->s.nb.codes[1], T0), REC_ERR_USED);
	assert_int_equal(attempt(copy, f, f->s.nb.codes[2], T0), REC_OK);
	rec_store_close(copy);
	/* ... and independent of the original. */
	assert_int_equal(status(f->s.st, f, T0).remaining, 4);
}

static void
test_backup(void **state)
{
	backup_and_check(*state, 022);
}

/* Whatever the umask, the modes are exactly 0700 and 0600. */
static void
test_backup_strict_umask(void **state)
{
	backup_and_check(*state, 0277);
}

static void
test_backup_never_overwrites(void **state)
{
	struct fx *f = *state;
	char link[160];

	generate(f, 3, T0);
	assert_int_equal(mkdir(f->dest, 0700), 0);
	assert_int_equal(rec_admin_backup(f->s.st, f->dest, NULL, NULL),
	    REC_ERR_EXISTS);
	/* The existing directory was left alone. */
	assert_int_equal(rmdir(f->dest), 0);
	snprintf(link, sizeof(link), "%s/elsewhere", f->s.dir);
	assert_int_equal(symlink(link, f->dest), 0);
	assert_int_equal(rec_admin_backup(f->s.st, f->dest, NULL, NULL),
	    REC_ERR_EXISTS);
	assert_int_equal(access(link, F_OK), -1);
}

static void
test_backup_missing_parent(void **state)
{
	struct fx *f = *state;
	char dest[192];

	snprintf(dest, sizeof(dest), "%s/no/such/dir", f->s.dir);
	assert_int_equal(rec_admin_backup(f->s.st, dest, NULL, NULL),
	    REC_ERR_IO);
}

/* A backup of the backup: the copy is a complete store. */
static void
test_backup_of_backup(void **state)
{
	struct fx *f = *state;
	struct rec_store_counts info;
	struct rec_store *copy = NULL;
	char again[160];

	test_skip_unless_lmdb("backup is LMDB's own copy (the directory's is "
	    "slapcat)");
	generate(f, 4, T0);
	assert_int_equal(rec_admin_backup(f->s.st, f->dest, NULL, &info),
	    REC_OK);
	assert_int_equal(rec_store_open(f->dest, getuid(), 0, NULL, &copy),
	    REC_OK);
	snprintf(again, sizeof(again), "%s/again", f->s.dir);
	assert_int_equal(rec_admin_backup(copy, again, NULL, &info), REC_OK);
	assert_int_equal(info.batches, 1);
	rec_store_close(copy);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_unlock_clears_lock, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_unlock_resets_escalation, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_unlock_not_locked_is_audited, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_unlock_unknown_user, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_unlock_clears_generate_cooldown, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_unlock_audit_off, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_admin_event, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_backup, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_backup_strict_umask, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_backup_never_overwrites, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_backup_missing_parent, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_backup_of_backup, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_event_each, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_names_read, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_batch_count, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_states_read, setup, store_fx_teardown),
		cmocka_unit_test_setup_teardown(test_batches_read, setup, store_fx_teardown),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
