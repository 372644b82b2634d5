/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_be.h: what a store backend implements; only backends include it. */
#ifndef REC_STORE_BE_H
#define REC_STORE_BE_H

#include "rec_store.h"

/*
 * A backend's handle begins with this struct, so that a pointer to the
 * handle is a struct rec_store * (and back, in the backend).  The
 * operations have the contracts of their rec_store_* wrappers in
 * rec_store.h; copy and probe may be NULL (REC_ERR_USAGE).
 */
struct rec_store_ops {
	const char *name;	/* "lmdb", for messages */
	void (*close)(struct rec_store *st);
	int (*writable)(const struct rec_store *st);
	int (*view)(struct rec_store *st, const char *user, unsigned flags,
	    struct rec_view *v);
	int (*lock_update)(struct rec_store *st, const char *user,
	    unsigned which, unsigned flags, rec_store_lock_fn *fn, void *arg,
	    rec_store_audit_fn *audit, struct rec_user *out);
	int (*code_mark)(struct rec_store *st, const struct rec_code_mark *m,
	    rec_store_audit_fn *audit, void *arg, int *outcome,
	    unsigned *remaining);
	int (*event_append)(struct rec_store *st, const struct rec_event *ev,
	    unsigned n);
	int (*batch_stage)(struct rec_store *st, const char *user,
	    const struct rec_batch *b, const struct rec_code_rec *recs,
	    unsigned n, rec_store_gen_fn *fn, void *arg);
	int (*batch_activate)(struct rec_store *st, const char *user,
	    const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn,
	    void *arg, rec_store_audit_fn *audit, void *aarg);
	int (*batch_discard)(struct rec_store *st, const char *user,
	    uint64_t id);
	int (*code_invalidate)(struct rec_store *st, const char *user,
	    const unsigned *slots, unsigned nslots, uint64_t now,
	    rec_store_audit_fn *audit, void *arg);
	int (*batch_export_mark)(struct rec_store *st, const char *user,
	    uint64_t id, uint32_t how, uint64_t now);
	int (*user_each)(struct rec_store *st, rec_user_fn *fn, void *arg);
	int (*batch_each)(struct rec_store *st, const char *user,
	    rec_batch_fn *fn, void *arg);
	int (*event_each)(struct rec_store *st, const char *user,
	    uint64_t from, rec_event_fn *fn, void *arg);
	int (*user_forget)(struct rec_store *st, const char *user,
	    unsigned flags, rec_store_audit_fn *audit, void *arg,
	    uint64_t *removed);
	int (*event_purge)(struct rec_store *st, uint64_t after,
	    uint64_t cutoff, unsigned max, unsigned flags, unsigned *n,
	    uint64_t *next, int *more);
	int (*purge_step)(struct rec_store *st,
	    const struct rec_purge_walk *w, unsigned flags);
	int (*records_each)(struct rec_store *st, rec_store_item_fn *ufn,
	    rec_store_item_fn *bfn, void *arg);
	int (*batch_put)(struct rec_store *st, const char *user,
	    const struct rec_batch *b, const struct rec_code_rec *recs,
	    unsigned n);
	int (*user_put)(struct rec_store *st, const char *user,
	    const struct rec_user *u, unsigned flags,
	    rec_store_audit_fn *audit, void *arg);
	int (*copy)(struct rec_store *st, int fd);
	int (*probe)(struct rec_store *st, unsigned long *free_entries);
};

struct rec_store {
	const struct rec_store_ops *ops;
	const struct rec_log *log;
};

#endif
