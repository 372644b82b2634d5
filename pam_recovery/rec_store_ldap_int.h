/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap_int.h: what the directory backend's own files share; nobody else includes it. */
#ifndef REC_STORE_LDAP_INT_H
#define REC_STORE_LDAP_INT_H

#include "rec_ldap.h"
#include "rec_store_be.h"
#include "rec_store_ldap.h"

/* One open directory store; base first, so a struct rec_store * is one. */
struct rec_store_ldap {
	struct rec_store base;
	struct rec_config cfg;
	struct rec_ldap *rd;	/* reads: ldap_uri (maybe a replica) */
	struct rec_ldap *wr;	/* changes: ldap_write_uri; NULL when read
				   only; rd itself when ldap_write_uri is
				   empty (one connection, opened for writing) */
};

/* The directory store behind a handle this backend opened. */
static inline struct rec_store_ldap *
rec_sldap_of(struct rec_store *st)
{
	return (struct rec_store_ldap *)(void *)st;
}

/*
 * The connection for a change: REC_OK and *c, or REC_ERR_USAGE (logged)
 * for a store opened read only.
 */
int rec_sldap_writer(struct rec_store_ldap *s, const char *what,
    struct rec_ldap **c);

/* The handle's own operations and a login's (rec_store_ldap.c). */
void sldap_close(struct rec_store *st);
int sldap_writable(const struct rec_store *st);
int sldap_view(struct rec_store *st, const char *user, unsigned flags,
    struct rec_view *v);
int sldap_lock_update(struct rec_store *st, const char *user,
    unsigned which, unsigned flags, rec_store_lock_fn *fn, void *arg,
    rec_store_audit_fn *audit, struct rec_user *out);
int sldap_code_mark(struct rec_store *st, const struct rec_code_mark *m,
    rec_store_audit_fn *audit, void *arg, int *outcome, unsigned *remaining);
int sldap_event_append(struct rec_store *st, const struct rec_event *ev,
    unsigned n);

/* Generate and invalidate (rec_store_ldap_issue.c). */
int sldap_batch_stage(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n,
    rec_store_gen_fn *fn, void *arg);
int sldap_batch_activate(struct rec_store *st, const char *user,
    const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn,
    void *arg, rec_store_audit_fn *audit, void *aarg);
int sldap_batch_discard(struct rec_store *st, const char *user, uint64_t id);
int sldap_code_invalidate(struct rec_store *st, const char *user,
    const unsigned *slots, unsigned nslots, uint64_t now,
    rec_store_audit_fn *audit, void *arg);
int sldap_batch_export_mark(struct rec_store *st, const char *user,
    uint64_t id, uint32_t how, uint64_t now);

/* The administrator's walks and deletions (rec_store_ldap_admin.c). */
int sldap_user_each(struct rec_store *st, rec_user_fn *fn, void *arg);
int sldap_batch_each(struct rec_store *st, const char *user,
    rec_batch_fn *fn, void *arg);
int sldap_event_each(struct rec_store *st, const char *user, uint64_t from,
    rec_event_fn *fn, void *arg);
int sldap_user_forget(struct rec_store *st, const char *user, unsigned flags,
    rec_store_audit_fn *audit, void *arg, uint64_t *removed);
int sldap_event_purge(struct rec_store *st, uint64_t after, uint64_t cutoff,
    unsigned max, unsigned flags, unsigned *n, uint64_t *next, int *more);
int sldap_purge_step(struct rec_store *st, const struct rec_purge_walk *w,
    unsigned flags);
int sldap_records_each(struct rec_store *st, rec_store_item_fn *ufn,
    rec_store_item_fn *bfn, void *arg);

/* A copy's writes (rec_store_ldap_import.c). */
int sldap_batch_put(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n);
int sldap_user_put(struct rec_store *st, const char *user,
    const struct rec_user *u, unsigned flags, rec_store_audit_fn *audit,
    void *arg);

#endif
