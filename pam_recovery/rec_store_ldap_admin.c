/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap_admin.c: the directory backend: the administrator's walks and deletions. */
#include "rec_err.h"
#include "rec_store_ldap_int.h"

/* TODO(#13): not written yet. */
int
sldap_user_each(struct rec_store *st, rec_user_fn *fn, void *arg)
{
	(void)fn;
	(void)arg;
	rec_logf(st->log, LOG_ERR, "directory store: user_each: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_batch_each(struct rec_store *st, const char *user, rec_batch_fn *fn, void *arg)
{
	(void)user;
	(void)fn;
	(void)arg;
	rec_logf(st->log, LOG_ERR, "directory store: batch_each: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_event_each(struct rec_store *st, const char *user, uint64_t from, rec_event_fn *fn, void *arg)
{
	(void)user;
	(void)from;
	(void)fn;
	(void)arg;
	rec_logf(st->log, LOG_ERR, "directory store: event_each: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_user_forget(struct rec_store *st, const char *user, unsigned flags, rec_store_audit_fn *audit, void *arg, uint64_t *removed)
{
	(void)user;
	(void)flags;
	(void)audit;
	(void)arg;
	(void)removed;
	rec_logf(st->log, LOG_ERR, "directory store: user_forget: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_event_purge(struct rec_store *st, uint64_t after, uint64_t cutoff, unsigned max, unsigned flags, unsigned *n, uint64_t *next, int *more)
{
	(void)after;
	(void)cutoff;
	(void)max;
	(void)flags;
	(void)n;
	(void)next;
	(void)more;
	rec_logf(st->log, LOG_ERR, "directory store: event_purge: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_purge_step(struct rec_store *st, const struct rec_purge_walk *w, unsigned flags)
{
	(void)w;
	(void)flags;
	rec_logf(st->log, LOG_ERR, "directory store: purge_step: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_records_each(struct rec_store *st, rec_store_item_fn *ufn, rec_store_item_fn *bfn, void *arg)
{
	(void)ufn;
	(void)bfn;
	(void)arg;
	rec_logf(st->log, LOG_ERR, "directory store: records_each: not supported yet");
	return REC_ERR_USAGE;
}
