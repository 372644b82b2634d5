/* SPDX-License-Identifier: BSD-2-Clause */
/* test_escape.c: unit tests of the tools' escaping of strings for text and JSON. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tool_common.h"

struct vis_case {
	const char *name;
	const char *in;
	int flags;
	size_t len;		/* 0: TOOL_VIS_LEN(strlen(in)) */
	const char *out;
};

static const struct vis_case vis_cases[] = {
	{ "plain", "alice", 0, 0, "alice" },
	{ "empty", "", 0, 0, "" },
	{ "escape sequence", "a\x1b[2Jb", 0, 0, "a\\033[2Jb" },
	{ "a forged line", "x\nroot 9999 codes", 0, 0,
	    "x\\nroot 9999 codes" },
	{ "carriage return", "ok\rFAIL", 0, 0, "ok\\rFAIL" },
	{ "tab", "a\tb", 0, 0, "a\\tb" },
	{ "backspace and bell", "a\b\a", 0, 0, "a\\b\\a" },
	{ "DEL", "del\x7f", 0, 0, "del\\177" },
	{ "backslash", "back\\slash", 0, 0, "back\\\\slash" },
	{ "double quote kept", "say \"hi\"", 0, 0, "say \"hi\"" },
	{ "double quote escaped in a quoted field", "say \"hi\"",
	    TOOL_VIS_QUOTE, 0, "say \\\"hi\\\"" },
	{ "UTF-8 is bytes", "Caf\xc3\xa9", 0, 0, "Caf\\303\\251" },
	{ "C1 CSI as UTF-8", "c1\xc2\x9b", 0, 0, "c1\\302\\233" },
	{ "C1 CSI as a byte", "c1\x9b", 0, 0, "c1\\233" },
	{ "bidi override", "\xe2\x80\xae" "abc", 0, 0, "\\342\\200\\256abc" },
	{ "invalid UTF-8", "bad\xe9x", 0, 0, "bad\\351x" },
	{ "space kept", "sp ace", 0, 0, "sp ace" },
	{ "space escaped in a field", "sp ace", TOOL_VIS_SPACE, 0,
	    "sp\\sace" },
	{ "key=value kept", "a=b", TOOL_VIS_SPACE, 0, "a=b" },
	{ "fits exactly", "abc", 0, 4, "abc" },
	{ "cut, marked", "abcdefgh", 0, 6, "ab..." },
	{ "cut at a whole escape", "ab\x1b\x1b", 0, 8, "ab..." },
	{ "cut before the first escape", "\x1b\x1b", 0, 6, "..." },
	{ "no room for the mark", "abcdef", 0, 3, "ab" },
	{ "room for nothing", "abc", 0, 1, "" },
};

static void
test_vis_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(vis_cases) / sizeof(vis_cases[0]); i++) {
		const struct vis_case *c = &vis_cases[i];
		size_t len = c->len ? c->len : TOOL_VIS_LEN(strlen(c->in));
		char *buf = malloc(len);
		const char *got;

		assert_non_null(buf);
		memset(buf, 'Z', len);
		got = tool_vis(c->in, c->flags, buf, len);
		if (strcmp(got, c->out) != 0)
			fail_msg("%s: got \"%s\", want \"%s\"", c->name, got,
			    c->out);
		assert_true(strlen(got) < len);
		free(buf);
	}
}

/* Whatever the input, the output has only printable ASCII. */
static void
test_vis_every_byte(void **state)
{
	char in[3] = { 0, 'x', 0 }, out[TOOL_VIS_LEN(2)];

	(void)state;
	for (int b = 1; b < 256; b++) {
		in[0] = (char)b;
		tool_vis(in, TOOL_VIS_SPACE | TOOL_VIS_QUOTE, out,
		    sizeof(out));
		for (const char *p = out; *p != '\0'; p++)
			if (*p <= ' ' || *p >= 0x7f)
				fail_msg("byte 0x%02x: 0x%02x in \"%s\"", b,
				    (unsigned char)*p, out);
		/* Unchanged only when it is printable ASCII to begin with. */
		assert_int_equal(strcmp(out, in) == 0, b > ' ' && b < 0x7f &&
		    b != '\\' && b != '"');
	}
}

struct json_case {
	const char *name;
	const char *in;
	const char *out;
};

static const struct json_case json_cases[] = {
	{ "plain", "alice", "\"alice\"" },
	{ "empty", "", "\"\"" },
	{ "escape sequence", "a\x1b[2J", "\"a\\u001b[2J\"" },
	{ "newline", "x\nroot", "\"x\\u000aroot\"" },
	{ "quote and backslash", "q\"\\", "\"q\\\"\\\\\"" },
	{ "DEL", "del\x7f", "\"del\\u007f\"" },
	{ "UTF-8 kept", "Caf\xc3\xa9", "\"Caf\xc3\xa9\"" },
	{ "4-byte UTF-8 kept", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
	{ "C1 CSI escaped", "c1\xc2\x9b", "\"c1\\u009b\"" },
	{ "line separator escaped", "\xe2\x80\xa8", "\"\\u2028\"" },
	{ "stray byte", "bad\xe9x", "\"bad\\ufffdx\"" },
	{ "lone continuation", "\x80", "\"\\ufffd\"" },
	{ "overlong slash", "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
	{ "overlong 3-byte", "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "surrogate", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "cut short at the end", "a\xe2\x80", "\"a\\ufffd\\ufffd\"" },
	{ "cut short before ASCII", "\xe2\x80z", "\"\\ufffd\\ufffdz\"" },
};

static void
test_json_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(json_cases) / sizeof(json_cases[0]);
	    i++) {
		const struct json_case *c = &json_cases[i];
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_non_null(f);
		tool_json_str(f, c->in);
		assert_int_equal(fclose(f), 0);
		if (strcmp(buf, c->out) != 0)
			fail_msg("%s: got %s, want %s", c->name, buf, c->out);
		free(buf);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vis_table),
		cmocka_unit_test(test_vis_every_byte),
		cmocka_unit_test(test_json_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
