/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_lmdb_int.h: what the LMDB backend's own files share; nobody else includes it. */
#ifndef REC_STORE_LMDB_INT_H
#define REC_STORE_LMDB_INT_H

#include <lmdb.h>

#include "rec_limits.h"
#include "rec_store_be.h"
#include "rec_store_lmdb.h"

enum { DB_USERS, DB_BATCHES, DB_CODES, DB_AUDIT, DB_COUNT };
extern const char *const rec_db_names[DB_COUNT];

/* One open LMDB environment; base first, so a struct rec_store * is one. */
struct rec_lmdb {
	struct rec_store base;
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	const struct rec_log *log;
	char path[REC_PATH_MAX];
	int lazy_stuck;		/* MDB_NOSYNC could not be cleared */
	int lazy_pending;	/* a lazy commit not yet on the disk */
};

struct rec_txn {
	struct rec_lmdb *st;
	MDB_txn *txn;
	int map_full;		/* a put hit MDB_MAP_FULL */
	int dirty;		/* a put or delete succeeded */
};

/* The LMDB store behind a handle this backend opened; NULL stays NULL. */
static inline struct rec_lmdb *
rec_lmdb_of(struct rec_store *st)
{
	return (struct rec_lmdb *)(void *)st;
}

/* Map an LMDB or errno result to the project's error space, logging it. */
int rec_mdb_error(const struct rec_lmdb *st, const char *what, int rc);

/* The environment's own operations (rec_store_lmdb.c), for the ops table. */
void lmdb_close(struct rec_store *st);
int lmdb_writable(const struct rec_store *st);
int lmdb_copy(struct rec_store *st, int fd);
int lmdb_probe(struct rec_store *st, unsigned long *free_entries);

/* Append the events audit gives for d inside t (audit NULL: none). */
int rec_lmdb_audit(struct rec_txn *t, rec_store_audit_fn *audit, void *arg,
    const struct rec_store_done *d);

/* Generate and invalidate (rec_store_lmdb_issue.c), for the ops table. */
int lmdb_batch_stage(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n,
    rec_store_gen_fn *fn, void *arg);
int lmdb_batch_activate(struct rec_store *st, const char *user,
    const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn,
    void *arg, rec_store_audit_fn *audit, void *aarg);
int lmdb_batch_discard(struct rec_store *st, const char *user, uint64_t id);
int lmdb_code_invalidate(struct rec_store *st, const char *user,
    const unsigned *slots, unsigned nslots, uint64_t now,
    rec_store_audit_fn *audit, void *arg);
int lmdb_batch_export_mark(struct rec_store *st, const char *user,
    uint64_t id, uint32_t how, uint64_t now);

/* The administrator's walks and deletions (rec_store_lmdb_admin.c). */
int lmdb_user_forget(struct rec_store *st, const char *user, unsigned flags,
    rec_store_audit_fn *audit, void *arg, uint64_t *removed);
int lmdb_event_purge(struct rec_store *st, uint64_t after, uint64_t cutoff,
    unsigned max, unsigned flags, unsigned *n, uint64_t *next, int *more);
int lmdb_purge_step(struct rec_store *st, const struct rec_purge_walk *w,
    unsigned flags);
int lmdb_records_each(struct rec_store *st, rec_store_item_fn *ufn,
    rec_store_item_fn *bfn, void *arg);

/* A copy's writes (rec_store_lmdb_import.c). */
int lmdb_batch_put(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n);
int lmdb_user_put(struct rec_store *st, const char *user,
    const struct rec_user *u, unsigned flags, rec_store_audit_fn *audit,
    void *arg);

extern const struct rec_store_ops rec_lmdb_ops;

#endif
