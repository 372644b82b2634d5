/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_file.c: the one check of a file or directory the core must trust. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rec_err.h"
#include "rec_file.h"

static void
refuse(const struct rec_file_rule *rule, const char *dir, const char *name,
    const struct rec_log *log, const char *why)
{
	rec_logf(log, LOG_ERR, "%s %s%s%s: %s", rule->what,
	    dir != NULL ? dir : "", dir != NULL ? "/" : "", name, why);
}

static int
owner_ok(const struct rec_file_rule *rule, uid_t uid)
{
	return uid == rule->owner ||
	    ((rule->flags & REC_FILE_SELF) && uid == geteuid());
}

int
rec_file_check(const struct stat *sb, const struct rec_file_rule *rule,
    const char *dir, const char *name, const struct rec_log *log)
{
	char why[160], whom[48];
	mode_t mode = sb->st_mode & 07777;

	if (S_ISLNK(sb->st_mode)) {
		refuse(rule, dir, name, log, "a symbolic link, refused");
		return REC_ERR_UNSAFE;
	}
	if ((sb->st_mode & S_IFMT) != rule->type) {
		refuse(rule, dir, name, log, rule->type == S_IFDIR ?
		    "not a directory" : "not a regular file");
		return REC_ERR_UNSAFE;
	}
	if (!owner_ok(rule, sb->st_uid)) {
		if (rule->owner == 0)
			snprintf(whom, sizeof(whom), "root");
		else
			snprintf(whom, sizeof(whom), "uid %u",
			    (unsigned)rule->owner);
		snprintf(why, sizeof(why), "owned by uid %u, not by %s",
		    (unsigned)sb->st_uid, whom);
		refuse(rule, dir, name, log, why);
		return REC_ERR_OWNER;
	}
	if ((mode & rule->forbid) != 0) {
		snprintf(why, sizeof(why), "%s by group or other (mode %04o)",
		    (mode & rule->forbid & (S_IWGRP | S_IWOTH)) != 0 ?
		    "writable" : "readable or usable", (unsigned)mode);
		refuse(rule, dir, name, log, why);
		return REC_ERR_UNSAFE;
	}
	if ((mode & rule->need) != rule->need) {
		snprintf(why, sizeof(why), "not executable by its owner "
		    "(mode %04o)", (unsigned)mode);
		refuse(rule, dir, name, log, why);
		return REC_ERR_UNSAFE;
	}
	return REC_OK;
}

/*
 * Opening failed with errno e.  A link or the wrong type is unsafe; a
 * permission refused is explained by the owner when name is another
 * uid's (a store restored as root), which is what an administrator acts
 * on, rather than a bare "Permission denied".
 */
static int
explain(int dirfd, const char *dir, const char *name,
    const struct rec_file_rule *rule, const struct rec_log *log, int e)
{
	struct stat sb;
	char why[160];
	int r;

	if (e == ENOENT)
		return REC_ERR_NOTFOUND;
	if (e == ELOOP || e == EMLINK || (e == ENOTDIR &&
	    rule->type == S_IFDIR) || e == EACCES || e == EPERM) {
		if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (r = rec_file_check(&sb, rule, dir, name, log)) != REC_OK)
			return r;
		if (e == ELOOP || e == EMLINK) {
			refuse(rule, dir, name, log, "a symbolic link, refused");
			return REC_ERR_UNSAFE;
		}
	}
	snprintf(why, sizeof(why), "%s", strerror(e));
	refuse(rule, dir, name, log, why);
	return rec_err_errno(e);
}

int
rec_file_open(int dirfd, const char *dir, const char *name,
    const struct rec_file_rule *rule, const struct rec_log *log, int *fd,
    struct stat *sb)
{
	int flags = O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
	int r = REC_ERR_INTERNAL, e;

	if (rule->type == S_IFDIR)
		flags |= O_DIRECTORY;
	if ((*fd = openat(dirfd, name, flags)) == -1) {
		r = explain(dirfd, dir, name, rule, log, errno);
		goto out;
	}
	if (fstat(*fd, sb) == -1) {
		e = errno;
		refuse(rule, dir, name, log, strerror(e));
		r = rec_err_errno(e);
		goto out;
	}
	r = rec_file_check(sb, rule, dir, name, log);
out:
	if (r != REC_OK && *fd != -1) {
		close(*fd);
		*fd = -1;
	}
	return r;
}

int
rec_file_stat(int dirfd, const char *dir, const char *name,
    const struct rec_file_rule *rule, const struct rec_log *log,
    struct stat *sb)
{
	int e;

	if (fstatat(dirfd, name, sb, AT_SYMLINK_NOFOLLOW) == -1) {
		e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return REC_ERR_NOTFOUND;
		refuse(rule, dir, name, log, strerror(e));
		return rec_err_errno(e);
	}
	return rec_file_check(sb, rule, dir, name, log);
}
