/* SPDX-License-Identifier: BSD-2-Clause */
/* test_code.c: unit tests of code generation, check characters and input. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "rec_code.h"
#include "rec_config.h"
#include "rec_err.h"

#define B32 "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
#define B60 "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz23456789"
#define DIG "0123456789"

struct fmt_case {
	const char *name;
	struct rec_format fmt;
	const char *alpha;
};

/* Every alphabet, with and without a check character, short and long. */
static const struct fmt_case formats[] = {
	{ "base32/20/check", { REC_ALPHA_BASE32, 20, 5, 1 }, B32 },
	{ "base32/16/nocheck", { REC_ALPHA_BASE32, 16, 4, 0 }, B32 },
	{ "base32/2/check", { REC_ALPHA_BASE32, 2, 0, 1 }, B32 },
	{ "base32/64/check", { REC_ALPHA_BASE32, 64, 8, 1 }, B32 },
	{ "base60/36/check", { REC_ALPHA_BASE60, 36, 6, 1 }, B60 },
	{ "base60/12/nocheck", { REC_ALPHA_BASE60, 12, 4, 0 }, B60 },
	{ "base60/64/check", { REC_ALPHA_BASE60, 64, 0, 1 }, B60 },
	{ "digits/10/check", { REC_ALPHA_DIGITS, 10, 5, 1 }, DIG },
	{ "digits/64/nocheck", { REC_ALPHA_DIGITS, 64, 3, 0 }, DIG },
	{ "digits/1/nocheck", { REC_ALPHA_DIGITS, 1, 0, 0 }, DIG },
};
#define NFORMATS (sizeof(formats) / sizeof(formats[0]))

static const struct rec_format fmt_default = { REC_ALPHA_BASE32, 20, 5, 1 };
static const struct rec_format fmt_b60 = { REC_ALPHA_BASE60, 36, 6, 1 };
static const struct rec_format fmt_digits = { REC_ALPHA_DIGITS, 10, 5, 1 };

/*
 * An independent Luhn mod N, written from the textbook definition (double
 * every second code point counting from the right, fold the result back
 * into one digit of base N), to check the library against.
 */
static int
ref_valid(const char *alpha, const char *code)
{
	size_t radix = strlen(alpha), n = strlen(code), i;
	unsigned sum = 0, v;

	for (i = 0; i < n; i++) {
		v = (unsigned)(strchr(alpha, code[i]) - alpha);
		if ((n - 1 - i) % 2 == 1) {
			v *= 2;
			v = (unsigned)(v / radix + v % radix);
		}
		sum += v;
	}
	return sum % radix == 0;
}

/* body followed by the one check character that ref_valid accepts. */
static void
ref_complete(const char *alpha, const char *body, char *out)
{
	size_t n = strlen(body), k;
	int found = 0;

	memcpy(out, body, n);
	out[n + 1] = '\0';
	for (k = 0; alpha[k] != '\0'; k++) {
		out[n] = alpha[k];
		if (ref_valid(alpha, out)) {
			assert_false(found);
			found = 1;
			break;
		}
	}
	assert_true(found);
}

static int
in_alpha(const char *alpha, char c)
{
	return c != '\0' && strchr(alpha, c) != NULL;
}

static void
assert_wiped(const char *out)
{
	for (size_t i = 0; i < REC_CODE_MAX + 1; i++)
		assert_int_equal(out[i], 0);
}

static int
normalise_fails_wiped(const struct rec_format *fmt, const char *in)
{
	char out[REC_CODE_MAX + 1];

	memset(out, 'x', sizeof(out));
	if (rec_code_normalise(fmt, in, out) != REC_ERR_MALFORMED)
		return 0;
	assert_wiped(out);
	return 1;
}

static void
test_radix_and_config(void **state)
{
	struct rec_config cfg;
	struct rec_format fmt;

	(void)state;
	for (size_t i = 0; i < NFORMATS; i++)
		assert_int_equal(rec_format_radix(&formats[i].fmt),
		    strlen(formats[i].alpha));

	memset(&cfg, 0, sizeof(cfg));
	cfg.code_alphabet = REC_ALPHA_BASE60;
	cfg.code_length = 36;
	cfg.code_group = 6;
	cfg.code_check = 7;	/* any true value */
	rec_config_format(&cfg, &fmt);
	assert_int_equal(fmt.alphabet, REC_ALPHA_BASE60);
	assert_int_equal(fmt.length, 36);
	assert_int_equal(fmt.group, 6);
	assert_int_equal(fmt.check, 1);

	cfg.code_alphabet = REC_ALPHA_DIGITS;
	cfg.code_length = 12;
	cfg.code_group = 0;
	cfg.code_check = 0;
	rec_config_format(&cfg, &fmt);
	assert_int_equal(fmt.alphabet, REC_ALPHA_DIGITS);
	assert_int_equal(fmt.length, 12);
	assert_int_equal(fmt.group, 0);
	assert_int_equal(fmt.check, 0);
}

/* Generated codes are well formed and normalise to themselves. */
static void
test_generate_roundtrip(void **state)
{
	char code[REC_CODE_MAX + 1], out[REC_CODE_MAX + 1], disp[REC_CODE_BUF];

	(void)state;
	for (size_t f = 0; f < NFORMATS; f++) {
		const struct fmt_case *fc = &formats[f];

		for (int k = 0; k < 300; k++) {
			memset(code, 'x', sizeof(code));
			rec_code_generate(&fc->fmt, code);
			assert_int_equal(strlen(code), fc->fmt.length);
			for (size_t i = 0; i < fc->fmt.length; i++)
				assert_true(in_alpha(fc->alpha, code[i]));
			if (fc->fmt.check)
				assert_true(ref_valid(fc->alpha, code));

			assert_int_equal(rec_code_normalise(&fc->fmt, code,
			    out), REC_OK);
			assert_string_equal(out, code);

			rec_code_display(&fc->fmt, code, disp, sizeof(disp));
			assert_int_equal(rec_code_normalise(&fc->fmt, disp,
			    out), REC_OK);
			assert_string_equal(out, code);
		}
	}
}

/* The default format reads like 7KQ2M-XH9PD-3RT4W-ZB8NC. */
static void
test_display_default(void **state)
{
	char code[REC_CODE_MAX + 1], disp[REC_CODE_BUF];

	(void)state;
	for (int k = 0; k < 100; k++) {
		rec_code_generate(&fmt_default, code);
		rec_code_display(&fmt_default, code, disp, sizeof(disp));
		assert_int_equal(strlen(disp), 23);
		for (size_t i = 0; i < 23; i++) {
			if (i % 6 == 5)
				assert_int_equal(disp[i], '-');
			else
				assert_true(in_alpha(B32, disp[i]));
		}
	}
}

/* Grouping and truncation, including buffers too small for the code. */
static void
test_display_table(void **state)
{
	static const struct {
		unsigned group;
		const char *code;
		size_t outlen;
		const char *want;
	} cases[] = {
		{ 5, "7KQ2MXH9PD3RT4WZB8NC", 64, "7KQ2M-XH9PD-3RT4W-ZB8NC" },
		{ 0, "7KQ2MXH9PD3RT4WZB8NC", 64, "7KQ2MXH9PD3RT4WZB8NC" },
		{ 3, "ABCDEFGHJK", REC_CODE_BUF, "ABC-DEF-GHJ-K" },
		{ 10, "ABCDEFGHJK", REC_CODE_BUF, "ABCDEFGHJK" },
		{ 11, "ABCDEFGHJK", REC_CODE_BUF, "ABCDEFGHJK" },
		{ 1, "ABC", REC_CODE_BUF, "A-B-C" },
		{ 5, "", REC_CODE_BUF, "" },
		{ 5, "7KQ2MXH9PD3RT4WZB8NC", 24, "7KQ2M-XH9PD-3RT4W-ZB8NC" },
		{ 5, "7KQ2MXH9PD3RT4WZB8NC", 23, "7KQ2M-XH9PD-3RT4W-ZB8N" },
		/* No dash without a character after it. */
		{ 5, "7KQ2MXH9PD3RT4WZB8NC", 7, "7KQ2M" },
		{ 5, "7KQ2MXH9PD3RT4WZB8NC", 8, "7KQ2M-X" },
		{ 5, "7KQ2MXH9PD3RT4WZB8NC", 2, "7" },
		{ 5, "7KQ2MXH9PD3RT4WZB8NC", 1, "" },
	};
	char out[REC_CODE_BUF + 8];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct rec_format fmt = fmt_default;

		fmt.group = cases[i].group;
		memset(out, 'x', sizeof(out));
		rec_code_display(&fmt, cases[i].code, out, cases[i].outlen);
		assert_string_equal(out, cases[i].want);
		/* Nothing written past outlen. */
		for (size_t j = cases[i].outlen; j < sizeof(out); j++)
			assert_int_equal(out[j], 'x');
	}

	/* outlen 0 writes nothing at all. */
	memset(out, 'x', sizeof(out));
	rec_code_display(&fmt_default, "ABC", out, 0);
	assert_int_equal(out[0], 'x');

	/* The longest code at the smallest group fits REC_CODE_BUF. */
	{
		struct rec_format fmt = {
			REC_ALPHA_BASE32, REC_CODE_MAX, 1, 1
		};
		char code[REC_CODE_MAX + 1];

		rec_code_generate(&fmt, code);
		rec_code_display(&fmt, code, out, REC_CODE_BUF);
		assert_int_equal(strlen(out), REC_CODE_MAX * 2 - 1);
	}
}

/* What a person might type instead of the canonical base32 code. */
typedef void (*mangle_fn)(const char *code, char *out);

static void
m_lower(const char *c, char *o)
{
	for (; *c; c++)
		*o++ = (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
	*o = '\0';
}

static void
m_spaces(const char *c, char *o)
{
	*o++ = ' ';
	for (; *c; c++) {
		*o++ = *c;
		*o++ = ' ';
	}
	*o = '\0';
}

static void
m_display(const char *c, char *o)
{
	rec_code_display(&fmt_default, c, o, REC_CODE_BUF);
}

static void
m_mixed_separators(const char *c, char *o)
{
	static const char seps[] = "- \t--  ";

	for (size_t i = 0; c[i]; i++) {
		*o++ = c[i];
		if (i % 4 == 3)
			*o++ = seps[i % (sizeof(seps) - 1)];
	}
	*o++ = '-';
	*o = '\0';
}

static void
m_look_alikes_upper(const char *c, char *o)
{
	int one = 0;

	for (; *c; c++) {
		if (*c == '0')
			*o++ = 'O';
		else if (*c == '1')
			*o++ = (one++ % 2) ? 'L' : 'I';
		else
			*o++ = *c;
	}
	*o = '\0';
}

static void
m_look_alikes_lower(const char *c, char *o)
{
	int one = 0;

	for (; *c; c++) {
		if (*c == '0')
			*o++ = 'o';
		else if (*c == '1')
			*o++ = (one++ % 2) ? 'l' : 'i';
		else if (*c >= 'A' && *c <= 'Z')
			*o++ = (char)(*c - 'A' + 'a');
		else
			*o++ = *c;
	}
	*o = '\0';
}

static void
test_base32_forgiving(void **state)
{
	static const struct {
		const char *name;
		mangle_fn fn;
	} mangles[] = {
		{ "lower case", m_lower },
		{ "spaces", m_spaces },
		{ "display form", m_display },
		{ "dashes, spaces and tabs", m_mixed_separators },
		{ "O I L", m_look_alikes_upper },
		{ "o i l, lower case", m_look_alikes_lower },
	};
	/* Bodies rich in 0 and 1, so the look-alike mapping is exercised. */
	static const char *bodies[] = {
		"7KQ2M0H9PD3RT1WZB81",
		"0000000000111111111",
		"1010101010ABCDEFGHJ",
		"KMNPQRSTVWXYZ012345",
	};
	char code[REC_CODE_MAX + 1], out[REC_CODE_MAX + 1];
	char in[4 * REC_CODE_MAX];

	(void)state;
	for (size_t b = 0; b < sizeof(bodies) / sizeof(bodies[0]); b++) {
		ref_complete(B32, bodies[b], code);
		assert_int_equal(rec_code_normalise(&fmt_default, code, out),
		    REC_OK);
		assert_string_equal(out, code);
		for (size_t m = 0; m < sizeof(mangles) / sizeof(mangles[0]);
		    m++) {
			mangles[m].fn(code, in);
			if (rec_code_normalise(&fmt_default, in, out) != REC_OK)
				fail_msg("%s: \"%s\" not accepted",
				    mangles[m].name, in);
			assert_string_equal(out, code);
		}
	}
}

/* Every single-character substitution of a checked code is caught. */
static void
test_substitution_rejected(void **state)
{
	static const struct rec_format *fmts[] = {
		&fmt_default, &fmt_b60, &fmt_digits, &formats[2].fmt,
		&formats[3].fmt,
	};
	char code[REC_CODE_MAX + 1], bad[REC_CODE_MAX + 1];
	unsigned long tried = 0;

	(void)state;
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		const struct rec_format *fmt = fmts[f];
		const char *alpha = fmt->alphabet == REC_ALPHA_BASE32 ? B32 :
		    fmt->alphabet == REC_ALPHA_BASE60 ? B60 : DIG;

		for (int k = 0; k < 8; k++) {
			rec_code_generate(fmt, code);
			for (size_t pos = 0; pos < fmt->length; pos++) {
				for (const char *s = alpha; *s; s++) {
					if (*s == code[pos])
						continue;
					strcpy(bad, code);
					bad[pos] = *s;
					if (!normalise_fails_wiped(fmt, bad))
						fail_msg("%s accepted", bad);
					tried++;
				}
			}
		}
	}
	print_message("substitutions tried: %lu, all rejected\n", tried);
}

/*
 * Adjacent transpositions.  Luhn mod N misses exactly one pair of symbols
 * (the first and last of the alphabet), so nearly all must be caught.
 */
static void
test_transposition_mostly_rejected(void **state)
{
	static const struct rec_format *fmts[] = {
		&fmt_default, &fmt_b60, &fmt_digits,
	};
	char code[REC_CODE_MAX + 1], sw[REC_CODE_MAX + 1];
	char out[REC_CODE_MAX + 1];

	(void)state;
	for (size_t f = 0; f < sizeof(fmts) / sizeof(fmts[0]); f++) {
		const struct rec_format *fmt = fmts[f];
		const char *alpha = fmt->alphabet == REC_ALPHA_BASE32 ? B32 :
		    fmt->alphabet == REC_ALPHA_BASE60 ? B60 : DIG;
		size_t radix = strlen(alpha);
		unsigned long total = 0, caught = 0;

		for (int k = 0; k < 3000; k++) {
			rec_code_generate(fmt, code);
			for (size_t pos = 0; pos + 1 < fmt->length; pos++) {
				char a = code[pos], b = code[pos + 1];
				int edge_pair;

				if (a == b)
					continue;
				strcpy(sw, code);
				sw[pos] = b;
				sw[pos + 1] = a;
				total++;
				edge_pair = (a == alpha[0] &&
				    b == alpha[radix - 1]) ||
				    (b == alpha[0] && a == alpha[radix - 1]);
				if (rec_code_normalise(fmt, sw, out) ==
				    REC_ERR_MALFORMED)
					caught++;
				else
					assert_true(edge_pair);
			}
		}
		print_message("radix %zu: %lu/%lu adjacent transpositions "
		    "caught (%.3f%%)\n", radix, caught, total,
		    100.0 * (double)caught / (double)total);
		assert_true(total > 0);
		assert_true(caught * 100 >= total * 90);
	}
}

/*
 * Bad input for the default format.  In the patterns, '@' stands for a
 * valid code, so lengths and padding can be expressed around it.
 */
static void
expand(const char *pat, const char *code, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *pat; pat++) {
		const char *add = *pat == '@' ? code : pat;
		size_t len = *pat == '@' ? strlen(code) : 1;

		assert_true(n + len < outlen);
		memcpy(out + n, add, len);
		n += len;
	}
	out[n] = '\0';
}

static void
test_rejects(void **state)
{
	static const struct {
		const char *desc;
		const char *pat;
		int want;
	} cases[] = {
		{ "valid", "@", REC_OK },
		{ "valid, surrounded", " \t-@- \t", REC_OK },
		{ "empty", "", REC_ERR_MALFORMED },
		{ "only separators", " - \t -", REC_ERR_MALFORMED },
		{ "one too long", "@0", REC_ERR_MALFORMED },
		{ "two codes", "@ @", REC_ERR_MALFORMED },
		{ "U is not Crockford", "@U", REC_ERR_MALFORMED },
		{ "asterisk", "@*", REC_ERR_MALFORMED },
		{ "underscore", "_@", REC_ERR_MALFORMED },
		{ "dot", "@.", REC_ERR_MALFORMED },
		{ "newline", "@\n", REC_ERR_MALFORMED },
		{ "carriage return", "@\r", REC_ERR_MALFORMED },
		{ "non-ASCII", "@\xc3\xa9", REC_ERR_MALFORMED },
		{ "high byte", "\xff@", REC_ERR_MALFORMED },
		{ "plus", "+@", REC_ERR_MALFORMED },
	};
	char code[REC_CODE_MAX + 1], out[REC_CODE_MAX + 1];
	char in[8 * REC_CODE_MAX];
	size_t n;

	(void)state;
	rec_code_generate(&fmt_default, code);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expand(cases[i].pat, code, in, sizeof(in));
		memset(out, 'x', sizeof(out));
		if (rec_code_normalise(&fmt_default, in, out) != cases[i].want)
			fail_msg("%s: unexpected result", cases[i].desc);
		if (cases[i].want == REC_OK)
			assert_string_equal(out, code);
		else
			assert_wiped(out);
	}

	/* One character short, at either end. */
	assert_true(normalise_fails_wiped(&fmt_default, code + 1));
	strcpy(in, code);
	in[strlen(in) - 1] = '\0';
	assert_true(normalise_fails_wiped(&fmt_default, in));

	/* NULL input is malformed, not a crash. */
	assert_true(normalise_fails_wiped(&fmt_default, NULL));

	/* Padding up to 4 * REC_CODE_MAX characters is read, beyond is not. */
	n = strlen(code);
	memset(in, ' ', 4 * REC_CODE_MAX);
	memcpy(in, code, n);
	in[4 * REC_CODE_MAX] = '\0';
	assert_int_equal(rec_code_normalise(&fmt_default, in, out), REC_OK);
	assert_string_equal(out, code);
	in[4 * REC_CODE_MAX] = ' ';
	in[4 * REC_CODE_MAX + 1] = '\0';
	assert_true(normalise_fails_wiped(&fmt_default, in));
	memset(in, ' ', sizeof(in) - 1);
	memcpy(in + sizeof(in) - 1 - n, code, n);
	in[sizeof(in) - 1] = '\0';
	assert_true(normalise_fails_wiped(&fmt_default, in));
}

/* base60 is case-sensitive, keeps O, I and l as they are, and has no 0 or 1. */
static void
test_base60(void **state)
{
	char code[REC_CODE_MAX + 1], in[REC_CODE_MAX + 1];
	char out[REC_CODE_MAX + 1], disp[REC_CODE_BUF];
	int letters;

	(void)state;
	ref_complete(B60, "OIlOIlabcdefABCDEF234567zyxZYX98AaB", code);
	assert_int_equal(rec_code_normalise(&fmt_b60, code, out), REC_OK);
	assert_string_equal(out, code);
	rec_code_display(&fmt_b60, code, disp, sizeof(disp));
	assert_int_equal(strlen(disp), 41);
	assert_int_equal(rec_code_normalise(&fmt_b60, disp, out), REC_OK);
	assert_string_equal(out, code);

	for (int k = 0; k < 200; k++) {
		rec_code_generate(&fmt_b60, code);
		/* Flipping the case of any one letter is rejected. */
		letters = 0;
		for (size_t i = 0; i < 36; i++) {
			char c = code[i];

			strcpy(in, code);
			if (c >= 'a' && c <= 'z')
				in[i] = (char)(c - 'a' + 'A');
			else if (c >= 'A' && c <= 'Z')
				in[i] = (char)(c - 'A' + 'a');
			else
				continue;
			letters++;
			assert_true(normalise_fails_wiped(&fmt_b60, in));
		}
		assert_true(letters > 0);
	}

	/* 0 and 1 are not symbols, and O is not read as 0. */
	strcpy(in, code);
	in[3] = '0';
	assert_true(normalise_fails_wiped(&fmt_b60, in));
	in[3] = '1';
	assert_true(normalise_fails_wiped(&fmt_b60, in));
}

/* digits: nothing but 0-9 and separators. */
static void
test_digits(void **state)
{
	static const char *bad[] = {
		"O12345678", "I12345678", "l12345678", "a12345678", "A12345678",
	};
	char code[REC_CODE_MAX + 1], out[REC_CODE_MAX + 1];
	char in[REC_CODE_MAX + 8];

	(void)state;
	ref_complete(DIG, "012345678", code);
	assert_int_equal(rec_code_normalise(&fmt_digits, code, out), REC_OK);
	assert_string_equal(out, code);
	snprintf(in, sizeof(in), "%.5s - %s", code, code + 5);
	assert_int_equal(rec_code_normalise(&fmt_digits, in, out), REC_OK);
	assert_string_equal(out, code);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(in, sizeof(in), "%s%c", bad[i], code[9]);
		assert_true(normalise_fails_wiped(&fmt_digits, in));
	}
}

/*
 * Chi-square of symbol counts against the uniform distribution.  The bounds
 * are loose (far beyond p = 1e-6 for their degrees of freedom): this is a
 * smoke test for a modulo bias or a stuck generator, not a statistical suite.
 */
static double
chi_square(const unsigned long *count, size_t radix, unsigned long total)
{
	double expect = (double)total / (double)radix, chi = 0.0;

	for (size_t i = 0; i < radix; i++) {
		double d = (double)count[i] - expect;

		chi += d * d / expect;
	}
	return chi;
}

static void
test_uniformity(void **state)
{
	static const struct {
		struct rec_format fmt;
		const char *alpha;
		double bound;	/* df + ~9 standard deviations */
	} cases[] = {
		{ { REC_ALPHA_BASE32, 64, 0, 0 }, B32, 100.0 },
		{ { REC_ALPHA_BASE60, 64, 0, 0 }, B60, 160.0 },
		{ { REC_ALPHA_DIGITS, 64, 0, 0 }, DIG, 50.0 },
	};
	char code[REC_CODE_MAX + 1];
	unsigned long count[64], total;
	double chi;

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		size_t radix = strlen(cases[c].alpha);

		memset(count, 0, sizeof(count));
		for (total = 0; total < 100000; total += 64) {
			rec_code_generate(&cases[c].fmt, code);
			for (size_t i = 0; i < 64; i++)
				count[strchr(cases[c].alpha, code[i]) -
				    cases[c].alpha]++;
		}
		chi = chi_square(count, radix, total);
		print_message("radix %zu: chi-square %.1f over %lu symbols "
		    "(df %zu)\n", radix, chi, total, radix - 1);
		assert_true(chi < cases[c].bound);
	}

	/* The check character of the default format is uniform too. */
	memset(count, 0, sizeof(count));
	for (total = 0; total < 32000; total++) {
		rec_code_generate(&fmt_default, code);
		count[strchr(B32, code[19]) - B32]++;
	}
	chi = chi_square(count, 32, total);
	print_message("check character: chi-square %.1f over %lu codes\n",
	    chi, total);
	assert_true(chi < 100.0);
}

static void
test_entropy_and_tag_bits(void **state)
{
	static const struct {
		struct rec_format fmt;
		double bits;
		unsigned tag;
	} cases[] = {
		{ { REC_ALPHA_BASE32, 20, 5, 1 }, 95.0, 16 },	/* default */
		{ { REC_ALPHA_BASE32, 20, 5, 0 }, 100.0, 16 },
		{ { REC_ALPHA_BASE32, 17, 5, 1 }, 80.0, 16 },
		{ { REC_ALPHA_BASE32, 16, 4, 1 }, 75.0, 11 },
		{ { REC_ALPHA_BASE32, 14, 0, 1 }, 65.0, 1 },
		{ { REC_ALPHA_BASE32, 13, 0, 1 }, 60.0, 0 },
		{ { REC_ALPHA_BASE32, 13, 0, 0 }, 65.0, 1 },
		{ { REC_ALPHA_BASE32, 8, 4, 1 }, 35.0, 0 },
		{ { REC_ALPHA_DIGITS, 10, 5, 1 }, 9 * 3.321928094887362, 0 },
		{ { REC_ALPHA_DIGITS, 10, 5, 0 }, 10 * 3.321928094887362, 0 },
		{ { REC_ALPHA_DIGITS, 24, 6, 1 }, 23 * 3.321928094887362, 12 },
		{ { REC_ALPHA_BASE60, 36, 6, 1 }, 35 * 5.906890595608519, 16 },
		{ { REC_ALPHA_BASE60, 36, 6, 0 }, 36 * 5.906890595608519, 16 },
		{ { REC_ALPHA_BASE60, 12, 4, 1 }, 11 * 5.906890595608519, 0 },
		{ { REC_ALPHA_BASE60, 13, 4, 1 }, 12 * 5.906890595608519, 6 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		double e = rec_format_entropy(&cases[i].fmt);

		assert_true(e > cases[i].bits - 1e-9 &&
		    e < cases[i].bits + 1e-9);
		assert_int_equal(rec_format_tag_bits(&cases[i].fmt),
		    cases[i].tag);
	}
	/* The default format's 95 bits and the base60 6x6 format's ~207. */
	assert_true(rec_format_entropy(&fmt_default) == 95.0);
	assert_true(rec_format_entropy(&fmt_b60) > 206.7 &&
	    rec_format_entropy(&fmt_b60) < 206.8);
}

/* Formats that validation should have refused degrade safely. */
static void
test_invalid_format(void **state)
{
	static const struct rec_format bad[] = {
		{ REC_ALPHA_BASE32, 0, 0, 0 },
		{ REC_ALPHA_BASE32, 0, 0, 1 },
		{ REC_ALPHA_BASE32, 1, 0, 1 },
		{ REC_ALPHA_BASE32, REC_CODE_MAX + 1, 0, 0 },
		{ REC_ALPHA_DIGITS, 1000000, 0, 1 },
		{ (enum rec_alphabet)7, 20, 5, 1 },
	};
	char code[REC_CODE_MAX + 1];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(code, 'x', sizeof(code));
		rec_code_generate(&bad[i], code);
		assert_string_equal(code, "");
		assert_true(normalise_fails_wiped(&bad[i], ""));
		assert_true(normalise_fails_wiped(&bad[i], "0"));
		assert_true(normalise_fails_wiped(&bad[i],
		    "0123456789ABCDEFGHJK"));
	}
	assert_int_equal(rec_format_radix(&bad[5]), 0);
	assert_true(rec_format_entropy(&bad[5]) == 0.0);
	assert_int_equal(rec_format_tag_bits(&bad[5]), 0);
	assert_true(rec_format_entropy(&bad[1]) == 0.0);
}

/*
 * any_code: a well-formed code is ours, a near miss in our alphabet is a
 * typo, everything else (TOTP, scratch codes, passwords) is the next
 * module's.
 */
static void
test_classify(void **state)
{
	static const struct {
		const char *desc;
		const char *in;		/* @ is a fresh code of the format */
		int want;
	} cases[] = {
		{ "the code", "@", REC_INPUT_CODE },
		{ "the code, spaced", " -@- ", REC_INPUT_CODE },
		{ "six-digit TOTP", "123456", REC_INPUT_OTHER },
		{ "TOTP with a space", "123 456", REC_INPUT_OTHER },
		{ "eight-digit scratch code", "12345678", REC_INPUT_OTHER },
		{ "empty", "", REC_INPUT_OTHER },
		{ "a password", "Tr0ub4dor&3", REC_INPUT_OTHER },
		{ "a word of the right length", "correcthorsebatteryx", REC_INPUT_TYPO },
		{ "U is not Crockford", "@U", REC_INPUT_OTHER },
		{ "two codes", "@@", REC_INPUT_OTHER },
		{ "one too many", "@0", REC_INPUT_TYPO },
		{ "two too many", "@00", REC_INPUT_TYPO },
		{ "three too many", "@000", REC_INPUT_OTHER },
	};
	static const struct rec_format totp_sized[] = {
		{ REC_ALPHA_DIGITS, 8, 0, 0 },
		{ REC_ALPHA_BASE32, 8, 4, 1 },
		{ REC_ALPHA_DIGITS, 10, 5, 1 },
	};
	char code[REC_CODE_MAX + 1], in[4 * REC_CODE_MAX + 2];

	(void)state;
	rec_code_generate(&fmt_default, code);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expand(cases[i].in, code, in, sizeof(in));
		if (rec_code_classify(&fmt_default, in) != cases[i].want)
			fail_msg("%s: unexpected class", cases[i].desc);
	}

	/* A wrong check character, or one character lost: a typo. */
	strcpy(in, code);
	in[19] = in[19] == '0' ? '1' : '0';
	assert_int_equal(rec_code_classify(&fmt_default, in), REC_INPUT_TYPO);
	assert_int_equal(rec_code_classify(&fmt_default, code + 1),
	    REC_INPUT_TYPO);
	assert_int_equal(rec_code_classify(&fmt_default, code + 2),
	    REC_INPUT_TYPO);
	assert_int_equal(rec_code_classify(&fmt_default, code + 3),
	    REC_INPUT_OTHER);

	/* Every format: its codes are ours, in display form too. */
	for (size_t f = 0; f < NFORMATS; f++) {
		const struct rec_format *fmt = &formats[f].fmt;
		char disp[REC_CODE_BUF];
		int all_digits = 1;

		rec_code_generate(fmt, code);
		rec_code_display(fmt, code, disp, sizeof(disp));
		for (const char *p = code; *p != '\0'; p++)
			all_digits &= *p >= '0' && *p <= '9';
		if (all_digits && fmt->length <= REC_OTHER_CODE_MAX)
			continue;
		if (rec_code_classify(fmt, code) != REC_INPUT_CODE ||
		    rec_code_classify(fmt, disp) != REC_INPUT_CODE)
			fail_msg("%s: a code is not ours", formats[f].name);
	}

	/* Short all-digit input goes on even where it would fit the format. */
	for (size_t f = 0; f < sizeof(totp_sized) / sizeof(totp_sized[0]); f++)
		for (unsigned len = 6; len <= REC_OTHER_CODE_MAX; len++) {
			memcpy(in, "98765432", len);
			in[len] = '\0';
			assert_int_equal(rec_code_classify(&totp_sized[f], in),
			    REC_INPUT_OTHER);
		}
	/* A nine-digit near miss of a ten-digit code is a typo. */
	assert_int_equal(rec_code_classify(&totp_sized[2], "987654321"),
	    REC_INPUT_TYPO);

	/* Over-long input, NULL and a bad format are never ours. */
	memset(in, 'A', sizeof(in) - 1);
	in[sizeof(in) - 1] = '\0';
	assert_int_equal(rec_code_classify(&fmt_default, in), REC_INPUT_OTHER);
	assert_int_equal(rec_code_classify(&fmt_default, NULL), REC_INPUT_OTHER);
	assert_int_equal(rec_code_classify(NULL, code), REC_INPUT_OTHER);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_radix_and_config),
		cmocka_unit_test(test_generate_roundtrip),
		cmocka_unit_test(test_display_default),
		cmocka_unit_test(test_display_table),
		cmocka_unit_test(test_base32_forgiving),
		cmocka_unit_test(test_substitution_rejected),
		cmocka_unit_test(test_transposition_mostly_rejected),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_base60),
		cmocka_unit_test(test_digits),
		cmocka_unit_test(test_uniformity),
		cmocka_unit_test(test_entropy_and_tag_bits),
		cmocka_unit_test(test_invalid_format),
		cmocka_unit_test(test_classify),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
