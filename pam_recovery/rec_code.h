/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_code.h: code formats: generation, check, normalisation, display. */
#ifndef REC_CODE_H
#define REC_CODE_H

#include <stddef.h>
#include <stdint.h>

#define REC_CODE_MAX 64		/* longest code_length accepted */
#define REC_CODE_BUF (REC_CODE_MAX * 2 + 1) /* grouped form with separators */
/*
 * The longest input the normaliser looks at: generous enough for any
 * sensible spacing of the longest code, small enough that a hostile
 * conversation cannot make us walk an arbitrarily long string.
 */
#define REC_INPUT_MAX (4 * REC_CODE_MAX)
#define REC_MIN_ENTROPY 40	/* refused below, in bits */
#define REC_WARN_ENTROPY 64	/* warned below, in bits */
#define REC_TAG_MAX_BITS 16	/* most bits of a code ever used as its tag */

enum rec_alphabet { REC_ALPHA_BASE32, REC_ALPHA_BASE60, REC_ALPHA_DIGITS };

/* A code format, built from the code_* keys by rec_config_format(). */
struct rec_format {
	enum rec_alphabet alphabet;
	unsigned length;	/* characters, check character included */
	unsigned group;		/* 0 = no grouping */
	int check;		/* last character is a Luhn mod N check */
};

/* Number of symbols of the alphabet (32, 60 or 10). */
unsigned rec_format_radix(const struct rec_format *fmt);

/* Guessing entropy of one code in bits (random characters only). */
double rec_format_entropy(const struct rec_format *fmt);

/*
 * How many bits of a keyed fast hash of the code are stored as the code's
 * tag: as many as keep at least REC_WARN_ENTROPY bits of guessing entropy,
 * at most REC_TAG_MAX_BITS; 0 for formats too short to spare any (then every
 * code of a batch is tried).
 */
unsigned rec_format_tag_bits(const struct rec_format *fmt);

/*
 * The tag bits of a batch of count codes: rec_format_tag_bits(), but at
 * least enough for every code of the batch to have a tag of its own
 * (ceil(log2(count))), since an attempt hashes against one candidate only.
 * For formats under REC_WARN_ENTROPY + 7 bits this leaves an offline
 * attacker fewer than 64 bits behind the tag; such formats are weak anyway.
 */
unsigned rec_format_batch_tag_bits(const struct rec_format *fmt,
    unsigned count);

/*
 * Generate one code, uniformly from libsodium's CSPRNG, into out (at least
 * REC_CODE_MAX + 1 bytes) in normalised form (no separators), NUL-terminated.
 */
void rec_code_generate(const struct rec_format *fmt, char *out);

/*
 * Normalise what a person typed: drop spaces and dashes, and for base32
 * fold case and map O to 0, I and L to 1.  Writes the normalised code to out
 * (REC_CODE_MAX + 1 bytes).  Returns REC_OK when the result has the format's
 * length, alphabet and (if enabled) a correct check character, else
 * REC_ERR_MALFORMED.  out is wiped on failure.
 */
int rec_code_normalise(const struct rec_format *fmt, const char *in, char *out);

/*
 * Write the display form of a normalised code (groups joined by '-') into
 * out of size outlen (REC_CODE_BUF is always enough).
 */
void rec_code_display(const struct rec_format *fmt, const char *code,
    char *out, size_t outlen);

/*
 * What a person typed at a prompt shared with another factor (the module's
 * any_code option), without judging whether it is right.  Separators (space,
 * tab, dash) are not counted.
 *  REC_INPUT_CODE  a well-formed code of fmt (rec_code_normalise accepts it);
 *  REC_INPUT_TYPO  meant as one but not well-formed: only fmt's characters
 *                  (base32 folded), and a length within REC_TYPO_SLACK of
 *                  fmt's: a wrong check character, a character too many or
 *                  too few;
 *  REC_INPUT_OTHER anything else, for the next module.  Up to
 *                  REC_OTHER_CODE_MAX digits are always OTHER, even in a
 *                  format they would fit: TOTP and HOTP codes have 6 to 8
 *                  digits, pam_google_authenticator's scratch codes 8.
 * Input longer than REC_INPUT_MAX, NULL or a bad format is OTHER.
 */
#define REC_OTHER_CODE_MAX 8
#define REC_TYPO_SLACK 2
enum rec_input_kind { REC_INPUT_OTHER, REC_INPUT_CODE, REC_INPUT_TYPO };
int rec_code_classify(const struct rec_format *fmt, const char *in);

#endif
