/* SPDX-License-Identifier: BSD-2-Clause */
/* fuzz_config.c: libFuzzer target for rec_config_set and rec_config_load. */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rec_config.h"
#include "rec_err.h"

/*
 * Every key of pam_recovery.conf(5), so that most inputs reach a value
 * parser instead of stopping at "unknown key".  The table in rec_config.c is
 * private; a key missing here only costs coverage.
 */
static const char *const key_names[] = {
	"store", "pepper_file", "code_count", "code_alphabet", "code_length",
	"code_group", "code_check", "code_expiry_days", "kdf_opslimit",
	"kdf_memlimit", "max_attempts", "fail_interval", "base_cooldown",
	"cooldown_multiplier", "cooldown_cap", "level_reset",
	"generate_cooldown", "warn_remaining", "retention_days",
	"purge_batch_size", "purge_max_per_run", "audit",
	"audit_retention_days", "history_max_visible", "history_per_page",
	"export_format", "export_name", "site_name", "admin_email", "mail_from",
	"notify_command", "notify_timeout", "self_socket", "ldap_uri",
	"ldap_write_uri", "ldap_base", "ldap_bind_dn", "ldap_bind_pw_file",
	"ldap_ca_file", "ldap_starttls", "ldap_insecure", "ldap_timeout",
	"host_name", "reauth", "reauth_pam_dir",
};
#define NKEYS (sizeof(key_names) / sizeof(key_names[0]))

/* The private file that rec_config_load() reads, rewritten for each input. */
static char conf_path[4096];
static int conf_fd = -1;

static void
remove_conf(void)
{
	if (conf_fd != -1)
		close(conf_fd);
	if (conf_path[0] != '\0')
		unlink(conf_path);
}

/*
 * Log messages end up in syslog: a hostile key or value must never forge a
 * line of its own, so no message may carry a control character.
 */
static void
sink(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	for (const unsigned char *p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f) {
			fprintf(stderr, "control character 0x%02x in log "
			    "message: %s\n", *p, msg);
			abort();
		}
}

static const struct rec_log fuzz_log = { sink, NULL, 1 };

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("FUZZ_TMPDIR");

	(void)argc;
	(void)argv;
	if (dir == NULL)
		dir = getenv("TMPDIR");
	if (dir == NULL)
		dir = "/tmp";
	snprintf(conf_path, sizeof(conf_path), "%s/fuzz_config.XXXXXX", dir);
	/* mkstemp gives mode 0600 and our own uid, as the loader wants. */
	if ((conf_fd = mkstemp(conf_path)) == -1) {
		perror(conf_path);
		exit(1);
	}
	atexit(remove_conf);
	return 0;
}

/*
 * Exercise what a caller does with a configuration after it is read.  An
 * expanded store path is absolute and never climbs out with "..", whatever
 * the user name and home the password database gives.
 */
static void
use_config(const struct rec_config *cfg)
{
	static const char *const who[][2] = {
		{ "alice", "/home/alice" }, { "..", "relative/home" },
		{ "a/b", "/" }, { NULL, NULL },
	};
	char path[REC_PATH_MAX], longhome[REC_PATH_MAX];
	size_t n;

	(void)rec_config_validate(cfg, &fuzz_log);
	(void)rec_config_per_user(cfg);
	(void)rec_config_directory(cfg);
	(void)rec_config_store_wait(cfg);
	for (size_t i = 0; i <= sizeof(who) / sizeof(who[0]); i++) {
		const char *user = "bob", *home = longhome;

		if (i < sizeof(who) / sizeof(who[0])) {
			user = who[i][0];
			home = who[i][1];
		} else {
			memset(longhome, 'h', sizeof(longhome) - 1);
			longhome[0] = '/';
			longhome[sizeof(longhome) - 1] = '\0';
		}
		if (rec_config_store_path(cfg, user, home, path, sizeof(path)) !=
		    REC_OK)
			continue;
		n = strnlen(path, sizeof(path));
		if (n >= sizeof(path) || path[0] != '/' ||
		    strstr(path, "/../") != NULL ||
		    (n >= 3 && strcmp(path + n - 3, "/..") == 0))
			abort();
	}
	(void)rec_config_alphabet_name(cfg->code_alphabet);
	(void)rec_config_export_name(cfg->export_format);
}

/*
 * One key set from the input.  The first byte picks a known key (or, for
 * the top values, the key is whatever comes before '=').  A refused value
 * must leave the configuration exactly as it was; an accepted one must be
 * accepted again with the same effect.
 */
static void
fuzz_set(const uint8_t *data, size_t size)
{
	struct rec_config cfg, before, again;
	char *buf, *key, *value, *eq;
	int r;

	if (size == 0 || (buf = malloc(size)) == NULL)
		return;
	memcpy(buf, data + 1, size - 1);
	buf[size - 1] = '\0';
	if (data[0] < 0xf0) {
		key = (char *)key_names[data[0] % NKEYS];
		value = buf;
	} else {
		key = buf;
		eq = strchr(buf, '=');
		value = eq != NULL ? eq + 1 : NULL;
		if (eq != NULL)
			*eq = '\0';
	}
	rec_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	r = rec_config_set(&cfg, key, value, "fuzz", 1, &fuzz_log);
	if (r != REC_OK) {
		if (r != REC_ERR_CONFIG || memcmp(&cfg, &before, sizeof(cfg)) != 0)
			abort();
	} else {
		memcpy(&again, &cfg, sizeof(cfg));
		if (rec_config_set(&again, key, value, "fuzz", 1, &fuzz_log) !=
		    REC_OK || memcmp(&cfg, &again, sizeof(cfg)) != 0)
			abort();
		if (cfg.store[sizeof(cfg.store) - 1] != '\0' ||
		    cfg.site_name[sizeof(cfg.site_name) - 1] != '\0')
			abort();
		use_config(&cfg);
	}
	free(buf);
}

/* The whole input as a configuration file. */
static void
fuzz_load(const uint8_t *data, size_t size)
{
	struct rec_config cfg, before;
	char names[REC_SECTIONS_MAX][REC_SERVICE_MAX];
	unsigned n = 0;
	int r, r2;

	/*
	 * Write, then cut to size: truncating to zero first would make ext4
	 * flush the file to disk on every close (auto_da_alloc).
	 */
	if ((size > 0 && pwrite(conf_fd, data, size, 0) != (ssize_t)size) ||
	    ftruncate(conf_fd, (off_t)size) == -1) {
		perror(conf_path);
		abort();
	}
	rec_config_defaults(&cfg);
	memcpy(&before, &cfg, sizeof(cfg));
	r = rec_config_load(&cfg, conf_path, &fuzz_log);
	if (r == REC_OK)
		use_config(&cfg);
	else if (r != REC_ERR_CONFIG || memcmp(&cfg, &before, sizeof(cfg)) != 0)
		abort();	/* a bad file must change nothing */

	/* The same file for a service: good or bad alike, sections included. */
	rec_config_defaults(&cfg);
	if ((r2 = rec_config_load_service(&cfg, conf_path, "sudo",
	    &fuzz_log)) == REC_OK)
		use_config(&cfg);
	else if (r2 != REC_ERR_CONFIG || memcmp(&cfg, &before, sizeof(cfg)) != 0)
		abort();
	if ((r == REC_OK) != (r2 == REC_OK))
		abort();	/* every section is checked for every reader */
	if (rec_config_sections(conf_path, names, &n, &fuzz_log) != r ||
	    n > REC_SECTIONS_MAX)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fuzz_set(data, size);
	fuzz_load(data, size);
	return 0;
}
