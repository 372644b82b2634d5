/* SPDX-License-Identifier: BSD-2-Clause */
/* pam_recovery.c: the PAM glue: arguments, conversation, privileges, syslog. */
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_ACCOUNT
#include <security/pam_ext.h>
#include <security/pam_modules.h>
#include <security/pam_modutil.h>

#include <sodium.h>

#include "rec_auth.h"
#include "rec_be.h"
#include "rec_child.h"
#include "rec_code.h"
#include "rec_err.h"
#include "rec_file.h"
#include "rec_helper.h"
#include "rec_notify.h"
#include "rec_target.h"

#define DEFAULT_PROMPT "Recovery code: "
#define ANY_CODE_PROMPT "Verification code: "

/*
 * Messages to the user are plain ASCII.  The OpenSSH client prints the
 * messages that end a failed keyboard-interactive attempt through its
 * logger, which escapes every byte above 0x7f in any locale: an em dash
 * would reach an SSH user as \342\200\224.
 */

/* Module-only options; everything else in argv is a configuration key. */
struct opts {
	const char *conf;
	const char *prompt;
	int nouserok, silent, debug, use_first_pass, try_first_pass;
	int any_code;	/* one prompt shared with the next module */
};

/* Everything one PAM call holds; released in call_end(). */
struct call {
	pam_handle_t *pamh;
	struct opts o;
	struct rec_config cfg;
	struct rec_log log;
	const char *user;
	const struct passwd *pw;
	struct rec_target target;	/* the store, and as whom it is read */
	int has_store;			/* 0: unknown user of a per-user store */
	unsigned char pepper[REC_PEPPER_LEN];
	int have_pepper;
	struct rec_who who;
	struct rec_child child;		/* the store helper, once started */
	int child_started;
	char args[REC_HELPER_ARGS_MAX];	/* key=value arguments, for it */
	size_t args_len;
	int helper_known;		/* helper worked out (helper_command) */
	char helper[REC_HELPER_CMD_MAX];	/* "": the user cannot */
};

/* What the store helper answers, to the status and to the attempt. */
struct job_out {
	struct rec_status s;
	struct rec_result res;
	int store_exists;
};

static void
log_sink(void *ctx, int prio, const char *msg)
{
	pam_syslog((pam_handle_t *)ctx, prio, "%s", msg);
}

/* The single place where project errors become PAM results. */
static int
rec_to_pam(int err)
{
	switch (err) {
	case REC_OK:
		return PAM_SUCCESS;
	case REC_ERR_MALFORMED:
	case REC_ERR_LOCKED:
	case REC_ERR_NOMATCH:
	case REC_ERR_USED:
	case REC_ERR_INVALIDATED:
	case REC_ERR_EXPIRED:
	case REC_ERR_NOSTORE:
	case REC_ERR_NOUSER:
		return PAM_AUTH_ERR;
	case REC_ERR_IO:
	case REC_ERR_CORRUPT:
	case REC_ERR_UNSAFE:
	case REC_ERR_NOMEM:
	case REC_ERR_FULL:
	case REC_ERR_POLICY:
	case REC_ERR_OWNER:
	case REC_ERR_ACCESS:
	case REC_ERR_NOSPACE:
	case REC_ERR_ROFS:
	case REC_ERR_NODIR:
	case REC_ERR_TIMEOUT:
	case REC_ERR_MISSING:
		return PAM_AUTHINFO_UNAVAIL;
	/*
	 * A directory that answers but refuses this host (its bind, or an
	 * operation its ACLs refuse) is a broken setup, as a bad
	 * configuration is, not a store that cannot be reached: a stack
	 * that falls back on PAM_AUTHINFO_UNAVAIL does not on these.
	 */
	case REC_ERR_CONFIG:
	case REC_ERR_PERM:
		return PAM_SERVICE_ERR;
	}
	return PAM_SERVICE_ERR;
}

/* A syslog field value: printable, no blanks, never empty. */
static void
field(char *out, size_t len, const char *in)
{
	size_t i = 0;

	if (in == NULL || *in == '\0')
		in = "-";
	for (; *in != '\0' && i + 1 < len; in++, i++)
		out[i] = (*in > ' ' && *in < 0x7f && *in != '=') ? *in : '?';
	out[i] = '\0';
}

/* One syslog line per event, as key=value fields; never a code. */
static void
log_event(struct call *c, const char *event, uint64_t batch, unsigned slot,
    const char *extra)
{
	char user[64], service[64], rhost[80], tty[64];
	char tail[160] = "";

	field(user, sizeof(user), c->who.user);
	field(service, sizeof(service), c->who.service);
	field(rhost, sizeof(rhost), c->who.rhost);
	field(tty, sizeof(tty), c->who.tty);
	if (batch != 0)
		snprintf(tail, sizeof(tail), " batch=%016llx slot=%u",
		    (unsigned long long)batch, slot);
	pam_syslog(c->pamh, LOG_NOTICE, "event=%s user=%s service=%s rhost=%s "
	    "tty=%s%s%s%s", event, user, service, rhost, tty, tail,
	    extra != NULL ? " " : "", extra != NULL ? extra : "");
}

/*
 * The command with which this user manages their codes themselves
 * (rec_config_helper), into buf, or NULL when they cannot: pointing a
 * system-store user at pam-recovery without pam-recovery-selfd would be a
 * dead end.  A service with a [service] section of its own needs
 * --service, or the helper would work on another store.  Rare (only when
 * advice or a notice is due), so the sections are read again, once a call.
 */
static const char *
helper_command(struct call *c)
{
	char names[REC_SECTIONS_MAX][REC_SERVICE_MAX];
	const char *svc = c->who.service;
	unsigned n = 0;
	int own = 0;

	if (!c->helper_known) {
		if (svc != NULL && rec_config_sections(c->o.conf != NULL ?
		    c->o.conf : REC_CONF_DEFAULT, names, &n, NULL) == REC_OK)
			for (unsigned i = 0; i < n && !own; i++)
				own = strcmp(names[i], svc) == 0;
		if (rec_config_helper(&c->cfg, own ? svc : NULL, c->helper,
		    sizeof(c->helper)) == NULL)
			c->helper[0] = '\0';
		c->helper_known = 1;
	}
	return c->helper[0] != '\0' ? c->helper : NULL;
}

/*
 * Tell the notify_command of a change (rec_notify).  Its failure is logged
 * there and never changes the outcome of the login.
 */
static void
notify(struct call *c, enum rec_notify_event event, long remaining)
{
	struct rec_notice n = { .event = event, .user = c->who.user,
	    .remaining = remaining, .service = c->who.service,
	    .rhost = c->who.rhost, .system_store = !rec_config_per_user(&c->cfg),
	    .admin_email = c->cfg.admin_email,
	    .helper = helper_command(c) };

	(void)rec_notify(c->cfg.notify_command, c->cfg.notify_timeout, &n,
	    &c->log);
}

static const char *
item(pam_handle_t *pamh, int type)
{
	const void *v = NULL;

	if (pam_get_item(pamh, type, &v) != PAM_SUCCESS)
		return NULL;
	return v;
}

/*
 * Add the key=value argument a for the store helper, which applies them in
 * order after the configuration file (store_helper.c configure).
 */
static int
add_arg(struct call *c, const char *a)
{
	size_t n = strlen(a) + 1;

	if (n > sizeof(c->args) - c->args_len) {
		pam_syslog(c->pamh, LOG_ERR, "module arguments too long");
		return REC_ERR_CONFIG;
	}
	memcpy(c->args + c->args_len, a, n);
	c->args_len += n;
	return REC_OK;
}

/*
 * Parse argv over the configuration file: conf= first, then the file (its
 * global settings, then the [service NAME] section of this PAM service),
 * then every key=value argument, which wins.  Fails closed on anything
 * unknown.
 */
static int
call_config(struct call *c, int argc, const char **argv)
{
	const char *path = REC_CONF_DEFAULT;
	int r;

	for (int i = 0; i < argc; i++)
		if (strncmp(argv[i], "conf=", 5) == 0)
			path = c->o.conf = argv[i] + 5;
	rec_config_defaults(&c->cfg);
	r = rec_config_load_service(&c->cfg, path, item(c->pamh, PAM_SERVICE),
	    &c->log);
	if (r == REC_ERR_NOTFOUND && c->o.conf == NULL)
		r = REC_OK;
	else if (r == REC_ERR_NOTFOUND)
		pam_syslog(c->pamh, LOG_ERR, "configuration %s not found", path);
	if (r != REC_OK)
		return PAM_SERVICE_ERR;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *eq = strchr(a, '=');
		char key[64];

		if (strcmp(a, "nouserok") == 0)
			c->o.nouserok = 1;
		else if (strcmp(a, "silent") == 0)
			c->o.silent = 1;
		else if (strcmp(a, "debug") == 0)
			c->o.debug = c->log.debug = 1;
		else if (strcmp(a, "use_first_pass") == 0)
			c->o.use_first_pass = 1;
		else if (strcmp(a, "try_first_pass") == 0)
			c->o.try_first_pass = 1;
		else if (strcmp(a, "any_code") == 0)
			c->o.any_code = 1;
		else if (strncmp(a, "prompt=", 7) == 0)
			c->o.prompt = a + 7;
		else if (strncmp(a, "conf=", 5) == 0)
			continue;
		else if (eq != NULL && (size_t)(eq - a) < sizeof(key)) {
			memcpy(key, a, (size_t)(eq - a));
			key[eq - a] = '\0';
			if (rec_config_set(&c->cfg, key, eq + 1,
			    "module arguments", 0, &c->log) != REC_OK)
				return PAM_SERVICE_ERR;
			/* The store helper applies them as we did. */
			if (add_arg(c, a) != REC_OK)
				return PAM_SERVICE_ERR;
		} else {
			pam_syslog(c->pamh, LOG_ERR, "unknown argument: %s", a);
			return PAM_SERVICE_ERR;
		}
	}
	if (rec_config_validate(&c->cfg, &c->log) != REC_OK)
		return PAM_SERVICE_ERR;
	if (rec_target_check_pepper(&c->cfg, &c->log) != REC_OK)
		return PAM_SERVICE_ERR;
	return PAM_SUCCESS;
}

/*
 * Look the user up and work out the store (rec_target_resolve): its path
 * and its owner, as whom a child does all the store work (see
 * store_status).  An unknown user of a per-user store has none.
 */
static int
call_open(struct call *c)
{
	int r = REC_ERR_INTERNAL;

	c->pw = pam_modutil_getpwnam(c->pamh, c->user);
	r = rec_target_resolve(&c->cfg, c->user, c->pw, 0, &c->target);
	if (r == REC_ERR_NOUSER)
		return REC_OK;
	if (r != REC_OK)
		return r;
	if (c->target.pepper) {
		if ((r = rec_kdf_load_pepper(c->cfg.pepper_file, c->pepper,
		    &c->log)) != REC_OK)
			return r;
		c->have_pepper = 1;
	}
	c->has_store = 1;
	return REC_OK;
}

/* With no store there is nothing to read, and an attempt only hashes. */
static int
status_work(struct call *c, struct job_out *o)
{
	memset(o, 0, sizeof(*o));
	return rec_auth_status(NULL, &c->cfg, c->user, time(NULL), &o->s);
}

static int
attempt_work(struct call *c, const char *code, struct job_out *o)
{
	memset(o, 0, sizeof(*o));
	return rec_auth_attempt(NULL, &c->cfg, &c->who,
	    &(struct rec_attempt){ .input = code,
	    .pepper = c->have_pepper ? c->pepper : NULL, .now = time(NULL) },
	    &o->res);
}

/*
 * The store helper: a program of root's (or, not as root, of ours) that
 * nobody else may change.
 */
static const struct rec_file_rule helper_rule = {
	"store helper", S_IFREG, 0, REC_FILE_SELF, S_IWGRP | S_IWOTH, S_IXUSR
};

/*
 * The store helper's executable, opened and checked by rec_file_open on
 * the descriptor that will be run.  -1 when refused (logged).
 */
static int
open_helper(struct call *c)
{
	struct stat sb;
	int fd;

	if (rec_file_open(AT_FDCWD, NULL, c->cfg.store_helper, &helper_rule,
	    &c->log, &fd, &sb) == REC_ERR_NOTFOUND)
		pam_syslog(c->pamh, LOG_ERR, "store helper %s: %s",
		    c->cfg.store_helper, strerror(ENOENT));
	return fd;
}

/* The job for the helper: 32-bit big-endian length, then the message. */
static int
send_job(struct call *c)
{
	struct rec_helper_job *j = NULL;
	uint8_t *buf = NULL;
	size_t len = 0;
	int r = REC_ERR_NOMEM;

	if ((j = sodium_malloc(sizeof(*j))) == NULL ||
	    (buf = sodium_malloc(REC_HELPER_JOB_MAX + 4)) == NULL)
		goto out;
	memset(j, 0, sizeof(*j));
	j->uid = (uint32_t)c->target.owner;
	j->gid = (uint32_t)c->target.owner_gid;
	j->parent = (uint32_t)getpid();
	snprintf(j->store, sizeof(j->store), "%s", c->target.path);
	snprintf(j->conf, sizeof(j->conf), "%s", c->o.conf != NULL ?
	    c->o.conf : REC_CONF_DEFAULT);
	j->conf_given = c->o.conf != NULL;
	memcpy(j->args, c->args, c->args_len);
	j->args_len = c->args_len;
	snprintf(j->user, sizeof(j->user), "%s", c->user);
	if ((j->has_service = c->who.service != NULL))
		snprintf(j->service, sizeof(j->service), "%s", c->who.service);
	if ((j->has_rhost = c->who.rhost != NULL))
		snprintf(j->rhost, sizeof(j->rhost), "%s", c->who.rhost);
	if ((j->has_tty = c->who.tty != NULL))
		snprintf(j->tty, sizeof(j->tty), "%s", c->who.tty);
	j->debug = c->o.debug;
	if ((j->have_pepper = c->have_pepper))
		memcpy(j->pepper, c->pepper, sizeof(j->pepper));
	if ((r = rec_helper_job_encode(j, buf + 4, REC_HELPER_JOB_MAX, &len)) !=
	    REC_OK) {
		pam_syslog(c->pamh, LOG_ERR, "the job for the store helper "
		    "does not fit its message");
		goto out;
	}
	rec_be_put32(buf, (uint32_t)len);
	r = rec_child_send_request(&c->child, buf, len + 4);
out:
	sodium_free(j);
	sodium_free(buf);
	return r;
}

/*
 * The status of the user's codes.  The module never maps a store: the
 * store work of the whole call runs in the store helper, a program of
 * its own spawned with nothing of the host but its socket, which becomes
 * the store's owner and nothing more: for a per-user store, the user
 * (root never maps a file the user wrote); for the system store, root.
 * LMDB trusts the file it maps, and a damaged one must kill the helper,
 * not sshd, login or sudo.  A user without a store needs no helper:
 * there is nothing to read, and an attempt only hashes.
 */
static int
store_status(struct call *c, struct job_out *o)
{
	uint8_t buf[REC_HELPER_STATUS_LEN];
	int r, cr, exe;

	if (!c->has_store)
		return status_work(c, o);
	memset(o, 0, sizeof(*o));
	if ((exe = open_helper(c)) == -1)
		return REC_ERR_UNSAFE;
	/*
	 * The deadline of each answer covers what the helper may spend on
	 * the directory's URIs (rec_config_store_wait), so that a directory
	 * that is down or silent is its store error (timeout, io), not a
	 * helper stopped here; either way a store error, never a success.
	 */
	r = rec_target_spawn(&c->target, exe, rec_config_store_wait(&c->cfg),
	    &c->log, &c->child);
	close(exe);
	if (r != REC_OK)
		return r;
	c->child_started = 1;
	if ((r = send_job(c)) != REC_OK ||
	    (r = rec_child_receive_reply(&c->child, &cr, buf,
	    sizeof(buf))) != REC_OK)
		return r;
	if ((r = rec_helper_status_decode(buf, &o->s, &o->store_exists)) !=
	    REC_OK) {
		pam_syslog(c->pamh, LOG_ERR, "the store helper's status does "
		    "not decode");
		return r;
	}
	return cr;
}

/* The attempt with what was typed, by the helper of store_status. */
static int
store_attempt(struct call *c, const char *code, struct job_out *o)
{
	char in[REC_HELPER_CODE_LEN];
	uint8_t buf[REC_HELPER_RESULT_LEN];
	int r, cr;

	if (!c->has_store)
		return attempt_work(c, code, o);
	memset(o, 0, sizeof(*o));
	/* Longer input is cut to one that is still too long for a code. */
	memset(in, 0, sizeof(in));
	memcpy(in, code, strnlen(code, sizeof(in) - 1));
	r = rec_child_send_request(&c->child, in, sizeof(in));
	sodium_memzero(in, sizeof(in));
	if (r != REC_OK ||
	    (r = rec_child_receive_reply(&c->child, &cr, buf,
	    sizeof(buf))) != REC_OK)
		return r;
	if ((r = rec_helper_result_decode(buf, &o->res)) != REC_OK) {
		pam_syslog(c->pamh, LOG_ERR, "the store helper's result does "
		    "not decode");
		return r;
	}
	return cr;
}

static int
call_begin(struct call *c, pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	int pr;

	memset(c, 0, sizeof(*c));
	c->pamh = pamh;
	c->log.fn = log_sink;
	c->log.ctx = pamh;
	if ((pr = call_config(c, argc, argv)) != PAM_SUCCESS)
		return pr;
	if (flags & PAM_SILENT)
		c->o.silent = 1;
	if (pam_get_user(pamh, &c->user, NULL) != PAM_SUCCESS ||
	    c->user == NULL || *c->user == '\0' ||
	    strlen(c->user) >= REC_USER_MAX) {
		pam_syslog(pamh, LOG_ERR, "cannot determine the user name");
		return PAM_USER_UNKNOWN;
	}
	c->who.user = c->user;
	c->who.service = item(pamh, PAM_SERVICE);
	c->who.rhost = item(pamh, PAM_RHOST);
	c->who.tty = item(pamh, PAM_TTY);
	return PAM_SUCCESS;
}

static void
call_end(struct call *c)
{
	if (c->child_started)
		rec_child_end(&c->child);
	c->child_started = 0;
	sodium_memzero(c->pepper, sizeof(c->pepper));
}

static void
say_wait(struct call *c, uint64_t secs)
{
	uint64_t m = (secs + 59) / 60;

	if (c->o.silent)
		return;
	if (secs < 120)
		pam_error(c->pamh, "Too many failed attempts: recovery codes are "
		    "locked. Try again in %llu seconds.", (unsigned long long)secs);
	else
		pam_error(c->pamh, "Too many failed attempts: recovery codes are "
		    "locked. Try again in %llu minutes.", (unsigned long long)m);
}

/*
 * any_code: input that is not meant as a recovery code (rec_code_classify)
 * is handed to the next module as PAM_AUTHTOK and wiped here; returns
 * PAM_IGNORE then.  A recovery code, or a typo of one, stays in *resp for
 * this module to judge (PAM_SUCCESS).  Never logs what was typed.
 */
static int
hand_on(struct call *c, const struct rec_format *fmt, char **resp)
{
	int pr;

	if (rec_code_classify(fmt, *resp) != REC_INPUT_OTHER)
		return PAM_SUCCESS;
	pr = pam_set_item(c->pamh, PAM_AUTHTOK, *resp);
	sodium_memzero(*resp, strlen(*resp));
	free(*resp);
	*resp = NULL;
	if (pr != PAM_SUCCESS) {
		pam_syslog(c->pamh, LOG_ERR, "cannot hand the input on: %s",
		    pam_strerror(c->pamh, pr));
		return PAM_AUTH_ERR;
	}
	if (c->o.debug)
		pam_syslog(c->pamh, LOG_DEBUG, "not a recovery code: handed on "
		    "as PAM_AUTHTOK");
	return PAM_IGNORE;
}

/*
 * The code to try: PAM_AUTHTOK (use/try_first_pass) or the prompt.  With
 * any_code, PAM_IGNORE means the input was for the next module.
 */
static int
get_code(struct call *c, const struct rec_format *fmt, char **resp)
{
	const char *tok = item(c->pamh, PAM_AUTHTOK);
	const char *prompt = c->o.prompt;
	char norm[REC_CODE_MAX + 1];
	int ok;

	*resp = NULL;
	if ((c->o.use_first_pass || c->o.try_first_pass) && tok != NULL) {
		ok = rec_code_normalise(fmt, tok, norm) == REC_OK;
		sodium_memzero(norm, sizeof(norm));
		/* Already PAM_AUTHTOK: nothing to hand on. */
		if (!ok && c->o.use_first_pass && c->o.any_code &&
		    rec_code_classify(fmt, tok) == REC_INPUT_OTHER)
			return PAM_IGNORE;
		if (ok || c->o.use_first_pass) {
			*resp = strdup(tok);
			return *resp != NULL ? PAM_SUCCESS : PAM_BUF_ERR;
		}
	}
	if (c->o.use_first_pass)
		return PAM_AUTH_ERR;
	if (prompt == NULL)
		prompt = c->o.any_code ? ANY_CODE_PROMPT : DEFAULT_PROMPT;
	if (pam_prompt(c->pamh, PAM_PROMPT_ECHO_OFF, resp, "%s", prompt) !=
	    PAM_SUCCESS || *resp == NULL)
		return PAM_CONV_ERR;
	return c->o.any_code ? hand_on(c, fmt, resp) : PAM_SUCCESS;
}

/* pam-recovery VERB as this user should run it, or NULL (helper_command). */
static const char *
self_command(struct call *c, const char *verb, char *buf, size_t len)
{
	const char *helper = helper_command(c);

	if (helper == NULL)
		return NULL;
	snprintf(buf, len, "%s %s", helper, verb);
	return buf;
}

/*
 * How a user gets new codes, as one sentence: the command when they can
 * make their own (self_command), else the administrator.  when is "", or
 * " now" or " soon"; what is "new ones", "new codes" or "some".
 */
static const char *
renew_advice(struct call *c, const char *what, const char *when,
    char *buf, size_t len)
{
	char cmd[REC_HELPER_CMD_MAX + sizeof(" generate")];

	if (self_command(c, "generate", cmd, sizeof(cmd)) != NULL)
		snprintf(buf, len, "Generate %s%s with: %s", what, when, cmd);
	else
		snprintf(buf, len, "Ask your administrator for %s%s.", what,
		    when);
	return buf;
}

static void
announce_success(struct call *c, const struct rec_result *res)
{
	char env[64], advice[160];

	snprintf(env, sizeof(env), "remaining=%u", res->remaining);
	log_event(c, "code_used", res->batch, res->slot, env);
	pam_putenv(c->pamh, "PAM_RECOVERY_USED=1");
	snprintf(env, sizeof(env), "PAM_RECOVERY_REMAINING=%u", res->remaining);
	pam_putenv(c->pamh, env);
	notify(c, REC_NOTIFY_CODE_USED, (long)res->remaining);
	if (c->o.silent)
		return;
	pam_info(c->pamh, "Recovery code accepted. %u code%s left.",
	    res->remaining, res->remaining == 1 ? "" : "s");
	if (res->remaining == 0)
		pam_error(c->pamh, "WARNING: that was your LAST recovery code. "
		    "%s", renew_advice(c, "new ones", " now", advice,
		    sizeof(advice)));
	else if (res->remaining <= c->cfg.warn_remaining)
		pam_info(c->pamh, "%s", renew_advice(c, "new codes", " soon",
		    advice, sizeof(advice)));
}

/*
 * any_code when the store cannot be read: the user may be typing a TOTP
 * code, which is none of the store's business, so ask anyway.  Returns
 * PAM_IGNORE when the input went on to the next module; anything else
 * leaves the store's error standing.
 */
static int
hand_on_despite_store(struct call *c)
{
	struct rec_format fmt;
	char *resp = NULL;
	int pr;

	rec_config_format(&c->cfg, &fmt);
	pr = get_code(c, &fmt, &resp);
	if (resp != NULL) {
		sodium_memzero(resp, strlen(resp));
		free(resp);
	}
	return pr;
}

/*
 * What this PAM transaction has told the user already, kept on the handle
 * (pam_set_data) from the auth stage to the account stage, so that each
 * message appears once per login.  sshd runs both stages on one handle in
 * one process for keyboard-interactive logins, as login(1) does.
 */
#define SAID_DATA "pam_recovery_said"
enum said_bits {
	SAID_REMAINING = 1 << 0,	/* how many codes are left, or none */
	SAID_EXPIRY = 1 << 1,
	SAID_UNVERIFIED = 1 << 2,
};

static void
said_cleanup(pam_handle_t *pamh, void *data, int err)
{
	(void)pamh;
	(void)err;
	free(data);
}

static unsigned
said_get(pam_handle_t *pamh)
{
	const void *d = NULL;

	if (pam_get_data(pamh, SAID_DATA, &d) != PAM_SUCCESS || d == NULL)
		return 0;
	return *(const unsigned *)d;
}

/* Remember bits as said; on failure a message may at worst come twice. */
static void
said_add(pam_handle_t *pamh, unsigned bits)
{
	unsigned *d;

	if (bits == 0 || (d = malloc(sizeof(*d))) == NULL)
		return;
	*d = said_get(pamh) | bits;
	if (pam_set_data(pamh, SAID_DATA, d, said_cleanup) != PAM_SUCCESS)
		free(d);
}

static int
authenticate(struct call *c)
{
	struct rec_status s;
	struct rec_result res;
	struct job_out o;
	char *resp = NULL, detail[128];
	int r, pr = PAM_SERVICE_ERR, handed_on = 0;

	if ((r = call_open(c)) != REC_OK ||
	    (r = store_status(c, &o)) != REC_OK) {
		if (c->o.any_code)
			handed_on = hand_on_despite_store(c) == PAM_IGNORE;
		goto store_error;
	}
	s = o.s;
	/*
	 * any_code asks every user, enrolled or not, locked or not: the
	 * input may be for the next module, and the lock only holds
	 * recovery codes back (the attempt refuses them while it lasts).
	 */
	if (!s.enrolled && c->o.nouserok && !c->o.any_code) {
		pr = PAM_IGNORE;
		goto out;
	}
	if (s.lock_remaining > 0 && !c->o.any_code) {
		log_event(c, "lock_denied", s.batch, 0, NULL);
		say_wait(c, s.lock_remaining);
		pr = PAM_AUTH_ERR;
		goto out;
	}
	if ((pr = get_code(c, &s.fmt, &resp)) != PAM_SUCCESS)
		goto out;
	r = store_attempt(c, resp, &o);
	res = o.res;
	pr = rec_to_pam(r);
	switch (r) {
	case REC_OK:
		announce_success(c, &res);
		if (!c->o.silent)
			said_add(c->pamh, SAID_REMAINING);
		break;
	case REC_ERR_MALFORMED:
		log_event(c, "code_malformed", 0, 0, NULL);
		if (!c->o.silent)
			pam_error(c->pamh, "Not a valid recovery code - check "
			    "for typos.");
		break;
	case REC_ERR_LOCKED:
		log_event(c, "lock_denied", res.batch, 0, NULL);
		say_wait(c, res.lock_remaining);
		break;
	case REC_ERR_NOMATCH:
	case REC_ERR_USED:
	case REC_ERR_INVALIDATED:
	case REC_ERR_EXPIRED:
	case REC_ERR_NOSTORE:
		snprintf(detail, sizeof(detail), "reason=%s",
		    r == REC_ERR_NOMATCH ? "wrong" : r == REC_ERR_USED ? "used" :
		    r == REC_ERR_INVALIDATED ? "invalidated" :
		    r == REC_ERR_EXPIRED ? "expired" : "not_enrolled");
		log_event(c, "code_rejected", res.batch, res.slot, detail);
		if (res.locked_now) {
			snprintf(detail, sizeof(detail), "seconds=%llu",
			    (unsigned long long)res.lock_remaining);
			log_event(c, "locked", res.batch, 0, detail);
			notify(c, REC_NOTIFY_LOCKED, -1);
			say_wait(c, res.lock_remaining);
		}
		break;
	default:
		goto store_error;
	}
	goto out;
store_error:
	snprintf(detail, sizeof(detail), "error=\"%s\" reason=%s",
	    rec_strerror(r), rec_err_reason(r));
	log_event(c, "store_error", 0, 0, detail);
	pr = rec_to_pam(r);
	if (pr == PAM_SUCCESS)
		pr = PAM_SERVICE_ERR;
	if (handed_on)
		pr = PAM_IGNORE;
out:
	if (resp != NULL) {
		sodium_memzero(resp, strlen(resp));
		free(resp);
	}
	return pr;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct call c;
	int pr;

	memset(&c, 0, sizeof(c));
	if (sodium_init() < 0) {
		pam_syslog(pamh, LOG_CRIT, "libsodium failed to initialise");
		return PAM_SERVICE_ERR;
	}
	if ((pr = call_begin(&c, pamh, flags, argc, argv)) == PAM_SUCCESS)
		pr = authenticate(&c);
	call_end(&c);
	return pr;
}

/* No credentials to set: succeed, as authentication alone decides. */
PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_SUCCESS;
}

/*
 * The account stage's reminders, each at most once per PAM transaction
 * (see SAID_DATA): no usable codes, or few left (unless the auth stage
 * said how many are left); a batch that expires within warn_expiry_days;
 * a batch of which no code was ever tested or used.
 */
static void
remind(struct call *c, const struct rec_status *s, uint64_t now)
{
	unsigned done = said_get(c->pamh), now_said = 0;
	int usable = s->enrolled && s->remaining > 0 && !s->expired;
	char advice[160], cmd[REC_HELPER_CMD_MAX + sizeof(" verify")];
	uint64_t days;

	if (!(done & SAID_REMAINING)) {
		if (!usable) {
			pam_info(c->pamh, "You have no usable recovery codes. "
			    "%s", renew_advice(c, "some", "", advice,
			    sizeof(advice)));
			now_said |= SAID_REMAINING;
		} else if (s->remaining <= c->cfg.warn_remaining) {
			pam_info(c->pamh, "Only %u recovery code%s left. %s",
			    s->remaining, s->remaining == 1 ? "" : "s",
			    renew_advice(c, "new ones", "", advice,
			    sizeof(advice)));
			now_said |= SAID_REMAINING;
		}
	}
	if (usable && !(done & SAID_EXPIRY) && c->cfg.warn_expiry_days != 0 &&
	    s->expires > now &&
	    s->expires - now <= (uint64_t)c->cfg.warn_expiry_days * 86400) {
		days = (s->expires - now + 86399) / 86400;
		pam_info(c->pamh, "Your recovery codes expire in %llu day%s. "
		    "%s", (unsigned long long)days, days == 1 ? "" : "s",
		    renew_advice(c, "new ones", "", advice, sizeof(advice)));
		now_said |= SAID_EXPIRY;
		notify(c, REC_NOTIFY_EXPIRING, (long)s->remaining);
	}
	/* Only a user who can manage their codes can test one (verify). */
	if (usable && !(done & SAID_UNVERIFIED) && s->verified == 0 &&
	    s->used == 0 && self_command(c, "verify", cmd, sizeof(cmd)) !=
	    NULL) {
		pam_info(c->pamh, "Your recovery codes were never tested. Test "
		    "one with: %s", cmd);
		now_said |= SAID_UNVERIFIED;
	}
	said_add(c->pamh, now_said);
}

/*
 * The account stage runs for every login through its stack, a key login
 * too, and only reminds: on a directory that does not answer it waits at
 * most REMIND_LDAP_TIMEOUT seconds per URI, not ldap_timeout.  The store
 * helper gets the shorter value as the last argument (add_arg).
 */
#define REMIND_LDAP_TIMEOUT 1

static int
remind_timeout(struct call *c)
{
	char a[32];
	int r;

	if (!rec_config_directory(&c->cfg) ||
	    c->cfg.ldap_timeout <= REMIND_LDAP_TIMEOUT)
		return REC_OK;
	snprintf(a, sizeof(a), "ldap_timeout=%u", REMIND_LDAP_TIMEOUT);
	if ((r = add_arg(c, a)) == REC_OK)
		c->cfg.ldap_timeout = REMIND_LDAP_TIMEOUT;
	return r;
}

/* Remind the user (see remind); never decides anything: PAM_IGNORE. */
PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct call c;
	struct job_out o;
	int r;

	memset(&c, 0, sizeof(c));
	if (sodium_init() < 0 ||
	    call_begin(&c, pamh, flags, argc, argv) != PAM_SUCCESS ||
	    remind_timeout(&c) != REC_OK)
		goto out;
	if ((r = call_open(&c)) != REC_OK || !c.has_store ||
	    (r = store_status(&c, &o)) != REC_OK ||
	    !o.store_exists || c.o.silent)
		goto out;
	remind(&c, &o.s, (uint64_t)time(NULL));
out:
	call_end(&c);
	return PAM_IGNORE;
}

/*
 * The session line after pam_exec: PAM_RECOVERY_USED and _REMAINING were
 * put in the PAM environment at auth, the one place a value survives
 * sshd's separate authentication process, for pam_exec in the session
 * stack.  Hosts copy the PAM environment into the user's session after
 * pam_open_session, so removing them here keeps them out of the shell.
 * Never decides anything: PAM_IGNORE.
 */
PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)flags;
	(void)argc;
	(void)argv;
	/* A name without '=' deletes; PAM_BAD_ITEM when it was not set. */
	(void)pam_putenv(pamh, "PAM_RECOVERY_USED");
	(void)pam_putenv(pamh, "PAM_RECOVERY_REMAINING");
	return PAM_IGNORE;
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc,
    const char **argv)
{
	(void)pamh;
	(void)flags;
	(void)argc;
	(void)argv;
	return PAM_IGNORE;
}
