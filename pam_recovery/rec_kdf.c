/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_kdf.c: argon2id hashing of codes, candidate tags and the pepper key. */
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_kdf.h"
#include "rec_secret.h"

#define PEPPER_FILE_MAX 4096

/*
 * The secret that is hashed: the code itself, or with a pepper, the code
 * keyed with it.  Both are written to out (REC_HASH_LEN bytes) as a BLAKE2b
 * so that the argon2id input has one length whatever the format.
 */
static void
secret_of(const char *code, const unsigned char *pepper,
    unsigned char out[REC_HASH_LEN])
{
	crypto_generichash(out, REC_HASH_LEN, (const unsigned char *)code,
	    strlen(code), pepper, pepper != NULL ? REC_PEPPER_LEN : 0);
}

int
rec_kdf_hash(const char *code, const unsigned char *pepper,
    const uint8_t salt[REC_SALT_LEN], uint64_t opslimit, uint64_t memlimit,
    uint8_t out[REC_HASH_LEN])
{
	unsigned char secret[REC_HASH_LEN];
	int r = REC_ERR_INTERNAL;

	secret_of(code, pepper, secret);
	/*
	 * crypto_pwhash() fails only when it cannot get its memory (or for
	 * limits out of range, which the configuration already excludes):
	 * never a reason to count a code as wrong.
	 */
	if (crypto_pwhash(out, REC_HASH_LEN, (const char *)secret,
	    sizeof(secret), salt, opslimit, (size_t)memlimit,
	    crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(out, REC_HASH_LEN);
		r = REC_ERR_NOMEM;
		goto out;
	}
	r = REC_OK;
out:
	sodium_memzero(secret, sizeof(secret));
	return r;
}

uint16_t
rec_kdf_tag(const char *code, const unsigned char *pepper,
    const uint8_t key[REC_TAGKEY_LEN], unsigned bits)
{
	unsigned char secret[REC_HASH_LEN], h[8];
	uint16_t tag;

	if (bits == 0)
		return 0;
	secret_of(code, pepper, secret);
	crypto_generichash(h, sizeof(h), secret, sizeof(secret), key,
	    REC_TAGKEY_LEN);
	tag = (uint16_t)((h[0] << 8 | h[1]) & ((1u << bits) - 1));
	sodium_memzero(secret, sizeof(secret));
	sodium_memzero(h, sizeof(h));
	return tag;
}

int
rec_kdf_dummy(uint64_t opslimit, uint64_t memlimit)
{
	uint8_t salt[REC_SALT_LEN], out[REC_HASH_LEN];
	char nothing[REC_HASH_LEN * 2 + 1];

	randombytes_buf(salt, sizeof(salt));
	randombytes_buf(nothing, sizeof(nothing) - 1);
	nothing[sizeof(nothing) - 1] = '\0';
	return rec_kdf_hash(nothing, NULL, salt, opslimit, memlimit, out);
}

int
rec_kdf_equal(const uint8_t a[REC_HASH_LEN], const uint8_t b[REC_HASH_LEN])
{
	return sodium_memcmp(a, b, REC_HASH_LEN) == 0;
}

int
rec_kdf_load_pepper(const char *path, unsigned char out[REC_PEPPER_LEN],
    const struct rec_log *log)
{
	unsigned char buf[PEPPER_FILE_MAX];
	size_t len = 0;
	int r = REC_ERR_INTERNAL;

	if ((r = rec_secret_read(path, "pepper file", buf, sizeof(buf), &len,
	    log)) != REC_OK)
		goto out;
	if (len < REC_PEPPER_LEN) {
		rec_logf(log, LOG_ERR, "pepper file %s: shorter than %d bytes",
		    path, REC_PEPPER_LEN);
		r = REC_ERR_CONFIG;
		goto out;
	}
	crypto_generichash(out, REC_PEPPER_LEN, buf, len, NULL, 0);
	r = REC_OK;
out:
	sodium_memzero(buf, sizeof(buf));
	return r;
}
