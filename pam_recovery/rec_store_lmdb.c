/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store.c: safe opening of an LMDB store, its transactions, its copy. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "rec_err.h"
#include "rec_file.h"
#include "rec_store_lmdb_int.h"

#define MAP_INITIAL	(8UL << 20)	/* grows by doubling on MDB_MAP_FULL */
#define MAP_MAX		(1UL << 40)
#define TXN_TRIES	16		/* bound on map growth and resize retries */

/* Filesystems on which LMDB's locking cannot be trusted. */
static const long network_fs[] = {
	0x6969,		/* NFS */
	0xFF534D42,	/* CIFS */
	0xFE534D42,	/* SMB2 */
	0x517B,		/* SMB */
	0x564c,		/* NCP */
	0x65735546,	/* FUSE (sshfs and friends) */
	0x7461636f,	/* OCFS2 */
	0x01161970,	/* GFS2 */
	0x47504653,	/* GPFS */
	0x00c36400,	/* CEPH */
	0x6B414653,	/* AFS */
	0x5346414F,	/* OpenAFS */
};

const char *const rec_db_names[DB_COUNT] = {
	"users", "batches", "codes", "audit",
};

int
rec_mdb_error(const struct rec_lmdb *st, const char *what, int rc)
{
	switch (rc) {
	case MDB_SUCCESS:
		return REC_OK;
	case MDB_NOTFOUND:
		return REC_ERR_NOTFOUND;
	case MDB_MAP_FULL:
		return REC_ERR_FULL;
	case ENOMEM:
		rec_logf(st->log, LOG_ERR, "store %s: %s: out of memory",
		    st->path, what);
		return REC_ERR_NOMEM;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_VERSION_MISMATCH:
	case MDB_INCOMPATIBLE:
		rec_logf(st->log, LOG_ERR, "store %s: %s: %s", st->path, what,
		    mdb_strerror(rc));
		return REC_ERR_CORRUPT;
	}
	rec_logf(st->log, LOG_ERR, "store %s: %s: %s", st->path, what,
	    mdb_strerror(rc));
	/* LMDB's other errors are errno values: keep their cause. */
	return rec_err_errno(rc);
}

/* The store directory: its owner's alone. */
static void
dir_rule(struct rec_file_rule *rule, uid_t owner)
{
	*rule = (struct rec_file_rule){ "store", S_IFDIR, owner, 0,
	    S_IRWXG | S_IRWXO, 0 };
}

/* data.mdb and lock.mdb: regular files of the owner's that only it writes. */
static void
file_rule(struct rec_file_rule *rule, uid_t owner)
{
	*rule = (struct rec_file_rule){ "store", S_IFREG, owner, 0,
	    S_IWGRP | S_IWOTH, 0 };
}

/* Refuse a store file that exists but is not a regular file of owner's. */
static int
check_file(int dirfd, const char *name, uid_t owner, const char *path,
    const struct rec_log *log, int *exists, off_t *size, struct stat *out)
{
	struct rec_file_rule rule;
	int r;

	*exists = 0;
	*size = 0;
	memset(out, 0, sizeof(*out));
	file_rule(&rule, owner);
	r = rec_file_stat(dirfd, path, name, &rule, log, out);
	if (r == REC_ERR_NOTFOUND)
		return REC_OK;
	if (r == REC_OK || r == REC_ERR_OWNER || r == REC_ERR_UNSAFE) {
		*exists = 1;
		*size = out->st_size;
	}
	return r;
}

/* The directory checks of rec_store_open(); *dirfd is left open. */
static int
check_dir(const char *path, uid_t owner, unsigned flags,
    const struct rec_log *log, int *dirfd)
{
	struct rec_file_rule rule;
	struct stat sb;
	struct statfs sf;
	int e, r;

	dir_rule(&rule, owner);
	r = rec_file_open(AT_FDCWD, NULL, path, &rule, log, dirfd, &sb);
	if (r == REC_ERR_NOTFOUND && (flags & REC_STORE_CREATE)) {
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			e = errno;
			rec_logf(log, LOG_ERR, "store %s: cannot create: %s%s",
			    path, strerror(e), e == ENOENT ? " (the directory "
			    "that should hold it does not exist)" : "");
			return e == ENOENT ? REC_ERR_NODIR : rec_err_errno(e);
		}
		r = rec_file_open(AT_FDCWD, NULL, path, &rule, log, dirfd,
		    &sb);
	}
	if (r == REC_ERR_NOTFOUND)
		return REC_ERR_NOSTORE;
	if (r == REC_ERR_OWNER)
		rec_logf(log, LOG_ERR, "store %s: restored as another user? "
		    "chown -R it back to uid %u", path, (unsigned)owner);
	if (r != REC_OK)
		return r;
	if (fstatfs(*dirfd, &sf) == -1) {
		e = errno;
		rec_logf(log, LOG_ERR, "store %s: %s", path, strerror(e));
		return rec_err_errno(e);
	}
	for (size_t i = 0; i < sizeof(network_fs) / sizeof(network_fs[0]); i++) {
		if ((long)sf.f_type == network_fs[i]) {
			rec_logf(log, LOG_ERR, "store %s: on a network "
			    "filesystem (type 0x%lx): LMDB needs a local one",
			    path, (unsigned long)sf.f_type);
			return REC_ERR_UNSAFE;
		}
	}
	return REC_OK;
}

/*
 * LMDB maps the data file and trusts it: a page it believes in beyond the
 * end of the file is a SIGBUS.  Refuse a data file shorter than its own
 * meta page says.  The meta page is read first and the size second: a
 * writer in between only makes the file longer, never a sound store look
 * truncated.
 */
static int
check_size(struct rec_lmdb *st)
{
	MDB_envinfo info;
	MDB_stat ms;
	struct stat sb;
	int rc, fd;

	if ((rc = mdb_env_info(st->env, &info)) != MDB_SUCCESS ||
	    (rc = mdb_env_stat(st->env, &ms)) != MDB_SUCCESS ||
	    (rc = mdb_env_get_fd(st->env, &fd)) != MDB_SUCCESS)
		return rec_mdb_error(st, "stat", rc);
	if (fstat(fd, &sb) != 0)
		return rec_mdb_error(st, "stat", errno);
	if ((uint64_t)sb.st_size <
	    ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize) {
		rec_logf(st->log, LOG_ERR, "store %s: data.mdb is truncated "
		    "(%lld bytes, %llu pages of %u expected)", st->path,
		    (long long)sb.st_size,
		    (unsigned long long)info.me_last_pgno + 1, ms.ms_psize);
		return REC_ERR_CORRUPT;
	}
	return REC_OK;
}

/*
 * Open the named databases.  Every store gets them all when it is made, in
 * a write transaction; later, a store without one is corrupt, and never
 * written to: LMDB's write path trusts the pages it changes, and a crafted
 * page is then a write out of bounds.  A store is new while its main
 * database is empty, and only REC_STORE_CREATE makes one.
 */
static int
open_dbs(struct rec_lmdb *st, unsigned flags)
{
	MDB_txn *txn = NULL;
	MDB_dbi main_dbi;
	MDB_stat ms;
	int rc, create = 0;

again:
	rc = mdb_txn_begin(st->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return rec_mdb_error(st, "begin", rc);
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, rec_db_names[i], create ? MDB_CREATE : 0,
		    &st->dbi[i]);
		if (rc == MDB_NOTFOUND && !create) {
			rc = mdb_dbi_open(txn, NULL, 0, &main_dbi);
			if (rc == MDB_SUCCESS)
				rc = mdb_stat(txn, main_dbi, &ms);
			mdb_txn_abort(txn);
			if (rc != MDB_SUCCESS)
				return rec_mdb_error(st, "open databases", rc);
			if (ms.ms_entries != 0 || !(flags & REC_STORE_CREATE)) {
				rec_logf(st->log, LOG_ERR, "store %s: no %s "
				    "database", st->path, rec_db_names[i]);
				return REC_ERR_CORRUPT;
			}
			create = 1;
			goto again;
		}
		if (rc != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			return rec_mdb_error(st, rec_db_names[i], rc);
		}
	}
	rc = mdb_txn_commit(txn);
	return rec_mdb_error(st, "open databases", rc);
}

/*
 * LMDB opens its files by name: the name of the directory checked through
 * dirfd, /proc/self/fd/N, so that a directory renamed or replaced since
 * is not the one opened (the plain path only where /proc is missing).
 */
static const char *
env_path(int dirfd, const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", dirfd);
	return access(buf, F_OK) == 0 ? buf : path;
}

/*
 * After LMDB opened the store: its data file is the one checked (or, when
 * there was none, a new regular file of owner's), and the lock file is a
 * regular file of owner's too.  A file swapped between check and open is
 * refused.
 */
static int
check_opened(struct rec_lmdb *st, int dirfd, uid_t owner, int data_existed,
    const struct stat *data)
{
	struct rec_file_rule rule;
	struct stat sb, lk;
	int fd = -1, rc;

	if ((rc = mdb_env_get_fd(st->env, &fd)) != MDB_SUCCESS)
		return rec_mdb_error(st, "get fd", rc);
	if (fstat(fd, &sb) == -1 ||
	    fstatat(dirfd, "lock.mdb", &lk, AT_SYMLINK_NOFOLLOW) == -1)
		return rec_mdb_error(st, "stat", errno);
	file_rule(&rule, owner);
	if ((data_existed ? sb.st_dev != data->st_dev ||
	    sb.st_ino != data->st_ino : rec_file_check(&sb, &rule, NULL,
	    "data.mdb", NULL) != REC_OK) ||
	    rec_file_check(&lk, &rule, NULL, "lock.mdb", NULL) != REC_OK) {
		rec_logf(st->log, LOG_ERR, "store %s: its files changed while "
		    "it was opened", st->path);
		return REC_ERR_UNSAFE;
	}
	return REC_OK;
}

/*
 * A handle of this backend for path (the store directory, or for a copy
 * its name in messages) with a created LMDB environment, not opened yet:
 * REC_OK and *out, or REC_ERR_NOMEM or the environment's error (logged),
 * with nothing left behind.
 */
static int
lmdb_new(const char *path, const struct rec_log *log, struct rec_lmdb **out)
{
	struct rec_lmdb *st;
	int rc, r;

	*out = NULL;
	if ((st = calloc(1, sizeof(*st))) == NULL)
		return REC_ERR_NOMEM;
	st->base.ops = &rec_lmdb_ops;
	st->base.log = log;
	st->log = log;
	memcpy(st->path, path, strlen(path) + 1);
	if ((rc = mdb_env_create(&st->env)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_maxdbs(st->env, DB_COUNT)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_mapsize(st->env, MAP_INITIAL)) != MDB_SUCCESS) {
		r = rec_mdb_error(st, "create environment", rc);
		lmdb_close(&st->base);
		return r;
	}
	*out = st;
	return REC_OK;
}

int
rec_store_open(const char *path, uid_t owner, unsigned flags,
    const struct rec_log *log, struct rec_store **out)
{
	struct rec_lmdb *st = NULL;
	struct stat data_sb, lock_sb;
	off_t data_size, lock_size;
	char proc[64];
	int dead = 0;
	int dirfd = -1, data_exists, lock_exists, rc, r = REC_ERR_INTERNAL;

	*out = NULL;
	if (strlen(path) >= sizeof(st->path)) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = check_dir(path, owner, flags, log, &dirfd)) != REC_OK)
		goto out;
	if ((r = check_file(dirfd, "data.mdb", owner, path, log,
	    &data_exists, &data_size, &data_sb)) != REC_OK ||
	    (r = check_file(dirfd, "lock.mdb", owner, path, log,
	    &lock_exists, &lock_size, &lock_sb)) != REC_OK)
		goto out;
	if (!data_exists && !(flags & REC_STORE_CREATE)) {
		r = REC_ERR_NOSTORE;
		goto out;
	}
	/*
	 * LMDB would quietly make an empty data file a new, empty store: a
	 * user whose codes were wiped would look not enrolled.
	 */
	if (data_exists && data_size == 0 && !(flags & REC_STORE_CREATE)) {
		rec_logf(log, LOG_ERR, "store %s: data.mdb is empty", path);
		r = REC_ERR_CORRUPT;
		goto out;
	}
	if ((r = lmdb_new(path, log, &st)) != REC_OK)
		goto out;
	/*
	 * MDB_NOTLS: reader slots belong to transactions, not threads, as a
	 * threaded PAM host may run several handles at once.
	 */
	rc = mdb_env_open(st->env, env_path(dirfd, path, proc, sizeof(proc)),
	    MDB_NOTLS | ((flags & REC_STORE_RDONLY) ? MDB_RDONLY : 0), 0600);
	if (rc != MDB_SUCCESS) {
		r = rec_mdb_error(st, "open", rc);
		goto out;
	}
	if ((r = check_opened(st, dirfd, owner, data_exists, &data_sb)) !=
	    REC_OK)
		goto out;
	/*
	 * A process killed inside a read transaction leaves its reader slot
	 * behind; LMDB reclaims them only when nobody else has the store
	 * open, so steady logins could fill the table (MDB_READERS_FULL).
	 */
	if ((rc = mdb_reader_check(st->env, &dead)) != MDB_SUCCESS) {
		r = rec_mdb_error(st, "reader check", rc);
		goto out;
	}
	if ((r = check_size(st)) != REC_OK ||
	    (r = open_dbs(st, flags)) != REC_OK)
		goto out;
	*out = &st->base;
	st = NULL;
	r = REC_OK;
out:
	if (dirfd != -1)
		close(dirfd);
	lmdb_close(st != NULL ? &st->base : NULL);
	return r;
}

int
rec_store_open_copy(int fd, const char *name, const struct rec_log *log,
    struct rec_store **out)
{
	struct rec_lmdb *st = NULL;
	char proc[64];
	struct stat sb;
	int rc, r = REC_ERR_INTERNAL;

	*out = NULL;
	if (strlen(name) >= sizeof(st->path)) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode) || sb.st_size == 0) {
		rec_logf(log, LOG_ERR, "store copy %s: not a store file", name);
		r = REC_ERR_CORRUPT;
		goto out;
	}
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if ((r = lmdb_new(name, log, &st)) != REC_OK)
		goto out;
	if ((rc = mdb_env_open(st->env, proc, MDB_NOSUBDIR | MDB_RDONLY |
	    MDB_NOLOCK | MDB_NOTLS, 0600)) != MDB_SUCCESS) {
		r = rec_mdb_error(st, "open copy", rc);
		goto out;
	}
	if ((r = check_size(st)) != REC_OK || (r = open_dbs(st, 0)) != REC_OK)
		goto out;
	*out = &st->base;
	st = NULL;
	r = REC_OK;
out:
	lmdb_close(st != NULL ? &st->base : NULL);
	return r;
}

void
lmdb_close(struct rec_store *s)
{
	struct rec_lmdb *st = rec_lmdb_of(s);

	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
}

/* Double the map; REC_ERR_FULL once it cannot grow any more. */
static int
grow_map(struct rec_lmdb *st)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_info(st->env, &info)) != MDB_SUCCESS)
		return rec_mdb_error(st, "info", rc);
	if (info.me_mapsize >= MAP_MAX) {
		rec_logf(st->log, LOG_ERR, "store %s: map full at %zu bytes",
		    st->path, info.me_mapsize);
		return REC_ERR_FULL;
	}
	rc = mdb_env_set_mapsize(st->env, info.me_mapsize * 2);
	return rec_mdb_error(st, "grow map", rc);
}

enum txn_kind { TXN_READ, TXN_WRITE, TXN_LAZY };

/*
 * After a write transaction committed: a synced commit that wrote
 * something flushed the whole data file, lazy commits before it included;
 * one that wrote nothing flushed nothing (LMDB skips an empty commit), so
 * a lazy commit still waiting is flushed here.
 */
static int
settle(struct rec_lmdb *st, enum txn_kind kind, int dirty)
{
	int rc;

	if (kind == TXN_LAZY) {
		st->lazy_pending |= dirty;
		return REC_OK;
	}
	if (!dirty && st->lazy_pending &&
	    (rc = mdb_env_sync(st->env, 1)) != MDB_SUCCESS)
		return rec_mdb_error(st, "sync", rc);
	st->lazy_pending = 0;
	return REC_OK;
}

static int
run_txn(struct rec_lmdb *st, enum txn_kind kind, rec_txn_fn *fn, void *arg)
{
	struct rec_txn t = { st, NULL, 0, 0 };
	int write = kind != TXN_READ, rc, r = REC_ERR_INTERNAL;

	if (write && st->lazy_stuck)
		return REC_ERR_IO;
	for (int tries = 0; tries < TXN_TRIES; tries++) {
		t.map_full = 0;
		t.dirty = 0;
		rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &t.txn);
		if (rc == MDB_MAP_RESIZED) {
			/* Another process grew the map: adopt its size. */
			if ((rc = mdb_env_set_mapsize(st->env, 0)) != MDB_SUCCESS)
				return rec_mdb_error(st, "adopt map size", rc);
			continue;
		}
		if (rc != MDB_SUCCESS)
			return rec_mdb_error(st, "begin transaction", rc);
		r = fn(&t, arg);
		if (r == REC_OK && write)
			rc = mdb_txn_commit(t.txn);
		else {
			mdb_txn_abort(t.txn);
			rc = MDB_SUCCESS;
		}
		t.txn = NULL;
		if (rc == MDB_MAP_FULL || t.map_full) {
			if ((r = grow_map(st)) != REC_OK)
				return r;
			continue;
		}
		if (rc != MDB_SUCCESS)
			return rec_mdb_error(st, "commit", rc);
		if (r == REC_OK && write)
			r = settle(st, kind, t.dirty);
		return r;
	}
	rec_logf(st->log, LOG_ERR, "store %s: transaction retried too often",
	    st->path);
	return REC_ERR_IO;
}

int
lmdb_writable(const struct rec_store *s)
{
	const struct rec_lmdb *st = (const struct rec_lmdb *)(const void *)s;
	unsigned int flags = 0;

	return mdb_env_get_flags(st->env, &flags) == MDB_SUCCESS &&
	    !(flags & MDB_RDONLY);
}

int
rec_store_read(struct rec_store *st, rec_txn_fn *fn, void *arg)
{
	return run_txn(rec_lmdb_of(st), TXN_READ, fn, arg);
}

int
rec_store_write(struct rec_store *st, rec_txn_fn *fn, void *arg)
{
	return run_txn(rec_lmdb_of(st), TXN_WRITE, fn, arg);
}

/*
 * MDB_NOSYNC for one commit: its pages and meta page go to the page cache
 * with write(), not to the disk; settle() sees that the next synced write
 * takes them along.
 */
int
rec_store_write_lazy(struct rec_store *s, rec_txn_fn *fn, void *arg)
{
	struct rec_lmdb *st = rec_lmdb_of(s);
	int rc, r;

	if ((rc = mdb_env_set_flags(st->env, MDB_NOSYNC, 1)) != MDB_SUCCESS)
		return rec_mdb_error(st, "set nosync", rc);
	r = run_txn(st, TXN_LAZY, fn, arg);
	if ((rc = mdb_env_set_flags(st->env, MDB_NOSYNC, 0)) != MDB_SUCCESS) {
		/* Every later commit would be lazy too: refuse them all. */
		st->lazy_stuck = 1;
		return rec_mdb_error(st, "clear nosync", rc);
	}
	return r;
}

const struct rec_log *
rec_txn_log(struct rec_txn *txn)
{
	return txn->st->log;
}

int
lmdb_copy(struct rec_store *s, int fd)
{
	struct rec_lmdb *st = rec_lmdb_of(s);

	return rec_mdb_error(st, "copy", mdb_env_copyfd2(st->env, fd,
	    MDB_CP_COMPACT));
}

/* LMDB's own database of free pages: dbi 0 in every environment. */
#define FREE_DBI_NUM 0

/* Read every entry of the free-page database, counting them. */
static int
probe_free(struct rec_lmdb *st, unsigned long *n)
{
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	int rc;

	*n = 0;
	if ((rc = mdb_txn_begin(st->env, NULL, MDB_RDONLY, &txn)) !=
	    MDB_SUCCESS)
		return rec_mdb_error(st, "begin", rc);
	if ((rc = mdb_cursor_open(txn, FREE_DBI_NUM, &cur)) == MDB_SUCCESS) {
		while ((rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) ==
		    MDB_SUCCESS)
			(*n)++;
		mdb_cursor_close(cur);
	}
	mdb_txn_abort(txn);
	return rc == MDB_NOTFOUND ? REC_OK : rec_mdb_error(st,
	    "free-page database", rc);
}

/*
 * A write as a login makes one: a record is put, which takes a page from
 * the free list or the end of the file.  Aborted: nothing is written.
 */
static int
probe_write(struct rec_lmdb *st)
{
	static const char key[] = "\001pam-recovery-check-probe";
	MDB_txn *txn = NULL;
	MDB_val k = { sizeof(key), (void *)key }, v = { 1, (void *)"" };
	int rc;

	rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc == MDB_MAP_RESIZED &&
	    (rc = mdb_env_set_mapsize(st->env, 0)) == MDB_SUCCESS)
		rc = mdb_txn_begin(st->env, NULL, 0, &txn);
	if (rc != MDB_SUCCESS)
		return rec_mdb_error(st, "begin write", rc);
	rc = mdb_put(txn, st->dbi[DB_USERS], &k, &v, 0);
	mdb_txn_abort(txn);
	/* A full map only means that the next login grows it. */
	return rc == MDB_MAP_FULL ? REC_OK : rec_mdb_error(st, "write", rc);
}

int
lmdb_probe(struct rec_store *s, unsigned long *free_entries)
{
	struct rec_lmdb *st = rec_lmdb_of(s);
	int r;

	if ((r = probe_free(st, free_entries)) != REC_OK)
		return r;
	return probe_write(st);
}
