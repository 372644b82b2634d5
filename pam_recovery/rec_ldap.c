/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap.c: connecting to the directory: URIs, TLS, bind, deadlines. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "rec_ldap_int.h"
#include "rec_secret.h"

#define PW_FILE_MAX 1024	/* a bind password file is small */
#define OPT_OK LDAP_OPT_SUCCESS

enum scheme { S_LDAP, S_LDAPS, S_LDAPI };

int
rec_ldap_err(int lrc)
{
	switch (lrc) {
	case LDAP_SUCCESS:
		return REC_OK;
	case LDAP_NO_SUCH_OBJECT:
		return REC_ERR_NOTFOUND;
	case LDAP_INSUFFICIENT_ACCESS:
	case LDAP_INVALID_CREDENTIALS:
	case LDAP_INAPPROPRIATE_AUTH:
	case LDAP_STRONG_AUTH_REQUIRED:
	case LDAP_CONFIDENTIALITY_REQUIRED:
		return REC_ERR_PERM;
	case LDAP_ALREADY_EXISTS:
	case LDAP_TYPE_OR_VALUE_EXISTS:
	case LDAP_CONSTRAINT_VIOLATION:
		return REC_ERR_EXISTS;
	case LDAP_TIMEOUT:
	case LDAP_TIMELIMIT_EXCEEDED:
		return REC_ERR_TIMEOUT;
	case LDAP_NO_MEMORY:
		return REC_ERR_NOMEM;
	default:
		return REC_ERR_IO;
	}
}

int
rec_ldap_wait(struct rec_ldap *c, int msgid, const char *what,
    LDAPMessage **res)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	int rc, lrc = LDAP_OTHER;

	*res = NULL;
	rc = ldap_result(c->ld, msgid, LDAP_MSG_ALL, &tv, res);
	if (rc == 0) {
		rec_logf(c->log, LOG_ERR, "directory %s: %s: no answer within "
		    "%u s", c->uri, what, c->cfg.ldap_timeout);
		(void)ldap_abandon_ext(c->ld, msgid, NULL, NULL);
		c->broken = 1;
		return REC_ERR_TIMEOUT;
	}
	if (rc == -1) {
		(void)ldap_get_option(c->ld, LDAP_OPT_RESULT_CODE, &lrc);
		rec_logf(c->log, LOG_ERR, "directory %s: %s: %s", c->uri, what,
		    ldap_err2string(lrc));
		c->broken = 1;
		return lrc == LDAP_TIMEOUT ? REC_ERR_TIMEOUT : REC_ERR_IO;
	}
	return REC_OK;
}

int
rec_ldap_result(struct rec_ldap *c, LDAPMessage *res, const char *what,
    int *lrc)
{
	char *msg = NULL;
	int rc;

	*lrc = LDAP_OTHER;
	rc = ldap_parse_result(c->ld, res, lrc, NULL, &msg, NULL, NULL, 1);
	if (rc != LDAP_SUCCESS)
		*lrc = rc;
	if (*lrc != LDAP_SUCCESS)
		rec_logf(c->log, LOG_DEBUG, "directory %s: %s: %s%s%s", c->uri,
		    what, ldap_err2string(*lrc), msg != NULL && *msg != '\0' ?
		    ": " : "", msg != NULL ? msg : "");
	ldap_memfree(msg);
	return rec_ldap_err(*lrc);
}

/*
 * user as an RFC 4514 attribute value into esc (3 * REC_USER_MAX + 1
 * bytes): the specials, a leading '#' or blank and a trailing blank get a
 * backslash.  REC_ERR_USAGE for an empty or too long name or one with a
 * control character.
 */
static int
escape_value(const char *user, char *esc)
{
	size_t i, n = 0, len;

	if (user == NULL || (len = strlen(user)) == 0 || len >= REC_USER_MAX)
		return REC_ERR_USAGE;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)user[i];

		if (ch < 0x20 || ch == 0x7f)
			return REC_ERR_USAGE;
		if (strchr(",+\"\\<>;=", ch) != NULL ||
		    (i == 0 && (ch == '#' || ch == ' ')) ||
		    (i == len - 1 && ch == ' '))
			esc[n++] = '\\';
		esc[n++] = (char)ch;
	}
	esc[n] = '\0';
	return REC_OK;
}

int
rec_ldap_user_dn(const struct rec_ldap *c, const char *user, char *dn)
{
	char esc[3 * REC_USER_MAX + 1];
	int r;

	if ((r = escape_value(user, esc)) != REC_OK)
		return r;
	if ((size_t)snprintf(dn, REC_DN_MAX, "uid=%s,%s", esc,
	    c->cfg.ldap_base) >= REC_DN_MAX)
		return REC_ERR_USAGE;
	return REC_OK;
}

int
rec_ldap_bind_dn(const char *pattern, const char *user, char *dn,
    size_t len)
{
	char esc[3 * REC_USER_MAX + 1];
	size_t n = 0, k;
	const char *p;
	int r;

	if ((r = escape_value(user, esc)) != REC_OK)
		return r;
	if (len == 0)
		return REC_ERR_USAGE;
	for (p = pattern; *p != '\0'; p++) {
		const char *add = p;

		k = 1;
		if (*p == '%') {
			if (p[1] == 'u') {
				add = esc;
				k = strlen(esc);
			} else if (p[1] != '%')
				return REC_ERR_CONFIG;
			p++;
		}
		if (k >= len - n)
			return REC_ERR_USAGE;
		memcpy(dn + n, add, k);
		n += k;
	}
	dn[n] = '\0';
	return n > 0 ? REC_OK : REC_ERR_CONFIG;
}

static int
scheme_of(const char *uri, enum scheme *s)
{
	if (strncmp(uri, "ldap://", 7) == 0)
		*s = S_LDAP;
	else if (strncmp(uri, "ldaps://", 8) == 0)
		*s = S_LDAPS;
	else if (strncmp(uri, "ldapi://", 8) == 0)
		*s = S_LDAPI;
	else
		return REC_ERR_CONFIG;
	return REC_OK;
}

/*
 * A layer under libldap's TLS that bounds each read and write by
 * ldap_timeout.  libldap 2.5 waits for a TLS handshake (ldaps://, or after
 * StartTLS) without its network timeout, retrying for as long as the
 * server keeps the connection open, so a server that accepts and never
 * answers would hold the login for ever.  Here a read or write that cannot
 * start within the timeout fails with ETIMEDOUT, which ends the handshake;
 * ldap_result still bounds every operation as a whole.
 */
static int
wait_fd(Sockbuf_IO_Desc *sbiod, short events)
{
	const struct rec_ldap *c = sbiod->sbiod_pvt;
	struct pollfd p = { .events = events };
	ber_socket_t fd = -1;
	int n;

	if (ber_sockbuf_ctrl(sbiod->sbiod_sb, LBER_SB_OPT_GET_FD, &fd) != 1 ||
	    fd < 0)
		return 0;	/* no socket: the layer below reports it */
	p.fd = fd;
	do
		n = poll(&p, 1, (int)c->cfg.ldap_timeout * 1000);
	while (n == -1 && errno == EINTR);
	if (n == 0) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

static int
dl_setup(Sockbuf_IO_Desc *sbiod, void *arg)
{
	sbiod->sbiod_pvt = arg;
	return 0;
}

static int
dl_remove(Sockbuf_IO_Desc *sbiod)
{
	(void)sbiod;
	return 0;
}

static int
dl_ctrl(Sockbuf_IO_Desc *sbiod, int opt, void *arg)
{
	return LBER_SBIOD_CTRL_NEXT(sbiod, opt, arg);
}

static ber_slen_t
dl_read(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	if (wait_fd(sbiod, POLLIN) == -1)
		return -1;
	return LBER_SBIOD_READ_NEXT(sbiod, buf, len);
}

static ber_slen_t
dl_write(Sockbuf_IO_Desc *sbiod, void *buf, ber_len_t len)
{
	if (wait_fd(sbiod, POLLOUT) == -1)
		return -1;
	return LBER_SBIOD_WRITE_NEXT(sbiod, buf, len);
}

static int
dl_close(Sockbuf_IO_Desc *sbiod)
{
	(void)sbiod;
	return 0;
}

static Sockbuf_IO deadline_io = {
	dl_setup, dl_remove, dl_ctrl, dl_read, dl_write, dl_close,
};

/*
 * Called by libldap on every new connection, before any TLS layer is put
 * on it: the deadline layer goes in at the transport level, so that TLS,
 * added later at the same level, reads and writes through it.
 */
static int
conn_add(LDAP *ld, Sockbuf *sb, LDAPURLDesc *srv, struct sockaddr *addr,
    struct ldap_conncb *ctx)
{
	(void)ld;
	(void)srv;
	(void)addr;
	if (ber_sockbuf_add_io(sb, &deadline_io, LBER_SBIOD_LEVEL_TRANSPORT,
	    ctx->lc_arg) != 0)
		return LDAP_LOCAL_ERROR;	/* refuse the connection */
	return LDAP_SUCCESS;
}

static void
conn_del(LDAP *ld, Sockbuf *sb, struct ldap_conncb *ctx)
{
	(void)ld;
	(void)sb;
	(void)ctx;
}

/*
 * Every option that decides what is safe is set on the handle itself, so
 * that nothing in ldap.conf, ~/.ldaprc or the environment can loosen it.
 */
static int
set_options(struct rec_ldap *c, LDAP *ld)
{
	struct timeval tv = { .tv_sec = (time_t)c->cfg.ldap_timeout };
	int v3 = LDAP_VERSION3, demand = LDAP_OPT_X_TLS_DEMAND, zero = 0;

	if (ldap_set_option(ld, LDAP_OPT_PROTOCOL_VERSION, &v3) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_REFERRALS, LDAP_OPT_OFF) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_NETWORK_TIMEOUT, &tv) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_TIMEOUT, &tv) != OPT_OK ||
	    ldap_set_option(ld, LDAP_OPT_X_TLS_REQUIRE_CERT, &demand) != OPT_OK)
		return REC_ERR_INTERNAL;
	c->cb.lc_add = conn_add;
	c->cb.lc_del = conn_del;
	c->cb.lc_arg = c;
	if (ldap_set_option(ld, LDAP_OPT_CONNECT_CB, &c->cb) != OPT_OK)
		return REC_ERR_INTERNAL;
	if (c->cfg.ldap_ca_file[0] != '\0' && ldap_set_option(ld,
	    LDAP_OPT_X_TLS_CACERTFILE, c->cfg.ldap_ca_file) != OPT_OK)
		return REC_ERR_CONFIG;
	/* The TLS settings above take effect in this handle's own context. */
	if (ldap_set_option(ld, LDAP_OPT_X_TLS_NEWCTX, &zero) != OPT_OK) {
		rec_logf(c->log, LOG_ERR, "directory: cannot set up TLS with "
		    "CA file %s", c->cfg.ldap_ca_file[0] != '\0' ?
		    c->cfg.ldap_ca_file : "(libldap's default)");
		return REC_ERR_CONFIG;
	}
	return REC_OK;
}

static int
start_tls(struct rec_ldap *c)
{
	LDAPMessage *res = NULL;
	int msgid, r, lrc;

	if ((lrc = ldap_start_tls(c->ld, NULL, NULL, &msgid)) != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: StartTLS: %s", c->uri,
		    ldap_err2string(lrc));
		return rec_ldap_err(lrc) == REC_ERR_TIMEOUT ? REC_ERR_TIMEOUT :
		    REC_ERR_IO;
	}
	if ((r = rec_ldap_wait(c, msgid, "StartTLS", &res)) != REC_OK)
		return r;
	if ((r = rec_ldap_result(c, res, "StartTLS", &lrc)) != REC_OK) {
		rec_logf(c->log, LOG_ERR, "directory %s: StartTLS refused: %s",
		    c->uri, ldap_err2string(lrc));
		return REC_ERR_IO;
	}
	if ((lrc = ldap_install_tls(c->ld)) != LDAP_SUCCESS) {
		char *diag = NULL;

		(void)ldap_get_option(c->ld, LDAP_OPT_DIAGNOSTIC_MESSAGE,
		    &diag);
		rec_logf(c->log, LOG_ERR, "directory %s: TLS: %s%s%s", c->uri,
		    ldap_err2string(lrc), diag != NULL ? ": " : "",
		    diag != NULL ? diag : "");
		ldap_memfree(diag);
		return REC_ERR_IO;
	}
	return REC_OK;
}

/*
 * Bind as the hosts' account: simple with the password file, or SASL
 * EXTERNAL over ldapi; or, with as, as a user (rec_ldap_open_as).
 */
static int
do_bind(struct rec_ldap *c, enum scheme s, const struct rec_ldap_bind *as)
{
	unsigned char pw[PW_FILE_MAX];
	struct berval cred = { 0, NULL };
	LDAPMessage *res = NULL;
	size_t len = 0;
	int msgid, r = REC_ERR_INTERNAL, lrc;
	const char *dn = as != NULL ? as->dn : c->cfg.ldap_bind_dn;
	const char *mech = LDAP_SASL_SIMPLE;

	if (dn == NULL || dn[0] == '\0') {
		if (s != S_LDAPI) {
			rec_logf(c->log, LOG_ERR, "directory %s: %s is not set "
			    "(only ldapi:// binds without one, with SASL "
			    "EXTERNAL)", c->uri, as != NULL ? "ldap_user_dn" :
			    "ldap_bind_dn");
			r = REC_ERR_CONFIG;
			goto out;
		}
		dn = NULL;
		mech = "EXTERNAL";
		/* An empty initial response: no authorisation identity. */
		cred.bv_val = (char *)"";
	} else if (as != NULL) {
		/*
		 * An empty password would make this an unauthenticated bind
		 * (RFC 4513 5.1.2), which some servers accept as anonymous.
		 */
		if (as->pw == NULL || as->pwlen == 0) {
			rec_logf(c->log, LOG_ERR, "directory: no password for "
			    "%s: not binding", dn);
			r = REC_ERR_PERM;
			goto out;
		}
		cred.bv_val = (char *)as->pw;
		cred.bv_len = as->pwlen;
	} else {
		if (c->cfg.ldap_bind_pw_file[0] == '\0') {
			rec_logf(c->log, LOG_ERR, "directory: ldap_bind_dn is "
			    "set but ldap_bind_pw_file is not");
			r = REC_ERR_CONFIG;
			goto out;
		}
		r = rec_secret_read(c->cfg.ldap_bind_pw_file,
		    "ldap_bind_pw_file", pw, sizeof(pw), &len, c->log);
		if (r != REC_OK)
			goto out;
		/* One line; its newline is not part of the password. */
		if (len > 0 && pw[len - 1] == '\n')
			len--;
		if (len > 0 && pw[len - 1] == '\r')
			len--;
		if (len == 0 || memchr(pw, '\n', len) != NULL ||
		    memchr(pw, '\0', len) != NULL) {
			rec_logf(c->log, LOG_ERR, "ldap_bind_pw_file %s: not "
			    "one line of password", c->cfg.ldap_bind_pw_file);
			r = REC_ERR_CONFIG;
			goto out;
		}
		cred.bv_val = (char *)pw;
		cred.bv_len = len;
	}
	if ((lrc = ldap_sasl_bind(c->ld, dn, mech, &cred, NULL, NULL,
	    &msgid)) != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: bind: %s", c->uri,
		    ldap_err2string(lrc));
		r = REC_ERR_IO;
		goto out;
	}
	sodium_memzero(pw, sizeof(pw));
	if ((r = rec_ldap_wait(c, msgid, "bind", &res)) != REC_OK)
		goto out;
	if ((r = rec_ldap_result(c, res, "bind", &lrc)) != REC_OK) {
		rec_logf(c->log, LOG_ERR, "directory %s: bind as %s refused: "
		    "%s", c->uri, dn != NULL ? dn : "SASL EXTERNAL",
		    ldap_err2string(lrc));
		goto out;
	}
	r = REC_OK;
out:
	sodium_memzero(pw, sizeof(pw));
	return r;
}

/* Connect to one URI and bind; c->ld is set on success only. */
static int
connect_one(struct rec_ldap *c, const char *uri,
    const struct rec_ldap_bind *as)
{
	enum scheme s;
	LDAP *ld = NULL;
	int r = REC_ERR_INTERNAL, lrc;

	snprintf(c->uri, sizeof(c->uri), "%s", uri);
	c->broken = 0;
	if ((r = scheme_of(uri, &s)) != REC_OK) {
		rec_logf(c->log, LOG_ERR, "directory %s: not an ldap://, "
		    "ldaps:// or ldapi:// URI", uri);
		goto out;
	}
	if (s == S_LDAP && !c->cfg.ldap_starttls && !c->cfg.ldap_insecure) {
		rec_logf(c->log, LOG_ERR, "directory %s: refusing ldap:// "
		    "without StartTLS (set ldap_starttls = yes, use ldaps:// "
		    "or ldapi://, or ldap_insecure = yes)", uri);
		r = REC_ERR_CONFIG;
		goto out;
	}
	if ((lrc = ldap_initialize(&ld, uri)) != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: %s", uri,
		    ldap_err2string(lrc));
		r = REC_ERR_CONFIG;
		goto out;
	}
	if ((r = set_options(c, ld)) != REC_OK)
		goto out;
	c->ld = ld;
	/* Connects, and for ldaps:// completes the TLS handshake. */
	if ((lrc = ldap_connect(ld)) != LDAP_SUCCESS) {
		rec_logf(c->log, LOG_ERR, "directory %s: cannot connect: %s",
		    uri, ldap_err2string(lrc));
		r = lrc == LDAP_TIMEOUT ? REC_ERR_TIMEOUT : REC_ERR_IO;
		goto out;
	}
	if (s == S_LDAP && c->cfg.ldap_starttls &&
	    (r = start_tls(c)) != REC_OK)
		goto out;
	if ((r = do_bind(c, s, as)) != REC_OK)
		goto out;
	ld = NULL;
	r = REC_OK;
out:
	if (ld != NULL) {
		(void)ldap_unbind_ext_s(ld, NULL, NULL);
		c->ld = NULL;
	}
	return r;
}

int
rec_ldap_open(const struct rec_config *cfg, int write,
    const struct rec_log *log, struct rec_ldap **out)
{
	return rec_ldap_open_as(cfg, write, NULL, log, out);
}

int
rec_ldap_open_as(const struct rec_config *cfg, int write,
    const struct rec_ldap_bind *as, const struct rec_log *log,
    struct rec_ldap **out)
{
	struct rec_ldap *c = NULL;
	char uris[REC_PATH_MAX], *u, *save = NULL;
	const char *list;
	int r = REC_ERR_INTERNAL;

	*out = NULL;
	list = write && cfg->ldap_write_uri[0] != '\0' ? cfg->ldap_write_uri :
	    cfg->ldap_uri;
	if (list[0] == '\0' || cfg->ldap_base[0] == '\0') {
		rec_logf(log, LOG_ERR, "directory: ldap_uri and ldap_base "
		    "must be set");
		r = REC_ERR_CONFIG;
		goto out;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	c->cfg = *cfg;
	c->log = log;
	c->write = write != 0;
	snprintf(uris, sizeof(uris), "%s", list);
	r = REC_ERR_CONFIG;
	for (u = strtok_r(uris, " \t", &save); u != NULL;
	    u = strtok_r(NULL, " \t", &save)) {
		r = connect_one(c, u, as);
		/* Settings that are wrong for one URI are wrong for all. */
		if (r == REC_OK || r == REC_ERR_CONFIG || r == REC_ERR_UNSAFE ||
		    r == REC_ERR_PERM || r == REC_ERR_NOMEM)
			break;
	}
	if (r != REC_OK)
		goto out;
	*out = c;
	c = NULL;
out:
	rec_ldap_close(c);
	return r;
}

void
rec_ldap_close(struct rec_ldap *c)
{
	if (c == NULL)
		return;
	if (c->ld != NULL)
		(void)ldap_unbind_ext_s(c->ld, NULL, NULL);
	sodium_memzero(c, sizeof(*c));
	free(c);
}
