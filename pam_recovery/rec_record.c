/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_record.c: field-by-field big-endian encoding of store records. */
#include <string.h>

#include "rec_be.h"
#include "rec_err.h"
#include "rec_record.h"

/* A bounded reader: every get fails once the record is exhausted. */
struct rd {
	const uint8_t *p;
	size_t left;
	int bad;
};

static uint8_t *
put8(uint8_t *p, uint8_t v)
{
	*p = v;
	return p + 1;
}

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
	rec_be_put16(p, v);
	return p + 2;
}

static uint8_t *
put32(uint8_t *p, uint32_t v)
{
	rec_be_put32(p, v);
	return p + 4;
}

static uint8_t *
put64(uint8_t *p, uint64_t v)
{
	rec_be_put64(p, v);
	return p + 8;
}

static uint8_t *
putbytes(uint8_t *p, const void *v, size_t n)
{
	memcpy(p, v, n);
	return p + n;
}

/* A string: 16-bit length, then the bytes, cut at max - 1. */
static uint8_t *
putstr(uint8_t *p, const char *s, size_t max)
{
	size_t n = strnlen(s, max - 1);

	p = put16(p, (uint16_t)n);
	return putbytes(p, s, n);
}

static const uint8_t *
take(struct rd *r, size_t n)
{
	const uint8_t *p = r->p;

	if (r->bad || r->left < n) {
		r->bad = 1;
		return NULL;
	}
	r->p += n;
	r->left -= n;
	return p;
}

static uint64_t
getn(struct rd *r, size_t n)
{
	const uint8_t *p = take(r, n);
	uint64_t v = 0;

	if (p == NULL)
		return 0;
	for (size_t i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

static void
getbytes(struct rd *r, void *v, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p != NULL)
		memcpy(v, p, n);
	else
		memset(v, 0, n);
}

static void
getstr(struct rd *r, char *s, size_t max)
{
	size_t n = (size_t)getn(r, 2);
	const uint8_t *p;

	s[0] = '\0';
	if (n >= max || (p = take(r, n)) == NULL) {
		r->bad = 1;
		return;
	}
	if (memchr(p, '\0', n) != NULL) {
		r->bad = 1;
		return;
	}
	memcpy(s, p, n);
	s[n] = '\0';
}

/* A decode succeeded when the version matched and nothing is left over. */
static int
finish(const struct rd *r)
{
	return r->bad || r->left != 0 ? REC_ERR_CORRUPT : REC_OK;
}

static uint8_t *
putlock(uint8_t *p, const struct rec_lock *l)
{
	p = put32(p, l->failures);
	p = put64(p, l->window_start);
	p = put64(p, l->last_fail);
	p = put64(p, l->locked_until);
	return put64(p, l->cooldown);
}

static void
getlock(struct rd *r, struct rec_lock *l)
{
	l->failures = (uint32_t)getn(r, 4);
	l->window_start = getn(r, 8);
	l->last_fail = getn(r, 8);
	l->locked_until = getn(r, 8);
	l->cooldown = getn(r, 8);
}

size_t
rec_user_encode(const struct rec_user *u, uint8_t *buf)
{
	uint8_t *p = put8(buf, REC_RECORD_VERSION);

	p = put64(p, u->active_batch);
	p = putlock(p, &u->lock);
	p = putlock(p, &u->gen);
	p = put64(p, u->last_used);
	p = put64(p, u->last_generated);
	return (size_t)(p - buf);
}

int
rec_user_decode(const uint8_t *buf, size_t len, struct rec_user *u)
{
	struct rd r = { buf, len, 0 };

	memset(u, 0, sizeof(*u));
	if (getn(&r, 1) != REC_RECORD_VERSION)
		return REC_ERR_CORRUPT;
	u->active_batch = getn(&r, 8);
	getlock(&r, &u->lock);
	getlock(&r, &u->gen);
	u->last_used = getn(&r, 8);
	u->last_generated = getn(&r, 8);
	return finish(&r);
}

size_t
rec_batch_encode(const struct rec_batch *b, uint8_t *buf)
{
	uint8_t *p = put8(buf, REC_RECORD_VERSION);

	p = put64(p, b->id);
	p = put8(p, b->status);
	p = put64(p, b->created);
	p = put64(p, b->modified);
	p = put64(p, b->expires);
	p = put64(p, b->verified);
	p = put32(p, b->exported);
	p = put16(p, b->count);
	p = put16(p, b->used);
	p = put16(p, b->invalidated);
	p = put64(p, b->opslimit);
	p = put64(p, b->memlimit);
	p = put8(p, b->peppered);
	p = put8(p, b->tag_bits);
	p = putbytes(p, b->tag_key, REC_TAGKEY_LEN);
	p = put8(p, (uint8_t)b->fmt.alphabet);
	p = put8(p, (uint8_t)b->fmt.length);
	p = put8(p, (uint8_t)b->fmt.group);
	p = put8(p, (uint8_t)b->fmt.check);
	return (size_t)(p - buf);
}

int
rec_batch_decode(const uint8_t *buf, size_t len, struct rec_batch *b)
{
	struct rd r = { buf, len, 0 };
	unsigned alpha;

	memset(b, 0, sizeof(*b));
	if (getn(&r, 1) != REC_RECORD_VERSION)
		return REC_ERR_CORRUPT;
	b->id = getn(&r, 8);
	b->status = (uint8_t)getn(&r, 1);
	b->created = getn(&r, 8);
	b->modified = getn(&r, 8);
	b->expires = getn(&r, 8);
	b->verified = getn(&r, 8);
	b->exported = (uint32_t)getn(&r, 4);
	b->count = (uint16_t)getn(&r, 2);
	b->used = (uint16_t)getn(&r, 2);
	b->invalidated = (uint16_t)getn(&r, 2);
	b->opslimit = getn(&r, 8);
	b->memlimit = getn(&r, 8);
	b->peppered = (uint8_t)getn(&r, 1);
	b->tag_bits = (uint8_t)getn(&r, 1);
	getbytes(&r, b->tag_key, REC_TAGKEY_LEN);
	alpha = (unsigned)getn(&r, 1);
	b->fmt.length = (unsigned)getn(&r, 1);
	b->fmt.group = (unsigned)getn(&r, 1);
	b->fmt.check = (int)getn(&r, 1);
	if (finish(&r) != REC_OK)
		return REC_ERR_CORRUPT;
	if (alpha > REC_ALPHA_DIGITS || b->status < REC_BATCH_ACTIVE ||
	    b->status > REC_BATCH_STAGED || b->tag_bits > REC_TAG_MAX_BITS ||
	    b->fmt.length < 2 || b->fmt.length > REC_CODE_MAX ||
	    b->fmt.group > REC_CODE_MAX || b->fmt.check > 1 ||
	    b->count == 0 || b->count > REC_COUNT_MAX || b->used > b->count ||
	    b->invalidated > b->count || b->used + b->invalidated > b->count ||
	    b->peppered > 1 || b->opslimit == 0 || b->memlimit == 0)
		return REC_ERR_CORRUPT;
	b->fmt.alphabet = (enum rec_alphabet)alpha;
	return REC_OK;
}

size_t
rec_coderec_encode(const struct rec_code_rec *c, uint8_t *buf)
{
	uint8_t *p = put8(buf, REC_RECORD_VERSION);

	p = put8(p, c->slot);
	p = put8(p, c->state);
	p = put16(p, c->tag);
	p = putbytes(p, c->salt, REC_SALT_LEN);
	p = putbytes(p, c->hash, REC_HASH_LEN);
	p = put64(p, c->changed);
	return (size_t)(p - buf);
}

int
rec_coderec_decode(const uint8_t *buf, size_t len, struct rec_code_rec *c)
{
	struct rd r = { buf, len, 0 };

	memset(c, 0, sizeof(*c));
	if (getn(&r, 1) != REC_RECORD_VERSION)
		return REC_ERR_CORRUPT;
	c->slot = (uint8_t)getn(&r, 1);
	c->state = (uint8_t)getn(&r, 1);
	c->tag = (uint16_t)getn(&r, 2);
	getbytes(&r, c->salt, REC_SALT_LEN);
	getbytes(&r, c->hash, REC_HASH_LEN);
	c->changed = getn(&r, 8);
	if (finish(&r) != REC_OK || c->slot == 0 || c->state > REC_CODE_INVALID)
		return REC_ERR_CORRUPT;
	return REC_OK;
}

size_t
rec_event_encode(const struct rec_event *e, uint8_t *buf)
{
	uint8_t *p = put8(buf, REC_RECORD_VERSION);

	p = put64(p, e->time);
	p = put8(p, e->type);
	p = put64(p, e->batch);
	p = put8(p, e->slot);
	p = putstr(p, e->user, sizeof(e->user));
	p = putstr(p, e->service, sizeof(e->service));
	p = putstr(p, e->rhost, sizeof(e->rhost));
	p = putstr(p, e->tty, sizeof(e->tty));
	p = putstr(p, e->actor, sizeof(e->actor));
	p = putstr(p, e->detail, sizeof(e->detail));
	return (size_t)(p - buf);
}

int
rec_event_decode(const uint8_t *buf, size_t len, struct rec_event *e)
{
	struct rd r = { buf, len, 0 };

	memset(e, 0, sizeof(*e));
	if (getn(&r, 1) != REC_RECORD_VERSION)
		return REC_ERR_CORRUPT;
	e->time = getn(&r, 8);
	e->type = (uint8_t)getn(&r, 1);
	e->batch = getn(&r, 8);
	e->slot = (uint8_t)getn(&r, 1);
	getstr(&r, e->user, sizeof(e->user));
	getstr(&r, e->service, sizeof(e->service));
	getstr(&r, e->rhost, sizeof(e->rhost));
	getstr(&r, e->tty, sizeof(e->tty));
	getstr(&r, e->actor, sizeof(e->actor));
	getstr(&r, e->detail, sizeof(e->detail));
	if (finish(&r) != REC_OK || e->type < REC_EV_CODE_USED ||
	    e->type > REC_EV_FORGOTTEN)
		return REC_ERR_CORRUPT;
	return REC_OK;
}

int
rec_batch_check_codes(const struct rec_batch *b,
    const struct rec_code_rec *codes, unsigned n)
{
	unsigned state[3] = { 0, 0, 0 }, last = 0;

	if (b->used + b->invalidated > b->count || n > b->count)
		return REC_ERR_CORRUPT;
	for (unsigned i = 0; i < n; i++) {
		if (codes[i].slot <= last || codes[i].slot > b->count ||
		    codes[i].state > REC_CODE_INVALID)
			return REC_ERR_CORRUPT;
		last = codes[i].slot;
		state[codes[i].state]++;
	}
	if (state[REC_CODE_UNUSED] > (unsigned)(b->count - b->used -
	    b->invalidated) || state[REC_CODE_USED] > b->used ||
	    state[REC_CODE_INVALID] > b->invalidated)
		return REC_ERR_CORRUPT;
	return REC_OK;
}

const char *
rec_event_name(enum rec_event_type t)
{
	static const char *const names[] = {
		[REC_EV_CODE_USED] = "code_used",
		[REC_EV_CODE_REJECTED] = "code_rejected",
		[REC_EV_CODE_MALFORMED] = "code_malformed",
		[REC_EV_LOCKED] = "locked",
		[REC_EV_LOCK_DENIED] = "lock_denied",
		[REC_EV_STORE_ERROR] = "store_error",
		[REC_EV_GENERATED] = "generated",
		[REC_EV_INVALIDATED] = "invalidated",
		[REC_EV_UNLOCKED] = "unlocked",
		[REC_EV_VERIFIED] = "verified",
		[REC_EV_PURGED] = "purged",
		[REC_EV_ADMIN] = "admin",
		[REC_EV_FORGOTTEN] = "forgotten",
	};

	if ((unsigned)t < sizeof(names) / sizeof(names[0]) && names[t] != NULL)
		return names[t];
	return "unknown";
}

const char *
rec_batch_status_name(const struct rec_batch *b, uint64_t now)
{
	switch (b->status) {
	case REC_BATCH_INVALIDATED:
		return "invalidated";
	case REC_BATCH_PURGED:
		return "purged";
	case REC_BATCH_STAGED:
		return "staged";
	case REC_BATCH_ACTIVE:
		return b->expires != 0 && b->expires <= now ? "expired" : "active";
	}
	return "unknown";
}
