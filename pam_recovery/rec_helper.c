/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_helper.c: the messages between the module and its store helper, encoded. */
#include <string.h>

#include "rec_be.h"
#include "rec_err.h"
#include "rec_helper.h"

static const uint8_t job_magic[4] = { 'P', 'R', 'S', 'J' };

/* A writer and a reader over a bounded buffer; errors stick. */
struct wbuf {
	uint8_t *p;
	size_t cap, len;
	int bad;
};

struct rbuf {
	const uint8_t *p;
	size_t len, off;
	int bad;
};

static void
put(struct wbuf *w, const void *v, size_t n)
{
	if (w->bad || n > w->cap - w->len) {
		w->bad = 1;
		return;
	}
	memcpy(w->p + w->len, v, n);
	w->len += n;
}

static void
put_u8(struct wbuf *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(w, &b, 1);
}

static void
put_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4];

	rec_be_put32(b, v);
	put(w, b, 4);
}

static void
put_u64(struct wbuf *w, uint64_t v)
{
	put_u32(w, (uint32_t)(v >> 32));
	put_u32(w, (uint32_t)v);
}

/* A string: its length in 16 bits, then its bytes; over max is an error. */
static void
put_str(struct wbuf *w, const char *s, size_t max)
{
	size_t n = strnlen(s, max);
	uint8_t b[2];

	if (n >= max) {
		w->bad = 1;
		return;
	}
	rec_be_put16(b, (uint16_t)n);
	put(w, b, 2);
	put(w, s, n);
}

static void
get(struct rbuf *r, void *v, size_t n)
{
	if (r->bad || n > r->len - r->off) {
		r->bad = 1;
		memset(v, 0, n);
		return;
	}
	memcpy(v, r->p + r->off, n);
	r->off += n;
}

static unsigned
get_u8(struct rbuf *r)
{
	uint8_t b;

	get(r, &b, 1);
	return b;
}

/* A byte that must be 0 or 1. */
static int
get_bool(struct rbuf *r)
{
	unsigned v = get_u8(r);

	if (v > 1)
		r->bad = 1;
	return v == 1;
}

static uint32_t
get_u32(struct rbuf *r)
{
	uint8_t b[4];

	get(r, b, 4);
	return rec_be_get32(b);
}

static uint64_t
get_u64(struct rbuf *r)
{
	uint64_t hi = get_u32(r);

	return hi << 32 | get_u32(r);
}

/* A string into out (max bytes with its NUL); no NUL inside it. */
static void
get_str(struct rbuf *r, char *out, size_t max)
{
	uint8_t b[2];
	size_t n;

	get(r, b, 2);
	n = rec_be_get16(b);
	if (r->bad || n >= max || n > r->len - r->off) {
		r->bad = 1;
		out[0] = '\0';
		return;
	}
	get(r, out, n);
	out[n] = '\0';
	if (strlen(out) != n)
		r->bad = 1;
}

int
rec_helper_job_encode(const struct rec_helper_job *j, uint8_t *buf,
    size_t cap, size_t *len)
{
	struct wbuf w = { buf, cap, 0, 0 };

	*len = 0;
	if (j->args_len > sizeof(j->args) ||
	    (j->args_len > 0 && j->args[j->args_len - 1] != '\0'))
		return REC_ERR_USAGE;
	put(&w, job_magic, sizeof(job_magic));
	put_u8(&w, REC_HELPER_VERSION);
	put_u32(&w, j->uid);
	put_u32(&w, j->gid);
	put_u32(&w, j->parent);
	put_str(&w, j->store, sizeof(j->store));
	put_str(&w, j->conf, sizeof(j->conf));
	put_u8(&w, j->conf_given != 0);
	put_u32(&w, (uint32_t)j->args_len);
	put(&w, j->args, j->args_len);
	put_str(&w, j->user, sizeof(j->user));
	put_u8(&w, j->has_service != 0);
	put_str(&w, j->service, sizeof(j->service));
	put_u8(&w, j->has_rhost != 0);
	put_str(&w, j->rhost, sizeof(j->rhost));
	put_u8(&w, j->has_tty != 0);
	put_str(&w, j->tty, sizeof(j->tty));
	put_u8(&w, j->debug != 0);
	put_u8(&w, j->have_pepper != 0);
	if (j->have_pepper)
		put(&w, j->pepper, sizeof(j->pepper));
	if (w.bad)
		return REC_ERR_USAGE;
	*len = w.len;
	return REC_OK;
}

int
rec_helper_job_decode(const uint8_t *buf, size_t len, struct rec_helper_job *j)
{
	struct rbuf r = { buf, len, 0, 0 };
	uint8_t magic[sizeof(job_magic)];
	uint32_t n;

	memset(j, 0, sizeof(*j));
	get(&r, magic, sizeof(magic));
	if (r.bad || memcmp(magic, job_magic, sizeof(magic)) != 0 ||
	    get_u8(&r) != REC_HELPER_VERSION)
		return REC_ERR_CORRUPT;
	j->uid = get_u32(&r);
	j->gid = get_u32(&r);
	j->parent = get_u32(&r);
	get_str(&r, j->store, sizeof(j->store));
	get_str(&r, j->conf, sizeof(j->conf));
	j->conf_given = get_bool(&r);
	n = get_u32(&r);
	if (n > sizeof(j->args) || n > len - r.off)
		r.bad = 1;
	else {
		get(&r, j->args, n);
		j->args_len = n;
		/* Every argument ends with its NUL. */
		if (n > 0 && j->args[n - 1] != '\0')
			r.bad = 1;
	}
	get_str(&r, j->user, sizeof(j->user));
	j->has_service = get_bool(&r);
	get_str(&r, j->service, sizeof(j->service));
	j->has_rhost = get_bool(&r);
	get_str(&r, j->rhost, sizeof(j->rhost));
	j->has_tty = get_bool(&r);
	get_str(&r, j->tty, sizeof(j->tty));
	j->debug = get_bool(&r);
	j->have_pepper = get_bool(&r);
	if (j->have_pepper)
		get(&r, j->pepper, sizeof(j->pepper));
	if (r.bad || r.off != len || j->user[0] == '\0') {
		memset(j, 0, sizeof(*j));
		return REC_ERR_CORRUPT;
	}
	return REC_OK;
}

void
rec_helper_status_encode(const struct rec_status *s, int store_exists,
    uint8_t *out)
{
	struct wbuf w = { out, REC_HELPER_STATUS_LEN, 0, 0 };

	put_u8(&w, REC_HELPER_VERSION);
	put_u8(&w, s->enrolled != 0);
	put_u8(&w, (unsigned)s->fmt.alphabet);
	put_u32(&w, s->fmt.length);
	put_u32(&w, s->fmt.group);
	put_u8(&w, s->fmt.check != 0);
	put_u64(&w, s->batch);
	put_u32(&w, s->remaining);
	put_u32(&w, s->count);
	put_u32(&w, s->used);
	put_u32(&w, s->invalidated);
	put_u64(&w, s->created);
	put_u64(&w, s->expires);
	put_u64(&w, s->verified);
	put_u8(&w, s->peppered != 0);
	put_u8(&w, s->expired != 0);
	put_u64(&w, s->lock_remaining);
	put_u32(&w, s->failures);
	put_u64(&w, s->last_used);
	put_u8(&w, store_exists != 0);
}

int
rec_helper_status_decode(const uint8_t *in, struct rec_status *s,
    int *store_exists)
{
	struct rbuf r = { in, REC_HELPER_STATUS_LEN, 0, 0 };
	unsigned alphabet;

	memset(s, 0, sizeof(*s));
	if (get_u8(&r) != REC_HELPER_VERSION)
		return REC_ERR_CORRUPT;
	s->enrolled = get_bool(&r);
	alphabet = get_u8(&r);
	if (alphabet > REC_ALPHA_DIGITS)
		r.bad = 1;
	s->fmt.alphabet = (enum rec_alphabet)alphabet;
	s->fmt.length = get_u32(&r);
	s->fmt.group = get_u32(&r);
	s->fmt.check = get_bool(&r);
	s->batch = get_u64(&r);
	s->remaining = get_u32(&r);
	s->count = get_u32(&r);
	s->used = get_u32(&r);
	s->invalidated = get_u32(&r);
	s->created = get_u64(&r);
	s->expires = get_u64(&r);
	s->verified = get_u64(&r);
	s->peppered = get_bool(&r);
	s->expired = get_bool(&r);
	s->lock_remaining = get_u64(&r);
	s->failures = get_u32(&r);
	s->last_used = get_u64(&r);
	*store_exists = get_bool(&r);
	if (r.bad || r.off != r.len || s->fmt.length > REC_CODE_MAX ||
	    s->fmt.group > REC_CODE_MAX) {
		memset(s, 0, sizeof(*s));
		*store_exists = 0;
		return REC_ERR_CORRUPT;
	}
	return REC_OK;
}

void
rec_helper_result_encode(const struct rec_result *res, uint8_t *out)
{
	struct wbuf w = { out, REC_HELPER_RESULT_LEN, 0, 0 };

	put_u8(&w, REC_HELPER_VERSION);
	put_u64(&w, res->batch);
	put_u32(&w, res->slot);
	put_u32(&w, res->remaining);
	put_u64(&w, res->lock_remaining);
	put_u8(&w, res->locked_now != 0);
	put_u32(&w, res->kdf_evals);
}

int
rec_helper_result_decode(const uint8_t *in, struct rec_result *res)
{
	struct rbuf r = { in, REC_HELPER_RESULT_LEN, 0, 0 };

	memset(res, 0, sizeof(*res));
	if (get_u8(&r) != REC_HELPER_VERSION)
		return REC_ERR_CORRUPT;
	res->batch = get_u64(&r);
	res->slot = get_u32(&r);
	res->remaining = get_u32(&r);
	res->lock_remaining = get_u64(&r);
	res->locked_now = get_bool(&r);
	res->kdf_evals = get_u32(&r);
	if (r.bad || r.off != r.len) {
		memset(res, 0, sizeof(*res));
		return REC_ERR_CORRUPT;
	}
	return REC_OK;
}
