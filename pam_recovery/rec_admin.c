/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_admin.c: the administrator's operations: unlock, verify, backup, and the walks of its reports. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_admin.h"
#include "rec_err.h"
#include "rec_file.h"

struct unlock {
	const struct rec_config *cfg;
	const struct rec_who *who;
	uint64_t now;
	struct rec_unlocked found;
};

/* Clear one state, noting what it was. */
static int
unlock_lock(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *varg)
{
	struct unlock *a = varg;
	struct rec_lock_policy lp;

	(void)v;
	if (which == REC_LOCK_LOGIN) {
		rec_config_lock_policy(a->cfg, &lp);
		rec_lock_refresh(lk, a->now, &lp);
		a->found.lock_remaining = rec_lock_remaining(lk, a->now, &lp);
		a->found.failures = lk->failures;
	} else {
		/*
		 * The generate cooldown has its own derived settings in
		 * rec_issue.c; what is left of it is plain arithmetic on its
		 * end.
		 */
		a->found.gen_remaining = lk->locked_until > a->now ?
		    lk->locked_until - a->now : 0;
	}
	rec_lock_clear(lk);
	return REC_OK;
}

static int
unlock_audit(const struct rec_store_done *d, struct rec_event *ev,
    unsigned max, unsigned *n, void *varg)
{
	const struct unlock *a = varg;
	char detail[128];

	if (max < 1)
		return REC_ERR_INTERNAL;
	snprintf(detail, sizeof(detail), "lock_remaining=%llu failures=%u "
	    "generate_cooldown=%llu",
	    (unsigned long long)a->found.lock_remaining, a->found.failures,
	    (unsigned long long)a->found.gen_remaining);
	*n = (unsigned)rec_auth_event(a->cfg, a->who, a->now,
	    &(struct rec_mark){ .type = REC_EV_UNLOCKED, .batch = d->batch,
	    .detail = detail }, ev);
	return REC_OK;
}

int
rec_admin_unlock(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, uint64_t now, struct rec_unlocked *info)
{
	struct unlock a;
	int r;

	memset(&a, 0, sizeof(a));
	a.cfg = cfg;
	a.who = who;
	a.now = now;
	r = rec_store_lock_update(st, who->user, REC_LOCK_LOGIN | REC_LOCK_GEN,
	    0, unlock_lock, &a, unlock_audit, NULL);
	if (r == REC_ERR_NOSTORE)
		r = REC_ERR_NOTFOUND;
	if (info != NULL)
		*info = r == REC_OK ? a.found : (struct rec_unlocked){ 0 };
	return r;
}

int
rec_admin_event(struct rec_store *st, const struct rec_config *cfg,
    const struct rec_who *who, enum rec_event_type type, uint64_t now,
    const char *detail)
{
	struct rec_event ev;

	if (!rec_auth_event(cfg, who, now, &(struct rec_mark){ .type = type,
	    .detail = detail }, &ev))
		return rec_store_event_append(st, NULL, 0);
	return rec_store_event_append(st, &ev, 1);
}

/* Reading a store back: every record must decode. */
static int
count_user(const struct rec_store_item *it, void *varg)
{
	struct rec_store_counts *c = varg;

	c->users++;
	return it->b_rc == REC_ERR_NOTFOUND ? REC_OK : it->b_rc;
}

static int
count_batch(const struct rec_store_item *it, void *varg)
{
	struct rec_store_counts *c = varg;

	if (it->codes_rc != REC_OK)
		return it->codes_rc;
	c->batches++;
	if (it->b->status == REC_BATCH_ACTIVE && it->b->peppered)
		c->peppered++;
	c->codes += it->ncodes;
	return REC_OK;
}

static int
count_event(uint64_t seq, const struct rec_event *ev, void *varg)
{
	struct rec_store_counts *c = varg;

	(void)seq;
	(void)ev;
	c->events++;
	return REC_OK;
}

int
rec_admin_verify(struct rec_store *st, struct rec_store_counts *counts)
{
	struct rec_store_counts c;
	int r;

	memset(&c, 0, sizeof(c));
	if ((r = rec_store_records_each(st, count_user, count_batch, &c)) !=
	    REC_OK || (r = rec_store_event_each(st, NULL, 0, count_event, &c)) !=
	    REC_OK)
		return r;
	if (counts != NULL)
		*counts = c;
	return REC_OK;
}

/*
 * Create dest (0700, ours) and open it into *dfd; REC_ERR_EXISTS when it
 * exists.  *made is set once *dfd is known to be the directory made here.
 */
static int
make_dest(const char *dest, const struct rec_log *log, int *dfd, int *made)
{
	struct rec_file_rule rule = { "backup", S_IFDIR, 0, 0, 0, 0 };
	struct stat sb;

	if (mkdir(dest, 0700) == -1) {
		if (errno == EEXIST) {
			rec_logf(log, LOG_ERR, "backup %s: already exists; "
			    "a backup never overwrites anything", dest);
			return REC_ERR_EXISTS;
		}
		rec_logf(log, LOG_ERR, "backup %s: %s", dest, strerror(errno));
		return REC_ERR_IO;
	}
	/*
	 * In a directory that others can write, dest could have been swapped
	 * for theirs between mkdir and open: accept only a directory of ours
	 * (its mode is set below: mkdir honoured the umask).
	 */
	rule.owner = geteuid();
	if (rec_file_open(AT_FDCWD, NULL, dest, &rule, log, dfd, &sb) !=
	    REC_OK) {
		rec_logf(log, LOG_ERR, "backup %s: not the directory just "
		    "created", dest);
		return REC_ERR_UNSAFE;
	}
	*made = 1;
	/* mkdir honours the umask; the mode must be exactly 0700. */
	if (fchmod(*dfd, 0700) == -1) {
		rec_logf(log, LOG_ERR, "backup %s: %s", dest, strerror(errno));
		return REC_ERR_IO;
	}
	return REC_OK;
}

int
rec_admin_backup_dest(const char *dest, const struct rec_log *log, int *dfd,
    int *fd)
{
	int made = 0, r = REC_ERR_INTERNAL;

	*dfd = -1;
	*fd = -1;
	if ((r = make_dest(dest, log, dfd, &made)) != REC_OK)
		goto out;
	*fd = openat(*dfd, "data.mdb", O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600);
	if (*fd == -1 || fchmod(*fd, 0600) == -1) {
		rec_logf(log, LOG_ERR, "backup %s/data.mdb: %s", dest,
		    strerror(errno));
		r = REC_ERR_IO;
		goto out;
	}
	r = REC_OK;
out:
	if (r != REC_OK) {
		if (*fd != -1)
			close(*fd);
		*fd = -1;
		if (made)
			rec_admin_backup_undo(dest, *dfd);
		else if (*dfd != -1)
			close(*dfd);
		*dfd = -1;
	}
	return r;
}

void
rec_admin_backup_undo(const char *dest, int dfd)
{
	/* Leave nothing half-written that looks like a backup. */
	(void)unlinkat(dfd, "data.mdb", 0);
	(void)rmdir(dest);
	close(dfd);
}

int
rec_admin_backup_fd(struct rec_store *st, int fd, const char *dest,
    const struct rec_log *log, struct rec_store_counts *counts)
{
	struct rec_store *copy = NULL;
	struct rec_store_counts got;
	int r = REC_ERR_INTERNAL;

	memset(&got, 0, sizeof(got));
	if ((r = rec_store_copy(st, fd)) != REC_OK)
		goto out;
	if (fsync(fd) == -1) {
		rec_logf(log, LOG_ERR, "backup %s/data.mdb: %s", dest,
		    strerror(errno));
		r = REC_ERR_IO;
		goto out;
	}
	/* Open the copy as a store and read every record back. */
	if ((r = rec_store_open_copy(fd, dest, log, &copy)) == REC_OK)
		r = rec_admin_verify(copy, &got);
out:
	rec_store_close(copy);
	if (counts != NULL)
		*counts = got;
	return r;
}

int
rec_admin_backup(struct rec_store *st, const char *dest,
    const struct rec_log *log, struct rec_store_counts *counts)
{
	int dfd = -1, fd = -1, r = REC_ERR_INTERNAL;

	if (counts != NULL)
		memset(counts, 0, sizeof(*counts));
	if ((r = rec_admin_backup_dest(dest, log, &dfd, &fd)) != REC_OK)
		return r;
	r = rec_admin_backup_fd(st, fd, dest, log, counts);
	if (close(fd) == -1 && r == REC_OK) {
		rec_logf(log, LOG_ERR, "backup %s/data.mdb: %s", dest,
		    strerror(errno));
		r = REC_ERR_IO;
	}
	if (r == REC_OK && fsync(dfd) == -1) {
		rec_logf(log, LOG_ERR, "backup %s: %s", dest, strerror(errno));
		r = REC_ERR_IO;
	}
	if (r != REC_OK)
		rec_admin_backup_undo(dest, dfd);
	else
		close(dfd);
	return r;
}

int
rec_admin_event_each(struct rec_store *st, const char *user, rec_event_fn *fn,
    void *arg)
{
	return rec_store_event_each(st, user, 0, fn, arg);
}

/* Add user to nm. */
static int
add_name(struct rec_names *nm, const char *user)
{
	void *p;

	if (nm->n == nm->cap) {
		nm->cap = nm->cap ? nm->cap * 2 : 64;
		if ((p = reallocarray(nm->v, nm->cap, sizeof(*nm->v))) == NULL)
			return REC_ERR_NOMEM;
		nm->v = p;
	}
	snprintf(nm->v[nm->n++], REC_USER_MAX, "%s", user);
	return REC_OK;
}

static int
name_of_user(const char *user, const struct rec_user *u, void *arg)
{
	(void)u;
	return add_name(arg, user);
}

/* The names of the user walk, in name order, and what batches add. */
struct more_names {
	struct rec_names *nm;
	size_t users;		/* nm->v[0..users): sorted, each once */
};

static int
name_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/*
 * A batch's user, unless the user walk had it: a binary search, since a
 * fleet's directory may hold 100 000 names and as many batches.  Names
 * that only batches have may come more than once; the caller makes them
 * unique.
 */
static int
name_of_batch(const char *user, const struct rec_batch *b, void *arg)
{
	struct more_names *m = arg;

	(void)b;
	if (bsearch(user, m->nm->v, m->users, sizeof(*m->nm->v), name_cmp) !=
	    NULL)
		return REC_OK;
	return add_name(m->nm, user);
}

int
rec_admin_names_read(struct rec_store *st, unsigned flags,
    struct rec_names *out)
{
	struct more_names m = { out, 0 };
	size_t k;
	int r;

	out->n = 0;
	if ((r = rec_store_user_each(st, name_of_user, out)) != REC_OK ||
	    !(flags & REC_NAMES_BATCHES))
		return r;
	/* The user walk gives name order; a bsearch needs it checked. */
	m.users = out->n;
	for (size_t i = 1; i < m.users; i++)
		if (strcmp(out->v[i - 1], out->v[i]) >= 0) {
			qsort(out->v, m.users, sizeof(*out->v), name_cmp);
			break;
		}
	if ((r = rec_store_batch_each(st, NULL, name_of_batch, &m)) != REC_OK)
		return r;
	/* The further names, sorted, each once. */
	if (out->n > m.users)
		qsort(out->v + m.users, out->n - m.users, sizeof(*out->v),
		    name_cmp);
	k = m.users;
	for (size_t i = m.users; i < out->n; i++)
		if (k == m.users || strcmp(out->v[k - 1], out->v[i]) != 0)
			memmove(out->v[k++], out->v[i], sizeof(*out->v));
	out->n = k;
	return REC_OK;
}

void
rec_admin_names_free(struct rec_names *nm)
{
	free(nm->v);
	memset(nm, 0, sizeof(*nm));
}

static int
live_batch(const char *user, const struct rec_batch *b, void *arg)
{
	(void)user;
	if (b->status != REC_BATCH_PURGED)
		(*(unsigned long *)arg)++;
	return REC_OK;
}

int
rec_admin_batch_count(struct rec_store *st, const char *user,
    unsigned long *live)
{
	*live = 0;
	return rec_store_batch_each(st, user, live_batch, live);
}
