/* SPDX-License-Identifier: BSD-2-Clause */
/* testldap.h: the store tests on the directory: which backend, and an empty subtree (static, header only). */
#ifndef TESTLDAP_H
#define TESTLDAP_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ldap.h>

#include "rec_config.h"
#include "rec_err.h"
#include "rec_store.h"
#include "rec_store_ldap.h"

/* Included by testutil.h, after <cmocka.h>. */

/*
 * The store tests of layers 3 and 4 open an LMDB store in a temporary
 * directory, unless REC_TEST_STORE=ldap: then they open the directory
 * store of the configuration file REC_TEST_LDAP_CONF (store = ldap, a
 * throw-away slapd, an administrators' bind DN, tiny kdf costs), whose
 * subtree below ldap_base each test empties first.  tests/e2e_ldap_units.sh
 * runs them so.  Returns that file, or NULL for LMDB.
 */
static inline const char *
test_ldap_conf(void)
{
	const char *s = getenv("REC_TEST_STORE"), *conf;

	if (s == NULL || *s == '\0' || strcmp(s, "lmdb") == 0)
		return NULL;
	if (strcmp(s, "ldap") != 0)
		fail_msg("REC_TEST_STORE=%s: neither lmdb nor ldap", s);
	conf = getenv("REC_TEST_LDAP_CONF");
	if (conf == NULL || *conf == '\0')
		fail_msg("REC_TEST_STORE=ldap needs REC_TEST_LDAP_CONF");
	return conf;
}

/*
 * A test that cannot run on the directory (it plants records through
 * the LMDB backend's transactions, or tests what only LMDB has) calls
 * this first, with why: it is skipped there.
 */
static inline void
test_skip_unless_lmdb(const char *why)
{
	if (test_ldap_conf() == NULL)
		return;
	print_message("[  SKIP    ] on the directory store: %s\n", why);
	skip();
}

/* The configuration of REC_TEST_LDAP_CONF, with tiny kdf costs. */
static inline void
test_ldap_config(const char *conf, struct rec_config *cfg)
{
	rec_config_defaults(cfg);
	if (rec_config_load(cfg, conf, NULL) != REC_OK)
		fail_msg("%s: cannot load it", conf);
	assert_true(rec_config_directory(cfg));
	assert_int_equal(rec_config_set(cfg, "kdf_opslimit", "1", "test", 0,
	    NULL), REC_OK);
	assert_int_equal(rec_config_set(cfg, "kdf_memlimit", "8K", "test", 0,
	    NULL), REC_OK);
}

/* Order for deleting: longer DNs (children) before shorter ones. */
static inline int
test_ldap_dn_cmp(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

/*
 * A connection to cfg's directory for the test's own changes, bound as
 * cfg's account over cfg->ldap_write_uri (or ldap_uri), with StartTLS as
 * configured.  The caller unbinds it.
 */
static inline LDAP *
test_ldap_connect(const struct rec_config *cfg)
{
	const char *uri = cfg->ldap_write_uri[0] != '\0' ?
	    cfg->ldap_write_uri : cfg->ldap_uri;
	char pw[256];
	struct berval cred;
	LDAP *ld = NULL;
	FILE *fp;
	int v3 = LDAP_VERSION3, zero = 0;

	if ((fp = fopen(cfg->ldap_bind_pw_file, "r")) == NULL)
		fail_msg("%s: cannot read it", cfg->ldap_bind_pw_file);
	if (fgets(pw, sizeof(pw), fp) == NULL)
		pw[0] = '\0';
	fclose(fp);
	pw[strcspn(pw, "\r\n")] = '\0';
	if (ldap_initialize(&ld, uri) != LDAP_SUCCESS)
		fail_msg("%s: ldap_initialize failed", uri);
	ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3);
	if (cfg->ldap_ca_file[0] != '\0') {
		ldap_set_option(ld, LDAP_OPT_X_TLS_CACERTFILE,
		    cfg->ldap_ca_file);
		ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero);
	}
	if (strncmp(uri, "ldap://", 7) == 0 && cfg->ldap_starttls &&
	    ldap_start_tls_s(ld, NULL, NULL) != LDAP_SUCCESS)
		fail_msg("%s: StartTLS failed", uri);
	cred.bv_val = pw;
	cred.bv_len = strlen(pw);
	if (ldap_sasl_bind_s(ld, cfg->ldap_bind_dn, LDAP_SASL_SIMPLE, &cred,
	    NULL, NULL, NULL) != LDAP_SUCCESS)
		fail_msg("%s: cannot bind as %s", uri, cfg->ldap_bind_dn);
	memset(pw, 0, sizeof(pw));
	return ld;
}

/*
 * Delete every entry below cfg->ldap_base (not the base itself): what a
 * fresh LMDB directory is to the LMDB tests.  A search may stop at the
 * server's size limit, so it is repeated until one finds nothing more
 * (bounded).
 */
static inline void
test_ldap_empty(const struct rec_config *cfg)
{
	char *attrs[] = { LDAP_NO_ATTRS, NULL };
	LDAP *ld = test_ldap_connect(cfg);
	int rounds;
	size_t n;

	for (rounds = 0; rounds < 1000; rounds++) {
		LDAPMessage *res = NULL, *e;
		char **dns;
		int rc;

		rc = ldap_search_ext_s(ld, cfg->ldap_base, LDAP_SCOPE_SUBTREE,
		    "(objectClass=*)", attrs, 0, NULL, NULL, NULL, 0, &res);
		if (rc != LDAP_SUCCESS && rc != LDAP_SIZELIMIT_EXCEEDED)
			fail_msg("search below %s: %s", cfg->ldap_base,
			    ldap_err2string(rc));
		n = 0;
		dns = calloc((size_t)ldap_count_entries(ld, res) + 1,
		    sizeof(*dns));
		assert_non_null(dns);
		for (e = ldap_first_entry(ld, res); e != NULL;
		    e = ldap_next_entry(ld, e)) {
			char *dn = ldap_get_dn(ld, e);

			if (dn != NULL && strcasecmp(dn, cfg->ldap_base) != 0)
				dns[n++] = dn;
			else
				ldap_memfree(dn);
		}
		ldap_msgfree(res);
		qsort(dns, n, sizeof(*dns), test_ldap_dn_cmp);
		for (size_t i = 0; i < n; i++) {
			int d = ldap_delete_ext_s(ld, dns[i], NULL, NULL);

			/* Its parent, found above it, goes in a later round. */
			if (d != LDAP_SUCCESS && d != LDAP_NO_SUCH_OBJECT &&
			    d != LDAP_NOT_ALLOWED_ON_NONLEAF)
				fail_msg("delete %s: %s", dns[i],
				    ldap_err2string(d));
			ldap_memfree(dns[i]);
		}
		free(dns);
		if (n == 0)
			break;
	}
	assert_true(rounds < 1000);
	ldap_unbind_ext_s(ld, NULL, NULL);
}

/*
 * Write user's batch *b with its n code records again, as given: its
 * entry deleted, then rec_store_batch_put.  How the tests craft a batch
 * on the directory, as someone with write access to it could (the LMDB
 * tests do it in a transaction).  Returns rec_store_batch_put's answer.
 */
static inline int
test_ldap_batch_rewrite(struct rec_store *st, const struct rec_config *cfg,
    const char *user, const struct rec_batch *b,
    const struct rec_code_rec *recs, unsigned n)
{
	char *dn = NULL;
	LDAP *ld = test_ldap_connect(cfg);
	int d;

	assert_true(asprintf(&dn, "pamRecoveryBatchId=%llu,uid=%s,%s",
	    (unsigned long long)b->id, user, cfg->ldap_base) > 0);
	d = ldap_delete_ext_s(ld, dn, NULL, NULL);
	ldap_unbind_ext_s(ld, NULL, NULL);
	if (d != LDAP_SUCCESS)
		fail_msg("delete %s: %s", dn, ldap_err2string(d));
	free(dn);
	return rec_store_batch_put(st, user, b, recs, n);
}

/* REC_TEST_LOG set: the store's messages go to stderr. */
static inline void
test_ldap_log_fn(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	fprintf(stderr, "store: %s\n", msg);
}

/*
 * Open the directory store of conf for a test: cfg from the file (tiny
 * costs), the subtree emptied, the store open for writing in *st.
 */
static inline void
test_ldap_open(const char *conf, struct rec_config *cfg,
    struct rec_store **st)
{
	static const struct rec_log log = { test_ldap_log_fn, NULL, 1 };

	test_ldap_config(conf, cfg);
	test_ldap_empty(cfg);
	assert_int_equal(rec_store_open_ldap(cfg, 0,
	    getenv("REC_TEST_LOG") != NULL ? &log : NULL, st), REC_OK);
}

#endif
