/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_admin.h: the administrator's operations: unlock, verify, backup, and the walks of its reports. */
#ifndef REC_ADMIN_H
#define REC_ADMIN_H

#include <stdint.h>

#include "rec_auth.h"

/* What an unlock found, before it cleared it. */
struct rec_unlocked {
	uint64_t lock_remaining;	/* seconds of login lock left */
	uint32_t failures;		/* failed attempts in the window */
	uint64_t gen_remaining;		/* generate cooldown left */
};

/*
 * Clear who->user's lockout state in one write transaction: the login lock
 * and failure count, and the generate_cooldown (so that the administrator
 * can issue new codes at once).  Appends a REC_EV_UNLOCKED event naming
 * who->actor, also when nothing was locked, since the administrator acted.
 * info (may be NULL) receives the state found.  Returns REC_OK,
 * REC_ERR_NOTFOUND when the store has no record of the user (nothing is
 * written), or a store error.
 */
int rec_admin_unlock(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, uint64_t now, struct rec_unlocked *info);

/*
 * Record an administrator's action that no other function records (such as
 * deleting old audit events) as one event of type, with detail (may be
 * NULL), in its own write transaction; nothing is written when cfg->audit
 * is off.  Returns REC_OK or a store error.
 */
int rec_admin_event(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, enum rec_event_type type, uint64_t now,
    const char *detail);

/* How many records a store holds. */
struct rec_store_counts {
	unsigned long users, batches, codes, events;
	unsigned long peppered;	/* active batches whose codes need the pepper */
};

/*
 * Read every record of st back (users, batches with their codes in one
 * consistent read, then the audit events), so that a record that does not decode
 * is found now rather than at a login.  counts (may be NULL) receives the
 * numbers.  Returns REC_OK, or the first error (REC_ERR_CORRUPT, ...).
 */
int rec_admin_verify(struct rec_store *st, struct rec_store_counts *counts);

/*
 * Make a consistent hot copy of st in dest, a directory that must not
 * exist: it is created with mode 0700 (whatever the umask), holding
 * data.mdb created with O_EXCL | O_NOFOLLOW and mode 0600, written by
 * LMDB's compacting copy while logins go on, synced to disk.  The copy is
 * then opened read-only, without a lock file, and every record read back
 * with rec_admin_verify; counts (may be NULL) receives what the copy
 * holds.  A backup is data.mdb alone.  Nothing that exists is ever overwritten:
 * REC_ERR_EXISTS when dest exists (or is a symlink).  On any other failure
 * the partial copy is removed again.
 * Returns REC_OK, REC_ERR_EXISTS, REC_ERR_IO, or the error that opening or
 * reading the copy gave (REC_ERR_CORRUPT, REC_ERR_UNSAFE, ...).
 */
int rec_admin_backup(struct rec_store *st, const char *dest,
    const struct rec_log *log, struct rec_store_counts *counts);

/*
 * The steps of rec_admin_backup, for a caller that makes the destination
 * in one process and copies in another (the admin tool: as root, then as
 * the store's owner).  rec_admin_backup_dest makes dest as rec_admin_backup
 * does and creates dest/data.mdb in it, opened read-write into *fd, its
 * directory into *dfd (both -1 on failure, nothing left behind).
 * rec_admin_backup_fd writes st's copy into fd, syncs it, opens it
 * read-only through fd and reads every record back into counts.
 * rec_admin_backup_undo removes a failed copy and closes dfd.
 */
int rec_admin_backup_dest(const char *dest, const struct rec_log *log, int *dfd,
    int *fd);
int rec_admin_backup_fd(struct rec_store *st, int fd, const char *dest,
    const struct rec_log *log, struct rec_store_counts *counts);
void rec_admin_backup_undo(const char *dest, int dfd);

/*
 * Call fn(seq, event, arg) for every audit event of st (of user only, when
 * not NULL), oldest first, in one read transaction (one consistent view;
 * logins and writers are not held up by a reader).  fn returns as a
 * rec_event_each callback and must not use the store.  Returns REC_OK,
 * fn's error, or a store error.
 */
int rec_admin_event_each(struct rec_store *st, const char *user,
    rec_event_fn *fn, void *arg);

/* User names, as the keys of a store hold them (never checked against passwd). */
struct rec_names {
	char (*v)[REC_USER_MAX];
	size_t n, cap;
};

/* rec_admin_names_read: also the users that only batches are left of. */
#define REC_NAMES_BATCHES	0x1

/*
 * Fill out with the name of every user record of st, in key order (one
 * walk); with REC_NAMES_BATCHES, then every further name that a batch is
 * kept under, in name order, each once (a second walk; a name looked up
 * among the users' by a binary search).  out starts empty ({ 0 }) and is
 * released with rec_admin_names_free on every path.  Returns REC_OK,
 * REC_ERR_NOMEM or a store error.
 */
int rec_admin_names_read(struct rec_store *st, unsigned flags,
    struct rec_names *out);
void rec_admin_names_free(struct rec_names *nm);

/*
 * Set *live to the number of user's batches in st that are not yet purged
 * (0: nothing of the user is left to show).  Returns REC_OK or a store
 * error.
 */
int rec_admin_batch_count(struct rec_store *st, const char *user,
    unsigned long *live);

#endif
