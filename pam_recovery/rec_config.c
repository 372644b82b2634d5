/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_config.c: the key table of pam_recovery.conf(5), its parsers, the file. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_code.h"
#include "rec_config.h"
#include "rec_err.h"
#include "rec_file.h"
#include "rec_log.h"

#define CONF_FILE_MAX	(1024 * 1024)	/* a configuration file is small */
#define CONF_LINE_MAX	4096		/* characters per line, newline excluded */
#define SHOW_MAX	64		/* characters of a bad value quoted in a log */
#define CONF_ERRORS_MAX	10		/* bad lines reported before giving up */

enum key_type {
	KEY_STRING,	/* char[], no control characters, plus a key's own check */
	KEY_UINT,	/* unsigned, decimal, in [min, max] */
	KEY_U64,	/* uint64_t, decimal, in [min, max]; counts and seconds */
	KEY_SIZE,	/* uint64_t bytes, decimal with an optional K, M or G */
	KEY_LONG,	/* long, decimal, optionally negative, in [min, max] */
	KEY_BOOL,	/* int 0 or 1 */
	KEY_ENUM,	/* an enum, by its name in names[] */
};

/*
 * One row per key.  The key's name is its field's name (the macros below
 * make it so), min and max bound numbers, and def is the default written
 * the way an administrator would write it, parsed by the same code as the
 * file; NULL means "computed" (site_name: the host name).
 */
struct key {
	const char *name;
	enum key_type type;
	size_t off;
	size_t size;
	int64_t min;
	uint64_t max;
	const char *def;
	const char *const *names;	/* KEY_ENUM: indexed by the enum value */
	size_t nnames;
	const char *(*check)(const char *value); /* KEY_STRING: NULL or why not */
};

/* Indexed by the enums of rec_config.h; also what rec_*_name() return. */
static const char *const alphabet_names[] = { "base32", "base60", "digits" };
static const char *const export_names[] = { "txt", "csv", "json", "pdf" };

static const char *check_store(const char *);
static const char *check_absolute(const char *);
static const char *check_export_name(const char *);
static const char *check_mail(const char *);
static const char *check_uris(const char *);
static const char *check_host_name(const char *);
static const char *check_dn_pattern(const char *);

#define NUM(f, t, lo, hi, d)	{ .name = #f, .type = t, \
	.off = offsetof(struct rec_config, f), \
	.size = sizeof(((struct rec_config *)NULL)->f), \
	.min = (lo), .max = (hi), .def = (d) }
#define STR(f, d, chk)		{ .name = #f, .type = KEY_STRING, \
	.off = offsetof(struct rec_config, f), \
	.size = sizeof(((struct rec_config *)NULL)->f), \
	.def = (d), .check = (chk) }
#define BOOL(f, d)		{ .name = #f, .type = KEY_BOOL, \
	.off = offsetof(struct rec_config, f), \
	.size = sizeof(((struct rec_config *)NULL)->f), .def = (d) }
#define ENUM(f, tab, d)		{ .name = #f, .type = KEY_ENUM, \
	.off = offsetof(struct rec_config, f), \
	.size = sizeof(((struct rec_config *)NULL)->f), .def = (d), \
	.names = (tab), .nnames = sizeof(tab) / sizeof((tab)[0]) }

/* Ranges and defaults are those of the product contract, section 9. */
static const struct key keys[] = {
	STR(store, "~/.pam-recovery", check_store),
	STR(pepper_file, "", check_absolute),
	NUM(code_count, KEY_UINT, 1, 100, "10"),
	ENUM(code_alphabet, alphabet_names, "base32"),
	NUM(code_length, KEY_UINT, 6, REC_CODE_MAX, "20"),
	NUM(code_group, KEY_UINT, 0, REC_CODE_MAX, "5"),
	BOOL(code_check, "yes"),
	NUM(code_expiry_days, KEY_UINT, 0, 36500, "0"),
	NUM(kdf_opslimit, KEY_U64, crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_OPSLIMIT_MAX, "2"),
	NUM(kdf_memlimit, KEY_SIZE, crypto_pwhash_argon2id_MEMLIMIT_MIN,
	    UINT64_C(4) << 30, "64M"),
	/*
	 * The policy on stored batches.  The floors default to libsodium's
	 * minimums, so that tests and small machines can use tiny costs; the
	 * ceilings to what a login host can afford many times in parallel.
	 */
	NUM(kdf_opslimit_min, KEY_U64, crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_OPSLIMIT_MAX, "1"),
	NUM(kdf_opslimit_max, KEY_U64, crypto_pwhash_argon2id_OPSLIMIT_MIN,
	    crypto_pwhash_argon2id_OPSLIMIT_MAX, "4"),
	NUM(kdf_memlimit_min, KEY_SIZE, crypto_pwhash_argon2id_MEMLIMIT_MIN,
	    UINT64_C(4) << 30, "8K"),
	NUM(kdf_memlimit_max, KEY_SIZE, crypto_pwhash_argon2id_MEMLIMIT_MIN,
	    UINT64_C(4) << 30, "256M"),
	NUM(code_min_entropy, KEY_UINT, 0, 512, "0"),
	NUM(store_timeout, KEY_UINT, 1, 3600, "10"),
	STR(store_helper, REC_HELPER_PATH, check_absolute),
	NUM(max_attempts, KEY_UINT, 1, 1000, "5"),
	NUM(fail_interval, KEY_U64, 1, 2592000, "900"),
	NUM(base_cooldown, KEY_U64, 1, 86400, "60"),
	NUM(cooldown_multiplier, KEY_UINT, 1, 100, "2"),
	NUM(cooldown_cap, KEY_U64, 1, 2592000, "3600"),
	NUM(level_reset, KEY_U64, 1, 31536000, "86400"),
	NUM(generate_cooldown, KEY_U64, 0, 2592000, "0"),
	NUM(warn_remaining, KEY_UINT, 0, 100, "3"),
	NUM(warn_expiry_days, KEY_UINT, 0, 36500, "7"),
	NUM(retention_days, KEY_UINT, 0, 36500, "90"),
	NUM(purge_batch_size, KEY_UINT, 1, 1000000, "1000"),
	NUM(purge_max_per_run, KEY_LONG, -1, LONG_MAX, "-1"),
	BOOL(audit, "yes"),
	NUM(audit_retention_days, KEY_UINT, 0, 36500, "365"),
	NUM(history_max_visible, KEY_UINT, 1, 10000, "20"),
	NUM(history_per_page, KEY_UINT, 1, 1000, "10"),
	ENUM(export_format, export_names, "txt"),
	STR(export_name, "recovery_codes", check_export_name),
	STR(site_name, NULL, NULL),
	STR(admin_email, "", check_mail),
	STR(mail_from, "", check_mail),
	STR(notify_command, "", check_absolute),
	NUM(notify_timeout, KEY_UINT, 1, 60, "5"),
	STR(self_socket, "/run/pam-recovery/self.sock", check_absolute),
	STR(ldap_uri, "", check_uris),
	STR(ldap_write_uri, "", check_uris),
	STR(ldap_base, "", NULL),
	STR(ldap_bind_dn, "", NULL),
	STR(ldap_bind_pw_file, "", check_absolute),
	STR(ldap_user_dn, "", check_dn_pattern),
	STR(ldap_ca_file, "", check_absolute),
	BOOL(ldap_starttls, "yes"),
	BOOL(ldap_insecure, "no"),
	NUM(ldap_timeout, KEY_UINT, 1, 300, "5"),
	STR(host_name, NULL, check_host_name),
	BOOL(reauth, "no"),
	STR(reauth_pam_dir, "", check_absolute),
};

_Static_assert(sizeof(enum rec_alphabet) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum rec_export) == sizeof(int), "enums are stored as int");

/* A parsed value, kept aside until it is known to be good. */
union value {
	unsigned u;
	uint64_t u64;
	long l;
	int i;
	char s[REC_PATH_MAX];
};

/*
 * Character classes and case folding in ASCII, whatever the locale of the
 * program that loaded the module: a byte of a UTF-8 site name is not a
 * control character, and "DIGITS" matches "digits" in Turkish too.
 */
static int
is_cntrl(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

static int
is_blank(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static int
ascii_caseeq(const char *a, const char *b)
{
	unsigned char x, y;

	do {
		x = (unsigned char)*a++;
		y = (unsigned char)*b++;
		if (x >= 'A' && x <= 'Z')
			x += 'a' - 'A';
		if (y >= 'A' && y <= 'Z')
			y += 'a' - 'A';
	} while (x == y && x != '\0');
	return x == y;
}

static const char *
check_store(const char *v)
{
	return v[0] == '\0' ? "must not be empty" : NULL;
}

static const char *
check_absolute(const char *v)
{
	return v[0] != '\0' && v[0] != '/' ? "must be an absolute path" : NULL;
}

static const char *
check_export_name(const char *v)
{
	if (v[0] == '\0')
		return "must not be empty";
	if (v[0] == '.')
		return "must not start with '.'";
	if (strchr(v, '/') != NULL)
		return "must be a file name without '/'";
	return NULL;
}

/* The address may end up on a sendmail command line: no option lookalikes. */
static const char *
check_mail(const char *v)
{
	return v[0] == '-' ? "must not start with '-'" : NULL;
}

/*
 * A list of ldap://, ldaps:// or ldapi:// URIs separated by blanks; libldap
 * parses each one when it connects.  A bare ldapi:// is slapd's default
 * socket; ldap:// and ldaps:// must name a server.
 */
static const char *
check_uris(const char *v)
{
	size_t n;

	for (v += strspn(v, " \t"); *v != '\0'; v += strspn(v, " \t")) {
		n = strcspn(v, " \t");
		if (!((n > 7 && strncmp(v, "ldap://", 7) == 0) ||
		    (n > 8 && strncmp(v, "ldaps://", 8) == 0) ||
		    (n >= 8 && strncmp(v, "ldapi://", 8) == 0)))
			return "each URI must be ldap://HOST, ldaps://HOST or "
			    "ldapi:// (optionally with a socket path)";
		v += n;
	}
	return NULL;
}

/*
 * A DN for the user helper to bind as, with %u for the user's name (which
 * rec_ldap_bind_dn escapes as an RFC 4514 value) and %% for a '%'; any
 * other '%' is a mistake the file must not keep.
 */
static const char *
check_dn_pattern(const char *v)
{
	for (; *v != '\0'; v++) {
		if (is_cntrl((unsigned char)*v))
			return "must not contain control characters";
		if (*v != '%')
			continue;
		if (v[1] != 'u' && v[1] != '%')
			return "only %u (the user name) and %% may follow '%'";
		v++;
	}
	return NULL;
}

/* The last field of a used code's value in the directory: one word. */
static const char *
check_host_name(const char *v)
{
	if (v[0] == '\0')
		return "must not be empty";
	return strpbrk(v, " \t") != NULL ? "must not contain blanks" : NULL;
}

/*
 * Copy s into buf for a log message: at most SHOW_MAX characters, control
 * characters replaced by '?', so that a hostile value cannot forge log lines.
 */
static const char *
show(char *buf, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0' && i + 1 < len && i < SHOW_MAX; i++)
		buf[i] = is_cntrl((unsigned char)s[i]) ? '?' : s[i];
	buf[i] = '\0';
	if (s[i] != '\0' && len > 4 && i >= 3)
		memcpy(buf + i - 3, "...", 3);
	return buf;
}

/* Log one error as "origin:line: key: message" (line and key when known). */
static void conf_err(const struct rec_log *, const char *, unsigned,
    const char *, const char *, ...) __attribute__((format(printf, 5, 6)));

static void
conf_err(const struct rec_log *log, const char *origin, unsigned line,
    const char *key, const char *fmt, ...)
{
	char msg[512], k[SHOW_MAX + 1], where[REC_PATH_MAX + 16];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (origin == NULL)
		origin = "configuration";
	if (line > 0)
		snprintf(where, sizeof(where), "%s:%u", origin, line);
	else
		snprintf(where, sizeof(where), "%s", origin);
	if (key != NULL)
		rec_logf(log, LOG_ERR, "%s: %s: %s", where,
		    show(k, sizeof(k), key), msg);
	else
		rec_logf(log, LOG_ERR, "%s: %s", where, msg);
}

static const struct key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strcmp(keys[i].name, name) == 0)
			return &keys[i];
	return NULL;
}

/*
 * Parse an unsigned decimal number strictly: digits only (no sign, no
 * leading blanks, not empty), no overflow.  *end is left on the first
 * character after the digits.  Returns NULL or why not.
 */
static const char *
parse_digits(const char *s, uint64_t *out, const char **end)
{
	unsigned long long v;
	char *e;

	if (!is_digit((unsigned char)s[0]))
		return s[0] == '\0' ? "empty value" : "not a number";
	errno = 0;
	v = strtoull(s, &e, 10);
	if (errno == ERANGE)
		return "number too large";
	*out = v;
	*end = e;
	return NULL;
}

static const char *
parse_unsigned(const struct key *k, const char *s, uint64_t *out)
{
	const char *why, *end;
	uint64_t v, mult = 1;

	if ((why = parse_digits(s, &v, &end)) != NULL)
		return why;
	if (k->type == KEY_SIZE && *end != '\0') {
		switch (*end++) {
		case 'K': case 'k': mult = UINT64_C(1) << 10; break;
		case 'M': case 'm': mult = UINT64_C(1) << 20; break;
		case 'G': case 'g': mult = UINT64_C(1) << 30; break;
		default: return "not a size (a number with an optional K, M or G)";
		}
	}
	if (*end != '\0')
		return "not a number";
	if (v > UINT64_MAX / mult)
		return "number too large";
	v *= mult;
	if (v < (uint64_t)k->min || v > k->max)
		return "out of range";
	*out = v;
	return NULL;
}

static const char *
parse_long(const struct key *k, const char *s, long *out)
{
	const char *digits = s[0] == '-' ? s + 1 : s;
	long v;
	char *e;

	if (!is_digit((unsigned char)digits[0]))
		return s[0] == '\0' ? "empty value" : "not a number";
	errno = 0;
	v = strtol(s, &e, 10);
	if (errno == ERANGE)
		return "number too large";
	if (*e != '\0')
		return "not a number";
	if (v < k->min || (v > 0 && (uint64_t)v > k->max))
		return "out of range";
	*out = v;
	return NULL;
}

static const char *
parse_bool(const char *s, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };
	size_t i;

	for (i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		if (ascii_caseeq(s, yes[i])) {
			*out = 1;
			return NULL;
		}
		if (ascii_caseeq(s, no[i])) {
			*out = 0;
			return NULL;
		}
	}
	return "not yes or no";
}

static const char *
parse_enum(const struct key *k, const char *s, int *out)
{
	size_t i;

	for (i = 0; i < k->nnames; i++) {
		if (ascii_caseeq(s, k->names[i])) {
			*out = (int)i;
			return NULL;
		}
	}
	return "not one of the allowed names";
}

static const char *
parse_string(const struct key *k, const char *s, char *out)
{
	size_t i, len = strlen(s);

	if (len >= k->size)
		return "too long";
	for (i = 0; i < len; i++)
		if (is_cntrl((unsigned char)s[i]))
			return "contains a control character";
	if (k->check != NULL) {
		const char *why = k->check(s);

		if (why != NULL)
			return why;
	}
	memcpy(out, s, len + 1);
	return NULL;
}

/*
 * Parse s as the value of k into *v and return the size of the field it is
 * stored in, so the caller can check it against the table; on failure
 * return 0 and set *why.
 */
static size_t
parse_value(const struct key *k, const char *s, union value *v, const char **why)
{
	switch (k->type) {
	case KEY_STRING:
		*why = parse_string(k, s, v->s);
		return *why == NULL ? k->size : 0;
	case KEY_UINT:
		if ((*why = parse_unsigned(k, s, &v->u64)) != NULL)
			return 0;
		v->u = (unsigned)v->u64;	/* the max of a KEY_UINT fits */
		return sizeof(v->u);
	case KEY_U64:
	case KEY_SIZE:
		*why = parse_unsigned(k, s, &v->u64);
		return *why == NULL ? sizeof(v->u64) : 0;
	case KEY_LONG:
		*why = parse_long(k, s, &v->l);
		return *why == NULL ? sizeof(v->l) : 0;
	case KEY_BOOL:
		*why = parse_bool(s, &v->i);
		return *why == NULL ? sizeof(v->i) : 0;
	case KEY_ENUM:
		*why = parse_enum(k, s, &v->i);
		return *why == NULL ? sizeof(v->i) : 0;
	}
	*why = "internal error: unknown key type";
	return 0;
}

/* Explain the accepted values of k after a bad one. */
static void
log_bad_value(const struct key *k, const char *value, const char *why,
    const char *origin, unsigned line, const struct rec_log *log)
{
	char v[SHOW_MAX + 1], allowed[128];
	size_t i;

	show(v, sizeof(v), value);
	switch (k->type) {
	case KEY_UINT:
	case KEY_U64:
	case KEY_SIZE:
		conf_err(log, origin, line, k->name,
		    "\"%s\": %s (allowed %" PRIu64 " to %" PRIu64 "%s)", v, why,
		    (uint64_t)k->min, k->max,
		    k->type == KEY_SIZE ? " bytes; suffix K, M or G" : "");
		break;
	case KEY_LONG:
		conf_err(log, origin, line, k->name,
		    "\"%s\": %s (allowed %" PRId64 " to %" PRIu64 ")", v, why,
		    k->min, k->max);
		break;
	case KEY_BOOL:
		conf_err(log, origin, line, k->name,
		    "\"%s\": %s (allowed yes, no, true, false, on, off, 1, 0)",
		    v, why);
		break;
	case KEY_ENUM:
		allowed[0] = '\0';
		for (i = 0; i < k->nnames; i++) {
			strncat(allowed, i > 0 ? ", " : "",
			    sizeof(allowed) - strlen(allowed) - 1);
			strncat(allowed, k->names[i],
			    sizeof(allowed) - strlen(allowed) - 1);
		}
		conf_err(log, origin, line, k->name,
		    "\"%s\": %s (allowed %s)", v, why, allowed);
		break;
	case KEY_STRING:
		conf_err(log, origin, line, k->name, "\"%s\": %s", v, why);
		break;
	}
}

int
rec_config_set(struct rec_config *cfg, const char *key, const char *value,
    const char *origin, unsigned line, const struct rec_log *log)
{
	const struct key *k;
	const char *why = NULL;
	union value v;
	size_t size;

	if (cfg == NULL || key == NULL)
		return REC_ERR_USAGE;
	/* A string is copied with its whole field, so pad it with NULs. */
	memset(&v, 0, sizeof(v));
	if ((k = find_key(key)) == NULL) {
		conf_err(log, origin, line, key, "unknown key");
		return REC_ERR_CONFIG;
	}
	if (value == NULL) {
		conf_err(log, origin, line, k->name, "missing value");
		return REC_ERR_CONFIG;
	}
	if ((size = parse_value(k, value, &v, &why)) == 0) {
		log_bad_value(k, value, why, origin, line, log);
		return REC_ERR_CONFIG;
	}
	if (size != k->size || k->off + size > sizeof(*cfg)) {
		conf_err(log, origin, line, k->name,
		    "internal error: key table does not match the struct");
		return REC_ERR_INTERNAL;
	}
	memcpy((char *)cfg + k->off, &v, size);
	return REC_OK;
}

void
rec_config_defaults(struct rec_config *cfg)
{
	size_t i;

	memset(cfg, 0, sizeof(*cfg));
	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].def != NULL)
			(void)rec_config_set(cfg, keys[i].name, keys[i].def,
			    "built-in defaults", 0, NULL);

	/* gethostname() need not terminate a truncated name. */
	if (gethostname(cfg->site_name, sizeof(cfg->site_name) - 1) != 0)
		cfg->site_name[0] = '\0';
	cfg->site_name[sizeof(cfg->site_name) - 1] = '\0';
	if (cfg->site_name[0] == '\0')
		snprintf(cfg->site_name, sizeof(cfg->site_name), "localhost");
	/* The same name, cut at a blank that a host name never holds. */
	memcpy(cfg->host_name, cfg->site_name, sizeof(cfg->host_name));
	cfg->host_name[strcspn(cfg->host_name, " \t")] = '\0';
	if (cfg->host_name[0] == '\0')
		snprintf(cfg->host_name, sizeof(cfg->host_name), "localhost");
}

static char *
trim(char *s)
{
	char *e;

	while (is_blank((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && is_blank((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

#define NKEYS	(sizeof(keys) / sizeof(keys[0]))

/*
 * Where a value holds what reads as a trailing comment: a '#' at its start
 * or after a blank.  NULL when there is none; a '#' inside a word ("Corp#1",
 * "/srv/a#b") is part of the value.
 */
static const char *
comment_in(const char *value)
{
	const char *p;

	for (p = value; (p = strchr(p, '#')) != NULL; p++)
		if (p == value || is_blank((unsigned char)p[-1]))
			return p;
	return NULL;
}

/*
 * One line of the file, NUL-terminated in place.  A comment is a line
 * whose first non-blank character is '#'.  A value with a '#' at its start
 * or after a blank ("store = /x # system") is refused rather than taken
 * whole or cut: either reading could silently be the wrong one.  A key set
 * on an earlier line (seen[] holds the line of each key of the table, 0 for
 * none yet) is refused too, so that the file never means its last line for
 * a key while a reader sees the first.  Blanks around the key and the value
 * are dropped, nothing else (no quotes).
 */
static int
parse_line(struct rec_config *cfg, char *line, const char *path,
    unsigned lineno, unsigned seen[NKEYS], const struct rec_log *log)
{
	char *s = trim(line), *eq, *key, *value, v[SHOW_MAX + 1];
	const struct key *k;
	const char *hash;

	if (*s == '\0' || *s == '#')
		return REC_OK;
	/* Not quoted: a mistaken conf= could name a file of secrets. */
	if ((eq = strchr(s, '=')) == NULL) {
		conf_err(log, path, lineno, NULL, "expected \"key = value\"");
		return REC_ERR_CONFIG;
	}
	*eq = '\0';
	key = trim(s);
	if (*key == '\0') {
		conf_err(log, path, lineno, NULL, "missing key before '='");
		return REC_ERR_CONFIG;
	}
	value = trim(eq + 1);
	if ((k = find_key(key)) != NULL) {
		if (seen[k - keys] != 0) {
			conf_err(log, path, lineno, k->name, "set again (first "
			    "set on line %u); each key may be set once",
			    seen[k - keys]);
			return REC_ERR_CONFIG;
		}
		seen[k - keys] = lineno;
		if ((hash = comment_in(value)) != NULL) {
			conf_err(log, path, lineno, k->name, "\"%s\": '#' %s "
			    "starts no comment; put comments on a line of "
			    "their own", show(v, sizeof(v), value),
			    hash == value ? "at the start of a value" :
			    "after a blank");
			return REC_ERR_CONFIG;
		}
	}
	return rec_config_set(cfg, key, value, path, lineno, log);
}

int
rec_config_service_ok(const char *name)
{
	size_t n = 0;

	if (name == NULL || *name == '\0' || *name == '.')
		return 0;
	for (; name[n] != '\0'; n++) {
		unsigned char c = (unsigned char)name[n];

		if (n >= REC_SERVICE_MAX - 1 || !(is_digit(c) ||
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    c == '-' || c == '_' || c == '.' || c == '@'))
			return 0;
	}
	return 1;
}

/*
 * A section header, "[service NAME]", trimmed, NUL-terminated in place:
 * the name into name (REC_SERVICE_MAX).  Anything else in brackets is an
 * error, so that a misspelt header never turns a section's keys into
 * global ones.
 */
static int
parse_header(char *s, const char *path, unsigned lineno, char *name,
    const struct rec_log *log)
{
	size_t len = strlen(s);
	char *n, v[SHOW_MAX + 1];

	if (len < 2 || s[len - 1] != ']') {
		conf_err(log, path, lineno, NULL, "a section header is "
		    "\"[service NAME]\"");
		return REC_ERR_CONFIG;
	}
	s[len - 1] = '\0';
	n = trim(s + 1);
	if (strncmp(n, "service", 7) != 0 || !is_blank((unsigned char)n[7])) {
		conf_err(log, path, lineno, NULL, "a section header is "
		    "\"[service NAME]\"");
		return REC_ERR_CONFIG;
	}
	n = trim(n + 7);
	if (!rec_config_service_ok(n)) {
		conf_err(log, path, lineno, NULL, "[service %s]: not a PAM "
		    "service name (letters, digits, '-', '_', '.', '@'; at "
		    "most %d)", show(v, sizeof(v), n), REC_SERVICE_MAX - 1);
		return REC_ERR_CONFIG;
	}
	memcpy(name, n, strlen(n) + 1);
	return REC_OK;
}

/*
 * Parse buf (len bytes, buf[len] writable) line by line.  Bad lines are all
 * reported, so one run of "check" shows every mistake, up to a limit that
 * keeps a wrong file from flooding the log.
 *
 * Lines before the first "[service NAME]" header are the global settings;
 * the lines after a header, up to the next, are that service's.  The
 * section of service (when not NULL) is applied on top of the global
 * settings; every other section is parsed into a scratch copy, so that a
 * bad line anywhere fails every reader of the file alike.  A section may
 * appear once; a key may be set once in each.
 */
static int
parse_text(struct rec_config *cfg, char *buf, size_t len, const char *path,
    const char *service, char names[][REC_SERVICE_MAX], unsigned *count,
    const struct rec_log *log)
{
	int errors = 0, stop = 0;
	unsigned lineno = 0, seen[NKEYS] = { 0 }, headers = 0;
	char *line, *end = buf + len, *eol, *s, name[REC_SERVICE_MAX];
	struct rec_config scratch, *target = cfg;

	for (line = buf; line < end && errors < CONF_ERRORS_MAX; line = eol + 1) {
		lineno++;
		if ((eol = memchr(line, '\n', (size_t)(end - line))) == NULL)
			eol = end;
		*eol = '\0';
		if (eol - line > CONF_LINE_MAX) {
			conf_err(log, path, lineno, NULL,
			    "line longer than %d characters", CONF_LINE_MAX);
			errors++;
		} else if (strlen(line) != (size_t)(eol - line)) {
			conf_err(log, path, lineno, NULL, "line contains a NUL byte");
			errors++;
		} else if (*(s = trim(line)) == '[') {
			if (parse_header(s, path, lineno, name, log) != REC_OK)
				stop = 1;
			for (unsigned i = 0; !stop && i < headers; i++)
				if (strcmp(names[i], name) == 0) {
					conf_err(log, path, lineno, NULL,
					    "[service %s] appears twice", name);
					stop = 1;
				}
			if (!stop && headers == REC_SECTIONS_MAX) {
				conf_err(log, path, lineno, NULL, "more than "
				    "%d service sections", REC_SECTIONS_MAX);
				stop = 1;
			}
			/* The lines that follow would land in the wrong place. */
			if (stop) {
				errors++;
				break;
			}
			memcpy(names[headers++], name, sizeof(name));
			memset(seen, 0, sizeof(seen));
			if (service != NULL && strcmp(service, name) == 0)
				target = cfg;
			else {
				rec_config_defaults(&scratch);
				target = &scratch;
			}
		} else if (parse_line(target, line, path, lineno, seen, log) !=
		    REC_OK) {
			errors++;
		}
	}
	if (line < end && !stop)
		conf_err(log, path, lineno, NULL, "too many errors, giving up");
	*count = headers;
	return errors > 0 ? REC_ERR_CONFIG : REC_OK;
}

/*
 * The configuration is root's (or, for a caller that is not root, its
 * own), and nobody else may write it.
 */
static const struct rec_file_rule conf_rule = {
	"configuration", S_IFREG, 0, REC_FILE_SELF, S_IWGRP | S_IWOTH, 0
};

/*
 * The file is opened and checked by rec_file_open (no final symbolic link,
 * non-blocking, so a FIFO planted in its place cannot hang sshd, checked
 * through the descriptor, so it cannot be swapped between the check and the
 * read).  Everything is parsed into a copy so that cfg is only changed by a
 * file that is good as a whole.
 */
static int
load(struct rec_config *cfg, const char *path, const char *service,
    char names[][REC_SERVICE_MAX], unsigned *count, const struct rec_log *log)
{
	int r = REC_ERR_INTERNAL, fd = -1;
	struct rec_config tmp;
	struct stat st;
	char *buf = NULL;
	size_t len = 0, cap;
	ssize_t n;

	if (cfg == NULL || path == NULL)
		return REC_ERR_USAGE;
	if ((r = rec_file_open(AT_FDCWD, NULL, path, &conf_rule, log, &fd,
	    &st)) != REC_OK) {
		/* Not there is for the caller to judge; the rest is logged. */
		if (r == REC_ERR_NOTFOUND)
			rec_logf(log, LOG_DEBUG, "%s: no such file", path);
		else if (r == REC_ERR_OWNER)
			r = REC_ERR_UNSAFE;
		else if (r != REC_ERR_UNSAFE)
			r = REC_ERR_CONFIG;
		goto out;
	}
	if (st.st_size > CONF_FILE_MAX) {
		conf_err(log, path, 0, NULL, "larger than %d bytes", CONF_FILE_MAX);
		r = REC_ERR_CONFIG;
		goto out;
	}

	/* One byte more than fstat promised tells a file that grew meanwhile. */
	cap = (size_t)st.st_size + 1;
	if ((buf = malloc(cap)) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (;;) {
		n = read(fd, buf + len, cap - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			conf_err(log, path, 0, NULL, "cannot read: %s",
			    strerror(errno));
			r = REC_ERR_CONFIG;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len == cap) {
			conf_err(log, path, 0, NULL, "changed while being read");
			r = REC_ERR_CONFIG;
			goto out;
		}
	}
	buf[len] = '\0';

	tmp = *cfg;
	if (service != NULL && !rec_config_service_ok(service))
		service = NULL;		/* no section can be its */
	if ((r = parse_text(&tmp, buf, len, path, service, names, count,
	    log)) != REC_OK)
		goto out;
	*cfg = tmp;
	r = REC_OK;
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return r;
}

int
rec_config_load(struct rec_config *cfg, const char *path,
    const struct rec_log *log)
{
	return rec_config_load_service(cfg, path, NULL, log);
}

int
rec_config_load_service(struct rec_config *cfg, const char *path,
    const char *service, const struct rec_log *log)
{
	char names[REC_SECTIONS_MAX][REC_SERVICE_MAX];
	unsigned count = 0;

	return load(cfg, path, service, names, &count, log);
}

int
rec_config_sections(const char *path, char names[][REC_SERVICE_MAX],
    unsigned *count, const struct rec_log *log)
{
	struct rec_config cfg;

	*count = 0;
	rec_config_defaults(&cfg);
	return load(&cfg, path, NULL, names, count, log);
}

int
rec_config_directory(const struct rec_config *cfg)
{
	return cfg != NULL && strcmp(cfg->store, REC_STORE_LDAP) == 0;
}

/*
 * Call fn for each URI of list (blank-separated, as check_uris accepts
 * them) with its scheme's length ("ldap://" is 7); returns the count.
 */
static unsigned
uri_each(const char *list, void (*fn)(const char *uri, size_t len,
    void *arg), void *arg)
{
	unsigned n = 0;
	size_t len;

	for (list += strspn(list, " \t"); *list != '\0';
	    list += strspn(list, " \t")) {
		len = strcspn(list, " \t");
		if (fn != NULL)
			fn(list, len, arg);
		list += len;
		n++;
	}
	return n;
}

/* What validate_directory learns from the URIs of a list. */
struct uri_kinds {
	unsigned plain;		/* ldap:// */
	unsigned other;		/* ldaps://, not ldapi:// */
	char first_plain[SHOW_MAX + 1];
};

static void
uri_kind(const char *uri, size_t len, void *arg)
{
	struct uri_kinds *k = arg;

	if (strncmp(uri, "ldapi://", 8) == 0)
		return;
	if (strncmp(uri, "ldap://", 7) == 0 && k->plain++ == 0)
		snprintf(k->first_plain, sizeof(k->first_plain), "%.*s",
		    (int)(len < SHOW_MAX ? len : SHOW_MAX), uri);
	if (strncmp(uri, "ldap://", 7) != 0)
		k->other++;
}

/*
 * store = ldap (spec 10): what the directory's client (rec_ldap_open)
 * would refuse at every login is refused here, when the configuration is
 * read: no URI or base, a bind DN without its password file, no bind DN
 * where SASL EXTERNAL cannot work (anything but ldapi://), and ldap://
 * without StartTLS unless ldap_insecure says so.  The password file
 * itself (owner, mode) is checked when it is read, by the one process
 * that reads it.
 */
static int
validate_directory(const struct rec_config *cfg, const struct rec_log *log)
{
	struct uri_kinds k;
	int r = REC_OK;

	memset(&k, 0, sizeof(k));
	if (uri_each(cfg->ldap_uri, uri_kind, &k) == 0) {
		conf_err(log, NULL, 0, "ldap_uri", "must be set with "
		    "store = " REC_STORE_LDAP);
		r = REC_ERR_CONFIG;
	}
	(void)uri_each(cfg->ldap_write_uri, uri_kind, &k);
	if (cfg->ldap_base[0] == '\0') {
		conf_err(log, NULL, 0, "ldap_base", "must be set with "
		    "store = " REC_STORE_LDAP);
		r = REC_ERR_CONFIG;
	}
	if (cfg->ldap_bind_dn[0] != '\0' && cfg->ldap_bind_pw_file[0] == '\0') {
		conf_err(log, NULL, 0, "ldap_bind_pw_file", "must be set when "
		    "ldap_bind_dn is");
		r = REC_ERR_CONFIG;
	}
	if (cfg->ldap_bind_dn[0] == '\0' && k.plain + k.other > 0) {
		conf_err(log, NULL, 0, "ldap_bind_dn", "must be set: only an "
		    "ldapi:// URI binds without one (SASL EXTERNAL)");
		r = REC_ERR_CONFIG;
	}
	if (k.plain > 0 && !cfg->ldap_starttls && !cfg->ldap_insecure) {
		conf_err(log, NULL, 0, "ldap_starttls", "is no, and %s is a "
		    "plain ldap:// URI: set ldap_starttls = yes, use ldaps:// "
		    "or ldapi://, or ldap_insecure = yes", k.first_plain);
		r = REC_ERR_CONFIG;
	}
	return r;
}

unsigned
rec_config_store_wait(const struct rec_config *cfg)
{
	uint64_t w = cfg->store_timeout;

	if (rec_config_directory(cfg))
		w += (uint64_t)cfg->ldap_timeout *
		    (uri_each(cfg->ldap_uri, NULL, NULL) +
		    uri_each(cfg->ldap_write_uri, NULL, NULL));
	return w > UINT_MAX ? UINT_MAX : (unsigned)w;
}

int
rec_config_validate(const struct rec_config *cfg, const struct rec_log *log)
{
	int r = REC_OK, e;
	struct rec_format fmt;
	char path[REC_PATH_MAX], v[SHOW_MAX + 1];
	double bits;

	if (cfg == NULL)
		return REC_ERR_USAGE;
	if (cfg->cooldown_cap < cfg->base_cooldown) {
		conf_err(log, NULL, 0, "cooldown_cap",
		    "%" PRIu64 " is below base_cooldown (%" PRIu64 ")",
		    cfg->cooldown_cap, cfg->base_cooldown);
		r = REC_ERR_CONFIG;
	}
	if (cfg->code_group > cfg->code_length) {
		conf_err(log, NULL, 0, "code_group",
		    "%u is above code_length (%u)", cfg->code_group,
		    cfg->code_length);
		r = REC_ERR_CONFIG;
	}
	if (cfg->pepper_file[0] != '\0' && cfg->pepper_file[0] != '/') {
		conf_err(log, NULL, 0, "pepper_file", "must be an absolute path");
		r = REC_ERR_CONFIG;
	}

	/* A pattern that cannot give an absolute path fails here, not at login. */
	if (rec_config_directory(cfg)) {
		if (validate_directory(cfg, log) != REC_OK)
			r = REC_ERR_CONFIG;
	} else if (cfg->store[0] == '\0') {
		conf_err(log, NULL, 0, "store", "must not be empty");
		r = REC_ERR_CONFIG;
	} else if ((e = rec_config_store_path(cfg, "user", "/home/user", path,
	    sizeof(path))) != REC_OK) {
		conf_err(log, NULL, 0, "store", "\"%s\" %s",
		    show(v, sizeof(v), cfg->store), e == REC_ERR_USAGE ?
		    "is too long once expanded" : "does not expand to an "
		    "absolute path without \"..\" (use /, ~/, %h, %u or %%)");
		r = REC_ERR_CONFIG;
	}

	if (cfg->kdf_opslimit_min > cfg->kdf_opslimit_max ||
	    cfg->kdf_opslimit < cfg->kdf_opslimit_min ||
	    cfg->kdf_opslimit > cfg->kdf_opslimit_max) {
		conf_err(log, NULL, 0, "kdf_opslimit", "%" PRIu64 " is outside "
		    "kdf_opslimit_min .. kdf_opslimit_max (%" PRIu64 " .. %"
		    PRIu64 ")", cfg->kdf_opslimit, cfg->kdf_opslimit_min,
		    cfg->kdf_opslimit_max);
		r = REC_ERR_CONFIG;
	}
	if (cfg->kdf_memlimit_min > cfg->kdf_memlimit_max ||
	    cfg->kdf_memlimit < cfg->kdf_memlimit_min ||
	    cfg->kdf_memlimit > cfg->kdf_memlimit_max) {
		conf_err(log, NULL, 0, "kdf_memlimit", "%" PRIu64 " is outside "
		    "kdf_memlimit_min .. kdf_memlimit_max (%" PRIu64 " .. %"
		    PRIu64 ")", cfg->kdf_memlimit, cfg->kdf_memlimit_min,
		    cfg->kdf_memlimit_max);
		r = REC_ERR_CONFIG;
	}

	rec_config_format(cfg, &fmt);
	bits = rec_format_entropy(&fmt);
	if (cfg->code_min_entropy != 0 && !(bits + 1e-9 >= cfg->code_min_entropy)) {
		conf_err(log, NULL, 0, "code_min_entropy",
		    "the code format (%s, %u characters) has %.1f bits of "
		    "entropy, fewer than %u",
		    rec_config_alphabet_name(fmt.alphabet),
		    fmt.length, bits, cfg->code_min_entropy);
		r = REC_ERR_CONFIG;
	}
	if (!(bits >= REC_MIN_ENTROPY)) {
		conf_err(log, NULL, 0, "code_length",
		    "the code format (%s, %u characters, check %s) has %.1f bits "
		    "of entropy, fewer than %d",
		    rec_config_alphabet_name(fmt.alphabet),
		    fmt.length, fmt.check ? "yes" : "no", bits, REC_MIN_ENTROPY);
		r = REC_ERR_CONFIG;
	}
	return r;
}

/*
 * Walk a store pattern.  "~" and "~/" at the start mean the home; "%u",
 * "%h" and "%%" expand anywhere.  Returns 1 when the pattern needs the user.
 */
const char *
rec_config_helper(const struct rec_config *cfg, const char *service,
    char *buf, size_t len)
{
	struct stat sb;

	if (rec_config_directory(cfg)) {
		if (cfg->ldap_user_dn[0] == '\0' || cfg->pepper_file[0] != '\0')
			return NULL;
	} else if (!rec_config_per_user(cfg) && (stat(cfg->self_socket,
	    &sb) == -1 || !S_ISSOCK(sb.st_mode)))
		return NULL;
	if (service != NULL && rec_config_service_ok(service))
		snprintf(buf, len, "pam-recovery --service %s", service);
	else
		snprintf(buf, len, "pam-recovery");
	return buf;
}

int
rec_config_per_user(const struct rec_config *cfg)
{
	const char *p;

	if (cfg == NULL)
		return 0;
	p = cfg->store;
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0'))
		return 1;
	for (; *p != '\0'; p++) {
		if (*p != '%')
			continue;
		if (p[1] == 'u' || p[1] == 'h')
			return 1;
		if (p[1] == '\0')
			break;
		p++;
	}
	return 0;
}

/* Append len bytes of s to out; REC_ERR_USAGE when out is full. */
static int
append(char *out, size_t outlen, size_t *used, const char *s, size_t len)
{
	if (len >= outlen - *used)
		return REC_ERR_USAGE;
	memcpy(out + *used, s, len);
	*used += len;
	out[*used] = '\0';
	return REC_OK;
}

static int
user_ok(const char *user)
{
	return user[0] != '\0' && strchr(user, '/') == NULL &&
	    strcmp(user, ".") != 0 && strcmp(user, "..") != 0;
}

/*
 * The user name and home come from the password database, but a name with
 * a '/' or a home that is not absolute would still move the store
 * elsewhere, and a ".." component would climb out of it: all refused.
 */
int
rec_config_store_path(const struct rec_config *cfg, const char *user,
    const char *home, char *out, size_t outlen)
{
	int r = REC_ERR_INTERNAL;
	const char *p;
	size_t used = 0, len;

	if (cfg == NULL || out == NULL || outlen == 0)
		return REC_ERR_USAGE;
	out[0] = '\0';
	p = cfg->store;
	if (p[0] == '~' && (p[1] == '/' || p[1] == '\0')) {
		if (home == NULL || home[0] != '/') {
			r = home == NULL ? REC_ERR_USAGE : REC_ERR_CONFIG;
			goto out;
		}
		if ((r = append(out, outlen, &used, home, strlen(home))) != REC_OK)
			goto out;
		p++;
	}
	for (; *p != '\0'; p += len) {
		len = strcspn(p, "%");
		if (len > 0) {
			if ((r = append(out, outlen, &used, p, len)) != REC_OK)
				goto out;
			continue;
		}
		len = 2;
		switch (p[1]) {
		case '%':
			r = append(out, outlen, &used, "%", 1);
			break;
		case 'u':
			if (user == NULL)
				r = REC_ERR_USAGE;
			else if (!user_ok(user))
				r = REC_ERR_CONFIG;
			else
				r = append(out, outlen, &used, user, strlen(user));
			break;
		case 'h':
			if (home == NULL)
				r = REC_ERR_USAGE;
			else if (home[0] != '/')
				r = REC_ERR_CONFIG;
			else
				r = append(out, outlen, &used, home, strlen(home));
			break;
		default:
			r = REC_ERR_CONFIG;
			break;
		}
		if (r != REC_OK)
			goto out;
	}
	if (out[0] != '/' || strstr(out, "/../") != NULL ||
	    (used >= 3 && strcmp(out + used - 3, "/..") == 0)) {
		r = REC_ERR_CONFIG;
		goto out;
	}
	r = REC_OK;
out:
	if (r != REC_OK)
		out[0] = '\0';
	return r;
}

const char *
rec_config_alphabet_name(enum rec_alphabet a)
{
	if ((size_t)a >= sizeof(alphabet_names) / sizeof(alphabet_names[0]))
		return "unknown";
	return alphabet_names[a];
}

const char *
rec_config_export_name(enum rec_export e)
{
	if ((size_t)e >= sizeof(export_names) / sizeof(export_names[0]))
		return "unknown";
	return export_names[e];
}

void
rec_config_format(const struct rec_config *cfg, struct rec_format *fmt)
{
	fmt->alphabet = cfg->code_alphabet;
	fmt->length = cfg->code_length;
	fmt->group = cfg->code_group;
	fmt->check = cfg->code_check ? 1 : 0;
}

void
rec_config_lock_policy(const struct rec_config *cfg,
    struct rec_lock_policy *pol)
{
	pol->max_attempts = cfg->max_attempts;
	pol->fail_interval = cfg->fail_interval;
	pol->base_cooldown = cfg->base_cooldown;
	pol->cooldown_multiplier = cfg->cooldown_multiplier;
	pol->cooldown_cap = cfg->cooldown_cap;
	pol->level_reset = cfg->level_reset;
}

void
rec_config_gen_policy(const struct rec_config *cfg,
    struct rec_lock_policy *pol)
{
	rec_config_lock_policy(cfg, pol);
	pol->max_attempts = 1;
	pol->base_cooldown = cfg->generate_cooldown;
	pol->fail_interval = cfg->level_reset;
	if (pol->cooldown_cap < pol->base_cooldown)
		pol->cooldown_cap = pol->base_cooldown;
}
