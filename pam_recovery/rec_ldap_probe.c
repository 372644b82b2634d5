/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_probe.c: what pam-recovery-admin check asks a directory, changing nothing. */
#include <stdio.h>
#include <string.h>

#include <ldap.h>
#include <ldap_schema.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"

#define OPT_OK LDAP_OPT_SUCCESS

_Static_assert(REC_LDAP_PROBE_DN == REC_DN_MAX, "one longest DN");
/*
 * conf/ldap/pam-recovery.schema as the client relies on it, made from
 * that file by scripts/schema-table.awk when building (so it is written
 * once): each attribute type with its OID and the equality rule that the
 * exact-value deletes of the atomic operations match with, each object
 * class with its OID.
 */
static const struct schema_def {
	const char *oid, *name, *equality;	/* equality NULL: a class */
} schema_defs[] = {
#define REC_LDAP_AT(oid, name, eq) { oid, name, eq },
#define REC_LDAP_OC(oid, name) { oid, name, NULL },
#include "rec_ldap_schema.h"
#undef REC_LDAP_AT
#undef REC_LDAP_OC
};
#define NDEFS (sizeof(schema_defs) / sizeof(schema_defs[0]))

/*
 * One search within the deadline, at most sizelimit entries (0: the
 * server's limit), attribute types only when attrsonly is set (a probe
 * asks whether an attribute can be read, never for its values).  *res
 * holds the entries for the caller to free; a search that ran into the
 * size limit is REC_OK with the entries it returned.  noSuchObject is
 * REC_ERR_NOTFOUND and insufficientAccess REC_ERR_PERM, not logged.
 */
static int
search(struct rec_ldap *c, const char *base, int scope, const char *filter,
    char **attrs, int attrsonly, int sizelimit, LDAPMessage **res)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	LDAPMessage *all = NULL, *m;
	int msgid, lrc, r = REC_ERR_INTERNAL;

	*res = NULL;
	if (c->broken)
		return REC_ERR_IO;
	if ((lrc = ldap_search_ext(c->ld, base, scope, filter, attrs,
	    attrsonly, NULL, NULL, &tv, sizelimit, &msgid)) != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s", c->uri,
		    base, ldap_err2string(lrc));
		return REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, "search", &all)) != REC_OK)
		goto out;
	for (m = ldap_first_message(c->ld, all); m != NULL &&
	    ldap_msgtype(m) != LDAP_RES_SEARCH_RESULT;
	    m = ldap_next_message(c->ld, m))
		;
	r = REC_ERR_IO;
	lrc = LDAP_OTHER;
	if (m == NULL || ldap_parse_result(c->ld, m, &lrc, NULL, NULL, NULL,
	    NULL, 0) != LDAP_SUCCESS)
		goto out;
	if (lrc != LDAP_SUCCESS && lrc != LDAP_SIZELIMIT_EXCEEDED) {
		/* "Authenticate first" is a refusal too (require authc). */
		r = lrc == LDAP_UNWILLING_TO_PERFORM ? REC_ERR_PERM :
		    rec_ldap_err(lrc);
		if (r != REC_ERR_NOTFOUND && r != REC_ERR_PERM)
			rec_logf(c->log, LOG_ERR, "directory %s: search %s: %s",
			    c->uri, base, ldap_err2string(lrc));
		goto out;
	}
	*res = all;
	all = NULL;
	r = REC_OK;
out:
	ldap_msgfree(all);
	return r;
}

/* The first value of attr of entry e into buf (len); "" when none. */
static void
first_value(LDAP *ld, LDAPMessage *e, const char *attr, char *buf,
    size_t len)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);

	buf[0] = '\0';
	if (v != NULL && v[0] != NULL && v[0]->bv_len < len &&
	    memchr(v[0]->bv_val, '\0', v[0]->bv_len) == NULL) {
		memcpy(buf, v[0]->bv_val, v[0]->bv_len);
		buf[v[0]->bv_len] = '\0';
	}
	ldap_value_free_len(v);
}

/* An attribute of the root DSE (operational ones must be named). */
static int
root_dse(struct rec_ldap *c, const char *attr, char *buf, size_t len)
{
	char *attrs[2] = { (char *)attr, NULL };
	LDAPMessage *res = NULL, *e;
	int r;

	buf[0] = '\0';
	if ((r = search(c, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, 0,
	    &res)) != REC_OK)
		return r;
	if ((e = ldap_first_entry(c->ld, res)) != NULL)
		first_value(c->ld, e, attr, buf, len);
	ldap_msgfree(res);
	return buf[0] != '\0' ? REC_OK : REC_ERR_NOTFOUND;
}

int
rec_ldap_probe_info(struct rec_ldap *c, struct rec_ldap_info *out)
{
	struct berval *authzid = NULL;
	LDAPMessage *res = NULL;
	char *s = NULL;
	int msgid, lrc, r;

	memset(out, 0, sizeof(*out));
	snprintf(out->uri, sizeof(out->uri), "%s", c->uri);
	out->tls = ldap_tls_inplace(c->ld);
	if (out->tls && ldap_get_option(c->ld, LDAP_OPT_X_TLS_VERSION, &s) ==
	    OPT_OK && s != NULL)
		snprintf(out->tls_version, sizeof(out->tls_version), "%s", s);
	ldap_memfree(s);
	s = NULL;
	if (out->tls && ldap_get_option(c->ld, LDAP_OPT_X_TLS_CIPHER, &s) ==
	    OPT_OK && s != NULL)
		snprintf(out->tls_cipher, sizeof(out->tls_cipher), "%s", s);
	ldap_memfree(s);
	if (c->broken)
		return REC_ERR_IO;
	/* Who am I? (RFC 4532): who the server took the bind for. */
	if ((lrc = ldap_whoami(c->ld, NULL, NULL, &msgid)) != LDAP_SUCCESS)
		return REC_OK;	/* not offered: the identity stays unknown */
	if ((r = rec_ldap_wait(c, msgid, "who am I", &res)) != REC_OK)
		return r;
	if (ldap_parse_whoami(c->ld, res, &authzid) == LDAP_SUCCESS &&
	    authzid != NULL) {
		snprintf(out->authzid, sizeof(out->authzid), "%.*s",
		    (int)authzid->bv_len, authzid->bv_val);
		if (out->authzid[0] == '\0')
			snprintf(out->authzid, sizeof(out->authzid),
			    "anonymous");
	}
	ber_bvfree(authzid);
	ldap_msgfree(res);
	return REC_OK;
}

int
rec_ldap_probe_cert(const struct rec_config *cfg, const char *uri,
    const struct rec_log *log)
{
	struct timeval tv = { .tv_sec = (time_t)cfg->ldap_timeout };
	int v3 = LDAP_VERSION3, never = LDAP_OPT_X_TLS_NEVER, zero = 0;
	int ldaps = strncmp(uri, "ldaps://", 8) == 0, r = REC_ERR_IO;
	LDAP *ld = NULL;

	(void)log;
	if (!ldaps && (strncmp(uri, "ldap://", 7) != 0 || !cfg->ldap_starttls))
		return REC_ERR_USAGE;	/* no TLS to diagnose */
	if (ldap_initialize(&ld, uri) != LDAP_SUCCESS)
		return REC_ERR_CONFIG;
	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &never) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != OPT_OK) {
		r = REC_ERR_INTERNAL;
		goto out;
	}
	if (ldaps ? ldap_connect(ld) == LDAP_SUCCESS :
	    ldap_start_tls_s(ld, NULL, NULL) == LDAP_SUCCESS)
		r = ldap_tls_inplace(ld) ? REC_OK : REC_ERR_IO;
out:
	if (ld != NULL)
		(void)ldap_unbind_ext_s(ld, NULL, NULL);
	return r;
}

/* Whether the subschema entry's values of attr define name with oid. */
static int
schema_has(LDAP *ld, LDAPMessage *e, const char *attr, const char *name,
    const char *oid, const char *equality, char *found, size_t len)
{
	struct berval **v = ldap_get_values_len(ld, e, attr);
	const char **names, *code, *o, *eq;
	int i, err, ok = 0, class = strcmp(attr, "objectClasses") == 0;

	found[0] = '\0';
	for (i = 0; v != NULL && v[i] != NULL && found[0] == '\0'; i++) {
		char def[4096];
		LDAPAttributeType *at = NULL;
		LDAPObjectClass *oc = NULL;

		if (v[i]->bv_len >= sizeof(def))
			continue;
		memcpy(def, v[i]->bv_val, v[i]->bv_len);
		def[v[i]->bv_len] = '\0';
		if (strcasestr(def, name) == NULL)
			continue;	/* spares parsing every other type */
		if (class)
			oc = ldap_str2objectclass(def, &err, &code,
			    LDAP_SCHEMA_ALLOW_ALL);
		else
			at = ldap_str2attributetype(def, &err, &code,
			    LDAP_SCHEMA_ALLOW_ALL);
		names = class ? (oc != NULL ? (const char **)oc->oc_names :
		    NULL) : (at != NULL ? (const char **)at->at_names : NULL);
		for (; names != NULL && *names != NULL; names++) {
			if (strcasecmp(*names, name) != 0)
				continue;
			o = class ? oc->oc_oid : at->at_oid;
			eq = class ? NULL : at->at_equality_oid;
			ok = strcmp(o, oid) == 0 && (equality == NULL ||
			    (eq != NULL && strcasecmp(eq, equality) == 0));
			snprintf(found, len, "%s%s%s", o, eq != NULL ?
			    " EQUALITY " : "", eq != NULL ? eq : "");
			break;
		}
		if (oc != NULL)
			ldap_objectclass_free(oc);
		if (at != NULL)
			ldap_attributetype_free(at);
	}
	ldap_value_free_len(v);
	return ok;
}

/* Append "what" to the list in buf (len), comma-separated. */
static void
list_add(char *buf, size_t len, const char *what)
{
	size_t used = strlen(buf);

	if (used + 4 >= len)
		return;
	snprintf(buf + used, len - used, "%s%s", used > 0 ? ", " : "", what);
}

int
rec_ldap_probe_schema(struct rec_ldap *c, char *bad, size_t len,
    unsigned *nbad)
{
	char *attrs[] = { "attributeTypes", "objectClasses", NULL };
	char sub[REC_DN_MAX], found[256], what[512];
	LDAPMessage *res = NULL, *e;
	unsigned i;
	int r;

	bad[0] = '\0';
	*nbad = 0;
	if ((r = root_dse(c, "subschemaSubentry", sub, sizeof(sub))) != REC_OK)
		return r;
	if ((r = search(c, sub, LDAP_SCOPE_BASE, "(objectClass=subschema)",
	    attrs, 0, 0, &res)) != REC_OK)
		return r;
	if ((e = ldap_first_entry(c->ld, res)) == NULL) {
		r = REC_ERR_PERM;
		goto out;
	}
	for (i = 0; i < NDEFS; i++) {
		const struct schema_def *d = &schema_defs[i];
		int class = d->equality == NULL;

		if (schema_has(c->ld, e, class ? "objectClasses" :
		    "attributeTypes", d->name, d->oid, d->equality, found,
		    sizeof(found)))
			continue;
		if (found[0] == '\0')
			snprintf(what, sizeof(what), "%s missing", d->name);
		else
			snprintf(what, sizeof(what), "%s is %s, not %s%s%s",
			    d->name, found, d->oid, class ? "" : " EQUALITY ",
			    class ? "" : d->equality);
		list_add(bad, len, what);
		(*nbad)++;
	}
	r = REC_OK;
out:
	ldap_msgfree(res);
	return r;
}

unsigned
rec_ldap_probe_schema_size(void)
{
	return (unsigned)NDEFS;
}

int
rec_ldap_probe_base(struct rec_ldap *c)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAPMessage *res = NULL;
	int r;

	if ((r = search(c, c->cfg.ldap_base, LDAP_SCOPE_BASE,
	    "(objectClass=*)", attrs, 0, 0, &res)) != REC_OK)
		return r;
	r = ldap_first_entry(c->ld, res) != NULL ? REC_OK : REC_ERR_NOTFOUND;
	ldap_msgfree(res);
	return r;
}

int
rec_ldap_probe_suffix(struct rec_ldap *c, char *out, size_t len)
{
	char *attrs[] = { "namingContexts", NULL };
	LDAPMessage *res = NULL, *e;
	struct berval **v = NULL;
	size_t blen = strlen(c->cfg.ldap_base), best = 0;
	int i, r;

	out[0] = '\0';
	if ((r = search(c, "", LDAP_SCOPE_BASE, "(objectClass=*)", attrs, 0, 0,
	    &res)) != REC_OK)
		return r;
	if ((e = ldap_first_entry(c->ld, res)) != NULL)
		v = ldap_get_values_len(c->ld, e, "namingContexts");
	/* The longest naming context that ends ldap_base, as a whole RDN. */
	for (i = 0; v != NULL && v[i] != NULL; i++) {
		size_t n = v[i]->bv_len;

		if (n == 0 || n > blen || n >= len || n <= best ||
		    strncasecmp(c->cfg.ldap_base + blen - n, v[i]->bv_val, n) !=
		    0 || (n < blen && c->cfg.ldap_base[blen - n - 1] != ','))
			continue;
		memcpy(out, v[i]->bv_val, n);
		out[n] = '\0';
		best = n;
	}
	ldap_value_free_len(v);
	ldap_msgfree(res);
	return out[0] != '\0' ? REC_OK : REC_ERR_NOTFOUND;
}

int
rec_ldap_probe_readable(struct rec_ldap *c, const char *base,
    const char *attr, const char *skip, unsigned *n, char *first,
    size_t len)
{
	char filter[128], *attrs[2] = { (char *)attr, NULL };
	LDAPMessage *res = NULL, *e;
	BerElement *ber = NULL;
	char *dn, *a;
	int r;

	*n = 0;
	first[0] = '\0';
	snprintf(filter, sizeof(filter), "(%s=*)", attr);
	r = search(c, base, LDAP_SCOPE_SUBTREE, filter, attrs, 1,
	    REC_LDAP_PROBE_MAX + 1, &res);
	if (r == REC_ERR_NOTFOUND || r == REC_ERR_PERM)
		return REC_OK;	/* nothing below base shows to this identity */
	if (r != REC_OK)
		return r;
	for (e = ldap_first_entry(c->ld, res); e != NULL;
	    e = ldap_next_entry(c->ld, e)) {
		int shown = 0;

		/* Only an entry that came back with the type can be read. */
		for (a = ldap_first_attribute(c->ld, e, &ber); a != NULL;
		    a = ldap_next_attribute(c->ld, e, ber)) {
			shown |= strcasecmp(a, attr) == 0;
			ldap_memfree(a);
		}
		ber_free(ber, 0);
		ber = NULL;
		if (!shown || (dn = ldap_get_dn(c->ld, e)) == NULL)
			continue;
		if (skip == NULL || strcasecmp(dn, skip) != 0) {
			if (first[0] == '\0')
				snprintf(first, len, "%s", dn);
			(*n)++;
		}
		ldap_memfree(dn);
	}
	ldap_msgfree(res);
	return REC_OK;
}

int
rec_ldap_probe_compare(struct rec_ldap *c, const char *dn, const char *attr,
    const char *value, int *allowed)
{
	struct berval bv = { strlen(value), (char *)value };
	LDAPMessage *res = NULL;
	int msgid, lrc, r;

	*allowed = 0;
	if (c->broken)
		return REC_ERR_IO;
	if ((lrc = ldap_compare_ext(c->ld, dn, attr, &bv, NULL, NULL,
	    &msgid)) != LDAP_SUCCESS)
		return REC_ERR_IO;
	if ((r = rec_ldap_wait(c, msgid, "compare", &res)) != REC_OK)
		return r;
	(void)rec_ldap_result(c, res, "compare", &lrc);
	switch (lrc) {
	case LDAP_COMPARE_TRUE:
	case LDAP_COMPARE_FALSE:
	case LDAP_NO_SUCH_ATTRIBUTE:
	case LDAP_UNDEFINED_TYPE:	/* no such type in the schema */
		*allowed = lrc != LDAP_UNDEFINED_TYPE;
		return REC_OK;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_NO_SUCH_OBJECT:	/* the entry is not disclosed */
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return REC_OK;
	default:
		rec_logf(c->log, LOG_ERR, "directory %s: compare %s: %s",
		    c->uri, dn, ldap_err2string(lrc));
		return REC_ERR_IO;
	}
}

int
rec_ldap_probe_anonymous(struct rec_ldap *c)
{
	struct berval none = { 0, (char *)"" };
	LDAPMessage *res = NULL;
	int msgid, lrc, r;

	if (c->broken)
		return REC_ERR_IO;
	/*
	 * A simple bind with no name and no password: anonymous again.  When
	 * the server refuses it (slapd: disallow bind_anon), the connection is
	 * anonymous all the same (RFC 4513 4: a failed bind leaves it so),
	 * which is also what a client that never binds is: the caller may
	 * probe on.
	 */
	if ((lrc = ldap_sasl_bind(c->ld, "", LDAP_SASL_SIMPLE, &none, NULL,
	    NULL, &msgid)) != LDAP_SUCCESS)
		return REC_ERR_IO;
	if ((r = rec_ldap_wait(c, msgid, "anonymous bind", &res)) != REC_OK)
		return r;
	return rec_ldap_result(c, res, "anonymous bind", &lrc);
}

int
rec_ldap_probe_user(struct rec_ldap *c, char *user_dn, char *batch_dn)
{
	char *attrs[] = { "pamRecoveryActiveBatch", NULL };
	char id[32], *dn = NULL;
	LDAPMessage *res = NULL, *e;
	int r;

	user_dn[0] = batch_dn[0] = '\0';
	if ((r = search(c, c->cfg.ldap_base, LDAP_SCOPE_ONELEVEL,
	    "(&(objectClass=pamRecoveryUser)(pamRecoveryActiveBatch=*))",
	    attrs, 0, 1, &res)) != REC_OK)
		return r;
	r = REC_ERR_NOTFOUND;
	if ((e = ldap_first_entry(c->ld, res)) == NULL ||
	    (dn = ldap_get_dn(c->ld, e)) == NULL)
		goto out;
	first_value(c->ld, e, "pamRecoveryActiveBatch", id, sizeof(id));
	if (id[0] == '\0' || strspn(id, "0123456789") != strlen(id) ||
	    strlen(dn) >= REC_DN_MAX || (size_t)snprintf(batch_dn, REC_DN_MAX,
	    "pamRecoveryBatchId=%s,%s", id, dn) >= REC_DN_MAX) {
		batch_dn[0] = '\0';
		goto out;
	}
	snprintf(user_dn, REC_DN_MAX, "%s", dn);
	r = REC_OK;
out:
	ldap_memfree(dn);
	ldap_msgfree(res);
	return r;
}

int
rec_ldap_probe_parent(const char *dn, char *out, size_t len)
{
	LDAPDN parsed = NULL;
	char *s = NULL;
	int r = REC_ERR_NOTFOUND;

	out[0] = '\0';
	if (ldap_str2dn(dn, &parsed, LDAP_DN_FORMAT_LDAPV3) != LDAP_SUCCESS)
		return REC_ERR_CONFIG;
	if (parsed == NULL || parsed[0] == NULL || parsed[1] == NULL)
		goto out;
	if (ldap_dn2str(&parsed[1], &s, LDAP_DN_FORMAT_LDAPV3) !=
	    LDAP_SUCCESS || s == NULL || strlen(s) >= len) {
		r = REC_ERR_INTERNAL;
		goto out;
	}
	snprintf(out, len, "%s", s);
	r = REC_OK;
out:
	ldap_memfree(s);
	ldap_dnfree(parsed);
	return r;
}

/*
 * Whether the bound identity may make the changes of mods to dn, learnt
 * without making them: one Modify whose first change deletes a value that
 * does not exist.  The server decides access for the whole Modify before it
 * applies any of it (slapd: acl_check_modlist, before the changes are
 * applied in back-mdb's modify; 389-ds likewise checks the ACIs of all
 * changes first), and a Modify is applied all or nothing (RFC 4511 4.6):
 * so the answer is insufficientAccess (50) when any change is denied, and
 * noSuchAttribute (16) from that first delete when all are allowed, and
 * in both cases nothing is applied.  Verified against slapd 2.5 by
 * tests/e2e_ldap_check.sh, which reads the entries back.  A server that
 * answers success has applied a Modify that had to fail: that is logged
 * with what it applied, and REC_ERR_INTERNAL.
 */
int
rec_ldap_probe_write(struct rec_ldap *c, const char *dn,
    const struct rec_ldap_probe_mod *mods, unsigned n, int *allowed)
{
	LDAPMod m[REC_LDAP_PROBE_MODS], *list[REC_LDAP_PROBE_MODS + 1];
	struct berval bv[REC_LDAP_PROBE_MODS];
	struct berval *vals[REC_LDAP_PROBE_MODS][2];
	LDAPMessage *res = NULL;
	unsigned i;
	int msgid, lrc, r;

	*allowed = 0;
	if (n == 0 || n > REC_LDAP_PROBE_MODS || mods[0].add)
		return REC_ERR_USAGE;
	if (c->broken)
		return REC_ERR_IO;
	for (i = 0; i < n; i++) {
		bv[i].bv_val = (char *)mods[i].value;
		bv[i].bv_len = strlen(mods[i].value);
		vals[i][0] = &bv[i];
		vals[i][1] = NULL;
		m[i].mod_op = (mods[i].add ? LDAP_MOD_ADD : LDAP_MOD_DELETE) |
		    LDAP_MOD_BVALUES;
		m[i].mod_type = (char *)mods[i].attr;
		m[i].mod_bvalues = vals[i];
		list[i] = &m[i];
	}
	list[n] = NULL;
	if ((lrc = ldap_modify_ext(c->ld, dn, list, NULL, NULL, &msgid)) !=
	    LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: modify %s: %s",
		    c->uri, dn, ldap_err2string(lrc));
		return REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, "modify", &res)) != REC_OK)
		return r;
	(void)rec_ldap_result(c, res, "modify", &lrc);
	switch (lrc) {
	case LDAP_NO_SUCH_ATTRIBUTE:
		*allowed = 1;
		return REC_OK;
	case LDAP_INSUFFICIENT_ACCESS:
		return REC_OK;
	case LDAP_NO_SUCH_OBJECT:
		return REC_ERR_NOTFOUND;
	case LDAP_SUCCESS:
		for (i = 1; i < n; i++)
			rec_logf(c->log, LOG_ERR, "directory %s: a probe that "
			    "had to fail was applied: %s %s: %s to %s",
			    c->uri, mods[i].add ? "added" : "deleted",
			    mods[i].attr, mods[i].value, dn);
		return REC_ERR_INTERNAL;
	default:
		rec_logf(c->log, LOG_ERR, "directory %s: modify %s: %s",
		    c->uri, dn, ldap_err2string(lrc));
		return rec_ldap_err(lrc) == REC_OK ? REC_ERR_IO :
		    rec_ldap_err(lrc);
	}
}
