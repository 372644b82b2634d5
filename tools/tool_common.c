/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_common.c: configuration, printing and prompting shared by both tools. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_notify.h"
#include "rec_policy.h"
#include "tool_common.h"

extern const char *__progname;

static void
stderr_sink(void *ctx, int prio, const char *msg)
{
	char safe[TOOL_VIS_LEN(1024)];

	(void)ctx;
	/* The core's messages may quote a store, a path or a user name. */
	fprintf(stderr, "%s: %s%s\n", __progname,
	    prio <= LOG_ERR ? "" : prio == LOG_WARNING ? "warning: " : "",
	    tool_vis(msg, 0, safe, sizeof(safe)));
}

void
tool_std_fds(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) != -1 || errno != EBADF)
			continue;
		/* open() returns the lowest free descriptor: this one. */
		if (open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY) != fd)
			_exit(EXIT_FAIL);
	}
}

void
tool_log_init(struct rec_log *log, int debug)
{
	log->fn = stderr_sink;
	log->ctx = NULL;
	log->debug = debug;
}

void
tool_target_notify(const struct tool_target *t, int event, long remaining)
{
	char helper[REC_HELPER_CMD_MAX];
	struct rec_notice n = { .event = (enum rec_notify_event)event,
	    .user = t->who.user, .remaining = remaining,
	    .system_store = !rec_config_per_user(t->cfg),
	    .admin_email = t->cfg->admin_email,
	    .helper = rec_config_helper(t->cfg, t->service, helper,
	    sizeof(helper)) };

	(void)rec_notify(t->cfg->notify_command, t->cfg->notify_timeout, &n,
	    t->log);
}

int
tool_load_config(const char *path, const char *service,
    struct rec_config *cfg, const struct rec_log *log)
{
	int r;

	rec_config_defaults(cfg);
	r = rec_config_load_service(cfg, path != NULL ? path : REC_CONF_DEFAULT,
	    service, log);
	if (r == REC_ERR_NOTFOUND && path == NULL)
		r = REC_OK;
	else if (r == REC_ERR_NOTFOUND)
		rec_logf(log, LOG_ERR, "configuration %s: not found", path);
	if (r == REC_OK)
		r = rec_config_validate(cfg, log);
	return r;
}

int
tool_load_user_config(const char *path, const char *service,
    struct rec_config *cfg, const struct rec_log *log)
{
	struct rec_config policy;
	int r;

	if (path == NULL)
		return tool_load_config(NULL, service, cfg, log);
	if ((r = tool_load_config(NULL, service, &policy, log)) != REC_OK) {
		rec_logf(log, LOG_ERR, "the system configuration %s sets the "
		    "policy for every configuration, and cannot be used",
		    REC_CONF_DEFAULT);
		return r;
	}
	rec_config_defaults(cfg);
	if ((r = rec_config_load_service(cfg, path, service, log)) ==
	    REC_ERR_NOTFOUND)
		rec_logf(log, LOG_ERR, "configuration %s: not found", path);
	if (r != REC_OK)
		return r;
	rec_policy_apply(cfg, &policy, path, log);
	if ((r = rec_config_validate(cfg, log)) != REC_OK)
		rec_logf(log, LOG_ERR, "%s: outside the policy of %s (or of "
		    "the built-in defaults, when it does not exist)", path,
		    REC_CONF_DEFAULT);
	return r;
}

int
tool_config_stores(const char *path, const struct rec_config *cfg,
    struct tool_stores *set, const struct rec_log *log)
{
	char names[REC_SECTIONS_MAX][REC_SERVICE_MAX];
	struct rec_config s;
	unsigned n = 0, i, k;
	size_t used;
	int r;

	memset(set, 0, sizeof(*set));
	snprintf(set->s[0].store, sizeof(set->s[0].store), "%s", cfg->store);
	snprintf(set->s[0].label, sizeof(set->s[0].label), "global settings");
	set->n = 1;
	if (path == NULL)
		path = REC_CONF_DEFAULT;
	r = rec_config_sections(path, names, &n, log);
	if (r == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r != REC_OK)
		return r;
	for (i = 0; i < n; i++) {
		rec_config_defaults(&s);
		if ((r = rec_config_load_service(&s, path, names[i], log)) !=
		    REC_OK)
			return r;
		for (k = 0; k < set->n; k++)
			if (strcmp(set->s[k].store, s.store) == 0)
				break;
		if (k == set->n) {
			set->n++;
			snprintf(set->s[k].store, sizeof(set->s[k].store), "%s",
			    s.store);
			snprintf(set->s[k].service, sizeof(set->s[k].service),
			    "%s", names[i]);
		}
		used = strlen(set->s[k].label);
		snprintf(set->s[k].label + used, sizeof(set->s[k].label) - used,
		    "%s[service %s]", used > 0 ? ", " : "", names[i]);
	}
	return REC_OK;
}

int
tool_one_store(const char *path, const char *service,
    const struct rec_config *cfg, const struct rec_log *log)
{
	struct tool_stores *set;
	int r;

	if (service != NULL) {
		char names[REC_SECTIONS_MAX][REC_SERVICE_MAX];
		unsigned n = 0, i;

		if (path == NULL)
			path = REC_CONF_DEFAULT;
		r = rec_config_sections(path, names, &n, log);
		if (r != REC_OK && r != REC_ERR_NOTFOUND)
			return r;
		for (i = 0; i < n && strcmp(names[i], service) != 0; i++)
			;
		if (i < n)
			rec_logf(log, LOG_NOTICE, "[service %s]: store %s",
			    service, cfg->store);
		else
			rec_logf(log, LOG_NOTICE, "%s has no [service %s]: the "
			    "global settings, store %s", path, service,
			    cfg->store);
		return REC_OK;
	}
	if ((set = malloc(sizeof(*set))) == NULL)
		return REC_ERR_NOMEM;
	if ((r = tool_config_stores(path, cfg, set, log)) == REC_OK &&
	    set->n > 1) {
		rec_logf(log, LOG_ERR, "%s names more than one store; say which "
		    "with --service NAME:", path != NULL ? path :
		    REC_CONF_DEFAULT);
		for (unsigned i = 0; i < set->n; i++)
			rec_logf(log, LOG_ERR, "  %s  (%s%s%s)", set->s[i].store,
			    set->s[i].label, i == 0 ? "" : ": --service ",
			    i == 0 ? "" : set->s[i].service);
		r = REC_ERR_USAGE;
	}
	free(set);
	return r;
}

int
tool_confirm(const char *question)
{
	char line[16] = "";
	FILE *tty = fopen("/dev/tty", "r+");
	int yes;

	if (tty == NULL)
		return 0;
	fprintf(tty, "%s [y/N] ", question);
	fflush(tty);
	yes = fgets(line, sizeof(line), tty) != NULL &&
	    (line[0] == 'y' || line[0] == 'Y');
	fclose(tty);
	return yes;
}

const char *
tool_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t == 0 || gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "never");
	else
		strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
	return buf;
}

const char *
tool_batch_id(uint64_t id, char *buf, size_t len)
{
	snprintf(buf, len, "%016llx", (unsigned long long)id);
	return buf;
}

const char *
tool_admin_contact(const struct tool_listing *l, char *buf, size_t len)
{
	char safe[TOOL_VIS_LEN(REC_STR_MAX)];

	if (l->admin_email == NULL || l->admin_email[0] == '\0')
		snprintf(buf, len, "%s", "");
	else
		snprintf(buf, len, " (%s)", tool_vis(l->admin_email, 0, safe,
		    sizeof(safe)));
	return buf;
}

int
tool_print_codes(FILE *f, enum rec_export format, const struct tool_listing *l)
{
	const struct rec_batch *b = &l->nb->batch;
	char code[REC_CODE_BUF], created[32], expires[32], id[20];
	char user[TOOL_VIS_LEN(REC_USER_MAX)], site[TOOL_VIS_LEN(REC_STR_MAX)];
	char host[TOOL_VIS_LEN(256)], contact[TOOL_CONTACT_LEN];
	struct tool_json j;

	tool_json_init(&j, f);
	tool_time(b->created, created, sizeof(created));
	tool_time(b->expires, expires, sizeof(expires));
	tool_batch_id(b->id, id, sizeof(id));
	switch (format) {
	case REC_EXPORT_CSV:
		fprintf(f, "slot,code\n");
		break;
	case REC_EXPORT_JSON:
		tool_json_object_begin(&j);
		tool_json_member_string(&j, "site", l->site);
		tool_json_member_string(&j, "user", l->user);
		tool_json_member_string(&j, "host", l->host);
		tool_json_member_string(&j, "batch", id);
		tool_json_member_uint(&j, "created", b->created);
		tool_json_member_uint(&j, "expires", b->expires);
		tool_json_key(&j, "codes");
		tool_json_array_begin(&j, 0);
		break;
	default:
		fprintf(f, "Recovery codes for %s on %s (%s)\n",
		    tool_vis(l->user, 0, user, sizeof(user)),
		    tool_vis(l->site, 0, site, sizeof(site)),
		    tool_vis(l->host, 0, host, sizeof(host)));
		fprintf(f, "Batch %s, created %s, expires %s\n\n", id, created,
		    expires);
		break;
	}
	for (unsigned i = 0; i < b->count; i++) {
		rec_code_display(&b->fmt, l->nb->codes[i], code, sizeof(code));
		if (format == REC_EXPORT_CSV)
			fprintf(f, "%u,%s\n", i + 1, code);
		else if (format == REC_EXPORT_JSON) {
			tool_json_object_begin(&j);
			tool_json_member_uint(&j, "slot", i + 1);
			tool_json_member_string(&j, "code", code);
			tool_json_object_end(&j);
		} else
			fprintf(f, "  %3u.  %s\n", i + 1, code);
		sodium_memzero(code, sizeof(code));
	}
	if (format == REC_EXPORT_JSON) {
		tool_json_array_end(&j);
		tool_json_object_end(&j);
		return tool_json_finish(&j);
	}
	if (format != REC_EXPORT_CSV) {
		fprintf(f, "\nEach code works once, at the \"Recovery code:\" "
		    "prompt (SSH, sudo or console).\nKeep them somewhere safe, "
		    "away from this computer.\n");
		if (l->ask_admin)
			fprintf(f, "When few are left, ask your administrator%s "
			    "for new ones.\n", tool_admin_contact(l, contact,
			    sizeof(contact)));
	}
	return fflush(f) == 0 && !ferror(f) ? REC_OK : REC_ERR_IO;
}

FILE *
tool_create_private(const char *path)
{
	FILE *f;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0600);
	if (fd == -1)
		return NULL;
	/* O_CREAT honours the umask; make sure the mode is exactly 0600. */
	if (fchmod(fd, 0600) == -1 || (f = fdopen(fd, "w")) == NULL) {
		int e = errno;

		close(fd);
		unlink(path);
		errno = e;
		return NULL;
	}
	return f;
}

void
tool_target_store(struct tool_target *t, const struct rec_target *rt)
{
	t->owner = rt->owner;
	t->directory = rt->directory;
	if (rt->directory)
		snprintf(t->path, sizeof(t->path), "ldap:%.*s",
		    (int)sizeof(t->path) - 6,
		    t->cfg != NULL ? t->cfg->ldap_base : "");
	else
		snprintf(t->path, sizeof(t->path), "%s", rt->path);
}

int
tool_target_open(struct tool_target *t, int create)
{
	char safe[TOOL_VIS_LEN(REC_PATH_MAX)];
	struct rec_target rt;
	unsigned flags;
	int r;

	if (t->st != NULL)
		return REC_OK;
	memset(&rt, 0, sizeof(rt));
	rt.per_user = rec_config_per_user(t->cfg);
	rt.directory = t->directory;
	rt.owner = t->owner;
	if (!t->directory)
		snprintf(rt.path, sizeof(rt.path), "%s", t->path);
	flags = create ? REC_STORE_CREATE : t->rdonly ? REC_STORE_RDONLY : 0;
	if (t->open != NULL)
		r = t->open(t, &rt, flags);
	else
		r = rec_target_open(t->cfg, &rt, flags, t->log, &t->st);
	if (r == REC_ERR_NOSTORE) {
		t->st = NULL;
		return REC_OK;
	}
	if (r != REC_OK)
		warnx("store %s: %s", tool_vis(t->path, 0, safe, sizeof(safe)),
		    rec_strerror(r));
	return r;
}

void
tool_target_close(struct tool_target *t)
{
	rec_store_close(t->st);
	t->st = NULL;
}

void
tool_synopsis(FILE *f, const char *first, const char *rest, const char *syn)
{
	const char *lead = first, *end;
	size_t under = strlen(rest);

	for (const char *p = syn; *p != '\0'; p = *end != '\0' ? end + 1 : end) {
		end = strchrnul(p, '\n');
		if (*p == ' ') {
			p += strspn(p, " ");
			fprintf(f, "%*s%.*s\n", (int)under, "", (int)(end - p), p);
			continue;
		}
		fprintf(f, "%s%.*s\n", lead, (int)(end - p), p);
		/* Under the options: past the command's name and a blank. */
		under = strlen(rest) + strcspn(p, " \n") + 1;
		lead = rest;
	}
}

void
tool_about(FILE *f, const char *name, const char *about)
{
	const char *end;

	fprintf(f, "  %-11s ", name);
	for (const char *p = about; *p != '\0'; p = *end != '\0' ? end + 1 :
	    end) {
		end = strchrnul(p, '\n');
		fprintf(f, "%*s%.*s\n", p == about ? 0 : 14, "", (int)(end - p),
		    p);
	}
}

int
tool_wants_help(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if (strcmp(argv[i], "--help") == 0)
			return 1;
	return 0;
}

int
tool_target_confirm(const struct tool_target *t, const char *question)
{
	return t->parent != NULL ? t->parent->confirm(t->parent->ctx,
	    question) : tool_confirm(question);
}

FILE *
tool_target_create(const struct tool_target *t, const char *path)
{
	return t->parent != NULL ? t->parent->create(t->parent->ctx, path) :
	    tool_create_private(path);
}

unsigned
tool_number(const char *s, unsigned min, unsigned max, const char *what,
    void (*usage)(void))
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		warnx("%s must be a number from %u to %u", what, min, max);
		usage();
	}
	return (unsigned)v;
}

const char *
tool_duration(uint64_t secs, char *buf, size_t len)
{
	static const struct { uint64_t n; const char *unit; } units[] = {
		{ 86400, "day" }, { 3600, "hour" }, { 60, "minute" },
		{ 1, "second" },
	};
	size_t used = 0;
	int parts = 0;

	buf[0] = '\0';
	/* Two units are precise enough for a wait, and short enough to read. */
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]) && parts < 2;
	    i++) {
		uint64_t v = secs / units[i].n;

		if (v == 0 && !(parts == 0 && units[i].n == 1))
			continue;
		if (parts > 0 && v == 0)
			break;
		secs -= v * units[i].n;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used,
			    "%s%llu %s%s", parts > 0 ? " " : "",
			    (unsigned long long)v, units[i].unit,
			    v == 1 ? "" : "s");
		parts++;
	}
	return buf;
}

int
tool_by_admin(const struct tool_target *t)
{
	return t->who.actor != NULL &&
	    strcmp(t->who.actor, TOOL_ACTOR_SELF) != 0;
}

const char *
tool_generate_hint(const struct tool_target *t, char *buf, size_t len)
{
	char user[TOOL_VIS_LEN(REC_USER_MAX)];
	char svc[sizeof(" --service ") + REC_SERVICE_MAX] = "";

	/* rec_config_service_ok checked the service name: nothing to escape. */
	if (t->service != NULL)
		snprintf(svc, sizeof(svc), " --service %s", t->service);
	if (tool_by_admin(t))
		snprintf(buf, len, "pam-recovery-admin%s generate %s", svc,
		    tool_vis(t->who.user, TOOL_VIS_SPACE, user, sizeof(user)));
	else
		snprintf(buf, len, "pam-recovery%s generate", svc);
	return buf;
}

int
tool_store_dir_missing(const struct tool_target *t)
{
	char dir[REC_PATH_MAX];
	struct passwd *pw;
	struct stat sb;
	char *slash;

	if (t->directory)
		return 0;
	snprintf(dir, sizeof(dir), "%s", t->path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return 0;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(dir, &sb) == 0 || errno != ENOENT)
		return 0;
	pw = getpwnam(t->who.user);
	if (pw != NULL && strcmp(pw->pw_dir, dir) == 0)
		warnx("the home directory %s of %s does not exist: no recovery "
		    "codes can be stored for %s until it is created", dir,
		    t->who.user, t->who.user);
	else
		warnx("%s does not exist: the store %s cannot be created "
		    "until it is", dir, t->path);
	return 1;
}

int
tool_store_room(int dfd, const struct tool_target *t,
    unsigned long long *avail, unsigned long long *need, int *rdonly)
{
	struct statvfs sv;
	long ps = sysconf(_SC_PAGESIZE);

	*need = TOOL_WRITE_ROOM_PAGES * (unsigned long long)(ps > 0 ? ps :
	    4096);
	if (fstatvfs(dfd, &sv) == -1)
		return -1;
	*avail = (unsigned long long)(t->owner == 0 ? sv.f_bfree :
	    sv.f_bavail) * sv.f_frsize;
	*rdonly = (sv.f_flag & ST_RDONLY) != 0;
	return 0;
}
