/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap.c: the directory backend: its handle, and what a login does. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_store_ldap_int.h"

static const struct rec_store_ops sldap_ops;

int
rec_store_open_ldap(const struct rec_config *cfg, unsigned flags,
    const struct rec_log *log, struct rec_store **out)
{
	struct rec_store_ldap *s;
	int r;

	*out = NULL;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return REC_ERR_NOMEM;
	s->base.ops = &sldap_ops;
	s->base.log = log;
	s->cfg = *cfg;
	if (flags & REC_STORE_RDONLY)
		r = rec_ldap_open(cfg, 0, log, &s->rd);
	else if (cfg->ldap_write_uri[0] == '\0') {
		r = rec_ldap_open(cfg, 1, log, &s->wr);
		s->rd = s->wr;
	} else if ((r = rec_ldap_open(cfg, 0, log, &s->rd)) == REC_OK)
		r = rec_ldap_open(cfg, 1, log, &s->wr);
	if (r != REC_OK) {
		sldap_close(&s->base);
		return r;
	}
	*out = &s->base;
	return REC_OK;
}

void
sldap_close(struct rec_store *st)
{
	struct rec_store_ldap *s = rec_sldap_of(st);

	if (s->wr != s->rd)
		rec_ldap_close(s->wr);
	rec_ldap_close(s->rd);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

int
sldap_writable(const struct rec_store *st)
{
	return ((const struct rec_store_ldap *)(const void *)st)->wr != NULL;
}

int
rec_sldap_writer(struct rec_store_ldap *s, const char *what,
    struct rec_ldap **c)
{
	if (s->wr == NULL) {
		rec_logf(s->base.log, LOG_ERR, "directory store: %s: opened "
		    "read only", what);
		return REC_ERR_USAGE;
	}
	*c = s->wr;
	return REC_OK;
}

/* TODO(#13): not written yet. */
int
sldap_view(struct rec_store *st, const char *user, unsigned flags, struct rec_view *v)
{
	(void)user;
	(void)flags;
	(void)v;
	rec_logf(st->log, LOG_ERR, "directory store: view: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_lock_update(struct rec_store *st, const char *user, unsigned which, unsigned flags, rec_store_lock_fn *fn, void *arg, rec_store_audit_fn *audit, struct rec_user *out)
{
	(void)user;
	(void)which;
	(void)flags;
	(void)fn;
	(void)arg;
	(void)audit;
	(void)out;
	rec_logf(st->log, LOG_ERR, "directory store: lock_update: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_code_mark(struct rec_store *st, const struct rec_code_mark *m, rec_store_audit_fn *audit, void *arg, int *outcome, unsigned *remaining)
{
	(void)m;
	(void)audit;
	(void)arg;
	(void)outcome;
	(void)remaining;
	rec_logf(st->log, LOG_ERR, "directory store: code_mark: not supported yet");
	return REC_ERR_USAGE;
}

/* TODO(#13): not written yet. */
int
sldap_event_append(struct rec_store *st, const struct rec_event *ev, unsigned n)
{
	(void)ev;
	(void)n;
	rec_logf(st->log, LOG_ERR, "directory store: event_append: not supported yet");
	return REC_ERR_USAGE;
}

static const struct rec_store_ops sldap_ops = {
	.name = "ldap",
	.close = sldap_close,
	.writable = sldap_writable,
	.view = sldap_view,
	.lock_update = sldap_lock_update,
	.code_mark = sldap_code_mark,
	.event_append = sldap_event_append,
	.batch_stage = sldap_batch_stage,
	.batch_activate = sldap_batch_activate,
	.batch_discard = sldap_batch_discard,
	.code_invalidate = sldap_code_invalidate,
	.batch_export_mark = sldap_batch_export_mark,
	.user_each = sldap_user_each,
	.batch_each = sldap_batch_each,
	.event_each = sldap_event_each,
	.user_forget = sldap_user_forget,
	.event_purge = sldap_event_purge,
	.purge_step = sldap_purge_step,
	.records_each = sldap_records_each,
	.copy = NULL,	/* slapcat makes the directory's backup */
	.probe = NULL,
	.batch_put = sldap_batch_put,
	.user_put = sldap_user_put,
};
