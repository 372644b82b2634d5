/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_file.h: the one check of a file or directory the core must trust. */
#ifndef REC_FILE_H
#define REC_FILE_H

#include <sys/stat.h>
#include <sys/types.h>

#include "rec_log.h"

/* Also the caller's own uid when the caller is not root (tests, tools). */
#define REC_FILE_SELF	0x1

/*
 * What a trusted file must be.  what names it in messages ("pepper
 * file"); type is S_IFREG or S_IFDIR; owner the uid that must own it
 * (with REC_FILE_SELF, the caller's euid as well); forbid the mode bits
 * that must be clear (S_IWGRP | S_IWOTH: nobody else may write it; 077:
 * nobody else may touch it); need the bits that must be set (S_IXUSR for
 * a program, else 0).
 */
struct rec_file_rule {
	const char *what;
	mode_t type;
	uid_t owner;
	unsigned flags;
	mode_t forbid;
	mode_t need;
};

/*
 * Check sb against rule.  When log is not NULL a refusal is logged as
 * "WHAT DIR/NAME: why" (dir may be NULL: name is then the whole path), in
 * the same words for every file of the core.  Returns REC_OK, REC_ERR_OWNER
 * when only the owner is wrong, or REC_ERR_UNSAFE (a symbolic link, the
 * wrong type, mode bits in forbid, or bits of need missing).
 */
int rec_file_check(const struct stat *sb, const struct rec_file_rule *rule,
    const char *dir, const char *name, const struct rec_log *log);

/*
 * Open name, relative to dirfd (AT_FDCWD for a path; dir names dirfd in
 * messages, or NULL) without following a final symbolic link, without
 * blocking on a FIFO and without becoming a controlling terminal, read-only
 * (a directory with O_DIRECTORY), and check it through the descriptor, so
 * that what is checked is what is read.  On REC_OK *fd is open (the caller
 * closes it) and *sb describes it; on failure *fd is -1.  Returns REC_OK;
 * REC_ERR_NOTFOUND when it does not exist (not logged: whether that is an
 * error is the caller's to say); REC_ERR_OWNER or REC_ERR_UNSAFE as
 * rec_file_check, also for one that could not be opened for lack of
 * permission because it is another uid's; else the error of open(2)
 * (rec_err_errno), logged.
 */
int rec_file_open(int dirfd, const char *dir, const char *name,
    const struct rec_file_rule *rule, const struct rec_log *log, int *fd,
    struct stat *sb);

/*
 * As rec_file_open for a file the core does not open itself (LMDB's files,
 * a program run by its path): name itself is looked at, never what a
 * symbolic link points to.  Returns as rec_file_open.
 */
int rec_file_stat(int dirfd, const char *dir, const char *name,
    const struct rec_file_rule *rule, const struct rec_log *log,
    struct stat *sb);

#endif
