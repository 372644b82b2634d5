/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_issue.c: the directory's side of generate and invalidate: what they read, and their asserted Modifies. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

#define OC_USER "pamRecoveryUser"
#define OC_BATCH "pamRecoveryBatch"

/* ---- Reading ---------------------------------------------------------- */

int
rec_ldap_issue_read(struct rec_ldap *c, const char *user, uint64_t id,
    struct rec_ldap_issue *out)
{
	struct rec_code_rec *codes = NULL;
	LDAPMessage *res = NULL, *ue, *ae, *be;
	unsigned n, locks;
	int r = REC_ERR_INTERNAL;

	memset(out, 0, sizeof(*out));
	if (!c->write) {
		rec_logf(c->log, LOG_ERR, "directory %s: the reads that decide "
		    "a change go over the connection opened for writing",
		    c->uri);
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_ldap_user_entries(c, user, &res, &ue)) ==
	    REC_ERR_NOTFOUND) {
		r = REC_OK;	/* no user entry: the zero state */
		goto out;
	}
	if (r != REC_OK)
		goto out;
	if (ue == NULL)
		goto out;	/* r is REC_OK: as no entry */
	out->have_user = 1;
	if ((r = rec_ldap_parse_user(c->ld, ue, &out->user, &locks)) != REC_OK)
		goto bad;
	out->have_gen = (locks & REC_LOCK_GEN) != 0;
	out->have_active = rec_ldap_has_attr(c, ue, "pamRecoveryActiveBatch");
	ae = rec_ldap_batch_entry(c, res, out->user.active_batch);
	be = rec_ldap_batch_entry(c, res, id);
	if (ae != NULL) {
		r = rec_ldap_parse_batch(c->ld, ae, &out->old);
		if (r == REC_OK)
			r = rec_ldap_parse_codes(c->ld, ae, &out->old,
			    out->old_codes, &out->nold);
		if (r != REC_OK)
			goto bad;
		out->have_old = 1;
	}
	if (be != NULL) {
		if ((codes = calloc(REC_COUNT_MAX, sizeof(*codes))) == NULL) {
			r = REC_ERR_NOMEM;
			goto out;
		}
		if ((r = rec_ldap_parse_batch(c->ld, be, &out->batch)) !=
		    REC_OK ||
		    (r = rec_ldap_parse_codes(c->ld, be, &out->batch, codes,
		    &n)) != REC_OK)
			goto bad;
		out->have_exported = rec_ldap_has_attr(c, be,
		    "pamRecoveryExported");
		out->have_batch = 1;
	}
	r = REC_OK;
	goto out;
bad:
	rec_logf(c->log, LOG_ERR, "directory %s: the recovery entries of user "
	    "%s do not parse", c->uri, user);
	r = REC_ERR_CORRUPT;
out:
	ldap_msgfree(res);
	if (codes != NULL) {
		sodium_memzero(codes, REC_COUNT_MAX * sizeof(*codes));
		free(codes);
	}
	if (r != REC_OK)
		sodium_memzero(out, sizeof(*out));
	return r;
}

/* ---- Writing ---------------------------------------------------------- */

int
rec_ldap_batch_change(struct rec_ldap *c, const char *user,
    const struct rec_ldap_batch_change *ch)
{
	char dn[REC_DN_MAX], val[REC_LDAP_VAL_MAX], word[REC_FIELD_MAX];
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if (ch->ninval > REC_COUNT_MAX || (ch->ninval > 0 && (ch->b == NULL ||
	    ch->what == NULL || ch->what[0] == '\0'))) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_ldap_batch_dn(c, user, ch->id, dn)) != REC_OK)
		goto out;
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	if (ch->from != 0) {
		rec_ldap_mods_u64(m, LDAP_MOD_DELETE, "pamRecoveryBatchStatus",
		    ch->from);
		rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryBatchStatus",
		    ch->to);
	}
	if (ch->exported) {
		if (ch->have_exported)
			rec_ldap_mods_u64(m, LDAP_MOD_DELETE,
			    "pamRecoveryExported", ch->old_exported);
		rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryExported",
		    ch->new_exported);
	}
	if (ch->ninval > 0) {
		rec_ldap_printable(ch->what, word, sizeof(word));
		rec_ldap_mods_attr(m, LDAP_MOD_DELETE, "pamRecoveryCode");
		for (unsigned i = 0; i < ch->ninval; i++) {
			if (ch->inval[i].state != REC_CODE_UNUSED) {
				r = REC_ERR_USAGE;
				goto out;
			}
			if ((r = rec_ldap_code_encode(ch->b, &ch->inval[i], val,
			    sizeof(val))) != REC_OK)
				goto out;
			rec_ldap_mods_str(m, val);
		}
		rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryInvalidCode");
		for (unsigned i = 0; i < ch->ninval; i++) {
			if ((r = rec_ldap_mark_encode(ch->b, &ch->inval[i],
			    ch->now, word, val, sizeof(val))) != REC_OK)
				goto out;
			rec_ldap_mods_str(m, val);
		}
	}
	if (rec_ldap_mods_count(m) == 0) {
		r = REC_OK;
		goto out;
	}
	r = rec_ldap_send(c, REC_LDAP_MODIFY, dn, rec_ldap_mods_list(m),
	    &lrc);
	r = rec_ldap_judge(c, r, lrc, "batch change", dn);
out:
	sodium_memzero(val, sizeof(val));
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_user_switch(struct rec_ldap *c, const char *user,
    const struct rec_ldap_switch *sw)
{
	char dn[REC_DN_MAX], v[REC_LDAP_VAL_MAX];
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if ((r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		goto out;
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	/*
	 * Each old value goes and the new one comes in this one Modify:
	 * when another host changed either since it was read, the delete
	 * finds no such value (or, where there was none, the single-valued
	 * add finds one) and nothing is applied.
	 */
	if (sw->gen) {
		if (sw->have_gen) {
			if ((r = rec_ldap_lock_encode(&sw->old_gen, v,
			    sizeof(v))) != REC_OK)
				goto out;
			rec_ldap_mods_attr(m, LDAP_MOD_DELETE,
			    "pamRecoveryGenLock");
			rec_ldap_mods_str(m, v);
		}
		if ((r = rec_ldap_lock_encode(&sw->new_gen, v, sizeof(v))) !=
		    REC_OK)
			goto out;
		rec_ldap_mods_attr(m, LDAP_MOD_ADD, "pamRecoveryGenLock");
		rec_ldap_mods_str(m, v);
	}
	if (sw->have_active)
		rec_ldap_mods_u64(m, LDAP_MOD_DELETE, "pamRecoveryActiveBatch",
		    sw->old_active);
	if (sw->new_active != 0)
		rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryActiveBatch",
		    sw->new_active);
	if (sw->last_generated != 0)
		rec_ldap_mods_u64(m, LDAP_MOD_REPLACE,
		    "pamRecoveryLastGenerated", sw->last_generated);
	if (rec_ldap_mods_count(m) == 0) {
		r = REC_OK;
		goto out;
	}
	r = rec_ldap_send(c, REC_LDAP_MODIFY, dn, rec_ldap_mods_list(m),
	    &lrc);
	if ((r = rec_ldap_judge(c, r, lrc, "user switch",
	    dn)) == REC_ERR_NOTFOUND)
		r = REC_ERR_NOSTORE;
out:
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_batch_delete(struct rec_ldap *c, const char *user, uint64_t id)
{
	char dn[REC_DN_MAX];
	int r, lrc;

	if ((r = rec_ldap_batch_dn(c, user, id, dn)) != REC_OK)
		return r;
	r = rec_ldap_send(c, REC_LDAP_DELETE, dn, NULL, &lrc);
	return rec_ldap_judge(c, r, lrc, "delete batch", dn);
}
