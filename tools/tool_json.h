/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_json.h: the one JSON writer of the tools (--json output, the json export). */
#ifndef TOOL_JSON_H
#define TOOL_JSON_H

#include <stdint.h>
#include <stdio.h>

#define TOOL_JSON_DEPTH 8	/* objects and arrays open at once */

/* tool_json_array_begin flags. */
#define TOOL_JSON_ROWS 0x1	/* each element on a line: "[\n1,\n2\n]" */

/*
 * A document being written to a stream: commas, nesting and keys are
 * tracked here, so a caller writes values in order and nothing else.  No
 * whitespace is written but the rows of a TOOL_JSON_ROWS array and the
 * newline of tool_json_finish.  Plain data, no allocation: a copy (the
 * state a walk's child hands back) goes on where the original stopped.
 * The first error is kept and every later call is a no-op.
 */
struct tool_json {
	FILE *f;
	int err;		/* 0, or the first REC_ERR_* */
	unsigned depth;		/* containers open */
	int key;		/* a key was written: its value is due */
	int done;		/* the top-level value is complete */
	struct {
		unsigned char object;	/* else an array */
		unsigned char rows;	/* TOOL_JSON_ROWS */
		unsigned char any;	/* a member or element was written */
	} lv[TOOL_JSON_DEPTH];
};

/* Start a document on f (not owned). */
void tool_json_init(struct tool_json *j, FILE *f);

/*
 * Open and close an object or an array.  Each opening is a value: at the
 * top, as an array element, or after tool_json_key.
 */
void tool_json_object_begin(struct tool_json *j);
void tool_json_object_end(struct tool_json *j);
void tool_json_array_begin(struct tool_json *j, int flags);
void tool_json_array_end(struct tool_json *j);

/* The key of the next member of the open object (escaped as a string). */
void tool_json_key(struct tool_json *j, const char *key);

/*
 * Values.  A string is escaped: the quote and the backslash, every
 * control character (C0, DEL, C1) and U+2028/U+2029 as \uXXXX, a byte
 * that is not part of well-formed UTF-8 (RFC 3629) as \ufffd; so any
 * string a store or the environment gave may go through it.
 */
void tool_json_string(struct tool_json *j, const char *s);
void tool_json_uint(struct tool_json *j, uint64_t v);
void tool_json_bool(struct tool_json *j, int v);
void tool_json_null(struct tool_json *j);

/* A member: tool_json_key, then the value. */
void tool_json_member_string(struct tool_json *j, const char *key,
    const char *s);
void tool_json_member_uint(struct tool_json *j, const char *key,
    uint64_t v);
void tool_json_member_bool(struct tool_json *j, const char *key, int v);

/*
 * End the document: a newline after the complete top-level value, then
 * the stream flushed.  Returns REC_OK; REC_ERR_IO when a write or the
 * flush failed (errno as the stream left it); REC_ERR_INTERNAL when the
 * calls did not make one well-formed value (a container left open, a
 * value without its key, more than TOOL_JSON_DEPTH levels).
 */
int tool_json_finish(struct tool_json *j);

#endif
