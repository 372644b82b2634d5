/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_ldap_dir.c: item 11's directory: its slapd, its users and codes, and the operations a login sends, counted. */
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ldap.h>
#include <sodium.h>

#include "rec_code.h"
#include "rec_err.h"
#include "rec_kdf.h"
#include "rec_ldap.h"

#include "bench.h"

#define SLAPD_SCRIPT	"bench/bench_slapd.sh"
/* The entries of tests/slapd.sh, which the script's server is made of. */
#define SUFFIX		"dc=example,dc=org"
#define HOST_DN		"cn=pam-recovery-host,ou=services," SUFFIX
#define ADMIN_DN	"cn=pam-recovery-admin,ou=services," SUFFIX

/*
 * The operations a login sends, counted as libldap is asked for them: the
 * bench is linked with --wrap for each (Makefile), so that the counts
 * are those of the client library's own calls, whatever layer makes them.
 */
static unsigned long op_count[LOP_N];

const char *const ldap_op_name[LOP_N] = {
	"connect", "StartTLS", "TLS handshake", "bind", "search", "modify",
	"add",
};

void
ldap_ops(unsigned long out[LOP_N])
{
	memcpy(out, op_count, sizeof(op_count));
}

int __real_ldap_connect(LDAP *ld);
int __wrap_ldap_connect(LDAP *ld);
int __real_ldap_start_tls(LDAP *ld, LDAPControl **sc, LDAPControl **cc,
    int *msgidp);
int __wrap_ldap_start_tls(LDAP *ld, LDAPControl **sc, LDAPControl **cc,
    int *msgidp);
int __real_ldap_install_tls(LDAP *ld);
int __wrap_ldap_install_tls(LDAP *ld);
int __real_ldap_sasl_bind(LDAP *ld, const char *dn, const char *mech,
    struct berval *cred, LDAPControl **sc, LDAPControl **cc, int *msgidp);
int __wrap_ldap_sasl_bind(LDAP *ld, const char *dn, const char *mech,
    struct berval *cred, LDAPControl **sc, LDAPControl **cc, int *msgidp);
int __real_ldap_search_ext(LDAP *ld, const char *base, int scope,
    const char *filter, char **attrs, int attrsonly, LDAPControl **sc,
    LDAPControl **cc, struct timeval *timeout, int sizelimit, int *msgidp);
int __wrap_ldap_search_ext(LDAP *ld, const char *base, int scope,
    const char *filter, char **attrs, int attrsonly, LDAPControl **sc,
    LDAPControl **cc, struct timeval *timeout, int sizelimit, int *msgidp);
int __real_ldap_modify_ext(LDAP *ld, const char *dn, LDAPMod **mods,
    LDAPControl **sc, LDAPControl **cc, int *msgidp);
int __wrap_ldap_modify_ext(LDAP *ld, const char *dn, LDAPMod **mods,
    LDAPControl **sc, LDAPControl **cc, int *msgidp);
int __real_ldap_add_ext(LDAP *ld, const char *dn, LDAPMod **attrs,
    LDAPControl **sc, LDAPControl **cc, int *msgidp);
int __wrap_ldap_add_ext(LDAP *ld, const char *dn, LDAPMod **attrs,
    LDAPControl **sc, LDAPControl **cc, int *msgidp);

int
__wrap_ldap_connect(LDAP *ld)
{
	op_count[LOP_CONNECT]++;
	return __real_ldap_connect(ld);
}

int
__wrap_ldap_start_tls(LDAP *ld, LDAPControl **sc, LDAPControl **cc,
    int *msgidp)
{
	op_count[LOP_STARTTLS]++;
	return __real_ldap_start_tls(ld, sc, cc, msgidp);
}

int
__wrap_ldap_install_tls(LDAP *ld)
{
	op_count[LOP_HANDSHAKE]++;
	return __real_ldap_install_tls(ld);
}

int
__wrap_ldap_sasl_bind(LDAP *ld, const char *dn, const char *mech,
    struct berval *cred, LDAPControl **sc, LDAPControl **cc, int *msgidp)
{
	op_count[LOP_BIND]++;
	return __real_ldap_sasl_bind(ld, dn, mech, cred, sc, cc, msgidp);
}

int
__wrap_ldap_search_ext(LDAP *ld, const char *base, int scope,
    const char *filter, char **attrs, int attrsonly, LDAPControl **sc,
    LDAPControl **cc, struct timeval *timeout, int sizelimit, int *msgidp)
{
	op_count[LOP_SEARCH]++;
	return __real_ldap_search_ext(ld, base, scope, filter, attrs,
	    attrsonly, sc, cc, timeout, sizelimit, msgidp);
}

int
__wrap_ldap_modify_ext(LDAP *ld, const char *dn, LDAPMod **mods,
    LDAPControl **sc, LDAPControl **cc, int *msgidp)
{
	op_count[LOP_MODIFY]++;
	return __real_ldap_modify_ext(ld, dn, mods, sc, cc, msgidp);
}

int
__wrap_ldap_add_ext(LDAP *ld, const char *dn, LDAPMod **attrs,
    LDAPControl **sc, LDAPControl **cc, int *msgidp)
{
	op_count[LOP_ADD]++;
	return __real_ldap_add_ext(ld, dn, attrs, sc, cc, msgidp);
}

/*
 * Run bench_slapd.sh with args (up to three after the command), from the
 * source tree the bench runs in, and read its "key=value" lines into d.
 * out (may be NULL) receives its first line when it prints no key.
 * Returns 0, or -1 when it failed (its messages went to stderr).
 */
static int
script(struct ldap_dir *d, const char *cmd, const char *a1, const char *a2,
    const char *a3, char *out, size_t outlen)
{
	const char *argv[] = { "/bin/sh", SLAPD_SCRIPT, cmd, a1, a2, a3, NULL };
	char line[256];
	FILE *f = NULL;
	int pfd[2] = { -1, -1 }, status, ret = -1;
	pid_t pid;

	if (out != NULL && outlen > 0)
		*out = '\0';
	if (access(SLAPD_SCRIPT, R_OK) == -1) {
		fprintf(stderr, "bench: %s: %s (run the bench from the source "
		    "tree)\n", SLAPD_SCRIPT, strerror(errno));
		return -1;
	}
	if (pipe(pfd) == -1) {
		fprintf(stderr, "bench: pipe: %s\n", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (pid == 0) {
		close(pfd[0]);
		if (dup2(pfd[1], STDOUT_FILENO) == -1)
			_exit(127);
		close(pfd[1]);
		execv(argv[0], (char *const *)(uintptr_t)argv);
		_exit(127);
	}
	close(pfd[1]);
	if ((f = fdopen(pfd[0], "r")) == NULL)
		close(pfd[0]);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		line[strcspn(line, "\n")] = '\0';
		if (strncmp(line, "port=", 5) == 0)
			d->port = (unsigned)strtoul(line + 5, NULL, 10);
		else if (strncmp(line, "version=", 8) == 0)
			snprintf(d->version, sizeof(d->version), "%.31s",
			    line + 8);
		else if (strncmp(line, "ldif_bytes=", 11) == 0)
			d->ldif_bytes = strtod(line + 11, NULL);
		else if (strncmp(line, "ldif_s=", 7) == 0)
			d->ldif_s = strtod(line + 7, NULL);
		else if (strncmp(line, "users=", 6) == 0)
			d->held = (unsigned)strtoul(line + 6, NULL, 10);
		else if (strncmp(line, "slapadd_s=", 10) == 0)
			d->slapadd_s = strtod(line + 10, NULL);
		else if (out != NULL && outlen > 0 && *out == '\0')
			snprintf(out, outlen, "%s", line);
	}
	if (f != NULL)
		fclose(f);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			fprintf(stderr, "bench: waitpid: %s\n",
			    strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		ret = 0;
	else
		fprintf(stderr, "bench: %s %s failed\n", SLAPD_SCRIPT, cmd);
	return ret;
}

int
dir_missing(char *why, size_t len)
{
	struct ldap_dir d;

	memset(&d, 0, sizeof(d));
	if (script(&d, "missing", NULL, NULL, NULL, why, len) != 0)
		snprintf(why, len, "%s does not run", SLAPD_SCRIPT);
	return why[0] != '\0';
}

/*
 * The configuration of one account: the run's (b->scfg: the bench's cost,
 * a lockout that never engages) with the directory's settings, its
 * password in DIR/name.pw.  Returns 0 or -1.
 */
static int
account(struct bench *b, struct ldap_dir *d, const char *name,
    const char *dn, const char *pw, struct rec_config *cfg)
{
	char path[sizeof(d->path) + 32], text[64];

	*cfg = b->scfg;
	snprintf(text, sizeof(text), "%s\n", pw);
	if ((size_t)snprintf(path, sizeof(path), "%s/%s.pw", d->path, name) >=
	    sizeof(path) || write_file(path, 0600, text) != 0)
		return -1;
	snprintf(cfg->ldap_bind_pw_file, sizeof(cfg->ldap_bind_pw_file), "%s",
	    path);
	snprintf(cfg->ldap_bind_dn, sizeof(cfg->ldap_bind_dn), "%s", dn);
	snprintf(cfg->ldap_base, sizeof(cfg->ldap_base), "ou=recovery,%s",
	    SUFFIX);
	snprintf(cfg->ldap_ca_file, sizeof(cfg->ldap_ca_file), "%s/ca.pem",
	    d->path);
	snprintf(cfg->host_name, sizeof(cfg->host_name), "bench-%s", name);
	cfg->ldap_write_uri[0] = '\0';
	cfg->ldap_starttls = 1;
	cfg->ldap_insecure = 0;
	cfg->ldap_timeout = 30;
	return 0;
}

/* Both accounts' URI: ldap:// on the server's port, with StartTLS. */
static void
set_uri(struct ldap_dir *d)
{
	snprintf(d->host.ldap_uri, sizeof(d->host.ldap_uri),
	    "ldap://127.0.0.1:%u/", d->port);
	snprintf(d->admin.ldap_uri, sizeof(d->admin.ldap_uri),
	    "ldap://127.0.0.1:%u/", d->port);
}

int
dir_start(struct bench *b, struct ldap_dir *d)
{
	char pid[32];

	if ((size_t)snprintf(d->path, sizeof(d->path), "%s/ldap", b->tmp) >=
	    sizeof(d->path) || mkdir(d->path, 0700) == -1) {
		fprintf(stderr, "bench: %s: %s\n", d->path, strerror(errno));
		return -1;
	}
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	d->running = 1;	/* stopped by its pidfile, whatever happened */
	if (script(d, "start", d->path, pid, NULL, NULL, 0) != 0 ||
	    d->port == 0)
		return -1;
	if (account(b, d, "host", HOST_DN, "hostpw", &d->host) != 0 ||
	    account(b, d, "admin", ADMIN_DN, "adminpw", &d->admin) != 0)
		return -1;
	set_uri(d);
	return rec_ldap_open(&d->admin, 1, &b->log, &d->adm) == REC_OK ? 0 :
	    -1;
}

int
dir_fill(struct bench *b, struct ldap_dir *d, unsigned users,
    const char *tmpl)
{
	char n[16];

	rec_ldap_close(d->adm);
	d->adm = NULL;
	snprintf(n, sizeof(n), "%u", users);
	d->port = 0;
	if (script(d, "fill", d->path, n, tmpl, NULL, 0) != 0 || d->port == 0)
		return -1;
	set_uri(d);
	return rec_ldap_open(&d->admin, 1, &b->log, &d->adm) == REC_OK ? 0 :
	    -1;
}

void
dir_stop(struct ldap_dir *d)
{
	rec_ldap_close(d->adm);
	d->adm = NULL;
	if (d->running)
		(void)script(d, "stop", d->path, NULL, NULL, NULL, 0);
	d->running = 0;
}

/*
 * A fresh active batch of FILL_CODES codes for p->user at (ops, mem),
 * written by the administrators' account with rec_ldap_write_batch, made
 * as rec_issue_generate makes them (distinct tags, a salt per code), as
 * tests/ldapdrive.c's gen does; the codes in clear go to p.
 */
int
dir_seed(struct bench *b, struct ldap_dir *d, struct ldap_pool *p,
    uint64_t ops, uint64_t mem)
{
	struct rec_code_rec *recs = NULL;
	struct rec_batch bt;
	uint64_t now = (uint64_t)time(NULL);
	uint32_t rnd;
	unsigned n = FILL_CODES;
	int r = REC_ERR_NOMEM;

	memset(&bt, 0, sizeof(bt));
	if ((recs = sodium_malloc(n * sizeof(*recs))) == NULL)
		goto out;
	memset(recs, 0, n * sizeof(*recs));
	randombytes_buf(&rnd, sizeof(rnd));
	bt.id = now << 24 | (rnd & 0xffffff);
	bt.status = REC_BATCH_ACTIVE;
	bt.created = bt.modified = now;
	bt.count = (uint16_t)n;
	bt.opslimit = ops;
	bt.memlimit = mem;
	bt.fmt = b->fmt;
	bt.tag_bits = (uint8_t)rec_format_batch_tag_bits(&bt.fmt, n);
	randombytes_buf(bt.tag_key, sizeof(bt.tag_key));
	for (unsigned i = 0; i < n; i++) {
		unsigned j, tries = 0;

		do {
			rec_code_generate(&bt.fmt, p->codes[i]);
			recs[i].tag = rec_kdf_tag(p->codes[i], NULL,
			    bt.tag_key, bt.tag_bits);
			for (j = 0; j < i && (bt.tag_bits == 0 ||
			    recs[j].tag != recs[i].tag); j++)
				;
		} while (j < i && ++tries < 1000);
		if (j < i) {
			r = REC_ERR_INTERNAL;
			goto out;
		}
		recs[i].slot = (uint8_t)(i + 1);
		recs[i].state = REC_CODE_UNUSED;
		randombytes_buf(recs[i].salt, REC_SALT_LEN);
		if ((r = rec_kdf_hash(p->codes[i], NULL, recs[i].salt, ops, mem,
		    recs[i].hash)) != REC_OK)
			goto out;
	}
	r = rec_ldap_write_batch(d->adm, p->user, &bt, recs, n, now);
out:
	if (recs != NULL) {
		sodium_memzero(recs, n * sizeof(*recs));
		sodium_free(recs);
	}
	sodium_memzero(&bt, sizeof(bt));
	p->next = 0;
	p->n = r == REC_OK ? n : 0;
	if (r != REC_OK)
		fprintf(stderr, "bench: codes for %s in the directory: %s\n",
		    p->user, rec_strerror(r));
	return r == REC_OK ? 0 : -1;
}

const char *
dir_code(struct bench *b, struct ldap_dir *d, struct ldap_pool *p)
{
	if (p->next == p->n && dir_seed(b, d, p, b->opslimit, b->memlimit) !=
	    0)
		return NULL;
	return p->codes[p->next++];
}
