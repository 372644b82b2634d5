/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_notify.h: run the administrator's notify_command on every change. */
#ifndef REC_NOTIFY_H
#define REC_NOTIFY_H

#include "rec_log.h"

/* What changed; the names are the values of PAM_RECOVERY_EVENT. */
enum rec_notify_event {
	REC_NOTIFY_CODE_USED,
	REC_NOTIFY_GENERATED,
	REC_NOTIFY_INVALIDATED,
	REC_NOTIFY_LOCKED,
	REC_NOTIFY_UNLOCKED,
	REC_NOTIFY_EXPIRING,
};

/*
 * The facts handed to the command; service, rhost and admin_email may be
 * NULL (admin_email "" too: not set).  system_store says whose the codes
 * are, so that the command can tell the user who makes new ones: the
 * administrator (a system store) or the user (a per-user store).
 */
struct rec_notice {
	enum rec_notify_event event;
	const char *user;
	long remaining;		/* codes left; -1 = not known */
	const char *service;
	const char *rhost;
	int system_store;	/* 1: a system store, 0: a per-user store */
	const char *admin_email;	/* the configuration's admin_email */
	const char *helper;	/* rec_config_helper's command, or NULL */
};

/* The event's name ("code_used", ...), or NULL for an unknown event. */
const char *rec_notify_event_name(enum rec_notify_event event);

/*
 * Check that path may be run as the notify command: absolute, a regular
 * file owned by root, executable, not writable by group or other, checked
 * by rec_file_stat (a symbolic link at the last component is refused; the
 * reason is logged through log, which may be NULL).  Returns REC_OK,
 * REC_ERR_CONFIG for a path that is not absolute, REC_ERR_UNSAFE for owner
 * or mode refused, REC_ERR_NOTFOUND when it does not exist, REC_ERR_IO.
 */
int rec_notify_check(const char *path, const struct rec_log *log);

/*
 * Run command (the notify_command; "" or NULL = nothing to do, REC_OK) for
 * notice with a clean environment: PAM_RECOVERY_EVENT, PAM_USER,
 * PAM_RECOVERY_REMAINING, PAM_RECOVERY_HOST, PAM_RECOVERY_STORE_KIND
 * ("system" or "user"), PAM_SERVICE, PAM_RHOST, PAM_RECOVERY_ADMIN_EMAIL
 * and PAM_RECOVERY_HELPER (the command with which the user manages their
 * own codes) when known, and a fixed PATH.  No shell; stdin, stdout and stderr are
 * /dev/null.  Waits up to timeout seconds, then kills it (SIGKILL) and
 * reaps it.  The caller's signal dispositions are left alone.  Every
 * failure is logged through log and returned (REC_ERR_UNSAFE, REC_ERR_CONFIG,
 * REC_ERR_NOTFOUND, REC_ERR_IO, REC_ERR_TIMEOUT, REC_ERR_INTERNAL when the
 * command exits non-zero or dies); callers must not let it change the
 * outcome of what they did.
 */
int rec_notify(const char *command, unsigned timeout,
    const struct rec_notice *notice, const struct rec_log *log);

#endif
