/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store.h: the store interface: operations, each atomic for one user. */
#ifndef REC_STORE_H
#define REC_STORE_H

#include <sys/types.h>
#include <stdint.h>

#include "rec_log.h"
#include "rec_record.h"

/*
 * A store keeps users, batches, code records and audit events.  Layers 4-6
 * see it only through these operations, whatever the backend behind the
 * handle (rec_store_be.h: the LMDB store, rec_store_lmdb*.c, the embedded
 * default).  Every operation on one user is atomic for that user: a
 * directory gives one atomic Modify per entry and no multi-entry
 * transaction, so the interface is the set of steps a login, a generation
 * and the administrator need, not get and put inside a transaction.  A
 * changing operation may take audit events, appended atomically with the
 * change (LMDB: in the same transaction).
 */

/* What a walk callback returns to stop early; not an error. */
#define REC_STOP 1

struct rec_store;	/* opaque: one open store of some backend */

enum rec_store_flags {
	REC_STORE_CREATE = 1 << 0,	/* create the directory (0700) and env */
	REC_STORE_RDONLY = 1 << 1,	/* read only: LMDB's write path unused */
};

/*
 * Open the LMDB store directory path, which must be a real directory (not
 * a symlink) owned by `owner` with no group or other permission bits, on a
 * local filesystem, and whose data and lock files, where present, are
 * regular files owned by `owner`.  The caller must already run with the
 * owner's file-system identity.  The environment lives for this one call of
 * the caller (never cached: PAM hosts fork).
 * Returns REC_OK and *out; REC_ERR_NOSTORE when the directory or its data
 * file does not exist (and REC_STORE_CREATE is not given), which is not
 * logged: it is how a user without codes looks; REC_ERR_UNSAFE for a store
 * that fails the checks; REC_ERR_IO or REC_ERR_CORRUPT when LMDB cannot open
 * it.  Every refusal is logged with its reason.
 */
int rec_store_open(const char *path, uid_t owner, unsigned flags,
    const struct rec_log *log, struct rec_store **out);

/*
 * Open a store copy that is the single regular file fd (a backup being
 * written, see rec_admin_backup_fd) read-only, without a lock file: the
 * file is reopened through /proc/self/fd, so it needs no path the caller
 * could reach.  name is for messages.  A copy without the store's
 * databases is REC_ERR_CORRUPT.  Returns REC_OK and *out, or the error.
 */
int rec_store_open_copy(int fd, const char *name, const struct rec_log *log,
    struct rec_store **out);

/*
 * 1 when st was opened for writing, 0 when with REC_STORE_RDONLY (then
 * every changing operation fails): a reader that could correct a record in
 * passing leaves that to the next writer instead.
 */
int rec_store_writable(const struct rec_store *st);

/* Close the store; NULL is accepted. */
void rec_store_close(struct rec_store *st);

/* The store's log sink. */
const struct rec_log *rec_store_log(const struct rec_store *st);

/* What a login or a status reads about one user, in one atomic read. */
struct rec_view {
	struct rec_user user;	/* active batch, lockouts, last use */
	int have_batch;		/* user.active_batch names a batch: *batch */
	struct rec_batch batch;	/* the active batch */
	struct rec_code_rec codes[REC_COUNT_MAX];	/* its codes, by slot */
	unsigned ncodes;	/* 0 unless REC_VIEW_CODES */
};

enum rec_view_flags {
	REC_VIEW_CODES = 1 << 0,	/* read the active batch's code records */
};

/*
 * Read user's record, its active batch and (REC_VIEW_CODES) that batch's
 * code records into *v in one read.  The code records hold hashes: the
 * caller wipes *v (sodium_memzero) when done.  Returns REC_OK;
 * REC_ERR_NOSTORE when the user has no record (not logged);
 * REC_ERR_CORRUPT when the record names a batch that is not there; else a
 * store error.
 */
int rec_store_view(struct rec_store *st, const char *user, unsigned flags,
    struct rec_view *v);

/* What a changing operation did, for the events that record it. */
struct rec_store_done {
	int outcome;		/* REC_OK, or the refusal recorded */
	uint64_t batch;		/* the batch it worked on */
	unsigned slot;		/* the one code it changed, or 0 */
	unsigned changed;	/* how many codes it changed */
};

/*
 * The events to append with a change whose outcome is known: fill ev (room
 * for max) and *n.  Called after the decision, inside the change, maybe
 * more than once.  Returns REC_OK or an error, which writes nothing.
 */
typedef int rec_store_audit_fn(const struct rec_store_done *d,
    struct rec_event *ev, unsigned max, unsigned *n, void *arg);

/* Which lockout state rec_store_lock_update changes. */
enum rec_store_lock {
	REC_LOCK_LOGIN = 1 << 0,	/* login attempts (rec_user.lock) */
	REC_LOCK_GEN = 1 << 1,		/* generate_cooldown (rec_user.gen) */
};

enum rec_store_write_flags {
	/*
	 * The change is visible to every process at once and outlives this
	 * process, but only the next synced change of the same store puts it
	 * on the disk (LMDB: a commit without fsync).  For a write that a
	 * synced one always follows before anyone acts on it: the pre-count.
	 */
	REC_WRITE_LAZY = 1 << 0,
	REC_WRITE_CREATE = 1 << 1,	/* a user without a record gets one */
	REC_WRITE_VIEW = 1 << 2,	/* fn sees the user's view, with codes */
	REC_WRITE_DRY = 1 << 3,		/* count what would change, change nothing */
};

/*
 * Change the lockout states `which` (enum rec_store_lock) of user in one
 * atomic read-modify-write: fn is called for each of them (which: the one
 * state) with the state as stored, and returns REC_OK to write what it
 * changed, REC_STOP to leave that state as it is, or an error, which
 * writes nothing and is returned.  With REC_WRITE_VIEW, v is the user's
 * view (rec_store_view with REC_VIEW_CODES) read in the same atomic step,
 * so that fn can judge the lock by the batch (the pre-count picks its
 * candidate there); otherwise v is NULL.  fn may be called more than once
 * (a backend that retries a compare-and-swap) and must compute everything
 * from its arguments.  Nothing is written when every call returned
 * REC_STOP; otherwise audit (may be NULL; called with arg, the batch the
 * user's active one) gives the events that go with the change.  *out (may
 * be NULL) receives the user's record as written (or read).  Returns REC_OK, REC_ERR_NOSTORE for a user without a record
 * (unless REC_WRITE_CREATE), fn's error, or a store error.
 */
typedef int rec_store_lock_fn(struct rec_lock *lk, unsigned which,
    const struct rec_view *v, void *arg);
int rec_store_lock_update(struct rec_store *st, const char *user,
    unsigned which, unsigned flags, rec_store_lock_fn *fn, void *arg,
    rec_store_audit_fn *audit, struct rec_user *out);

/* What rec_store_code_mark makes of a code. */
enum rec_mark_to {
	REC_MARK_USED = 1,	/* consumed by a login */
	REC_MARK_VERIFY,	/* only tested: the batch is marked verified */
};

/* One code to mark, and when. */
struct rec_code_mark {
	const char *user;
	uint64_t batch;		/* the batch the code was read from */
	unsigned slot;
	enum rec_mark_to to;
	uint64_t now;
	uint64_t expires;	/* the batch's end by the policy, 0 = none */
};

/*
 * Atomically: check that m->batch is user's active batch, is active, and
 * its code m->slot is unused (a code purge removed counts as used), and
 * that the batch has not expired (m->expires); then mark the code used
 * (REC_MARK_USED: the batch counts it, the user's last use becomes now)
 * or the batch verified (REC_MARK_VERIFY), and clear the user's login
 * lockout.  Whatever the outcome, the events audit gives for it are
 * appended in the same change, which is a synced write.  *outcome
 * receives REC_OK, REC_ERR_INVALIDATED (not the active batch, not active,
 * or the code invalidated), REC_ERR_USED or REC_ERR_EXPIRED, in that
 * order of precedence; *remaining the batch's unused codes afterwards.
 * Of any number of racing marks of one code, one gets REC_OK.  Returns
 * REC_OK when the outcome was recorded, REC_ERR_CORRUPT for records that
 * contradict each other, or a store error (nothing written).
 */
int rec_store_code_mark(struct rec_store *st, const struct rec_code_mark *m,
    rec_store_audit_fn *audit, void *arg, int *outcome, unsigned *remaining);

/*
 * Append the n audit events ev (n may be 0) in one synced write, which also
 * puts every lazy write before it on the disk.  Each event is given a
 * fresh sequence number.  Returns REC_OK or a store error.
 */
int rec_store_event_append(struct rec_store *st, const struct rec_event *ev,
    unsigned n);

/*
 * The generate rules, judged under the store's write lock with the user's
 * generate cooldown state *gen and active batch *active (NULL: none):
 * return REC_OK to go on (having taken the cooldown in *gen where the
 * caller means to), REC_STOP to refuse (the caller's arg says why), or an
 * error.  May be called more than once.
 */
typedef int rec_store_gen_fn(struct rec_lock *gen,
    const struct rec_batch *active, void *arg);

/*
 * Generate's first step: judge fn (nothing it changes is kept), then store
 * batch *b as staged with its n code records, not active, in one synced
 * write, so that whatever can stop them being stored stops them before any
 * code is shown.  Returns REC_OK, REC_STOP when fn refused,
 * REC_ERR_INTERNAL when user has a batch of that id (24 random bits a
 * second: a bug, not bad luck), or an error.
 */
int rec_store_batch_stage(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n,
    rec_store_gen_fn *fn, void *arg);

/*
 * Generate's second step, atomic for user: judge fn (its *gen is kept),
 * then make the staged batch b->id user's active batch (stored as *b,
 * active), its last generation now, and invalidate the batch active
 * before, with every code of it still unused; audit's events go with it.
 * A user without a record gets one.  Returns REC_OK, REC_STOP when fn
 * refused (nothing written), REC_ERR_CORRUPT when there is no batch
 * b->id, REC_ERR_INTERNAL when it is not staged, or a store error.
 */
int rec_store_batch_activate(struct rec_store *st, const char *user,
    const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn,
    void *arg, rec_store_audit_fn *audit, void *aarg);

/*
 * Remove batch id of user with its code records when it is still staged;
 * REC_OK also when there is no such batch or it is not staged any more.
 */
int rec_store_batch_discard(struct rec_store *st, const char *user,
    uint64_t id);

/*
 * Invalidate the codes slots[0..nslots) of user's active batch, each one
 * still unused (a code purge removed is passed over), or with nslots 0 the
 * whole batch, every unused code of it, and the user then has none
 * active.  audit's events go with it, unless codes were named and none
 * changed.  Returns REC_OK, REC_ERR_NOSTORE when user has no active
 * batch, REC_ERR_NOTFOUND for a slot outside the batch (nothing written),
 * or a store error.
 */
int rec_store_code_invalidate(struct rec_store *st, const char *user,
    const unsigned *slots, unsigned nslots, uint64_t now,
    rec_store_audit_fn *audit, void *arg);

/*
 * Add the bits how to batch id's exported mark, modified now.  Returns
 * REC_OK, REC_ERR_NOTFOUND for no such batch, or a store error.
 */
int rec_store_batch_export_mark(struct rec_store *st, const char *user,
    uint64_t id, uint32_t how, uint64_t now);

/*
 * A copy from another store (rec_migrate), in the order batches first,
 * the user's record last: a login trusts only the batch the user's record
 * names, so a copy that stops half-way leaves nothing a login uses.
 *
 * Write batch *b of user exactly as given (any status, its counters and
 * every other field) with its n code records recs, each in its own state
 * (unused, used or invalidated, with when it changed), in one write.  A
 * backend that keeps batches below the user's entry (the directory)
 * creates that entry bare, with no state, which still counts as no record
 * for rec_store_user_put.  Returns REC_OK; REC_ERR_EXISTS when user has a
 * batch b->id already (nothing written); REC_ERR_USAGE for records that
 * do not fit b (rec_batch_check_codes, or a state out of range); or a
 * store error.
 */
int rec_store_batch_put(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n);

/*
 * Write user's record *u as given (active batch, login and generate lock
 * states, last use, last generation) when user has no record yet, with
 * audit's events (d.batch: u->active_batch; may be NULL), in one write:
 * the last step of a copy, after its batches.  With REC_WRITE_DRY, only
 * find out whether user has a record (its batches, not written by a dry
 * run, are not looked for).  Returns REC_OK; REC_ERR_EXISTS
 * when user has a record (or, the directory, an entry that holds any
 * state), nothing written; REC_ERR_CORRUPT when u->active_batch names a
 * batch user does not have; or a store error.
 */
int rec_store_user_put(struct rec_store *st, const char *user,
    const struct rec_user *u, unsigned flags, rec_store_audit_fn *audit,
    void *arg);

/*
 * Walks, each in one consistent read (LMDB; a directory has no read
 * transaction over several entries: each user's entries are read as they
 * are when the walk comes to them): fn returns REC_OK to go on, REC_STOP
 * to stop there (the walk returns REC_OK), or an error, which stops the
 * walk and is returned.  fn must not use the store.
 */

/* Call fn for each user record, in name order. */
typedef int rec_user_fn(const char *user, const struct rec_user *u, void *arg);
int rec_store_user_each(struct rec_store *st, rec_user_fn *fn, void *arg);

/*
 * Call fn for each batch of user, in id order; with user NULL, of every
 * user, in key order (user, then id) on LMDB, in the directory's own order
 * on a directory (its callers count or gather names, and need no order).
 */
typedef int rec_batch_fn(const char *user, const struct rec_batch *b,
    void *arg);
int rec_store_batch_each(struct rec_store *st, const char *user,
    rec_batch_fn *fn, void *arg);

/*
 * Call fn for each audit event of user (NULL: of every user) from sequence
 * number from on (0: the oldest).  A status reads one user's events: a
 * backend that keeps them per user (the directory) reads only those.  A
 * directory has no sequence numbers: its walk numbers the events it gives
 * from 1 (one user's oldest first; every user's in the directory's order).
 */
typedef int rec_event_fn(uint64_t seq, const struct rec_event *ev, void *arg);
int rec_store_event_each(struct rec_store *st, const char *user,
    uint64_t from, rec_event_fn *fn, void *arg);

/*
 * Remove every record of user (its code records, batches and user record)
 * in one write, and append audit's events (done.changed: how many records
 * went) when any went; with REC_WRITE_DRY, count what would go and change
 * nothing.  *removed receives the number.  A directory removes them in
 * several writes, ordered so that one that stops half-way leaves nothing
 * usable (conf/ldap/README), and keeps the user's entry as the holder of
 * its events.  Returns REC_OK (also for a user with nothing stored) or a
 * store error.
 */
int rec_store_user_forget(struct rec_store *st, const char *user,
    unsigned flags, rec_store_audit_fn *audit, void *arg,
    uint64_t *removed);

/*
 * One step of the audit trail's purge: look at the events after sequence
 * number after, and delete (with REC_WRITE_DRY: count) those older than
 * cutoff, at most max of them, in one write.  *n receives how many,
 * *next the last sequence number looked at, *more whether the step
 * stopped at max with events left.  A directory (no sequence numbers)
 * deletes by a filter on the time, which finds the next ones once these
 * are gone; its *next is after + *n, and a dry run counts all at once.
 * The caller goes on while *more and *next moved.  Returns REC_OK or a
 * store error.
 */
int rec_store_event_purge(struct rec_store *st, uint64_t after,
    uint64_t cutoff, unsigned max, unsigned flags, unsigned *n,
    uint64_t *next, int *more);

/* What purge does to one record, as planned by layer 4 (rec_purge.c). */
enum rec_purge_kind {
	REC_PURGE_CODE,		/* delete a code record */
	REC_PURGE_MARK,		/* mark a batch purged (no longer anyone's) */
	REC_PURGE_DELETE,	/* delete a purged batch's record */
};

struct rec_purge_job {
	char user[REC_USER_MAX];
	uint64_t batch;
	unsigned slot;			/* REC_PURGE_CODE */
	enum rec_purge_kind kind;
};

/*
 * One step of purge: begin(arg) starts the step afresh (it may be run
 * again from the start), then batch() is called for each batch after
 * (after_user, after_id) in key order, with its code records (none for a
 * purged batch), planning into jobs[0..*njobs); REC_STOP ends the walk.
 * Then every planned job is done, in the same write (a directory: one
 * Modify or Delete per entry, the codes of one batch in one Modify, each
 * asserting what it changes).  batch() must not use the store.
 */
struct rec_purge_walk {
	const char *after_user;		/* NULL or "": from the first */
	uint64_t after_id;
	uint64_t now;			/* a batch marked purged is modified */
	void (*begin)(void *arg);
	int (*batch)(const char *user, const struct rec_batch *b,
	    const struct rec_code_rec *codes, unsigned n, void *arg);
	void *arg;
	const struct rec_purge_job *jobs;
	const unsigned *njobs;
};

/*
 * Run one purge step; with REC_WRITE_DRY, the walk alone (a read).
 * Returns REC_OK, batch()'s error, or a store error (nothing written).
 */
int rec_store_purge_step(struct rec_store *st, const struct rec_purge_walk *w,
    unsigned flags);

/* One record as a consistency check sees it, with what it refers to. */
struct rec_store_item {
	const char *user;
	const struct rec_user *u;	/* the user's record, NULL: none */
	const struct rec_batch *b;	/* a batch, or (user pass) the
					   user's active batch, NULL: none */
	const struct rec_code_rec *codes; /* batch pass: b's code records */
	unsigned ncodes;
	int codes_rc;			/* REC_OK, or REC_ERR_CORRUPT: they
					   do not decode (or are too many) */
	int b_rc;			/* user pass: REC_OK, REC_ERR_NOTFOUND
					   (none there) or the error reading
					   the active batch (the callback
					   returns it to stop the walk) */
};

/*
 * In one consistent read: call ufn for each user record (with its active
 * batch, NULL when it names none or one that is not there), then bfn for
 * each batch (with its user's record, NULL when none, and its code
 * records).  A directory walks user by user: ufn for a user, then bfn for
 * that user's batches (its callers judge each item alone).  The callbacks
 * return as a walk's.  Returns REC_OK, a callback's error, or a store
 * error.
 */
typedef int rec_store_item_fn(const struct rec_store_item *it, void *arg);
int rec_store_records_each(struct rec_store *st, rec_store_item_fn *ufn,
    rec_store_item_fn *bfn, void *arg);

/*
 * Write a consistent copy of the whole store to fd (a new, empty,
 * writable file) while other processes go on reading and writing: LMDB's
 * own copy in one read transaction, compacted (free pages left out).  The
 * caller owns fd and syncs and closes it.  Returns REC_OK, REC_ERR_IO, or
 * REC_ERR_USAGE for a backend that has no such copy.
 */
int rec_store_copy(struct rec_store *st, int fd);

/*
 * Exercise what a login touches beyond the records, for check --deep
 * (LMDB: read every entry of the free-page database, where a write finds
 * the pages it reuses, then run a write that changes a record and is
 * aborted, so nothing reaches the disk).  *free_entries receives the
 * number of free-page entries.  Returns REC_OK, REC_ERR_CORRUPT for a
 * damaged page, REC_ERR_USAGE for a backend without such a probe, or
 * another store error (a write the store refuses).
 */
int rec_store_probe(struct rec_store *st, unsigned long *free_entries);

#endif
