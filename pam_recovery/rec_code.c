/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_code.c: code alphabets, generation, Luhn mod N check, input, display. */
#include <string.h>

#include <sodium.h>

#include "rec_code.h"
#include "rec_err.h"

/* Crockford base32: no I, L, O or U. */
static const char alpha_base32[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
/* Upper and lower case letters and 2-9: 0 and 1 would be look-alikes. */
static const char alpha_base60[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz23456789";
static const char alpha_digits[] = "0123456789";

/* log2 of each radix, spelled out so the core needs no libm. */
#define LOG2_32 5.0
#define LOG2_60 5.906890595608519
#define LOG2_10 3.321928094887362

/* The symbols of fmt's alphabet and their number, or NULL for a bad enum. */
static const char *
alphabet(const struct rec_format *fmt, unsigned *radix)
{
	switch (fmt->alphabet) {
	case REC_ALPHA_BASE32:
		*radix = sizeof(alpha_base32) - 1;
		return alpha_base32;
	case REC_ALPHA_BASE60:
		*radix = sizeof(alpha_base60) - 1;
		return alpha_base60;
	case REC_ALPHA_DIGITS:
		*radix = sizeof(alpha_digits) - 1;
		return alpha_digits;
	}
	*radix = 0;
	return NULL;
}

/*
 * A format we can work with: a known alphabet, a length that fits our
 * buffers, and at least one random character besides the check character.
 */
static int
format_ok(const struct rec_format *fmt)
{
	unsigned radix;

	if (fmt == NULL || alphabet(fmt, &radix) == NULL)
		return 0;
	if (fmt->length == 0 || fmt->length > REC_CODE_MAX)
		return 0;
	if (fmt->check && fmt->length < 2)
		return 0;
	return 1;
}

/*
 * The Luhn mod N sum of the code-point indices idx[0..n-1], walking from the
 * right with the factor starting at `factor` and alternating 2, 1.  Doubling
 * is a permutation of 0..N-1 for even N, which is what makes every single
 * substitution change the sum, and every adjacent transposition except of
 * the pair (0, N-1) as well.
 */
static unsigned
luhn_sum(const unsigned char *idx, size_t n, unsigned radix, unsigned factor)
{
	unsigned sum = 0, addend;

	while (n-- > 0) {
		addend = factor * idx[n];
		sum += addend / radix + addend % radix;
		factor = factor == 2 ? 1 : 2;
	}
	return sum % radix;
}

/* The check index that makes idx[0..n-1] followed by it sum to 0 mod radix. */
static unsigned char
luhn_check(const unsigned char *idx, size_t n, unsigned radix)
{
	return (unsigned char)((radix - luhn_sum(idx, n, radix, 2)) % radix);
}

/*
 * Fold what people get wrong when typing base32 onto the alphabet.  Plain
 * ASCII arithmetic rather than toupper(3), whose result depends on the
 * locale (a Turkish locale maps 'i' elsewhere).
 */
static unsigned char
fold_base32(unsigned char c)
{
	if (c >= 'a' && c <= 'z')
		c = (unsigned char)(c - 'a' + 'A');
	if (c == 'O')
		c = '0';
	else if (c == 'I' || c == 'L')
		c = '1';
	return c;
}

unsigned
rec_format_radix(const struct rec_format *fmt)
{
	unsigned radix;

	(void)alphabet(fmt, &radix);
	return radix;
}

double
rec_format_entropy(const struct rec_format *fmt)
{
	unsigned random_chars;
	double bits;

	switch (fmt->alphabet) {
	case REC_ALPHA_BASE32:
		bits = LOG2_32;
		break;
	case REC_ALPHA_BASE60:
		bits = LOG2_60;
		break;
	case REC_ALPHA_DIGITS:
		bits = LOG2_10;
		break;
	default:
		return 0.0;
	}
	random_chars = fmt->length;
	if (fmt->check)
		random_chars = random_chars > 0 ? random_chars - 1 : 0;
	return random_chars * bits;
}

unsigned
rec_format_tag_bits(const struct rec_format *fmt)
{
	double spare = rec_format_entropy(fmt) - REC_WARN_ENTROPY;

	/* The negated test also sends a NaN to "no tag". */
	if (!(spare > 0.0))
		return 0;
	if (spare >= REC_TAG_MAX_BITS)
		return REC_TAG_MAX_BITS;
	return (unsigned)spare;	/* positive, so truncation is floor */
}

unsigned
rec_format_batch_tag_bits(const struct rec_format *fmt, unsigned count)
{
	unsigned bits = rec_format_tag_bits(fmt), need = 0;

	while (need < REC_TAG_MAX_BITS && (1u << need) < count)
		need++;
	return bits > need ? bits : need;
}

void
rec_code_generate(const struct rec_format *fmt, char *out)
{
	unsigned char idx[REC_CODE_MAX];
	const char *alpha;
	unsigned radix, body, i;

	/* A format that slipped past validation yields no code at all. */
	out[0] = '\0';
	if (!format_ok(fmt))
		return;
	alpha = alphabet(fmt, &radix);
	body = fmt->length - (fmt->check ? 1 : 0);
	for (i = 0; i < body; i++) {
		/* randombytes_uniform rejects samples to avoid modulo bias. */
		idx[i] = (unsigned char)randombytes_uniform(radix);
		out[i] = alpha[idx[i]];
	}
	if (fmt->check) {
		idx[body] = luhn_check(idx, body, radix);
		out[body] = alpha[idx[body]];
	}
	out[fmt->length] = '\0';
	sodium_memzero(idx, sizeof(idx));
}

int
rec_code_normalise(const struct rec_format *fmt, const char *in, char *out)
{
	unsigned char idx[REC_CODE_MAX];
	const unsigned char *p;
	const char *alpha, *hit;
	unsigned radix;
	size_t n = 0;
	unsigned char c;
	int rv = REC_ERR_MALFORMED;

	if (out == NULL)
		return REC_ERR_MALFORMED;
	if (!format_ok(fmt) || in == NULL)
		goto out;
	if (strnlen(in, REC_INPUT_MAX + 1) > REC_INPUT_MAX)
		goto out;
	alpha = alphabet(fmt, &radix);

	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		c = *p;
		if (c == ' ' || c == '\t' || c == '-')
			continue;
		if (fmt->alphabet == REC_ALPHA_BASE32)
			c = fold_base32(c);
		hit = memchr(alpha, c, radix);
		if (hit == NULL || n >= fmt->length)
			goto out;
		idx[n] = (unsigned char)(hit - alpha);
		out[n++] = (char)c;
	}
	if (n != fmt->length)
		goto out;
	if (fmt->check && luhn_sum(idx, n, radix, 1) != 0)
		goto out;
	out[n] = '\0';
	rv = REC_OK;
out:
	if (rv != REC_OK)
		sodium_memzero(out, REC_CODE_MAX + 1);
	sodium_memzero(idx, sizeof(idx));
	return rv;
}

void
rec_code_display(const struct rec_format *fmt, const char *code, char *out,
    size_t outlen)
{
	size_t n, i, pos = 0;
	unsigned group;

	if (out == NULL || outlen == 0)
		return;
	n = code != NULL ? strnlen(code, REC_CODE_MAX) : 0;
	group = fmt != NULL ? fmt->group : 0;
	for (i = 0; i < n; i++) {
		if (group != 0 && i > 0 && i % group == 0) {
			/* A separator only with room for what follows it. */
			if (pos + 2 >= outlen)
				break;
			out[pos++] = '-';
		}
		if (pos + 1 >= outlen)
			break;
		out[pos++] = code[i];
	}
	out[pos] = '\0';
}

int
rec_code_classify(const struct rec_format *fmt, const char *in)
{
	char norm[REC_CODE_MAX + 1];
	const unsigned char *p;
	const char *alpha;
	unsigned radix;
	size_t n = 0;
	int digits = 1, ours = 1, kind = REC_INPUT_OTHER;
	unsigned char c;

	if (!format_ok(fmt) || in == NULL ||
	    strnlen(in, REC_INPUT_MAX + 1) > REC_INPUT_MAX)
		return REC_INPUT_OTHER;
	alpha = alphabet(fmt, &radix);
	for (p = (const unsigned char *)in; *p != '\0'; p++) {
		c = *p;
		if (c == ' ' || c == '\t' || c == '-')
			continue;
		n++;
		if (c < '0' || c > '9')
			digits = 0;
		if (fmt->alphabet == REC_ALPHA_BASE32)
			c = fold_base32(c);
		if (memchr(alpha, c, radix) == NULL)
			ours = 0;
	}
	/* Another factor's one-time code (TOTP, HOTP, scratch) is never ours. */
	if (digits && n <= REC_OTHER_CODE_MAX)
		return REC_INPUT_OTHER;
	if (rec_code_normalise(fmt, in, norm) == REC_OK)
		kind = REC_INPUT_CODE;
	else if (ours && n + REC_TYPO_SLACK >= fmt->length &&
	    n <= fmt->length + REC_TYPO_SLACK)
		kind = REC_INPUT_TYPO;
	sodium_memzero(norm, sizeof(norm));
	return kind;
}
