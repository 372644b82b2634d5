/* SPDX-License-Identifier: BSD-2-Clause */
/* test_ldap.c: the directory store's values, DNs and refusals, no server. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sodium.h>

#include "testutil.h"
#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

/* ---- The lockout value ------------------------------------------------ */

static void
assert_lock_equal(const struct rec_lock *a, const struct rec_lock *b)
{
	assert_int_equal(a->failures, b->failures);
	assert_true(a->window_start == b->window_start);
	assert_true(a->last_fail == b->last_fail);
	assert_true(a->locked_until == b->locked_until);
	assert_true(a->cooldown == b->cooldown);
}

static void
test_lock_round_trip(void **state)
{
	struct rec_lock in = { 3, 100, 200, 300, 60 }, out, max = {
		UINT32_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX, UINT64_MAX };
	char buf[128];

	(void)state;
	assert_int_equal(rec_ldap_lock_encode(&in, buf, sizeof(buf)), REC_OK);
	assert_string_equal(buf, "3 100 200 300 60");
	assert_int_equal(rec_ldap_lock_parse(buf, &out), REC_OK);
	assert_lock_equal(&in, &out);
	assert_int_equal(rec_ldap_lock_encode(&max, buf, sizeof(buf)), REC_OK);
	assert_int_equal(rec_ldap_lock_parse(buf, &out), REC_OK);
	assert_lock_equal(&max, &out);
	assert_int_equal(rec_ldap_lock_encode(&in, buf, 8), REC_ERR_INTERNAL);
}

/* Only what the encoder writes: else two hosts could disagree on a value. */
static void
test_lock_refused(void **state)
{
	static const char *const bad[] = {
		"", "1 2 3 4", "1 2 3 4 5 6", "01 2 3 4 5", "1  2 3 4 5",
		" 1 2 3 4 5", "1 2 3 4 5 ", "-1 2 3 4 5", "+1 2 3 4 5",
		"4294967296 0 0 0 0", "0 18446744073709551616 0 0 0",
		"a 2 3 4 5", "1\t2 3 4 5", "1 2 3 4 5\n",
	};
	struct rec_lock out;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rec_ldap_lock_parse(bad[i], &out) != REC_ERR_CORRUPT) {
			print_error("accepted \"%s\"\n", bad[i]);
			fail();
		}
	}
}

/* ---- A code's value --------------------------------------------------- */

static void
batch_at(struct rec_batch *b, uint64_t ops, uint64_t mem)
{
	memset(b, 0, sizeof(*b));
	b->opslimit = ops;
	b->memlimit = mem;
}

static void
test_code_round_trip(void **state)
{
	struct rec_batch b;
	struct rec_code_rec in, out;
	char buf[384];

	(void)state;
	batch_at(&b, 2, 64 << 20);
	memset(&in, 0, sizeof(in));
	in.slot = 3;
	in.tag = 77;
	randombytes_buf(in.salt, sizeof(in.salt));
	randombytes_buf(in.hash, sizeof(in.hash));
	assert_int_equal(rec_ldap_code_encode(&b, &in, buf, sizeof(buf)),
	    REC_OK);
	assert_non_null(strstr(buf, "3 77 $argon2id$v=19$m=65536,t=2,p=1$"));
	assert_null(strchr(strstr(buf, "p=1$") + 4, '='));	/* no padding */
	assert_int_equal(rec_ldap_code_parse(&b, buf, &out), REC_OK);
	assert_int_equal(out.slot, 3);
	assert_int_equal(out.tag, 77);
	assert_int_equal(out.state, REC_CODE_UNUSED);
	assert_memory_equal(out.salt, in.salt, sizeof(in.salt));
	assert_memory_equal(out.hash, in.hash, sizeof(in.hash));
	assert_int_equal(rec_ldap_code_encode(&b, &in, buf, 40),
	    REC_ERR_INTERNAL);
}

/* A value is accepted only when building it again gives the same bytes. */
static void
test_code_refused(void **state)
{
	static const char *const bad[] = {
		"", "0 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"101 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"01 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1  1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1 65536 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		/* another cost than the batch's */
		"1 1 $argon2id$v=19$m=16,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1 1 $argon2id$v=19$m=8,t=2,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1 1 $argon2i$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		/* padding, short salt, short hash, a bad character */
		"1 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA==$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAA*$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
		"1 1 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ",
		"1 1 AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
	};
	static const char *good = "1 1 $argon2id$v=19$m=8,t=1,p=1$"
	    "AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
	struct rec_batch b;
	struct rec_code_rec out;

	(void)state;
	batch_at(&b, 1, 8192);
	assert_int_equal(rec_ldap_code_parse(&b, good, &out), REC_OK);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rec_ldap_code_parse(&b, bad[i], &out) != REC_ERR_CORRUPT) {
			print_error("accepted \"%s\"\n", bad[i]);
			fail();
		}
	}
}

/* A mark keeps the code's value (its hash), then the time and who. */
static void
test_marks(void **state)
{
	static const char *const bad[] = {
		"", "3 1700000000 host-a",
		"3 7 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1700000000",
		"3 7 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1700000000 ",
		"3 7 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA x host",
		"3 7 $argon2id$v=19$m=16,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1 host",
		"0 7 $argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAAAAAAAAAAAAA$"
		    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA 1 host",
	};
	struct rec_batch b;
	struct rec_code_rec in, out;
	char buf[512];

	(void)state;
	batch_at(&b, 1, 8192);
	memset(&in, 0, sizeof(in));
	in.slot = 3;
	in.tag = 7;
	randombytes_buf(in.salt, sizeof(in.salt));
	randombytes_buf(in.hash, sizeof(in.hash));
	assert_int_equal(rec_ldap_mark_encode(&b, &in, 1700000000,
	    "host-a", buf, sizeof(buf)), REC_OK);
	assert_int_equal(rec_ldap_mark_parse(&b, buf, REC_CODE_USED, &out),
	    REC_OK);
	assert_int_equal(out.slot, 3);
	assert_int_equal(out.tag, 7);
	assert_int_equal(out.state, REC_CODE_USED);
	assert_true(out.changed == 1700000000);
	assert_memory_equal(out.hash, in.hash, sizeof(in.hash));
	assert_memory_equal(out.salt, in.salt, sizeof(in.salt));
	/* Who may hold blanks: it is the rest of the value. */
	assert_int_equal(rec_ldap_mark_encode(&b, &in, 0, "admin root",
	    buf, sizeof(buf)), REC_OK);
	assert_int_equal(rec_ldap_mark_parse(&b, buf, REC_CODE_INVALID, &out),
	    REC_OK);
	assert_int_equal(out.state, REC_CODE_INVALID);
	assert_int_equal(rec_ldap_mark_encode(&b, &in, 0, "x", buf, 64),
	    REC_ERR_INTERNAL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rec_ldap_mark_parse(&b, bad[i], REC_CODE_USED, &out) !=
		    REC_ERR_CORRUPT) {
			print_error("accepted \"%s\"\n", bad[i]);
			fail();
		}
	}
}

static void
test_formats(void **state)
{
	static const char *const bad[] = {
		"", "base64 20 5 1", "base32 20 21 1", "base32 20 5 2",
		"base32  20 5 1", "base32 20 5", "BASE32 20 5 1",
		"base32 20 5 1 ",
		"base32 99999 5 1",
	};
	struct rec_format f;

	(void)state;
	assert_int_equal(rec_ldap_format_parse("base32 20 5 1", &f), REC_OK);
	assert_int_equal(f.alphabet, REC_ALPHA_BASE32);
	assert_int_equal(f.length, 20);
	assert_int_equal(f.group, 5);
	assert_int_equal(f.check, 1);
	assert_int_equal(rec_ldap_format_parse("base60 36 6 1", &f), REC_OK);
	assert_int_equal(f.alphabet, REC_ALPHA_BASE60);
	assert_int_equal(rec_ldap_format_parse("digits 12 0 0", &f), REC_OK);
	assert_int_equal(f.alphabet, REC_ALPHA_DIGITS);
	assert_int_equal(f.check, 0);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (rec_ldap_format_parse(bad[i], &f) != REC_ERR_CORRUPT) {
			print_error("accepted \"%s\"\n", bad[i]);
			fail();
		}
	}
}

/* ---- DNs -------------------------------------------------------------- */

static void
test_user_dn(void **state)
{
	static const struct {
		const char *user, *dn;
	} good[] = {
		{ "alice", "uid=alice,ou=recovery,dc=example,dc=org" },
		{ "a,b+c", "uid=a\\,b\\+c,ou=recovery,dc=example,dc=org" },
		{ "x=\"y\";<z>\\", "uid=x\\=\\\"y\\\"\\;\\<z\\>\\\\,ou=recovery,"
		    "dc=example,dc=org" },
		{ "#x", "uid=\\#x,ou=recovery,dc=example,dc=org" },
		{ "x#", "uid=x#,ou=recovery,dc=example,dc=org" },
		{ " x ", "uid=\\ x\\ ,ou=recovery,dc=example,dc=org" },
	};
	static struct rec_ldap c;
	char dn[REC_DN_MAX], longname[REC_USER_MAX + 1];

	(void)state;
	rec_config_defaults(&c.cfg);
	snprintf(c.cfg.ldap_base, sizeof(c.cfg.ldap_base),
	    "ou=recovery,dc=example,dc=org");
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(rec_ldap_user_dn(&c, good[i].user, dn),
		    REC_OK);
		assert_string_equal(dn, good[i].dn);
	}
	assert_int_equal(rec_ldap_user_dn(&c, "", dn), REC_ERR_USAGE);
	assert_int_equal(rec_ldap_user_dn(&c, NULL, dn), REC_ERR_USAGE);
	assert_int_equal(rec_ldap_user_dn(&c, "a\nb", dn), REC_ERR_USAGE);
	assert_int_equal(rec_ldap_user_dn(&c, "a\177", dn), REC_ERR_USAGE);
	memset(longname, 'a', REC_USER_MAX);
	longname[REC_USER_MAX] = '\0';
	assert_int_equal(rec_ldap_user_dn(&c, longname, dn), REC_ERR_USAGE);
	longname[REC_USER_MAX - 1] = '\0';
	assert_int_equal(rec_ldap_user_dn(&c, longname, dn), REC_OK);
}

/* pam-recovery's bind DN: ldap_user_dn with the user's name escaped. */
static void
test_bind_dn(void **state)
{
	static const struct {
		const char *pattern, *user, *dn;
	} good[] = {
		{ "uid=%u,ou=people,dc=example,dc=org", "alice",
		    "uid=alice,ou=people,dc=example,dc=org" },
		/* A name cannot add an RDN of its own, nor end the DN. */
		{ "uid=%u,ou=people,dc=example,dc=org", "bob,ou=admins",
		    "uid=bob\\,ou\\=admins,ou=people,dc=example,dc=org" },
		{ "uid=%u,ou=people", "a+cn=b", "uid=a\\+cn\\=b,ou=people" },
		{ "uid=%u,ou=people", " #x ", "uid=\\ #x\\ ,ou=people" },
		{ "cn=%u (%%),dc=org", "x\\", "cn=x\\\\ (%),dc=org" },
		{ "cn=%u%u", "ab", "cn=abab" },
		{ "uid=alice,ou=people", "bob", "uid=alice,ou=people" },
	};
	char dn[REC_LDAP_DN_MAX], small[12], longname[REC_USER_MAX];

	(void)state;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(rec_ldap_bind_dn(good[i].pattern, good[i].user,
		    dn, sizeof(dn)), REC_OK);
		assert_string_equal(dn, good[i].dn);
	}
	assert_int_equal(rec_ldap_bind_dn("uid=%s", "a", dn, sizeof(dn)),
	    REC_ERR_CONFIG);
	assert_int_equal(rec_ldap_bind_dn("uid=%u%", "a", dn, sizeof(dn)),
	    REC_ERR_CONFIG);
	assert_int_equal(rec_ldap_bind_dn("", "a", dn, sizeof(dn)),
	    REC_ERR_CONFIG);
	assert_int_equal(rec_ldap_bind_dn("uid=%u", "", dn, sizeof(dn)),
	    REC_ERR_USAGE);
	assert_int_equal(rec_ldap_bind_dn("uid=%u", "a\nb", dn, sizeof(dn)),
	    REC_ERR_USAGE);
	/* "uid=" and 7 characters fill 12 bytes; one more does not fit. */
	assert_int_equal(rec_ldap_bind_dn("uid=%u", "abcdefg", small,
	    sizeof(small)), REC_OK);
	assert_string_equal(small, "uid=abcdefg");
	assert_int_equal(rec_ldap_bind_dn("uid=%u", "abcdefgh", small,
	    sizeof(small)), REC_ERR_USAGE);
	/* The longest name, every character escaped, still fits. */
	memset(longname, ',', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	assert_int_equal(rec_ldap_bind_dn("uid=%u", longname, dn, sizeof(dn)),
	    REC_OK);
	assert_int_equal(strlen(dn), 4 + 2 * (REC_USER_MAX - 1));
}

/* ---- Refusals before any connection ------------------------------------ */

static void
test_open_refusals(void **state)
{
	struct rec_config cfg;
	struct rec_ldap *c = NULL;
	struct capture cap;
	struct rec_log log;

	(void)state;
	capture_init(&cap, &log);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_ldap_open(&cfg, 0, &log, &c), REC_ERR_CONFIG);
	assert_null(c);
	assert_logged(&cap, "ldap_uri and ldap_base must be set");

	/* Plain LDAP: refused before connecting, whatever listens there. */
	snprintf(cfg.ldap_uri, sizeof(cfg.ldap_uri), "ldap://127.0.0.1:1/");
	snprintf(cfg.ldap_base, sizeof(cfg.ldap_base), "dc=example,dc=org");
	cfg.ldap_starttls = 0;
	capture_init(&cap, &log);
	assert_int_equal(rec_ldap_open(&cfg, 0, &log, &c), REC_ERR_CONFIG);
	assert_null(c);
	assert_logged(&cap, "refusing ldap:// without StartTLS");

	/* The write URI, when set, is the one used for writing. */
	snprintf(cfg.ldap_write_uri, sizeof(cfg.ldap_write_uri),
	    "ldap://127.0.0.2:1/");
	capture_init(&cap, &log);
	assert_int_equal(rec_ldap_open(&cfg, 1, &log, &c), REC_ERR_CONFIG);
	assert_logged(&cap, "ldap://127.0.0.2:1/: refusing ldap://");

	/* Nothing listening: a store error at once, never a success. */
	cfg.ldap_starttls = 1;
	cfg.ldap_timeout = 2;
	capture_init(&cap, &log);
	assert_int_equal(rec_ldap_open(&cfg, 0, &log, &c), REC_ERR_IO);
	assert_null(c);
	assert_logged(&cap, "cannot connect");

	rec_ldap_close(NULL);
}

/*
 * A connection opened for reading (perhaps to a replica) changes nothing,
 * nor reads the state a change is decided on: every write is refused
 * before anything is sent (there is no server here, nor a handle).
 */
static void
test_read_connection_writes_nothing(void **state)
{
	static struct rec_ldap c;
	static struct rec_code_rec codes[1];
	struct rec_batch b;
	struct rec_lock before, counted;
	struct rec_event ev;
	struct rec_config cfg;
	struct capture cap;
	struct rec_log log;
	uint64_t wait = 0;

	(void)state;
	capture_init(&cap, &log);
	rec_config_defaults(&c.cfg);
	snprintf(c.cfg.ldap_base, sizeof(c.cfg.ldap_base),
	    "ou=recovery,dc=example,dc=org");
	snprintf(c.uri, sizeof(c.uri), "ldap://replica.example.org/");
	c.log = &log;
	c.write = 0;
	cfg = c.cfg;
	cfg.generate_cooldown = 60;
	batch_at(&b, 1, 8);
	b.id = 7;
	b.count = 1;
	b.status = REC_BATCH_ACTIVE;
	codes[0].slot = 1;
	codes[0].state = REC_CODE_UNUSED;
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_EV_CODE_USED;
	snprintf(ev.user, sizeof(ev.user), "alice");

	assert_int_equal(rec_ldap_count_attempt(&c, "alice", 100, &cfg,
	    &before, &counted), REC_ERR_USAGE);
	assert_logged(&cap, "replica.example.org/: lockout update over a "
	    "connection opened for reading");
	assert_int_equal(rec_ldap_clear_lock(&c, "alice"), REC_ERR_USAGE);
	assert_int_equal(rec_ldap_take_generate(&c, "alice", 100, &cfg, &wait),
	    REC_ERR_USAGE);
	assert_int_equal(rec_ldap_mark_code(&c, "alice", &b, &codes[0],
	    REC_CODE_USED, 100, "host-a"), REC_ERR_USAGE);
	assert_int_equal(rec_ldap_note_use(&c, "alice", 100), REC_ERR_USAGE);
	assert_int_equal(rec_ldap_write_batch(&c, "alice", &b, codes, 1, 100),
	    REC_ERR_USAGE);
	assert_int_equal(rec_ldap_audit(&c, &ev, "host-a"), REC_ERR_USAGE);
	assert_logged(&cap, "over a connection opened for reading");
	assert_null(c.ld);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lock_round_trip),
		cmocka_unit_test(test_lock_refused),
		cmocka_unit_test(test_code_round_trip),
		cmocka_unit_test(test_code_refused),
		cmocka_unit_test(test_marks),
		cmocka_unit_test(test_formats),
		cmocka_unit_test(test_user_dn),
		cmocka_unit_test(test_bind_dn),
		cmocka_unit_test(test_open_refusals),
		cmocka_unit_test(test_read_connection_writes_nothing),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
