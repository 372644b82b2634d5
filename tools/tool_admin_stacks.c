/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_stacks.c: check reads /etc/pam.d: each line that loads the module, resolved as it will. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_check.h"
#include "rec_admin.h"
#include "rec_err.h"
#include "rec_target.h"

#define STACK_FILE_MAX	(256 * 1024)	/* a PAM service file is small */
#define STACK_ARGS_MAX	64		/* arguments on one line */
#define STACK_STORES_MAX 64		/* system stores checked once each */

/* Keep what the core logged while a line was resolved. */
static void
keep(void *ctx, int prio, const char *msg)
{
	struct report *rp = ctx;
	size_t used = strlen(rp->captured);

	if (prio <= LOG_WARNING && used + 3 < sizeof(rp->captured))
		snprintf(rp->captured + used, sizeof(rp->captured) - used,
		    "%s%s", used > 0 ? "; " : "", msg);
}

/* The module's flags: arguments that are not keys of the configuration. */
static int
is_flag(const char *a)
{
	static const char *const flags[] = { "nouserok", "silent", "debug",
	    "use_first_pass", "try_first_pass", "any_code" };

	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		if (strcmp(a, flags[i]) == 0)
			return 1;
	return strncmp(a, "prompt=", 7) == 0;
}

/*
 * Split one line of a PAM service file into words, in place: a control in
 * brackets ("[success=1 default=ignore]") is one word.  Returns the count.
 */
static int
words(char *s, char **w, int max)
{
	int n = 0;

	while (n < max) {
		while (*s == ' ' || *s == '\t')
			s++;
		if (*s == '\0' || *s == '#')
			break;
		w[n++] = s;
		if (*s == '[') {
			while (*s != '\0' && *s != ']')
				s++;
			if (*s == ']')
				s++;
		} else
			while (*s != '\0' && *s != ' ' && *s != '\t')
				s++;
		if (*s == '\0')
			break;
		*s++ = '\0';
	}
	return n;
}

/*
 * Resolve one line as the module will: conf= (or the default file), its
 * [service NAME] section, the arguments over both, validation, the pepper
 * rule.  Returns REC_OK with cfg filled, or the error (reported).
 */
static int
resolve(struct report *rp, const char *what, const char *service,
    char **arg, int nargs, struct rec_config *cfg)
{
	struct rec_log log = { keep, rp, 0 };
	const char *conf = REC_CONF_DEFAULT;
	int r, named = 0;

	for (int i = 0; i < nargs; i++)
		if (strncmp(arg[i], "conf=", 5) == 0) {
			conf = arg[i] + 5;
			named = 1;
		}
	rp->captured[0] = '\0';
	rec_config_defaults(cfg);
	r = rec_config_load_service(cfg, conf, service, &log);
	if (r == REC_ERR_NOTFOUND && !named)
		r = REC_OK;
	else if (r == REC_ERR_NOTFOUND)
		snprintf(rp->captured, sizeof(rp->captured), "%s: not found",
		    conf);
	for (int i = 0; r == REC_OK && i < nargs; i++) {
		char key[64], *eq = strchr(arg[i], '=');

		if (is_flag(arg[i]) || strncmp(arg[i], "conf=", 5) == 0)
			continue;
		if (eq == NULL || (size_t)(eq - arg[i]) >= sizeof(key)) {
			snprintf(rp->captured, sizeof(rp->captured),
			    "unknown argument %s", arg[i]);
			r = REC_ERR_CONFIG;
			break;
		}
		memcpy(key, arg[i], (size_t)(eq - arg[i]));
		key[eq - arg[i]] = '\0';
		r = rec_config_set(cfg, key, eq + 1, "module arguments", 0,
		    &log);
	}
	if (r == REC_OK)
		r = rec_config_validate(cfg, &log);
	if (r != REC_OK) {
		admin_check_item(rp, FAIL, what, NULL, "the module refuses "
		    "this line (every login through it fails): %s",
		    rp->captured[0] != '\0' ? rp->captured : rec_strerror(r));
		return r;
	}
	if (rec_target_check_pepper(cfg, NULL) != REC_OK) {
		admin_check_item(rp, FAIL, what, NULL, "pepper_file with the "
		    "per-user store %s: every recovery login through this "
		    "line fails; fix: set pepper_file only in the [service "
		    "NAME] section of a system store", cfg->store);
		return REC_ERR_CONFIG;
	}
	return REC_OK;
}

/* A system store seen in a stack, and its active peppered batches. */
struct seen_store {
	char path[REC_PATH_MAX];
	unsigned long peppered;
};

/* An auth line without the pepper its store's active batches need. */
static int
pepper_missing(struct report *rp, const char *what, const char *service,
    const char *path, unsigned long peppered, const struct rec_config *cfg)
{
	if (peppered == 0 || cfg->pepper_file[0] != '\0')
		return 0;
	admin_check_item(rp, FAIL, what, NULL, "the system store %s has %lu "
	    "active batch%s made with a pepper, and this line has no "
	    "pepper_file: those codes never work through it; fix: set "
	    "pepper_file again in [service %s], or issue new codes with "
	    "pam-recovery-admin --service %s generate USER", path, peppered,
	    peppered == 1 ? "" : "es", service, service);
	return 1;
}

/*
 * A system store a stack uses: there, owned by root, and holding codes;
 * for an auth line, with the pepper its batches need.  *peppered receives
 * the number of its active peppered batches.
 */
static void
check_system_store(struct report *rp, struct admin *a, const char *what,
    const char *service, const struct rec_config *cfg, int auth,
    unsigned long *peppered)
{
	struct rec_log log = { keep, rp, 0 };
	struct rec_config saved = a->cfg;
	struct rec_store_counts n;
	struct tool_target t;
	struct stat sb;
	int r;

	a->cfg = *cfg;
	*peppered = 0;
	if (admin_system_target(a, &t) != REC_OK) {
		admin_check_item(rp, FAIL, what, NULL, "store %s: not a usable "
		    "path", cfg->store);
		goto out;
	}
	if (!t.directory && lstat(t.path, &sb) == -1 && errno == ENOENT) {
		admin_check_item(rp, FAIL, what, NULL, "the system store %s "
		    "does not exist: every login through this line fails "
		    "(store_error reason=missing); fix: pam-recovery-admin "
		    "--service %s generate USER creates it", t.path, service);
		goto out;
	}
	rp->captured[0] = '\0';
	t.log = &log;
	memset(&n, 0, sizeof(n));
	if ((r = tool_target_open(&t, 0)) == REC_OK && t.st != NULL)
		r = rec_admin_verify(t.st, &n);
	*peppered = n.peppered;
	if (r != REC_OK)
		admin_check_item(rp, FAIL, what, NULL, "store %s: %s", t.path,
		    rp->captured[0] != '\0' ? rp->captured : rec_strerror(r));
	else if (n.codes == 0)
		admin_check_item(rp, FAIL, what, NULL, "no user has codes in "
		    "the system store %s: a recovery code never works through "
		    "this line; fix: pam-recovery-admin --service %s generate "
		    "USER", t.path, service);
	else if (auth && pepper_missing(rp, what, service, t.path,
	    n.peppered, cfg))
		;
	else
		admin_check_item(rp, OK, what, NULL, "system store %s: %lu "
		    "users, %lu codes", t.path, n.users, n.codes);
out:
	tool_target_close(&t);
	a->cfg = saved;
}

/* Every line of one service file that loads pam_recovery.so. */
/*
 * 1 for the services that make a user root (or another user): there a
 * code the user could have replaced themselves proves nothing, so a
 * per-user store is a warning (INSTALL, SECURITY.md).
 */
static int
raises(const char *service)
{
	static const char *const names[] = { "sudo", "sudo-i", "su", "su-l",
	    "doas", "polkit-1", "pkexec" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(service, names[i]) == 0)
			return 1;
	return 0;
}

static unsigned
check_file(struct report *rp, struct admin *a, int dfd, const char *dir,
    const char *service, struct seen_store *seen, unsigned *nseen)
{
	struct rec_config cfg;
	struct stat sb;
	char *buf = NULL, *line, *next, *w[STACK_ARGS_MAX + 3], what[512];
	unsigned lineno = 0, found = 0;
	ssize_t len;
	int fd, n;

	fd = openat(dfd, service, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
	    O_CLOEXEC);
	if (fd == -1 || fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) ||
	    sb.st_size > STACK_FILE_MAX ||
	    (buf = malloc((size_t)sb.st_size + 1)) == NULL)
		goto out;
	if ((len = read(fd, buf, (size_t)sb.st_size)) < 0)
		goto out;
	buf[len] = '\0';
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		n = words(line, w, STACK_ARGS_MAX + 3);
		/* type, control, module, arguments; "-type" too. */
		if (n < 3 || strcmp(w[2] + (strrchr(w[2], '/') != NULL ?
		    strrchr(w[2], '/') - w[2] + 1 : 0), "pam_recovery.so") != 0)
			continue;
		found++;
		snprintf(what, sizeof(what), "%s/%s:%u (%s)", dir, service,
		    lineno, w[0]);
		if (resolve(rp, what, service, w + 3, n - 3, &cfg) != REC_OK)
			continue;
		if (rec_config_per_user(&cfg) && raises(service)) {
			admin_check_item(rp, WARN, what, NULL, "per-user stores "
			    "%s for %s, which gives root: any program running "
			    "as the user can replace their codes; a system "
			    "store is safer ([service %s] store = ...)",
			    cfg.store, service, service);
			continue;
		}
		if (rec_config_per_user(&cfg)) {
			admin_check_item(rp, OK, what, NULL, "per-user stores "
			    "%s", cfg.store);
			continue;
		}
		/*
		 * One store, many lines (auth, account): read once; each auth
		 * line still needs the pepper of its active batches.
		 */
		int auth = strcmp(w[0], "auth") == 0 ||
		    strcmp(w[0], "-auth") == 0;
		unsigned i;
		for (i = 0; i < *nseen; i++)
			if (strcmp(seen[i].path, cfg.store) == 0)
				break;
		if (i < *nseen) {
			if (!auth || !pepper_missing(rp, what, service,
			    cfg.store, seen[i].peppered, &cfg))
				admin_check_item(rp, OK, what, NULL, "system "
				    "store %s (checked above)", cfg.store);
			continue;
		}
		unsigned long peppered;
		check_system_store(rp, a, what, service, &cfg, auth,
		    &peppered);
		if (*nseen < STACK_STORES_MAX) {
			snprintf(seen[*nseen].path, REC_PATH_MAX, "%s",
			    cfg.store);
			seen[(*nseen)++].peppered = peppered;
		}
	}
out:
	free(buf);
	if (fd != -1)
		close(fd);
	return found;
}

void
admin_check_stacks(struct report *rp, struct admin *a, const char *dir)
{
	struct seen_store seen[STACK_STORES_MAX];
	unsigned nseen = 0, found = 0;
	struct dirent **names = NULL;
	int n, dfd;

	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    (n = scandir(dir, &names, NULL, alphasort)) < 0) {
		admin_check_item(rp, FAIL, dir, NULL, "cannot read the PAM "
		    "stacks: %s", strerror(errno));
		if (dfd != -1)
			close(dfd);
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *f = names[i]->d_name;
		size_t l = strlen(f);

		/* Not services: dot files, editor and package leftovers. */
		if (f[0] != '.' && f[l - 1] != '~' &&
		    strstr(f, ".dpkg-") == NULL && strstr(f, ".ucf-") == NULL)
			found += check_file(rp, a, dfd, dir, f, seen, &nseen);
		free(names[i]);
	}
	free(names);
	close(dfd);
	if (found == 0)
		admin_check_item(rp, OK, dir, NULL, "no stack loads "
		    "pam_recovery.so");
}
