/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_log.h: the log sink through which the core reports details. */
#ifndef REC_LOG_H
#define REC_LOG_H

#include <syslog.h>

/*
 * The core never prints: it hands each message to a sink that the caller
 * provides (syslog in the module, stderr in the tools).  prio is a syslog
 * priority (LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG).  A NULL sink or a
 * NULL fn discards messages.  Messages never contain a code.
 */
struct rec_log {
	void (*fn)(void *ctx, int prio, const char *msg);
	void *ctx;
	int debug;		/* pass LOG_DEBUG messages on when non-zero */
};

void rec_logf(const struct rec_log *log, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
