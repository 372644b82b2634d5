/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_value.c: the directory's values, in exactly one written form. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap_int.h"

/* "failures window_start last_fail locked_until cooldown" */
int
rec_ldap_lock_encode(const struct rec_lock *lk, char *buf, size_t len)
{
	int n = snprintf(buf, len, "%" PRIu32 " %" PRIu64 " %" PRIu64 " %"
	    PRIu64 " %" PRIu64, lk->failures, lk->window_start, lk->last_fail,
	    lk->locked_until, lk->cooldown);

	return n < 0 || (size_t)n >= len ? REC_ERR_INTERNAL : REC_OK;
}

/*
 * Strict decimal: digits only, no sign, no leading zero (but "0"), in
 * range; *end after the digits.
 */
int
rec_ldap_parse_num(const char *s, uint64_t max, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return REC_ERR_CORRUPT;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (x > (max - (uint64_t)(*p - '0')) / 10)
			return REC_ERR_CORRUPT;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	*end = p;
	return REC_OK;
}

/* Numbers separated by single blanks, exactly n of them. */
static int
parse_nums(const char *s, uint64_t *v, unsigned n)
{
	const char *end;

	for (unsigned i = 0; i < n; i++) {
		if (rec_ldap_parse_num(s, UINT64_MAX, &v[i], &end) != REC_OK)
			return REC_ERR_CORRUPT;
		if (i + 1 < n && *end != ' ')
			return REC_ERR_CORRUPT;
		s = i + 1 < n ? end + 1 : end;
	}
	return *s == '\0' ? REC_OK : REC_ERR_CORRUPT;
}

int
rec_ldap_lock_parse(const char *s, struct rec_lock *lk)
{
	uint64_t v[5];

	if (parse_nums(s, v, 5) != REC_OK || v[0] > UINT32_MAX)
		return REC_ERR_CORRUPT;
	lk->failures = (uint32_t)v[0];
	lk->window_start = v[1];
	lk->last_fail = v[2];
	lk->locked_until = v[3];
	lk->cooldown = v[4];
	return REC_OK;
}

/*
 * An unused code: "SLOT TAG $argon2id$v=19$m=KIB,t=OPS,p=1$SALT$HASH", the
 * hash as a PHC string (standard base64 without padding) at its batch's
 * cost.  The same bytes as the LMDB store's record: salt, hash, tag.
 */
int
rec_ldap_code_encode(const struct rec_batch *b,
    const struct rec_code_rec *cr, char *buf, size_t len)
{
	char salt[sodium_base64_ENCODED_LEN(REC_SALT_LEN,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	char hash[sodium_base64_ENCODED_LEN(REC_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING)];
	int n;

	sodium_bin2base64(salt, sizeof(salt), cr->salt, REC_SALT_LEN,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	sodium_bin2base64(hash, sizeof(hash), cr->hash, REC_HASH_LEN,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING);
	n = snprintf(buf, len, "%u %u $argon2id$v=19$m=%" PRIu64 ",t=%" PRIu64
	    ",p=1$%s$%s", cr->slot, cr->tag, b->memlimit / 1024, b->opslimit,
	    salt, hash);
	return n < 0 || (size_t)n >= len ? REC_ERR_INTERNAL : REC_OK;
}

/*
 * Parse a code value of batch b: taken apart, then built again, and only
 * a value that comes out the same is accepted, so that the value a
 * consume deletes is exactly the one in the directory.
 */
int
rec_ldap_code_parse(const struct rec_batch *b, const char *s,
    struct rec_code_rec *cr)
{
	char again[REC_LDAP_VAL_MAX];
	const char *p, *end, *dollar;
	uint64_t slot, tag;
	size_t n;
	int r = REC_ERR_CORRUPT;

	memset(cr, 0, sizeof(*cr));
	if (rec_ldap_parse_num(s, REC_COUNT_MAX, &slot, &end) != REC_OK ||
	    slot == 0 || *end != ' ' ||
	    rec_ldap_parse_num(end + 1, UINT16_MAX, &tag, &end) != REC_OK ||
	    *end != ' ')
		goto out;
	cr->slot = (uint8_t)slot;
	cr->tag = (uint16_t)tag;
	cr->state = REC_CODE_UNUSED;
	/* The salt and the hash: the last two '$' fields. */
	if ((p = strrchr(end, '$')) == NULL || p == end)
		goto out;
	for (dollar = p - 1; dollar > end && *dollar != '$'; dollar--)
		;
	if (*dollar != '$' || sodium_base642bin(cr->salt, REC_SALT_LEN,
	    dollar + 1, (size_t)(p - dollar - 1), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    n != REC_SALT_LEN || sodium_base642bin(cr->hash, REC_HASH_LEN,
	    p + 1, strlen(p + 1), NULL, &n, NULL,
	    sodium_base64_VARIANT_ORIGINAL_NO_PADDING) != 0 ||
	    n != REC_HASH_LEN)
		goto out;
	if (rec_ldap_code_encode(b, cr, again, sizeof(again)) != REC_OK ||
	    strcmp(again, s) != 0)
		goto out;
	r = REC_OK;
out:
	sodium_memzero(again, sizeof(again));
	if (r != REC_OK)
		sodium_memzero(cr, sizeof(*cr));
	return r;
}

/*
 * A mark of a used or invalidated code: the code's value, then the time
 * and who ("SLOT TAG PHC TIME WHAT").  The hash stays, as in the LMDB
 * store, so that a code tried again is known as used, not as wrong.
 */
int
rec_ldap_mark_encode(const struct rec_batch *b,
    const struct rec_code_rec *cr, uint64_t t, const char *what, char *buf,
    size_t len)
{
	char val[REC_LDAP_VAL_MAX];
	int r, n;

	if ((r = rec_ldap_code_encode(b, cr, val, sizeof(val))) != REC_OK)
		return r;
	n = snprintf(buf, len, "%s %" PRIu64 " %s", val, t, what);
	sodium_memzero(val, sizeof(val));
	return n < 0 || (size_t)n >= len ? REC_ERR_INTERNAL : REC_OK;
}

int
rec_ldap_mark_parse(const struct rec_batch *b, const char *s,
    enum rec_code_state state, struct rec_code_rec *cr)
{
	char val[REC_LDAP_VAL_MAX];
	const char *p = s, *end;
	uint64_t t;
	size_t n;
	int r = REC_ERR_CORRUPT;

	/* The code's value is the first three fields. */
	for (int i = 0; i < 3 && p != NULL; i++)
		p = strchr(i == 0 ? p : p + 1, ' ');
	if (p == NULL || (n = (size_t)(p - s)) >= sizeof(val))
		goto out;
	memcpy(val, s, n);
	val[n] = '\0';
	if (rec_ldap_code_parse(b, val, cr) != REC_OK ||
	    rec_ldap_parse_num(p + 1, UINT64_MAX, &t, &end) != REC_OK ||
	    *end != ' ' || end[1] == '\0')
		goto out;
	cr->state = (uint8_t)state;
	cr->changed = t;
	r = REC_OK;
out:
	sodium_memzero(val, sizeof(val));
	if (r != REC_OK)
		sodium_memzero(cr, sizeof(*cr));
	return r;
}

/* "ALPHABET LENGTH GROUP CHECK" */
int
rec_ldap_format_parse(const char *s, struct rec_format *f)
{
	static const enum rec_alphabet alphas[] = {
		REC_ALPHA_BASE32, REC_ALPHA_BASE60, REC_ALPHA_DIGITS,
	};
	uint64_t v[3];
	size_t n = strcspn(s, " ");

	for (unsigned i = 0; i < sizeof(alphas) / sizeof(alphas[0]); i++) {
		const char *name = rec_config_alphabet_name(alphas[i]);

		if (strlen(name) != n || strncmp(s, name, n) != 0)
			continue;
		if (s[n] != ' ' || parse_nums(s + n + 1, v, 3) != REC_OK ||
		    v[0] > REC_CODE_MAX || v[1] > v[0] || v[2] > 1)
			return REC_ERR_CORRUPT;
		f->alphabet = alphas[i];
		f->length = (unsigned)v[0];
		f->group = (unsigned)v[1];
		f->check = (int)v[2];
		return REC_OK;
	}
	return REC_ERR_CORRUPT;
}

/* Printable ASCII of s into out (len), '?' for anything else. */
void
rec_ldap_printable(const char *s, char *out, size_t len)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len; i++)
		out[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	out[i] = '\0';
}
