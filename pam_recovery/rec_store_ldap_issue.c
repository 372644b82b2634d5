/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap_issue.c: the directory backend: generate and invalidate. */
#include "rec_err.h"
#include "rec_store_ldap_int.h"

/* TODO(#13): not written yet. */
int
sldap_batch_stage(struct rec_store *st, const char *user, const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n, rec_store_gen_fn *fn, void *arg)
{
	(void)user;
	(void)b;
	(void)recs;
	(void)n;
	(void)fn;
	(void)arg;
	rec_logf(st->log, LOG_ERR, "directory store: batch_stage: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_batch_activate(struct rec_store *st, const char *user, const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn, void *arg, rec_store_audit_fn *audit, void *aarg)
{
	(void)user;
	(void)b;
	(void)now;
	(void)fn;
	(void)arg;
	(void)audit;
	(void)aarg;
	rec_logf(st->log, LOG_ERR, "directory store: batch_activate: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_batch_discard(struct rec_store *st, const char *user, uint64_t id)
{
	(void)user;
	(void)id;
	rec_logf(st->log, LOG_ERR, "directory store: batch_discard: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_code_invalidate(struct rec_store *st, const char *user, const unsigned *slots, unsigned nslots, uint64_t now, rec_store_audit_fn *audit, void *arg)
{
	(void)user;
	(void)slots;
	(void)nslots;
	(void)now;
	(void)audit;
	(void)arg;
	rec_logf(st->log, LOG_ERR, "directory store: code_invalidate: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_batch_export_mark(struct rec_store *st, const char *user, uint64_t id, uint32_t how, uint64_t now)
{
	(void)user;
	(void)id;
	(void)how;
	(void)now;
	rec_logf(st->log, LOG_ERR, "directory store: batch_export_mark: not supported yet");
	return REC_ERR_USAGE;
}
