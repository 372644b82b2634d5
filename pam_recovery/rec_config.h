/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_config.h: the configuration keys, their defaults, ranges and parsers. */
#ifndef REC_CONFIG_H
#define REC_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "rec_code.h"
#include "rec_limits.h"
#include "rec_lockout.h"
#include "rec_log.h"

#define REC_CONF_DEFAULT "/etc/security/pam_recovery.conf"
#ifndef REC_HELPER_PATH		/* the Makefile sets it from LIBEXECDIR */
#define REC_HELPER_PATH "/usr/libexec/pam-recovery/pam-recovery-store"
#endif
#define REC_STR_MAX 256
#define REC_SERVICE_MAX 64	/* a PAM service name and its NUL */
#define REC_SECTIONS_MAX 32	/* [service NAME] sections in one file */

enum rec_export { REC_EXPORT_TXT, REC_EXPORT_CSV, REC_EXPORT_JSON, REC_EXPORT_PDF };

/*
 * Every key of pam_recovery.conf(5).  The same table serves the file and the
 * module arguments; the struct holds settings only, never per-call state.
 * Durations are in seconds unless the name says days.
 */
struct rec_config {
	char store[REC_PATH_MAX];	/* pattern: ~/, %u and %h expand */
	char pepper_file[REC_PATH_MAX];	/* "" = none */
	unsigned code_count;
	enum rec_alphabet code_alphabet;
	unsigned code_length;		/* includes the check character */
	unsigned code_group;		/* 0 = no grouping */
	int code_check;
	unsigned code_expiry_days;
	uint64_t kdf_opslimit;
	uint64_t kdf_memlimit;		/* bytes */
	uint64_t kdf_opslimit_min;	/* policy: the costs a batch may have */
	uint64_t kdf_opslimit_max;
	uint64_t kdf_memlimit_min;
	uint64_t kdf_memlimit_max;
	unsigned code_min_entropy;	/* policy: bits; 0 = the format's own */
	unsigned store_timeout;		/* longest wait for a store's answer */
	char store_helper[REC_PATH_MAX];	/* pam-recovery-store */
	unsigned max_attempts;
	uint64_t fail_interval;
	uint64_t base_cooldown;
	unsigned cooldown_multiplier;
	uint64_t cooldown_cap;
	uint64_t level_reset;
	uint64_t generate_cooldown;
	unsigned warn_remaining;
	unsigned warn_expiry_days;	/* 0 = no expiry reminder */
	unsigned retention_days;
	unsigned purge_batch_size;
	long purge_max_per_run;		/* -1 = no limit */
	int audit;
	unsigned audit_retention_days;
	unsigned history_max_visible;
	unsigned history_per_page;
	enum rec_export export_format;
	char export_name[REC_STR_MAX];
	char site_name[REC_STR_MAX];	/* default: the host name */
	char admin_email[REC_STR_MAX];
	char mail_from[REC_STR_MAX];
	char notify_command[REC_PATH_MAX];	/* "" = no notice of changes */
	unsigned notify_timeout;	/* seconds before the command is killed */
	char self_socket[REC_PATH_MAX];	/* pam-recovery-selfd's socket */
	/* The directory store (spec 10). */
	char ldap_uri[REC_PATH_MAX];	/* URIs to read from, in order */
	char ldap_write_uri[REC_PATH_MAX];	/* "" = ldap_uri */
	char ldap_base[REC_PATH_MAX];	/* subtree of the recovery entries */
	char ldap_bind_dn[REC_PATH_MAX];	/* "" = SASL EXTERNAL over ldapi */
	char ldap_bind_pw_file[REC_PATH_MAX];
	char ldap_user_dn[REC_PATH_MAX];	/* pam-recovery binds as: %u the
					   user; "" = SASL EXTERNAL (ldapi) */
	char ldap_ca_file[REC_PATH_MAX];	/* "" = libldap's (system) CAs */
	int ldap_starttls;
	int ldap_insecure;		/* allow ldap:// without StartTLS */
	unsigned ldap_timeout;		/* seconds: connecting, each operation */
	char host_name[REC_STR_MAX];	/* default: the host name */
	int reauth;			/* helper: password before changes */
	char reauth_pam_dir[REC_PATH_MAX];	/* "" = /etc/pam.d */
};

/* Fill cfg with every key's default. */
void rec_config_defaults(struct rec_config *cfg);

/*
 * Set one key from its textual value.  origin and line name where the value
 * came from ("pam_recovery.conf", 12; or "module arguments", 0) for the error
 * message logged on failure.  Returns REC_OK, or REC_ERR_CONFIG for an
 * unknown key or a value of the wrong type or out of range, in which case
 * cfg is left unchanged.
 */
int rec_config_set(struct rec_config *cfg, const char *key, const char *value,
    const char *origin, unsigned line, const struct rec_log *log);

/*
 * Read a configuration file into cfg (which the caller has filled with
 * defaults).  The file is opened with O_NOFOLLOW and checked with fstat: it
 * must be a regular file owned by root (or, for a caller that is not root,
 * by the caller's own uid) and not writable by group or other.  A missing
 * file is REC_ERR_NOTFOUND (callers treat a missing default file as "all
 * defaults" and a missing named file as an error); every other problem is
 * REC_ERR_CONFIG or REC_ERR_UNSAFE, with the file, line and key logged.
 */
int rec_config_load(struct rec_config *cfg, const char *path,
    const struct rec_log *log);

/*
 * As rec_config_load, and then the keys of the file's "[service NAME]"
 * section for service (the PAM service) on top of the global ones; NULL,
 * or a service without a section, gets the global settings.  Every
 * section is checked, whichever is applied: a bad line anywhere is an error
 * for every reader of the file.  The module, the store helper and both
 * tools resolve a service's settings through this one function (spec 12).
 */
int rec_config_load_service(struct rec_config *cfg, const char *path,
    const char *service, const struct rec_log *log);

/*
 * The names of the file's [service NAME] sections, in file order, into
 * names (REC_SECTIONS_MAX of them); *count is set.  Returns as
 * rec_config_load.
 */
int rec_config_sections(const char *path, char names[][REC_SERVICE_MAX],
    unsigned *count, const struct rec_log *log);

/* True when name can be a PAM service name of a [service NAME] section. */
int rec_config_service_ok(const char *name);

/*
 * Check relations between keys that a single key cannot check (cooldown_cap
 * not below base_cooldown, code_group not above code_length, the code format
 * holding at least REC_MIN_ENTROPY bits and code_min_entropy, kdf_opslimit
 * and kdf_memlimit within their _min .. _max, pepper_file absolute, a
 * store path that expands, or with store = ldap the directory's keys as
 * rec_config_directory says).  Returns REC_OK or REC_ERR_CONFIG, logged.
 */
int rec_config_validate(const struct rec_config *cfg, const struct rec_log *log);

/* True when cfg->store names a per-user store (contains ~, %u or %h). */
int rec_config_per_user(const struct rec_config *cfg);

/*
 * The value of store that selects the directory store (spec 10) instead
 * of an LMDB store directory: a word, never a path (a store path is
 * absolute or starts with ~).
 */
#define REC_STORE_LDAP "ldap"

/*
 * True when cfg->store is REC_STORE_LDAP: every user's codes are in the
 * directory of ldap_uri, below ldap_base.  Such a store is a system store
 * (rec_config_per_user is false): the hosts' service account reads and
 * writes it, and a pepper_file applies to it as to an LMDB system store;
 * every host of the fleet must then hold the same pepper, or codes made
 * on one host work on none of the others.  rec_config_validate requires
 * ldap_uri and ldap_base with it, ldap_bind_pw_file with ldap_bind_dn, a
 * bind DN for anything but ldapi://, and refuses plain ldap:// without
 * StartTLS unless ldap_insecure.
 */
int rec_config_directory(const struct rec_config *cfg);

/*
 * How long a front end waits for each answer of the process doing the
 * store's work, in seconds: store_timeout, and for the directory store
 * ldap_timeout more for each URI of ldap_uri and of ldap_write_uri, so
 * that the work itself fails first, with its own reason (each URI tried
 * may cost ldap_timeout), rather than being stopped.
 */
unsigned rec_config_store_wait(const struct rec_config *cfg);

/*
 * The command with which the users of cfg's store manage their own codes,
 * "pam-recovery", or "pam-recovery --service SERVICE" when service is not
 * NULL (a name rec_config_service_ok accepts), into buf; NULL when they
 * cannot: a system store is root's, and its users reach it only through
 * pam-recovery-selfd, so only while its socket (self_socket) exists.  The
 * directory store (store = ldap) is never reached through the
 * self-service: pam-recovery binds to it as the user, with ldap_user_dn;
 * without ldap_user_dn, or with a pepper_file (root's, which a user's
 * codes could not be made with), its codes come from the administrator.
 */
const char *rec_config_helper(const struct rec_config *cfg,
    const char *service, char *buf, size_t len);
#define REC_HELPER_CMD_MAX (sizeof("pam-recovery --service ") + REC_SERVICE_MAX)

/*
 * Expand cfg->store for the user (name, home) into out (size outlen).
 * Returns REC_OK, REC_ERR_USAGE when it does not fit, or REC_ERR_CONFIG when
 * the result is not an absolute path.
 */
int rec_config_store_path(const struct rec_config *cfg, const char *user,
    const char *home, char *out, size_t outlen);

/* Name of an enum value as written in the file ("base32", "pdf", ...). */
const char *rec_config_alphabet_name(enum rec_alphabet a);
const char *rec_config_export_name(enum rec_export e);

/*
 * What the lower layers run by, built from cfg: the code format of the
 * code_* keys; the login lockout's policy; and the generate cooldown's,
 * in which every generation is a failure that locks at once for
 * generate_cooldown (fail_interval level_reset, at least that long a cap),
 * escalating like the login lockout.
 */
void rec_config_format(const struct rec_config *cfg, struct rec_format *fmt);
void rec_config_lock_policy(const struct rec_config *cfg,
    struct rec_lock_policy *pol);
void rec_config_gen_policy(const struct rec_config *cfg,
    struct rec_lock_policy *pol);

#endif
