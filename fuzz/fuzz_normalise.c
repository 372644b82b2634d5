/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_normalise.c: libFuzzer target for rec_code_normalise in every format. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_code.h"
#include "rec_err.h"

static const char alpha_base32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
static const char alpha_base60[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz23456789";
static const char alpha_digits[] = "0123456789";

#define REQUIRE(cond) do { if (!(cond)) { fprintf(stderr, \
	"fuzz_normalise: %s failed at line %d\n", #cond, __LINE__); \
	abort(); } } while (0)

static const char *
symbols(enum rec_alphabet a)
{
	return a == REC_ALPHA_BASE32 ? alpha_base32 :
	    a == REC_ALPHA_BASE60 ? alpha_base60 : alpha_digits;
}

static int
all_zero(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != '\0')
			return 0;
	return 1;
}

/* What must hold for an accepted code: fixed point, length, alphabet. */
static void
check_accepted(const struct rec_format *fmt, const char *out)
{
	char again[REC_CODE_MAX + 1], shown[REC_CODE_BUF];
	char lower[REC_CODE_MAX + 1];

	REQUIRE(strlen(out) == fmt->length);
	for (size_t i = 0; i < fmt->length; i++)
		REQUIRE(strchr(symbols(fmt->alphabet), out[i]) != NULL);
	REQUIRE(rec_code_normalise(fmt, out, again) == REC_OK);
	REQUIRE(strcmp(out, again) == 0);
	/* What is printed must be typed back to the same code. */
	rec_code_display(fmt, out, shown, sizeof(shown));
	REQUIRE(rec_code_normalise(fmt, shown, again) == REC_OK);
	REQUIRE(strcmp(out, again) == 0);
	if (fmt->alphabet == REC_ALPHA_BASE32) {
		for (size_t i = 0; i <= fmt->length; i++)
			lower[i] = (out[i] >= 'A' && out[i] <= 'Z') ?
			    (char)(out[i] - 'A' + 'a') : out[i];
		REQUIRE(rec_code_normalise(fmt, lower, again) == REC_OK);
		REQUIRE(strcmp(out, again) == 0);
	}
}

/*
 * The first three bytes choose the format (alphabet, length, check and
 * group); lengths up to REC_CODE_MAX + 8 reach the format checks too.  The
 * rest, up to its first NUL, is what a person typed.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rec_format fmt;
	char *in, out[REC_CODE_MAX + 1], gen[REC_CODE_MAX + 1];
	unsigned bits;
	int r;

	if (size < 3)
		return 0;
	memset(&fmt, 0, sizeof(fmt));
	fmt.alphabet = (enum rec_alphabet)(data[0] % 3);
	fmt.length = data[1] % (REC_CODE_MAX + 9);
	fmt.check = data[2] & 1;
	fmt.group = (data[2] >> 1) % (REC_CODE_MAX + 1);
	if ((in = malloc(size - 2)) == NULL)
		return 0;
	memcpy(in, data + 3, size - 3);
	in[size - 3] = '\0';

	memset(out, 'x', sizeof(out));
	r = rec_code_normalise(&fmt, in, out);
	if (r == REC_OK)
		check_accepted(&fmt, out);
	else {
		REQUIRE(r == REC_ERR_MALFORMED);
		REQUIRE(all_zero(out, sizeof(out)));	/* wiped */
	}

	/* Every generated code of a usable format is accepted as typed. */
	rec_code_generate(&fmt, gen);
	if (gen[0] != '\0') {
		REQUIRE(rec_code_normalise(&fmt, gen, out) == REC_OK);
		check_accepted(&fmt, out);
	}

	/* The candidate tag must leave at least REC_WARN_ENTROPY bits. */
	bits = rec_format_tag_bits(&fmt);
	REQUIRE(bits <= REC_TAG_MAX_BITS);
	if (bits > 0)
		REQUIRE(rec_format_entropy(&fmt) - bits >= REC_WARN_ENTROPY);
	free(in);
	return 0;
}
