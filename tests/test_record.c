/* SPDX-License-Identifier: BSD-2-Clause */
/* test_record.c: unit tests of the on-disk record encoding and its bounds. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_record.h"

/*
 * Expected encoded sizes, counted by hand from the field list: a change of
 * layout must come with a new version byte, so these are part of the format.
 */
#define LOCK_LEN	(4 + 8 * 4)
#define USER_LEN	(1 + 8 + 2 * LOCK_LEN + 8 + 8)
#define BATCH_LEN	(1 + 8 + 1 + 8 * 4 + 4 + 2 * 3 + 8 * 2 + 1 + 1 + \
			    REC_TAGKEY_LEN + 4)
#define CODE_LEN	(1 + 1 + 1 + 2 + REC_SALT_LEN + REC_HASH_LEN + 8)
#define EVENT_HEAD	(1 + 8 + 1 + 8 + 1)

/* Independent big-endian readers and writers for building test vectors. */
static uint64_t
be_get(const uint8_t *p, size_t n)
{
	uint64_t v = 0;

	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static uint8_t *
be_put(uint8_t *p, uint64_t v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
	return p + n;
}

/* A string field as the format defines it: 16-bit length, then the bytes. */
static uint8_t *
str_put(uint8_t *p, const void *s, size_t n)
{
	p = be_put(p, n, 2);
	memcpy(p, s, n);
	return p + n;
}

static void
fill_lock(struct rec_lock *l, uint64_t base)
{
	l->failures = (uint32_t)(base + 1);
	l->window_start = base + 0x0102030405060708ULL;
	l->last_fail = base + 0x1112131415161718ULL;
	l->locked_until = base + 0x2122232425262728ULL;
	l->cooldown = base + 0x3132333435363738ULL;
}

static void
fill_user(struct rec_user *u)
{
	memset(u, 0, sizeof(*u));
	u->active_batch = 0xA1A2A3A4A5A6A7A8ULL;
	fill_lock(&u->lock, 0x10);
	fill_lock(&u->gen, 0x20);
	u->last_used = 0xB1B2B3B4B5B6B7B8ULL;
	u->last_generated = 0xC1C2C3C4C5C6C7C8ULL;
}

static void
fill_batch(struct rec_batch *b)
{
	memset(b, 0, sizeof(*b));
	b->id = 0x0102030405060708ULL;
	b->status = REC_BATCH_INVALIDATED;
	b->created = 0x1112131415161718ULL;
	b->modified = 0x2122232425262728ULL;
	b->expires = 0x3132333435363738ULL;
	b->verified = 0x4142434445464748ULL;
	b->exported = 0x5152535A;
	b->count = 97;
	b->used = 13;
	b->invalidated = 7;
	b->opslimit = 0x61626364ULL;
	b->memlimit = 0x7172737475ULL;
	b->peppered = 1;
	b->tag_bits = 11;
	for (int i = 0; i < REC_TAGKEY_LEN; i++)
		b->tag_key[i] = (uint8_t)(0x80 + i);
	b->fmt.alphabet = REC_ALPHA_DIGITS;
	b->fmt.length = 37;
	b->fmt.group = 5;
	b->fmt.check = 1;
}

static void
fill_code(struct rec_code_rec *c)
{
	memset(c, 0, sizeof(*c));
	c->slot = 42;
	c->state = REC_CODE_INVALID;
	c->tag = 0xBEEF;
	for (int i = 0; i < REC_SALT_LEN; i++)
		c->salt[i] = (uint8_t)(0x10 + i);
	for (int i = 0; i < REC_HASH_LEN; i++)
		c->hash[i] = (uint8_t)(0x40 + i);
	c->changed = 0xD1D2D3D4D5D6D7D8ULL;
}

static void
fill_event(struct rec_event *e)
{
	memset(e, 0, sizeof(*e));
	e->time = 0x0A0B0C0D0E0F1011ULL;
	e->type = REC_EV_INVALIDATED;
	e->batch = 0x2A2B2C2D2E2F3031ULL;
	e->slot = 77;
	snprintf(e->user, sizeof(e->user), "alice");
	snprintf(e->service, sizeof(e->service), "sshd");
	snprintf(e->rhost, sizeof(e->rhost), "192.0.2.7");
	snprintf(e->tty, sizeof(e->tty), "ssh");
	snprintf(e->actor, sizeof(e->actor), "root");
	snprintf(e->detail, sizeof(e->detail), "replaced by batch 99");
}

/* Every text field at its longest (field size - 1), each a different letter. */
static void
fill_event_long(struct rec_event *e)
{
	char *fields[] = { e->user, e->service, e->rhost, e->tty, e->actor,
	    e->detail };

	fill_event(e);
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++) {
		memset(fields[i], 'a' + (int)i, REC_FIELD_MAX - 1);
		fields[i][REC_FIELD_MAX - 1] = '\0';
	}
}

static int
lock_equal(const struct rec_lock *a, const struct rec_lock *b)
{
	return a->failures == b->failures && a->window_start == b->window_start &&
	    a->last_fail == b->last_fail && a->locked_until == b->locked_until &&
	    a->cooldown == b->cooldown;
}

static int
user_equal(const struct rec_user *a, const struct rec_user *b)
{
	return a->active_batch == b->active_batch && lock_equal(&a->lock,
	    &b->lock) && lock_equal(&a->gen, &b->gen) &&
	    a->last_used == b->last_used &&
	    a->last_generated == b->last_generated;
}

static int
batch_equal(const struct rec_batch *a, const struct rec_batch *b)
{
	return a->id == b->id && a->status == b->status &&
	    a->created == b->created && a->modified == b->modified &&
	    a->expires == b->expires && a->verified == b->verified &&
	    a->exported == b->exported && a->count == b->count &&
	    a->used == b->used && a->invalidated == b->invalidated &&
	    a->opslimit == b->opslimit && a->memlimit == b->memlimit &&
	    a->peppered == b->peppered && a->tag_bits == b->tag_bits &&
	    memcmp(a->tag_key, b->tag_key, REC_TAGKEY_LEN) == 0 &&
	    a->fmt.alphabet == b->fmt.alphabet &&
	    a->fmt.length == b->fmt.length && a->fmt.group == b->fmt.group &&
	    a->fmt.check == b->fmt.check;
}

static int
code_equal(const struct rec_code_rec *a, const struct rec_code_rec *b)
{
	return a->slot == b->slot && a->state == b->state && a->tag == b->tag &&
	    memcmp(a->salt, b->salt, REC_SALT_LEN) == 0 &&
	    memcmp(a->hash, b->hash, REC_HASH_LEN) == 0 &&
	    a->changed == b->changed;
}

static int
event_equal(const struct rec_event *a, const struct rec_event *b)
{
	return a->time == b->time && a->type == b->type &&
	    a->batch == b->batch && a->slot == b->slot &&
	    strcmp(a->user, b->user) == 0 &&
	    strcmp(a->service, b->service) == 0 &&
	    strcmp(a->rhost, b->rhost) == 0 && strcmp(a->tty, b->tty) == 0 &&
	    strcmp(a->actor, b->actor) == 0 &&
	    strcmp(a->detail, b->detail) == 0;
}

/*
 * The four record types behind one interface, so that the tests of the
 * framing (truncation, trailing bytes, version) run over every type alike.
 */
union any_rec {
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	struct rec_event e;
};

struct kind {
	const char *name;
	size_t len;		/* expected length of the filled record */
	void (*fill)(union any_rec *);
	size_t (*encode)(const union any_rec *, uint8_t *);
	int (*decode)(const uint8_t *, size_t, union any_rec *);
	int (*equal)(const union any_rec *, const union any_rec *);
};

static void k_fill_user(union any_rec *r) { fill_user(&r->u); }
static void k_fill_batch(union any_rec *r) { fill_batch(&r->b); }
static void k_fill_code(union any_rec *r) { fill_code(&r->c); }
static void k_fill_event(union any_rec *r) { fill_event(&r->e); }
static void k_fill_event_long(union any_rec *r) { fill_event_long(&r->e); }

static size_t k_enc_user(const union any_rec *r, uint8_t *p)
{ return rec_user_encode(&r->u, p); }
static size_t k_enc_batch(const union any_rec *r, uint8_t *p)
{ return rec_batch_encode(&r->b, p); }
static size_t k_enc_code(const union any_rec *r, uint8_t *p)
{ return rec_coderec_encode(&r->c, p); }
static size_t k_enc_event(const union any_rec *r, uint8_t *p)
{ return rec_event_encode(&r->e, p); }

static int k_dec_user(const uint8_t *p, size_t n, union any_rec *r)
{ return rec_user_decode(p, n, &r->u); }
static int k_dec_batch(const uint8_t *p, size_t n, union any_rec *r)
{ return rec_batch_decode(p, n, &r->b); }
static int k_dec_code(const uint8_t *p, size_t n, union any_rec *r)
{ return rec_coderec_decode(p, n, &r->c); }
static int k_dec_event(const uint8_t *p, size_t n, union any_rec *r)
{ return rec_event_decode(p, n, &r->e); }

static int k_eq_user(const union any_rec *a, const union any_rec *b)
{ return user_equal(&a->u, &b->u); }
static int k_eq_batch(const union any_rec *a, const union any_rec *b)
{ return batch_equal(&a->b, &b->b); }
static int k_eq_code(const union any_rec *a, const union any_rec *b)
{ return code_equal(&a->c, &b->c); }
static int k_eq_event(const union any_rec *a, const union any_rec *b)
{ return event_equal(&a->e, &b->e); }

static const struct kind kinds[] = {
	{ "user", USER_LEN, k_fill_user, k_enc_user, k_dec_user, k_eq_user },
	{ "batch", BATCH_LEN, k_fill_batch, k_enc_batch, k_dec_batch,
	    k_eq_batch },
	{ "code", CODE_LEN, k_fill_code, k_enc_code, k_dec_code, k_eq_code },
	{ "event", EVENT_HEAD + 2 * 6 + 5 + 4 + 9 + 3 + 4 + 20, k_fill_event,
	    k_enc_event, k_dec_event, k_eq_event },
	{ "event/long", EVENT_HEAD + 6 * (2 + REC_FIELD_MAX - 1),
	    k_fill_event_long, k_enc_event, k_dec_event, k_eq_event },
};
#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

/*
 * Decode exactly len bytes from a heap copy of that size, so that a decoder
 * reading past len is caught by the sanitizers and valgrind.
 */
static int
decode_exact(const struct kind *k, const uint8_t *enc, size_t len,
    union any_rec *out)
{
	uint8_t *copy = malloc(len > 0 ? len : 1);
	int r;

	assert_non_null(copy);
	if (len > 0)
		memcpy(copy, enc, len);
	r = k->decode(copy, len, out);
	free(copy);
	return r;
}

static void
test_round_trip(void **state)
{
	union any_rec in, out;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;

	(void)state;
	for (size_t i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];

		k->fill(&in);
		memset(buf, 0xEE, sizeof(buf));
		len = k->encode(&in, buf);
		if (len != k->len) {
			print_error("%s: encoded %zu bytes, expected %zu\n",
			    k->name, len, k->len);
			fail();
		}
		assert_true(len <= REC_RECORD_BUF);
		assert_int_equal(buf[0], REC_RECORD_VERSION);
		/* The encoder writes nothing past the length it returns. */
		assert_int_equal(buf[len], 0xEE);
		memset(&out, 0x5A, sizeof(out));
		assert_int_equal(decode_exact(k, buf, len, &out), REC_OK);
		if (!k->equal(&in, &out)) {
			print_error("%s: decoded record differs\n", k->name);
			fail();
		}
	}
}

/* Every proper prefix of a valid encoding is corrupt, including empty. */
static void
test_truncated(void **state)
{
	union any_rec in, out;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;

	(void)state;
	for (size_t i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];

		k->fill(&in);
		len = k->encode(&in, buf);
		for (size_t cut = 0; cut < len; cut++) {
			if (decode_exact(k, buf, cut, &out) != REC_ERR_CORRUPT) {
				print_error("%s: %zu of %zu bytes accepted\n",
				    k->name, cut, len);
				fail();
			}
		}
	}
}

static void
test_trailing_byte(void **state)
{
	union any_rec in, out;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;

	(void)state;
	for (size_t i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];

		k->fill(&in);
		len = k->encode(&in, buf);
		for (unsigned extra = 0; extra < 256; extra += 255) {
			buf[len] = (uint8_t)extra;
			if (decode_exact(k, buf, len + 1, &out) !=
			    REC_ERR_CORRUPT) {
				print_error("%s: trailing byte %u accepted\n",
				    k->name, extra);
				fail();
			}
		}
	}
}

static void
test_unknown_version(void **state)
{
	static const uint8_t versions[] = { 0, 2, 255 };
	union any_rec in, out;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;

	(void)state;
	for (size_t i = 0; i < NKINDS; i++) {
		const struct kind *k = &kinds[i];

		k->fill(&in);
		len = k->encode(&in, buf);
		for (size_t v = 0; v < sizeof(versions); v++) {
			buf[0] = versions[v];
			if (decode_exact(k, buf, len, &out) != REC_ERR_CORRUPT) {
				print_error("%s: version %u accepted\n", k->name,
				    versions[v]);
				fail();
			}
		}
		buf[0] = REC_RECORD_VERSION;
		assert_int_equal(decode_exact(k, buf, len, &out), REC_OK);
	}
}

/* The encoding is big-endian at the documented positions. */
static void
test_user_layout(void **state)
{
	struct rec_user u, d;
	uint8_t buf[REC_RECORD_BUF], *p;
	size_t len;

	(void)state;
	fill_user(&u);
	len = rec_user_encode(&u, buf);
	assert_int_equal(len, USER_LEN);
	assert_int_equal(buf[0], 1);
	assert_int_equal(buf[1], 0xA1);
	assert_int_equal(buf[8], 0xA8);
	assert_true(be_get(buf + 1, 8) == u.active_batch);
	assert_int_equal(be_get(buf + 9, 4), u.lock.failures);
	assert_true(be_get(buf + 13, 8) == u.lock.window_start);
	assert_true(be_get(buf + 9 + LOCK_LEN, 4) == u.gen.failures);
	assert_true(be_get(buf + 9 + 2 * LOCK_LEN, 8) == u.last_used);
	assert_true(be_get(buf + 17 + 2 * LOCK_LEN, 8) == u.last_generated);

	/* A vector built by hand, independently of the encoder, decodes. */
	memset(buf, 0, sizeof(buf));
	p = be_put(buf, 1, 1);
	p = be_put(p, 0x0000000000000102ULL, 8);
	p = be_put(p, 3, 4);
	p += LOCK_LEN - 4;
	p += LOCK_LEN;
	p = be_put(p, 0x0A00000000000000ULL, 8);
	p = be_put(p, 0x00000000000000FFULL, 8);
	assert_int_equal((size_t)(p - buf), USER_LEN);
	assert_int_equal(rec_user_decode(buf, USER_LEN, &d), REC_OK);
	assert_true(d.active_batch == 0x102);
	assert_int_equal(d.lock.failures, 3);
	assert_true(d.last_used == 0x0A00000000000000ULL);
	assert_true(d.last_generated == 0xFF);
}

static void
test_batch_code_event_layout(void **state)
{
	struct rec_batch b;
	struct rec_code_rec c;
	struct rec_event e;
	uint8_t buf[REC_RECORD_BUF];

	(void)state;
	fill_batch(&b);
	rec_batch_encode(&b, buf);
	assert_true(be_get(buf + 1, 8) == b.id);
	assert_int_equal(buf[9], b.status);
	assert_true(be_get(buf + 10, 8) == b.created);
	assert_int_equal(be_get(buf + 42, 4), b.exported);
	assert_int_equal(be_get(buf + 46, 2), b.count);
	assert_int_equal(be_get(buf + 48, 2), b.used);
	assert_int_equal(be_get(buf + 50, 2), b.invalidated);
	assert_int_equal(buf[BATCH_LEN - 4], b.fmt.alphabet);
	assert_int_equal(buf[BATCH_LEN - 3], b.fmt.length);

	fill_code(&c);
	rec_coderec_encode(&c, buf);
	assert_int_equal(buf[1], c.slot);
	assert_int_equal(buf[2], c.state);
	assert_int_equal(buf[3], 0xBE);
	assert_int_equal(buf[4], 0xEF);
	assert_memory_equal(buf + 5, c.salt, REC_SALT_LEN);
	assert_true(be_get(buf + CODE_LEN - 8, 8) == c.changed);

	fill_event(&e);
	rec_event_encode(&e, buf);
	assert_true(be_get(buf + 1, 8) == e.time);
	assert_int_equal(buf[9], e.type);
	assert_true(be_get(buf + 10, 8) == e.batch);
	assert_int_equal(buf[18], e.slot);
	assert_int_equal(be_get(buf + 19, 2), 5);
	assert_memory_equal(buf + 21, "alice", 5);
	assert_int_equal(be_get(buf + 26, 2), 4);
	assert_memory_equal(buf + 28, "sshd", 4);
}

/* Encode a modified copy of the filled batch and expect the given result. */
struct batch_case {
	const char *what;
	void (*mod)(struct rec_batch *);
	int want;
};

static void m_status0(struct rec_batch *b) { b->status = 0; }
static void m_status1(struct rec_batch *b) { b->status = REC_BATCH_ACTIVE; }
static void m_status3(struct rec_batch *b) { b->status = REC_BATCH_PURGED; }
static void m_status4(struct rec_batch *b) { b->status = REC_BATCH_STAGED; }
static void m_status5(struct rec_batch *b) { b->status = 5; }
static void m_tag16(struct rec_batch *b) { b->tag_bits = 16; }
static void m_tag0(struct rec_batch *b) { b->tag_bits = 0; }
static void m_tag17(struct rec_batch *b) { b->tag_bits = 17; }
static void m_alpha0(struct rec_batch *b)
{ b->fmt.alphabet = REC_ALPHA_BASE32; }
static void m_alpha3(struct rec_batch *b)
{ b->fmt.alphabet = (enum rec_alphabet)3; }
static void m_count0(struct rec_batch *b)
{ b->count = 0; b->used = 0; b->invalidated = 0; }
static void m_count1(struct rec_batch *b)
{ b->count = 1; b->used = 0; b->invalidated = 1; }
static void m_count100(struct rec_batch *b) { b->count = 100; }
static void m_count101(struct rec_batch *b) { b->count = 101; }
static void m_sum_eq(struct rec_batch *b)
{ b->count = 10; b->used = 6; b->invalidated = 4; }
static void m_sum_over(struct rec_batch *b)
{ b->count = 10; b->used = 6; b->invalidated = 5; }
static void m_used_over(struct rec_batch *b)
{ b->count = 10; b->used = 11; b->invalidated = 0; }
static void m_inval_over(struct rec_batch *b)
{ b->count = 10; b->used = 0; b->invalidated = 11; }
static void m_len1(struct rec_batch *b) { b->fmt.length = 1; }
static void m_len64(struct rec_batch *b) { b->fmt.length = REC_CODE_MAX; }
static void m_len65(struct rec_batch *b) { b->fmt.length = REC_CODE_MAX + 1; }
static void m_group65(struct rec_batch *b) { b->fmt.group = REC_CODE_MAX + 1; }
static void m_check2(struct rec_batch *b) { b->fmt.check = 2; }
static void m_pepper2(struct rec_batch *b) { b->peppered = 2; }
static void m_ops0(struct rec_batch *b) { b->opslimit = 0; }
static void m_mem0(struct rec_batch *b) { b->memlimit = 0; }

static const struct batch_case batch_cases[] = {
	{ "status 0", m_status0, REC_ERR_CORRUPT },
	{ "status 1", m_status1, REC_OK },
	{ "status 3", m_status3, REC_OK },
	{ "status 4", m_status4, REC_OK },
	{ "status 5", m_status5, REC_ERR_CORRUPT },
	{ "tag_bits 0", m_tag0, REC_OK },
	{ "tag_bits 16", m_tag16, REC_OK },
	{ "tag_bits 17", m_tag17, REC_ERR_CORRUPT },
	{ "alphabet 0", m_alpha0, REC_OK },
	{ "alphabet 3", m_alpha3, REC_ERR_CORRUPT },
	{ "count 0", m_count0, REC_ERR_CORRUPT },
	{ "count 1", m_count1, REC_OK },
	{ "count 100", m_count100, REC_OK },
	{ "count 101", m_count101, REC_ERR_CORRUPT },
	{ "used+invalidated = count", m_sum_eq, REC_OK },
	{ "used+invalidated > count", m_sum_over, REC_ERR_CORRUPT },
	{ "used > count", m_used_over, REC_ERR_CORRUPT },
	{ "invalidated > count", m_inval_over, REC_ERR_CORRUPT },
	{ "length 1", m_len1, REC_ERR_CORRUPT },
	{ "length 64", m_len64, REC_OK },
	{ "length 65", m_len65, REC_ERR_CORRUPT },
	{ "group 65", m_group65, REC_ERR_CORRUPT },
	{ "check 2", m_check2, REC_ERR_CORRUPT },
	{ "peppered 2", m_pepper2, REC_ERR_CORRUPT },
	{ "opslimit 0", m_ops0, REC_ERR_CORRUPT },
	{ "memlimit 0", m_mem0, REC_ERR_CORRUPT },
};

static void
test_batch_ranges(void **state)
{
	struct rec_batch b, d;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;
	int r;

	(void)state;
	for (size_t i = 0; i < sizeof(batch_cases) / sizeof(batch_cases[0]);
	    i++) {
		fill_batch(&b);
		batch_cases[i].mod(&b);
		len = rec_batch_encode(&b, buf);
		r = rec_batch_decode(buf, len, &d);
		if (r != batch_cases[i].want) {
			print_error("batch %s: got %d, expected %d\n",
			    batch_cases[i].what, r, batch_cases[i].want);
			fail();
		}
		if (r == REC_OK && !batch_equal(&b, &d)) {
			print_error("batch %s: decoded record differs\n",
			    batch_cases[i].what);
			fail();
		}
	}
}

static void
test_code_ranges(void **state)
{
	static const struct { uint8_t slot, state; int want; } cases[] = {
		{ 0, REC_CODE_UNUSED, REC_ERR_CORRUPT },
		{ 1, REC_CODE_UNUSED, REC_OK },
		{ 100, REC_CODE_USED, REC_OK },
		{ 5, REC_CODE_INVALID, REC_OK },
		{ 5, 3, REC_ERR_CORRUPT },
		{ 5, 255, REC_ERR_CORRUPT },
	};
	struct rec_code_rec c, d;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fill_code(&c);
		c.slot = cases[i].slot;
		c.state = cases[i].state;
		len = rec_coderec_encode(&c, buf);
		if (rec_coderec_decode(buf, len, &d) != cases[i].want) {
			print_error("code slot %u state %u: expected %d\n",
			    cases[i].slot, cases[i].state, cases[i].want);
			fail();
		}
	}
}

static void
test_event_type_range(void **state)
{
	static const struct { uint8_t type; int want; } cases[] = {
		{ 0, REC_ERR_CORRUPT },
		{ REC_EV_CODE_USED, REC_OK },
		{ REC_EV_ADMIN, REC_OK },
		{ REC_EV_FORGOTTEN, REC_OK },
		{ REC_EV_FORGOTTEN + 1, REC_ERR_CORRUPT },
		{ 99, REC_ERR_CORRUPT },
		{ 255, REC_ERR_CORRUPT },
	};
	struct rec_event e, d;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		fill_event(&e);
		e.type = cases[i].type;
		len = rec_event_encode(&e, buf);
		if (rec_event_decode(buf, len, &d) != cases[i].want) {
			print_error("event type %u: expected %d\n",
			    cases[i].type, cases[i].want);
			fail();
		}
	}
}

/*
 * Build an event encoding by hand with field `which` (0 = user .. 5 =
 * detail) set to the n bytes s, the others short and valid.
 */
static size_t
event_vector(uint8_t *buf, int which, const void *s, size_t n)
{
	uint8_t *p = buf;

	p = be_put(p, REC_RECORD_VERSION, 1);
	p = be_put(p, 1000, 8);
	p = be_put(p, REC_EV_ADMIN, 1);
	p = be_put(p, 7, 8);
	p = be_put(p, 3, 1);
	for (int f = 0; f < 6; f++)
		p = f == which ? str_put(p, s, n) : str_put(p, "x", 1);
	return (size_t)(p - buf);
}

static void
test_event_strings(void **state)
{
	uint8_t buf[REC_RECORD_BUF * 2], *big;
	struct rec_event d;
	union any_rec any;
	size_t len;

	(void)state;
	big = malloc(REC_FIELD_MAX + 1);
	assert_non_null(big);
	memset(big, 'z', REC_FIELD_MAX + 1);
	for (int f = 0; f < 6; f++) {
		/* The longest a field holds with its NUL is accepted... */
		len = event_vector(buf, f, big, REC_FIELD_MAX - 1);
		assert_int_equal(rec_event_decode(buf, len, &d), REC_OK);
		assert_int_equal(strlen(f == 0 ? d.user : d.detail),
		    f == 0 || f == 5 ? REC_FIELD_MAX - 1 : 1);
		/* ...one more, or far more, is not. */
		len = event_vector(buf, f, big, REC_FIELD_MAX);
		assert_int_equal(rec_event_decode(buf, len, &d),
		    REC_ERR_CORRUPT);
		len = event_vector(buf, f, big, REC_FIELD_MAX + 1);
		assert_int_equal(rec_event_decode(buf, len, &d),
		    REC_ERR_CORRUPT);
		/* An embedded NUL would silently cut the text: corrupt. */
		len = event_vector(buf, f, "ab\0cd", 5);
		assert_int_equal(rec_event_decode(buf, len, &d),
		    REC_ERR_CORRUPT);
		len = event_vector(buf, f, "\0", 1);
		assert_int_equal(rec_event_decode(buf, len, &d),
		    REC_ERR_CORRUPT);
		/* An empty field is fine. */
		len = event_vector(buf, f, "", 0);
		assert_int_equal(rec_event_decode(buf, len, &d), REC_OK);
	}
	/* A length claiming more bytes than the record holds. */
	len = event_vector(buf, 5, "abc", 3);
	be_put(buf + len - 5, 200, 2);
	assert_int_equal(decode_exact(&kinds[3], buf, len, &any),
	    REC_ERR_CORRUPT);
	free(big);
}

/* An over-long or unterminated text field is cut, never overrun. */
static void
test_event_encode_cuts(void **state)
{
	struct rec_event e, d;
	uint8_t buf[REC_RECORD_BUF];
	size_t len;

	(void)state;
	fill_event(&e);
	memset(e.detail, 'q', sizeof(e.detail));	/* no NUL at all */
	len = rec_event_encode(&e, buf);
	assert_true(len <= REC_RECORD_BUF);
	assert_int_equal(rec_event_decode(buf, len, &d), REC_OK);
	assert_int_equal(strlen(d.detail), REC_FIELD_MAX - 1);
	assert_string_equal(d.user, "alice");
}

static void
test_event_name(void **state)
{
	const char *names[REC_EV_ADMIN + 1];

	(void)state;
	assert_string_equal(rec_event_name(REC_EV_CODE_USED), "code_used");
	assert_string_equal(rec_event_name(REC_EV_ADMIN), "admin");
	for (int t = REC_EV_CODE_USED; t <= REC_EV_ADMIN; t++) {
		names[t] = rec_event_name((enum rec_event_type)t);
		assert_non_null(names[t]);
		assert_true(names[t][0] != '\0');
		assert_true(strspn(names[t], "abcdefghijklmnopqrstuvwxyz_") ==
		    strlen(names[t]));
		for (int o = REC_EV_CODE_USED; o < t; o++)
			assert_string_not_equal(names[o], names[t]);
	}
	/* Out of range: a name, but never one of the real ones. */
	static const int bad[] = { 0, REC_EV_ADMIN + 1, 99, -1 };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *n = rec_event_name((enum rec_event_type)bad[i]);

		assert_non_null(n);
		for (int t = REC_EV_CODE_USED; t <= REC_EV_ADMIN; t++)
			assert_string_not_equal(n, names[t]);
	}
}

static void
test_batch_status_name(void **state)
{
	struct rec_batch b;

	(void)state;
	fill_batch(&b);
	b.status = REC_BATCH_ACTIVE;
	b.expires = 0;
	assert_string_equal(rec_batch_status_name(&b, 0), "active");
	assert_string_equal(rec_batch_status_name(&b, UINT64_MAX), "active");
	b.expires = 1000;
	assert_string_equal(rec_batch_status_name(&b, 999), "active");
	assert_string_equal(rec_batch_status_name(&b, 1000), "expired");
	assert_string_equal(rec_batch_status_name(&b, 1001), "expired");
	b.status = REC_BATCH_INVALIDATED;
	assert_string_equal(rec_batch_status_name(&b, 999), "invalidated");
	assert_string_equal(rec_batch_status_name(&b, 2000), "invalidated");
	b.status = REC_BATCH_PURGED;
	assert_string_equal(rec_batch_status_name(&b, 999), "purged");
	assert_string_equal(rec_batch_status_name(&b, 2000), "purged");
	b.status = REC_BATCH_STAGED;
	assert_string_equal(rec_batch_status_name(&b, 999), "staged");
	b.status = 0;
	assert_non_null(rec_batch_status_name(&b, 999));
}

/* Code records against their batch's counts: what a crafted store breaks. */
static void
test_batch_check_codes(void **state)
{
	static const struct {
		const char *name;
		uint16_t count, used, invalidated;
		unsigned n;
		uint8_t slot[6], st[6];	/* st: 0 unused, 1 used, 2 invalid */
		int want;
	} cases[] = {
		{ "fresh batch", 5, 0, 0, 5, { 1, 2, 3, 4, 5 },
		    { 0, 0, 0, 0, 0 }, REC_OK },
		{ "one used, one invalid", 5, 1, 1, 5, { 1, 2, 3, 4, 5 },
		    { 1, 2, 0, 0, 0 }, REC_OK },
		{ "used codes purged", 5, 2, 0, 3, { 3, 4, 5 }, { 0, 0, 0 },
		    REC_OK },
		{ "no codes left", 3, 2, 1, 3, { 1, 2, 3 }, { 1, 1, 2 }, REC_OK },
		{ "an unused code, none counted left", 3, 3, 0, 3, { 1, 2, 3 },
		    { 1, 1, 0 }, REC_ERR_CORRUPT },
		{ "more unused codes than remain", 5, 1, 0, 5,
		    { 1, 2, 3, 4, 5 }, { 0, 0, 0, 0, 0 }, REC_ERR_CORRUPT },
		{ "more used codes than counted", 5, 1, 0, 5, { 1, 2, 3, 4, 5 },
		    { 1, 1, 0, 0, 0 }, REC_ERR_CORRUPT },
		{ "more invalid codes than counted", 5, 0, 0, 5,
		    { 1, 2, 3, 4, 5 }, { 2, 0, 0, 0, 0 }, REC_ERR_CORRUPT },
		{ "more codes than the batch has", 3, 0, 0, 4, { 1, 2, 3, 4 },
		    { 0, 0, 0, 0 }, REC_ERR_CORRUPT },
		{ "a slot past count", 3, 0, 0, 3, { 1, 2, 9 }, { 0, 0, 0 },
		    REC_ERR_CORRUPT },
		{ "a slot twice", 3, 0, 0, 3, { 1, 2, 2 }, { 0, 0, 0 },
		    REC_ERR_CORRUPT },
		{ "slot 0", 3, 0, 0, 1, { 0 }, { 0 }, REC_ERR_CORRUPT },
		{ "an unknown state", 3, 0, 0, 1, { 1 }, { 3 }, REC_ERR_CORRUPT },
		{ "counts above count", 3, 2, 2, 0, { 0 }, { 0 },
		    REC_ERR_CORRUPT },
	};
	struct rec_batch b;
	struct rec_code_rec codes[6];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		memset(&b, 0, sizeof(b));
		b.count = cases[i].count;
		b.used = cases[i].used;
		b.invalidated = cases[i].invalidated;
		memset(codes, 0, sizeof(codes));
		for (unsigned j = 0; j < cases[i].n; j++) {
			codes[j].slot = cases[i].slot[j];
			codes[j].state = cases[i].st[j];
		}
		if (rec_batch_check_codes(&b, codes, cases[i].n) !=
		    cases[i].want)
			fail_msg("%s: expected %d", cases[i].name,
			    cases[i].want);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing_byte),
		cmocka_unit_test(test_unknown_version),
		cmocka_unit_test(test_user_layout),
		cmocka_unit_test(test_batch_code_event_layout),
		cmocka_unit_test(test_batch_ranges),
		cmocka_unit_test(test_code_ranges),
		cmocka_unit_test(test_event_type_range),
		cmocka_unit_test(test_event_strings),
		cmocka_unit_test(test_event_encode_cuts),
		cmocka_unit_test(test_event_name),
		cmocka_unit_test(test_batch_status_name),
		cmocka_unit_test(test_batch_check_codes),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
