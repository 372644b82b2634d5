/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_err.c: sentences for the project's error codes. */
#include <errno.h>

#include "rec_err.h"

const char *
rec_strerror(int err)
{
	switch (err) {
	case REC_OK:			return "success";
	case REC_ERR_INTERNAL:		return "internal error";
	case REC_ERR_NOMEM:		return "out of memory";
	case REC_ERR_CONFIG:		return "bad configuration";
	case REC_ERR_IO:		return "input/output error";
	case REC_ERR_CORRUPT:		return "store is corrupt";
	case REC_ERR_UNSAFE:		return "unsafe owner, permissions or filesystem";
	case REC_ERR_NOSTORE:		return "no recovery codes set up";
	case REC_ERR_NOUSER:		return "no such user";
	case REC_ERR_MALFORMED:		return "not a valid recovery code — check for typos";
	case REC_ERR_LOCKED:		return "recovery codes are locked";
	case REC_ERR_NOMATCH:		return "wrong recovery code";
	case REC_ERR_USED:		return "recovery code already used";
	case REC_ERR_INVALIDATED:	return "recovery code invalidated";
	case REC_ERR_EXPIRED:		return "recovery codes expired";
	case REC_ERR_EXISTS:		return "already exists";
	case REC_ERR_COOLDOWN:		return "too soon: wait before generating again";
	case REC_ERR_FULL:		return "store is full";
	case REC_ERR_USAGE:		return "invalid argument";
	case REC_ERR_PERM:		return "permission denied";
	case REC_ERR_NOTFOUND:		return "not found";
	case REC_ERR_POLICY:		return "recovery codes outside the system's policy (cost, format or lifetime): generate new ones";
	case REC_ERR_OWNER:		return "the store belongs to another user";
	case REC_ERR_ACCESS:		return "permission denied";
	case REC_ERR_NOSPACE:		return "no space left on the store's filesystem";
	case REC_ERR_ROFS:		return "the store's filesystem is read-only";
	case REC_ERR_NODIR:		return "the directory that holds the store does not exist";
	case REC_ERR_TIMEOUT:		return "the store did not answer in time";
	case REC_ERR_MISSING:		return "the system store does not exist";
	}
	return "unknown error";
}

const char *
rec_err_reason(int err)
{
	switch (err) {
	case REC_OK:			return "none";
	case REC_ERR_NOMEM:		return "no_memory";
	case REC_ERR_CONFIG:		return "config";
	case REC_ERR_IO:		return "io";
	case REC_ERR_CORRUPT:		return "corrupt";
	case REC_ERR_UNSAFE:		return "unsafe";
	case REC_ERR_NOSTORE:		return "missing";
	case REC_ERR_FULL:		return "map_full";
	case REC_ERR_OWNER:		return "owner";
	case REC_ERR_ACCESS:		return "permission";
	case REC_ERR_PERM:		return "permission";
	case REC_ERR_NOSPACE:		return "no_space";
	case REC_ERR_ROFS:		return "read_only";
	case REC_ERR_NODIR:		return "no_directory";
	case REC_ERR_POLICY:		return "policy";
	case REC_ERR_TIMEOUT:		return "timeout";
	case REC_ERR_MISSING:		return "missing";
	case REC_ERR_NOUSER:		return "no_user";
	case REC_ERR_MALFORMED:		return "malformed";
	case REC_ERR_LOCKED:		return "locked";
	case REC_ERR_NOMATCH:		return "no_match";
	case REC_ERR_USED:		return "used";
	case REC_ERR_INVALIDATED:	return "invalidated";
	case REC_ERR_EXPIRED:		return "expired";
	case REC_ERR_EXISTS:		return "exists";
	case REC_ERR_COOLDOWN:		return "cooldown";
	case REC_ERR_USAGE:		return "usage";
	case REC_ERR_NOTFOUND:		return "not_found";
	case REC_ERR_INTERNAL:		return "internal";
	}
	return "internal";
}

int
rec_err_errno(int e)
{
	switch (e) {
	case ENOSPC:
	case EDQUOT:
	case EFBIG:
		return REC_ERR_NOSPACE;
	case EROFS:
		return REC_ERR_ROFS;
	case EACCES:
	case EPERM:
		return REC_ERR_ACCESS;
	case ENOMEM:
		return REC_ERR_NOMEM;
	}
	return REC_ERR_IO;
}
