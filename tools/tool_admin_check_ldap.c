/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_check_ldap.c: the check command for a directory store (store = ldap). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin_check.h"
#include "rec_child.h"
#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_secret.h"

#define PW_MAX 1024		/* as the client reads ldap_bind_pw_file */
#define LONG_WAIT_S 30		/* a silent directory holding a login longer */
#define PROBE_VALUE "pam-recovery-admin check probe (never stored)"

enum scheme { S_OTHER, S_LDAP, S_LDAPS, S_LDAPI };

static enum scheme
scheme_of(const char *uri)
{
	if (strncmp(uri, "ldap://", 7) == 0)
		return S_LDAP;
	if (strncmp(uri, "ldaps://", 8) == 0)
		return S_LDAPS;
	if (strncmp(uri, "ldapi://", 8) == 0)
		return S_LDAPI;
	return S_OTHER;
}

/* Whether the blank-separated list holds uri. */
static int
list_has(const char *list, const char *uri)
{
	char copy[REC_PATH_MAX], *u, *save = NULL;

	snprintf(copy, sizeof(copy), "%s", list);
	for (u = strtok_r(copy, " \t", &save); u != NULL;
	    u = strtok_r(NULL, " \t", &save))
		if (strcmp(u, uri) == 0)
			return 1;
	return 0;
}

static double
ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e6;
}

/*
 * Whether uri fails for its certificate (rec_ldap_probe_cert), asked in a
 * child that is cut off after ldap_timeout: that probe's TLS handshake
 * has no deadline of its own.
 */
struct cert_arg {
	const struct rec_config *cfg;
	const char *uri;
};

static int
cert_child(void *arg, int fd)
{
	const struct cert_arg *ca = arg;

	return rec_child_send_reply(fd, rec_ldap_probe_cert(ca->cfg, ca->uri,
	    NULL), NULL, 0);
}

static int
cert_failed(struct report *rp, const struct rec_config *cfg, const char *uri)
{
	struct rec_log log = { admin_check_capture, rp, 0 };
	struct cert_arg ca = { cfg, uri };
	struct rec_child ch;
	int r = REC_ERR_INTERNAL;

	if (scheme_of(uri) != S_LDAPS && scheme_of(uri) != S_LDAP)
		return 0;
	if (rec_child_start(&ch, getuid(), getgid(), cfg->ldap_timeout,
	    cert_child, &ca, &log) != REC_OK)
		return 0;
	if (rec_child_receive_reply(&ch, &r, NULL, 0) != REC_OK)
		r = REC_ERR_IO;
	rec_child_end(&ch);
	return r == REC_OK;
}

/* One URI's scheme, as rec_ldap_open will take it (spec 10). */
static void
check_scheme(struct report *rp, const struct rec_config *cfg, const char *key,
    const char *uri)
{
	switch (scheme_of(uri)) {
	case S_LDAPS:
		admin_check_item(rp, OK, key, NULL, "%s: TLS from the first "
		    "byte, certificate verified", uri);
		break;
	case S_LDAPI:
		admin_check_item(rp, OK, key, NULL, "%s: a local socket, no TLS "
		    "needed", uri);
		break;
	case S_LDAP:
		if (cfg->ldap_starttls)
			admin_check_item(rp, OK, key, NULL, "%s: StartTLS, "
			    "certificate verified", uri);
		else if (cfg->ldap_insecure)
			admin_check_item(rp, FAIL, key, NULL, "%s: insecure: "
			    "ldap:// without StartTLS (ldap_insecure = yes): "
			    "the bind password, the hashes and the lockout "
			    "state cross the network in clear; set "
			    "ldap_starttls = yes or use ldaps:// or ldapi://",
			    uri);
		else
			admin_check_item(rp, FAIL, key, NULL, "%s: ldap:// "
			    "without StartTLS is refused (set ldap_starttls = "
			    "yes, or use ldaps:// or ldapi://)", uri);
		break;
	default:
		admin_check_item(rp, FAIL, key, NULL, "%s: not an ldap://, "
		    "ldaps:// or ldapi:// URI", uri);
	}
}

/*
 * The settings alone, before any connection.  rec_config_validate has
 * refused what no connection could be made with (no ldap_uri or
 * ldap_base, a bind DN without its password file, no bind DN but for
 * ldapi://, ldap:// without StartTLS unless ldap_insecure): what is left
 * is what it lets through, insecure included, and what it cannot see.
 */
static void
check_settings(struct report *rp, const struct rec_config *cfg)
{
	struct rec_log log = { admin_check_capture, rp, 0 };
	char copy[REC_PATH_MAX], *u, *save = NULL;
	unsigned char pw[PW_MAX];
	unsigned ntls = 0, pass;
	struct stat sb;
	size_t len = 0;
	int r;

	admin_check_item(rp, OK, "ldap_base", NULL, "%s", cfg->ldap_base);
	for (pass = 0; pass < 2; pass++) {
		snprintf(copy, sizeof(copy), "%s", pass == 0 ? cfg->ldap_uri :
		    cfg->ldap_write_uri);
		for (u = strtok_r(copy, " \t", &save); u != NULL;
		    u = strtok_r(NULL, " \t", &save)) {
			check_scheme(rp, cfg, pass == 0 ? "ldap_uri" :
			    "ldap_write_uri", u);
			ntls += scheme_of(u) == S_LDAPS ||
			    (scheme_of(u) == S_LDAP && cfg->ldap_starttls);
		}
	}
	if (cfg->ldap_bind_dn[0] == '\0')
		admin_check_item(rp, OK, "ldap_bind_dn", NULL, "not set: SASL "
		    "EXTERNAL over ldapi:// (the server maps this host's uid)");
	else {
		/* Read as the client reads it, and wiped. */
		rp->captured[0] = '\0';
		r = rec_secret_read(cfg->ldap_bind_pw_file, "ldap_bind_pw_file",
		    pw, sizeof(pw), &len, &log);
		sodium_memzero(pw, sizeof(pw));
		if (r != REC_OK)
			admin_check_item(rp, FAIL, "ldap_bind_pw_file", NULL,
			    "%s", rp->captured[0] != '\0' ? rp->captured :
			    rec_strerror(r));
		else if (lstat(cfg->ldap_bind_pw_file, &sb) == 0)
			admin_check_item(rp, OK, "ldap_bind_pw_file", NULL, "%s: "
			    "owner uid %u, mode %04o, for %s",
			    cfg->ldap_bind_pw_file, (unsigned)sb.st_uid,
			    (unsigned)(sb.st_mode & 07777), cfg->ldap_bind_dn);
	}
	if (cfg->ldap_ca_file[0] != '\0') {
		if (lstat(cfg->ldap_ca_file, &sb) == -1)
			admin_check_item(rp, FAIL, "ldap_ca_file", NULL, "%s: %s",
			    cfg->ldap_ca_file, strerror(errno));
		else if (!S_ISREG(sb.st_mode) ||
		    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0)
			admin_check_item(rp, FAIL, "ldap_ca_file", NULL, "%s: "
			    "must be a regular file writable only by its owner "
			    "(mode %04o): whoever can add a CA can pose as the "
			    "directory", cfg->ldap_ca_file,
			    (unsigned)(sb.st_mode & 07777));
		else
			admin_check_item(rp, OK, "ldap_ca_file", NULL, "%s",
			    cfg->ldap_ca_file);
	} else if (ntls > 0)
		admin_check_item(rp, OK, "ldap_ca_file", NULL, "not set: "
		    "libldap's CAs (TLS_CACERT of ldap.conf)");
	r = (int)rec_config_store_wait(cfg);
	admin_check_item(rp, r > LONG_WAIT_S ? WARN : OK, "ldap_timeout", NULL,
	    "%u s; a silent directory holds a login up to %d s%s",
	    cfg->ldap_timeout, r, r > LONG_WAIT_S ? ": logins will seem to "
	    "hang; lower ldap_timeout or list fewer URIs" : "");
}

/* The labels of one URI's lines: "URI (what)". */
static const char *
at(char *buf, size_t len, const char *uri, const char *what)
{
	snprintf(buf, len, "%s (%s)", uri, what);
	return buf;
}

/* The transport of an open connection. */
static void
check_tls(struct report *rp, const struct rec_config *cfg, const char *uri,
    const struct rec_ldap_info *in)
{
	char w[REC_PATH_MAX + 16];

	at(w, sizeof(w), uri, "TLS");
	if (scheme_of(uri) == S_LDAPI)
		admin_check_item(rp, OK, w, NULL, "a local socket: no TLS "
		    "needed");
	else if (in->tls)
		admin_check_item(rp, OK, w, NULL, "%s%s%s%s%s, the server's "
		    "certificate verified against %s",
		    scheme_of(uri) == S_LDAPS ? "ldaps://" : "StartTLS",
		    in->tls_version[0] != '\0' ? ", " : "", in->tls_version,
		    in->tls_cipher[0] != '\0' ? ", " : "", in->tls_cipher,
		    cfg->ldap_ca_file[0] != '\0' ? cfg->ldap_ca_file :
		    "libldap's CAs");
	else
		admin_check_item(rp, FAIL, w, NULL, "insecure: no TLS on this "
		    "connection: the bind password, hashes and lockout state "
		    "cross the network in clear");
}

/* 1 when the schema is there as shipped (or cannot be read), else 0. */
static int
check_schema(struct report *rp, struct rec_ldap *c, const char *uri)
{
	char w[REC_PATH_MAX + 16], bad[1024];
	unsigned nbad = 0;
	int r;

	at(w, sizeof(w), uri, "schema");
	rp->captured[0] = '\0';
	r = rec_ldap_probe_schema(c, bad, sizeof(bad), &nbad);
	if (r == REC_ERR_NOTFOUND || r == REC_ERR_PERM)
		admin_check_item(rp, WARN, w, NULL, "the server's schema "
		    "(subschemaSubentry of the root DSE) cannot be read by "
		    "this account: not verified");
	else if (r != REC_OK)
		admin_check_item(rp, FAIL, w, NULL, "%s", rp->captured[0] !=
		    '\0' ? rp->captured : rec_strerror(r));
	else if (nbad == rec_ldap_probe_schema_size())
		admin_check_item(rp, FAIL, w, NULL, "not loaded: none of the %u "
		    "types and classes of pam-recovery.schema is known to the "
		    "server (load conf/ldap/pam-recovery.schema or .ldif)",
		    nbad);
	else if (nbad > 0)
		admin_check_item(rp, FAIL, w, NULL, "%u of the %u types and "
		    "classes of pam-recovery.schema missing or different "
		    "(load conf/ldap/pam-recovery.schema or .ldif): %s", nbad,
		    rec_ldap_probe_schema_size(), bad);
	else
		admin_check_item(rp, OK, w, NULL, "all %u types and classes of "
		    "pam-recovery.schema, with their OIDs",
		    rec_ldap_probe_schema_size());
	return r != REC_OK || nbad == 0;
}

/* 1 when ldap_base can be read, else 0. */
static int
check_base(struct report *rp, struct rec_ldap *c, const struct rec_config *cfg,
    const char *uri)
{
	char w[REC_PATH_MAX + 16];
	int r;

	at(w, sizeof(w), uri, "ldap_base");
	rp->captured[0] = '\0';
	r = rec_ldap_probe_base(c);
	if (r == REC_OK)
		admin_check_item(rp, OK, w, NULL, "%s exists and is readable",
		    cfg->ldap_base);
	else if (r == REC_ERR_NOTFOUND)
		admin_check_item(rp, FAIL, w, NULL, "%s does not exist, or "
		    "this account may not see it", cfg->ldap_base);
	else
		admin_check_item(rp, FAIL, w, NULL, "%s: %s", cfg->ldap_base,
		    rp->captured[0] != '\0' ? rp->captured : rec_strerror(r));
	return r == REC_OK;
}

/* Passwords in the whole naming context, the account's own left out. */
static void
check_passwords(struct report *rp, struct rec_ldap *c,
    const struct rec_config *cfg, const char *uri, const char *self)
{
	char w[REC_PATH_MAX + 16], suffix[REC_PATH_MAX], first[REC_PATH_MAX];
	unsigned n = 0;
	int r;

	at(w, sizeof(w), uri, "bound account");
	if (rec_ldap_probe_suffix(c, suffix, sizeof(suffix)) != REC_OK)
		snprintf(suffix, sizeof(suffix), "%s", cfg->ldap_base);
	rp->captured[0] = '\0';
	r = rec_ldap_probe_readable(c, suffix, "userPassword", self, &n, first,
	    sizeof(first));
	if (r != REC_OK)
		admin_check_item(rp, WARN, w, NULL, "could not look for "
		    "readable userPassword values below %s: %s", suffix,
		    rp->captured[0] != '\0' ? rp->captured : rec_strerror(r));
	else if (n > 0)
		admin_check_item(rp, WARN, w, NULL, "reads userPassword of %s%u "
		    "entr%s below %s (%s%s): a stolen host password gives "
		    "those away too; let it read only what acl.conf grants",
		    n > REC_LDAP_PROBE_MAX ? "more than " : "",
		    n > REC_LDAP_PROBE_MAX ? REC_LDAP_PROBE_MAX : n,
		    n == 1 ? "y" : "ies", suffix, first, n > 1 ? ", ..." : "");
	else
		admin_check_item(rp, OK, w, NULL, "reads no userPassword below "
		    "%s (its own aside)", suffix);
}

/* One probe Modify; *allowed, or a WARN line and -1 when it failed. */
static int
probe(struct report *rp, struct rec_ldap *c, const char *w, const char *dn,
    const struct rec_ldap_probe_mod *mods, unsigned n)
{
	int allowed = 0, r;

	rp->captured[0] = '\0';
	r = rec_ldap_probe_write(c, dn, mods, n, &allowed);
	if (r == REC_OK)
		return allowed;
	admin_check_item(rp, r == REC_ERR_INTERNAL ? FAIL : WARN, w, NULL,
	    "a probe of %s failed: %s", dn, rp->captured[0] != '\0' ?
	    rp->captured : rec_strerror(r));
	return -1;
}

/*
 * The writes of a login, and some it should not be able to make, each
 * probed as rec_ldap_probe_write does (nothing is applied), on a user's
 * entry and active batch (or ldap_base when no user has codes yet).
 * Not probed: adding an audit event (an Add cannot be probed without
 * making it; it is refused before the server looks at the ACLs when the
 * entry exists) and deleting entries (a Delete of an entry with children
 * is refused after the ACL check, notAllowedOnNonLeaf, but the same
 * Delete of a leaf deletes it: no safe probe).
 */
static void
check_writes(struct report *rp, struct rec_ldap *c,
    const struct rec_config *cfg, const char *uri)
{
	static const struct rec_ldap_probe_mod lock[] = {
		{ 0, "pamRecoveryLock", PROBE_VALUE " (delete)" },
		{ 1, "pamRecoveryLock", PROBE_VALUE },
	}, last[] = {
		{ 0, "pamRecoveryLastUsed", "-1" },
		{ 1, "pamRecoveryLastUsed", "0" },
	}, consume[] = {
		/* The Modify of a consume (conf/ldap/README), delete first. */
		{ 0, "pamRecoveryCode", "0 0 " PROBE_VALUE },
		{ 1, "pamRecoveryUsedCode", "0 0 " PROBE_VALUE " 0 check" },
		{ 0, "pamRecoveryBatchStatus", "1" },
		{ 1, "pamRecoveryBatchStatus", "1" },
	}, plant[] = {
		{ 0, "pamRecoveryCode", "0 0 " PROBE_VALUE " (delete)" },
		{ 1, "pamRecoveryCode", "0 0 " PROBE_VALUE },
	}, outside[] = {
		{ 0, "description", PROBE_VALUE " (delete)" },
		{ 1, "description", PROBE_VALUE },
	};
	char w[REC_PATH_MAX + 16], udn[REC_LDAP_PROBE_DN], bdn[REC_LDAP_PROBE_DN];
	char parent[REC_LDAP_PROBE_DN], denied[256] = "";
	int r, a;

	at(w, sizeof(w), uri, "writes");
	rp->captured[0] = '\0';
	r = rec_ldap_probe_user(c, udn, bdn);
	if (r == REC_ERR_NOTFOUND) {
		snprintf(udn, sizeof(udn), "%s", cfg->ldap_base);
		snprintf(bdn, sizeof(bdn), "%s", cfg->ldap_base);
	} else if (r != REC_OK) {
		admin_check_item(rp, WARN, w, NULL, "could not find an entry to "
		    "probe: %s", rp->captured[0] != '\0' ? rp->captured :
		    rec_strerror(r));
		return;
	}
	if ((a = probe(rp, c, w, udn, lock, 2)) < 0)
		return;
	if (a == 0)
		snprintf(denied, sizeof(denied), "count attempts "
		    "(pamRecoveryLock)");
	if ((a = probe(rp, c, w, udn, last, 2)) < 0)
		return;
	if (a == 0)
		snprintf(denied + strlen(denied), sizeof(denied) -
		    strlen(denied), "%srecord a use (pamRecoveryLastUsed)",
		    denied[0] != '\0' ? ", " : "");
	if ((a = probe(rp, c, w, bdn, consume, 4)) < 0)
		return;
	if (a == 0)
		snprintf(denied + strlen(denied), sizeof(denied) -
		    strlen(denied), "%sconsume a code (delete pamRecoveryCode, "
		    "add pamRecoveryUsedCode, delete and add back "
		    "pamRecoveryBatchStatus 1)", denied[0] != '\0' ? ", " : "");
	if (denied[0] != '\0')
		admin_check_item(rp, FAIL, w, NULL, "the bound account may not "
		    "%s on %s: logins will fail with a store error (see "
		    "conf/ldap/acl.conf)", denied, r == REC_OK ? udn :
		    cfg->ldap_base);
	else
		admin_check_item(rp, OK, w, NULL, "the bound account may count "
		    "attempts, record uses and consume codes (probed on %s%s, "
		    "nothing changed)", r == REC_OK ? bdn : cfg->ldap_base,
		    r == REC_OK ? "" : ": no user has codes yet");
	/* What it should not be able to do. */
	if ((a = probe(rp, c, w, bdn, plant, 2)) > 0)
		admin_check_item(rp, WARN, w, NULL, "the bound account (%s) "
		    "may add pamRecoveryCode values: as the administrators' "
		    "account should; if hosts bind as it, a stolen host "
		    "password could plant a code of its own",
		    cfg->ldap_bind_dn[0] != '\0' ? cfg->ldap_bind_dn :
		    "SASL EXTERNAL");
	if (rec_ldap_probe_parent(cfg->ldap_base, parent, sizeof(parent)) !=
	    REC_OK)
		return;
	rp->captured[0] = '\0';
	r = rec_ldap_probe_write(c, parent, outside, 2, &a);
	if (r == REC_OK && a)
		admin_check_item(rp, WARN, w, NULL, "the bound account may "
		    "write outside ldap_base (description of %s): give the "
		    "hosts' account write access below ldap_base only",
		    parent);
	else if (r == REC_OK)
		admin_check_item(rp, OK, w, NULL, "the bound account may not "
		    "write outside ldap_base (probed on %s)", parent);
	else if (r == REC_ERR_INTERNAL)
		admin_check_item(rp, FAIL, w, NULL, "%s", rp->captured);
}

/* Anonymous reads, over c bound anonymously from here on. */
static void
check_anonymous(struct report *rp, struct rec_ldap *c,
    const struct rec_config *cfg, const char *uri)
{
	static const char *const hashes[] = {
		"pamRecoveryCode", "pamRecoveryUsedCode",
		"pamRecoveryInvalidCode", "pamRecoveryTagKey",
	};
	char w[REC_PATH_MAX + 16], first[REC_PATH_MAX];
	const char *who;
	unsigned i, n;
	int r, allowed = 0;

	at(w, sizeof(w), uri, "anonymous");
	rp->captured[0] = '\0';
	/* Refused, the connection is as one that never bound: probe on. */
	who = "";
	if ((r = rec_ldap_probe_anonymous(c)) == REC_ERR_PERM) {
		who = "anonymous binds are refused, but a client that never "
		    "binds ";
		r = REC_OK;
	}
	for (i = 0; r == REC_OK && i < sizeof(hashes) / sizeof(hashes[0]);
	    i++) {
		r = rec_ldap_probe_readable(c, cfg->ldap_base, hashes[i], NULL,
		    &n, first, sizeof(first));
		if (r == REC_OK && n > 0) {
			admin_check_item(rp, FAIL, w, NULL, "%sanyone can read "
			    "%s of %s%u entr%s below ldap_base (%s%s): hashes "
			    "exposed; see conf/ldap/acl.conf", who, hashes[i],
			    n > REC_LDAP_PROBE_MAX ? "more than " : "",
			    n > REC_LDAP_PROBE_MAX ? REC_LDAP_PROBE_MAX : n,
			    n == 1 ? "y" : "ies", first, n > 1 ? ", ..." : "");
			return;
		}
	}
	/* With no codes issued yet, the rules still show: compare. */
	if (r == REC_OK)
		r = rec_ldap_probe_compare(c, cfg->ldap_base, "pamRecoveryCode",
		    PROBE_VALUE, &allowed);
	if (r != REC_OK)
		admin_check_item(rp, FAIL, w, NULL, "could not check anonymous "
		    "access: %s", rp->captured[0] != '\0' ? rp->captured :
		    rec_strerror(r));
	else if (allowed)
		admin_check_item(rp, FAIL, w, NULL, "%sanyone may compare "
		    "pamRecoveryCode below ldap_base: the ACLs do not keep "
		    "hashes from anonymous clients; see conf/ldap/acl.conf",
		    who);
	else
		admin_check_item(rp, OK, w, NULL, "%sreads no hash below "
		    "ldap_base, nor compares one", who[0] != '\0' ? who :
		    "anonymous ");
}

/*
 * Everything about one URI, over a connection to it alone: 0 when it
 * could not be used, or ldap_base not read there.
 */
static int
check_uri(struct report *rp, const struct rec_config *cfg, const char *uri,
    int write)
{
	struct rec_log log = { admin_check_capture, rp, 0 };
	struct rec_config one = *cfg;
	struct rec_ldap *c = NULL;
	struct rec_ldap_info in;
	struct timespec t0;
	char w[REC_PATH_MAX + 16];
	const char *self;
	double ms;
	int r, schema_ok, base_ok = 0;

	snprintf(one.ldap_uri, sizeof(one.ldap_uri), "%s", uri);
	one.ldap_write_uri[0] = '\0';
	at(w, sizeof(w), uri, "connect");
	rp->captured[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = rec_ldap_open(&one, write, &log, &c);
	ms = ms_since(&t0);
	if (r != REC_OK) {
		/* A certificate is refused at once; a silent server is not. */
		if (r == REC_ERR_IO && ms < one.ldap_timeout * 1e3 &&
		    cert_failed(rp, &one, uri))
			admin_check_item(rp, FAIL, at(w, sizeof(w), uri, "TLS"),
			    NULL, "certificate verify failed: the server's "
			    "certificate does not verify against %s, or does "
			    "not name the host of the URI",
			    cfg->ldap_ca_file[0] != '\0' ? cfg->ldap_ca_file :
			    "libldap's CAs");
		else
			admin_check_item(rp, FAIL, w, NULL, "%s after %.0f ms: "
			    "%s", rec_strerror(r), ms, rp->captured[0] != '\0' ?
			    rp->captured : "no reason given");
		return 0;
	}
	rp->captured[0] = '\0';
	if ((r = rec_ldap_probe_info(c, &in)) != REC_OK) {
		admin_check_item(rp, FAIL, w, NULL, "%s", rp->captured[0] !=
		    '\0' ? rp->captured : rec_strerror(r));
		goto out;
	}
	admin_check_item(rp, OK, w, NULL, "for %s: connected and bound as %s "
	    "in %.0f ms", write ? "reads and writes" : "reads", in.authzid[0] != '\0' ? in.authzid :
	    cfg->ldap_bind_dn[0] != '\0' ? cfg->ldap_bind_dn : "SASL EXTERNAL",
	    ms);
	check_tls(rp, cfg, uri, &in);
	schema_ok = check_schema(rp, c, uri);
	base_ok = check_base(rp, c, cfg, uri);
	self = strncmp(in.authzid, "dn:", 3) == 0 ? in.authzid + 3 :
	    cfg->ldap_bind_dn;
	check_passwords(rp, c, cfg, uri, self);
	/* Probing writes needs the types and an entry (failed above). */
	if (write && schema_ok && base_ok)
		check_writes(rp, c, cfg, uri);
	check_anonymous(rp, c, cfg, uri);
out:
	rec_ldap_close(c);
	return r == REC_OK && base_ok;
}

int
admin_check_ldap(struct report *rp, const struct rec_config *cfg)
{
	char copy[REC_PATH_MAX], *u, *save = NULL;
	int wr_set = cfg->ldap_write_uri[0] != '\0', ok = 1;

	check_settings(rp, cfg);
	/* Each URI once: a reader, and where changes go, a writer too. */
	snprintf(copy, sizeof(copy), "%s", cfg->ldap_uri);
	for (u = strtok_r(copy, " \t", &save); u != NULL;
	    u = strtok_r(NULL, " \t", &save))
		ok &= check_uri(rp, cfg, u, !wr_set ||
		    list_has(cfg->ldap_write_uri, u));
	snprintf(copy, sizeof(copy), "%s", cfg->ldap_write_uri);
	for (u = strtok_r(copy, " \t", &save); u != NULL;
	    u = strtok_r(NULL, " \t", &save))
		if (!list_has(cfg->ldap_uri, u))
			ok &= check_uri(rp, cfg, u, 1);
	return ok;
}
