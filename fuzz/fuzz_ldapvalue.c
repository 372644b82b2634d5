/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_ldapvalue.c: libFuzzer target for the directory store's value parsers. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_err.h"
#include "rec_ldap_int.h"

#define REQUIRE(cond) do { if (!(cond)) { fprintf(stderr, \
	"fuzz_ldapvalue: %s failed at line %d\n", #cond, __LINE__); \
	abort(); } } while (0)

/*
 * The first byte picks the parser and the batch cost; the rest, cut at a
 * NUL, is a value as a directory could hold it (anyone who can write the
 * directory can write any bytes).  What a parser accepts must come out of
 * its encoder as exactly the same bytes: a consume deletes the value it
 * builds again, so two spellings of one value would let a code be used
 * twice or never.
 */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char in[REC_LDAP_VAL_MAX + 1], out[REC_LDAP_VAL_MAX + 1];
	const char *what;
	struct rec_batch b;
	struct rec_code_rec cr;
	struct rec_lock lk;
	struct rec_format f;
	size_t n;

	if (size < 1)
		return 0;
	n = size - 1 < REC_LDAP_VAL_MAX ? size - 1 : REC_LDAP_VAL_MAX;
	memcpy(in, data + 1, n);
	in[n] = '\0';
	memset(&b, 0, sizeof(b));
	b.opslimit = 1 + (data[0] >> 4 & 3);
	b.memlimit = 8192 << (data[0] >> 6);
	switch (data[0] & 3) {
	case 0:
		if (rec_ldap_lock_parse(in, &lk) == REC_OK) {
			REQUIRE(rec_ldap_lock_encode(&lk, out, sizeof(out)) ==
			    REC_OK);
			REQUIRE(strcmp(in, out) == 0);
		}
		break;
	case 1:
		if (rec_ldap_code_parse(&b, in, &cr) == REC_OK) {
			REQUIRE(cr.slot >= 1 && cr.slot <= REC_COUNT_MAX);
			REQUIRE(cr.state == REC_CODE_UNUSED);
			REQUIRE(rec_ldap_code_encode(&b, &cr, out,
			    sizeof(out)) == REC_OK);
			REQUIRE(strcmp(in, out) == 0);
		}
		break;
	case 2:
		if (rec_ldap_mark_parse(&b, in, REC_CODE_USED, &cr) == REC_OK) {
			REQUIRE(cr.state == REC_CODE_USED);
			/* Who is the rest: after the value and the time. */
			what = strchr(in, ' ');
			for (int i = 0; i < 3; i++)
				what = strchr(what + 1, ' ');
			REQUIRE(rec_ldap_mark_encode(&b, &cr, cr.changed,
			    what + 1, out, sizeof(out)) == REC_OK);
			REQUIRE(strcmp(in, out) == 0);
		}
		break;
	default:
		if (rec_ldap_format_parse(in, &f) == REC_OK) {
			REQUIRE(f.group <= f.length && f.check <= 1);
			snprintf(out, sizeof(out), "%s %u %u %d",
			    rec_config_alphabet_name(f.alphabet), f.length,
			    f.group, f.check);
			REQUIRE(strcmp(in, out) == 0);
		}
		break;
	}
	return 0;
}
