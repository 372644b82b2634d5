/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_auth.h: one login attempt, and the state a prompt depends on. */
#ifndef REC_AUTH_H
#define REC_AUTH_H

#include <stdint.h>

#include "rec_config.h"
#include "rec_store.h"

/* Who is acting, for the audit trail; any field may be NULL. */
struct rec_who {
	const char *user;	/* the user whose codes these are (required) */
	const char *service;
	const char *rhost;
	const char *tty;
	const char *actor;	/* who did it, when not the user (admin) */
};

/* What a caller needs to know before prompting. */
struct rec_status {
	int enrolled;		/* has an active batch */
	struct rec_format fmt;	/* format to normalise input with */
	uint64_t batch;		/* active batch id, 0 = none */
	unsigned remaining;	/* unused codes of the active batch */
	unsigned count, used, invalidated;
	uint64_t created, expires, verified; /* of the active batch */
	int peppered;
	int expired;
	uint64_t lock_remaining; /* seconds, 0 = not locked */
	uint32_t failures;	/* in the current window */
	uint64_t last_used;	/* last code used of the active batch, 0 = none */
};

/*
 * Read user's state at now.  st may be NULL (no store): then the user is
 * reported as not enrolled, with the configured format.  When the clock has
 * moved back behind the stored lockout state, the corrected state is first
 * written back (rec_auth_settle), so the lock reported is the one enforced.
 * Returns REC_OK or a store error.
 */
int rec_auth_status(struct rec_store *st, const struct rec_config *cfg,
    const char *user, uint64_t now, struct rec_status *out);

/*
 * Write user's lockout and generate_cooldown states back refreshed at now
 * when the clock has moved back behind them (rec_lock_clock_back), so that
 * the corrected lock is the one every later read and attempt enforces.
 * rec_auth_status() and rec_issue_prepare() call it when they see the
 * need.  Returns REC_OK (also when there is nothing to correct or no such
 * user) or a store error.
 */
int rec_auth_settle(struct rec_store *st, const struct rec_config *cfg,
    const char *user, uint64_t now);

enum rec_attempt_flags {
	REC_ATTEMPT_TEST = 1 << 0,	/* verify only: do not consume the code */
};

/* One attempt: what was typed, and how to try it. */
struct rec_attempt {
	const char *input;		/* the code as typed */
	const unsigned char *pepper;	/* REC_PEPPER_LEN bytes, or NULL */
	uint64_t now;
	unsigned flags;			/* enum rec_attempt_flags */
	/*
	 * The status of the same user in the same store, read by this process
	 * before it prompted (rec_auth_status), or NULL: the attempt reads it.
	 * One that shows a lock is read again.
	 */
	const struct rec_status *status;
};

/* The outcome of an attempt, filled on every return. */
struct rec_result {
	uint64_t batch;		/* the batch tried (0 = none) */
	unsigned slot;		/* the matching slot, 0 = none */
	unsigned remaining;	/* unused codes left afterwards */
	uint64_t lock_remaining; /* seconds of lock now in force */
	int locked_now;		/* this failure set or raised the lock */
	unsigned kdf_evals;	/* argon2id evaluations this attempt cost */
};

/*
 * Try one code typed by a person, at the cost of one argon2id evaluation
 * whatever the number of codes (a dummy one when nothing can match; none
 * for malformed input or while locked).  A failure is counted before the
 * hash; a match is consumed at most once, however many attempts race.
 * With REC_ATTEMPT_TEST the code is not consumed but the batch is marked
 * verified.  Every outcome is appended to the audit trail when cfg->audit
 * is on.  st NULL means the user has no store.  How the store operations make
 * that hold: rec_auth.c.
 * Returns REC_OK (accepted), REC_ERR_MALFORMED, REC_ERR_LOCKED,
 * REC_ERR_NOMATCH, REC_ERR_USED, REC_ERR_INVALIDATED, REC_ERR_EXPIRED,
 * REC_ERR_NOSTORE (not enrolled), or a store or memory error (then any
 * failure counted for this attempt is refunded).
 */
int rec_auth_attempt(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, const struct rec_attempt *in,
    struct rec_result *res);

/* What an audit event says beyond who and when. */
struct rec_mark {
	enum rec_event_type type;
	uint64_t batch;		/* 0: none */
	unsigned slot;		/* 0: none */
	const char *detail;	/* NULL: none */
};

/*
 * Fill *ev with who did m->type at now, for an operation that appends it
 * (rec_store.h).  Returns 1, or 0 with *ev zeroed when cfg->audit is off
 * (then nothing is to be appended).
 */
int rec_auth_event(const struct rec_config *cfg, const struct rec_who *who,
    uint64_t now, const struct rec_mark *m, struct rec_event *ev);

#endif
