/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_log.c: formatting messages for the caller's log sink. */
#include <stdarg.h>
#include <stdio.h>

#include "rec_log.h"

void
rec_logf(const struct rec_log *log, int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (log == NULL || log->fn == NULL)
		return;
	if (prio == LOG_DEBUG && !log->debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(log->ctx, prio, msg);
}
