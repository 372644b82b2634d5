/* SPDX-License-Identifier: BSD-2-Clause */
/* mkseeds.c: writes the seed corpus of fuzz_normalise and fuzz_record (make fuzz-seeds). */
#include <err.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_code.h"
#include "rec_record.h"

static void
put(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	if ((f = fopen(path, "wb")) == NULL)
		err(1, "%s", path);
	if (fwrite(data, 1, len, f) != len || fclose(f) != 0)
		err(1, "%s", path);
}

/* A format header as fuzz_normalise reads it, then the typed text. */
static void
code_seed(const char *dir, const char *name, enum rec_alphabet a,
    unsigned length, unsigned group, int check, const char *typed)
{
	unsigned char buf[512];
	size_t n = strlen(typed);

	buf[0] = (unsigned char)a;
	buf[1] = (unsigned char)length;
	buf[2] = (unsigned char)(group << 1 | (check ? 1 : 0));
	memcpy(buf + 3, typed, n);
	put(dir, name, buf, n + 3);
}

static void
normalise_seeds(const char *dir)
{
	struct rec_format f32 = { REC_ALPHA_BASE32, 20, 5, 1 };
	struct rec_format f60 = { REC_ALPHA_BASE60, 36, 6, 1 };
	struct rec_format f10 = { REC_ALPHA_DIGITS, 16, 4, 1 };
	char code[REC_CODE_MAX + 1], shown[REC_CODE_BUF];

	rec_code_generate(&f32, code);
	rec_code_display(&f32, code, shown, sizeof(shown));
	code_seed(dir, "base32-display", REC_ALPHA_BASE32, 20, 5, 1, shown);
	for (char *p = shown; *p != '\0'; p++) {
		if (*p == '-')
			*p = ' ';
		else if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
		else if (*p == '0')
			*p = 'o';
		else if (*p == '1')
			*p = 'l';
	}
	code_seed(dir, "base32-typed", REC_ALPHA_BASE32, 20, 5, 1, shown);
	code[19] = code[19] == '0' ? '1' : '0';
	code_seed(dir, "base32-typo", REC_ALPHA_BASE32, 20, 5, 1, code);
	rec_code_generate(&f60, code);
	rec_code_display(&f60, code, shown, sizeof(shown));
	code_seed(dir, "base60-display", REC_ALPHA_BASE60, 36, 6, 1, shown);
	rec_code_generate(&f10, code);
	rec_code_display(&f10, code, shown, sizeof(shown));
	code_seed(dir, "digits-display", REC_ALPHA_DIGITS, 16, 4, 1, shown);
	code_seed(dir, "nocheck", REC_ALPHA_BASE32, 12, 4, 0, "abcd-efgh-jkmn");
}

static void
record_seeds(const char *dir)
{
	uint8_t buf[REC_RECORD_BUF];
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	struct rec_event e;

	memset(&u, 0, sizeof(u));
	put(dir, "user-empty", buf, rec_user_encode(&u, buf));
	u.active_batch = 1800000000ULL << 24 | 0x123456;
	u.lock.failures = 5;
	u.lock.window_start = 1800000000;
	u.lock.last_fail = 1800000100;
	u.lock.locked_until = 1800000160;
	u.lock.cooldown = 60;
	u.last_used = 1799999000;
	u.last_generated = 1700000000;
	put(dir, "user-locked", buf, rec_user_encode(&u, buf));

	memset(&b, 0, sizeof(b));
	b.id = u.active_batch;
	b.status = REC_BATCH_ACTIVE;
	b.created = b.modified = 1800000000;
	b.exported = REC_EXP_TERMINAL | REC_EXP_CSV;
	b.count = 10;
	b.used = 2;
	b.invalidated = 1;
	b.opslimit = 2;
	b.memlimit = 64 << 20;
	b.tag_bits = 16;
	randombytes_buf(b.tag_key, sizeof(b.tag_key));
	b.fmt = (struct rec_format){ REC_ALPHA_BASE32, 20, 5, 1 };
	put(dir, "batch-active", buf, rec_batch_encode(&b, buf));
	b.status = REC_BATCH_INVALIDATED;
	b.peppered = 1;
	b.expires = 1900000000;
	b.fmt = (struct rec_format){ REC_ALPHA_BASE60, 36, 6, 1 };
	put(dir, "batch-peppered", buf, rec_batch_encode(&b, buf));

	memset(&c, 0, sizeof(c));
	c.slot = 3;
	c.state = REC_CODE_USED;
	c.tag = 0xbeef;
	randombytes_buf(c.salt, sizeof(c.salt));
	randombytes_buf(c.hash, sizeof(c.hash));
	c.changed = 1800000200;
	put(dir, "code-used", buf, rec_coderec_encode(&c, buf));

	memset(&e, 0, sizeof(e));
	e.time = 1800000200;
	e.type = REC_EV_CODE_USED;
	e.batch = b.id;
	e.slot = 3;
	snprintf(e.user, sizeof(e.user), "alice");
	snprintf(e.service, sizeof(e.service), "sshd");
	snprintf(e.rhost, sizeof(e.rhost), "203.0.113.5");
	snprintf(e.tty, sizeof(e.tty), "ssh");
	put(dir, "event-used", buf, rec_event_encode(&e, buf));
	e.type = REC_EV_UNLOCKED;
	snprintf(e.actor, sizeof(e.actor), "root (sudo from bob)");
	snprintf(e.detail, sizeof(e.detail), "admin unlock");
	put(dir, "event-unlock", buf, rec_event_encode(&e, buf));
}

int
main(int argc, char **argv)
{
	if (argc != 3)
		errx(2, "usage: mkseeds NORMALISE-DIR RECORD-DIR");
	if (sodium_init() < 0)
		errx(1, "libsodium failed to initialise");
	normalise_seeds(argv[1]);
	record_seeds(argv[2]);
	return 0;
}
