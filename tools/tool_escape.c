/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_escape.c: strings from a store or the environment, made safe to print as text (JSON: tool_json.c). */
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
