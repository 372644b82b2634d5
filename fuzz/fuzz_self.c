/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_self.c: libFuzzer target for the decoders of the self-service's messages. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_err.h"
#include "rec_self.h"

#define REQUIRE(cond) do { if (!(cond)) { fprintf(stderr, \
	"fuzz_self: %s failed at line %d\n", #cond, __LINE__); \
	abort(); } } while (0)

/*
 * pam-recovery-selfd, as root, decodes what any local user sends: a head
 * and a request that decode must be the exact encoding of what was
 * decoded, and decode the same again.
 */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rec_self_request req, again;
	static uint8_t enc[REC_SELF_PAYLOAD_MAX];
	static char text[REC_SELF_PAYLOAD_MAX + 1];
	uint8_t head[REC_SELF_HEAD_LEN];
	size_t len, n;
	int type;

	if (size >= REC_SELF_HEAD_LEN &&
	    rec_self_parse_head(data, &type, &len) == REC_OK) {
		REQUIRE(len <= REC_SELF_PAYLOAD_MAX);
		REQUIRE(rec_self_head(head, type, len) == REC_OK);
		REQUIRE(memcmp(head, data, REC_SELF_HEAD_LEN) == 0);
	}
	if (rec_self_decode_request(data, size, &req) == REC_OK) {
		REQUIRE(req.argc >= 1 && req.argc <= REC_SELF_ARGS_MAX);
		REQUIRE(req.argv[req.argc] == NULL);
		REQUIRE(rec_self_encode_request(enc, sizeof(enc), &n,
		    req.service, req.argc, req.argv) == REC_OK);
		REQUIRE(n == size && memcmp(enc, data, n) == 0);
		REQUIRE(rec_self_decode_request(enc, n, &again) == REC_OK);
		REQUIRE(again.argc == req.argc);
		for (unsigned i = 0; i < req.argc; i++)
			REQUIRE(strcmp(again.argv[i], req.argv[i]) == 0);
	}
	if (rec_self_decode_text(data, size, text, sizeof(text)) == REC_OK)
		REQUIRE(strlen(text) == size);
	return 0;
}
