/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_record.c: libFuzzer target for the decoders of every store record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_err.h"
#include "rec_record.h"

#define REQUIRE(cond) do { if (!(cond)) { fprintf(stderr, \
	"fuzz_record: %s failed at line %d\n", #cond, __LINE__); \
	abort(); } } while (0)

/*
 * For each record type: an accepted input must be the exact encoding of
 * what was decoded (one encoding per record, nothing ignored), and decoding
 * that encoding again must give the same record.  Decoders memset their
 * output first, so whole structs compare with memcmp.
 */
#define ROUND_TRIP(type, decode, encode, check) do {				\
	type a, b;							\
	uint8_t enc[REC_RECORD_BUF];					\
	size_t n;							\
									\
	memset(&a, 0xa5, sizeof(a));					\
	if (decode(data, size, &a) == REC_OK) {				\
		n = encode(&a, enc);					\
		REQUIRE(n <= REC_RECORD_BUF);				\
		REQUIRE(n == size && memcmp(enc, data, n) == 0);	\
		REQUIRE(decode(enc, n, &b) == REC_OK);			\
		REQUIRE(memcmp(&a, &b, sizeof(a)) == 0);		\
		check(&a);						\
	}								\
} while (0)

static void
accepted_user(const struct rec_user *u)
{
	(void)u;
}

static void
accepted_batch(const struct rec_batch *b)
{
	REQUIRE(b->count >= 1 && b->count <= REC_COUNT_MAX);
	REQUIRE(b->used + b->invalidated <= b->count);
	REQUIRE(b->fmt.length <= REC_CODE_MAX);
	REQUIRE(b->tag_bits <= REC_TAG_MAX_BITS);
	REQUIRE(strcmp(rec_batch_status_name(b, UINT64_MAX), "unknown") != 0);
	REQUIRE(rec_format_radix(&b->fmt) != 0);
}

static void
accepted_code(const struct rec_code_rec *c)
{
	REQUIRE(c->slot >= 1);
	REQUIRE(c->state <= REC_CODE_INVALID);
}

static void
accepted_event(const struct rec_event *e)
{
	/* Every text field is a terminated string inside its array. */
	REQUIRE(memchr(e->user, '\0', sizeof(e->user)) != NULL);
	REQUIRE(memchr(e->service, '\0', sizeof(e->service)) != NULL);
	REQUIRE(memchr(e->rhost, '\0', sizeof(e->rhost)) != NULL);
	REQUIRE(memchr(e->tty, '\0', sizeof(e->tty)) != NULL);
	REQUIRE(memchr(e->actor, '\0', sizeof(e->actor)) != NULL);
	REQUIRE(memchr(e->detail, '\0', sizeof(e->detail)) != NULL);
	REQUIRE(strcmp(rec_event_name((enum rec_event_type)e->type),
	    "unknown") != 0);
}

/* libFuzzer's input is a heap copy of exactly size bytes: ASan sees overreads. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	ROUND_TRIP(struct rec_user, rec_user_decode, rec_user_encode,
	    accepted_user);
	ROUND_TRIP(struct rec_batch, rec_batch_decode, rec_batch_encode,
	    accepted_batch);
	ROUND_TRIP(struct rec_code_rec, rec_coderec_decode, rec_coderec_encode,
	    accepted_code);
	ROUND_TRIP(struct rec_event, rec_event_decode, rec_event_encode,
	    accepted_event);
	return 0;
}
