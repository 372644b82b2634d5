/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_json.c: the one JSON writer of the tools: escaping, commas, nesting, the stream's errors. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "rec_err.h"
#include "tool_json.h"

/* Write len bytes of s; a short write is kept as the error. */
static void
put(struct tool_json *j, const char *s, size_t len)
{
	if (j->err == 0 && len > 0 && fwrite(s, 1, len, j->f) != len)
		j->err = REC_ERR_IO;
}

static void
puts_raw(struct tool_json *j, const char *s)
{
	put(j, s, strlen(s));
}

/*
 * The length of the well-formed UTF-8 sequence at s (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF) and its code point in *cp,
 * or 0 when s does not start one.
 */
static size_t
utf8_seq(const unsigned char *s, unsigned long *cp)
{
	static const struct {
		unsigned char lo, hi;	/* lead bytes */
		unsigned char min2, max2; /* the second byte */
		size_t len;
		unsigned char mask;
	} forms[] = {
		{ 0xc2, 0xdf, 0x80, 0xbf, 2, 0x1f },
		{ 0xe0, 0xe0, 0xa0, 0xbf, 3, 0x0f },
		{ 0xe1, 0xec, 0x80, 0xbf, 3, 0x0f },
		{ 0xed, 0xed, 0x80, 0x9f, 3, 0x0f },
		{ 0xee, 0xef, 0x80, 0xbf, 3, 0x0f },
		{ 0xf0, 0xf0, 0x90, 0xbf, 4, 0x07 },
		{ 0xf1, 0xf3, 0x80, 0xbf, 4, 0x07 },
		{ 0xf4, 0xf4, 0x80, 0x8f, 4, 0x07 },
	};

	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		if (s[0] < forms[i].lo || s[0] > forms[i].hi)
			continue;
		if (s[1] < forms[i].min2 || s[1] > forms[i].max2)
			return 0;
		*cp = s[0] & forms[i].mask;
		for (size_t k = 1; k < forms[i].len; k++) {
			if ((s[k] & 0xc0) != 0x80)
				return 0;
			*cp = *cp << 6 | (s[k] & 0x3f);
		}
		return forms[i].len;
	}
	return 0;
}

/* s between quotes, escaped (see tool_json_string). */
static void
put_string(struct tool_json *j, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	char esc[8];
	unsigned long cp;
	size_t n, plain;

	put(j, "\"", 1);
	while (*p != '\0') {
		/* Runs of printable ASCII go out as they are. */
		for (plain = 0; p[plain] >= 0x20 && p[plain] < 0x7f &&
		    p[plain] != '"' && p[plain] != '\\'; plain++)
			;
		put(j, (const char *)p, plain);
		p += plain;
		if (*p == '\0')
			break;
		if (*p == '"' || *p == '\\') {
			esc[0] = '\\';
			esc[1] = (char)*p++;
			put(j, esc, 2);
			continue;
		}
		if (*p < 0x80) {
			snprintf(esc, sizeof(esc), "\\u%04x", *p++);
			put(j, esc, 6);
			continue;
		}
		/*
		 * JSON is UTF-8: a byte that is not part of a well-formed
		 * character becomes U+FFFD; C1 controls and the line
		 * separators that JavaScript treats as line ends are escaped.
		 */
		if ((n = utf8_seq(p, &cp)) == 0) {
			puts_raw(j, "\\ufffd");
			p++;
		} else if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029) {
			snprintf(esc, sizeof(esc), "\\u%04lx", cp);
			put(j, esc, 6);
			p += n;
		} else {
			put(j, (const char *)p, n);
			p += n;
		}
	}
	put(j, "\"", 1);
}

/*
 * What comes before a value (or, with is_key, a key): the comma and the
 * row's line break inside an array, the comma before an object's next key.
 * A value where none may stand is a misuse, kept as REC_ERR_INTERNAL.
 */
static void
before(struct tool_json *j, int is_key)
{
	if (j->err != 0)
		return;
	if (j->depth == 0) {
		if (is_key || j->done)
			j->err = REC_ERR_INTERNAL;
		return;
	}
	if (j->lv[j->depth - 1].object) {
		if (is_key == j->key) {
			j->err = REC_ERR_INTERNAL;
			return;
		}
		if (!is_key) {
			j->key = 0;
			return;
		}
		if (j->lv[j->depth - 1].any)
			put(j, ",", 1);
	} else {
		if (is_key) {
			j->err = REC_ERR_INTERNAL;
			return;
		}
		if (j->lv[j->depth - 1].any)
			put(j, ",", 1);
		if (j->lv[j->depth - 1].rows)
			put(j, "\n", 1);
	}
	j->lv[j->depth - 1].any = 1;
}

/* A scalar value completes the document when it stands at the top. */
static void
after(struct tool_json *j)
{
	if (j->depth == 0)
		j->done = 1;
}

static void
open_level(struct tool_json *j, int object, int flags, const char *c)
{
	before(j, 0);
	if (j->err != 0)
		return;
	if (j->depth == TOOL_JSON_DEPTH) {
		j->err = REC_ERR_INTERNAL;
		return;
	}
	j->lv[j->depth].object = (unsigned char)object;
	j->lv[j->depth].rows = (flags & TOOL_JSON_ROWS) != 0;
	j->lv[j->depth].any = 0;
	j->depth++;
	put(j, c, 1);
}

static void
close_level(struct tool_json *j, int object, const char *c)
{
	if (j->err != 0)
		return;
	if (j->depth == 0 || j->lv[j->depth - 1].object != object || j->key) {
		j->err = REC_ERR_INTERNAL;
		return;
	}
	j->depth--;
	if (j->lv[j->depth].rows && j->lv[j->depth].any)
		put(j, "\n", 1);
	put(j, c, 1);
	after(j);
}

void
tool_json_init(struct tool_json *j, FILE *f)
{
	memset(j, 0, sizeof(*j));
	j->f = f;
}

void
tool_json_object_begin(struct tool_json *j)
{
	open_level(j, 1, 0, "{");
}

void
tool_json_object_end(struct tool_json *j)
{
	close_level(j, 1, "}");
}

void
tool_json_array_begin(struct tool_json *j, int flags)
{
	open_level(j, 0, flags, "[");
}

void
tool_json_array_end(struct tool_json *j)
{
	close_level(j, 0, "]");
}

void
tool_json_key(struct tool_json *j, const char *key)
{
	before(j, 1);
	if (j->err != 0)
		return;
	put_string(j, key);
	put(j, ":", 1);
	j->key = 1;
}

void
tool_json_string(struct tool_json *j, const char *s)
{
	before(j, 0);
	if (j->err != 0)
		return;
	put_string(j, s);
	after(j);
}

void
tool_json_uint(struct tool_json *j, uint64_t v)
{
	char buf[24];

	before(j, 0);
	if (j->err != 0)
		return;
	snprintf(buf, sizeof(buf), "%" PRIu64, v);
	puts_raw(j, buf);
	after(j);
}

void
tool_json_bool(struct tool_json *j, int v)
{
	before(j, 0);
	if (j->err != 0)
		return;
	puts_raw(j, v ? "true" : "false");
	after(j);
}

void
tool_json_null(struct tool_json *j)
{
	before(j, 0);
	if (j->err != 0)
		return;
	puts_raw(j, "null");
	after(j);
}

void
tool_json_member_string(struct tool_json *j, const char *key, const char *s)
{
	tool_json_key(j, key);
	tool_json_string(j, s);
}

void
tool_json_member_uint(struct tool_json *j, const char *key, uint64_t v)
{
	tool_json_key(j, key);
	tool_json_uint(j, v);
}

void
tool_json_member_bool(struct tool_json *j, const char *key, int v)
{
	tool_json_key(j, key);
	tool_json_bool(j, v);
}

int
tool_json_finish(struct tool_json *j)
{
	if (j->err == 0 && (j->depth != 0 || !j->done))
		j->err = REC_ERR_INTERNAL;
	put(j, "\n", 1);
	if (fflush(j->f) != 0 || ferror(j->f))
		if (j->err == 0)
			j->err = REC_ERR_IO;
	return j->err;
}
