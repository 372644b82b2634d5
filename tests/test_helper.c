/* SPDX-License-Identifier: BSD-2-Clause */
/* test_helper.c: unit tests of the store helper's messages. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rec_err.h"
#include "rec_helper.h"

static uint8_t buf[REC_HELPER_JOB_MAX];

static void
fill_job(struct rec_helper_job *j)
{
	static const char args[] = "max_attempts=3\0store_timeout=4\0";

	memset(j, 0, sizeof(*j));
	j->uid = 1001;
	j->gid = 0x80000001u;
	j->parent = 4242;
	strcpy(j->store, "/home/alice/.pam-recovery");
	strcpy(j->conf, "/etc/security/pam_recovery.conf");
	j->conf_given = 1;
	memcpy(j->args, args, sizeof(args) - 1);
	j->args_len = sizeof(args) - 1;
	strcpy(j->user, "alice");
	j->has_service = 1;
	strcpy(j->service, "sshd");
	j->has_rhost = 1;
	strcpy(j->rhost, "203.0.113.9");
	j->debug = 1;
	j->have_pepper = 1;
	for (size_t i = 0; i < sizeof(j->pepper); i++)
		j->pepper[i] = (unsigned char)(i * 7);
}

/* Every field comes back as it went; the encoding is big-endian. */
static void
test_job_round_trip(void **state)
{
	struct rec_helper_job j, k;
	size_t len;

	(void)state;
	fill_job(&j);
	assert_int_equal(rec_helper_job_encode(&j, buf, sizeof(buf), &len),
	    REC_OK);
	assert_memory_equal(buf, "PRSJ\001\000\000\003\351", 9);
	assert_int_equal(rec_helper_job_decode(buf, len, &k), REC_OK);
	assert_int_equal(k.uid, 1001);
	assert_int_equal(k.gid, 0x80000001u);
	assert_int_equal(k.parent, 4242);
	assert_string_equal(k.store, j.store);
	assert_string_equal(k.conf, j.conf);
	assert_int_equal(k.conf_given, 1);
	assert_int_equal(k.args_len, j.args_len);
	assert_memory_equal(k.args, j.args, j.args_len);
	assert_string_equal(k.user, "alice");
	assert_true(k.has_service && k.has_rhost && !k.has_tty);
	assert_string_equal(k.service, "sshd");
	assert_string_equal(k.rhost, "203.0.113.9");
	assert_int_equal(k.debug, 1);
	assert_int_equal(k.have_pepper, 1);
	assert_memory_equal(k.pepper, j.pepper, sizeof(j.pepper));
}

/* Any cut, extra byte, bad magic or version, or NUL in a string: refused. */
static void
test_job_refused(void **state)
{
	struct rec_helper_job j, k;
	size_t len;

	(void)state;
	fill_job(&j);
	assert_int_equal(rec_helper_job_encode(&j, buf, sizeof(buf), &len),
	    REC_OK);
	for (size_t cut = 0; cut < len; cut++)
		assert_int_equal(rec_helper_job_decode(buf, cut, &k),
		    REC_ERR_CORRUPT);
	buf[len] = 0;
	assert_int_equal(rec_helper_job_decode(buf, len + 1, &k),
	    REC_ERR_CORRUPT);
	buf[4] = 2;				/* version */
	assert_int_equal(rec_helper_job_decode(buf, len, &k), REC_ERR_CORRUPT);
	buf[4] = 1;
	buf[0] = 'X';				/* magic */
	assert_int_equal(rec_helper_job_decode(buf, len, &k), REC_ERR_CORRUPT);
	buf[0] = 'P';
	buf[19 + 3] = '\0';			/* inside the store path */
	assert_int_equal(rec_helper_job_decode(buf, len, &k), REC_ERR_CORRUPT);
	assert_int_equal(k.uid, 0);		/* nothing half-decoded */
	/* An argument list whose last argument has no NUL. */
	fill_job(&j);
	j.args_len--;
	assert_int_equal(rec_helper_job_encode(&j, buf, sizeof(buf), &len),
	    REC_ERR_USAGE);
	/* No room: refused, not cut. */
	fill_job(&j);
	assert_int_equal(rec_helper_job_encode(&j, buf, 40, &len),
	    REC_ERR_USAGE);
}

static void
test_answers_round_trip(void **state)
{
	struct rec_status s, t;
	struct rec_result r, q;
	uint8_t out[REC_HELPER_STATUS_LEN], res[REC_HELPER_RESULT_LEN];
	int exists = 0;

	(void)state;
	memset(&s, 0, sizeof(s));
	s.enrolled = 1;
	s.fmt.alphabet = REC_ALPHA_BASE60;
	s.fmt.length = 20;
	s.fmt.group = 5;
	s.fmt.check = 1;
	s.batch = 0x0102030405060708ULL;
	s.remaining = 7;
	s.count = 10;
	s.used = 2;
	s.invalidated = 1;
	s.created = 1700000000;
	s.expires = 1800000000;
	s.verified = 1750000000;
	s.expired = 1;
	s.lock_remaining = 59;
	s.failures = 4;
	s.last_used = 1760000000;
	rec_helper_status_encode(&s, 1, out);
	assert_int_equal(rec_helper_status_decode(out, &t, &exists), REC_OK);
	assert_int_equal(exists, 1);
	assert_memory_equal(&s, &t, sizeof(s));
	out[2] = 9;				/* no such alphabet */
	assert_int_equal(rec_helper_status_decode(out, &t, &exists),
	    REC_ERR_CORRUPT);
	memset(&r, 0, sizeof(r));
	r.batch = 99;
	r.slot = 3;
	r.remaining = 6;
	r.lock_remaining = 120;
	r.locked_now = 1;
	r.kdf_evals = 1;
	rec_helper_result_encode(&r, res);
	assert_int_equal(rec_helper_result_decode(res, &q), REC_OK);
	assert_memory_equal(&r, &q, sizeof(r));
	res[0] = 0;				/* version */
	assert_int_equal(rec_helper_result_decode(res, &q), REC_ERR_CORRUPT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_job_round_trip),
		cmocka_unit_test(test_job_refused),
		cmocka_unit_test(test_answers_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
