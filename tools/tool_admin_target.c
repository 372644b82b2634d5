/* tool_admin_target.c: which store the admin tool acts on, and as whom. */
#include <err.h>
#include <errno.h>
#include <grp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_common.h"
#include "rec_err.h"
#include "rec_isolate.h"

#define SERVICE "pam-recovery-admin"

int
admin_config(const struct admin *a, struct rec_config *cfg,
    const struct rec_log *log)
{
	int r;

	if ((r = tool_load_config(a->conf, cfg, log)) != REC_OK)
		return r;
	if (a->store != NULL && ((r = rec_config_set(cfg, "store", a->store,
	    "--store", 0, log)) != REC_OK ||
	    (r = rec_config_validate(cfg, log)) != REC_OK))
		return r;
	/* As the module does: the helper could not read a root-only pepper. */
	if (rec_config_per_user(cfg) && cfg->pepper_file[0] != '\0') {
		rec_logf(log, LOG_ERR, "pepper_file needs a system store "
		    "(store = %s is per user)", cfg->store);
		return REC_ERR_CONFIG;
	}
	return REC_OK;
}

/* The supplementary groups of pw, allocated into *out; -1 on failure. */
static int
groups_of(const struct passwd *pw, gid_t **out)
{
	int n = 16, want;

	*out = NULL;
	for (int tries = 0; tries < 8; tries++) {
		free(*out);
		if ((*out = calloc((size_t)n, sizeof(gid_t))) == NULL)
			return -1;
		want = n;
		if (getgrouplist(pw->pw_name, pw->pw_gid, *out, &want) >= 0)
			return want;
		/* The list grew: try again with the size it asked for. */
		n = want > n ? want : n * 2;
	}
	free(*out);
	*out = NULL;
	return -1;
}

int
admin_become(struct admin_ident *id, const struct passwd *pw)
{
	gid_t *groups = NULL;
	int n, ng, r = REC_ERR_PERM;

	memset(id, 0, sizeof(*id));
	if (geteuid() != 0 || pw->pw_uid == 0)
		return REC_OK;
	if ((n = getgroups(0, NULL)) < 0 ||
	    (id->saved = calloc((size_t)n + 1, sizeof(gid_t))) == NULL ||
	    (id->nsaved = getgroups(n, id->saved)) < 0 ||
	    (ng = groups_of(pw, &groups)) < 0) {
		warn("cannot read the groups of %s", pw->pw_name);
		goto out;
	}
	if (setgroups((size_t)ng, groups) == -1) {
		warn("cannot take the groups of %s", pw->pw_name);
		goto out;
	}
	id->switched = 1;
	/* Groups first: dropping fsuid 0 takes the file capabilities away. */
	setfsgid(pw->pw_gid);
	setfsuid(pw->pw_uid);
	/* setfsuid() reports nothing: an invalid id returns the current one. */
	if ((uid_t)setfsuid((uid_t)-1) != pw->pw_uid ||
	    (gid_t)setfsgid((gid_t)-1) != pw->pw_gid) {
		warnx("cannot take the file-system identity of %s",
		    pw->pw_name);
		admin_restore(id);
		goto out;
	}
	r = REC_OK;
out:
	free(groups);
	if (r != REC_OK) {
		free(id->saved);
		memset(id, 0, sizeof(*id));
	}
	return r;
}

int
admin_restore(struct admin_ident *id)
{
	int r = REC_OK;

	if (id->switched) {
		setfsuid(geteuid());
		setfsgid(getegid());
		if ((uid_t)setfsuid((uid_t)-1) != geteuid() ||
		    (gid_t)setfsgid((gid_t)-1) != getegid() ||
		    setgroups((size_t)id->nsaved, id->saved) == -1) {
			warn("cannot give back the identity taken on");
			r = REC_ERR_PERM;
		}
	}
	free(id->saved);
	memset(id, 0, sizeof(*id));
	return r;
}

/*
 * Changing a store needs root, except for the caller's own per-user store,
 * or a store directory that already belongs to the caller: then nothing is
 * gained that the caller did not have, and tests can run unprivileged.
 */
int
admin_may_change(const struct admin *a, const struct tool_target *t)
{
	struct stat sb;

	if (geteuid() == 0 || (rec_config_per_user(&a->cfg) &&
	    t->owner == geteuid()) || (lstat(t->path, &sb) == 0 &&
	    S_ISDIR(sb.st_mode) && sb.st_uid == geteuid()))
		return 1;
	warnx("this command changes the store %s: run it as root "
	    "(sudo pam-recovery-admin ...)", t->path);
	return 0;
}

static void
fill(struct admin *a, struct tool_target *t)
{
	t->cfg = &a->cfg;
	t->log = &a->log;
	t->who.service = SERVICE;
	t->who.actor = a->actor;
	t->pepper = a->pepper;
	snprintf(t->host, sizeof(t->host), "%s", a->host);
}

int
admin_system_target(struct admin *a, struct tool_target *t)
{
	memset(t, 0, sizeof(*t));
	if (rec_config_per_user(&a->cfg)) {
		warnx("store = %s is a per-user pattern, not one store",
		    a->cfg.store);
		return EXIT_FAIL;
	}
	fill(a, t);
	t->owner = geteuid();
	if (rec_config_store_path(&a->cfg, "", "", t->path, sizeof(t->path)) !=
	    REC_OK) {
		warnx("cannot use %s as a store path", a->cfg.store);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/*
 * Set t up for USER (see admin_target) without taking any identity on;
 * *pw is USER's entry (NULL for a system store's unknown user).
 */
static int
target_setup(struct admin *a, const char *user, int change, int must_exist,
    struct tool_target *t, struct passwd **pw)
{
	int per_user = rec_config_per_user(&a->cfg);

	memset(t, 0, sizeof(*t));
	if (*user == '\0' || strlen(user) >= REC_USER_MAX) {
		warnx("not a user name: \"%s\"", user);
		return EXIT_FAIL;
	}
	*pw = getpwnam(user);
	if (*pw == NULL && (per_user || must_exist)) {
		warnx("%s: no such user", user);
		return EXIT_FAIL;
	}
	fill(a, t);
	t->who.user = user;
	t->owner = per_user ? (*pw)->pw_uid : geteuid();
	if (rec_config_store_path(&a->cfg, user, *pw != NULL ? (*pw)->pw_dir :
	    "", t->path, sizeof(t->path)) != REC_OK) {
		warnx("cannot work out %s's store from %s", user, a->cfg.store);
		return EXIT_FAIL;
	}
	if (change && !admin_may_change(a, t))
		return EXIT_FAIL;
	if (per_user && geteuid() != 0 && (*pw)->pw_uid != geteuid()) {
		warnx("%s's store %s: only root can open another user's store",
		    user, t->path);
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

int
admin_target(struct admin *a, const char *user, int change, int must_exist,
    struct tool_target *t, struct admin_ident *id)
{
	struct passwd *pw;
	int ret;

	memset(id, 0, sizeof(*id));
	if ((ret = target_setup(a, user, change, must_exist, t, &pw)) !=
	    EXIT_OK)
		return ret;
	if (rec_config_per_user(&a->cfg) && admin_become(id, pw) != REC_OK)
		return EXIT_FAIL;
	return EXIT_OK;
}

int
admin_untarget(struct tool_target *t, struct admin_ident *id)
{
	tool_target_close(t);
	return admin_restore(id) == REC_OK ? EXIT_OK : EXIT_FAIL;
}

static int
by_name(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/* Names of the users whose store directory exists, sorted, unique. */
static int
users_with_stores(struct admin *a, char ***out, size_t *n)
{
	char path[REC_PATH_MAX], **names = NULL, **more;
	size_t cap = 0, k = 0;
	struct passwd *pw;
	struct stat sb;
	int r = -1;

	*out = NULL;
	*n = 0;
	setpwent();
	while ((pw = getpwent()) != NULL) {
		if ((geteuid() != 0 && pw->pw_uid != geteuid()) ||
		    strlen(pw->pw_name) >= REC_USER_MAX ||
		    rec_config_store_path(&a->cfg, pw->pw_name, pw->pw_dir,
		    path, sizeof(path)) != REC_OK || lstat(path, &sb) == -1)
			continue;
		if (k == cap) {
			cap = cap ? cap * 2 : 32;
			more = realloc(names, cap * sizeof(*names));
			if (more == NULL)
				goto out;
			names = more;
		}
		if ((names[k] = strdup(pw->pw_name)) == NULL)
			goto out;
		k++;
	}
	qsort(names, k, sizeof(*names), by_name);
	r = 0;
out:
	endpwent();
	*out = names;
	*n = k;
	return r;
}

/* One store's work in its owner's child, and what it hands back. */
struct each {
	struct admin *a;
	struct tool_target *t;
	admin_store_fn *fn;
	void *arg;
	void *state;
	size_t state_len;
};

/* In the child: the work, its output flushed, then the state back. */
static int
each_child(void *varg, int fd)
{
	struct each *e = varg;
	int ret = e->fn(e->a, e->t, e->arg);

	tool_target_close(e->t);
	fflush(NULL);
	return rec_child_reply(fd, ret, e->state, e->state_len) == 0 ? 0 : 1;
}

/*
 * fn on USER's store in a child that is USER for good (groups, gid, uid),
 * so that root never maps a file the user wrote: LMDB trusts the files
 * it maps, and a crafted store must not be able to corrupt a root process
 * (the daily purge runs as root).  A store that kills the child is an
 * error for that store alone.
 */
static int
each_isolated(struct admin *a, const char *user, admin_store_fn *fn,
    void *arg, void *state, size_t state_len, admin_merge_fn *merged)
{
	struct tool_target t;
	struct rec_child c;
	struct passwd *pw;
	struct each e = { a, &t, fn, arg, state, state_len };
	void *back = NULL;
	int ret = EXIT_FAIL, lost = 1, r = EXIT_FAIL;

	if (target_setup(a, user, 0, 1, &t, &pw) != EXIT_OK)
		return EXIT_FAIL;
	if (state_len > 0 && (back = malloc(state_len)) == NULL)
		warnx("out of memory");
	else {
		/* What is buffered would be written twice, by the child too. */
		fflush(NULL);
		if (rec_child_start(&c, pw->pw_uid, pw->pw_gid, each_child, &e,
		    &a->log) == REC_OK) {
			lost = rec_child_answer(&c, &r, back, state_len) !=
			    REC_OK;
			rec_child_end(&c);
		}
		if (!lost && state_len > 0)
			memcpy(state, back, state_len);
		if (!lost)
			ret = r;
		if (lost)
			warnx("%s's store %s: not read to the end", user,
			    t.path);
	}
	free(back);
	if (merged != NULL)
		merged(arg, t.path, lost);
	return ret;
}

int
admin_each_store(struct admin *a, admin_store_fn *fn, void *arg, void *state,
    size_t state_len, admin_merge_fn *merged)
{
	char **names = NULL;
	size_t n = 0;
	int worst = EXIT_OK;

	/* The names first: no child is made while the database is walked. */
	if (users_with_stores(a, &names, &n) != 0) {
		warnx("out of memory");
		worst = EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++) {
		if (i > 0 && strcmp(names[i], names[i - 1]) == 0)
			continue;
		if (each_isolated(a, names[i], fn, arg, state, state_len,
		    merged) != EXIT_OK)
			worst = EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return worst;
}
