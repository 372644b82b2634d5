/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * rec_store_lmdb.h: the LMDB backend's transactions and typed records;
 * private to the backend (and its unit test).
 */
#ifndef REC_STORE_LMDB_H
#define REC_STORE_LMDB_H

#include <stdint.h>

#include "rec_store.h"

struct rec_txn;		/* opaque: one transaction on an LMDB store */

/*
 * Run fn(txn, arg) in one read or write transaction of st, which an LMDB
 * open (rec_store_open) returned.  A write transaction is committed when
 * fn returns REC_OK and aborted otherwise; when LMDB reports
 * the map full, the map is doubled and fn is run again from the start, so fn
 * must compute everything it writes inside the transaction.  Returns fn's
 * result, or the store error that stopped the transaction.
 */
typedef int rec_txn_fn(struct rec_txn *txn, void *arg);
int rec_store_read(struct rec_store *st, rec_txn_fn *fn, void *arg);
int rec_store_write(struct rec_store *st, rec_txn_fn *fn, void *arg);

/*
 * rec_store_write without waiting for the disk: the commit is visible to
 * every process at once and outlives this process (it is in the page
 * cache), but only the next rec_store_write, which puts it on the disk
 * (also when that transaction itself writes nothing), makes it survive a
 * power failure.  For a write that a synced one always follows before
 * anyone acts on it.
 */
int rec_store_write_lazy(struct rec_store *st, rec_txn_fn *fn, void *arg);

/* The store's log sink, for the functions that run inside a transaction. */
const struct rec_log *rec_txn_log(struct rec_txn *txn);

/*
 * Record access inside a transaction.  Getters return REC_OK,
 * REC_ERR_NOTFOUND, REC_ERR_CORRUPT or REC_ERR_IO; putters REC_OK, REC_ERR_IO
 * or REC_ERR_FULL (handled by rec_store_write).  A user name that is empty
 * or REC_USER_MAX bytes or longer is REC_ERR_USAGE, never cut short.
 */
int rec_user_get(struct rec_txn *t, const char *user, struct rec_user *u);
int rec_user_put(struct rec_txn *t, const char *user, const struct rec_user *u);
int rec_batch_get(struct rec_txn *t, const char *user, uint64_t id,
    struct rec_batch *b);
int rec_batch_put(struct rec_txn *t, const char *user,
    const struct rec_batch *b);

/*
 * user's record in *u and its active batch in *b: REC_OK;
 * REC_ERR_NOSTORE when the user has no record or no active batch;
 * REC_ERR_CORRUPT when the record names a batch that is not there; else
 * as the getters.
 */
int rec_batch_get_active(struct rec_txn *t, const char *user,
    struct rec_user *u, struct rec_batch *b);
int rec_coderec_get(struct rec_txn *t, const char *user, uint64_t batch,
    unsigned slot, struct rec_code_rec *c);
int rec_coderec_put(struct rec_txn *t, const char *user, uint64_t batch,
    const struct rec_code_rec *c);

/*
 * Read every code record of a batch, in slot order, into codes (room for max).
 * *n receives how many there are.
 */
int rec_coderec_get_all(struct rec_txn *t, const char *user, uint64_t batch,
    struct rec_code_rec *codes, unsigned max, unsigned *n);

/*
 * Walks.  Callbacks return REC_OK to go on, REC_STOP to stop there (the
 * walk returns REC_OK), or an error, which stops the walk and is returned.
 * A callback must not write to the database being walked: collect, then
 * write after the walk, in the same transaction.
 */

/* Call fn for each batch of user (user NULL: of every user), in key order. */
int rec_batch_each(struct rec_txn *t, const char *user, rec_batch_fn *fn,
    void *arg);

/*
 * Call fn for each batch of every user after (after_user, after_id) in key
 * order (from the first when after_user is NULL or ""): purge resumes here.
 */
int rec_batch_scan(struct rec_txn *t, const char *after_user,
    uint64_t after_id, rec_batch_fn *fn, void *arg);

/* Call fn for each user record, in name order. */
int rec_user_each(struct rec_txn *t, rec_user_fn *fn, void *arg);

/* Delete one record; REC_ERR_NOTFOUND when there is none. */
int rec_coderec_del(struct rec_txn *t, const char *user, uint64_t batch,
    unsigned slot);
int rec_batch_del(struct rec_txn *t, const char *user, uint64_t id);
int rec_user_del(struct rec_txn *t, const char *user);
int rec_event_del(struct rec_txn *t, uint64_t seq);

/* Append an audit event (given a fresh sequence number). */
int rec_event_append(struct rec_txn *t, const struct rec_event *ev);

/* Call fn for each audit event in order, from the oldest. */
int rec_event_each(struct rec_txn *t, rec_event_fn *fn, void *arg);

/* The same from sequence number `from` on (0: from the oldest). */
int rec_event_scan(struct rec_txn *t, uint64_t from, rec_event_fn *fn,
    void *arg);

#endif
