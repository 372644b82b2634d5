/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap.h: the directory store's client: entries, atomic operations. */
#ifndef REC_LDAP_H
#define REC_LDAP_H

#include <stdint.h>

#include "rec_config.h"
#include "rec_log.h"
#include "rec_record.h"
#include "rec_store.h"	/* REC_STOP */

/*
 * The entries (conf/ldap/README): below cfg->ldap_base, one
 * uid=USER entry per user (object class pamRecoveryUser: active batch,
 * lockout state), and below it one entry per batch
 * (pamRecoveryBatchId=ID: parameters and one pamRecoveryCode value per
 * unused code) and one per audit event (pamRecoveryEventId=...).
 *
 * Every function returns REC_OK or a negative REC_ERR_*; a directory that
 * cannot be reached or does not answer within cfg->ldap_timeout is
 * REC_ERR_IO or REC_ERR_TIMEOUT, never a success nor a "no such user".
 * Every refusal is logged with the directory's reason.
 *
 * Reads and writes may go to different servers (ldap_uri may name
 * replicas, ldap_write_uri their provider).  Every function that changes
 * the directory takes a connection opened with write set (REC_ERR_USAGE
 * otherwise), and does the reads that decide the change (the lockout
 * state it swaps, the batch's status it asserts) over that connection;
 * what rec_ldap_read_user read elsewhere may be behind, and a change
 * built on it is refused where it is written when it no longer holds.
 */

struct rec_ldap;	/* opaque: one bound connection */

/*
 * Connect to the first URI of cfg->ldap_uri (or of cfg->ldap_write_uri,
 * when write is set and it is not empty) that answers, each within
 * ldap_timeout: ldaps:// and StartTLS on ldap:// (ldap_starttls) verify
 * the server's certificate against ldap_ca_file (or libldap's CAs);
 * ldap:// without StartTLS is refused unless ldap_insecure; ldapi:// needs
 * no TLS.  Then bind: simple, as ldap_bind_dn with the password of
 * ldap_bind_pw_file (root-owned, 0600, read by rec_secret_read and wiped
 * after the bind), or SASL EXTERNAL over ldapi:// when ldap_bind_dn is
 * empty.  cfg is copied; *out is the connection, closed by rec_ldap_close.
 * REC_ERR_CONFIG for missing or refused settings, REC_ERR_UNSAFE for a
 * password file with loose permissions, REC_ERR_PERM for refused
 * credentials, REC_ERR_IO or REC_ERR_TIMEOUT when no URI could be used.
 */
int rec_ldap_open(const struct rec_config *cfg, int write,
    const struct rec_log *log, struct rec_ldap **out);

/* Unbind and free; NULL is accepted. */
void rec_ldap_close(struct rec_ldap *c);

/*
 * Who a connection binds as instead of the configuration's hosts' account
 * (ldap_bind_dn, ldap_bind_pw_file): pam-recovery run by a user binds as
 * that user (ldap_user_dn), with the user's own directory password, so
 * the directory's ACLs (conf/ldap/acl-self.conf) decide what it may do.
 */
struct rec_ldap_bind {
	const char *dn;		/* simple bind as dn; NULL or "": SASL
				   EXTERNAL, over ldapi:// only (the
				   server maps the peer's uid) */
	const char *pw;		/* dn's password, pwlen bytes, never
				   empty: the caller's, which it keeps in
				   guarded memory and wipes after the open */
	size_t pwlen;
};

/* Room for a DN rec_ldap_bind_dn makes, its NUL included. */
#define REC_LDAP_DN_MAX 2048

/*
 * As rec_ldap_open, bound as *as instead of the hosts' account (as NULL:
 * exactly rec_ldap_open).  Nothing of ldap_bind_dn or ldap_bind_pw_file
 * is read.  The password is used for the bind of each URI tried, and not
 * kept: *as may be wiped once this returns.  REC_ERR_PERM for credentials
 * the directory refused (or an empty password, never sent); a refused
 * bind is not tried again on the next URI.
 */
int rec_ldap_open_as(const struct rec_config *cfg, int write,
    const struct rec_ldap_bind *as, const struct rec_log *log,
    struct rec_ldap **out);

/*
 * The DN that user binds as, from pattern (ldap_user_dn): each %u becomes
 * user, escaped as an RFC 4514 attribute value (the specials, a leading
 * '#' or blank, a trailing blank), and %% a '%', into dn of len bytes
 * (REC_LDAP_DN_MAX holds any).  Returns REC_OK; REC_ERR_CONFIG for a
 * pattern with another '%' or one that gives an empty DN; REC_ERR_USAGE
 * for a user name that is empty, too long or holds a control character,
 * or a DN that does not fit.
 */
int rec_ldap_bind_dn(const char *pattern, const char *user, char *dn,
    size_t len);

/* What a login reads about a user, in one search. */
struct rec_ldap_user {
	struct rec_user user;	/* active batch, lockout, last use */
	int have_batch;		/* the active batch's entry was found */
	struct rec_batch batch;	/* the active batch; used and invalidated
				   counted from its values */
	struct rec_code_rec codes[REC_COUNT_MAX];	/* its codes, by slot */
	unsigned ncodes;
	unsigned have_locks;	/* REC_LOCK_LOGIN, REC_LOCK_GEN: which
				   lockout values the entry holds */
};

/*
 * Read user's entry, its active batch and that batch's codes into *out.
 * REC_ERR_NOSTORE when the user has no entry; REC_ERR_CORRUPT for a value
 * that does not parse as written by rec_ldap_write_batch (or codes that do
 * not match their batch, rec_batch_check_codes).
 */
int rec_ldap_read_user(struct rec_ldap *c, const char *user,
    struct rec_ldap_user *out);

/*
 * Read user's entry alone into *u, and into *have which of its lockout
 * values it holds (REC_LOCK_LOGIN, REC_LOCK_GEN; an absent one reads as
 * the all-zero state).  REC_ERR_NOSTORE when the user has no entry,
 * REC_ERR_CORRUPT for a value that does not parse.
 */
int rec_ldap_read_locks(struct rec_ldap *c, const char *user,
    struct rec_user *u, unsigned *have);

/*
 * The compare-and-swap of the lockout states `which` (REC_LOCK_LOGIN:
 * pamRecoveryLock, REC_LOCK_GEN: pamRecoveryGenLock) of user's entry, in
 * one Modify: for each state whose value *nu changes, delete the exact
 * value *old read over c (have: which values the entry held, as
 * rec_ldap_read_locks or rec_ldap_read_user said) and add the new one, so
 * that the Modify is refused as a whole when another host changed any of
 * them since.  old NULL: the user had no entry, which is added with the
 * states of *nu.  Nothing is sent when no value changes.  Returns REC_OK;
 * REC_ERR_EXISTS when the entry no longer holds what was read (or, old
 * NULL, it exists by now): nothing was applied, read again;
 * REC_ERR_NOSTORE when the entry is gone; or a store error.
 */
int rec_ldap_swap_locks(struct rec_ldap *c, const char *user, unsigned which,
    const struct rec_user *old, unsigned have, const struct rec_user *nu);

/*
 * Change user's lockout state atomically, fleet-wide: read it, let fn
 * change *lk (fn returns REC_OK to write the change, REC_STOP to leave the
 * state as it is, or an error), and write it back with one Modify that
 * deletes the exact old value and adds the new one, so the Modify fails
 * when another host changed the state in between; then start again, at
 * most a bounded number of times.  fn may be called several times and
 * must compute everything from *lk.  *out (may be NULL) receives the state
 * as written (or as read, after REC_STOP).  Returns REC_OK (also after
 * REC_STOP), REC_ERR_NOSTORE for a user without an entry, fn's error, or a
 * store error.
 */
typedef int rec_ldap_lock_fn(struct rec_lock *lk, void *arg);
int rec_ldap_lock_update(struct rec_ldap *c, const char *user,
    rec_ldap_lock_fn *fn, void *arg, struct rec_lock *out);

/*
 * Count one attempt before any hash is evaluated (spec 5): refresh the
 * state at now, and unless the user is locked, count a failure
 * (rec_lock_fail).  Returns REC_OK with the counted state in *out (its
 * failures is this attempt's count: of N concurrent attempts, each gets
 * its own) and the state it replaced in *before (may be NULL), as read
 * over c, REC_ERR_LOCKED with nothing counted, or as
 * rec_ldap_lock_update.
 */
int rec_ldap_count_attempt(struct rec_ldap *c, const char *user,
    uint64_t now, const struct rec_config *cfg, struct rec_lock *before,
    struct rec_lock *out);

/*
 * Give back an attempt that could not be judged: when the state is still
 * *counted (what rec_ldap_count_attempt wrote), put *before back exactly;
 * otherwise take one failure off.  Both must be what
 * rec_ldap_count_attempt returned: a state read anywhere else (a replica,
 * or before the count) could put back less than other hosts counted
 * meanwhile.  Returns as rec_ldap_lock_update.
 */
int rec_ldap_refund(struct rec_ldap *c, const char *user,
    const struct rec_lock *before, const struct rec_lock *counted);

/* A success or an administrator's unlock: the all-zero state. */
int rec_ldap_clear_lock(struct rec_ldap *c, const char *user);

/*
 * Take generate_cooldown for one generation by user, fleet-wide, before
 * the batch is written: the same compare-and-swap on pamRecoveryGenLock,
 * the cooldown escalating as rec_lock_gen_config makes it; the user's
 * entry is created when it has none.  Returns REC_OK (nothing to do when
 * generate_cooldown is 0), REC_ERR_COOLDOWN with the seconds left in
 * *wait, or a store error.
 */
int rec_ldap_take_generate(struct rec_ldap *c, const char *user,
    uint64_t now, const struct rec_config *cfg, uint64_t *wait);

/*
 * Consume (to REC_CODE_USED, with host) or invalidate (REC_CODE_INVALID,
 * with actor in what) the unused code *code of batch *b, read by
 * rec_ldap_read_user, in one Modify of the batch entry: delete the code's
 * exact value, add the mark "VALUE NOW WHAT" (which keeps its hash, so a
 * code tried again is known as used).  Of any number of concurrent
 * calls for one code, at any hosts, exactly one succeeds: the others'
 * delete finds no such value and the directory applies nothing of their
 * Modify.  A consume also deletes and adds back the batch's active status
 * in that Modify, so it is refused when the batch was replaced or
 * invalidated, even if *b was read from a replica that is behind.
 * Returns REC_OK, REC_ERR_USED when the code is no longer unused (used or
 * invalidated meanwhile), REC_ERR_INVALIDATED when a consume found its
 * batch no longer active, REC_ERR_USAGE for a code that was not unused
 * when read, or a store error.
 */
int rec_ldap_mark_code(struct rec_ldap *c, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *code,
    enum rec_code_state to, uint64_t now, const char *what);

/*
 * Record on user's entry that a code was used at now (last_used of struct
 * rec_user), after a successful rec_ldap_mark_code.  REC_ERR_NOSTORE when
 * the user has no entry.
 */
int rec_ldap_note_use(struct rec_ldap *c, const char *user, uint64_t now);

/*
 * After a code was consumed or tested: clear user's login lockout and,
 * when last_used is not 0, record it as the last use, in one Modify of the
 * user's entry (each value replaced: whatever another host counted before
 * this, a success wipes, as the local store's one transaction does).
 * REC_ERR_NOSTORE when the user has no entry.
 */
int rec_ldap_note_success(struct rec_ldap *c, const char *user,
    uint64_t last_used);

/*
 * Mark user's batch id verified at now (a code of it was tested, not
 * used), in one Modify of the batch entry that also deletes and adds back
 * its active status, so that it is refused once the batch was replaced or
 * invalidated.  Returns REC_OK, REC_ERR_INVALIDATED when the batch is no
 * longer active (or gone), or a store error (REC_ERR_PERM where the
 * directory's ACLs keep the account from writing pamRecoveryVerified, as
 * the example ACLs do for the hosts' account).
 */
int rec_ldap_mark_verified(struct rec_ldap *c, const char *user, uint64_t id,
    uint64_t now);

/*
 * Write batch *b with its n unused codes (slots 1..b->count, hashes and
 * tags as for the LMDB store) for user, creating the user's entry when it
 * has none.  When b->status is REC_BATCH_ACTIVE the user's active batch
 * then becomes b (last_generated = now) and the batch active before is
 * marked invalidated; a login only trusts the batch the user's entry
 * names, so a write that stops half-way leaves the old batch in force.
 * REC_ERR_EXISTS when a batch with that id exists.
 */
int rec_ldap_write_batch(struct rec_ldap *c, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *codes, unsigned n,
    uint64_t now);

/*
 * Record *ev below its user's entry (an event of no user, ev->user "",
 * directly below ldap_base), with host (cfg->host_name), under an id made
 * of its time and 64 random bits, so hosts need no common counter.  Text
 * fields are kept to printable ASCII ('?' for anything else).
 * REC_ERR_NOSTORE when the user has no entry (or ldap_base is not there).
 */
int rec_ldap_audit(struct rec_ldap *c, const struct rec_event *ev,
    const char *host);

/*
 * Call fn for each audit event of user, in no particular order, with the
 * host that recorded it.  fn returns REC_OK to go on, REC_STOP to stop, or
 * an error, which is returned.
 */
typedef int rec_ldap_event_fn(const struct rec_event *ev, const char *host,
    void *arg);
int rec_ldap_each_event(struct rec_ldap *c, const char *user,
    rec_ldap_event_fn *fn, void *arg);

/* ---- Generate and invalidate (rec_ldap_issue.c) ------------------------- */

/*
 * What a change built on exact-value assertions returns when one of them
 * no longer held (another host changed the entry since it was read):
 * nothing of it was applied.  Not an error; the caller reads again.
 */
#define REC_LDAP_LOST 2

/* A user's entries as a generate or an invalidate reads them. */
struct rec_ldap_issue {
	int have_user;		/* the user's entry exists (else all zero) */
	struct rec_user user;	/* absent values read as 0 */
	int have_gen;		/* pamRecoveryGenLock is set */
	int have_active;	/* pamRecoveryActiveBatch is set */
	int have_old;		/* the active batch's entry was found */
	struct rec_batch old;	/* the active batch, used and invalidated
				   counted from its values */
	struct rec_code_rec old_codes[REC_COUNT_MAX];	/* by slot */
	unsigned nold;
	int have_batch;		/* the batch asked for was found */
	struct rec_batch batch;	/* it, counted the same way */
	int have_exported;	/* it has pamRecoveryExported */
};

/*
 * Read user's entry, its active batch with its codes, and batch id (0:
 * none) into *out, in one search over c, which must be opened for writing
 * (the reads that decide a change are the writer's: REC_ERR_USAGE
 * otherwise).  A user without an entry is REC_OK with have_user 0.  The
 * codes hold hashes: the caller wipes *out.  REC_ERR_CORRUPT for entries
 * that do not parse.
 */
int rec_ldap_issue_read(struct rec_ldap *c, const char *user, uint64_t id,
    struct rec_ldap_issue *out);

/* One asserted Modify of a batch entry (rec_ldap_batch_change). */
struct rec_ldap_batch_change {
	uint64_t id;
	unsigned from, to;	/* delete status from, add to (from 0: leave) */
	const struct rec_batch *b;	/* encodes the codes' values */
	const struct rec_code_rec *inval;	/* unused codes of b to mark */
	unsigned ninval;	/* invalidated (with what and now) */
	uint64_t now;
	const char *what;	/* the actor written in their marks */
	int exported;		/* also swap pamRecoveryExported: */
	int have_exported;	/* delete old_exported (when set), */
	uint32_t old_exported, new_exported;	/* add new_exported */
};

/*
 * Apply *ch to user's batch entry ch->id in one Modify: every value it
 * deletes (the status, each code's exact unused value, the old exported
 * mark) is an assertion, so the Modify is applied whole or not at all.
 * Returns REC_OK, REC_LDAP_LOST when an asserted value was gone,
 * REC_ERR_NOTFOUND when there is no such batch, or a store error.
 */
int rec_ldap_batch_change(struct rec_ldap *c, const char *user,
    const struct rec_ldap_batch_change *ch);

/* One asserted Modify of a user's entry (rec_ldap_user_switch). */
struct rec_ldap_switch {
	int gen;		/* swap pamRecoveryGenLock: */
	int have_gen;		/* delete old_gen (when set), add new_gen */
	struct rec_lock old_gen, new_gen;
	int have_active;	/* delete pamRecoveryActiveBatch old_active */
	uint64_t old_active;
	uint64_t new_active;	/* then add it; 0: the user has none */
	uint64_t last_generated;	/* replaced when not 0 */
};

/*
 * Apply *sw to user's entry in one Modify that deletes the exact old
 * generate lock and active batch read and adds the new ones (where a
 * value was absent, the single-valued add asserts it still is).
 * Returns REC_OK, REC_LDAP_LOST when another host changed either
 * meanwhile, REC_ERR_NOSTORE for a user without an entry, or a store
 * error.
 */
int rec_ldap_user_switch(struct rec_ldap *c, const char *user,
    const struct rec_ldap_switch *sw);

/*
 * Delete user's batch entry id.  Returns REC_OK, REC_ERR_NOTFOUND when
 * there is none, or a store error.
 */
int rec_ldap_batch_delete(struct rec_ldap *c, const char *user, uint64_t id);

/* ---- The administrator's walks (rec_ldap_walk.c), forget and purge
 * (rec_ldap_prune.c) ------------------------------------------------------ */

/*
 * Searches that may return many entries (the users of a fleet, every
 * batch, every event) are paged (RFC 2696, pages of 500, the control
 * marked critical), each page within ldap_timeout: a server without
 * paging refuses them, and one that stops at a size or time limit of the
 * whole search makes the walk fail (logged), never end short as if
 * complete.  The administrator's bind DN needs no size limit for paged
 * searches (slapd: limits ... size.prtotal=unlimited, or size=unlimited).
 * A walk is not one consistent view: the directory gives none; each
 * entry is read as it is when its page is.
 */

/* One user's entry, as the walks list it. */
struct rec_ldap_user_rec {
	char *name;		/* the uid of its DN */
	struct rec_user u;
	int holder;		/* a forgotten user's entry, kept only as the
				   holder of the events below it: none of
				   active batch, lockout, use, generation */
	int batches;		/* rec_ldap_users_batches: has batch entries */
};

struct rec_ldap_users {
	struct rec_ldap_user_rec *v;	/* sorted by name (strcmp) */
	size_t n, cap;
};

/*
 * Every user entry directly below ldap_base (holders included), sorted by
 * name, into *out (released with rec_ldap_users_free, also after an
 * error).  The whole list is in memory: about 150 bytes a user.  Returns
 * REC_OK, REC_ERR_CORRUPT for an entry that does not parse, or a store
 * error.
 */
int rec_ldap_users_read(struct rec_ldap *c, struct rec_ldap_users *out);
void rec_ldap_users_free(struct rec_ldap_users *us);

/* The index of the first user of *us whose name is not below name. */
size_t rec_ldap_users_from(const struct rec_ldap_users *us, const char *name);

/*
 * Mark the users of *us that have batch entries (batches set), from one
 * paged search of the batches' names: the walks that look at batches
 * search below those users only.  Returns REC_OK or a store error.
 */
int rec_ldap_users_batches(struct rec_ldap *c, struct rec_ldap_users *us);

/*
 * The names that batch entries are kept under, sorted, each once, into
 * *out (only name set, batches 1), from one paged search of the batches'
 * names: where a purge step has anything to look at.  Released with
 * rec_ldap_users_free, also after an error.  Returns REC_OK or a store
 * error.
 */
int rec_ldap_batch_owners(struct rec_ldap *c, struct rec_ldap_users *out);

/*
 * Read user's entry and batches in one paged search below the user's
 * entry: call ufn (may be NULL) with the user's record and its active
 * batch (it->b NULL, b_rc REC_ERR_NOTFOUND when it names none that is
 * there) unless the user has no entry or only a holder, then bfn (may be
 * NULL) for each batch in id order with its codes (it->u NULL without a
 * user record; codes_rc REC_ERR_CORRUPT when they do not parse).  A slot
 * without any value was purged and counts as used; a purged batch was
 * last modified when purge marked it (pamRecoveryPurged).  The items hold
 * hashes in guarded memory, wiped afterwards.  Returns REC_OK (also for a
 * user without entries), a callback's return (REC_STOP too), or a store
 * error.
 */
int rec_ldap_user_records(struct rec_ldap *c, const char *user,
    rec_store_item_fn *ufn, rec_store_item_fn *bfn, void *arg);

/*
 * Call fn for every batch below ldap_base, in the directory's order (not
 * grouped by user), counted as rec_ldap_user_records counts them.
 * Returns REC_OK (also after REC_STOP), fn's error, REC_ERR_CORRUPT, or a
 * store error.
 */
int rec_ldap_batches_each(struct rec_ldap *c, rec_batch_fn *fn, void *arg);

/*
 * Call fn for the audit events of user (NULL: every user's) with their
 * host.  The directory has no sequence number: the walk numbers the
 * events it gives from 1, and calls fn from number from on (0 and 1: all).
 * One user's events are read from below that user's entry only, oldest
 * first (time, then id); every user's come in the directory's order
 * (slapd, 389-ds: the order they were added), page by page.  Returns
 * REC_OK (also after REC_STOP), fn's error, REC_ERR_CORRUPT, or a store
 * error.
 */
int rec_ldap_events_each(struct rec_ldap *c, const char *user,
    uint64_t from, rec_event_fn *fn, void *arg);

/* ---- Deletions (rec_ldap_prune.c) ---- */

/*
 * Delete up to max audit events older than cutoff (pamRecoveryEventTime <
 * cutoff, a filter the server evaluates), over c opened for writing, each
 * event entry one Delete; *more when there may be more.  With dry, count
 * them all and delete nothing (in one step: *more stays 0).  *n: how many.
 * Returns REC_OK or a store error (*n those deleted before it).
 */
int rec_ldap_events_purge(struct rec_ldap *c, uint64_t cutoff, unsigned max,
    int dry, unsigned *n, int *more);

/*
 * Forget user (offboarding): over c opened for writing (with dry, any c:
 * count only), in an order that fails closed when it stops half-way:
 * the active batch's status becomes invalidated (no host can consume from
 * it any more), then the user's entry loses its active batch, lockout and
 * use state and stays as the holder of its audit events, then every batch
 * entry is deleted.  *removed: code values, batches and the user's record
 * (not a holder), as the LMDB store counts its records.  Returns REC_OK
 * (also for a user without entries) or a store error.
 */
int rec_ldap_forget(struct rec_ldap *c, const char *user, int dry,
    uint64_t *removed);

/*
 * Delete user's entry when it is a holder without events below it (what
 * a forget leaves that recorded no event); REC_OK when it has events, is
 * in use again, or is gone.
 */
int rec_ldap_holder_drop(struct rec_ldap *c, const char *user);

/*
 * Purge's jobs, each one Modify or Delete of one entry over c opened for
 * writing, deciding on what c reads back.  purge_codes deletes the exact
 * values of the slots of batch id (whatever their state; a code that
 * changes meanwhile makes the Modify fail whole and it is read again, a
 * bounded number of times).  purge_mark swaps the status read for 3
 * (purged) with the time now (pamRecoveryPurged), then removes the batch
 * from the user's entry if it was the active one; a status that changed
 * meanwhile is left for the next run.  purge_delete deletes the batch
 * entry when it is purged.  A batch that is gone is REC_OK.  Return
 * REC_OK or a store error.
 */
int rec_ldap_purge_codes(struct rec_ldap *c, const char *user, uint64_t id,
    const unsigned *slots, unsigned nslots);
int rec_ldap_purge_mark(struct rec_ldap *c, const char *user, uint64_t id,
    uint64_t now);
int rec_ldap_purge_delete(struct rec_ldap *c, const char *user, uint64_t id);


/* ---- What pam-recovery-admin check asks (rec_ldap_probe.c) ----------
 * Reads and probes that change nothing in the directory.  Each returns
 * REC_OK or a store error as above (REC_ERR_IO, REC_ERR_TIMEOUT, ...).
 */

/* How a connection is protected, and whom the server took the bind for. */
struct rec_ldap_info {
	char uri[REC_PATH_MAX];		/* the URI it reached */
	int tls;			/* TLS in place (ldaps://, StartTLS) */
	char tls_version[32];		/* e.g. "TLSv1.3"; "" when unknown */
	char tls_cipher[96];
	char authzid[REC_PATH_MAX];	/* Who am I? ("dn:...", "anonymous");
					   "" when the server does not say */
};
int rec_ldap_probe_info(struct rec_ldap *c, struct rec_ldap_info *out);

/*
 * After rec_ldap_open failed on uri (ldaps://, or ldap:// with StartTLS):
 * whether the server completes a TLS handshake once the certificate is not
 * verified, on a connection of its own that binds and sends nothing else.
 * REC_OK: it does, so its certificate is what failed (it does not verify
 * against ldap_ca_file, or does not name the host); REC_ERR_IO: TLS (or
 * the connection) fails anyway; REC_ERR_USAGE for a URI without TLS.
 * The handshake is NOT bounded by ldap_timeout (libldap waits for a
 * silent server's handshake; rec_ldap.c's deadline layer is its own): run
 * it where it can be cut off (pam-recovery-admin check: in a child with a
 * deadline), never in a login.
 */
int rec_ldap_probe_cert(const struct rec_config *cfg, const char *uri,
    const struct rec_log *log);

/*
 * The server's subschema (subschemaSubentry of the root DSE) against
 * conf/ldap/pam-recovery.schema: every pamRecovery* attribute type and
 * object class with the same OID (and for types the same EQUALITY rule).
 * *nbad counts those missing or different, listed in bad (len).
 * REC_ERR_NOTFOUND or REC_ERR_PERM when the subschema cannot be read.
 */
int rec_ldap_probe_schema(struct rec_ldap *c, char *bad, size_t len,
    unsigned *nbad);
/* How many types and classes rec_ldap_probe_schema looks for. */
unsigned rec_ldap_probe_schema_size(void);

/*
 * ldap_base can be read by the bound identity: REC_OK, REC_ERR_NOTFOUND
 * (no such entry, or hidden from it), REC_ERR_PERM.
 */
int rec_ldap_probe_base(struct rec_ldap *c);

/* The naming context of the root DSE that holds ldap_base, into out. */
int rec_ldap_probe_suffix(struct rec_ldap *c, char *out, size_t len);

/*
 * How many entries below base (subtree) show attr to the bound identity,
 * up to REC_LDAP_PROBE_MAX + 1, skip (a DN, may be NULL) left out; first
 * receives the first one's DN.  Only attribute types are asked for, never
 * values.  A base that is not there or not disclosed counts 0.
 */
#define REC_LDAP_PROBE_MAX 10
int rec_ldap_probe_readable(struct rec_ldap *c, const char *base,
    const char *attr, const char *skip, unsigned *n, char *first,
    size_t len);

/*
 * Whether the bound identity may compare attr of dn (with value, which
 * need not be there): *allowed is 0 when the server refuses or hides the
 * entry.
 */
int rec_ldap_probe_compare(struct rec_ldap *c, const char *dn,
    const char *attr, const char *value, int *allowed);

/*
 * Bind c anonymously; what follows over c is anonymous, also after
 * REC_ERR_PERM (the server refuses anonymous binds: c is then as a client
 * that never bound).
 */
int rec_ldap_probe_anonymous(struct rec_ldap *c);

/*
 * A user entry below ldap_base with an active batch: its DN and that
 * batch's (REC_LDAP_PROBE_DN bytes each).  REC_ERR_NOTFOUND when there is
 * none.
 */
#define REC_LDAP_PROBE_DN 2048
int rec_ldap_probe_user(struct rec_ldap *c, char *user_dn, char *batch_dn);

/* The parent of dn into out; REC_ERR_NOTFOUND for a DN of one RDN. */
int rec_ldap_probe_parent(const char *dn, char *out, size_t len);

/*
 * Whether the bound identity may apply mods (at most REC_LDAP_PROBE_MODS,
 * the first one a delete of a value that does not exist) to dn, without
 * applying anything: *allowed is 1 or 0.  REC_ERR_NOTFOUND when dn does
 * not exist.  See rec_ldap_probe.c for why nothing is applied.
 */
#define REC_LDAP_PROBE_MODS 6
struct rec_ldap_probe_mod {
	int add;		/* add value, else delete it */
	const char *attr, *value;
};
int rec_ldap_probe_write(struct rec_ldap *c, const char *dn,
    const struct rec_ldap_probe_mod *mods, unsigned n, int *allowed);

/*
 * A copy from another store (rec_ldap_import.c; the store's batch_put and
 * user_put).  Write batch *b of user exactly as given, its n code records
 * codes each as the value of its state: unused ones as pamRecoveryCode,
 * used ones as pamRecoveryUsedCode marked with their time and host,
 * invalidated ones as pamRecoveryInvalidCode marked with their time and
 * "migrated", in one Add; user's entry is created bare first when it has
 * none.  REC_ERR_EXISTS when a batch with that id exists, REC_ERR_USAGE
 * for code records that do not fit b (rec_batch_check_codes).
 */
int rec_ldap_put_batch(struct rec_ldap *c, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *codes, unsigned n,
    const char *host);

/*
 * Give user the record *u (active batch, both lock states, last use and
 * generation) when its entry is missing or bare (as a copy's batch or a
 * generation's first step leaves it: no state beyond a zero lockout), in
 * one Modify that fails when anything wrote to the entry meanwhile.  With
 * dry set, only read whether it would.  Returns REC_OK, REC_ERR_EXISTS
 * when the entry holds a record, REC_ERR_CORRUPT when u->active_batch
 * names no batch entry of user, or a store error.
 */
int rec_ldap_put_user(struct rec_ldap *c, const char *user,
    const struct rec_user *u, int dry);

#endif
