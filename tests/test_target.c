/* SPDX-License-Identifier: BSD-2-Clause */
/* test_target.c: a user's store, its path, its owner and the pepper rule. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "rec_err.h"
#include "rec_target.h"
#include "testutil.h"

/* A password entry of someone else's, as a front end would look it up. */
static struct passwd alice = {
	.pw_name = "alice", .pw_uid = 4242, .pw_gid = 4343,
	.pw_dir = "/home/alice",
};

static void
config(struct rec_config *cfg, const char *store, const char *pepper)
{
	rec_config_defaults(cfg);
	assert_int_equal(rec_config_set(cfg, "store", store, "t", 0, NULL),
	    REC_OK);
	if (pepper != NULL)
		assert_int_equal(rec_config_set(cfg, "pepper_file", pepper,
		    "t", 0, NULL), REC_OK);
}

/* A per-user store is the user's: its home, its uid and gid, no pepper. */
static void
test_per_user(void **state)
{
	struct rec_config cfg;
	struct rec_target t;

	(void)state;
	config(&cfg, "~/.pam_recovery", NULL);
	assert_int_equal(rec_target_resolve(&cfg, "alice", &alice, 0, &t),
	    REC_OK);
	assert_true(t.per_user);
	assert_string_equal(t.path, "/home/alice/.pam_recovery");
	assert_int_equal(t.owner, 4242);
	assert_int_equal(t.owner_gid, 4343);
	assert_false(t.pepper);
	config(&cfg, "/var/lib/rec/%u", NULL);
	assert_int_equal(rec_target_resolve(&cfg, "alice", &alice, 0, &t),
	    REC_OK);
	assert_string_equal(t.path, "/var/lib/rec/alice");
	assert_int_equal(t.owner, 4242);
}

/*
 * A user the password database does not know has no per-user store (the
 * module then only hashes; the admin tool says "no such user").
 */
static void
test_per_user_unknown(void **state)
{
	struct rec_config cfg;
	struct rec_target t;

	(void)state;
	config(&cfg, "~/.pam_recovery", NULL);
	assert_int_equal(rec_target_resolve(&cfg, "nobody-here", NULL, 0, &t),
	    REC_ERR_NOUSER);
	assert_true(t.per_user);
	assert_string_equal(t.path, "");
}

/*
 * The system store is the caller's, whoever the user is (known or not,
 * unless REC_TARGET_KNOWN asks), and its pepper_file applies.
 */
static void
test_system(void **state)
{
	struct rec_config cfg;
	struct rec_target t;

	(void)state;
	config(&cfg, "/var/lib/rec/system", "/etc/rec.key");
	assert_int_equal(rec_target_resolve(&cfg, "alice", &alice, 0, &t),
	    REC_OK);
	assert_false(t.per_user);
	assert_string_equal(t.path, "/var/lib/rec/system");
	assert_int_equal(t.owner, geteuid());
	assert_int_equal(t.owner_gid, getegid());
	assert_true(t.pepper);
	assert_int_equal(rec_target_resolve(&cfg, "ghost", NULL, 0, &t),
	    REC_OK);
	assert_string_equal(t.path, "/var/lib/rec/system");
	assert_int_equal(t.owner, geteuid());
	assert_int_equal(rec_target_resolve(&cfg, "ghost", NULL,
	    REC_TARGET_KNOWN, &t), REC_ERR_NOUSER);
	config(&cfg, "/var/lib/rec/system", NULL);
	assert_int_equal(rec_target_resolve(&cfg, "alice", &alice, 0, &t),
	    REC_OK);
	assert_false(t.pepper);
}

/* The store as a whole (user NULL): the system store only. */
static void
test_whole_store(void **state)
{
	struct rec_config cfg;
	struct rec_target t;

	(void)state;
	config(&cfg, "/var/lib/rec/system", NULL);
	assert_int_equal(rec_target_resolve(&cfg, NULL, NULL, 0, &t), REC_OK);
	assert_string_equal(t.path, "/var/lib/rec/system");
	assert_int_equal(t.owner, geteuid());
	config(&cfg, "/var/lib/rec/%u", NULL);
	assert_int_equal(rec_target_resolve(&cfg, NULL, NULL, 0, &t),
	    REC_ERR_CONFIG);
	assert_true(t.per_user);
}

/* Names that are no user's, and homes that are no place for a store. */
static void
test_bad_names_and_homes(void **state)
{
	struct passwd rel = alice;
	struct rec_config cfg;
	struct rec_target t;
	char longname[REC_USER_MAX + 1];

	(void)state;
	memset(longname, 'a', REC_USER_MAX);
	longname[REC_USER_MAX] = '\0';
	config(&cfg, "/var/lib/rec/system", NULL);
	assert_int_equal(rec_target_resolve(&cfg, "", &alice, 0, &t),
	    REC_ERR_USAGE);
	assert_int_equal(rec_target_resolve(&cfg, longname, NULL, 0, &t),
	    REC_ERR_USAGE);
	config(&cfg, "~/.pam_recovery", NULL);
	rel.pw_dir = "home/alice";
	assert_int_equal(rec_target_resolve(&cfg, "alice", &rel, 0, &t),
	    REC_ERR_CONFIG);
	config(&cfg, "/var/lib/rec/%u", NULL);
	assert_int_equal(rec_target_resolve(&cfg, "../x", &alice, 0, &t),
	    REC_ERR_CONFIG);
}

/* pepper_file with a per-user store is refused, and said why. */
static void
test_pepper_rule(void **state)
{
	struct rec_config cfg;
	struct capture cap;
	struct rec_log log;

	(void)state;
	capture_init(&cap, &log);
	config(&cfg, "/var/lib/rec/system", "/etc/rec.key");
	assert_int_equal(rec_target_check_pepper(&cfg, &log), REC_OK);
	config(&cfg, "~/.pam_recovery", NULL);
	assert_int_equal(rec_target_check_pepper(&cfg, &log), REC_OK);
	assert_int_equal(cap.count, 0);
	config(&cfg, "~/.pam_recovery", "/etc/rec.key");
	assert_int_equal(rec_target_check_pepper(&cfg, &log), REC_ERR_CONFIG);
	assert_logged(&cap, "pepper_file needs a system store "
	    "(store = ~/.pam_recovery is per user)");
	assert_int_equal(rec_target_check_pepper(&cfg, NULL), REC_ERR_CONFIG);
}

/*
 * store = ldap: a system store without a path, the caller's, with the
 * pepper rule of a system store; known or unknown users alike (an unknown
 * user costs the same dummy hash as on LMDB, in the helper).  Opened
 * through rec_target_open only under the configuration it was resolved
 * by, and a directory that does not answer is a store error, never "no
 * store".
 */
static void
test_directory(void **state)
{
	struct rec_config cfg;
	struct rec_target t;
	struct rec_store *st = (struct rec_store *)&t;
	struct capture cap;
	struct rec_log log;
	int r;

	(void)state;
	capture_init(&cap, &log);
	config(&cfg, "ldap", "/etc/rec.key");
	assert_int_equal(rec_target_check_pepper(&cfg, &log), REC_OK);
	assert_int_equal(rec_target_resolve(&cfg, "alice", &alice, 0, &t),
	    REC_OK);
	assert_true(t.directory);
	assert_false(t.per_user);
	assert_string_equal(t.path, "");
	assert_int_equal(t.owner, geteuid());
	assert_int_equal(t.owner_gid, getegid());
	assert_true(t.pepper);
	assert_int_equal(rec_target_resolve(&cfg, "ghost", NULL, 0, &t),
	    REC_OK);
	assert_true(t.directory);
	assert_int_equal(rec_target_resolve(&cfg, "ghost", NULL,
	    REC_TARGET_KNOWN, &t), REC_ERR_NOUSER);
	assert_int_equal(rec_target_resolve(&cfg, NULL, NULL, 0, &t), REC_OK);
	assert_true(t.directory);

	/* Nothing listens on port 9 of 127.0.0.1 here: an error, not NOSTORE. */
	assert_int_equal(rec_config_set(&cfg, "ldap_uri", "ldaps://127.0.0.1:9/",
	    "t", 0, NULL), REC_OK);
	assert_int_equal(rec_config_set(&cfg, "ldap_base", "ou=r,dc=x", "t", 0,
	    NULL), REC_OK);
	assert_int_equal(rec_config_set(&cfg, "ldap_bind_dn", "cn=h,dc=x", "t",
	    0, NULL), REC_OK);
	assert_int_equal(rec_config_set(&cfg, "ldap_bind_pw_file", "/nonexistent",
	    "t", 0, NULL), REC_OK);
	assert_int_equal(rec_config_set(&cfg, "ldap_timeout", "1", "t", 0,
	    NULL), REC_OK);
	r = rec_target_open(&cfg, &t, 0, &log, &st);
	assert_true(r == REC_ERR_IO || r == REC_ERR_TIMEOUT);
	assert_null(st);

	/* A target resolved under another configuration is not opened. */
	config(&cfg, "/var/lib/rec/system", NULL);
	st = (struct rec_store *)&t;
	assert_int_equal(rec_target_open(&cfg, &t, 0, &log, &st),
	    REC_ERR_USAGE);
	assert_null(st);
}

/* The target's child is its owner: here, the system store's, ourselves. */
static int
say_uid(void *arg, int fd)
{
	uint32_t ids[2] = { (uint32_t)getuid(), (uint32_t)getgid() };

	(void)arg;
	return rec_child_send_reply(fd, REC_OK, ids, sizeof(ids)) == 0 ? 0 : 1;
}

static void
test_child_is_owner(void **state)
{
	struct rec_config cfg;
	struct rec_target t;
	struct rec_child c;
	struct capture cap;
	struct rec_log log;
	uint32_t ids[2] = { 0, 0 };
	int r = -1;

	(void)state;
	capture_init(&cap, &log);
	config(&cfg, "/var/lib/rec/system", NULL);
	assert_int_equal(rec_target_resolve(&cfg, "alice", &alice, 0, &t),
	    REC_OK);
	assert_int_equal(rec_target_start(&t, 30, say_uid, NULL, &log, &c),
	    REC_OK);
	assert_int_equal(rec_child_receive_reply(&c, &r, ids, sizeof(ids)),
	    REC_OK);
	rec_child_end(&c);
	assert_int_equal(r, REC_OK);
	assert_int_equal(ids[0], geteuid());
	assert_int_equal(ids[1], getegid());
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_user),
		cmocka_unit_test(test_per_user_unknown),
		cmocka_unit_test(test_system),
		cmocka_unit_test(test_whole_store),
		cmocka_unit_test(test_bad_names_and_homes),
		cmocka_unit_test(test_pepper_rule),
		cmocka_unit_test(test_directory),
		cmocka_unit_test(test_child_is_owner),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
