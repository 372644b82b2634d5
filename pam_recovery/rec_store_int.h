/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_int.h: what the store's own files share; nobody else includes it. */
#ifndef REC_STORE_INT_H
#define REC_STORE_INT_H

#include <lmdb.h>

#include "rec_limits.h"
#include "rec_store.h"

enum { DB_USERS, DB_BATCHES, DB_CODES, DB_AUDIT, DB_COUNT };
extern const char *const rec_db_names[DB_COUNT];

struct rec_store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	const struct rec_log *log;
	char path[REC_PATH_MAX];
	int lazy_stuck;		/* MDB_NOSYNC could not be cleared */
	int lazy_pending;	/* a lazy commit not yet on the disk */
};

struct rec_txn {
	struct rec_store *st;
	MDB_txn *txn;
	int map_full;		/* a put hit MDB_MAP_FULL */
	int dirty;		/* a put or delete succeeded */
};

/* Map an LMDB or errno result to the project's error space, logging it. */
int rec_mdb_error(const struct rec_store *st, const char *what, int rc);

#endif
