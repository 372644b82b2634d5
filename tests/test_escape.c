/* SPDX-License-Identifier: BSD-2-Clause */
/* test_escape.c: unit tests of the tools' escaping of strings for text (JSON: test_json.c). */
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vis_table),
		cmocka_unit_test(test_vis_every_byte),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
