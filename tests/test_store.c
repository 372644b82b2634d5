/* SPDX-License-Identifier: BSD-2-Clause */
/* test_store.c: unit tests of safe store opening and its transactions. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_log.h"
#include "rec_record.h"
#include "rec_store.h"
#include "rec_store_lmdb_int.h"	/* the environment's flags */
#include "testutil.h"

/* One temporary directory per test; the store is path = dir/store. */
struct fx {
	char dir[64];
	char path[128];
	struct capture cap;
	struct rec_log log;
	struct rec_store *st;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
	capture_init(&f->cap, &f->log);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	int r;

	rec_store_close(f->st);
	r = tmpdir_remove(f->dir);
	free(f);
	return r;
}

static void
log_reset(struct fx *f)
{
	memset(&f->cap, 0, sizeof(f->cap));
}

static void
store_create(struct fx *f)
{
	assert_int_equal(rec_store_open(f->path, getuid(), REC_STORE_CREATE,
	    &f->log, &f->st), REC_OK);
	assert_non_null(f->st);
}

static void
store_reopen(struct fx *f)
{
	rec_store_close(f->st);
	f->st = NULL;
	assert_int_equal(rec_store_open(f->path, getuid(), 0, &f->log, &f->st),
	    REC_OK);
	assert_non_null(f->st);
}

static void
store_close(struct fx *f)
{
	rec_store_close(f->st);
	f->st = NULL;
}

/* Open expecting `want`; *out must stay NULL on failure. */
static void
open_expect(struct fx *f, const char *path, uid_t owner, unsigned flags,
    int want)
{
	struct rec_store *st = (struct rec_store *)&st;
	int r;

	r = rec_store_open(path, owner, flags, &f->log, &st);
	if (r != want) {
		print_error("open %s: got %d (%s), expected %d\n%s", path, r,
		    rec_strerror(r), want, f->cap.text);
		rec_store_close(r == REC_OK ? st : NULL);
		fail();
	}
	if (r == REC_OK) {
		assert_non_null(st);
		rec_store_close(st);
	} else
		assert_null(st);
}

static int
dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	assert_non_null(d);
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);

	assert_true(fd != -1);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
}

/* ---- Opening. ---- */

static void
test_open_missing_dir(void **state)
{
	struct fx *f = *state;
	struct stat sb;

	open_expect(f, f->path, getuid(), 0, REC_ERR_NOSTORE);
	assert_int_equal(lstat(f->path, &sb), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_open_no_data_file(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(f->path, 0700), 0);
	open_expect(f, f->path, getuid(), 0, REC_ERR_NOSTORE);
	/* Nothing was created: neither data.mdb nor lock.mdb. */
	assert_int_equal(dir_entries(f->path), 0);
}

static void
test_create(void **state)
{
	struct fx *f = *state;
	char p[192];
	struct stat sb;
	mode_t old = umask(022);

	store_create(f);
	umask(old);
	assert_int_equal(lstat(f->path, &sb), 0);
	assert_true(S_ISDIR(sb.st_mode));
	assert_int_equal(sb.st_mode & 07777, 0700);
	assert_int_equal(sb.st_uid, getuid());
	snprintf(p, sizeof(p), "%s/data.mdb", f->path);
	assert_int_equal(lstat(p, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_mode & 077, 0);
	/* Once created it opens without the flag, and again with it. */
	store_reopen(f);
	store_close(f);
	store_create(f);
}

/* REC_STORE_CREATE fills an existing, safe, empty directory. */
static void
test_create_in_existing_dir(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(f->path, 0700), 0);
	store_create(f);
	store_reopen(f);
}

static void
test_unsafe_dir_modes(void **state)
{
	static const mode_t modes[] = {
		0750, 0701, 0740, 0720, 0710, 0704, 0702, 0770, 0707, 0777,
		01700 | 0070,
	};
	struct fx *f = *state;

	store_create(f);
	store_close(f);
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		assert_int_equal(chmod(f->path, modes[i]), 0);
		log_reset(f);
		open_expect(f, f->path, getuid(), 0, REC_ERR_UNSAFE);
		assert_logged(&f->cap, f->path);
		/* The create flag does not weaken the check. */
		log_reset(f);
		open_expect(f, f->path, getuid(), REC_STORE_CREATE,
		    REC_ERR_UNSAFE);
		assert_logged(&f->cap, f->path);
	}
	/* It was the mode: restored, the store opens. */
	assert_int_equal(chmod(f->path, 0700), 0);
	open_expect(f, f->path, getuid(), 0, REC_OK);
}

static void
test_dir_symlink(void **state)
{
	struct fx *f = *state;
	char link[192];

	store_create(f);
	store_close(f);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	log_reset(f);
	open_expect(f, link, getuid(), 0, REC_ERR_UNSAFE);
	assert_logged(&f->cap, link);
	log_reset(f);
	open_expect(f, link, getuid(), REC_STORE_CREATE, REC_ERR_UNSAFE);
	assert_logged(&f->cap, link);
	/* A dangling symlink with the create flag: refused, nothing made. */
	snprintf(link, sizeof(link), "%s/dangling", f->dir);
	assert_int_equal(symlink("nowhere", link), 0);
	log_reset(f);
	open_expect(f, link, getuid(), REC_STORE_CREATE, REC_ERR_UNSAFE);
	assert_logged(&f->cap, link);
	snprintf(link, sizeof(link), "%s/nowhere", f->dir);
	assert_int_equal(access(link, F_OK), -1);
}

static void
test_regular_file(void **state)
{
	struct fx *f = *state;
	struct stat sb;

	write_file(f->path, "not a store", 11, 0600);
	log_reset(f);
	open_expect(f, f->path, getuid(), 0, REC_ERR_UNSAFE);
	assert_logged(&f->cap, f->path);
	log_reset(f);
	open_expect(f, f->path, getuid(), REC_STORE_CREATE, REC_ERR_UNSAFE);
	assert_logged(&f->cap, f->path);
	assert_int_equal(lstat(f->path, &sb), 0);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(sb.st_size, 11);
}

static void
test_owner_mismatch(void **state)
{
	struct fx *f = *state;

	store_create(f);
	store_close(f);
	log_reset(f);
	open_expect(f, f->path, getuid() + 1, 0, REC_ERR_OWNER);
	assert_logged(&f->cap, f->path);
	log_reset(f);
	open_expect(f, f->path, getuid() + 1, REC_STORE_CREATE, REC_ERR_OWNER);
	assert_logged(&f->cap, f->path);
}

/*
 * Issue #15 item 6: a store the user cannot even open says why.  Root
 * opens anything, so as root a child takes uid `nobody`; without root the
 * own directory is made unreadable.
 */
static void
unreadable_as(struct fx *f, uid_t dir_owner, uid_t as, int want,
    const char *needle)
{
	pid_t pid;
	int status;

	assert_int_equal(chown(f->path, dir_owner, (gid_t)-1), 0);
	if ((pid = fork()) == 0) {
		if (as != getuid() && (setgroups(0, NULL) != 0 ||
		    setresgid(as, as, as) != 0 || setresuid(as, as, as) != 0))
			_exit(2);
		log_reset(f);
		if (rec_store_open(f->path, as, 0, &f->log, &f->st) != want ||
		    strstr(f->cap.text, needle) == NULL) {
			fprintf(stderr, "%s\n", f->cap.text);
			_exit(1);
		}
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

static void
test_unreadable_dir_says_why(void **state)
{
	struct fx *f = *state;
	uid_t nobody = 65534;

	store_create(f);
	store_close(f);
	if (getuid() != 0) {
		assert_int_equal(chmod(f->path, 0), 0);
		unreadable_as(f, getuid(), getuid(), REC_ERR_ACCESS,
		    "Permission denied");
		assert_int_equal(chmod(f->path, 0700), 0);
		return;
	}
	/* The directories above must let nobody through. */
	assert_int_equal(chmod(f->dir, 0711), 0);
	/* A backup restored as root: an owner mismatch, not EACCES. */
	unreadable_as(f, 0, nobody, REC_ERR_OWNER, "owned by uid 0, not by "
	    "uid 65534");
	/* The user's own directory, mode 0: permission denied. */
	assert_int_equal(chmod(f->path, 0), 0);
	unreadable_as(f, nobody, nobody, REC_ERR_ACCESS, "Permission denied");
	assert_int_equal(chmod(f->path, 0700), 0);
	assert_int_equal(chown(f->path, 0, (gid_t)-1), 0);
}

/* errno values become the error that names their cause. */
static void
test_errno_mapping(void **state)
{
	static const struct { int e, want; const char *reason; } t[] = {
		{ ENOSPC, REC_ERR_NOSPACE, "no_space" },
		{ EDQUOT, REC_ERR_NOSPACE, "no_space" },
		{ EFBIG, REC_ERR_NOSPACE, "no_space" },
		{ EROFS, REC_ERR_ROFS, "read_only" },
		{ EACCES, REC_ERR_ACCESS, "permission" },
		{ EPERM, REC_ERR_ACCESS, "permission" },
		{ ENOMEM, REC_ERR_NOMEM, "no_memory" },
		{ EIO, REC_ERR_IO, "io" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		assert_int_equal(rec_err_errno(t[i].e), t[i].want);
		assert_string_equal(rec_err_reason(t[i].want), t[i].reason);
	}
	assert_string_equal(rec_err_reason(REC_ERR_OWNER), "owner");
	assert_string_equal(rec_err_reason(REC_ERR_MISSING), "missing");
	/* A directory that refuses the bind or a write. */
	assert_string_equal(rec_err_reason(REC_ERR_PERM), "permission");
	/* Every error has its own word but the bug and what is no error. */
	for (int e = REC_ERR_INTERNAL - 1; e >= REC_ERR_MISSING; e--)
		assert_string_not_equal(rec_err_reason(e), "internal");
	assert_string_equal(rec_err_reason(REC_ERR_INTERNAL), "internal");
	assert_string_equal(rec_err_reason(-1000), "internal");
	assert_string_not_equal(rec_strerror(REC_ERR_NOSPACE),
	    rec_strerror(REC_ERR_IO));
	assert_string_not_equal(rec_strerror(REC_ERR_ROFS),
	    rec_strerror(REC_ERR_IO));
}

/* The directory's own owner is checked, not only its files'. */
static void
test_owner_mismatch_empty_dir(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkdir(f->path, 0700), 0);
	log_reset(f);
	open_expect(f, f->path, getuid() + 1, REC_STORE_CREATE, REC_ERR_OWNER);
	assert_logged(&f->cap, f->path);
	assert_int_equal(dir_entries(f->path), 0);
}

/* data.mdb or lock.mdb replaced by a symlink to a real store file. */
static void
store_file_symlink(struct fx *f, const char *name)
{
	char p[192], moved[192];

	store_create(f);
	store_close(f);
	snprintf(p, sizeof(p), "%s/%s", f->path, name);
	snprintf(moved, sizeof(moved), "%s/%s", f->dir, name);
	assert_int_equal(rename(p, moved), 0);
	assert_int_equal(symlink(moved, p), 0);
	log_reset(f);
	open_expect(f, f->path, getuid(), 0, REC_ERR_UNSAFE);
	assert_logged(&f->cap, f->path);
	assert_logged(&f->cap, name);
	log_reset(f);
	open_expect(f, f->path, getuid(), REC_STORE_CREATE, REC_ERR_UNSAFE);
	assert_logged(&f->cap, name);
}

static void
test_data_symlink(void **state)
{
	store_file_symlink(*state, "data.mdb");
}

static void
test_lock_symlink(void **state)
{
	store_file_symlink(*state, "lock.mdb");
}

static void
test_data_group_writable(void **state)
{
	struct fx *f = *state;
	char p[192];

	store_create(f);
	store_close(f);
	snprintf(p, sizeof(p), "%s/data.mdb", f->path);
	assert_int_equal(chmod(p, 0620), 0);
	log_reset(f);
	open_expect(f, f->path, getuid(), 0, REC_ERR_UNSAFE);
	assert_logged(&f->cap, "data.mdb");
	assert_int_equal(chmod(p, 0602), 0);
	open_expect(f, f->path, getuid(), 0, REC_ERR_UNSAFE);
	assert_int_equal(chmod(p, 0600), 0);
	open_expect(f, f->path, getuid(), 0, REC_OK);
}

/* A directory where data.mdb should be is refused too. */
static void
test_data_not_regular(void **state)
{
	struct fx *f = *state;
	char p[192];

	assert_int_equal(mkdir(f->path, 0700), 0);
	snprintf(p, sizeof(p), "%s/data.mdb", f->path);
	assert_int_equal(mkdir(p, 0700), 0);
	log_reset(f);
	open_expect(f, f->path, getuid(), REC_STORE_CREATE, REC_ERR_UNSAFE);
	assert_logged(&f->cap, "data.mdb");
}

static void
test_garbage_data(void **state)
{
	static const unsigned char seed[randombytes_SEEDBYTES] = { 42 };
	struct fx *f = *state;
	unsigned char junk[8192];
	struct rec_store *st = NULL;
	char p[192];
	int r;

	assert_int_equal(mkdir(f->path, 0700), 0);
	snprintf(p, sizeof(p), "%s/data.mdb", f->path);
	/* Random but the same on every run. */
	randombytes_buf_deterministic(junk, sizeof(junk), seed);
	write_file(p, junk, sizeof(junk), 0600);
	log_reset(f);
	r = rec_store_open(f->path, getuid(), 0, &f->log, &st);
	if (r == REC_OK)
		rec_store_close(st);
	assert_true(r == REC_ERR_CORRUPT || r == REC_ERR_IO);
	assert_null(st);
	assert_logged(&f->cap, f->path);
}

static void
test_path_too_long(void **state)
{
	struct fx *f = *state;
	char *p = malloc(8192);

	assert_non_null(p);
	memset(p, 'a', 8191);
	p[0] = '/';
	p[8191] = '\0';
	open_expect(f, p, getuid(), REC_STORE_CREATE, REC_ERR_USAGE);
	free(p);
}

/* ---- Transactions. ---- */

static void
fill_user(struct rec_user *u, uint64_t k)
{
	memset(u, 0, sizeof(*u));
	u->active_batch = 0x1000 + k;
	u->lock.failures = (uint32_t)(k + 1);
	u->lock.window_start = 100 + k;
	u->lock.last_fail = 200 + k;
	u->lock.locked_until = 300 + k;
	u->lock.cooldown = 400 + k;
	u->gen.failures = (uint32_t)(k + 2);
	u->gen.window_start = 500 + k;
	u->gen.last_fail = 600 + k;
	u->gen.locked_until = 700 + k;
	u->gen.cooldown = 800 + k;
	u->last_used = 900 + k;
	u->last_generated = 1000 + k;
}

static void
fill_batch(struct rec_batch *b, uint64_t id)
{
	memset(b, 0, sizeof(*b));
	b->id = id;
	b->status = REC_BATCH_ACTIVE;
	b->created = id >> 8;
	b->modified = (id >> 8) + 1;
	b->expires = (id >> 8) + 1000;
	b->verified = (id >> 8) + 2;
	b->exported = REC_EXP_TXT | REC_EXP_QR;
	b->count = 10;
	b->used = 2;
	b->invalidated = 1;
	b->opslimit = 1;
	b->memlimit = 8192;
	b->peppered = 1;
	b->tag_bits = 12;
	for (int i = 0; i < REC_TAGKEY_LEN; i++)
		b->tag_key[i] = (uint8_t)(id + (uint64_t)i);
	b->fmt.alphabet = REC_ALPHA_BASE32;
	b->fmt.length = 20;
	b->fmt.group = 5;
	b->fmt.check = 1;
}

/* A code record whose contents say whose it is. */
static void
fill_code(struct rec_code_rec *c, uint64_t owner, unsigned slot)
{
	memset(c, 0, sizeof(*c));
	c->slot = (uint8_t)slot;
	c->state = (uint8_t)(slot % 3);
	c->tag = (uint16_t)(owner * 7 + slot);
	for (int i = 0; i < REC_SALT_LEN; i++)
		c->salt[i] = (uint8_t)(owner + slot + (unsigned)i);
	for (int i = 0; i < REC_HASH_LEN; i++)
		c->hash[i] = (uint8_t)(owner * 3 + slot * 5 + (unsigned)i);
	c->changed = owner << 16 | slot;
}

static int
user_equal(const struct rec_user *a, const struct rec_user *b)
{
	return a->active_batch == b->active_batch &&
	    memcmp(&a->lock, &b->lock, sizeof(a->lock)) == 0 &&
	    memcmp(&a->gen, &b->gen, sizeof(a->gen)) == 0 &&
	    a->last_used == b->last_used &&
	    a->last_generated == b->last_generated;
}

static int
batch_equal(const struct rec_batch *a, const struct rec_batch *b)
{
	return a->id == b->id && a->status == b->status &&
	    a->created == b->created && a->modified == b->modified &&
	    a->expires == b->expires && a->verified == b->verified &&
	    a->exported == b->exported && a->count == b->count &&
	    a->used == b->used && a->invalidated == b->invalidated &&
	    a->opslimit == b->opslimit && a->memlimit == b->memlimit &&
	    a->peppered == b->peppered && a->tag_bits == b->tag_bits &&
	    memcmp(a->tag_key, b->tag_key, REC_TAGKEY_LEN) == 0 &&
	    a->fmt.alphabet == b->fmt.alphabet &&
	    a->fmt.length == b->fmt.length && a->fmt.group == b->fmt.group &&
	    a->fmt.check == b->fmt.check;
}

static int
code_equal(const struct rec_code_rec *a, const struct rec_code_rec *b)
{
	return a->slot == b->slot && a->state == b->state && a->tag == b->tag &&
	    memcmp(a->salt, b->salt, REC_SALT_LEN) == 0 &&
	    memcmp(a->hash, b->hash, REC_HASH_LEN) == 0 &&
	    a->changed == b->changed;
}

#define BATCH_A	0x0000000000000002ULL
#define BATCH_B	0x0000000000000100ULL	/* after A only when big-endian */
#define NSLOTS	10

/* Slots written out of order, so that slot order must come from the keys. */
static const unsigned slot_order[NSLOTS] = { 7, 1, 10, 3, 2, 9, 4, 8, 6, 5 };

static int
put_alice(struct rec_txn *t, void *arg)
{
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	int r;

	(void)arg;
	fill_user(&u, 1);
	if ((r = rec_user_put(t, "alice", &u)) != REC_OK)
		return r;
	fill_batch(&b, BATCH_A);
	if ((r = rec_batch_put(t, "alice", &b)) != REC_OK)
		return r;
	for (unsigned i = 0; i < NSLOTS; i++) {
		fill_code(&c, 1, slot_order[i]);
		if ((r = rec_coderec_put(t, "alice", BATCH_A, &c)) != REC_OK)
			return r;
	}
	return REC_OK;
}

static int
check_alice(struct rec_txn *t, void *arg)
{
	struct rec_user u, want_u;
	struct rec_batch b, want_b;
	struct rec_code_rec c, want_c;

	(void)arg;
	fill_user(&want_u, 1);
	assert_int_equal(rec_user_get(t, "alice", &u), REC_OK);
	assert_true(user_equal(&u, &want_u));
	fill_batch(&want_b, BATCH_A);
	assert_int_equal(rec_batch_get(t, "alice", BATCH_A, &b), REC_OK);
	assert_true(batch_equal(&b, &want_b));
	for (unsigned s = 1; s <= NSLOTS; s++) {
		fill_code(&want_c, 1, s);
		assert_int_equal(rec_coderec_get(t, "alice", BATCH_A, s, &c),
		    REC_OK);
		assert_true(code_equal(&c, &want_c));
	}
	/* What was never written is not found, and is not an error. */
	assert_int_equal(rec_user_get(t, "al", &u), REC_ERR_NOTFOUND);
	assert_int_equal(rec_user_get(t, "alicea", &u), REC_ERR_NOTFOUND);
	assert_int_equal(rec_batch_get(t, "alice", BATCH_B, &b),
	    REC_ERR_NOTFOUND);
	assert_int_equal(rec_batch_get(t, "bob", BATCH_A, &b),
	    REC_ERR_NOTFOUND);
	assert_int_equal(rec_coderec_get(t, "alice", BATCH_A, NSLOTS + 1, &c),
	    REC_ERR_NOTFOUND);
	assert_int_equal(rec_coderec_get(t, "alice", BATCH_B, 1, &c),
	    REC_ERR_NOTFOUND);
	return REC_OK;
}

static void
test_write_read(void **state)
{
	struct fx *f = *state;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_alice, NULL), REC_OK);
	assert_int_equal(rec_store_read(f->st, check_alice, NULL), REC_OK);
}

/* A write transaction that writes nothing. */
static int
write_nothing(struct rec_txn *t, void *arg)
{
	(void)t;
	(void)arg;
	return REC_OK;
}

/*
 * A lazy commit is there for the next process at once, even when the
 * process that made it dies without closing or syncing; it leaves later
 * commits synced again, and the next write puts it on the disk even when
 * that write is empty (LMDB would skip the flush of an empty commit).
 */
static void
test_lazy_write(void **state)
{
	struct fx *f = *state;
	unsigned envflags = 0;
	int status = -1;
	pid_t pid;

	store_create(f);
	assert_int_equal(rec_store_write_lazy(f->st, put_alice, NULL), REC_OK);
	assert_int_equal(mdb_env_get_flags(rec_lmdb_of(f->st)->env, &envflags),
	    MDB_SUCCESS);
	assert_int_equal(envflags & MDB_NOSYNC, 0);
	assert_int_equal(rec_lmdb_of(f->st)->lazy_pending, 1);
	assert_int_equal(rec_store_read(f->st, check_alice, NULL), REC_OK);
	assert_int_equal(rec_lmdb_of(f->st)->lazy_pending, 1);
	assert_int_equal(rec_store_write(f->st, write_nothing, NULL), REC_OK);
	assert_int_equal(rec_lmdb_of(f->st)->lazy_pending, 0);
	store_close(f);
	assert_int_equal(tmpdir_remove(f->dir), 0);
	assert_non_null(mkdtemp(strcpy(f->dir, "/tmp/test_store.XXXXXX")));
	snprintf(f->path, sizeof(f->path), "%s/store", f->dir);
	/* Made by a process that then dies at once. */
	if ((pid = fork()) == 0) {
		struct rec_store *st = NULL;

		if (rec_store_open(f->path, getuid(), REC_STORE_CREATE, NULL,
		    &st) != REC_OK || rec_store_write_lazy(st, put_alice,
		    NULL) != REC_OK)
			_exit(1);
		_exit(0);
	}
	assert_true(pid > 0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	assert_int_equal(rec_store_open(f->path, getuid(), 0, &f->log, &f->st),
	    REC_OK);
	assert_int_equal(rec_store_read(f->st, check_alice, NULL), REC_OK);
}

static void
test_reopen_persists(void **state)
{
	struct fx *f = *state;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_alice, NULL), REC_OK);
	store_reopen(f);
	assert_int_equal(rec_store_read(f->st, check_alice, NULL), REC_OK);
	store_close(f);
	/* And without the owner's log sink. */
	assert_int_equal(rec_store_open(f->path, getuid(), 0, NULL, &f->st),
	    REC_OK);
	assert_int_equal(rec_store_read(f->st, check_alice, NULL), REC_OK);
}

static int
put_then_fail(struct rec_txn *t, void *arg)
{
	struct rec_user u;
	struct rec_event ev;
	int *calls = arg;

	(*calls)++;
	fill_user(&u, 99);
	assert_int_equal(rec_user_put(t, "alice", &u), REC_OK);
	assert_int_equal(rec_user_put(t, "mallory", &u), REC_OK);
	memset(&ev, 0, sizeof(ev));
	ev.type = REC_EV_ADMIN;
	assert_int_equal(rec_event_append(t, &ev), REC_OK);
	return REC_ERR_EXISTS;
}

static int
check_aborted(struct rec_txn *t, void *arg)
{
	struct rec_user u;
	unsigned n = 0;

	(void)arg;
	assert_int_equal(rec_user_get(t, "mallory", &u), REC_ERR_NOTFOUND);
	assert_int_equal(rec_event_each(t, test_count_event, &n), REC_OK);
	assert_int_equal(n, 0);
	return REC_OK;
}

static void
test_write_error_aborts(void **state)
{
	struct fx *f = *state;
	int calls = 0;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_alice, NULL), REC_OK);
	assert_int_equal(rec_store_write(f->st, put_then_fail, &calls),
	    REC_ERR_EXISTS);
	assert_int_equal(calls, 1);	/* an error is not retried */
	/* The old alice is intact, mallory and the event never happened. */
	assert_int_equal(rec_store_read(f->st, check_alice, NULL), REC_OK);
	assert_int_equal(rec_store_read(f->st, check_aborted, NULL), REC_OK);
}

/* A read transaction passes fn's result through and cannot write. */
static int
put_in_read(struct rec_txn *t, void *arg)
{
	struct fx *f = arg;
	struct rec_user u;

	assert_ptr_equal(rec_txn_log(t), &f->log);
	fill_user(&u, 5);
	assert_int_not_equal(rec_user_put(t, "alice", &u), REC_OK);
	return REC_ERR_NOUSER;
}

static int
check_no_user(struct rec_txn *t, void *arg)
{
	struct rec_user u;

	(void)arg;
	return rec_user_get(t, "alice", &u);
}

static void
test_read_is_read_only(void **state)
{
	struct fx *f = *state;

	store_create(f);
	assert_int_equal(rec_store_read(f->st, put_in_read, f), REC_ERR_NOUSER);
	assert_int_equal(rec_store_read(f->st, check_no_user, NULL),
	    REC_ERR_NOTFOUND);
}

/*
 * Two users where one name is a prefix of the other, each with the same two
 * batch ids and a different number of codes.
 */
static const struct { const char *user; uint64_t owner, batch; unsigned n; }
    layout[] = {
	{ "al", 1, BATCH_A, 3 },
	{ "al", 2, BATCH_B, 2 },
	{ "alice", 3, BATCH_A, 5 },
	{ "alice", 4, BATCH_B, 4 },
};
#define NLAYOUT (sizeof(layout) / sizeof(layout[0]))

static int
put_layout(struct rec_txn *t, void *arg)
{
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	int r;

	(void)arg;
	/* Written newest first, so that order must come from the keys. */
	for (size_t i = NLAYOUT; i-- > 0;) {
		fill_user(&u, layout[i].owner);
		fill_batch(&b, layout[i].batch);
		b.count = (uint16_t)layout[i].n;
		b.used = b.invalidated = 0;
		b.created = layout[i].owner;
		if ((r = rec_user_put(t, layout[i].user, &u)) != REC_OK ||
		    (r = rec_batch_put(t, layout[i].user, &b)) != REC_OK)
			return r;
		for (unsigned s = layout[i].n; s >= 1; s--) {
			fill_code(&c, layout[i].owner, s);
			if ((r = rec_coderec_put(t, layout[i].user,
			    layout[i].batch, &c)) != REC_OK)
				return r;
		}
	}
	/* A user "a" and "alicf" with no batches around the others. */
	fill_user(&u, 8);
	if ((r = rec_user_put(t, "alicf", &u)) != REC_OK)
		return r;
	fill_user(&u, 9);
	return rec_user_put(t, "a", &u);
}

static int
check_codes(struct rec_txn *t, void *arg)
{
	struct rec_code_rec codes[REC_COUNT_MAX + 1], want;
	unsigned n;

	(void)arg;
	for (size_t i = 0; i < NLAYOUT; i++) {
		memset(codes, 0, sizeof(codes));
		assert_int_equal(rec_coderec_get_all(t, layout[i].user,
		    layout[i].batch, codes, REC_COUNT_MAX, &n), REC_OK);
		if (n != layout[i].n) {
			print_error("%s/%llu: %u codes, expected %u\n",
			    layout[i].user, (unsigned long long)layout[i].batch,
			    n, layout[i].n);
			fail();
		}
		for (unsigned s = 1; s <= n; s++) {
			fill_code(&want, layout[i].owner, s);
			assert_true(code_equal(&codes[s - 1], &want));
		}
	}
	/* No batch of that id, or a user who is a prefix of others. */
	assert_int_equal(rec_coderec_get_all(t, "al", 7, codes, REC_COUNT_MAX,
	    &n), REC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(rec_coderec_get_all(t, "a", BATCH_A, codes,
	    REC_COUNT_MAX, &n), REC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(rec_coderec_get_all(t, "alic", BATCH_A, codes,
	    REC_COUNT_MAX, &n), REC_OK);
	assert_int_equal(n, 0);
	assert_int_equal(rec_coderec_get_all(t, "zed", BATCH_A, codes,
	    REC_COUNT_MAX, &n), REC_OK);
	assert_int_equal(n, 0);
	/* More codes than room: refused, and nothing written past max. */
	memset(codes, 0xA5, sizeof(codes));
	assert_int_not_equal(rec_coderec_get_all(t, "alice", BATCH_A, codes, 2,
	    &n), REC_OK);
	assert_true(n <= 2);
	for (size_t i = 2 * sizeof(codes[0]); i < sizeof(codes); i++)
		assert_int_equal(((uint8_t *)codes)[i], 0xA5);
	return REC_OK;
}

static void
test_get_codes(void **state)
{
	struct fx *f = *state;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_layout, NULL), REC_OK);
	assert_int_equal(rec_store_read(f->st, check_codes, NULL), REC_OK);
}

/* What a walk saw: names and batch ids in call order. */
struct seen {
	char names[16][REC_USER_MAX + 1];
	uint64_t ids[16];
	uint64_t owners[16];
	unsigned n, stop_after;
};

static int
see_batch(const char *user, const struct rec_batch *b, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", user);
	s->ids[s->n] = b->id;
	s->owners[s->n] = b->created;
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after ? REC_ERR_EXISTS :
	    REC_OK;
}

static void
expect_seen(const struct seen *s, const size_t *idx, unsigned n)
{
	assert_int_equal(s->n, n);
	for (unsigned i = 0; i < n; i++) {
		assert_string_equal(s->names[i], layout[idx[i]].user);
		assert_true(s->ids[i] == layout[idx[i]].batch);
		assert_true(s->owners[i] == layout[idx[i]].owner);
	}
}

static int
walk_batches(struct rec_txn *t, void *arg)
{
	static const size_t al[] = { 0, 1 }, alice[] = { 2, 3 },
	    all[] = { 0, 1, 2, 3 };
	struct seen s;

	(void)arg;
	memset(&s, 0, sizeof(s));
	assert_int_equal(rec_batch_each(t, "al", see_batch, &s), REC_OK);
	expect_seen(&s, al, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(rec_batch_each(t, "alice", see_batch, &s), REC_OK);
	expect_seen(&s, alice, 2);
	memset(&s, 0, sizeof(s));
	assert_int_equal(rec_batch_each(t, NULL, see_batch, &s), REC_OK);
	expect_seen(&s, all, 4);
	/* Users without batches, one a prefix and one between the others. */
	static const char *const none[] = { "a", "alic", "alicf", "b", "zed" };
	for (size_t i = 0; i < sizeof(none) / sizeof(none[0]); i++) {
		memset(&s, 0, sizeof(s));
		assert_int_equal(rec_batch_each(t, none[i], see_batch, &s),
		    REC_OK);
		assert_int_equal(s.n, 0);
	}
	/* fn stops the walk with its own result. */
	memset(&s, 0, sizeof(s));
	s.stop_after = 1;
	assert_int_equal(rec_batch_each(t, NULL, see_batch, &s),
	    REC_ERR_EXISTS);
	assert_int_equal(s.n, 1);
	memset(&s, 0, sizeof(s));
	s.stop_after = 2;
	assert_int_equal(rec_batch_each(t, "alice", see_batch, &s),
	    REC_ERR_EXISTS);
	assert_int_equal(s.n, 2);
	return REC_OK;
}

static void
test_each_batch(void **state)
{
	struct fx *f = *state;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_layout, NULL), REC_OK);
	assert_int_equal(rec_store_read(f->st, walk_batches, NULL), REC_OK);
}

static int
see_user(const char *user, const struct rec_user *u, void *arg)
{
	struct seen *s = arg;

	assert_true(s->n < 16);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", user);
	s->owners[s->n] = u->active_batch - 0x1000;
	s->n++;
	return s->stop_after != 0 && s->n >= s->stop_after ? REC_ERR_EXISTS :
	    REC_OK;
}

static int
walk_users(struct rec_txn *t, void *arg)
{
	/* Name order; the user record last written for each name wins. */
	static const struct { const char *name; uint64_t owner; } want[] = {
		{ "a", 9 }, { "al", 1 }, { "alice", 3 }, { "alicf", 8 },
	};
	struct seen s;

	(void)arg;
	memset(&s, 0, sizeof(s));
	assert_int_equal(rec_user_each(t, see_user, &s), REC_OK);
	assert_int_equal(s.n, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_string_equal(s.names[i], want[i].name);
		assert_true(s.owners[i] == want[i].owner);
	}
	memset(&s, 0, sizeof(s));
	s.stop_after = 3;
	assert_int_equal(rec_user_each(t, see_user, &s), REC_ERR_EXISTS);
	assert_int_equal(s.n, 3);
	return REC_OK;
}

static void
test_each_user(void **state)
{
	struct fx *f = *state;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_layout, NULL), REC_OK);
	assert_int_equal(rec_store_read(f->st, walk_users, NULL), REC_OK);
}

static int
no_call(const char *user, const struct rec_user *u, void *arg)
{
	(void)user;
	(void)u;
	(void)arg;
	fail();
	return REC_ERR_INTERNAL;
}

static int
no_batch(const char *user, const struct rec_batch *b, void *arg)
{
	(void)user;
	(void)b;
	(void)arg;
	fail();
	return REC_ERR_INTERNAL;
}

static int
walk_empty(struct rec_txn *t, void *arg)
{
	unsigned n = 0;

	(void)arg;
	assert_int_equal(rec_user_each(t, no_call, NULL), REC_OK);
	assert_int_equal(rec_batch_each(t, NULL, no_batch, NULL), REC_OK);
	assert_int_equal(rec_batch_each(t, "alice", no_batch, NULL), REC_OK);
	assert_int_equal(rec_event_each(t, test_count_event, &n), REC_OK);
	assert_int_equal(n, 0);
	return REC_OK;
}

static void
test_empty_store_walks(void **state)
{
	struct fx *f = *state;

	store_create(f);
	assert_int_equal(rec_store_read(f->st, walk_empty, NULL), REC_OK);
}

/*
 * Distinct names must never share a record.  A name longer than the key
 * allows has to be refused, not cut to a prefix that is someone else's.
 */
struct long_name {
	char name[REC_USER_MAX + 40], prefix[REC_USER_MAX + 1];
	int put, get;
};

static int
put_long_name(struct rec_txn *t, void *arg)
{
	struct long_name *ln = arg;
	struct rec_user u;

	fill_user(&u, 77);
	ln->put = rec_user_put(t, ln->name, &u);
	return REC_OK;
}

static int
get_prefix(struct rec_txn *t, void *arg)
{
	struct long_name *ln = arg;
	struct rec_user u;

	ln->get = rec_user_get(t, ln->prefix, &u);
	return REC_OK;
}

static void
test_long_user_name(void **state)
{
	struct fx *f = *state;
	struct long_name ln;

	memset(&ln, 0, sizeof(ln));
	memset(ln.name, 'n', sizeof(ln.name) - 1);
	memcpy(ln.prefix, ln.name, REC_USER_MAX);
	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_long_name, &ln), REC_OK);
	assert_int_equal(rec_store_read(f->st, get_prefix, &ln), REC_OK);
	if (ln.put == REC_OK && ln.get != REC_ERR_NOTFOUND) {
		print_error("a %zu-character user name was stored as the "
		    "record of its %d-character prefix\n", strlen(ln.name),
		    REC_USER_MAX);
		fail();
	}
}

/* ---- The audit trail and map growth. ---- */

/* Event i, with long text fields so that the map must grow. */
static void
make_event(struct rec_event *ev, uint64_t i, size_t textlen)
{
	char *fields[] = { ev->user, ev->service, ev->rhost, ev->tty,
	    ev->actor, ev->detail };

	memset(ev, 0, sizeof(*ev));
	ev->time = 1800000000ULL + i;
	ev->type = (uint8_t)(REC_EV_CODE_USED + i % REC_EV_ADMIN);
	ev->batch = i * 3;
	ev->slot = (uint8_t)(i % 100 + 1);
	for (size_t k = 0; k < 6; k++) {
		int n = snprintf(fields[k], REC_FIELD_MAX, "%zu-%llu-", k,
		    (unsigned long long)i);

		memset(fields[k] + n, 'a' + (int)k, textlen - (size_t)n);
		fields[k][textlen] = '\0';
	}
}

struct append {
	uint64_t first, n;
	size_t textlen;
	unsigned runs;		/* times fn was run (retries included) */
};

static int
append_events(struct rec_txn *t, void *arg)
{
	struct append *a = arg;
	struct rec_event ev;
	int r;

	a->runs++;
	for (uint64_t i = a->first; i < a->first + a->n; i++) {
		make_event(&ev, i, a->textlen);
		if ((r = rec_event_append(t, &ev)) != REC_OK)
			return r;
	}
	return REC_OK;
}

struct check_events {
	uint64_t n, first_seq, last_seq;
	size_t textlen;
	int full;		/* 1 every field, 0 a sample, -1 time only */
};

static int
check_event(uint64_t seq, const struct rec_event *ev, void *arg)
{
	struct check_events *c = arg;
	struct rec_event want;

	if (c->n == 0)
		c->first_seq = seq;
	else if (seq != c->last_seq + 1) {
		print_error("sequence %llu after %llu\n",
		    (unsigned long long)seq, (unsigned long long)c->last_seq);
		fail();
	}
	c->last_seq = seq;
	if (ev->time != 1800000000ULL + c->n) {
		print_error("event %llu has time %llu\n",
		    (unsigned long long)c->n, (unsigned long long)ev->time);
		fail();
	}
	if (c->full > 0 || (c->full == 0 && c->n % 997 == 0)) {
		make_event(&want, c->n, c->textlen);
		assert_int_equal(ev->type, want.type);
		assert_true(ev->batch == want.batch);
		assert_int_equal(ev->slot, want.slot);
		assert_string_equal(ev->user, want.user);
		assert_string_equal(ev->service, want.service);
		assert_string_equal(ev->rhost, want.rhost);
		assert_string_equal(ev->tty, want.tty);
		assert_string_equal(ev->actor, want.actor);
		assert_string_equal(ev->detail, want.detail);
	}
	c->n++;
	return REC_OK;
}

static int
read_events(struct rec_txn *t, void *arg)
{
	return rec_event_each(t, check_event, arg);
}

static void
test_audit_sequence(void **state)
{
	struct fx *f = *state;
	struct append a = { 0, 3, 40, 0 };
	struct check_events c = { 0, 0, 0, 40, 1 };

	store_create(f);
	/* Three transactions, the last after a reopen: one sequence. */
	assert_int_equal(rec_store_write(f->st, append_events, &a), REC_OK);
	a.first = 3;
	a.n = 300;		/* past 255: order must be numeric */
	assert_int_equal(rec_store_write(f->st, append_events, &a), REC_OK);
	store_reopen(f);
	a.first = 303;
	a.n = 2;
	assert_int_equal(rec_store_write(f->st, append_events, &a), REC_OK);
	assert_int_equal(rec_store_read(f->st, read_events, &c), REC_OK);
	assert_true(c.n == 305);
	assert_true(c.first_seq >= 1);
	assert_true(c.last_seq == c.first_seq + 304);
}

static int
stop_at_two(uint64_t seq, const struct rec_event *ev, void *arg)
{
	(void)seq;
	(void)ev;
	return ++*(unsigned *)arg == 2 ? REC_ERR_EXISTS : REC_OK;
}

static int
walk_events_stop(struct rec_txn *t, void *arg)
{
	return rec_event_each(t, stop_at_two, arg);
}

static void
test_audit_stop(void **state)
{
	struct fx *f = *state;
	struct append a = { 0, 5, 10, 0 };
	unsigned n = 0;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, append_events, &a), REC_OK);
	assert_int_equal(rec_store_read(f->st, walk_events_stop, &n),
	    REC_ERR_EXISTS);
	assert_int_equal(n, 2);
}

#define GROW_EVENTS	60000
#define GROW_TXN	2000
#define GROW_TEXT	200

static void
test_map_growth(void **state)
{
	struct fx *f = *state;
	struct append a = { 0, GROW_TXN, GROW_TEXT, 0 };
	struct check_events c = { 0, 0, 0, GROW_TEXT, 0 };
	char p[192];
	struct stat sb;

	store_create(f);
	for (a.first = 0; a.first < GROW_EVENTS; a.first += GROW_TXN) {
		if (rec_store_write(f->st, append_events, &a) != REC_OK) {
			print_error("write at event %llu failed:\n%s",
			    (unsigned long long)a.first, f->cap.text);
			fail();
		}
	}
	/* The map really grew: some transactions were run again. */
	assert_true(a.runs > GROW_EVENTS / GROW_TXN);
	snprintf(p, sizeof(p), "%s/data.mdb", f->path);
	assert_int_equal(stat(p, &sb), 0);
	assert_true(sb.st_size > (off_t)(8 << 20));
	assert_int_equal(rec_store_read(f->st, read_events, &c), REC_OK);
	assert_true(c.n == GROW_EVENTS);
	assert_true(c.last_seq == c.first_seq + GROW_EVENTS - 1);
	/* The grown store reopens with everything in it. */
	store_reopen(f);
	memset(&c, 0, sizeof(c));
	c.textlen = GROW_TEXT;
	assert_int_equal(rec_store_read(f->st, read_events, &c), REC_OK);
	assert_true(c.n == GROW_EVENTS);
}

/*
 * The role of the other process in test_map_grown_elsewhere: the test binary
 * run again as "prog --grow path" appends 12,000 events with long text
 * (about 14 MiB, past the 8 MiB initial map) in 12 transactions.
 */
static const char *self_path;

static int
grow_elsewhere(const char *path)
{
	struct rec_store *st = NULL;
	struct append b = { 3, 1000, GROW_TEXT, 0 };
	int r = rec_store_open(path, getuid(), 0, NULL, &st);

	for (int i = 0; r == REC_OK && i < 12; i++, b.first += b.n)
		r = rec_store_write(st, append_events, &b);
	rec_store_close(st);
	return r == REC_OK ? 0 : 1;
}

/*
 * Another process grows the map while this one has the store open: the
 * next transaction here must adopt the new size, not fail.  The other
 * process is a fresh exec, sharing nothing with this one but the files.
 */
static void
test_map_grown_elsewhere(void **state)
{
	struct fx *f = *state;
	struct append a = { 0, 3, 10, 0 };
	struct check_events c = { 0, 0, 0, 10, 0 };
	pid_t pid;
	int status;

	assert_non_null(self_path);
	store_create(f);
	assert_int_equal(rec_store_write(f->st, append_events, &a), REC_OK);
	assert_int_equal(rec_store_read(f->st, read_events, &c), REC_OK);
	assert_true(c.n == 3);
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		execl(self_path, self_path, "--grow", f->path, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Events 3.. have longer text: check times and sequence only. */
	memset(&c, 0, sizeof(c));
	c.full = -1;
	assert_int_equal(rec_store_read(f->st, read_events, &c), REC_OK);
	assert_true(c.n == 3 + 12 * 1000);
	a.first = c.n;
	a.n = 1;
	assert_int_equal(rec_store_write(f->st, append_events, &a), REC_OK);
	memset(&c, 0, sizeof(c));
	c.full = -1;
	assert_int_equal(rec_store_read(f->st, read_events, &c), REC_OK);
	assert_true(c.n == 3 + 12 * 1000 + 1);
	assert_true(c.last_seq == c.first_seq + c.n - 1);
}

static int
put_mallory(struct rec_txn *t, void *arg)
{
	struct rec_user u;

	(void)arg;
	fill_user(&u, 2);
	return rec_user_put(t, "mallory", &u);
}

static int
has_mallory(struct rec_txn *t, void *arg)
{
	struct rec_user u;

	*(int *)arg = rec_user_get(t, "mallory", &u) == REC_OK;
	return REC_OK;
}

/*
 * The files are checked, then LMDB opens them: a data file swapped in
 * between (here a symlink to another store, over and over by a second
 * process) must never be the one opened.  Every open either refuses or
 * reads the store that was checked.
 */
static void
test_swap_between_check_and_open(void **state)
{
	struct fx *f = *state;
	struct rec_store *other = NULL, *st;
	char other_path[160], target[200], a[200], evil[200], good[200],
	    data[200];
	int seen = 0, opened = 0, status;
	pid_t swapper;

	store_create(f);
	assert_int_equal(rec_store_write(f->st, put_alice, NULL), REC_OK);
	store_close(f);
	snprintf(other_path, sizeof(other_path), "%s/other", f->dir);
	assert_int_equal(rec_store_open(other_path, getuid(), REC_STORE_CREATE,
	    &f->log, &other), REC_OK);
	assert_int_equal(rec_store_write(other, put_mallory, NULL), REC_OK);
	rec_store_close(other);
	snprintf(target, sizeof(target), "%s/data.mdb", other_path);
	snprintf(a, sizeof(a), "%s/a.mdb", f->path);
	snprintf(evil, sizeof(evil), "%s/evil.tmp", f->path);
	snprintf(good, sizeof(good), "%s/good.tmp", f->path);
	snprintf(data, sizeof(data), "%s/data.mdb", f->path);
	assert_int_equal(link(data, a), 0);
	if ((swapper = fork()) == 0) {
		for (;;) {
			if (symlink(target, evil) != 0 ||
			    rename(evil, data) != 0 || link(a, good) != 0 ||
			    rename(good, data) != 0)
				_exit(1);
		}
	}
	assert_true(swapper > 0);
	for (int i = 0; i < 3000; i++) {
		st = NULL;
		if (rec_store_open(f->path, getuid(), 0, NULL, &st) != REC_OK)
			continue;
		opened++;
		assert_int_equal(rec_store_read(st, has_mallory, &seen), REC_OK);
		rec_store_close(st);
		if (seen)
			break;
	}
	kill(swapper, SIGKILL);
	assert_int_equal(waitpid(swapper, &status, 0), swapper);
	assert_true(WIFSIGNALED(status));	/* it swapped to the end */
	assert_int_equal(seen, 0);
	assert_true(opened > 0);
}


/* The store interface's operations on the LMDB backend. */

static int
count_event_cb(uint64_t seq, const struct rec_event *ev, void *arg)
{
	(void)seq;
	(void)ev;
	(*(unsigned *)arg)++;
	return REC_OK;
}

static int
drop_active(struct rec_txn *t, void *arg)
{
	struct rec_user u;
	int r;

	(void)arg;
	if ((r = rec_user_get(t, "ops", &u)) != REC_OK)
		return r;
	u.active_batch = 0;
	return rec_user_put(t, "ops", &u);
}

static int
ops_drop_active(struct fx *f)
{
	return rec_store_write(f->st, drop_active, NULL);
}

#define OPS_BATCH	0x5000001ULL

/* user "ops": a record whose active batch OPS_BATCH has three unused codes. */
static int
put_ops(struct rec_txn *t, void *arg)
{
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c;
	int r;

	(void)arg;
	memset(&u, 0, sizeof(u));
	u.active_batch = OPS_BATCH;
	u.lock.failures = 2;
	u.lock.last_fail = 50;
	fill_batch(&b, OPS_BATCH);
	b.count = 3;
	b.used = b.invalidated = 0;
	b.verified = 0;
	if ((r = rec_user_put(t, "ops", &u)) != REC_OK ||
	    (r = rec_batch_put(t, "ops", &b)) != REC_OK)
		return r;
	for (unsigned s = 1; s <= 3; s++) {
		fill_code(&c, 2, s);
		c.state = REC_CODE_UNUSED;
		c.changed = 0;
		if ((r = rec_coderec_put(t, "ops", OPS_BATCH, &c)) != REC_OK)
			return r;
	}
	return REC_OK;
}

/*
 * The store of the ops tests: a new LMDB store, or with REC_TEST_STORE=ldap
 * (testldap.h) the directory store, emptied.
 */
static void
ops_store(struct fx *f)
{
	struct rec_config cfg;
	const char *conf = test_ldap_conf();

	if (conf == NULL)
		store_create(f);
	else
		test_ldap_open(conf, &cfg, &f->st);
}

/* put_ops: through LMDB's transaction, or the interface on the directory. */
static void
ops_put(struct fx *f)
{
	struct rec_user u;
	struct rec_batch b;
	struct rec_code_rec c[3];

	if (test_ldap_conf() == NULL) {
		assert_int_equal(rec_store_write(f->st, put_ops, NULL), REC_OK);
		return;
	}
	memset(&u, 0, sizeof(u));
	u.active_batch = OPS_BATCH;
	u.lock.failures = 2;
	u.lock.last_fail = 50;
	fill_batch(&b, OPS_BATCH);
	b.count = 3;
	b.used = b.invalidated = 0;
	b.verified = 0;
	for (unsigned s = 1; s <= 3; s++) {
		fill_code(&c[s - 1], 2, s);
		c[s - 1].state = REC_CODE_UNUSED;
		c[s - 1].changed = 0;
	}
	assert_int_equal(rec_store_batch_put(f->st, "ops", &b, c, 3), REC_OK);
	assert_int_equal(rec_store_user_put(f->st, "ops", &u, 0, NULL, NULL),
	    REC_OK);
}

/* A lock fn: returns *(int *)arg, adding one failure when it is REC_OK. */
static int
ops_lock(struct rec_lock *lk, unsigned which, const struct rec_view *v,
    void *arg)
{
	(void)which;
	(void)v;
	if (*(int *)arg == REC_OK)
		lk->failures++;
	return *(int *)arg;
}

/* An audit callback: one event naming the outcome and the batch. */
static int
ops_audit(const struct rec_store_done *d, struct rec_event *ev, unsigned max,
    unsigned *n, void *arg)
{
	(void)arg;
	assert_true(max >= 1);
	memset(ev, 0, sizeof(*ev));
	ev->type = REC_EV_UNLOCKED;
	ev->batch = d->batch;
	ev->slot = (uint8_t)d->slot;
	snprintf(ev->user, sizeof(ev->user), "ops");
	snprintf(ev->detail, sizeof(ev->detail), "%d", d->outcome);
	*n = 1;
	return REC_OK;
}

static unsigned
ops_events(struct rec_store *st)
{
	unsigned n = 0;

	assert_int_equal(rec_store_event_each(st, NULL, 0, count_event_cb, &n),
	    REC_OK);
	return n;
}

static void
test_ops_lock_update(void **state)
{
	struct fx *f = *state;
	struct rec_view v;
	struct rec_user out;
	int go = REC_OK, stop = REC_STOP, fail = REC_ERR_IO;

	ops_store(f);
	assert_int_equal(rec_store_view(f->st, "ops", 0, &v), REC_ERR_NOSTORE);
	assert_int_equal(rec_store_lock_update(f->st, "ops", REC_LOCK_LOGIN, 0,
	    ops_lock, &go, NULL, NULL), REC_ERR_NOSTORE);
	ops_put(f);
	/* Both states, one write, and the event with it. */
	assert_int_equal(rec_store_lock_update(f->st, "ops",
	    REC_LOCK_LOGIN | REC_LOCK_GEN, 0, ops_lock, &go, ops_audit, &out),
	    REC_OK);
	assert_int_equal(out.lock.failures, 3);
	assert_int_equal(out.gen.failures, 1);
	assert_int_equal(ops_events(f->st), 1);
	/* REC_STOP and an error write nothing, and audit nothing. */
	assert_int_equal(rec_store_lock_update(f->st, "ops", REC_LOCK_LOGIN, 0,
	    ops_lock, &stop, ops_audit, NULL), REC_OK);
	assert_int_equal(rec_store_lock_update(f->st, "ops", REC_LOCK_LOGIN, 0,
	    ops_lock, &fail, ops_audit, NULL), REC_ERR_IO);
	assert_int_equal(rec_store_view(f->st, "ops", REC_VIEW_CODES, &v),
	    REC_OK);
	assert_int_equal(v.user.lock.failures, 3);
	assert_int_equal(v.user.gen.failures, 1);
	assert_true(v.have_batch);
	assert_int_equal(v.batch.id, OPS_BATCH);
	assert_int_equal(v.ncodes, 3);
	assert_int_equal(ops_events(f->st), 1);
	/* A user without a record gets one only when asked to. */
	assert_int_equal(rec_store_lock_update(f->st, "new", REC_LOCK_GEN,
	    REC_WRITE_CREATE, ops_lock, &go, NULL, &out), REC_OK);
	assert_int_equal(out.gen.failures, 1);
	assert_int_equal(out.active_batch, 0);
	assert_int_equal(rec_store_view(f->st, "new", 0, &v), REC_OK);
	assert_false(v.have_batch);
	/* A lazy write waits for the next synced one, even an empty append. */
	if (test_ldap_conf() != NULL)
		return;		/* the directory writes every change at once */
	assert_int_equal(rec_store_lock_update(f->st, "ops", REC_LOCK_LOGIN,
	    REC_WRITE_LAZY, ops_lock, &go, NULL, NULL), REC_OK);
	assert_int_equal(rec_lmdb_of(f->st)->lazy_pending, 1);
	assert_int_equal(rec_store_event_append(f->st, NULL, 0), REC_OK);
	assert_int_equal(rec_lmdb_of(f->st)->lazy_pending, 0);
	assert_int_equal(ops_events(f->st), 1);
}

static void
test_ops_code_mark(void **state)
{
	struct fx *f = *state;
	struct rec_code_mark m = { "ops", OPS_BATCH, 1, REC_MARK_USED, 77, 0 };
	struct rec_view v;
	unsigned left = 0;
	int outcome = 0;

	ops_store(f);
	ops_put(f);
	assert_int_equal(rec_store_code_mark(f->st, &m, ops_audit, NULL,
	    &outcome, &left), REC_OK);
	assert_int_equal(outcome, REC_OK);
	assert_int_equal(left, 2);
	assert_int_equal(rec_store_view(f->st, "ops", REC_VIEW_CODES, &v),
	    REC_OK);
	assert_int_equal(v.user.lock.failures, 0);	/* cleared */
	assert_int_equal(v.user.last_used, 77);
	assert_int_equal(v.batch.used, 1);
	assert_int_equal(v.codes[0].state, REC_CODE_USED);
	assert_int_equal(v.codes[0].changed, 77);
	/* Once only; the refusal is recorded with its events. */
	assert_int_equal(rec_store_code_mark(f->st, &m, ops_audit, NULL,
	    &outcome, &left), REC_OK);
	assert_int_equal(outcome, REC_ERR_USED);
	assert_int_equal(ops_events(f->st), 2);
	/* Expired, and a used code's refusal comes first. */
	m.expires = 77;
	assert_int_equal(rec_store_code_mark(f->st, &m, NULL, NULL,
	    &outcome, &left), REC_OK);
	assert_int_equal(outcome, REC_ERR_USED);
	m.slot = 2;
	assert_int_equal(rec_store_code_mark(f->st, &m, NULL, NULL,
	    &outcome, &left), REC_OK);
	assert_int_equal(outcome, REC_ERR_EXPIRED);
	/* Verify marks the batch, not the code. */
	m.expires = 0;
	m.slot = 3;
	m.to = REC_MARK_VERIFY;
	assert_int_equal(rec_store_code_mark(f->st, &m, NULL, NULL,
	    &outcome, &left), REC_OK);
	assert_int_equal(outcome, REC_OK);
	assert_int_equal(left, 2);
	assert_int_equal(rec_store_view(f->st, "ops", REC_VIEW_CODES, &v),
	    REC_OK);
	assert_int_equal(v.batch.verified, 77);
	assert_int_equal(v.codes[2].state, REC_CODE_UNUSED);
	/* Not the user's active batch: invalidated. */
	if (test_ldap_conf() != NULL)
		return;		/* the record is rewritten through LMDB */
	m.to = REC_MARK_USED;
	assert_int_equal(ops_drop_active(f), REC_OK);
	assert_int_equal(rec_store_code_mark(f->st, &m, NULL, NULL,
	    &outcome, &left), REC_OK);
	assert_int_equal(outcome, REC_ERR_INVALIDATED);
	/* A batch the user never had contradicts the records. */
	m.batch = OPS_BATCH + 1;
	assert_int_equal(rec_store_code_mark(f->st, &m, NULL, NULL,
	    &outcome, &left), REC_ERR_CORRUPT);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		T(test_open_missing_dir),
		T(test_swap_between_check_and_open),
		T(test_open_no_data_file),
		T(test_create),
		T(test_create_in_existing_dir),
		T(test_unsafe_dir_modes),
		T(test_dir_symlink),
		T(test_regular_file),
		T(test_owner_mismatch),
		T(test_unreadable_dir_says_why),
		T(test_errno_mapping),
		T(test_owner_mismatch_empty_dir),
		T(test_data_symlink),
		T(test_lock_symlink),
		T(test_data_group_writable),
		T(test_data_not_regular),
		T(test_garbage_data),
		T(test_path_too_long),
		T(test_write_read),
		T(test_ops_lock_update),
		T(test_ops_code_mark),
		T(test_lazy_write),
		T(test_reopen_persists),
		T(test_write_error_aborts),
		T(test_read_is_read_only),
		T(test_get_codes),
		T(test_each_batch),
		T(test_each_user),
		T(test_empty_store_walks),
		T(test_long_user_name),
		T(test_audit_sequence),
		T(test_audit_stop),
		T(test_map_growth),
		T(test_map_grown_elsewhere),
	};

	if (sodium_init() < 0)
		return 1;
	if (argc == 3 && strcmp(argv[1], "--grow") == 0)
		return grow_elsewhere(argv[2]);
	self_path = argv[0];
	/*
	 * On the directory (REC_TEST_STORE=ldap, testldap.h): the tests of
	 * the interface's operations; the others are LMDB's own (files,
	 * modes, transactions, the map).
	 */
	if (test_ldap_conf() != NULL) {
		const struct CMUnitTest ops[] = {
			T(test_ops_lock_update),
			T(test_ops_code_mark),
		};

		return cmocka_run_group_tests(ops, NULL, NULL);
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
