/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_migrate.h: copying a user's records from one store into another (migrate --from). */
#ifndef REC_MIGRATE_H
#define REC_MIGRATE_H

#include <stdint.h>

#include "rec_auth.h"
#include "rec_config.h"
#include "rec_store.h"

/* The most batches of one user a copy carries. */
#define REC_MIGRATE_BATCHES 64

/* One batch as the copy carries it: the record and its code records. */
struct rec_migrate_batch {
	struct rec_batch b;
	unsigned ncodes;
	struct rec_code_rec codes[REC_COUNT_MAX];	/* by slot */
};

/*
 * One user's records as read from the source, plain data (it comes back
 * from the child that read a per-user store).  It holds hashes: the
 * caller wipes it (sodium_memzero) when done.
 */
struct rec_migrate_user {
	char user[REC_USER_MAX];
	struct rec_user u;
	unsigned nbatches;
	unsigned purged;	/* purged batches left out: no codes left */
	unsigned peppered;	/* batches whose codes need the pepper */
	struct rec_migrate_batch batches[REC_MIGRATE_BATCHES];
};

/*
 * Read user's record and every batch of it that is not purged, each with
 * its code records, from src into *mu in one consistent read (the store's
 * records walk).  Returns REC_OK; REC_ERR_NOSTORE when user has no record
 * in src (batches without one are left behind: a login uses none of
 * them); REC_ERR_CORRUPT when the record names a batch that is not there
 * or code records do not decode; REC_ERR_USAGE (logged) for more than
 * REC_MIGRATE_BATCHES batches; or a store error.
 */
int rec_migrate_read(struct rec_store *src, const char *user,
    struct rec_migrate_user *mu);

/*
 * Every user of a whole store: fn(rc, mu, arg) for each user with a
 * record, in name order, with rc and *mu as rec_migrate_read would give
 * them for that user (REC_OK, or that user's error: fn reports it and goes
 * on), all in one walk over src (where rec_migrate_read walks it for each
 * user), in one consistent read.  mu is the caller's room, reused for
 * each user and wiped at the end.  fn may use other stores, never src;
 * it returns REC_OK to go on, or an error, which ends the walk and is
 * returned.  Returns REC_OK, fn's error, or a store error.
 */
typedef int rec_migrate_fn(int rc, const struct rec_migrate_user *mu,
    void *arg);
int rec_migrate_read_each(struct rec_store *src, struct rec_migrate_user *mu,
    rec_migrate_fn *fn, void *arg);

/* What rec_migrate_write did, or (dry) would do. */
struct rec_migrate_result {
	int skipped;		/* dst has the user already: untouched */
	unsigned batches;	/* batches copied */
	unsigned unused, used, invalid;	/* their codes, by state */
};

enum rec_migrate_flags {
	REC_MIGRATE_DRY = 1 << 0,	/* count, write nothing */
};

/*
 * Copy *mu into dst through the store's operations: when dst holds a
 * record of the user already, set res->skipped and write nothing (never
 * overwritten); otherwise (unless REC_MIGRATE_DRY) each batch exactly as
 * read (rec_store_batch_put), then the user's record (rec_store_user_put)
 * with one REC_EV_ADMIN event, "migrated from FROM", by who at now.  The
 * record comes last, so a copy that stops half-way leaves batches that no
 * login trusts (and that make a second run fail: forget the user in dst
 * first).  Peppered batches stay peppered: every host that uses dst needs
 * the same pepper_file.  res counts what was (or would be) copied.
 * *mu may come from a less trusted process (a per-user store's child):
 * its sizes are checked, and each batch again by rec_store_batch_put.
 * Returns REC_OK (also when skipped); REC_ERR_EXISTS (logged) when dst
 * has a batch of the copy already, or the user was given a record there
 * while the copy ran (which stays); REC_ERR_CORRUPT for a *mu out of
 * bounds; or the store's error.  dst may be
 * NULL with REC_MIGRATE_DRY: a destination not made yet holds nobody.
 */
int rec_migrate_write(struct rec_store *dst, const struct rec_migrate_user *mu,
    const struct rec_config *cfg, const struct rec_who *who,
    const char *from, uint64_t now, unsigned flags,
    struct rec_migrate_result *res);

#endif
