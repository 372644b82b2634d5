/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_self.c: the messages between pam-recovery and pam-recovery-selfd. */
#include <string.h>

#include "rec_be.h"
#include "rec_err.h"
#include "rec_self.h"

static int
known_type(int type)
{
	switch (type) {
	case REC_SELF_REQUEST: case REC_SELF_ANSWER: case REC_SELF_FILE:
	case REC_SELF_PROMPT_OFF: case REC_SELF_PROMPT_ON: case REC_SELF_INFO:
	case REC_SELF_ERROR: case REC_SELF_CONFIRM: case REC_SELF_CREATE:
	case REC_SELF_DONE:
		return 1;
	default:
		return 0;
	}
}

int
rec_self_head(uint8_t head[REC_SELF_HEAD_LEN], int type, size_t len)
{
	if (!known_type(type) || len > REC_SELF_PAYLOAD_MAX)
		return REC_ERR_USAGE;
	head[0] = REC_SELF_VERSION;
	head[1] = (uint8_t)type;
	rec_be_put16(head + 2, (uint16_t)len);
	return REC_OK;
}

int
rec_self_parse_head(const uint8_t head[REC_SELF_HEAD_LEN], int *type,
    size_t *len)
{
	size_t n = rec_be_get16(head + 2);

	if (head[0] != REC_SELF_VERSION || !known_type(head[1]) ||
	    n > REC_SELF_PAYLOAD_MAX)
		return REC_ERR_MALFORMED;
	*type = head[1];
	*len = n;
	return REC_OK;
}

/* One string: a 16-bit big-endian length, then its bytes. */
static int
put_string(uint8_t *buf, size_t cap, size_t *at, const char *s, size_t max)
{
	size_t n = strlen(s);

	if (n > max || cap - *at < 2 + n)
		return REC_ERR_USAGE;
	rec_be_put16(buf + *at, (uint16_t)n);
	*at += 2;
	memcpy(buf + *at, s, n);
	*at += n;
	return REC_OK;
}

int
rec_self_encode_request(uint8_t *buf, size_t cap, size_t *len,
    const char *service, unsigned argc, char *const argv[])
{
	size_t at = 0;
	int r;

	if (cap > REC_SELF_PAYLOAD_MAX)
		cap = REC_SELF_PAYLOAD_MAX;
	if (argc == 0 || argc > REC_SELF_ARGS_MAX)
		return REC_ERR_USAGE;
	if ((r = put_string(buf, cap, &at, service != NULL ? service : "",
	    sizeof(((struct rec_self_request *)NULL)->service) - 1)) != REC_OK)
		return r;
	if (at == cap)
		return REC_ERR_USAGE;
	buf[at++] = (uint8_t)argc;
	for (unsigned i = 0; i < argc; i++)
		if ((r = put_string(buf, cap, &at, argv[i],
		    REC_SELF_ARG_MAX)) != REC_OK)
			return r;
	*len = at;
	return REC_OK;
}

/* One string of at most max bytes, without NUL, copied to out with one. */
static int
get_string(const uint8_t *p, size_t len, size_t *at, char *out, size_t max)
{
	size_t n;

	if (len - *at < 2)
		return REC_ERR_MALFORMED;
	n = rec_be_get16(p + *at);
	*at += 2;
	if (n > max || len - *at < n || memchr(p + *at, '\0', n) != NULL)
		return REC_ERR_MALFORMED;
	memcpy(out, p + *at, n);
	out[n] = '\0';
	*at += n;
	return REC_OK;
}

int
rec_self_decode_request(const uint8_t *p, size_t len,
    struct rec_self_request *req)
{
	size_t at = 0, used = 0;
	unsigned argc;
	int r = REC_ERR_MALFORMED;

	memset(req, 0, sizeof(*req));
	if (len > REC_SELF_PAYLOAD_MAX ||
	    get_string(p, len, &at, req->service, sizeof(req->service) - 1) !=
	    REC_OK || at == len)
		goto out;
	argc = p[at++];
	if (argc == 0 || argc > REC_SELF_ARGS_MAX)
		goto out;
	for (unsigned i = 0; i < argc; i++) {
		/* The payload bounds the bytes; each argument adds its NUL. */
		if (get_string(p, len, &at, req->buf + used,
		    REC_SELF_ARG_MAX) != REC_OK)
			goto out;
		req->argv[i] = req->buf + used;
		used += strlen(req->buf + used) + 1;
	}
	if (at != len)
		goto out;
	req->argc = argc;
	req->argv[argc] = NULL;
	r = REC_OK;
out:
	if (r != REC_OK)
		memset(req, 0, sizeof(*req));
	return r;
}

int
rec_self_decode_text(const uint8_t *p, size_t len, char *out, size_t cap)
{
	if (cap == 0 || len >= cap || memchr(p, '\0', len) != NULL)
		return REC_ERR_MALFORMED;
	memcpy(out, p, len);
	out[len] = '\0';
	return REC_OK;
}
