/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_kdf.h: argon2id hashing of codes, the fast candidate tag, the pepper. */
#ifndef REC_KDF_H
#define REC_KDF_H

#include <stddef.h>
#include <stdint.h>

#include "rec_log.h"

#define REC_SALT_LEN 16		/* 128-bit salt per code */
#define REC_HASH_LEN 32
#define REC_TAGKEY_LEN 32
#define REC_PEPPER_LEN 32	/* pepper files hold at least this many bytes */

/*
 * Hash a normalised code with argon2id (libsodium crypto_pwhash, ALG
 * ARGON2ID13) at the given cost.  With a pepper (REC_PEPPER_LEN bytes, or
 * NULL for none) the code is first keyed with it (BLAKE2b), so the store
 * alone cannot be attacked offline.  Returns REC_OK, or REC_ERR_NOMEM when
 * argon2id could not get its memory: never reported as a wrong code.
 */
int rec_kdf_hash(const char *code, const unsigned char *pepper,
    const uint8_t salt[REC_SALT_LEN], uint64_t opslimit, uint64_t memlimit,
    uint8_t out[REC_HASH_LEN]);

/*
 * The candidate tag of a code: the low `bits` bits of a keyed BLAKE2b of the
 * (peppered) code under the batch's tag key.  0 when bits is 0.
 */
uint16_t rec_kdf_tag(const char *code, const unsigned char *pepper,
    const uint8_t key[REC_TAGKEY_LEN], unsigned bits);

/*
 * One argon2id evaluation of nothing in particular at the given cost, for a
 * user without a store or a matching entry, so that every attempt costs the
 * same.  Returns as rec_kdf_hash.
 */
int rec_kdf_dummy(uint64_t opslimit, uint64_t memlimit);

/* Constant-time comparison of two hashes; 1 when equal. */
int rec_kdf_equal(const uint8_t a[REC_HASH_LEN], const uint8_t b[REC_HASH_LEN]);

/*
 * Read a pepper file (opened O_NOFOLLOW; regular, owned by root -- or by the
 * caller, when the caller is not root --, mode 0600 or stricter, from
 * REC_PEPPER_LEN to 4096 bytes) and derive the REC_PEPPER_LEN-byte key into
 * out.  REC_ERR_UNSAFE for a wrong type, owner or mode, REC_ERR_CONFIG for a
 * wrong size, REC_ERR_IO when it cannot be read.
 */
int rec_kdf_load_pepper(const char *path, unsigned char out[REC_PEPPER_LEN],
    const struct rec_log *log);

#endif
