/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_prune.c: the directory's deletions for the administrator: purge's jobs, old events, forget. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

#define ROUNDS_MAX 8		/* a purge Modify that lost a race, again */
#define OC_EVENT "pamRecoveryEvent"

/* The slot a code value starts with, 0 when it does not parse. */
static unsigned
slot_of(const struct berval *v)
{
	char buf[8];
	const char *end;
	uint64_t s;
	size_t len = v->bv_len < sizeof(buf) - 1 ? v->bv_len : sizeof(buf) - 1;

	memcpy(buf, v->bv_val, len);
	buf[len] = '\0';
	if (rec_ldap_parse_num(buf, REC_COUNT_MAX, &s, &end) != REC_OK ||
	    *end != ' ')
		return 0;
	return (unsigned)s;
}

int
rec_ldap_purge_codes(struct rec_ldap *c, const char *user, uint64_t id,
    const unsigned *slots, unsigned nslots)
{
	char *attrs[REC_LDAP_CODE_ATTRS + 1];
	char dn[REC_DN_MAX];
	struct berval **vals[REC_LDAP_CODE_ATTRS] = { NULL };
	struct berval *del[REC_LDAP_CODE_ATTRS][REC_COUNT_MAX + 1];
	LDAPMod mod[REC_LDAP_CODE_ATTRS], *mods[REC_LDAP_CODE_ATTRS + 1];
	LDAPMessage *res = NULL, *e;
	unsigned nmod, nd;
	int r = REC_ERR_INTERNAL, lrc;

	for (unsigned k = 0; k < REC_LDAP_CODE_ATTRS; k++)
		attrs[k] = (char *)rec_ldap_code_attrs[k].attr;
	attrs[REC_LDAP_CODE_ATTRS] = NULL;
	if ((r = rec_ldap_need_write(c, "purge")) != REC_OK ||
	    (r = rec_ldap_batch_dn(c, user, id, dn)) != REC_OK)
		return r;
	/*
	 * Each round reads the values over the writer and deletes exactly
	 * those: a code that changed in between (consumed, invalidated)
	 * makes the Modify fail whole, and the next round reads it again.
	 */
	for (unsigned round = 0; round < ROUNDS_MAX; round++) {
		if ((r = rec_ldap_read_entry(c, dn, attrs, &res, &e)) != REC_OK)
			goto out;
		if (e == NULL)
			goto out;	/* gone: nothing of it to purge */
		nmod = 0;
		for (unsigned k = 0; k < REC_LDAP_CODE_ATTRS; k++) {
			vals[k] = ldap_get_values_len(c->ld, e,
			    rec_ldap_code_attrs[k].attr);
			nd = 0;
			for (unsigned i = 0; vals[k] != NULL &&
			    vals[k][i] != NULL && nd < REC_COUNT_MAX; i++)
				for (unsigned j = 0; j < nslots; j++)
					if (slots[j] == slot_of(vals[k][i])) {
						del[k][nd++] = vals[k][i];
						break;
					}
			if (nd == 0)
				continue;
			del[k][nd] = NULL;
			mod[nmod].mod_op = LDAP_MOD_DELETE | LDAP_MOD_BVALUES;
			mod[nmod].mod_type = (char *)rec_ldap_code_attrs[k].attr;
			mod[nmod].mod_bvalues = del[k];
			mods[nmod] = &mod[nmod];
			nmod++;
		}
		mods[nmod] = NULL;
		r = nmod == 0 ? REC_OK : rec_ldap_send(c, REC_LDAP_MODIFY, dn,
		    mods, &lrc);
		for (unsigned k = 0; k < REC_LDAP_CODE_ATTRS; k++) {
			ldap_value_free_len(vals[k]);
			vals[k] = NULL;
		}
		ldap_msgfree(res);
		res = NULL;
		if (r == REC_OK || (lrc != LDAP_NO_SUCH_ATTRIBUTE &&
		    lrc != LDAP_NO_SUCH_OBJECT)) {
			if (r != REC_OK)
				r = rec_ldap_failed(c, r, lrc, "purge codes",
				    dn);
			goto out;
		}
	}
	rec_logf(c->log, LOG_ERR, "directory %s: purge codes %s: still changing "
	    "after %d rounds", c->uri, dn, ROUNDS_MAX);
	r = REC_ERR_IO;
out:
	ldap_msgfree(res);
	return r;
}

int
rec_ldap_purge_mark(struct rec_ldap *c, const char *user, uint64_t id,
    uint64_t now)
{
	char *attrs[] = { "pamRecoveryBatchStatus", NULL };
	char dn[REC_DN_MAX], udn[REC_DN_MAX], was[24], st[4], ids[24], t[24];
	struct berval **v = NULL;
	struct berval bwas, bst, bid, bt;
	struct berval *vwas[] = { &bwas, NULL }, *vst[] = { &bst, NULL };
	struct berval *vid[] = { &bid, NULL }, *vt[] = { &bt, NULL };
	LDAPMod m[3], *mods[4];
	LDAPMessage *res = NULL, *e;
	int r = REC_ERR_INTERNAL, lrc;

	if ((r = rec_ldap_need_write(c, "purge")) != REC_OK ||
	    (r = rec_ldap_batch_dn(c, user, id, dn)) != REC_OK ||
	    (r = rec_ldap_user_dn(c, user, udn)) != REC_OK)
		return r;
	if ((r = rec_ldap_read_entry(c, dn, attrs, &res, &e)) != REC_OK)
		goto out;
	if (e == NULL) {
		r = REC_OK;	/* deleted meanwhile: nothing to mark */
		goto out;
	}
	v = ldap_get_values_len(c->ld, e, "pamRecoveryBatchStatus");
	if (v == NULL || v[0] == NULL || v[1] != NULL ||
	    v[0]->bv_len >= sizeof(was)) {
		r = rec_ldap_batch_bad(c, user, id);
		goto out;
	}
	memcpy(was, v[0]->bv_val, v[0]->bv_len);
	was[v[0]->bv_len] = '\0';
	snprintf(st, sizeof(st), "%d", REC_BATCH_PURGED);
	snprintf(t, sizeof(t), "%" PRIu64, now);
	bwas = (struct berval){ strlen(was), was };
	bst = (struct berval){ strlen(st), st };
	bt = (struct berval){ strlen(t), t };
	/*
	 * The status read goes and 3 comes in one Modify: a batch whose
	 * status changed since is left to the next run.  The batch stops
	 * being usable here (a consume asserts status 1), before the user's
	 * entry stops naming it.
	 */
	m[0] = (LDAPMod){ LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
	    "pamRecoveryBatchStatus", { .modv_bvals = vwas } };
	m[1] = (LDAPMod){ LDAP_MOD_ADD | LDAP_MOD_BVALUES,
	    "pamRecoveryBatchStatus", { .modv_bvals = vst } };
	m[2] = (LDAPMod){ LDAP_MOD_REPLACE | LDAP_MOD_BVALUES,
	    "pamRecoveryPurged", { .modv_bvals = vt } };
	mods[0] = &m[0];
	mods[1] = &m[1];
	mods[2] = &m[2];
	mods[3] = NULL;
	if ((r = rec_ldap_send(c, REC_LDAP_MODIFY, dn, mods, &lrc)) != REC_OK) {
		if (lrc == LDAP_NO_SUCH_ATTRIBUTE || lrc == LDAP_NO_SUCH_OBJECT) {
			rec_logf(c->log, LOG_NOTICE, "directory %s: purge: "
			    "batch %s changed meanwhile: left for the next run",
			    c->uri, dn);
			r = REC_OK;
		} else
			r = rec_ldap_failed(c, r, lrc, "purge mark", dn);
		goto out;
	}
	/* The user's entry stops naming it, if it did: the exact value. */
	snprintf(ids, sizeof(ids), "%" PRIu64, id);
	bid = (struct berval){ strlen(ids), ids };
	m[0] = (LDAPMod){ LDAP_MOD_DELETE | LDAP_MOD_BVALUES,
	    "pamRecoveryActiveBatch", { .modv_bvals = vid } };
	mods[0] = &m[0];
	mods[1] = NULL;
	r = rec_ldap_send(c, REC_LDAP_MODIFY, udn, mods, &lrc);
	if (r != REC_OK && (lrc == LDAP_NO_SUCH_ATTRIBUTE ||
	    lrc == LDAP_NO_SUCH_OBJECT))
		r = REC_OK;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "purge mark", udn);
out:
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return r;
}

int
rec_ldap_purge_delete(struct rec_ldap *c, const char *user, uint64_t id)
{
	char *attrs[] = { "pamRecoveryBatchStatus", NULL };
	char dn[REC_DN_MAX];
	LDAPMessage *res = NULL, *e;
	uint64_t st;
	int r, lrc;

	if ((r = rec_ldap_need_write(c, "purge")) != REC_OK ||
	    (r = rec_ldap_batch_dn(c, user, id, dn)) != REC_OK)
		return r;
	/* Only a batch purge marked: one read back over the writer. */
	if ((r = rec_ldap_read_entry(c, dn, attrs, &res, &e)) != REC_OK ||
	    e == NULL)
		goto out;
	if ((r = rec_ldap_get_u64(c->ld, e, "pamRecoveryBatchStatus", 1,
	    UINT64_MAX, &st)) != REC_OK || st != REC_BATCH_PURGED) {
		r = r != REC_OK ? rec_ldap_batch_bad(c, user, id) : REC_OK;
		goto out;
	}
	r = rec_ldap_send(c, REC_LDAP_DELETE, dn, NULL, &lrc);
	if (r != REC_OK && lrc == LDAP_NO_SUCH_OBJECT)
		r = REC_OK;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "purge delete", dn);
out:
	ldap_msgfree(res);
	return r;
}

/* ---- Old events ------------------------------------------------------- */

struct old_events {
	int dry;
	unsigned max;
	uint64_t n;
	char **dns;
	int more;
};

static int
old_page(struct rec_ldap *c, LDAPMessage **res, void *arg)
{
	struct old_events *o = arg;
	LDAPMessage *e;

	for (e = ldap_first_entry(c->ld, *res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		if (o->dry) {
			o->n++;
			continue;
		}
		if (o->n == o->max) {
			o->more = 1;
			return REC_STOP;
		}
		if ((o->dns[o->n] = ldap_get_dn(c->ld, e)) == NULL)
			return REC_ERR_NOMEM;
		o->n++;
	}
	return REC_OK;
}

int
rec_ldap_events_purge(struct rec_ldap *c, uint64_t cutoff, unsigned max,
    int dry, unsigned *n, int *more)
{
	char filter[96], *none[] = { LDAP_NO_ATTRS, NULL };
	struct old_events o = { dry, max, 0, NULL, 0 };
	unsigned done = 0;
	int r = REC_ERR_INTERNAL, lrc;

	*n = 0;
	*more = 0;
	if (max == 0)
		return REC_ERR_USAGE;
	if (cutoff == 0)
		return REC_OK;	/* nothing is older than the epoch */
	if (!dry && (r = rec_ldap_need_write(c, "audit purge")) != REC_OK)
		return r;
	if (!dry && (o.dns = calloc(max, sizeof(*o.dns))) == NULL)
		return REC_ERR_NOMEM;
	snprintf(filter, sizeof(filter), "(&(objectClass=" OC_EVENT ")"
	    "(pamRecoveryEventTime<=%" PRIu64 "))", cutoff - 1);
	r = rec_ldap_paged(c, c->cfg.ldap_base, LDAP_SCOPE_SUBTREE, filter, none,
	    old_page, &o);
	if (r == REC_ERR_NOTFOUND || r == REC_STOP)
		r = REC_OK;
	if (r != REC_OK)
		goto out;
	if (dry) {
		/* A count changes nothing: all of it in one step. */
		*n = o.n > ~0u ? ~0u : (unsigned)o.n;
		goto out;
	}
	for (size_t i = 0; i < o.n; i++) {
		r = rec_ldap_send(c, REC_LDAP_DELETE, o.dns[i], NULL, &lrc);
		if (r == REC_OK)
			done++;
		else if (lrc != LDAP_NO_SUCH_OBJECT) {
			r = rec_ldap_failed(c, r, lrc, "audit purge",
			    o.dns[i]);
			goto out;
		}
	}
	r = REC_OK;
	*more = o.more;
out:
	if (!dry)
		*n = done;
	for (size_t i = 0; o.dns != NULL && i < o.n; i++)
		ldap_memfree(o.dns[i]);
	free(o.dns);
	return r;
}

/* ---- Forget ----------------------------------------------------------- */

int
rec_ldap_forget(struct rec_ldap *c, const char *user, int dry,
    uint64_t *removed)
{
	char *attrs[] = { "objectClass", "pamRecoveryBatchId",
	    "pamRecoveryBatchStatus", "pamRecoveryActiveBatch",
	    "pamRecoveryLock", "pamRecoveryGenLock", "pamRecoveryLastUsed",
	    "pamRecoveryLastGenerated", "pamRecoveryCode",
	    "pamRecoveryUsedCode", "pamRecoveryInvalidCode", NULL };
	char udn[REC_DN_MAX], dn[REC_DN_MAX], two[4];
	struct berval btwo = { 0, two }, *vtwo[] = { &btwo, NULL };
	struct rec_ldap_ents *ue = NULL;
	LDAPMod m[6], *mods[7];
	uint64_t active = 0, st;
	struct berval **v;
	int r = REC_ERR_INTERNAL, lrc, holder = 1;

	*removed = 0;
	if ((!dry && (r = rec_ldap_need_write(c, "forget")) != REC_OK) ||
	    (r = rec_ldap_user_dn(c, user, udn)) != REC_OK ||
	    (r = rec_ldap_ents_read(c, user, attrs, &ue)) != REC_OK || ue == NULL)
		goto out;
	/* What goes, counted as the LMDB store counts its records. */
	for (size_t i = 0; i < ue->nb; i++) {
		for (unsigned k = 0; k < REC_LDAP_CODE_ATTRS; k++) {
			v = ldap_get_values_len(c->ld, ue->b[i].e,
			    rec_ldap_code_attrs[k].attr);
			*removed += (uint64_t)ldap_count_values_len(v);
			ldap_value_free_len(v);
		}
		(*removed)++;
	}
	if (ue->user != NULL) {
		holder = rec_ldap_is_holder(c, ue->user);
		if (!holder)
			(*removed)++;
		if ((r = rec_ldap_get_u64(c->ld, ue->user,
		    "pamRecoveryActiveBatch", 1, UINT64_MAX, &active)) !=
		    REC_OK)
			goto out;
	}
	if (dry || *removed == 0) {
		r = REC_OK;
		goto out;
	}
	/*
	 * In the order that fails closed when it stops half-way: first the
	 * active batch stops being usable (a consume asserts status 1, on
	 * the provider, whatever a replica still shows), then the user's
	 * entry loses its active batch and lockout state (a holder of the
	 * events below it), then the batches go.
	 */
	snprintf(two, sizeof(two), "%d", REC_BATCH_INVALIDATED);
	btwo.bv_len = strlen(two);
	for (size_t i = 0; i < ue->nb && active != 0; i++) {
		if (ue->b[i].id != active || rec_ldap_get_u64(c->ld,
		    ue->b[i].e, "pamRecoveryBatchStatus", 1, UINT64_MAX,
		    &st) != REC_OK ||
		    st != REC_BATCH_ACTIVE)
			continue;
		if ((r = rec_ldap_batch_dn(c, user, active, dn)) != REC_OK)
			goto out;
		m[0] = (LDAPMod){ LDAP_MOD_REPLACE | LDAP_MOD_BVALUES,
		    "pamRecoveryBatchStatus", { .modv_bvals = vtwo } };
		mods[0] = &m[0];
		mods[1] = NULL;
		if ((r = rec_ldap_send(c, REC_LDAP_MODIFY, dn, mods,
		    &lrc)) != REC_OK && lrc != LDAP_NO_SUCH_OBJECT) {
			r = rec_ldap_failed(c, r, lrc, "forget", dn);
			goto out;
		}
	}
	if (ue->user != NULL && !holder) {
		/* A replace without values removes what is there, if any. */
		for (unsigned i = 0; rec_ldap_user_state[i] != NULL; i++) {
			m[i] = (LDAPMod){ LDAP_MOD_REPLACE | LDAP_MOD_BVALUES,
			    rec_ldap_user_state[i], { .modv_bvals = NULL } };
			mods[i] = &m[i];
			mods[i + 1] = NULL;
		}
		if ((r = rec_ldap_send(c, REC_LDAP_MODIFY, udn, mods,
		    &lrc)) != REC_OK && lrc != LDAP_NO_SUCH_OBJECT) {
			r = rec_ldap_failed(c, r, lrc, "forget", udn);
			goto out;
		}
	}
	for (size_t i = 0; i < ue->nb; i++) {
		if ((r = rec_ldap_batch_dn(c, user, ue->b[i].id, dn)) != REC_OK)
			goto out;
		if ((r = rec_ldap_send(c, REC_LDAP_DELETE, dn, NULL,
		    &lrc)) != REC_OK && lrc != LDAP_NO_SUCH_OBJECT) {
			r = rec_ldap_failed(c, r, lrc, "forget", dn);
			goto out;
		}
	}
	r = REC_OK;
out:
	if (ue != NULL)
		rec_ldap_ents_free(ue);
	if (r != REC_OK)
		*removed = 0;
	return r;
}

int
rec_ldap_holder_drop(struct rec_ldap *c, const char *user)
{
	char dn[REC_DN_MAX];
	LDAPMessage *res = NULL, *e;
	int r, lrc;

	if ((r = rec_ldap_need_write(c, "forget")) != REC_OK ||
	    (r = rec_ldap_user_dn(c, user, dn)) != REC_OK)
		return r;
	if ((r = rec_ldap_read_entry(c, dn, (char **)rec_ldap_user_state,
	    &res, &e)) != REC_OK || e == NULL)
		goto out;
	if (!rec_ldap_is_holder(c, e))
		goto out;	/* in use again (a generate meanwhile) */
	r = rec_ldap_send(c, REC_LDAP_DELETE, dn, NULL, &lrc);
	if (r != REC_OK && (lrc == LDAP_NOT_ALLOWED_ON_NONLEAF ||
	    lrc == LDAP_NO_SUCH_OBJECT))
		r = REC_OK;	/* events are below it, or it is gone */
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "forget", dn);
out:
	ldap_msgfree(res);
	return r;
}
