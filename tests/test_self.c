/* SPDX-License-Identifier: BSD-2-Clause */
/* test_self.c: cmocka tests for rec_self (the self-service's messages). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rec_err.h"
#include "rec_self.h"

static void
test_head_round_trip(void **state)
{
	uint8_t h[REC_SELF_HEAD_LEN];
	size_t len;
	int type;

	(void)state;
	assert_int_equal(rec_self_head(h, REC_SELF_CONFIRM, 300), REC_OK);
	assert_int_equal(h[0], REC_SELF_VERSION);
	assert_int_equal(rec_self_parse_head(h, &type, &len), REC_OK);
	assert_int_equal(type, REC_SELF_CONFIRM);
	assert_int_equal(len, 300);
	assert_int_equal(rec_self_head(h, REC_SELF_DONE, 0), REC_OK);
	assert_int_equal(rec_self_parse_head(h, &type, &len), REC_OK);
	assert_int_equal(len, 0);
}

static void
test_head_refusals(void **state)
{
	uint8_t h[REC_SELF_HEAD_LEN];
	size_t len = 7;
	int type = 7;

	(void)state;
	assert_int_equal(rec_self_head(h, 99, 1), REC_ERR_USAGE);
	assert_int_equal(rec_self_head(h, REC_SELF_INFO,
	    REC_SELF_PAYLOAD_MAX + 1), REC_ERR_USAGE);
	/* Another version, an unknown type, a payload over the bound. */
	memcpy(h, "\x02\x01\x00\x01", 4);
	assert_int_equal(rec_self_parse_head(h, &type, &len),
	    REC_ERR_MALFORMED);
	memcpy(h, "\x01\x05\x00\x01", 4);
	assert_int_equal(rec_self_parse_head(h, &type, &len),
	    REC_ERR_MALFORMED);
	memcpy(h, "\x01\x01\x10\x01", 4);
	assert_int_equal(rec_self_parse_head(h, &type, &len),
	    REC_ERR_MALFORMED);
	/* Untouched on a refusal. */
	assert_int_equal(type, 7);
	assert_int_equal(len, 7);
}

static void
test_request_round_trip(void **state)
{
	char *argv[] = { "generate", "-n", "5", "--format", "csv" };
	static struct rec_self_request req;
	uint8_t buf[REC_SELF_PAYLOAD_MAX];
	size_t len;

	(void)state;
	assert_int_equal(rec_self_encode_request(buf, sizeof(buf), &len,
	    "sudo", 5, argv), REC_OK);
	assert_int_equal(rec_self_decode_request(buf, len, &req), REC_OK);
	assert_string_equal(req.service, "sudo");
	assert_int_equal(req.argc, 5);
	for (int i = 0; i < 5; i++)
		assert_string_equal(req.argv[i], argv[i]);
	assert_null(req.argv[5]);
	/* No service, an empty argument. */
	argv[1] = "";
	assert_int_equal(rec_self_encode_request(buf, sizeof(buf), &len,
	    NULL, 2, argv), REC_OK);
	assert_int_equal(rec_self_decode_request(buf, len, &req), REC_OK);
	assert_string_equal(req.service, "");
	assert_string_equal(req.argv[1], "");
}

static void
test_request_refusals(void **state)
{
	static struct rec_self_request req;
	char *many[REC_SELF_ARGS_MAX + 1];
	static char big[REC_SELF_ARG_MAX + 2];
	uint8_t buf[REC_SELF_PAYLOAD_MAX];
	size_t len;

	(void)state;
	for (int i = 0; i <= REC_SELF_ARGS_MAX; i++)
		many[i] = "x";
	assert_int_equal(rec_self_encode_request(buf, sizeof(buf), &len, "",
	    REC_SELF_ARGS_MAX + 1, many), REC_ERR_USAGE);
	assert_int_equal(rec_self_encode_request(buf, sizeof(buf), &len, "",
	    0, many), REC_ERR_USAGE);
	memset(big, 'a', sizeof(big) - 1);
	many[0] = big;
	assert_int_equal(rec_self_encode_request(buf, sizeof(buf), &len, "",
	    1, many), REC_ERR_USAGE);

	/* Service "", no argument. */
	assert_int_equal(rec_self_decode_request((const uint8_t *)
	    "\x00\x00\x00", 3, &req), REC_ERR_MALFORMED);
	/* One argument "ab", then a byte too many. */
	assert_int_equal(rec_self_decode_request((const uint8_t *)
	    "\x00\x00\x01\x00\x02" "ab" "!", 8, &req), REC_ERR_MALFORMED);
	assert_int_equal(rec_self_decode_request((const uint8_t *)
	    "\x00\x00\x01\x00\x02" "ab", 7, &req), REC_OK);
	assert_string_equal(req.argv[0], "ab");
	/* A NUL inside an argument; a length past the end. */
	assert_int_equal(rec_self_decode_request((const uint8_t *)
	    "\x00\x00\x01\x00\x02" "a\0", 7, &req), REC_ERR_MALFORMED);
	assert_int_equal(rec_self_decode_request((const uint8_t *)
	    "\x00\x00\x01\x00\x09" "ab", 7, &req), REC_ERR_MALFORMED);
	assert_int_equal(req.argc, 0);
	/* A service name of 64 bytes is one too many. */
	buf[0] = 0;
	buf[1] = 64;
	memset(buf + 2, 's', 64);
	memcpy(buf + 66, "\x01\x00\x01x", 4);
	assert_int_equal(rec_self_decode_request(buf, 70, &req),
	    REC_ERR_MALFORMED);
	buf[1] = 63;
	memcpy(buf + 65, "\x01\x00\x01x", 4);
	assert_int_equal(rec_self_decode_request(buf, 69, &req), REC_OK);
}

static void
test_text(void **state)
{
	char out[8];

	(void)state;
	assert_int_equal(rec_self_decode_text((const uint8_t *)"Pass: ", 6,
	    out, sizeof(out)), REC_OK);
	assert_string_equal(out, "Pass: ");
	assert_int_equal(rec_self_decode_text((const uint8_t *)"a\0b", 3, out,
	    sizeof(out)), REC_ERR_MALFORMED);
	assert_int_equal(rec_self_decode_text((const uint8_t *)"12345678", 8,
	    out, sizeof(out)), REC_ERR_MALFORMED);
	assert_int_equal(rec_self_decode_text((const uint8_t *)"", 0, out,
	    sizeof(out)), REC_OK);
	assert_string_equal(out, "");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_head_round_trip),
		cmocka_unit_test(test_head_refusals),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_request_refusals),
		cmocka_unit_test(test_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
