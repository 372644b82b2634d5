/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_err.h: the project's one error space and its translator. */
#ifndef REC_ERR_H
#define REC_ERR_H

/*
 * Every core function returns REC_OK (0) or one of these negative values.
 * Functions that can fail start from REC_ERR_INTERNAL and set REC_OK only on
 * the path that really succeeded, so a forgotten branch fails closed.
 */
enum rec_err {
	REC_OK = 0,
	REC_ERR_INTERNAL = -1,	/* a bug or an impossible state */
	REC_ERR_NOMEM = -2,	/* allocation (or argon2id memory) failed */
	REC_ERR_CONFIG = -3,	/* bad configuration file or argument */
	REC_ERR_IO = -4,	/* a system call or LMDB failed */
	REC_ERR_CORRUPT = -5,	/* a record that does not decode */
	REC_ERR_UNSAFE = -6,	/* owner, mode, type or filesystem refused */
	REC_ERR_NOSTORE = -7,	/* no store, or the user has no active batch */
	REC_ERR_NOUSER = -8,	/* no such user in the password database */
	REC_ERR_MALFORMED = -9,	/* input is not a code of this format */
	REC_ERR_LOCKED = -10,	/* recovery codes locked by the cooldown */
	REC_ERR_NOMATCH = -11,	/* well-formed code that is not valid */
	REC_ERR_USED = -12,	/* the code was valid once and is used */
	REC_ERR_INVALIDATED = -13, /* the code or its batch was invalidated */
	REC_ERR_EXPIRED = -14,	/* the batch has expired */
	REC_ERR_EXISTS = -15,	/* refusing to overwrite something */
	REC_ERR_COOLDOWN = -16,	/* generate asked for too soon */
	REC_ERR_FULL = -17,	/* the store cannot grow any further */
	REC_ERR_USAGE = -18,	/* a caller passed arguments out of range */
	REC_ERR_PERM = -19,	/* the caller is not allowed to do this */
	REC_ERR_NOTFOUND = -20,	/* no such batch, slot or record */
	/* Why the filesystem refused the store, where REC_ERR_IO said only that it did. */
	REC_ERR_OWNER = -21,	/* the store belongs to another uid */
	REC_ERR_ACCESS = -22,	/* permission denied (EACCES, EPERM) */
	REC_ERR_NOSPACE = -23,	/* no space or quota left (ENOSPC, EDQUOT, EFBIG) */
	REC_ERR_ROFS = -24,	/* read-only filesystem (EROFS) */
	REC_ERR_NODIR = -25,	/* the directory that holds the store is missing */
	REC_ERR_POLICY = -26,	/* a batch outside the system's policy */
	REC_ERR_TIMEOUT = -27,	/* a store's reader missed its deadline */
	REC_ERR_MISSING = -28,	/* a system store that does not exist */
};

/* A static, human-readable sentence for err; never NULL. */
const char *rec_strerror(int err);

/*
 * A short keyword for err, for the reason= field of a log line (owner,
 * permission, no_space, read_only, io, corrupt, used, no_match, ...): one
 * word per error, "internal" only for REC_ERR_INTERNAL and numbers that
 * are no error of ours; never NULL.
 */
const char *rec_err_reason(int err);

/*
 * The project error for a failed system call's errno: REC_ERR_NOSPACE,
 * REC_ERR_ROFS, REC_ERR_ACCESS, REC_ERR_NOMEM, else REC_ERR_IO.
 */
int rec_err_errno(int e);

#endif
