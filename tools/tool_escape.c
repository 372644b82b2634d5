/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_escape.c: strings from a store or the environment, made safe to print as text or JSON. */
#define LIBBSD_NETBSD_VIS	/* the prototypes of NetBSD's vis(3) */
#include <bsd/vis.h>
#include <stdio.h>
#include <string.h>

#include "tool_common.h"

const char *
tool_vis(const char *src, int flags, char *buf, size_t len)
{
	/*
	 * Byte by byte in the C locale: whatever the administrator's locale,
	 * only printable ASCII passes, so no byte of the string can be half
	 * of a terminal's escape sequence or a line break.
	 */
	int vf = VIS_CSTYLE | VIS_OCTAL | VIS_TAB | VIS_NL | VIS_NOLOCALE |
	    ((flags & TOOL_VIS_SPACE) ? VIS_SP : 0) |
	    ((flags & TOOL_VIS_QUOTE) ? VIS_DQ : 0);
	const unsigned char *p;
	size_t used = 0, keep = 0, n;
	char one[8];

	if (len == 0)
		return buf;
	buf[0] = '\0';
	for (p = (const unsigned char *)src; *p != '\0'; p++) {
		*nvis(one, sizeof(one), *p, vf, p[1]) = '\0';
		n = strlen(one);
		if (used + n >= len) {
			/* Cut at a whole escape, and say that it was cut. */
			if (len >= 4) {
				memcpy(buf + keep, "...", 4);
				return buf;
			}
			break;
		}
		memcpy(buf + used, one, n);
		used += n;
		if (used + 4 <= len)
			keep = used;
	}
	buf[used] = '\0';
	return buf;
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

void
tool_json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long cp;
	size_t n;

	fputc('"', f);
	while (*p != '\0') {
		if (*p == '"' || *p == '\\') {
			fprintf(f, "\\%c", *p++);
			continue;
		}
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(f, "\\u%04x", *p++);
			continue;
		}
		if (*p < 0x80) {
			fputc(*p++, f);
			continue;
		}
		/*
		 * JSON is UTF-8: a byte that is not part of a well-formed
		 * character becomes U+FFFD; C1 controls and the line
		 * separators that JavaScript treats as line ends are escaped.
		 */
		if ((n = utf8_seq(p, &cp)) == 0) {
			fputs("\\ufffd", f);
			p++;
		} else if (cp <= 0x9f || cp == 0x2028 || cp == 0x2029) {
			fprintf(f, "\\u%04lx", cp);
			p += n;
		} else {
			fwrite(p, 1, n, f);
			p += n;
		}
	}
	fputc('"', f);
}
