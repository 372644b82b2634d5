/* SPDX-License-Identifier: BSD-2-Clause */
/* test_kdf.c: unit tests of argon2id hashing, tags and pepper files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "testutil.h"
#include "rec_err.h"
#include "rec_kdf.h"
#include "rec_log.h"

/* The smallest argon2id cost libsodium accepts, so that tests are fast. */
#define OPS	1
#define MEM	8192

static const uint8_t salt1[REC_SALT_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, 12, 13, 14, 15, 16 };
static const uint8_t salt2[REC_SALT_LEN] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
    11, 12, 13, 14, 15, 17 };
static const unsigned char pepper1[REC_PEPPER_LEN] = { 0xA0, 0xA1, 0xA2 };
static const unsigned char pepper2[REC_PEPPER_LEN] = { 0xA0, 0xA1, 0xA3 };
static const uint8_t key1[REC_TAGKEY_LEN] = { 0x11, 0x22, 0x33 };
static const uint8_t key2[REC_TAGKEY_LEN] = { 0x11, 0x22, 0x34 };

#define CODE1	"ABCDEFGHJKMNPQRSTVWX"
#define CODE2	"ABCDEFGHJKMNPQRSTVWY"

static void
hash(const char *code, const unsigned char *pepper, const uint8_t *salt,
    uint8_t out[REC_HASH_LEN])
{
	assert_int_equal(rec_kdf_hash(code, pepper, salt, OPS, MEM, out),
	    REC_OK);
}

static void
test_hash_deterministic(void **state)
{
	uint8_t a[REC_HASH_LEN], b[REC_HASH_LEN];

	(void)state;
	hash(CODE1, NULL, salt1, a);
	hash(CODE1, NULL, salt1, b);
	assert_memory_equal(a, b, REC_HASH_LEN);
	hash(CODE1, pepper1, salt1, a);
	hash(CODE1, pepper1, salt1, b);
	assert_memory_equal(a, b, REC_HASH_LEN);
}

static void
test_hash_differs(void **state)
{
	uint8_t base[REC_HASH_LEN], h[REC_HASH_LEN];

	(void)state;
	hash(CODE1, NULL, salt1, base);
	hash(CODE1, NULL, salt2, h);		/* salt */
	assert_memory_not_equal(base, h, REC_HASH_LEN);
	hash(CODE2, NULL, salt1, h);		/* code, last character */
	assert_memory_not_equal(base, h, REC_HASH_LEN);
	hash(CODE1 "X", NULL, salt1, h);	/* code, one longer */
	assert_memory_not_equal(base, h, REC_HASH_LEN);
	hash(CODE1, pepper1, salt1, h);		/* with a pepper */
	assert_memory_not_equal(base, h, REC_HASH_LEN);
	hash(CODE1, pepper2, salt1, base);	/* another pepper */
	assert_memory_not_equal(base, h, REC_HASH_LEN);
	/* The cost is part of the hash. */
	hash(CODE1, NULL, salt1, base);
	assert_int_equal(rec_kdf_hash(CODE1, NULL, salt1, OPS + 1, MEM, h),
	    REC_OK);
	assert_memory_not_equal(base, h, REC_HASH_LEN);
	assert_int_equal(rec_kdf_hash(CODE1, NULL, salt1, OPS, MEM * 2, h),
	    REC_OK);
	assert_memory_not_equal(base, h, REC_HASH_LEN);
}

/*
 * The stored hashes must stay verifiable across releases: pin the
 * construction (argon2id of a BLAKE2b-256 of the code, keyed with the
 * pepper when there is one) against libsodium called directly.
 */
static void
test_hash_construction(void **state)
{
	unsigned char secret[REC_HASH_LEN];
	uint8_t want[REC_HASH_LEN], got[REC_HASH_LEN];
	const unsigned char *peppers[] = { NULL, pepper1 };

	(void)state;
	for (size_t i = 0; i < 2; i++) {
		crypto_generichash(secret, sizeof(secret),
		    (const unsigned char *)CODE1, strlen(CODE1), peppers[i],
		    peppers[i] != NULL ? REC_PEPPER_LEN : 0);
		assert_int_equal(crypto_pwhash(want, sizeof(want),
		    (const char *)secret, sizeof(secret), salt1, OPS, MEM,
		    crypto_pwhash_ALG_ARGON2ID13), 0);
		hash(CODE1, peppers[i], salt1, got);
		assert_memory_equal(want, got, REC_HASH_LEN);
	}
}

static void
test_hash_nomem(void **state)
{
	uint8_t h[REC_HASH_LEN];
	struct rlimit saved;
	int r, d;

	(void)state;
	if (!cap_address_space(&saved)) {
		print_message("cannot cap the address space: skipped\n");
		skip();
	}
	memset(h, 0x77, sizeof(h));
	r = rec_kdf_hash(CODE1, NULL, salt1, OPS, 1ULL << 41, h);
	d = rec_kdf_dummy(OPS, 1ULL << 41);
	assert_int_equal(setrlimit(RLIMIT_AS, &saved), 0);
	assert_int_equal(r, REC_ERR_NOMEM);
	assert_int_equal(d, REC_ERR_NOMEM);
	/* Memory available again, the same call works. */
	hash(CODE1, NULL, salt1, h);
}

static void
test_dummy(void **state)
{
	(void)state;
	assert_int_equal(rec_kdf_dummy(OPS, MEM), REC_OK);
	assert_int_equal(rec_kdf_dummy(OPS + 1, MEM * 2), REC_OK);
}

static void
test_equal(void **state)
{
	uint8_t a[REC_HASH_LEN], b[REC_HASH_LEN];

	(void)state;
	hash(CODE1, NULL, salt1, a);
	memcpy(b, a, sizeof(b));
	assert_int_equal(rec_kdf_equal(a, b), 1);
	assert_int_equal(rec_kdf_equal(a, a), 1);
	/* Any one bit anywhere makes them differ, first and last bytes too. */
	for (size_t i = 0; i < REC_HASH_LEN; i++) {
		for (int bit = 0; bit < 8; bit++) {
			b[i] ^= (uint8_t)(1u << bit);
			assert_int_equal(rec_kdf_equal(a, b), 0);
			b[i] ^= (uint8_t)(1u << bit);
		}
	}
	assert_int_equal(rec_kdf_equal(a, b), 1);
}

static void
test_tag_bits(void **state)
{
	char code[32];
	uint16_t full, t;

	(void)state;
	for (int i = 0; i < 200; i++) {
		snprintf(code, sizeof(code), "CODE%04d", i);
		assert_int_equal(rec_kdf_tag(code, NULL, key1, 0), 0);
		assert_int_equal(rec_kdf_tag(code, pepper1, key1, 0), 0);
		full = rec_kdf_tag(code, NULL, key1, 16);
		for (unsigned bits = 1; bits <= 16; bits++) {
			t = rec_kdf_tag(code, NULL, key1, bits);
			assert_true(t < (1u << bits));
			/* The low bits of the same keyed hash. */
			assert_int_equal(t, full & ((1u << bits) - 1));
			assert_int_equal(t, rec_kdf_tag(code, NULL, key1, bits));
		}
	}
}

/* Pin the tag construction: BLAKE2b-64 of the secret under the tag key. */
static void
test_tag_construction(void **state)
{
	unsigned char secret[REC_HASH_LEN], h[8];

	(void)state;
	crypto_generichash(secret, sizeof(secret), (const unsigned char *)CODE1,
	    strlen(CODE1), pepper1, REC_PEPPER_LEN);
	crypto_generichash(h, sizeof(h), secret, sizeof(secret), key1,
	    REC_TAGKEY_LEN);
	assert_int_equal(rec_kdf_tag(CODE1, pepper1, key1, 16),
	    (h[0] << 8 | h[1]));
	assert_int_equal(rec_kdf_tag(CODE1, pepper1, key1, 5), h[1] & 0x1f);
}

/* The key, the pepper and the code each change the tag (over 64 codes). */
static void
test_tag_differs(void **state)
{
	char code[32];
	int key_diff = 0, pepper_diff = 0, code_diff = 0;
	uint16_t prev = 0, t;

	(void)state;
	for (int i = 0; i < 64; i++) {
		snprintf(code, sizeof(code), "CODE%04d", i);
		t = rec_kdf_tag(code, NULL, key1, 16);
		key_diff += t != rec_kdf_tag(code, NULL, key2, 16);
		pepper_diff += t != rec_kdf_tag(code, pepper1, key1, 16);
		pepper_diff += rec_kdf_tag(code, pepper1, key1, 16) !=
		    rec_kdf_tag(code, pepper2, key1, 16);
		code_diff += i > 0 && t != prev;
		prev = t;
	}
	/* A 16-bit tag collides by chance about once in 65536. */
	assert_true(key_diff >= 62);
	assert_true(pepper_diff >= 124);
	assert_true(code_diff >= 61);
}

/* 2000 fixed pseudo-random strings hit every one of 256 buckets. */
static void
test_tag_distribution(void **state)
{
	static const unsigned char seed[randombytes_SEEDBYTES] = { 7 };
	unsigned char raw[2000 * 16];
	unsigned buckets[256] = { 0 }, max = 0;
	char code[17];

	(void)state;
	randombytes_buf_deterministic(raw, sizeof(raw), seed);
	for (int i = 0; i < 2000; i++) {
		/* Printable, like a real code: 16 characters of base32. */
		for (int k = 0; k < 16; k++)
			code[k] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
			    [raw[i * 16 + k] & 31];
		code[16] = '\0';
		buckets[rec_kdf_tag(code, NULL, key1, 8)]++;
	}
	for (int b = 0; b < 256; b++) {
		if (buckets[b] == 0) {
			print_error("bucket %d never hit\n", b);
			fail();
		}
		if (buckets[b] > max)
			max = buckets[b];
	}
	/* The mean is 7.8; a bucket with 4 times that is not chance. */
	assert_true(max <= 32);
}

/* ---- The pepper file. ---- */

struct fx {
	char dir[64];
	char path[128];
	struct capture cap;
	struct rec_log log;
	unsigned char content[4096];
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_kdf.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/pepper", f->dir);
	capture_init(&f->cap, &f->log);
	for (size_t i = 0; i < sizeof(f->content); i++)
		f->content[i] = (unsigned char)(i * 131 + 7);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int r = tmpdir_remove(f->dir);

	free(f);
	return r;
}

static void
write_pepper(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* Load expecting failure: not REC_OK, logged with the path. */
static int
load_refused(struct fx *f, const char *path)
{
	unsigned char key[REC_PEPPER_LEN];
	int r;

	memset(&f->cap, 0, sizeof(f->cap));
	r = rec_kdf_load_pepper(path, key, &f->log);
	assert_int_not_equal(r, REC_OK);
	if (strstr(f->cap.text, path) == NULL) {
		print_error("refusal of %s not logged:\n%s", path, f->cap.text);
		fail();
	}
	return r;
}

static void
test_pepper_good(void **state)
{
	struct fx *f = *state;
	unsigned char k1[REC_PEPPER_LEN], k2[REC_PEPPER_LEN], zero[REC_PEPPER_LEN];

	write_pepper(f->path, f->content, 64, 0600);
	memset(k1, 0, sizeof(k1));
	memset(zero, 0, sizeof(zero));
	assert_int_equal(rec_kdf_load_pepper(f->path, k1, &f->log), REC_OK);
	assert_int_equal(f->cap.count, 0);
	assert_memory_not_equal(k1, zero, REC_PEPPER_LEN);
	assert_int_equal(rec_kdf_load_pepper(f->path, k2, NULL), REC_OK);
	assert_memory_equal(k1, k2, REC_PEPPER_LEN);
	/* Stricter modes are fine too. */
	assert_int_equal(chmod(f->path, 0400), 0);
	assert_int_equal(rec_kdf_load_pepper(f->path, k2, &f->log), REC_OK);
	assert_memory_equal(k1, k2, REC_PEPPER_LEN);
	/* Exactly REC_PEPPER_LEN bytes is enough. */
	write_pepper(f->path, f->content, REC_PEPPER_LEN, 0600);
	assert_int_equal(rec_kdf_load_pepper(f->path, k2, &f->log), REC_OK);
}

/*
 * Peppered hashes depend on the derived key: pin it (BLAKE2b-256 of the
 * whole file) and check that every byte of the file counts.
 */
static void
test_pepper_derivation(void **state)
{
	struct fx *f = *state;
	unsigned char want[REC_PEPPER_LEN], k[REC_PEPPER_LEN], k2[REC_PEPPER_LEN];

	write_pepper(f->path, f->content, 64, 0600);
	crypto_generichash(want, sizeof(want), f->content, 64, NULL, 0);
	assert_int_equal(rec_kdf_load_pepper(f->path, k, &f->log), REC_OK);
	assert_memory_equal(k, want, REC_PEPPER_LEN);
	f->content[63] ^= 1;
	write_pepper(f->path, f->content, 64, 0600);
	assert_int_equal(rec_kdf_load_pepper(f->path, k2, &f->log), REC_OK);
	assert_memory_not_equal(k, k2, REC_PEPPER_LEN);
	/* Not the file's bytes themselves. */
	assert_memory_not_equal(k2, f->content, REC_PEPPER_LEN);
}

static void
test_pepper_loose_mode(void **state)
{
	static const mode_t modes[] = { 0640, 0604, 0660, 0606, 0644, 0610,
	    0601, 0666 };
	struct fx *f = *state;

	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		write_pepper(f->path, f->content, 64, modes[i]);
		if (load_refused(f, f->path) != REC_ERR_UNSAFE) {
			print_error("mode %04o not refused as unsafe\n",
			    (unsigned)modes[i]);
			fail();
		}
	}
}

static void
test_pepper_symlink(void **state)
{
	struct fx *f = *state;
	char link[192];

	write_pepper(f->path, f->content, 64, 0600);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	load_refused(f, link);
}

static void
test_pepper_short(void **state)
{
	struct fx *f = *state;

	write_pepper(f->path, f->content, REC_PEPPER_LEN - 1, 0600);
	load_refused(f, f->path);
	write_pepper(f->path, f->content, 0, 0600);
	load_refused(f, f->path);
}

static void
test_pepper_missing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(load_refused(f, f->path), REC_ERR_IO);
}

static void
test_pepper_directory(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(f->path, 0700), 0);
	load_refused(f, f->path);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_deterministic),
		cmocka_unit_test(test_hash_differs),
		cmocka_unit_test(test_hash_construction),
		cmocka_unit_test(test_hash_nomem),
		cmocka_unit_test(test_dummy),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_tag_bits),
		cmocka_unit_test(test_tag_construction),
		cmocka_unit_test(test_tag_differs),
		cmocka_unit_test(test_tag_distribution),
		T(test_pepper_good),
		T(test_pepper_derivation),
		T(test_pepper_loose_mode),
		T(test_pepper_symlink),
		T(test_pepper_short),
		T(test_pepper_missing),
		T(test_pepper_directory),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
