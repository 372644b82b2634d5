/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_import.c: the directory's side of a copy from another store: a batch entry as given, a bare user's record. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

/* What a user's entry holds when a copy's batch made it, and nothing since. */
#define BARE_LOCK "0 0 0 0 0"

/* user's entry as a generation would make it, unless it exists. */
static int
imp_bare_user(struct rec_ldap *c, const char *user, const char *dn)
{
	struct rec_ldap_mods *m;
	int r, lrc;

	if ((m = rec_ldap_mods_new()) == NULL)
		return REC_ERR_NOMEM;
	rec_ldap_mods_one(m, LDAP_MOD_ADD, "objectClass", "pamRecoveryUser");
	rec_ldap_mods_one(m, LDAP_MOD_ADD, "uid", user);
	rec_ldap_mods_one(m, LDAP_MOD_ADD, "pamRecoveryLock", BARE_LOCK);
	r = rec_ldap_send(c, REC_LDAP_ADD, dn, rec_ldap_mods_list(m), &lrc);
	if (r != REC_OK && lrc == LDAP_ALREADY_EXISTS)
		r = REC_OK;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "add", dn);
	rec_ldap_mods_free(m);
	return r;
}

int
rec_ldap_put_batch(struct rec_ldap *c, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *codes, unsigned n,
    const char *host)
{
	static const char *const attr[] = {
		[REC_CODE_UNUSED] = "pamRecoveryCode",
		[REC_CODE_USED] = "pamRecoveryUsedCode",
		[REC_CODE_INVALID] = "pamRecoveryInvalidCode",
	};
	char udn[REC_DN_MAX], dn[REC_DN_MAX], val[REC_LDAP_VAL_MAX];
	char who[REC_FIELD_MAX];
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if (b->id == 0 || b->count == 0 || b->count > REC_COUNT_MAX ||
	    b->status < REC_BATCH_ACTIVE || b->status > REC_BATCH_STAGED ||
	    rec_batch_check_codes(b, codes, n) != REC_OK) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = rec_ldap_user_dn(c, user, udn)) != REC_OK ||
	    (r = rec_ldap_batch_dn(c, user, b->id, dn)) != REC_OK)
		goto out;
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	rec_ldap_mods_batch(m, b);
	/*
	 * Each state's values as one attribute.  A used code is marked with
	 * the host that copies it (a local store is used on its own host
	 * alone); an invalidated one with "migrated", since a local store
	 * does not keep who invalidated it.
	 */
	for (unsigned s = REC_CODE_UNUSED; s <= REC_CODE_INVALID; s++) {
		int any = 0;

		for (unsigned i = 0; i < n; i++) {
			if (codes[i].state != s)
				continue;
			if (!any)
				rec_ldap_mods_attr(m, LDAP_MOD_ADD, attr[s]);
			any = 1;
			if (s == REC_CODE_UNUSED)
				r = rec_ldap_code_encode(b, &codes[i], val,
				    sizeof(val));
			else {
				rec_ldap_printable(s == REC_CODE_USED ? host :
				    "migrated", who, sizeof(who));
				r = rec_ldap_mark_encode(b, &codes[i],
				    codes[i].changed, who[0] != '\0' ? who :
				    "?", val, sizeof(val));
			}
			if (r != REC_OK)
				goto out;
			rec_ldap_mods_str(m, val);
		}
	}
	if ((r = imp_bare_user(c, user, udn)) != REC_OK)
		goto out;
	if ((r = rec_ldap_send(c, REC_LDAP_ADD, dn, rec_ldap_mods_list(m),
	    &lrc)) != REC_OK && lrc != LDAP_ALREADY_EXISTS)
		r = rec_ldap_failed(c, r, lrc, "add", dn);
out:
	sodium_memzero(val, sizeof(val));
	rec_ldap_mods_free(m);
	return r;
}

/*
 * Whether the entry e (read with the attributes of put_user) holds
 * anything beyond what imp_bare_user writes.
 */
static int
imp_has_state(LDAP *ld, LDAPMessage *e)
{
	static const char *const state[] = { "pamRecoveryActiveBatch",
	    "pamRecoveryGenLock", "pamRecoveryLastUsed",
	    "pamRecoveryLastGenerated" };
	struct berval **v;
	int yes = 0;

	for (unsigned i = 0; i < sizeof(state) / sizeof(state[0]); i++) {
		v = ldap_get_values_len(ld, e, state[i]);
		if (v != NULL && v[0] != NULL)
			yes = 1;
		ldap_value_free_len(v);
	}
	v = ldap_get_values_len(ld, e, "pamRecoveryLock");
	if (v == NULL || v[0] == NULL || v[1] != NULL ||
	    v[0]->bv_len != strlen(BARE_LOCK) ||
	    memcmp(v[0]->bv_val, BARE_LOCK, v[0]->bv_len) != 0)
		yes = 1;
	ldap_value_free_len(v);
	return yes;
}

int
rec_ldap_put_user(struct rec_ldap *c, const char *user,
    const struct rec_user *u, int dry)
{
	char *attrs[] = { "pamRecoveryActiveBatch", "pamRecoveryLock",
	    "pamRecoveryGenLock", "pamRecoveryLastUsed",
	    "pamRecoveryLastGenerated", NULL };
	char *none[] = { "1.1", NULL };
	char udn[REC_DN_MAX], dn[REC_DN_MAX], lock[REC_LDAP_VAL_MAX];
	char gen[REC_LDAP_VAL_MAX];
	LDAPMessage *res = NULL, *e;
	struct rec_ldap_mods *m = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	if ((r = rec_ldap_user_dn(c, user, udn)) != REC_OK)
		goto out;
	if (!c->write) {
		rec_logf(c->log, LOG_ERR, "directory %s: a user's record is "
		    "written over a connection opened for writing", c->uri);
		r = REC_ERR_USAGE;
		goto out;
	}
	r = rec_ldap_read_entry(c, udn, attrs, &res, &e);
	if (r == REC_OK && e != NULL && imp_has_state(c->ld, e))
		r = REC_ERR_EXISTS;
	if (r != REC_OK || dry)
		goto out;
	ldap_msgfree(res);
	res = NULL;
	if (u->active_batch != 0) {
		if ((r = rec_ldap_batch_dn(c, user, u->active_batch,
		    dn)) != REC_OK)
			goto out;
		if ((r = rec_ldap_read_entry(c, dn, none, &res, &e)) ==
		    REC_OK && e == NULL)
			r = REC_ERR_CORRUPT;
		if (r != REC_OK)
			goto out;
	}
	if ((r = imp_bare_user(c, user, udn)) != REC_OK ||
	    (r = rec_ldap_lock_encode(&u->lock, lock, sizeof(lock))) !=
	    REC_OK ||
	    (r = rec_ldap_lock_encode(&u->gen, gen, sizeof(gen))) != REC_OK)
		goto out;
	if ((m = rec_ldap_mods_new()) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	/*
	 * One Modify that holds only on a bare entry: the lockout value
	 * goes only when it is still the one a bare entry has, and each
	 * other attribute is single-valued, so adding one that is there
	 * already is refused.  Whatever wrote to the entry since it was
	 * read (a generation, a login) makes the whole Modify fail, and the
	 * record that was there stays.
	 */
	rec_ldap_mods_one(m, LDAP_MOD_DELETE, "pamRecoveryLock", BARE_LOCK);
	rec_ldap_mods_one(m, LDAP_MOD_ADD, "pamRecoveryLock", lock);
	rec_ldap_mods_one(m, LDAP_MOD_ADD, "pamRecoveryGenLock", gen);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryActiveBatch",
	    u->active_batch);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryLastUsed", u->last_used);
	rec_ldap_mods_u64(m, LDAP_MOD_ADD, "pamRecoveryLastGenerated",
	    u->last_generated);
	r = rec_ldap_send(c, REC_LDAP_MODIFY, udn, rec_ldap_mods_list(m), &lrc);
	if (r != REC_OK && (lrc == LDAP_NO_SUCH_ATTRIBUTE ||
	    lrc == LDAP_TYPE_OR_VALUE_EXISTS ||
	    lrc == LDAP_CONSTRAINT_VIOLATION))
		r = REC_ERR_EXISTS;
	else if (r != REC_OK)
		r = rec_ldap_failed(c, r, lrc, "modify", udn);
out:
	ldap_msgfree(res);
	rec_ldap_mods_free(m);
	return r;
}
