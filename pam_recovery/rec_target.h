/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_target.h: whose store a call works on, where it is, and as whom. */
#ifndef REC_TARGET_H
#define REC_TARGET_H

#include <pwd.h>
#include <sys/types.h>

#include "rec_child.h"
#include "rec_config.h"
#include "rec_log.h"
#include "rec_store.h"

/* One user's store, or the system store as a whole (rec_target_resolve). */
struct rec_target {
	int per_user;			/* the store is the user's own */
	int directory;			/* store = ldap: the directory */
	char path[REC_PATH_MAX];	/* the store directory; "" for the
					   directory store */
	uid_t owner;			/* who must own it; its work runs as */
	gid_t owner_gid;
	int pepper;			/* cfg's pepper_file applies to it */
};

enum rec_target_flags {
	/* The user must be in the password database even for a system store. */
	REC_TARGET_KNOWN = 1 << 0,
};

/*
 * The pepper rule: a pepper_file needs a system store, since a per-user
 * store's child (its user) could not read a root-only pepper and codes
 * made without it would never work.  Returns REC_OK, or REC_ERR_CONFIG
 * (logged to log, which may be NULL) for a per-user store with one.
 */
int rec_target_check_pepper(const struct rec_config *cfg,
    const struct rec_log *log);

/*
 * Work out user's store under cfg: pw is user's password entry, looked up
 * by the caller (NULL when there is none).  A per-user store is user's
 * own and its work runs as user (pw's uid and gid); the system store is
 * the caller's (its effective uid and gid: root, or a test's user), and a
 * pepper_file applies to it.  user NULL asks for the system store as a
 * whole.  The directory store (store = ldap) is a system store without a
 * path: the caller's too, with the pepper rule of a system store.
 * t is filled as far as it could be worked out (per_user always).
 * Returns REC_OK; REC_ERR_USAGE for a user name that is empty or too long;
 * REC_ERR_NOUSER when pw is NULL and the store is per-user, or flags has
 * REC_TARGET_KNOWN; REC_ERR_CONFIG for a per-user store asked for as a
 * whole; or rec_config_store_path's error.  Logs nothing.
 */
int rec_target_resolve(const struct rec_config *cfg, const char *user,
    const struct passwd *pw, unsigned flags, struct rec_target *t);

/*
 * Open t's store, the one way every front end does (the store helper, the
 * tools, the self-service): the directory of cfg (rec_store_open_ldap)
 * for a directory target, else the LMDB store at t->path owned by
 * t->owner (rec_store_open, which says what flags mean; the directory
 * takes REC_STORE_RDONLY only: its entries are made by the writes that
 * need them).  The caller runs as t->owner already.  Returns REC_OK and
 * *out, or the opener's error: REC_ERR_NOSTORE only for an LMDB store that
 * does not exist, never for a directory that does not answer (REC_ERR_IO,
 * REC_ERR_TIMEOUT).  In its own file (rec_target_open.c), so that the
 * module, which never opens a store, links neither LMDB nor libldap.
 */
int rec_target_open(const struct rec_config *cfg, const struct rec_target *t,
    unsigned flags, const struct rec_log *log, struct rec_store **out);

/*
 * As rec_target_open, for a directory target bound as *as instead of the
 * hosts' account (rec_store_open_ldap_as: pam-recovery run by a user, who
 * binds as themselves); as NULL is rec_target_open.  REC_ERR_USAGE for an
 * LMDB target with as.
 */
struct rec_ldap_bind;
int rec_target_open_as(const struct rec_config *cfg,
    const struct rec_target *t, unsigned flags, const struct rec_ldap_bind *as,
    const struct rec_log *log, struct rec_store **out);

/*
 * Run fn in a child that is t's owner for good (rec_child_start), with
 * timeout seconds for each of its answers.  Returns as rec_child_start.
 */
int rec_target_start(const struct rec_target *t, unsigned timeout,
    rec_child_fn *fn, void *arg, const struct rec_log *log,
    struct rec_child *c);

/*
 * Spawn the store helper exe for t (rec_child_spawn): it takes t's owner
 * itself, from the job it is sent.  Returns as rec_child_spawn.
 */
int rec_target_spawn(const struct rec_target *t, int exe, unsigned timeout,
    const struct rec_log *log, struct rec_child *c);

#endif
