/* rec_store.c: safe opening of an LMDB store and its short transactions. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <lmdb.h>

#include "rec_err.h"
#include "rec_store.h"

#define MAP_INITIAL	(8UL << 20)	/* grows by doubling on MDB_MAP_FULL */
#define MAP_MAX		(1UL << 40)
#define TXN_TRIES	16		/* bound on map growth and resize retries */
#define KEY_MAX		(REC_USER_MAX + 1 + 8 + 1)

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

enum { DB_USERS, DB_BATCHES, DB_CODES, DB_AUDIT, DB_COUNT };
static const char *const db_names[DB_COUNT] = {
	"users", "batches", "codes", "audit",
};

struct rec_store {
	MDB_env *env;
	MDB_dbi dbi[DB_COUNT];
	const struct rec_log *log;
	char path[REC_PATH_MAX];
};

struct rec_txn {
	struct rec_store *st;
	MDB_txn *txn;
	int map_full;		/* a put hit MDB_MAP_FULL */
};

/* Map an LMDB or errno result to the project's error space, logging it. */
static int
mdb_error(const struct rec_store *st, const char *what, int rc)
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
	return REC_ERR_IO;
}

/* Refuse a store file that exists but is not a regular file of owner's. */
static int
check_file(int dirfd, const char *name, uid_t owner, const char *path,
    const struct rec_log *log, int *exists)
{
	struct stat sb;

	*exists = 0;
	if (fstatat(dirfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno == ENOENT)
			return REC_OK;
		rec_logf(log, LOG_ERR, "store %s/%s: %s", path, name,
		    strerror(errno));
		return REC_ERR_IO;
	}
	*exists = 1;
	if (!S_ISREG(sb.st_mode) || sb.st_uid != owner ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		rec_logf(log, LOG_ERR, "store %s/%s: not a regular file owned "
		    "by uid %u and writable only by it", path, name,
		    (unsigned)owner);
		return REC_ERR_UNSAFE;
	}
	return REC_OK;
}

/* The directory checks of rec_store_open(); *dirfd is left open. */
static int
check_dir(const char *path, uid_t owner, unsigned flags,
    const struct rec_log *log, int *dirfd)
{
	struct stat sb;
	struct statfs sf;

	*dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (*dirfd == -1 && errno == ENOENT && (flags & REC_STORE_CREATE)) {
		if (mkdir(path, 0700) == -1 && errno != EEXIST) {
			rec_logf(log, LOG_ERR, "store %s: cannot create: %s",
			    path, strerror(errno));
			return REC_ERR_IO;
		}
		*dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
	}
	if (*dirfd == -1) {
		if (errno == ENOENT)
			return REC_ERR_NOSTORE;
		rec_logf(log, LOG_ERR, "store %s: %s", path,
		    errno == ELOOP || errno == ENOTDIR ?
		    "not a directory (or a symlink)" : strerror(errno));
		return errno == ELOOP || errno == ENOTDIR ? REC_ERR_UNSAFE :
		    REC_ERR_IO;
	}
	if (fstat(*dirfd, &sb) == -1 || fstatfs(*dirfd, &sf) == -1) {
		rec_logf(log, LOG_ERR, "store %s: %s", path, strerror(errno));
		return REC_ERR_IO;
	}
	if (sb.st_uid != owner || (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		rec_logf(log, LOG_ERR, "store %s: must be owned by uid %u with "
		    "mode 0700 (owner %u, mode %04o)", path, (unsigned)owner,
		    (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
		return REC_ERR_UNSAFE;
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

/* Open the named databases, creating them in a write transaction if need be. */
static int
open_dbs(struct rec_store *st)
{
	MDB_txn *txn = NULL;
	int rc, create = 0;

again:
	rc = mdb_txn_begin(st->env, NULL, create ? 0 : MDB_RDONLY, &txn);
	if (rc != MDB_SUCCESS)
		return mdb_error(st, "begin", rc);
	for (int i = 0; i < DB_COUNT; i++) {
		rc = mdb_dbi_open(txn, db_names[i], create ? MDB_CREATE : 0,
		    &st->dbi[i]);
		if (rc == MDB_NOTFOUND && !create) {
			mdb_txn_abort(txn);
			create = 1;
			goto again;
		}
		if (rc != MDB_SUCCESS) {
			mdb_txn_abort(txn);
			return mdb_error(st, db_names[i], rc);
		}
	}
	rc = mdb_txn_commit(txn);
	return mdb_error(st, "open databases", rc);
}

int
rec_store_open(const char *path, uid_t owner, unsigned flags,
    const struct rec_log *log, struct rec_store **out)
{
	struct rec_store *st = NULL;
	int dirfd = -1, data_exists, lock_exists, rc, r = REC_ERR_INTERNAL;

	*out = NULL;
	if (strlen(path) >= sizeof(st->path)) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((r = check_dir(path, owner, flags, log, &dirfd)) != REC_OK)
		goto out;
	if ((r = check_file(dirfd, "data.mdb", owner, path, log,
	    &data_exists)) != REC_OK ||
	    (r = check_file(dirfd, "lock.mdb", owner, path, log,
	    &lock_exists)) != REC_OK)
		goto out;
	if (!data_exists && !(flags & REC_STORE_CREATE)) {
		r = REC_ERR_NOSTORE;
		goto out;
	}
	if ((st = calloc(1, sizeof(*st))) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	st->log = log;
	memcpy(st->path, path, strlen(path) + 1);
	if ((rc = mdb_env_create(&st->env)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_maxdbs(st->env, DB_COUNT)) != MDB_SUCCESS ||
	    (rc = mdb_env_set_mapsize(st->env, MAP_INITIAL)) != MDB_SUCCESS) {
		r = mdb_error(st, "create environment", rc);
		goto out;
	}
	/*
	 * MDB_NOTLS: reader slots belong to transactions, not threads, as a
	 * threaded PAM host may run several handles at once.
	 */
	rc = mdb_env_open(st->env, path, MDB_NOTLS, 0600);
	if (rc != MDB_SUCCESS) {
		r = mdb_error(st, "open", rc);
		goto out;
	}
	if ((r = open_dbs(st)) != REC_OK)
		goto out;
	*out = st;
	st = NULL;
	r = REC_OK;
out:
	if (dirfd != -1)
		close(dirfd);
	rec_store_close(st);
	return r;
}

void
rec_store_close(struct rec_store *st)
{
	if (st == NULL)
		return;
	if (st->env != NULL)
		mdb_env_close(st->env);
	free(st);
}

/* Double the map; REC_ERR_FULL once it cannot grow any more. */
static int
grow_map(struct rec_store *st)
{
	MDB_envinfo info;
	int rc;

	if ((rc = mdb_env_info(st->env, &info)) != MDB_SUCCESS)
		return mdb_error(st, "info", rc);
	if (info.me_mapsize >= MAP_MAX) {
		rec_logf(st->log, LOG_ERR, "store %s: map full at %zu bytes",
		    st->path, info.me_mapsize);
		return REC_ERR_FULL;
	}
	rc = mdb_env_set_mapsize(st->env, info.me_mapsize * 2);
	return mdb_error(st, "grow map", rc);
}

static int
run_txn(struct rec_store *st, int write, rec_txn_fn *fn, void *arg)
{
	struct rec_txn t = { st, NULL, 0 };
	int rc, r = REC_ERR_INTERNAL;

	for (int tries = 0; tries < TXN_TRIES; tries++) {
		t.map_full = 0;
		rc = mdb_txn_begin(st->env, NULL, write ? 0 : MDB_RDONLY, &t.txn);
		if (rc == MDB_MAP_RESIZED) {
			/* Another process grew the map: adopt its size. */
			if ((rc = mdb_env_set_mapsize(st->env, 0)) != MDB_SUCCESS)
				return mdb_error(st, "adopt map size", rc);
			continue;
		}
		if (rc != MDB_SUCCESS)
			return mdb_error(st, "begin transaction", rc);
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
			return mdb_error(st, "commit", rc);
		return r;
	}
	rec_logf(st->log, LOG_ERR, "store %s: transaction retried too often",
	    st->path);
	return REC_ERR_IO;
}

int
rec_store_read(struct rec_store *st, rec_txn_fn *fn, void *arg)
{
	return run_txn(st, 0, fn, arg);
}

int
rec_store_write(struct rec_store *st, rec_txn_fn *fn, void *arg)
{
	return run_txn(st, 1, fn, arg);
}

const struct rec_log *
rec_txn_log(struct rec_txn *txn)
{
	return txn->st->log;
}

/*
 * Keys: user NUL [batch id, 8 bytes big-endian [slot, 1 byte]].  Returns 0
 * for a user name that is empty or too long to be a key, never cut short:
 * two names must never share a record.
 */
static size_t
make_key(uint8_t *key, const char *user, const uint64_t *batch,
    const unsigned *slot)
{
	size_t n = strnlen(user, REC_USER_MAX);

	if (n == 0 || n >= REC_USER_MAX)
		return 0;
	memcpy(key, user, n);
	if (batch == NULL)
		return n;
	key[n++] = '\0';
	for (int i = 0; i < 8; i++)
		key[n++] = (uint8_t)(*batch >> (56 - 8 * i));
	if (slot != NULL)
		key[n++] = (uint8_t)*slot;
	return n;
}

static uint64_t
key_batch(const MDB_val *k, size_t userlen)
{
	const uint8_t *p = (const uint8_t *)k->mv_data + userlen + 1;
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
get_raw(struct rec_txn *t, int db, const uint8_t *key, size_t klen, MDB_val *v)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	if (klen == 0)
		return REC_ERR_USAGE;
	rc = mdb_get(t->txn, t->st->dbi[db], &k, v);
	return mdb_error(t->st, db_names[db], rc);
}

static int
put_raw(struct rec_txn *t, int db, const uint8_t *key, size_t klen,
    const uint8_t *val, size_t vlen)
{
	MDB_val k = { klen, (void *)key }, v = { vlen, (void *)val };
	int rc;

	if (klen == 0)
		return REC_ERR_USAGE;
	rc = mdb_put(t->txn, t->st->dbi[db], &k, &v, 0);
	if (rc == MDB_MAP_FULL)
		t->map_full = 1;
	return mdb_error(t->st, db_names[db], rc);
}

static int
corrupt(struct rec_txn *t, const char *what, const char *user)
{
	rec_logf(t->st->log, LOG_ERR, "store %s: corrupt %s record of user %s",
	    t->st->path, what, user);
	return REC_ERR_CORRUPT;
}

int
rec_get_user(struct rec_txn *t, const char *user, struct rec_user *u)
{
	uint8_t key[KEY_MAX];
	MDB_val v;
	int r;

	if ((r = get_raw(t, DB_USERS, key, make_key(key, user, NULL, NULL),
	    &v)) != REC_OK)
		return r;
	if (rec_user_decode(v.mv_data, v.mv_size, u) != REC_OK)
		return corrupt(t, "user", user);
	return REC_OK;
}

int
rec_put_user(struct rec_txn *t, const char *user, const struct rec_user *u)
{
	uint8_t key[KEY_MAX], buf[REC_RECORD_BUF];

	return put_raw(t, DB_USERS, key, make_key(key, user, NULL, NULL), buf,
	    rec_user_encode(u, buf));
}

int
rec_get_batch(struct rec_txn *t, const char *user, uint64_t id,
    struct rec_batch *b)
{
	uint8_t key[KEY_MAX];
	MDB_val v;
	int r;

	if ((r = get_raw(t, DB_BATCHES, key, make_key(key, user, &id, NULL),
	    &v)) != REC_OK)
		return r;
	if (rec_batch_decode(v.mv_data, v.mv_size, b) != REC_OK || b->id != id)
		return corrupt(t, "batch", user);
	return REC_OK;
}

int
rec_put_batch(struct rec_txn *t, const char *user, const struct rec_batch *b)
{
	uint8_t key[KEY_MAX], buf[REC_RECORD_BUF];

	return put_raw(t, DB_BATCHES, key, make_key(key, user, &b->id, NULL),
	    buf, rec_batch_encode(b, buf));
}

int
rec_get_code(struct rec_txn *t, const char *user, uint64_t batch,
    unsigned slot, struct rec_code_rec *c)
{
	uint8_t key[KEY_MAX];
	MDB_val v;
	int r;

	if ((r = get_raw(t, DB_CODES, key, make_key(key, user, &batch, &slot),
	    &v)) != REC_OK)
		return r;
	if (rec_coderec_decode(v.mv_data, v.mv_size, c) != REC_OK ||
	    c->slot != slot)
		return corrupt(t, "code", user);
	return REC_OK;
}

int
rec_put_code(struct rec_txn *t, const char *user, uint64_t batch,
    const struct rec_code_rec *c)
{
	uint8_t key[KEY_MAX], buf[REC_RECORD_BUF];
	unsigned slot = c->slot;

	return put_raw(t, DB_CODES, key, make_key(key, user, &batch, &slot),
	    buf, rec_coderec_encode(c, buf));
}

int
rec_get_codes(struct rec_txn *t, const char *user, uint64_t batch,
    struct rec_code_rec *codes, unsigned max, unsigned *n)
{
	uint8_t key[KEY_MAX];
	size_t plen = make_key(key, user, &batch, NULL);
	MDB_cursor *cur = NULL;
	MDB_val k = { plen, key }, v;
	int rc, r = REC_ERR_INTERNAL;

	*n = 0;
	if (plen == 0) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[DB_CODES], &cur)) !=
	    MDB_SUCCESS) {
		r = mdb_error(t->st, "codes", rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	    rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != plen + 1 || memcmp(k.mv_data, key, plen) != 0)
			break;
		if (*n >= max) {
			r = corrupt(t, "code count", user);
			goto out;
		}
		if (rec_coderec_decode(v.mv_data, v.mv_size, &codes[*n]) !=
		    REC_OK || codes[*n].slot != ((uint8_t *)k.mv_data)[plen]) {
			r = corrupt(t, "code", user);
			goto out;
		}
		(*n)++;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		r = mdb_error(t->st, "codes", rc);
		goto out;
	}
	r = REC_OK;
out:
	mdb_cursor_close(cur);
	return r;
}

int
rec_each_batch(struct rec_txn *t, const char *user, rec_batch_fn *fn, void *arg)
{
	uint8_t key[KEY_MAX];
	char name[REC_USER_MAX + 1];
	size_t plen = user != NULL ? make_key(key, user, NULL, NULL) : 0;
	MDB_cursor *cur = NULL;
	MDB_val k = { plen, key }, v;
	struct rec_batch b;
	int rc, r = REC_ERR_INTERNAL;

	if (user != NULL && plen == 0) {
		r = REC_ERR_USAGE;
		goto out;
	}
	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[DB_BATCHES], &cur)) !=
	    MDB_SUCCESS) {
		r = mdb_error(t->st, "batches", rc);
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, plen != 0 ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *nul = memchr(k.mv_data, '\0', k.mv_size);
		size_t ulen = nul != NULL ? (size_t)(nul - (uint8_t *)k.mv_data) : 0;

		if (nul == NULL || ulen > REC_USER_MAX || k.mv_size != ulen + 9) {
			r = corrupt(t, "batch key", user != NULL ? user : "?");
			goto out;
		}
		if (user != NULL && (ulen != plen || memcmp(k.mv_data, key,
		    plen) != 0))
			break;
		memcpy(name, k.mv_data, ulen);
		name[ulen] = '\0';
		if (rec_batch_decode(v.mv_data, v.mv_size, &b) != REC_OK ||
		    b.id != key_batch(&k, ulen)) {
			r = corrupt(t, "batch", name);
			goto out;
		}
		if ((r = fn(name, &b, arg)) != REC_OK)
			goto out;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		r = mdb_error(t->st, "batches", rc);
		goto out;
	}
	r = REC_OK;
out:
	mdb_cursor_close(cur);
	return r;
}

int
rec_each_user(struct rec_txn *t, rec_user_fn *fn, void *arg)
{
	char name[REC_USER_MAX + 1];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct rec_user u;
	int rc, r = REC_ERR_INTERNAL;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[DB_USERS], &cur)) !=
	    MDB_SUCCESS) {
		r = mdb_error(t->st, "users", rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size == 0 || k.mv_size > REC_USER_MAX) {
			r = corrupt(t, "user key", "?");
			goto out;
		}
		memcpy(name, k.mv_data, k.mv_size);
		name[k.mv_size] = '\0';
		if (rec_user_decode(v.mv_data, v.mv_size, &u) != REC_OK) {
			r = corrupt(t, "user", name);
			goto out;
		}
		if ((r = fn(name, &u, arg)) != REC_OK)
			goto out;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		r = mdb_error(t->st, "users", rc);
		goto out;
	}
	r = REC_OK;
out:
	mdb_cursor_close(cur);
	return r;
}

int
rec_audit_append(struct rec_txn *t, const struct rec_event *ev)
{
	uint8_t key[8], buf[REC_RECORD_BUF];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t seq = 1;
	int rc, r = REC_ERR_INTERNAL;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[DB_AUDIT], &cur)) !=
	    MDB_SUCCESS) {
		r = mdb_error(t->st, "audit", rc);
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == MDB_SUCCESS && k.mv_size == 8) {
		seq = 0;
		for (int i = 0; i < 8; i++)
			seq = seq << 8 | ((uint8_t *)k.mv_data)[i];
		seq++;
	} else if (rc != MDB_NOTFOUND) {
		r = rc == MDB_SUCCESS ? corrupt(t, "audit key", ev->user) :
		    mdb_error(t->st, "audit", rc);
		goto out;
	}
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(seq >> (56 - 8 * i));
	r = put_raw(t, DB_AUDIT, key, sizeof(key), buf,
	    rec_event_encode(ev, buf));
out:
	mdb_cursor_close(cur);
	return r;
}

int
rec_each_event(struct rec_txn *t, rec_event_fn *fn, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	struct rec_event ev;
	uint64_t seq;
	int rc, r = REC_ERR_INTERNAL;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[DB_AUDIT], &cur)) !=
	    MDB_SUCCESS) {
		r = mdb_error(t->st, "audit", rc);
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == MDB_SUCCESS;
	    rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size != 8 ||
		    rec_event_decode(v.mv_data, v.mv_size, &ev) != REC_OK) {
			r = corrupt(t, "audit", "?");
			goto out;
		}
		seq = 0;
		for (int i = 0; i < 8; i++)
			seq = seq << 8 | ((uint8_t *)k.mv_data)[i];
		if ((r = fn(seq, &ev, arg)) != REC_OK)
			goto out;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		r = mdb_error(t->st, "audit", rc);
		goto out;
	}
	r = REC_OK;
out:
	mdb_cursor_close(cur);
	return r;
}
