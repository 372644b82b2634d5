/* SPDX-License-Identifier: BSD-2-Clause */
/* test_json.c: unit tests of the tools' JSON writer: escaping, nesting, numbers, errors. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_err.h"
#include "tool_json.h"

/* A writer on a memory stream; done() ends it and returns the text. */
struct doc {
	struct tool_json j;
	FILE *f;
	char *buf;
	size_t len;
};

static void
doc_open(struct doc *d)
{
	d->buf = NULL;
	d->len = 0;
	d->f = open_memstream(&d->buf, &d->len);
	assert_non_null(d->f);
	tool_json_init(&d->j, d->f);
}

/* Finish the document expecting want_err; the text, to be freed. */
static char *
doc_done(struct doc *d, int want_err)
{
	assert_int_equal(tool_json_finish(&d->j), want_err);
	assert_int_equal(fclose(d->f), 0);
	return d->buf;
}

struct str_case {
	const char *name;
	const char *in;
	const char *out;
};

static const struct str_case str_cases[] = {
	{ "plain", "alice", "\"alice\"" },
	{ "empty", "", "\"\"" },
	{ "escape sequence", "a\x1b[2J", "\"a\\u001b[2J\"" },
	{ "newline", "x\nroot", "\"x\\u000aroot\"" },
	{ "tab and return", "\t\r", "\"\\u0009\\u000d\"" },
	{ "first and last C0", "\x01\x1f", "\"\\u0001\\u001f\"" },
	{ "quote and backslash", "q\"\\", "\"q\\\"\\\\\"" },
	{ "DEL", "del\x7f", "\"del\\u007f\"" },
	{ "UTF-8 kept", "Caf\xc3\xa9", "\"Caf\xc3\xa9\"" },
	{ "4-byte UTF-8 kept", "\xf0\x9f\x98\x80", "\"\xf0\x9f\x98\x80\"" },
	{ "C1 CSI escaped", "c1\xc2\x9b", "\"c1\\u009b\"" },
	{ "first C1", "\xc2\x80", "\"\\u0080\"" },
	{ "NBSP kept", "\xc2\xa0", "\"\xc2\xa0\"" },
	{ "line separator escaped", "\xe2\x80\xa8", "\"\\u2028\"" },
	{ "paragraph separator escaped", "\xe2\x80\xa9", "\"\\u2029\"" },
	{ "bidi override kept", "\xe2\x80\xae", "\"\xe2\x80\xae\"" },
	{ "stray byte", "bad\xe9x", "\"bad\\ufffdx\"" },
	{ "lone continuation", "\x80", "\"\\ufffd\"" },
	{ "overlong slash", "\xc0\xaf", "\"\\ufffd\\ufffd\"" },
	{ "overlong 3-byte", "\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "surrogate", "\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"" },
	{ "above U+10FFFF", "\xf4\x90\x80\x80",
	    "\"\\ufffd\\ufffd\\ufffd\\ufffd\"" },
	{ "0xff", "\xff", "\"\\ufffd\"" },
	{ "cut short at the end", "a\xe2\x80", "\"a\\ufffd\\ufffd\"" },
	{ "cut short before ASCII", "\xe2\x80z", "\"\\ufffd\\ufffdz\"" },
};

static void
test_string_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(str_cases) / sizeof(str_cases[0]);
	    i++) {
		const struct str_case *c = &str_cases[i];
		struct doc d;
		char *got, want[64];

		doc_open(&d);
		tool_json_string(&d.j, c->in);
		got = doc_done(&d, REC_OK);
		snprintf(want, sizeof(want), "%s\n", c->out);
		if (strcmp(got, want) != 0)
			fail_msg("%s: got %s, want %s", c->name, got, c->out);
		free(got);
	}
}

/* Every byte alone: only printable ASCII comes out, quotes balanced. */
static void
test_string_every_byte(void **state)
{
	char in[2] = { 0, 0 };

	(void)state;
	for (int b = 1; b < 256; b++) {
		struct doc d;
		char *got;
		size_t n;

		in[0] = (char)b;
		doc_open(&d);
		tool_json_string(&d.j, in);
		got = doc_done(&d, REC_OK);
		n = strlen(got);
		assert_true(n >= 3 && got[0] == '"' && got[n - 2] == '"' &&
		    got[n - 1] == '\n');
		for (size_t k = 0; k + 1 < n; k++)
			if (got[k] < 0x20 || got[k] >= 0x7f)
				fail_msg("byte 0x%02x: 0x%02x in %s", b,
				    (unsigned char)got[k], got);
		free(got);
	}
}

static void
test_keys_escaped(void **state)
{
	struct doc d;
	char *got;

	(void)state;
	doc_open(&d);
	tool_json_object_begin(&d.j);
	tool_json_member_string(&d.j, "a\"b", "\n");
	tool_json_object_end(&d.j);
	got = doc_done(&d, REC_OK);
	assert_string_equal(got, "{\"a\\\"b\":\"\\u000a\"}\n");
	free(got);
}

static void
test_numbers(void **state)
{
	struct doc d;
	char *got;

	(void)state;
	doc_open(&d);
	tool_json_array_begin(&d.j, 0);
	tool_json_uint(&d.j, 0);
	tool_json_uint(&d.j, 1);
	tool_json_uint(&d.j, UINT32_MAX);
	tool_json_uint(&d.j, (uint64_t)UINT32_MAX + 1);
	tool_json_uint(&d.j, UINT64_MAX);
	tool_json_bool(&d.j, 0);
	tool_json_bool(&d.j, 7);
	tool_json_null(&d.j);
	tool_json_array_end(&d.j);
	got = doc_done(&d, REC_OK);
	assert_string_equal(got, "[0,1,4294967295,4294967296,"
	    "18446744073709551615,false,true,null]\n");
	free(got);
}

/* Commas and nesting as the tools' documents have them. */
static void
test_nesting(void **state)
{
	struct doc d;
	char *got;

	(void)state;
	doc_open(&d);
	tool_json_object_begin(&d.j);
	tool_json_member_string(&d.j, "user", "alice");
	tool_json_key(&d.j, "batch");
	tool_json_null(&d.j);
	tool_json_key(&d.j, "codes");
	tool_json_array_begin(&d.j, 0);
	for (unsigned i = 1; i <= 2; i++) {
		tool_json_object_begin(&d.j);
		tool_json_member_uint(&d.j, "slot", i);
		tool_json_member_bool(&d.j, "audited", i == 2);
		tool_json_object_end(&d.j);
	}
	tool_json_array_end(&d.j);
	tool_json_key(&d.j, "empty");
	tool_json_array_begin(&d.j, 0);
	tool_json_array_end(&d.j);
	tool_json_key(&d.j, "none");
	tool_json_object_begin(&d.j);
	tool_json_object_end(&d.j);
	tool_json_key(&d.j, "deep");
	tool_json_array_begin(&d.j, 0);
	tool_json_array_begin(&d.j, 0);
	tool_json_array_begin(&d.j, 0);
	tool_json_array_end(&d.j);
	tool_json_array_end(&d.j);
	tool_json_array_end(&d.j);
	tool_json_object_end(&d.j);
	got = doc_done(&d, REC_OK);
	assert_string_equal(got, "{\"user\":\"alice\",\"batch\":null,"
	    "\"codes\":[{\"slot\":1,\"audited\":false},{\"slot\":2,"
	    "\"audited\":true}],\"empty\":[],\"none\":{},\"deep\":[[[]]]}\n");
	free(got);
}

/* Rows: each element on its own line, as list, audit and check print. */
static void
test_rows(void **state)
{
	struct doc d;
	char *got;

	(void)state;
	doc_open(&d);
	tool_json_array_begin(&d.j, TOOL_JSON_ROWS);
	tool_json_array_end(&d.j);
	got = doc_done(&d, REC_OK);
	assert_string_equal(got, "[]\n");
	free(got);

	doc_open(&d);
	tool_json_object_begin(&d.j);
	tool_json_key(&d.j, "checks");
	tool_json_array_begin(&d.j, TOOL_JSON_ROWS);
	for (unsigned i = 0; i < 3; i++) {
		tool_json_object_begin(&d.j);
		tool_json_member_uint(&d.j, "n", i);
		tool_json_object_end(&d.j);
	}
	tool_json_array_end(&d.j);
	tool_json_member_bool(&d.j, "ok", 1);
	tool_json_object_end(&d.j);
	got = doc_done(&d, REC_OK);
	assert_string_equal(got, "{\"checks\":[\n{\"n\":0},\n{\"n\":1},\n"
	    "{\"n\":2}\n],\"ok\":true}\n");
	free(got);
}

/* A copy of the state goes on where the original stopped (a walk's child). */
static void
test_copy_goes_on(void **state)
{
	struct doc d;
	struct tool_json copy;
	char *got;

	(void)state;
	doc_open(&d);
	tool_json_array_begin(&d.j, TOOL_JSON_ROWS);
	tool_json_uint(&d.j, 1);
	copy = d.j;
	tool_json_uint(&copy, 2);
	d.j = copy;
	tool_json_array_end(&d.j);
	got = doc_done(&d, REC_OK);
	assert_string_equal(got, "[\n1,\n2\n]\n");
	free(got);
}

/* Calls that do not make one well-formed value are refused. */
static void
test_misuse(void **state)
{
	struct doc d;
	char *got;
	int i;

	(void)state;
	/* Nothing at all. */
	doc_open(&d);
	free(doc_done(&d, REC_ERR_INTERNAL));
	/* A container left open. */
	doc_open(&d);
	tool_json_object_begin(&d.j);
	free(doc_done(&d, REC_ERR_INTERNAL));
	/* A value without its key, a key without its value. */
	doc_open(&d);
	tool_json_object_begin(&d.j);
	tool_json_uint(&d.j, 1);
	tool_json_object_end(&d.j);
	free(doc_done(&d, REC_ERR_INTERNAL));
	doc_open(&d);
	tool_json_object_begin(&d.j);
	tool_json_key(&d.j, "a");
	tool_json_object_end(&d.j);
	free(doc_done(&d, REC_ERR_INTERNAL));
	/* Two keys in a row; a key in an array; a key at the top. */
	doc_open(&d);
	tool_json_object_begin(&d.j);
	tool_json_key(&d.j, "a");
	tool_json_key(&d.j, "b");
	free(doc_done(&d, REC_ERR_INTERNAL));
	doc_open(&d);
	tool_json_array_begin(&d.j, 0);
	tool_json_key(&d.j, "a");
	free(doc_done(&d, REC_ERR_INTERNAL));
	doc_open(&d);
	tool_json_key(&d.j, "a");
	free(doc_done(&d, REC_ERR_INTERNAL));
	/* The wrong closer; a closer too many; two values at the top. */
	doc_open(&d);
	tool_json_array_begin(&d.j, 0);
	tool_json_object_end(&d.j);
	free(doc_done(&d, REC_ERR_INTERNAL));
	doc_open(&d);
	tool_json_array_begin(&d.j, 0);
	tool_json_array_end(&d.j);
	tool_json_array_end(&d.j);
	free(doc_done(&d, REC_ERR_INTERNAL));
	doc_open(&d);
	tool_json_uint(&d.j, 1);
	tool_json_uint(&d.j, 2);
	free(doc_done(&d, REC_ERR_INTERNAL));
	/* Deeper than TOOL_JSON_DEPTH; exactly that deep is fine. */
	doc_open(&d);
	for (i = 0; i < TOOL_JSON_DEPTH + 1; i++)
		tool_json_array_begin(&d.j, 0);
	free(doc_done(&d, REC_ERR_INTERNAL));
	doc_open(&d);
	for (i = 0; i < TOOL_JSON_DEPTH; i++)
		tool_json_array_begin(&d.j, 0);
	for (i = 0; i < TOOL_JSON_DEPTH; i++)
		tool_json_array_end(&d.j);
	got = doc_done(&d, REC_OK);
	assert_string_equal(got, "[[[[[[[[]]]]]]]]\n");
	free(got);
}

/* A stream that cannot be written: the error comes back from finish. */
static void
test_write_error(void **state)
{
	struct tool_json j;
	FILE *f;

	(void)state;
	if ((f = fopen("/dev/full", "w")) == NULL)
		skip();
	tool_json_init(&j, f);
	tool_json_object_begin(&j);
	tool_json_member_string(&j, "a", "b");
	tool_json_object_end(&j);
	assert_int_equal(tool_json_finish(&j), REC_ERR_IO);
	fclose(f);

	/* A short write is kept too, and nothing is written after it. */
	assert_non_null(f = fopen("/dev/full", "w"));
	assert_int_equal(setvbuf(f, NULL, _IONBF, 0), 0);
	tool_json_init(&j, f);
	tool_json_array_begin(&j, 0);
	assert_int_equal(j.err, REC_ERR_IO);
	tool_json_array_end(&j);
	assert_int_equal(tool_json_finish(&j), REC_ERR_IO);
	fclose(f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_string_table),
		cmocka_unit_test(test_string_every_byte),
		cmocka_unit_test(test_keys_escaped),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_copy_goes_on),
		cmocka_unit_test(test_misuse),
		cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
