/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_target.c: which store the admin tool acts on, and as whom. */
#include <err.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "admin_common.h"
#include "rec_err.h"
#include "rec_target.h"

#define SERVICE "pam-recovery-admin"

int
admin_config(const struct admin *a, struct rec_config *cfg,
    const struct rec_log *log)
{
	int r;

	if ((r = tool_load_config(a->conf, a->service, cfg, log)) != REC_OK)
		return r;
	if (a->store == NULL && !a->each_store &&
	    (r = tool_one_store(a->conf, a->service, cfg, log)) != REC_OK)
		return r;
	if (a->store != NULL && ((r = rec_config_set(cfg, "store", a->store,
	    "--store", 0, log)) != REC_OK ||
	    (r = rec_config_validate(cfg, log)) != REC_OK))
		return r;
	/* As the module does: the helper could not read a root-only pepper. */
	return rec_target_check_pepper(cfg, log);
}

/*
 * Changing a store needs root, except for the caller's own per-user store,
 * or a store directory that already belongs to the caller: then nothing is
 * gained that the caller did not have, and tests can run unprivileged.
 * The directory store decides for itself: its ACLs, and the bind password
 * file, which only root (or the file's owner) can read.
 */
int
admin_may_change(const struct admin *a, const struct tool_target *t)
{
	struct stat sb;

	if (geteuid() == 0 || (rec_config_per_user(&a->cfg) &&
	    t->owner == geteuid()) || t->directory ||
	    (lstat(t->path, &sb) == 0 &&
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
	t->service = a->service;
	t->who.actor = a->actor;
	t->pepper = a->pepper;
	t->rdonly = a->rdonly;
	snprintf(t->host, sizeof(t->host), "%s", a->host);
}


int
admin_system_target(struct admin *a, struct tool_target *t)
{
	struct rec_target rt;
	int r;

	memset(t, 0, sizeof(*t));
	r = rec_target_resolve(&a->cfg, NULL, NULL, 0, &rt);
	if (r != REC_OK && rt.per_user) {
		warnx("store = %s is a per-user pattern, not one store",
		    a->cfg.store);
		return REC_ERR_CONFIG;
	}
	fill(a, t);
	if (r != REC_OK) {
		warnx("cannot use %s as a store path", a->cfg.store);
		return r;
	}
	tool_target_store(t, &rt);
	return REC_OK;
}

int
admin_each_config(struct admin *a, admin_config_fn *fn, void *arg)
{
	struct rec_log quiet = { NULL, NULL, 0 };
	struct tool_stores *set;
	struct rec_config global;
	int done = 0;

	if (a->service != NULL || a->store != NULL)
		return 0;
	if ((set = malloc(sizeof(*set))) == NULL)
		return -1;
	if (tool_load_config(a->conf, NULL, &global, &quiet) == REC_OK &&
	    tool_config_stores(a->conf, &global, set, &quiet) == REC_OK &&
	    set->n > 1) {
		a->each_store = 1;
		for (unsigned s = 0; s < set->n; s++) {
			a->service = s == 0 ? NULL : set->s[s].service;
			fn(a, s, set->s[s].store, set->s[s].label, arg);
		}
		a->service = NULL;
		a->each_store = 0;
		done = 1;
	}
	free(set);
	return done;
}

/*
 * Set t up for USER (see admin_on_user), and rt with USER's store and its
 * owner (rec_target_resolve).  REC_OK, or after printing why:
 * REC_ERR_USAGE (not a user name), REC_ERR_NOUSER, REC_ERR_PERM (the
 * caller may not open or change that store) or rec_target_resolve's error.
 */
static int
target_setup(struct admin *a, const char *user, unsigned flags,
    struct tool_target *t, struct rec_target *rt)
{
	int r;

	memset(t, 0, sizeof(*t));
	r = rec_target_resolve(&a->cfg, user, getpwnam(user),
	    (flags & ADMIN_KNOWN) ? REC_TARGET_KNOWN : 0, rt);
	if (r == REC_ERR_USAGE) {
		warnx("not a user name: \"%s\"", user);
		return r;
	}
	if (r == REC_ERR_NOUSER) {
		warnx("%s: no such user", user);
		return r;
	}
	fill(a, t);
	t->who.user = user;
	if (r != REC_OK) {
		warnx("cannot work out %s's store from %s", user, a->cfg.store);
		return r;
	}
	tool_target_store(t, rt);
	if ((flags & ADMIN_CHANGE) && !admin_may_change(a, t))
		return REC_ERR_PERM;
	if (rt->per_user && geteuid() != 0 && rt->owner != geteuid()) {
		warnx("%s's store %s: only root can open another user's store",
		    user, t->path);
		return REC_ERR_PERM;
	}
	return REC_OK;
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
	char **names = NULL, **more;
	size_t cap = 0, k = 0;
	struct rec_target rt;
	struct passwd *pw;
	struct stat sb;
	int r = -1;

	*out = NULL;
	*n = 0;
	setpwent();
	while ((pw = getpwent()) != NULL) {
		if ((geteuid() != 0 && pw->pw_uid != geteuid()) ||
		    rec_target_resolve(&a->cfg, pw->pw_name, pw, 0, &rt) !=
		    REC_OK || lstat(rt.path, &sb) == -1)
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
	/* No user has a store: names is NULL, which qsort must not get. */
	if (k > 1)
		qsort(names, k, sizeof(*names), by_name);
	r = 0;
out:
	endpwent();
	*out = names;
	*n = k;
	return r;
}

/*
 * What the child of one store says to us: its work is done (its result
 * and state follow), or it asks a question or a file of us.
 */
enum { ASK_DONE, ASK_CONFIRM, ASK_CREATE };

struct msg {
	char text[REC_PATH_MAX];	/* the question, or the file's path */
};

/* The work on one store: fn(a, t, arg), and state_len bytes at state. */
struct work {
	admin_store_fn *fn;
	void *arg;
	void *state;		/* a part of arg that comes back, or NULL */
	size_t state_len;
};

/* One store's work in its owner's child, and what it hands back. */
struct each {
	struct admin *a;
	struct tool_target *t;
	struct work w;
	int fd;				/* the child's end of the socket */
	struct tool_parent parent;
	char made[REC_PATH_MAX];	/* the file created for the child */
	dev_t made_dev;
	ino_t made_ino;
};

/* In the child: ask the parent; its answer in *r. */
static int
ask_parent(struct each *e, int kind, const char *text)
{
	struct msg m;

	memset(&m, 0, sizeof(m));
	snprintf(m.text, sizeof(m.text), "%s", text);
	return rec_child_send_reply(e->fd, kind, &m, sizeof(m));
}

static int
child_confirm(void *ctx, const char *question)
{
	struct each *e = ctx;
	int32_t yes = 0;

	fflush(NULL);
	if (ask_parent(e, ASK_CONFIRM, question) != 0 ||
	    rec_child_receive_request(e->fd, &yes, sizeof(yes)) != 0)
		return 0;
	return yes == 1;
}

/* In the child: the file the parent created, received with its errno. */
static FILE *
child_create(void *ctx, const char *path)
{
	struct each *e = ctx;
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;
	int32_t err = EIO;
	int fd = -1;
	FILE *f;

	if (strlen(path) >= sizeof(((struct msg *)NULL)->text) ||
	    ask_parent(e, ASK_CREATE, path) != 0)
		goto fail;
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	iov.iov_base = &err;
	iov.iov_len = sizeof(err);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	if (recvmsg(e->fd, &mh, MSG_CMSG_CLOEXEC | MSG_WAITALL) !=
	    (ssize_t)sizeof(err)) {
		err = EIO;
		goto fail;
	}
	cm = CMSG_FIRSTHDR(&mh);
	if (cm != NULL && cm->cmsg_level == SOL_SOCKET &&
	    cm->cmsg_type == SCM_RIGHTS &&
	    cm->cmsg_len == CMSG_LEN(sizeof(int)))
		memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	if (err != 0 || fd == -1)
		goto fail;
	if ((f = fdopen(fd, "w")) != NULL)
		return f;
	err = errno;
fail:
	if (fd != -1)
		close(fd);
	errno = err != 0 ? err : EIO;
	return NULL;
}

/* In the child: the work, its output flushed, then the state back. */
static int
each_child(void *varg, int fd)
{
	struct each *e = varg;
	struct msg m;
	int ret;

	e->fd = fd;
	e->parent.confirm = child_confirm;
	e->parent.create = child_create;
	e->parent.ctx = e;
	e->t->parent = &e->parent;
	ret = e->w.fn(e->a, e->t, e->w.arg);
	tool_target_close(e->t);
	fflush(NULL);
	memset(&m, 0, sizeof(m));
	return rec_child_send_reply(fd, ASK_DONE, &m, sizeof(m)) == 0 &&
	    rec_child_send_reply(fd, ret, e->w.state, e->w.state_len) == 0 ?
	    0 : 1;
}

/* Here: create the child's file as ourselves and send it over. */
static int
give_file(struct rec_child *c, struct each *e, const char *path)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr mh;
	struct cmsghdr *cm;
	struct iovec iov;
	struct stat sb;
	int32_t err = 0;
	FILE *f = NULL;
	int fd = -1, r;

	if (e->made[0] != '\0')
		err = EBUSY;	/* one file per command */
	else if ((f = tool_create_private(path)) == NULL)
		err = errno;
	else if (fstat(fd = fileno(f), &sb) == -1) {
		err = errno;
		unlink(path);
	} else {
		snprintf(e->made, sizeof(e->made), "%s", path);
		e->made_dev = sb.st_dev;
		e->made_ino = sb.st_ino;
	}
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	iov.iov_base = &err;
	iov.iov_len = sizeof(err);
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	if (err == 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = sizeof(u.buf);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	}
	r = sendmsg(c->fd, &mh, MSG_NOSIGNAL) == (ssize_t)sizeof(err) ? 0 : -1;
	if (f != NULL)
		fclose(f);
	return r;
}

/*
 * A file made for a command that then failed must not look as if it held
 * codes; the command's own unlink ran as the store's owner.  Only the
 * file made here is removed, not one put in its place since.
 */
static void
drop_file(const struct each *e)
{
	struct stat sb;

	if (e->made[0] != '\0' && lstat(e->made, &sb) == 0 &&
	    sb.st_dev == e->made_dev && sb.st_ino == e->made_ino)
		unlink(e->made);
}

/*
 * Wait for the child's result, answering its questions on the way; each
 * wait has the deadline of rec_config_store_wait (store_timeout, and
 * ldap_timeout a URI for the directory), our questions to the
 * administrator none.  Returns REC_OK with *ret and the state in back;
 * REC_ERR_TIMEOUT or REC_ERR_IO when it gave none.
 */
static int
serve_child(struct rec_child *c, struct each *e, int *ret, void *back)
{
	struct msg m;
	int kind, r;
	int32_t yes;

	for (;;) {
		if ((r = rec_child_receive_reply(c, &kind, &m,
		    sizeof(m))) != REC_OK)
			return r;
		m.text[sizeof(m.text) - 1] = '\0';
		switch (kind) {
		case ASK_DONE:
			return rec_child_receive_reply(c, ret, back,
			    e->w.state_len);
		case ASK_CONFIRM:
			yes = tool_confirm(m.text);
			if ((r = rec_child_send_request(c, &yes,
			    sizeof(yes))) != REC_OK)
				return r;
			break;
		case ASK_CREATE:
			if (give_file(c, e, m.text) != 0)
				return REC_ERR_IO;
			break;
		default:
			return REC_ERR_IO;
		}
	}
}

/*
 * What the child's keeper says about a missing answer, held back until we
 * know the child did not just end on a usage error of its command.
 */
struct held {
	const struct rec_log *to;
	int prio;
	char msg[512];
};

static void
hold(void *ctx, int prio, const char *msg)
{
	struct held *h = ctx;

	h->prio = prio;
	snprintf(h->msg, sizeof(h->msg), "%s", msg);
}

/*
 * fn on USER's store in a child that is USER for good (groups, gid, uid),
 * so that root never maps a file the user wrote: LMDB trusts the files
 * it maps, and a crafted store must not be able to corrupt a root process
 * (the daily purge runs as root).  A store that kills the child is an
 * error for that store alone.
 */
static int
run_isolated(struct admin *a, struct tool_target *t,
    const struct rec_target *rt, const struct work *w, int *lost)
{
	struct rec_child c;
	struct each e;
	struct held h = { &a->log, LOG_ERR, "" };
	struct rec_log log = { hold, &h, a->log.debug };
	void *back = NULL;
	int ret = EXIT_FAIL, r = EXIT_FAIL, got = REC_ERR_IO;

	*lost = ADMIN_LOST_DIED;
	memset(&e, 0, sizeof(e));
	e.a = a;
	e.t = t;
	e.w = *w;
	if (w->state_len > 0 && (back = malloc(w->state_len)) == NULL) {
		warnx("out of memory");
		return EXIT_FAIL;
	}
	/* What is buffered would be written twice, by the child too. */
	fflush(NULL);
	if (rec_target_start(rt, rec_config_store_wait(&a->cfg), each_child,
	    &e, &log, &c) == REC_OK) {
		got = serve_child(&c, &e, &r, back);
		rec_child_end(&c);
		*lost = got == REC_OK ? 0 : got == REC_ERR_TIMEOUT ?
		    ADMIN_LOST_TIMEOUT : ADMIN_LOST_DIED;
		/* A usage error in the command: its exit status, as here. */
		if (*lost && WIFEXITED(c.status) &&
		    WEXITSTATUS(c.status) == EXIT_USAGE) {
			drop_file(&e);
			free(back);
			exit(EXIT_USAGE);
		}
		/*
		 * Our output was closed (a reader such as head(1) had
		 * enough): not a damaged store.  End as any filter does.
		 */
		if (*lost && WIFSIGNALED(c.status) &&
		    WTERMSIG(c.status) == SIGPIPE) {
			drop_file(&e);
			signal(SIGPIPE, SIG_DFL);
			raise(SIGPIPE);
			_exit(EXIT_FAIL);
		}
	}
	if (h.msg[0] != '\0')
		rec_logf(h.to, h.prio, "%s", h.msg);
	if (!*lost && w->state_len > 0)
		memcpy(w->state, back, w->state_len);
	if (!*lost)
		ret = r;
	else if (*lost == ADMIN_LOST_TIMEOUT)
		warnx("%s's store %s: skipped: no answer within %u seconds "
		    "(store_timeout)", t->who.user, t->path,
		    rec_config_store_wait(&a->cfg));
	else
		warnx("%s's store %s: not read to the end", t->who.user,
		    t->path);
	if (ret != EXIT_OK)
		drop_file(&e);
	/* State may hold hashes (migrate). */
	if (back != NULL)
		sodium_memzero(back, w->state_len);
	free(back);
	return ret;
}

int
admin_check_user(struct admin *a, const char *user, unsigned flags,
    struct rec_target *rt)
{
	struct tool_target t;
	struct rec_target own;

	return target_setup(a, user, flags, &t, rt != NULL ? rt : &own);
}

int
admin_on_user(struct admin *a, const char *user, unsigned flags,
    admin_store_fn *fn, void *arg, void *state, size_t state_len)
{
	const struct work w = { fn, arg, state, state_len };
	struct tool_target t;
	struct rec_target rt;
	int ret, lost;

	if (target_setup(a, user, flags, &t, &rt) != REC_OK)
		return EXIT_FAIL;
	if (rt.per_user)
		ret = run_isolated(a, &t, &rt, &w, &lost);
	else
		ret = fn(a, &t, arg);
	tool_target_close(&t);
	return ret;
}

static int
each_isolated(struct admin *a, const char *user, const struct work *w,
    admin_merge_fn *merged)
{
	struct tool_target t;
	struct rec_target rt;
	int ret, lost = 1;

	if (target_setup(a, user, ADMIN_KNOWN, &t, &rt) != REC_OK)
		return EXIT_FAIL;
	ret = run_isolated(a, &t, &rt, w, &lost);
	if (merged != NULL)
		merged(w->arg, t.path, lost);
	return ret;
}

int
admin_each_store(struct admin *a, admin_store_fn *fn, void *arg, void *state,
    size_t state_len, admin_merge_fn *merged)
{
	const struct work w = { fn, arg, state, state_len };
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
		if (each_isolated(a, names[i], &w, merged) != EXIT_OK)
			worst = EXIT_FAIL;
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return worst;
}

int
admin_store_users(struct admin *a, char ***names, size_t *n)
{
	return users_with_stores(a, names, n);
}
