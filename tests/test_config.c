/* SPDX-License-Identifier: BSD-2-Clause */
/* test_config.c: unit tests of the configuration keys, the file reader and store path expansion. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "rec_code.h"
#include "rec_config.h"
#include "rec_policy.h"
#include "rec_err.h"
#include "rec_log.h"
#include "testutil.h"

/* --- Defaults ------------------------------------------------------------ */

static void
test_defaults(void **state)
{
	struct rec_config cfg;

	(void)state;
	rec_config_defaults(&cfg);
	assert_string_equal(cfg.store, "~/.pam-recovery");
	assert_string_equal(cfg.pepper_file, "");
	assert_int_equal(cfg.code_count, 10);
	assert_int_equal(cfg.code_alphabet, REC_ALPHA_BASE32);
	assert_int_equal(cfg.code_length, 20);
	assert_int_equal(cfg.code_group, 5);
	assert_int_equal(cfg.code_check, 1);
	assert_int_equal(cfg.code_expiry_days, 0);
	assert_int_equal(cfg.kdf_opslimit, 2);
	assert_int_equal(cfg.kdf_memlimit, 67108864);
	assert_int_equal(cfg.store_timeout, 10);
	assert_string_equal(cfg.store_helper, REC_HELPER_PATH);
	assert_int_equal(cfg.max_attempts, 5);
	assert_int_equal(cfg.fail_interval, 900);
	assert_int_equal(cfg.base_cooldown, 60);
	assert_int_equal(cfg.cooldown_multiplier, 2);
	assert_int_equal(cfg.cooldown_cap, 3600);
	assert_int_equal(cfg.level_reset, 86400);
	assert_int_equal(cfg.generate_cooldown, 0);
	assert_int_equal(cfg.warn_remaining, 3);
	assert_int_equal(cfg.warn_expiry_days, 7);
	assert_int_equal(cfg.retention_days, 90);
	assert_int_equal(cfg.purge_batch_size, 1000);
	assert_true(cfg.purge_max_per_run == -1);
	assert_int_equal(cfg.audit, 1);
	assert_int_equal(cfg.audit_retention_days, 365);
	assert_int_equal(cfg.history_max_visible, 20);
	assert_int_equal(cfg.history_per_page, 10);
	assert_int_equal(cfg.export_format, REC_EXPORT_TXT);
	assert_string_equal(cfg.export_name, "recovery_codes");
	assert_true(cfg.site_name[0] != '\0');
	assert_string_equal(cfg.admin_email, "");
	assert_string_equal(cfg.mail_from, "");
	assert_string_equal(cfg.notify_command, "");
	assert_int_equal(cfg.notify_timeout, 5);
	assert_string_equal(cfg.self_socket, "/run/pam-recovery/self.sock");
	assert_string_equal(cfg.ldap_uri, "");
	assert_string_equal(cfg.ldap_write_uri, "");
	assert_string_equal(cfg.ldap_base, "");
	assert_string_equal(cfg.ldap_bind_dn, "");
	assert_string_equal(cfg.ldap_bind_pw_file, "");
	assert_string_equal(cfg.ldap_user_dn, "");
	assert_string_equal(cfg.ldap_ca_file, "");
	assert_int_equal(cfg.ldap_starttls, 1);
	assert_int_equal(cfg.ldap_insecure, 0);
	assert_int_equal(cfg.ldap_timeout, 5);
	/* The host name, like site_name, cut at a blank. */
	assert_true(cfg.host_name[0] != '\0');
	assert_null(strpbrk(cfg.host_name, " \t"));
	assert_int_equal(strncmp(cfg.host_name, cfg.site_name,
	    strlen(cfg.host_name)), 0);
	assert_int_equal(cfg.reauth, 0);
	assert_string_equal(cfg.reauth_pam_dir, "");
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);
	assert_int_equal(rec_config_per_user(&cfg), 1);
}

/* --- Flip every default -------------------------------------------------- */

enum kind { K_STR, K_UINT, K_U64, K_LONG, K_INT };

struct flip {
	const char *key;
	const char *value;
	size_t off;
	size_t size;
	enum kind kind;
	uint64_t num;		/* expected, for the numeric kinds */
	long snum;		/* expected, for K_LONG */
	const char *str;	/* expected, for K_STR */
};

#define AT(f)	offsetof(struct rec_config, f), \
		sizeof(((struct rec_config *)NULL)->f)
#define FS(f, v)	{ #f, v, AT(f), K_STR, 0, 0, v }
#define FU(f, v, n)	{ #f, v, AT(f), K_UINT, n, 0, NULL }
#define F64(f, v, n)	{ #f, v, AT(f), K_U64, n, 0, NULL }
#define FI(f, v, n)	{ #f, v, AT(f), K_INT, n, 0, NULL }

/* Every key, set to a valid value that differs from its default. */
static const struct flip flips[] = {
	FS(store, "/var/lib/pam-recovery"),
	FS(pepper_file, "/etc/security/pam_recovery.key"),
	FU(code_count, "11", 11),
	FI(code_alphabet, "base60", REC_ALPHA_BASE60),
	FU(code_length, "36", 36),
	FU(code_group, "6", 6),
	FI(code_check, "no", 0),
	FU(code_expiry_days, "30", 30),
	F64(kdf_opslimit, "3", 3),
	F64(kdf_memlimit, "8K", 8192),
	F64(kdf_opslimit_min, "2", 2),
	F64(kdf_opslimit_max, "8", 8),
	F64(kdf_memlimit_min, "1M", 1048576),
	F64(kdf_memlimit_max, "1G", 1073741824),
	FU(code_min_entropy, "64", 64),
	FU(store_timeout, "30", 30),
	FS(store_helper, "/opt/pam-recovery-store"),
	FU(max_attempts, "7", 7),
	F64(fail_interval, "600", 600),
	F64(base_cooldown, "30", 30),
	FU(cooldown_multiplier, "3", 3),
	F64(cooldown_cap, "7200", 7200),
	F64(level_reset, "3600", 3600),
	F64(generate_cooldown, "120", 120),
	FU(warn_remaining, "0", 0),
	FU(warn_expiry_days, "0", 0),
	FU(retention_days, "30", 30),
	FU(purge_batch_size, "500", 500),
	{ "purge_max_per_run", "100", AT(purge_max_per_run), K_LONG, 0, 100, NULL },
	FI(audit, "off", 0),
	FU(audit_retention_days, "30", 30),
	FU(history_max_visible, "50", 50),
	FU(history_per_page, "5", 5),
	FI(export_format, "pdf", REC_EXPORT_PDF),
	FS(export_name, "codes"),
	FS(site_name, "Example Corp #1"),
	FS(admin_email, "root@example.org"),
	FS(mail_from, "pam-recovery@example.org"),
	FS(notify_command, "/usr/local/sbin/recovery-notice"),
	FU(notify_timeout, "60", 60),
	FS(self_socket, "/tmp/self.sock"),
	FS(ldap_uri, "ldaps://ldap1.example.org ldapi://"),
	FS(ldap_write_uri, "ldap://provider.example.org:389/"),
	FS(ldap_base, "ou=recovery,dc=example,dc=org"),
	FS(ldap_bind_dn, "cn=pam-recovery-host,ou=services,dc=example,dc=org"),
	FS(ldap_bind_pw_file, "/etc/security/pam_recovery.ldap"),
	FS(ldap_user_dn, "uid=%u,ou=people,dc=example,dc=org"),
	FS(ldap_ca_file, "/etc/ssl/certs/site-ca.pem"),
	FI(ldap_starttls, "no", 0),
	FI(ldap_insecure, "yes", 1),
	FU(ldap_timeout, "30", 30),
	FS(host_name, "web7.example.org"),
	FI(reauth, "yes", 1),
	FS(reauth_pam_dir, "/etc/pam-recovery/pam.d"),
};

#define NFLIPS (sizeof(flips) / sizeof(flips[0]))

static size_t
kind_align(enum kind k)
{
	switch (k) {
	case K_STR: return 1;
	case K_UINT: case K_INT: return sizeof(int);
	case K_U64: return sizeof(uint64_t);
	case K_LONG: return sizeof(long);
	}
	return 1;
}

/*
 * The flip table must name every field of the struct: sorted by offset,
 * the gaps between fields may only be padding, smaller than the next
 * field's alignment, so a forgotten field shows up as a hole.
 */
static void
test_flips_cover_struct(void **state)
{
	size_t order[NFLIPS], i, j, t, end = 0;

	(void)state;
	for (i = 0; i < NFLIPS; i++)
		order[i] = i;
	for (i = 1; i < NFLIPS; i++)
		for (j = i; j > 0 && flips[order[j]].off < flips[order[j - 1]].off; j--) {
			t = order[j];
			order[j] = order[j - 1];
			order[j - 1] = t;
		}
	for (i = 0; i < NFLIPS; i++) {
		const struct flip *f = &flips[order[i]];

		assert_true(f->off >= end);
		assert_true(f->off - end < kind_align(f->kind));
		end = f->off + f->size;
	}
	assert_true(sizeof(struct rec_config) - end < sizeof(uint64_t));
}

static void
check_field(const struct flip *f, const struct rec_config *cfg)
{
	const char *p = (const char *)cfg + f->off;
	unsigned u;
	uint64_t u64;
	long l;
	int i;

	switch (f->kind) {
	case K_STR:
		assert_string_equal(p, f->str);
		break;
	case K_UINT:
		memcpy(&u, p, sizeof(u));
		assert_int_equal(u, f->num);
		break;
	case K_U64:
		memcpy(&u64, p, sizeof(u64));
		assert_int_equal(u64, f->num);
		break;
	case K_LONG:
		memcpy(&l, p, sizeof(l));
		assert_true(l == f->snum);
		break;
	case K_INT:
		memcpy(&i, p, sizeof(i));
		assert_int_equal(i, f->num);
		break;
	}
}

static void
test_flip_every_default(void **state)
{
	struct rec_config before, after;
	struct capture c;
	struct rec_log log;
	size_t i;

	(void)state;
	for (i = 0; i < NFLIPS; i++) {
		const struct flip *f = &flips[i];

		capture_init(&c, &log);
		rec_config_defaults(&before);
		memcpy(&after, &before, sizeof(after));
		assert_int_equal(rec_config_set(&after, f->key, f->value,
		    "module arguments", 0, &log), REC_OK);
		assert_int_equal(c.errors, 0);
		check_field(f, &after);
		/* The field changed, and nothing else did. */
		assert_memory_not_equal((char *)&before + f->off,
		    (char *)&after + f->off, f->size);
		assert_memory_equal(&before, &after, f->off);
		assert_memory_equal((char *)&before + f->off + f->size,
		    (char *)&after + f->off + f->size,
		    sizeof(before) - f->off - f->size);
	}
}

/* --- Values accepted at the edges ---------------------------------------- */


static const struct flip goods[] = {
	FU(code_count, "1", 1),
	FU(code_count, "100", 100),
	FU(code_count, "007", 7),
	FU(code_length, "6", 6),
	FU(code_length, "64", REC_CODE_MAX),
	FU(code_group, "0", 0),
	F64(kdf_opslimit, "1", 1),
	F64(kdf_opslimit, "4294967295", 4294967295u),
	F64(kdf_memlimit, "8192", 8192),
	F64(kdf_memlimit, "8k", 8192),
	F64(kdf_memlimit, "64M", 67108864),
	F64(kdf_memlimit, "1G", 1073741824),
	F64(kdf_memlimit, "4G", UINT64_C(4294967296)),
	F64(kdf_memlimit, "4096K", 4194304),
	F64(fail_interval, "2592000", 2592000),
	F64(level_reset, "31536000", 31536000),
	F64(generate_cooldown, "0", 0),
	{ "purge_max_per_run", "-1", AT(purge_max_per_run), K_LONG, 0, -1, NULL },
	{ "purge_max_per_run", "0", AT(purge_max_per_run), K_LONG, 0, 0, NULL },
	{ "purge_max_per_run", "9223372036854775807",
	    AT(purge_max_per_run), K_LONG, 0, LONG_MAX, NULL },
	FI(code_check, "YES", 1),
	FI(code_check, "true", 1),
	FI(code_check, "on", 1),
	FI(code_check, "1", 1),
	FI(code_check, "False", 0),
	FI(code_check, "0", 0),
	FI(audit, "no", 0),
	FI(code_alphabet, "digits", REC_ALPHA_DIGITS),
	FI(code_alphabet, "base32", REC_ALPHA_BASE32),
	FI(export_format, "csv", REC_EXPORT_CSV),
	FI(export_format, "json", REC_EXPORT_JSON),
	FS(pepper_file, ""),
	FS(admin_email, ""),
	FS(export_name, "codes.v2"),
	FS(site_name, "\xc3\x9c" "n" "\xc3\xaf" "code OK"),
	FS(store, "/srv/100%%/%u"),
};

static void
test_good_values(void **state)
{
	struct rec_config cfg;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(goods) / sizeof(goods[0]); i++) {
		rec_config_defaults(&cfg);
		if (rec_config_set(&cfg, goods[i].key, goods[i].value, "t", 0,
		    NULL) != REC_OK) {
			print_error("%s = \"%s\" refused\n", goods[i].key,
			    goods[i].value);
			fail();
		}
		check_field(&goods[i], &cfg);
	}
}

/* --- Values refused ------------------------------------------------------ */

struct bad {
	const char *key;
	const char *value;
};

static const struct bad bads[] = {
	/* out of range */
	{ "code_count", "0" }, { "code_count", "101" },
	{ "code_length", "5" }, { "code_length", "65" },
	{ "code_group", "65" },
	{ "code_expiry_days", "36501" },
	{ "kdf_opslimit", "0" }, { "kdf_opslimit", "4294967296" },
	{ "kdf_memlimit", "8191" }, { "kdf_memlimit", "4097" },
	{ "kdf_memlimit", "5G" }, { "kdf_memlimit", "4294967297" },
	{ "max_attempts", "0" }, { "max_attempts", "1001" },
	{ "fail_interval", "0" }, { "fail_interval", "2592001" },
	{ "base_cooldown", "0" }, { "base_cooldown", "86401" },
	{ "cooldown_multiplier", "0" }, { "cooldown_multiplier", "101" },
	{ "cooldown_cap", "0" }, { "cooldown_cap", "2592001" },
	{ "level_reset", "0" }, { "level_reset", "31536001" },
	{ "generate_cooldown", "2592001" },
	{ "warn_remaining", "101" },
	{ "warn_expiry_days", "36501" }, { "warn_expiry_days", "-1" },
	{ "retention_days", "36501" },
	{ "purge_batch_size", "0" }, { "purge_batch_size", "1000001" },
	{ "purge_max_per_run", "-2" },
	{ "audit_retention_days", "36501" },
	{ "history_max_visible", "0" }, { "history_max_visible", "10001" },
	{ "history_per_page", "0" }, { "history_per_page", "1001" },
	{ "notify_timeout", "0" }, { "notify_timeout", "61" },
	{ "notify_command", "notify.sh" },
	{ "self_socket", "self.sock" },
	{ "reauth", "maybe" }, { "reauth_pam_dir", "pam.d" },
	/* junk, signs, blanks, bases, empty */
	{ "code_count", "" }, { "code_count", "abc" }, { "code_count", "5x" },
	{ "code_count", " 5" }, { "code_count", "5 " }, { "code_count", "-1" },
	{ "code_count", "+5" }, { "code_count", "0x10" }, { "code_count", "1e1" },
	{ "code_count", "5.0" }, { "kdf_opslimit", "-1" },
	{ "fail_interval", "15m" }, { "fail_interval", "" },
	{ "kdf_memlimit", "" }, { "kdf_memlimit", "M" }, { "kdf_memlimit", "64MB" },
	{ "kdf_memlimit", "64T" }, { "kdf_memlimit", "-64M" },
	{ "kdf_memlimit", " 64M" }, { "kdf_memlimit", "64 M" },
	{ "purge_max_per_run", "" }, { "purge_max_per_run", "-" },
	{ "purge_max_per_run", "--1" }, { "purge_max_per_run", "+1" },
	{ "purge_max_per_run", "1.5" }, { "purge_max_per_run", " -1" },
	/* overflow */
	{ "code_count", "99999999999999999999999" },
	{ "code_count", "4294967306" },
	{ "kdf_opslimit", "18446744073709551616" },
	{ "kdf_memlimit", "18446744073709551615K" },
	{ "kdf_memlimit", "17179869184G" }, { "kdf_memlimit", "17179869185G" },
	{ "kdf_memlimit", "18014398509481992K" },
	{ "purge_max_per_run", "9223372036854775808" },
	{ "purge_max_per_run", "-9223372036854775809" },
	/* booleans and enums */
	{ "code_check", "" }, { "code_check", "maybe" }, { "code_check", "2" },
	{ "code_check", "yes " }, { "audit", "y" },
	{ "code_alphabet", "" }, { "code_alphabet", "base64" },
	{ "export_format", "docx" }, { "export_format", "" },
	/* strings */
	{ "store", "" },
	{ "pepper_file", "relative/key" },
	{ "export_name", "" }, { "export_name", "a/b" }, { "export_name", ".hidden" },
	{ "export_name", "../x" },
	{ "site_name", "bad\001name" }, { "site_name", "tab\tname" },
	{ "site_name", "new\nline" }, { "site_name", "del\177" },
	{ "admin_email", "-oQ/tmp/x" }, { "mail_from", "-f" },
	{ "ldap_uri", "ldap.example.org" }, { "ldap_uri", "http://x/" },
	{ "ldap_uri", "ldaps://a ldap:/b" }, { "ldap_uri", "ldap://" },
	{ "ldap_uri", "ldaps://" }, { "ldap_uri", "ldapi:/" },
	{ "ldap_write_uri", "ldapx://a" }, { "ldap_bind_pw_file", "pw" },
	{ "ldap_ca_file", "ca.pem" }, { "ldap_timeout", "0" },
	{ "ldap_user_dn", "uid=%s,ou=people" }, { "ldap_user_dn", "uid=%u%" },
	{ "ldap_user_dn", "uid=%U" },
	{ "ldap_timeout", "301" }, { "ldap_starttls", "sometimes" },
	{ "host_name", "" }, { "host_name", "web 7" },
	/* unknown keys */
	{ "nonsense", "1" }, { "Code_Count", "5" }, { "code_count ", "5" },
	{ "", "5" }, { "conf", "/etc/x" },
};

static void
test_bad_values(void **state)
{
	struct rec_config before, after;
	struct capture c;
	struct rec_log log;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bads) / sizeof(bads[0]); i++) {
		capture_init(&c, &log);
		rec_config_defaults(&before);
		memcpy(&after, &before, sizeof(after));
		if (rec_config_set(&after, bads[i].key, bads[i].value,
		    "module arguments", 0, &log) != REC_ERR_CONFIG) {
			print_error("%s = \"%s\" accepted\n", bads[i].key,
			    bads[i].value);
			fail();
		}
		assert_memory_equal(&before, &after, sizeof(before));
		assert_int_equal(c.errors, 1);
		assert_logged(&c, "module arguments: ");
		if (bads[i].key[0] != '\0' && strchr(bads[i].key, ' ') == NULL)
			assert_logged(&c, bads[i].key);
		/* Line 0 (module arguments) is not printed as a line number. */
		assert_null(strstr(c.text, "arguments:0"));
	}
}

static void
test_too_long_strings(void **state)
{
	struct rec_config before, after;
	char path[REC_PATH_MAX + 1], str[REC_STR_MAX + 1];

	(void)state;
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[REC_PATH_MAX] = '\0';
	memset(str, 'b', sizeof(str));
	str[REC_STR_MAX] = '\0';
	rec_config_defaults(&before);
	memcpy(&after, &before, sizeof(after));
	assert_int_equal(rec_config_set(&after, "store", path, "t", 0, NULL),
	    REC_ERR_CONFIG);
	assert_int_equal(rec_config_set(&after, "pepper_file", path, "t", 0,
	    NULL), REC_ERR_CONFIG);
	assert_int_equal(rec_config_set(&after, "site_name", str, "t", 0, NULL),
	    REC_ERR_CONFIG);
	assert_memory_equal(&before, &after, sizeof(before));

	/* One character less fits, with its terminating NUL. */
	path[REC_PATH_MAX - 1] = '\0';
	str[REC_STR_MAX - 1] = '\0';
	assert_int_equal(rec_config_set(&after, "store", path, "t", 0, NULL),
	    REC_OK);
	assert_string_equal(after.store, path);
	assert_int_equal(rec_config_set(&after, "site_name", str, "t", 0, NULL),
	    REC_OK);
	assert_string_equal(after.site_name, str);
}

static void
test_missing_value_and_message(void **state)
{
	struct rec_config before, after;
	struct capture c;
	struct rec_log log;

	(void)state;
	capture_init(&c, &log);
	rec_config_defaults(&before);
	memcpy(&after, &before, sizeof(after));
	assert_int_equal(rec_config_set(&after, "code_count", NULL,
	    "module arguments", 0, &log), REC_ERR_CONFIG);
	assert_logged(&c, "module arguments: code_count: missing value");
	assert_int_equal(rec_config_set(&after, "code_count", "500",
	    "/etc/security/pam_recovery.conf", 12, &log), REC_ERR_CONFIG);
	assert_logged(&c, "/etc/security/pam_recovery.conf:12: code_count: "
	    "\"500\"");
	assert_logged(&c, "out of range");
	/* A hostile value cannot smuggle a newline into the log. */
	assert_int_equal(rec_config_set(&after, "code_count", "1\nfake: line",
	    "module arguments", 0, &log), REC_ERR_CONFIG);
	assert_logged(&c, "\"1?fake: line\"");
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(rec_config_set(NULL, "code_count", "5", "t", 0, &log),
	    REC_ERR_USAGE);
}

static void
test_enum_names(void **state)
{
	struct rec_config cfg;
	int i;

	(void)state;
	rec_config_defaults(&cfg);
	for (i = REC_ALPHA_BASE32; i <= REC_ALPHA_DIGITS; i++) {
		assert_int_equal(rec_config_set(&cfg, "code_alphabet",
		    rec_config_alphabet_name((enum rec_alphabet)i), "t", 0,
		    NULL), REC_OK);
		assert_int_equal(cfg.code_alphabet, i);
	}
	for (i = REC_EXPORT_TXT; i <= REC_EXPORT_PDF; i++) {
		assert_int_equal(rec_config_set(&cfg, "export_format",
		    rec_config_export_name((enum rec_export)i), "t", 0, NULL),
		    REC_OK);
		assert_int_equal(cfg.export_format, i);
	}
	assert_string_equal(rec_config_alphabet_name(REC_ALPHA_BASE60),
	    "base60");
	assert_string_equal(rec_config_export_name(REC_EXPORT_JSON), "json");
	assert_string_equal(rec_config_alphabet_name((enum rec_alphabet)99),
	    "unknown");
	assert_string_equal(rec_config_export_name((enum rec_export)99),
	    "unknown");
}

/* --- The file ------------------------------------------------------------ */

struct tmpdir {
	char dir[64];
	char path[8][128];
	int npaths;
};

static int
setup_tmpdir(void **state)
{
	struct tmpdir *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -1;
	snprintf(t->dir, sizeof(t->dir), "/tmp/test_config.XXXXXX");
	if (mkdtemp(t->dir) == NULL) {
		free(t);
		return -1;
	}
	*state = t;
	return 0;
}

static int
teardown_tmpdir(void **state)
{
	struct tmpdir *t = *state;
	int i;

	for (i = 0; i < t->npaths; i++)
		(void)unlink(t->path[i]);
	(void)rmdir(t->dir);
	free(t);
	return 0;
}

/* A path in the test's directory, removed again by the teardown. */
static const char *
tmp_path(struct tmpdir *t, const char *name)
{
	char buf[sizeof(t->path[0])];

	assert_true(t->npaths < 8);
	snprintf(buf, sizeof(buf), "%s/%s", t->dir, name);
	memcpy(t->path[t->npaths], buf, sizeof(buf));
	return t->path[t->npaths++];
}

static const char *
write_file(struct tmpdir *t, const char *name, const char *text, size_t len,
    mode_t mode)
{
	const char *path = tmp_path(t, name);
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd != -1);
	assert_int_equal(write(fd, text, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);	/* exact, whatever the umask */
	assert_int_equal(close(fd), 0);
	return path;
}

#define WRITE(t, name, text, mode) write_file(t, name, text, strlen(text), mode)

static void
test_file_round_trip(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config cfg;
	struct capture c;
	struct rec_log log;
	const char *path;

	path = WRITE(t, "ok.conf",
	    "# pam_recovery.conf for the test\n"
	    "\n"
	    "   # an indented comment\n"
	    "store = /var/lib/pam-recovery\n"
	    "code_count=12\n"
	    "\tcode_alphabet   =   base60   \n"
	    "code_length = 36\n"
	    "code_group = 6\r\n"
	    "kdf_memlimit = 1G\n"
	    "kdf_memlimit_max = 1G\n"
	    "kdf_opslimit = 1\n"
	    "purge_max_per_run = 250\n"
	    "audit = off\n"
	    "site_name = Example Corp#1\n"
	    "admin_email =\n"
	    "   \t  \n"
	    "export_format = json", 0644);
	capture_init(&c, &log);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load(&cfg, path, &log), REC_OK);
	assert_int_equal(c.errors, 0);
	assert_string_equal(cfg.store, "/var/lib/pam-recovery");
	assert_int_equal(cfg.code_count, 12);
	assert_int_equal(cfg.code_alphabet, REC_ALPHA_BASE60);
	assert_int_equal(cfg.code_length, 36);
	assert_int_equal(cfg.code_group, 6);
	assert_int_equal(cfg.kdf_memlimit, 1073741824);
	assert_int_equal(cfg.kdf_opslimit, 1);
	assert_true(cfg.purge_max_per_run == 250);
	assert_int_equal(cfg.audit, 0);
	assert_string_equal(cfg.site_name, "Example Corp#1");	/* '#' in a word */
	assert_string_equal(cfg.admin_email, "");
	assert_int_equal(cfg.export_format, REC_EXPORT_JSON);
	/* Untouched keys keep their defaults. */
	assert_int_equal(cfg.max_attempts, 5);
	assert_int_equal(cfg.code_check, 1);
	assert_int_equal(rec_config_validate(&cfg, &log), REC_OK);
	assert_int_equal(rec_config_per_user(&cfg), 0);
}

static void
test_file_empty(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config before, after;
	const char *path;

	path = WRITE(t, "empty.conf", "", 0600);
	rec_config_defaults(&before);
	memcpy(&after, &before, sizeof(after));
	assert_int_equal(rec_config_load(&after, path, NULL), REC_OK);
	assert_memory_equal(&before, &after, sizeof(before));
}

/* Load text that must fail; cfg must stay exactly as it was. */
#define LOAD_BAD(t, name, lit, want, c) \
	load_bad(t, name, lit, sizeof(lit) - 1, want, c)

static void
load_bad(struct tmpdir *t, const char *name, const char *text, size_t len,
    int want, struct capture *c)
{
	struct rec_config before, after;
	struct rec_log log;
	const char *path = write_file(t, name, text, len, 0644);

	capture_init(c, &log);
	rec_config_defaults(&before);
	memcpy(&after, &before, sizeof(after));
	assert_int_equal(rec_config_load(&after, path, &log), want);
	assert_memory_equal(&before, &after, sizeof(before));
	assert_true(c->errors > 0);
	assert_logged(c, path);
}

static void
test_file_bad_lines(void **state)
{
	struct tmpdir *t = *state;
	struct capture c;
	char want[256];

	LOAD_BAD(t, "value.conf",
	    "# comment\n"
	    "code_count = 5\n"
	    "\n"
	    "max_attempts = 5000\n", REC_ERR_CONFIG, &c);
	snprintf(want, sizeof(want), "%s/value.conf:4: max_attempts: \"5000\"",
	    t->dir);
	assert_logged(&c, want);

	/* Every bad line is reported, not just the first. */
	LOAD_BAD(t, "several.conf",
	    "code_count 5\n"
	    "no_such_key = 1\n"
	    "= 3\n"
	    "code_check = maybe\n"
	    "code_count = 5 # trailing comments are not comments\n",
	    REC_ERR_CONFIG, &c);
	assert_int_equal(c.errors, 5);
	snprintf(want, sizeof(want), "%s/several.conf:1: expected \"key = "
	    "value\"", t->dir);
	assert_logged(&c, want);
	snprintf(want, sizeof(want), "%s/several.conf:2: no_such_key: unknown "
	    "key", t->dir);
	assert_logged(&c, want);
	snprintf(want, sizeof(want), "%s/several.conf:3: missing key", t->dir);
	assert_logged(&c, want);
	snprintf(want, sizeof(want), "%s/several.conf:4: code_check:", t->dir);
	assert_logged(&c, want);
	snprintf(want, sizeof(want), "%s/several.conf:5: code_count:", t->dir);
	assert_logged(&c, want);
}

/*
 * Lines that would silently mean something else: a trailing comment taken
 * into the value, a key set twice of which only one line would count.  Each
 * is an error naming the file, the line and the key, and the file changes
 * nothing; a '#' inside a word and a commented-out repeat are fine.
 */
struct strict {
	const char *text;
	int ok;			/* 1: accepted */
	const char *where;	/* ":LINE: KEY: " expected in the log */
	const char *why;	/* and this */
};

static const struct strict stricts[] = {
	{ "store = /var/lib/x # system store\n", 0, ":1: store: ",
	    "'#' after a blank starts no comment" },
	{ "code_count = 4\nstore = /var/lib/x\t#tab\n", 0, ":2: store: ",
	    "'#' after a blank" },
	{ "site_name = # none yet\n", 0, ":1: site_name: ",
	    "'#' at the start of a value" },
	{ "code_count = 12 # twelve\n", 0, ":1: code_count: ",
	    "put comments on a line of their own" },
	{ "code_count = 5\nmax_attempts = 3\ncode_count = 6\n", 0,
	    ":3: code_count: ", "set again (first set on line 1)" },
	{ "audit = yes\n\naudit = yes\n", 0, ":3: audit: ",
	    "set again (first set on line 1)" },
	{ "  store=/a\nstore = /a\n", 0, ":2: store: ", "set again" },
	{ "code_count = x\ncode_count = 5\n", 0, ":2: code_count: ",
	    "set again (first set on line 1)" },
	{ "site_name = Corp#1\n", 1, NULL, NULL },
	{ "store = /srv/a#b\n", 1, NULL, NULL },
	{ "# store = /x # old\nstore = /y\n", 1, NULL, NULL },
	{ "store = /y\n# store = /z\n", 1, NULL, NULL },
	{ "site_name = a=b\n", 1, NULL, NULL },
};

static void
test_file_strict_lines(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config cfg;
	struct capture c;
	struct rec_log log;
	char name[32], want[256];
	const char *path;
	size_t i;

	for (i = 0; i < sizeof(stricts) / sizeof(stricts[0]); i++) {
		const struct strict *x = &stricts[i];

		snprintf(name, sizeof(name), "strict%zu.conf", i);
		if (!x->ok) {
			load_bad(t, name, x->text, strlen(x->text),
			    REC_ERR_CONFIG, &c);
			snprintf(want, sizeof(want), "%s/%s%s", t->dir, name,
			    x->where);
			assert_logged(&c, want);
			assert_logged(&c, x->why);
		} else {
			path = write_file(t, name, x->text, strlen(x->text),
			    0644);
			capture_init(&c, &log);
			rec_config_defaults(&cfg);
			assert_int_equal(rec_config_load(&cfg, path, &log),
			    REC_OK);
			assert_int_equal(c.errors, 0);
		}
		/* The next row reuses the slot of this one's file. */
		assert_int_equal(unlink(t->path[--t->npaths]), 0);
	}
	/* What the good rows set, in full. */
	path = WRITE(t, "strict.conf", "site_name = Corp#1\n"
	    "# store = /x # old\nstore = /srv/a#b\n# store = /z\n", 0644);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load(&cfg, path, NULL), REC_OK);
	assert_string_equal(cfg.site_name, "Corp#1");
	assert_string_equal(cfg.store, "/srv/a#b");
}

/*
 * [service NAME] sections (spec 12): the section of the service asked for
 * goes over the global settings; other sections are checked but not
 * applied; a key may be set once per section.
 */
static void
test_file_service_sections(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config cfg;
	struct rec_log log;
	struct capture c;
	char names[REC_SECTIONS_MAX][REC_SERVICE_MAX];
	unsigned n = 0;
	const char *path;

	path = WRITE(t, "svc.conf",
	    "store = ~/.pam-recovery\n"
	    "max_attempts = 4\n"
	    "[service sudo]\n"
	    "store = /var/lib/pam-recovery\n"
	    "pepper_file = /etc/security/pam_recovery.pepper\n"
	    "max_attempts = 3\n"
	    "  [ service  login ]  \n"
	    "code_count = 7\n", 0644);
	capture_init(&c, &log);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load_service(&cfg, path, "sudo", &log),
	    REC_OK);
	assert_int_equal(c.errors, 0);
	assert_string_equal(cfg.store, "/var/lib/pam-recovery");
	assert_string_equal(cfg.pepper_file, "/etc/security/pam_recovery.pepper");
	assert_int_equal(cfg.max_attempts, 3);
	assert_int_equal(cfg.code_count, 10);	/* login's, not sudo's */

	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load_service(&cfg, path, "login", &log),
	    REC_OK);
	assert_string_equal(cfg.store, "~/.pam-recovery");
	assert_int_equal(cfg.max_attempts, 4);	/* the global value */
	assert_int_equal(cfg.code_count, 7);
	assert_string_equal(cfg.pepper_file, "");

	/* No service, one without a section, a name no section can have. */
	static const char *const global[] = { NULL, "sshd", "../sudo" };
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		rec_config_defaults(&cfg);
		assert_int_equal(rec_config_load_service(&cfg, path, global[i],
		    &log), REC_OK);
		assert_string_equal(cfg.store, "~/.pam-recovery");
		assert_int_equal(cfg.max_attempts, 4);
		assert_int_equal(cfg.code_count, 10);
	}
	assert_int_equal(rec_config_sections(path, names, &n, &log), REC_OK);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "sudo");
	assert_string_equal(names[1], "login");
}

static void
test_file_service_sections_bad(void **state)
{
	struct tmpdir *t = *state;
	struct capture c;
	struct rec_config cfg;
	struct rec_log log;
	const char *path;

	/* A bad line in any section fails every reader, whichever service. */
	LOAD_BAD(t, "s1.conf", "store = /a\n[service sudo]\nmax_attempts = x\n",
	    REC_ERR_CONFIG, &c);
	assert_logged(&c, "s1.conf:3");
	path = tmp_path(t, "s1.conf");
	capture_init(&c, &log);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load_service(&cfg, path, "login", &log),
	    REC_ERR_CONFIG);
	LOAD_BAD(t, "s2.conf", "[service sudo]\n[service sudo]\n",
	    REC_ERR_CONFIG, &c);
	assert_logged(&c, "appears twice");
	LOAD_BAD(t, "s3.conf", "[sudo]\nstore = /a\n", REC_ERR_CONFIG, &c);
	assert_logged(&c, "[service NAME]");
	LOAD_BAD(t, "s4.conf", "[service su do]\n", REC_ERR_CONFIG, &c);
	assert_logged(&c, "not a PAM service name");
	LOAD_BAD(t, "s5.conf", "[service sudo\n", REC_ERR_CONFIG, &c);
	LOAD_BAD(t, "s6.conf", "[service sudo]\nstore = /a\nstore = /b\n",
	    REC_ERR_CONFIG, &c);
	assert_logged(&c, "set again");
	LOAD_BAD(t, "s7.conf", "[service ]\n", REC_ERR_CONFIG, &c);
	assert_true(rec_config_service_ok("sshd"));
	assert_true(rec_config_service_ok("pam-recovery_self.2@x"));
	assert_false(rec_config_service_ok(""));
	assert_false(rec_config_service_ok(".."));
	assert_false(rec_config_service_ok("a/b"));
	assert_false(rec_config_service_ok(NULL));
}

/* Module arguments override the file's keys: that is no "set again". */
static void
test_file_then_arguments(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config cfg;
	struct capture c;
	struct rec_log log;
	const char *path;

	path = WRITE(t, "args.conf", "store = /var/lib/a\nmax_attempts = 3\n",
	    0644);
	capture_init(&c, &log);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load(&cfg, path, &log), REC_OK);
	assert_int_equal(rec_config_set(&cfg, "store", "/var/lib/b",
	    "module arguments", 0, &log), REC_OK);
	assert_int_equal(rec_config_set(&cfg, "max_attempts", "4",
	    "module arguments", 0, &log), REC_OK);
	assert_int_equal(c.errors, 0);
	assert_string_equal(cfg.store, "/var/lib/b");
	assert_int_equal(cfg.max_attempts, 4);
}

/* A file that is not a configuration at all stops after a few errors. */
static void
test_file_too_many_errors(void **state)
{
	struct tmpdir *t = *state;
	struct capture c;
	char text[40 * 16], want[256];
	size_t i;

	for (i = 0; i < 40; i++)
		memcpy(text + i * 16, "secret:line:xx\n\n", 16);
	load_bad(t, "passwd", text, sizeof(text), REC_ERR_CONFIG, &c);
	assert_int_equal(c.errors, 11);
	snprintf(want, sizeof(want), "%s/passwd:19: too many errors", t->dir);
	assert_logged(&c, want);
	/* Lines without '=' are not quoted: they may be anybody's secrets. */
	assert_null(strstr(c.text, "secret"));
}

static void
test_file_long_line_and_nul(void **state)
{
	struct tmpdir *t = *state;
	struct capture c;
	char text[5000], want[256];

	memset(text, ' ', sizeof(text));
	memcpy(text, "code_count = 5\nsite_name = x", 28);
	text[sizeof(text) - 1] = '\n';
	load_bad(t, "long.conf", text, sizeof(text), REC_ERR_CONFIG, &c);
	snprintf(want, sizeof(want), "%s/long.conf:2: line longer", t->dir);
	assert_logged(&c, want);

	LOAD_BAD(t, "nul.conf", "code_count = 5\ncode_count = 6\0 7\n",
	    REC_ERR_CONFIG, &c);
	snprintf(want, sizeof(want), "%s/nul.conf:2: line contains a NUL",
	    t->dir);
	assert_logged(&c, want);
}

static void
test_file_writable_refused(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config before, after;
	struct capture c;
	struct rec_log log;
	const char *grp, *oth;

	grp = WRITE(t, "grp.conf", "code_count = 5\n", 0664);
	oth = WRITE(t, "oth.conf", "code_count = 5\n", 0602);
	capture_init(&c, &log);
	rec_config_defaults(&before);
	memcpy(&after, &before, sizeof(after));
	assert_int_equal(rec_config_load(&after, grp, &log), REC_ERR_UNSAFE);
	assert_logged(&c, grp);
	assert_logged(&c, "writable by group or other");
	assert_int_equal(rec_config_load(&after, oth, &log), REC_ERR_UNSAFE);
	assert_logged(&c, oth);
	assert_memory_equal(&before, &after, sizeof(before));
}

static void
test_file_symlink_refused(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config cfg;
	struct capture c;
	struct rec_log log;
	const char *real, *link;

	real = WRITE(t, "real.conf", "code_count = 5\n", 0644);
	link = tmp_path(t, "link.conf");
	assert_int_equal(symlink(real, link), 0);
	capture_init(&c, &log);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load(&cfg, link, &log), REC_ERR_UNSAFE);
	assert_logged(&c, "symbolic link");
	assert_int_equal(cfg.code_count, 10);
	assert_int_equal(rec_config_load(&cfg, real, &log), REC_OK);
	assert_int_equal(cfg.code_count, 5);
}

static void
test_file_not_regular(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config cfg;
	struct capture c;
	struct rec_log log;
	const char *fifo;

	capture_init(&c, &log);
	rec_config_defaults(&cfg);
	/* A directory, and a FIFO that must not block the reader. */
	assert_int_equal(rec_config_load(&cfg, t->dir, &log), REC_ERR_UNSAFE);
	fifo = tmp_path(t, "fifo.conf");
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(rec_config_load(&cfg, fifo, &log), REC_ERR_UNSAFE);
	assert_logged(&c, "not a regular file");
}

static void
test_file_missing(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config before, after;
	struct capture c;
	struct rec_log log;

	capture_init(&c, &log);
	rec_config_defaults(&before);
	memcpy(&after, &before, sizeof(after));
	assert_int_equal(rec_config_load(&after, tmp_path(t, "none.conf"), &log),
	    REC_ERR_NOTFOUND);
	assert_int_equal(c.errors, 0);	/* the caller decides */
	assert_memory_equal(&before, &after, sizeof(before));
	assert_int_equal(rec_config_load(&after, NULL, &log), REC_ERR_USAGE);
}

static void
test_file_owner(void **state)
{
	struct tmpdir *t = *state;
	struct rec_config cfg;
	struct capture c;
	struct rec_log log;
	const char *path;

	path = WRITE(t, "owner.conf", "code_count = 5\n", 0644);
	if (geteuid() != 0) {
		/* Owned by the caller, who is not root: accepted. */
		rec_config_defaults(&cfg);
		assert_int_equal(rec_config_load(&cfg, path, NULL), REC_OK);
		skip();
	}
	/* Root accepts only root's files. */
	assert_int_equal(chown(path, 1, 1), 0);
	capture_init(&c, &log);
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_load(&cfg, path, &log), REC_ERR_UNSAFE);
	assert_logged(&c, "owned by uid 1");
	assert_int_equal(cfg.code_count, 10);
}

/* --- Validation across keys ---------------------------------------------- */

static void
expect_invalid(const struct rec_config *cfg, const char *needle)
{
	struct capture c;
	struct rec_log log;

	capture_init(&c, &log);
	assert_int_equal(rec_config_validate(cfg, &log), REC_ERR_CONFIG);
	assert_logged(&c, needle);
}

static void
test_validate(void **state)
{
	struct rec_config cfg;

	(void)state;
	rec_config_defaults(&cfg);
	cfg.cooldown_cap = 59;
	expect_invalid(&cfg, "cooldown_cap");
	cfg.cooldown_cap = 60;
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);

	rec_config_defaults(&cfg);
	cfg.code_group = 21;
	expect_invalid(&cfg, "code_group");
	cfg.code_group = 20;
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);

	rec_config_defaults(&cfg);
	snprintf(cfg.pepper_file, sizeof(cfg.pepper_file), "key");
	expect_invalid(&cfg, "pepper_file");

	rec_config_defaults(&cfg);
	cfg.store[0] = '\0';
	expect_invalid(&cfg, "store");
	snprintf(cfg.store, sizeof(cfg.store), "relative/store");
	expect_invalid(&cfg, "store");
	snprintf(cfg.store, sizeof(cfg.store), "/var/lib/%%x");
	expect_invalid(&cfg, "store");
	snprintf(cfg.store, sizeof(cfg.store), "/var/lib/pam-recovery/%%u");
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);

	/* store = ldap: the directory's keys, checked when read (spec 10). */
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_set(&cfg, "store", "ldap", "t", 0, NULL),
	    REC_OK);
	assert_true(rec_config_directory(&cfg));
	assert_false(rec_config_per_user(&cfg));
	expect_invalid(&cfg, "ldap_uri: must be set with store = ldap");
	expect_invalid(&cfg, "ldap_base: must be set with store = ldap");
	snprintf(cfg.ldap_uri, sizeof(cfg.ldap_uri), "ldaps://a.example/ "
	    "ldap://b.example/");
	snprintf(cfg.ldap_base, sizeof(cfg.ldap_base), "ou=r,dc=example");
	expect_invalid(&cfg, "ldap_bind_dn: must be set");
	snprintf(cfg.ldap_bind_dn, sizeof(cfg.ldap_bind_dn), "cn=host");
	expect_invalid(&cfg, "ldap_bind_pw_file: must be set when ldap_bind_dn");
	snprintf(cfg.ldap_bind_pw_file, sizeof(cfg.ldap_bind_pw_file),
	    "/etc/pam_recovery.ldap.pw");
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);
	cfg.ldap_starttls = 0;
	expect_invalid(&cfg, "ldap_starttls: is no, and ldap://b.example/ is "
	    "a plain ldap:// URI");
	cfg.ldap_insecure = 1;
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);
	/* A pepper is allowed: the directory is a system store. */
	snprintf(cfg.pepper_file, sizeof(cfg.pepper_file), "/etc/rec.key");
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);
	/* ldapi:// alone binds with SASL EXTERNAL, without a DN. */
	rec_config_defaults(&cfg);
	snprintf(cfg.store, sizeof(cfg.store), "ldap");
	snprintf(cfg.ldap_uri, sizeof(cfg.ldap_uri), "ldapi://");
	snprintf(cfg.ldap_base, sizeof(cfg.ldap_base), "ou=r,dc=example");
	cfg.ldap_starttls = 0;
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);
	snprintf(cfg.ldap_write_uri, sizeof(cfg.ldap_write_uri),
	    "ldaps://provider.example/");
	expect_invalid(&cfg, "ldap_bind_dn: must be set");
	/* The front ends wait for each URI's ldap_timeout on top. */
	cfg.store_timeout = 10;
	cfg.ldap_timeout = 3;
	assert_int_equal(rec_config_store_wait(&cfg), 16);
	snprintf(cfg.store, sizeof(cfg.store), "/var/lib/pam-recovery");
	assert_int_equal(rec_config_store_wait(&cfg), 10);
	assert_false(rec_config_directory(&cfg));
	/* The word, not a path that happens to end in it. */
	snprintf(cfg.store, sizeof(cfg.store), "/var/lib/ldap");
	assert_false(rec_config_directory(&cfg));

	/* Entropy: 11 random digits are 36.5 bits, 13 are 43.2. */
	rec_config_defaults(&cfg);
	cfg.code_alphabet = REC_ALPHA_DIGITS;
	cfg.code_length = 12;
	cfg.code_group = 4;
	expect_invalid(&cfg, "entropy");
	cfg.code_length = 14;
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);

	/* 8 base32 characters: 35 bits with a check character, 40 without. */
	rec_config_defaults(&cfg);
	cfg.code_length = 8;
	cfg.code_group = 4;
	expect_invalid(&cfg, "entropy");
	cfg.code_check = 0;
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);

	/* The cost must lie within the policy's bounds, and they in order. */
	static const struct {
		const char *key, *value;
		int ok;
	} costs[] = {
		{ "kdf_opslimit", "4", REC_OK },
		{ "kdf_opslimit", "5", REC_ERR_CONFIG },
		{ "kdf_opslimit", "40", REC_ERR_CONFIG },
		{ "kdf_opslimit", "4294967295", REC_ERR_CONFIG },
		{ "kdf_memlimit", "256M", REC_OK },
		{ "kdf_memlimit", "257M", REC_ERR_CONFIG },
		{ "kdf_memlimit", "4G", REC_ERR_CONFIG },
		{ "kdf_memlimit", "8K", REC_OK },
		{ "kdf_opslimit_min", "3", REC_ERR_CONFIG },
		{ "kdf_opslimit_max", "1", REC_ERR_CONFIG },
		{ "kdf_memlimit_min", "128M", REC_ERR_CONFIG },
		{ "kdf_memlimit_max", "32M", REC_ERR_CONFIG },
		{ "kdf_opslimit_min", "2", REC_OK },
		{ "kdf_memlimit_max", "64M", REC_OK },
		{ "code_min_entropy", "95", REC_OK },
		{ "code_min_entropy", "96", REC_ERR_CONFIG },
		{ "code_min_entropy", "0", REC_OK },
	};
	for (size_t i = 0; i < sizeof(costs) / sizeof(costs[0]); i++) {
		rec_config_defaults(&cfg);
		assert_int_equal(rec_config_set(&cfg, costs[i].key,
		    costs[i].value, "test", 0, NULL), REC_OK);
		if (costs[i].ok == REC_OK)
			assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);
		else
			expect_invalid(&cfg, costs[i].key[0] == 'c' ?
			    "code_min_entropy" : costs[i].key[4] == 'o' ?
			    "kdf_opslimit" : "kdf_memlimit");
	}
	/* min above max is refused even when the cost lies between. */
	rec_config_defaults(&cfg);
	cfg.kdf_opslimit_min = 3;
	cfg.kdf_opslimit_max = 2;
	expect_invalid(&cfg, "kdf_opslimit_min .. kdf_opslimit_max (3 .. 2)");

	/* The base60 6x6 format of the contract. */
	rec_config_defaults(&cfg);
	cfg.code_alphabet = REC_ALPHA_BASE60;
	cfg.code_length = 36;
	cfg.code_group = 6;
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);
}

/* --- A user's -c file under the system's policy ------------------------ */

static void
test_policy_apply(void **state)
{
	struct rec_config policy, cfg;
	struct capture c;
	struct rec_log log;

	(void)state;
	rec_config_defaults(&policy);
	policy.code_expiry_days = 30;
	policy.generate_cooldown = 3600;
	policy.kdf_opslimit_min = 2;

	/* A file that tries to loosen everything. */
	rec_config_defaults(&cfg);
	cfg.kdf_opslimit_max = 100;
	cfg.kdf_opslimit = 40;
	cfg.kdf_memlimit_max = UINT64_C(4) << 30;
	cfg.kdf_opslimit_min = 1;
	cfg.code_expiry_days = 365;
	cfg.generate_cooldown = 5;
	cfg.audit = 0;
	cfg.code_length = 9;
	cfg.code_group = 3;
	cfg.code_min_entropy = 40;
	capture_init(&c, &log);
	assert_int_equal(rec_policy_apply(&cfg, &policy, "user.conf", &log),
	    REC_OK);
	assert_int_equal(cfg.kdf_opslimit_max, 4);
	assert_int_equal(cfg.kdf_opslimit_min, 2);
	assert_int_equal(cfg.kdf_memlimit_max, 256 << 20);
	assert_int_equal(cfg.code_expiry_days, 30);
	assert_int_equal(cfg.generate_cooldown, 3600);
	assert_int_equal(cfg.audit, 1);
	assert_int_equal(cfg.code_min_entropy, 95);
	assert_logged(&c, "user.conf: code_expiry_days 365 ignored");
	assert_logged(&c, "user.conf: generate_cooldown 5 ignored");
	assert_logged(&c, "user.conf: audit = no ignored");
	capture_init(&c, &log);
	assert_int_equal(rec_config_validate(&cfg, &log), REC_ERR_CONFIG);
	assert_logged(&c, "kdf_opslimit: 40 is outside");
	assert_logged(&c, "code_min_entropy");

	/* A file that tightens: kept as it is, quietly. */
	rec_config_defaults(&cfg);
	cfg.kdf_opslimit_max = 3;
	cfg.kdf_memlimit_min = 1 << 20;
	cfg.kdf_memlimit = 1 << 20;
	cfg.kdf_opslimit = 3;
	cfg.code_expiry_days = 7;
	cfg.generate_cooldown = 7200;
	cfg.code_alphabet = REC_ALPHA_BASE60;
	cfg.code_length = 36;
	cfg.code_group = 6;
	capture_init(&c, &log);
	assert_int_equal(rec_policy_apply(&cfg, &policy, "user.conf", &log),
	    REC_OK);
	assert_int_equal(c.count, 0);
	assert_int_equal(cfg.kdf_opslimit_max, 3);
	assert_int_equal(cfg.kdf_opslimit_min, 2);
	assert_int_equal(cfg.kdf_memlimit_min, 1 << 20);
	assert_int_equal(cfg.code_expiry_days, 7);
	assert_int_equal(cfg.generate_cooldown, 7200);
	assert_int_equal(cfg.code_min_entropy, 0);
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);

	/* Defaults in the file: the stricter policy, without a warning. */
	rec_config_defaults(&cfg);
	cfg.kdf_opslimit = 2;
	capture_init(&c, &log);
	rec_policy_apply(&cfg, &policy, "user.conf", &log);
	assert_int_equal(c.count, 0);
	assert_int_equal(cfg.code_expiry_days, 30);
	assert_int_equal(cfg.generate_cooldown, 3600);
	assert_int_equal(rec_config_validate(&cfg, NULL), REC_OK);

	/* The notice of changes is the system's: not replaced, not silenced. */
	snprintf(policy.notify_command, sizeof(policy.notify_command),
	    "/usr/local/sbin/recovery-notice");
	policy.notify_timeout = 9;
	rec_config_defaults(&cfg);
	snprintf(cfg.notify_command, sizeof(cfg.notify_command), "/tmp/mine");
	cfg.notify_timeout = 60;
	rec_policy_apply(&cfg, &policy, "user.conf", &log);
	assert_string_equal(cfg.notify_command,
	    "/usr/local/sbin/recovery-notice");
	assert_int_equal(cfg.notify_timeout, 9);
	rec_config_defaults(&policy);
	rec_policy_apply(&cfg, &policy, "user.conf", &log);
	assert_string_equal(cfg.notify_command, "");
	assert_int_equal(cfg.notify_timeout, 5);

	/*
	 * The password before a change: a user's file cannot turn it off,
	 * nor name the PAM stack that checks it; it may turn it on.
	 */
	rec_config_defaults(&policy);
	policy.reauth = 1;
	snprintf(policy.reauth_pam_dir, sizeof(policy.reauth_pam_dir),
	    "/etc/pam-recovery/pam.d");
	rec_config_defaults(&cfg);
	snprintf(cfg.reauth_pam_dir, sizeof(cfg.reauth_pam_dir), "/tmp/mine");
	capture_init(&c, &log);
	rec_policy_apply(&cfg, &policy, "user.conf", &log);
	assert_int_equal(cfg.reauth, 1);
	assert_string_equal(cfg.reauth_pam_dir, "/etc/pam-recovery/pam.d");
	assert_logged(&c, "user.conf: reauth = no ignored");
	assert_logged(&c, "user.conf: reauth_pam_dir ignored");
	/* Not set by the file: the system's, without a warning. */
	rec_config_defaults(&cfg);
	cfg.reauth = 1;
	capture_init(&c, &log);
	rec_policy_apply(&cfg, &policy, "user.conf", &log);
	assert_int_equal(c.count, 0);
	assert_int_equal(cfg.reauth, 1);
	assert_string_equal(cfg.reauth_pam_dir, "/etc/pam-recovery/pam.d");
	/* A system that does not ask: the user may, with /etc/pam.d. */
	rec_config_defaults(&policy);
	rec_config_defaults(&cfg);
	cfg.reauth = 1;
	snprintf(cfg.reauth_pam_dir, sizeof(cfg.reauth_pam_dir), "/tmp/mine");
	rec_policy_apply(&cfg, &policy, "user.conf", &log);
	assert_int_equal(cfg.reauth, 1);
	assert_string_equal(cfg.reauth_pam_dir, "");
	rec_config_defaults(&cfg);
	rec_policy_apply(&cfg, &policy, "user.conf", &log);
	assert_int_equal(cfg.reauth, 0);
}

/* --- Store paths --------------------------------------------------------- */

struct expand {
	const char *store;
	const char *user;
	const char *home;
	int want;
	const char *path;
};

static const struct expand expands[] = {
	{ "~/.pam-recovery", "alice", "/home/alice", REC_OK,
	    "/home/alice/.pam-recovery" },
	{ "~", "alice", "/home/alice", REC_OK, "/home/alice" },
	{ "/var/lib/pam-recovery/%u", "alice", "/home/alice", REC_OK,
	    "/var/lib/pam-recovery/alice" },
	{ "%h/.rec", "alice", "/home/alice", REC_OK, "/home/alice/.rec" },
	{ "/srv/%u/%u", "bob", NULL, REC_OK, "/srv/bob/bob" },
	{ "/srv/100%%/%u", "alice", "/home/alice", REC_OK, "/srv/100%/alice" },
	{ "/srv/%%u", "..", NULL, REC_OK, "/srv/%u" },
	{ "/var/lib/pam-recovery", "..", NULL, REC_OK, "/var/lib/pam-recovery" },
	{ "/var/..x/...", NULL, NULL, REC_OK, "/var/..x/..." },
	{ "/srv/%x", "alice", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "/srv/%", "alice", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "relative/%u", "alice", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "%u/store", "alice", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "~alice/store", "alice", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "/srv/%u", "..", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "/srv/%u", ".", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "/srv/%u", "", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "/srv/%u", "a/b", "/home/alice", REC_ERR_CONFIG, NULL },
	{ "~/.rec", "alice", "home/alice", REC_ERR_CONFIG, NULL },
	{ "%h/.rec", "alice", "", REC_ERR_CONFIG, NULL },
	{ "~/.rec", "alice", "/home/../etc", REC_ERR_CONFIG, NULL },
	{ "/var/lib/..", NULL, NULL, REC_ERR_CONFIG, NULL },
	{ "/var/../etc", NULL, NULL, REC_ERR_CONFIG, NULL },
	{ "/srv/%u", NULL, "/home/alice", REC_ERR_USAGE, NULL },
	{ "~/.rec", "alice", NULL, REC_ERR_USAGE, NULL },
};

static void
test_store_path(void **state)
{
	struct rec_config cfg;
	char out[REC_PATH_MAX];
	size_t i;
	int r;

	(void)state;
	rec_config_defaults(&cfg);
	for (i = 0; i < sizeof(expands) / sizeof(expands[0]); i++) {
		const struct expand *e = &expands[i];

		snprintf(cfg.store, sizeof(cfg.store), "%s", e->store);
		r = rec_config_store_path(&cfg, e->user, e->home, out,
		    sizeof(out));
		if (r != e->want) {
			print_error("store \"%s\": got %d, want %d\n", e->store,
			    r, e->want);
			fail();
		}
		if (e->path != NULL)
			assert_string_equal(out, e->path);
		else
			assert_string_equal(out, "");
	}
}

static void
test_store_path_too_long(void **state)
{
	struct rec_config cfg;
	char out[64];
	const char *want = "/home/alice/.pam-recovery";
	size_t len = strlen(want);

	(void)state;
	rec_config_defaults(&cfg);
	assert_int_equal(rec_config_store_path(&cfg, "alice", "/home/alice",
	    out, len + 1), REC_OK);
	assert_string_equal(out, want);
	assert_int_equal(rec_config_store_path(&cfg, "alice", "/home/alice",
	    out, len), REC_ERR_USAGE);
	assert_int_equal(rec_config_store_path(&cfg, "alice", "/home/alice",
	    out, 5), REC_ERR_USAGE);
	assert_int_equal(rec_config_store_path(&cfg, "alice", "/home/alice",
	    out, 0), REC_ERR_USAGE);

	/* A home that alone fills the buffer. */
	memset(out, 'h', sizeof(out));
	out[0] = '/';
	out[sizeof(out) - 1] = '\0';
	{
		char big[70];

		assert_int_equal(rec_config_store_path(&cfg, "alice", out, big,
		    sizeof(big)), REC_ERR_USAGE);
	}
}

static void
test_per_user(void **state)
{
	static const struct {
		const char *store;
		int per_user;
	} cases[] = {
		{ "~/.pam-recovery", 1 }, { "~", 1 }, { "/var/lib/%u", 1 },
		{ "%h/x", 1 }, { "/srv/%u/%%", 1 },
		{ "/var/lib/pam-recovery", 0 }, { "/srv/100%%u", 0 },
		{ "/var/~x", 0 }, { "/srv/%", 0 }, { "/srv/%%%%", 0 },
	};
	struct rec_config cfg;
	size_t i;

	(void)state;
	rec_config_defaults(&cfg);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(cfg.store, sizeof(cfg.store), "%s", cases[i].store);
		if (rec_config_per_user(&cfg) != cases[i].per_user) {
			print_error("store \"%s\"\n", cases[i].store);
			fail();
		}
	}
}

/*
 * Who manages a user's codes: the user (pam-recovery, with --service for
 * a valid service name) for a per-user store, or for a system store while
 * pam-recovery-selfd's socket exists; else nobody but the administrator.
 */
static void
test_helper_command(void **state)
{
	struct rec_config cfg;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[] = "/tmp/test_config.XXXXXX", buf[REC_HELPER_CMD_MAX];
	int s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	rec_config_defaults(&cfg);
	snprintf(cfg.store, sizeof(cfg.store), "~/.pam-recovery");
	snprintf(cfg.self_socket, sizeof(cfg.self_socket), "%s/self.sock", dir);
	assert_string_equal(rec_config_helper(&cfg, NULL, buf, sizeof(buf)),
	    "pam-recovery");
	assert_string_equal(rec_config_helper(&cfg, "sudo", buf, sizeof(buf)),
	    "pam-recovery --service sudo");
	/* A name no section could have is not passed on. */
	assert_string_equal(rec_config_helper(&cfg, "a b;rm", buf,
	    sizeof(buf)), "pam-recovery");
	snprintf(cfg.store, sizeof(cfg.store), "/var/lib/pam-recovery");
	assert_null(rec_config_helper(&cfg, "sudo", buf, sizeof(buf)));
	/* Not a socket: still nobody to serve them. */
	assert_int_equal(mkdir(cfg.self_socket, 0700), 0);
	assert_null(rec_config_helper(&cfg, "sudo", buf, sizeof(buf)));
	assert_int_equal(rmdir(cfg.self_socket), 0);
	assert_true((s = socket(AF_UNIX, SOCK_STREAM, 0)) != -1);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/self.sock", dir);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_string_equal(rec_config_helper(&cfg, "sudo", buf, sizeof(buf)),
	    "pam-recovery --service sudo");
	close(s);
	/*
	 * The directory: never the self-service (the socket is there now);
	 * pam-recovery binds as the user when ldap_user_dn says how, and a
	 * pepper (root's) keeps its users from making codes at all.
	 */
	snprintf(cfg.store, sizeof(cfg.store), "ldap");
	assert_null(rec_config_helper(&cfg, "sudo", buf, sizeof(buf)));
	snprintf(cfg.ldap_user_dn, sizeof(cfg.ldap_user_dn),
	    "uid=%%u,ou=people,dc=example,dc=org");
	assert_string_equal(rec_config_helper(&cfg, "sudo", buf, sizeof(buf)),
	    "pam-recovery --service sudo");
	snprintf(cfg.pepper_file, sizeof(cfg.pepper_file), "/etc/rec.key");
	assert_null(rec_config_helper(&cfg, NULL, buf, sizeof(buf)));
	assert_int_equal(unlink(cfg.self_socket), 0);
	assert_int_equal(rmdir(dir), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_flips_cover_struct),
		cmocka_unit_test(test_flip_every_default),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_too_long_strings),
		cmocka_unit_test(test_missing_value_and_message),
		cmocka_unit_test(test_enum_names),
		cmocka_unit_test_setup_teardown(test_file_round_trip,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_empty,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_bad_lines,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_strict_lines,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_service_sections,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_service_sections_bad,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_then_arguments,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_too_many_errors,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_long_line_and_nul,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_writable_refused,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_symlink_refused,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_not_regular,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_missing,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test_setup_teardown(test_file_owner,
		    setup_tmpdir, teardown_tmpdir),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_policy_apply),
		cmocka_unit_test(test_store_path),
		cmocka_unit_test(test_store_path_too_long),
		cmocka_unit_test(test_per_user),
		cmocka_unit_test(test_helper_command),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
