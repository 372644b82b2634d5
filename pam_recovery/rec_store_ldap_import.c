/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap_import.c: the directory backend's side of a copy: a batch as given, then the user's record. */
#include <string.h>

#include "rec_err.h"
#include "rec_store_ldap_int.h"

#define IMPORT_EVENTS 4		/* events a copy's audit may give */

int
sldap_batch_put(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap *c;
	int r;

	if ((r = rec_sldap_writer(s, "batch put", &c)) != REC_OK)
		return r;
	return rec_ldap_put_batch(c, user, b, recs, n, s->cfg.host_name);
}

/*
 * The record first, then its events: the directory has no transaction
 * over two entries.  An event that cannot be written after the record
 * was is an error the caller reports; the record stays, as a login's
 * use stays when its event is lost.
 */
int
sldap_user_put(struct rec_store *st, const char *user,
    const struct rec_user *u, unsigned flags, rec_store_audit_fn *audit,
    void *arg)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_event ev[IMPORT_EVENTS];
	struct rec_store_done d;
	struct rec_ldap *c;
	unsigned n = 0;
	int r;

	if ((r = rec_sldap_writer(s, "user put", &c)) != REC_OK)
		return r;
	if ((r = rec_ldap_put_user(c, user, u, (flags & REC_WRITE_DRY) !=
	    0)) != REC_OK || (flags & REC_WRITE_DRY) || audit == NULL)
		return r;
	memset(&d, 0, sizeof(d));
	d.batch = u->active_batch;
	if ((r = audit(&d, ev, IMPORT_EVENTS, &n, arg)) != REC_OK)
		return r;
	return sldap_event_append(st, ev, n);
}
