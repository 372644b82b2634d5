/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_helper.c: libFuzzer target for the decoders of the store helper's messages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_err.h"
#include "rec_helper.h"

#define REQUIRE(cond) do { if (!(cond)) { fprintf(stderr, \
	"fuzz_helper: %s failed at line %d\n", #cond, __LINE__); \
	abort(); } } while (0)

/*
 * The module decodes the answers of a helper that runs as the user, and
 * the helper the module's job: whatever decodes must be the exact
 * encoding of what was decoded, and decode the same again.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec_helper_job j, k;
	static uint8_t enc[REC_HELPER_JOB_MAX];
	uint8_t st[REC_HELPER_STATUS_LEN], res[REC_HELPER_RESULT_LEN];
	struct rec_status s, s2;
	struct rec_result r, r2;
	size_t n;
	int exists, exists2;

	if (rec_helper_job_decode(data, size, &j) == REC_OK) {
		REQUIRE(rec_helper_job_encode(&j, enc, sizeof(enc), &n) ==
		    REC_OK);
		REQUIRE(n == size && memcmp(enc, data, n) == 0);
		REQUIRE(rec_helper_job_decode(enc, n, &k) == REC_OK);
		REQUIRE(memcmp(&j, &k, sizeof(j)) == 0);
	}
	if (size >= REC_HELPER_STATUS_LEN &&
	    rec_helper_status_decode(data, &s, &exists) == REC_OK) {
		rec_helper_status_encode(&s, exists, st);
		REQUIRE(memcmp(st, data, sizeof(st)) == 0);
		REQUIRE(rec_helper_status_decode(st, &s2, &exists2) == REC_OK);
		REQUIRE(memcmp(&s, &s2, sizeof(s)) == 0 && exists == exists2);
	}
	if (size >= REC_HELPER_RESULT_LEN &&
	    rec_helper_result_decode(data, &r) == REC_OK) {
		rec_helper_result_encode(&r, res);
		REQUIRE(memcmp(res, data, sizeof(res)) == 0);
		REQUIRE(rec_helper_result_decode(res, &r2) == REC_OK);
		REQUIRE(memcmp(&r, &r2, sizeof(r)) == 0);
	}
	return 0;
}
