/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_store.c: item 3, logins in a system store filled with many users. */
#include <sys/mman.h>
#include <sys/wait.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_store_lmdb.h"	/* the LMDB store filled directly */
#include "rec_err.h"

#include "bench.h"

#define MAX_HASHERS	64	/* hashing processes of the fill */

/* A chunk of filled users, in memory shared with the hashing processes. */
struct fill_shared {
	struct rec_batch batches[FILL_CHUNK];
	struct rec_code_rec codes[FILL_CHUNK * FILL_CODES];
};

/*
 * Batches of users [from, to) of the chunk, whose codes are real codes
 * hashed at a tiny cost that each batch records: a legitimate store, cheap
 * to build.  Returns REC_OK or the error of rec_kdf_hash.
 */
static int
fill_hash(const struct rec_format *fmt, struct fill_shared *sh, unsigned from,
    unsigned to, uint64_t now)
{
	char code[REC_CODE_MAX + 1];
	unsigned bits = rec_format_tag_bits(fmt);
	int r = REC_ERR_INTERNAL;

	for (unsigned u = from; u < to; u++) {
		struct rec_batch *bt = &sh->batches[u];

		memset(bt, 0, sizeof(*bt));
		bt->id = now << 24 | randombytes_uniform(1u << 24);
		bt->status = REC_BATCH_ACTIVE;
		bt->created = bt->modified = now;
		bt->count = FILL_CODES;
		bt->opslimit = TINY_OPS;
		bt->memlimit = TINY_MEM;
		bt->tag_bits = (uint8_t)bits;
		randombytes_buf(bt->tag_key, sizeof(bt->tag_key));
		bt->fmt = *fmt;
		for (unsigned k = 0; k < FILL_CODES; k++) {
			struct rec_code_rec *c = &sh->codes[u * FILL_CODES + k];

			memset(c, 0, sizeof(*c));
			c->slot = (uint8_t)(k + 1);
			c->state = REC_CODE_UNUSED;
			rec_code_generate(fmt, code);
			randombytes_buf(c->salt, sizeof(c->salt));
			c->tag = rec_kdf_tag(code, NULL, bt->tag_key, bits);
			if ((r = rec_kdf_hash(code, NULL, c->salt, TINY_OPS,
			    TINY_MEM, c->hash)) != REC_OK)
				goto out;
		}
	}
	r = REC_OK;
out:
	sodium_memzero(code, sizeof(code));
	return r;
}

/*
 * Hash the n users of a chunk in one process per core.  Processes, not
 * threads: libsodium maps the memory of every argon2id evaluation afresh,
 * and threads of one process serialise on its address space (measured:
 * two threads were slower than one).
 */
static int
fill_chunk_hash(const struct bench *b, struct fill_shared *sh, unsigned n,
    uint64_t now)
{
	pid_t pids[MAX_HASHERS];
	unsigned np = b->cores > MAX_HASHERS ? MAX_HASHERS : (unsigned)b->cores;
	unsigned started = 0;
	int status, ret = 0;

	fflush(NULL);
	for (unsigned i = 0; i < np; i++) {
		pid_t pid = fork();

		if (pid == -1) {
			fprintf(stderr, "bench: fork: %s\n", strerror(errno));
			ret = -1;
			break;
		}
		if (pid == 0)
			_exit(fill_hash(&b->fmt, sh, n * i / np, n * (i + 1) / np,
			    now) == REC_OK ? 0 : 1);
		pids[started++] = pid;
	}
	for (unsigned i = 0; i < started; i++)
		if (waitpid(pids[i], &status, 0) == -1 || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ret = -1;
	return ret;
}

/* One write transaction of the fill. */
struct fill_chunk {
	unsigned first, n;
	const struct fill_shared *sh;
	uint64_t now;
};

static int
fill_txn(struct rec_txn *t, void *arg)
{
	const struct fill_chunk *c = arg;
	const struct rec_batch *bt;
	struct rec_user u;
	char name[32];
	int r = REC_ERR_INTERNAL;

	for (unsigned i = 0; i < c->n; i++) {
		bt = &c->sh->batches[i];
		snprintf(name, sizeof(name), "user%07u", c->first + i);
		memset(&u, 0, sizeof(u));
		u.active_batch = bt->id;
		u.last_generated = c->now;
		if ((r = rec_batch_put(t, name, bt)) != REC_OK)
			return r;
		for (unsigned k = 0; k < FILL_CODES; k++)
			if ((r = rec_coderec_put(t, name, bt->id,
			    &c->sh->codes[i * FILL_CODES + k])) != REC_OK)
				return r;
		if ((r = rec_user_put(t, name, &u)) != REC_OK)
			return r;
	}
	return REC_OK;
}

/*
 * 3. Fill the system store with users [from, to) of FILL_CODES codes each,
 * through the core store API, FILL_CHUNK users per write transaction.
 * *ms receives the time taken.  The store is open only while a chunk is
 * written, so that no hashing process inherits an open environment.
 */
static int
fill(struct bench *b, unsigned from, unsigned to, double *ms)
{
	struct rec_store *st = NULL;
	struct fill_shared *sh = MAP_FAILED;
	uint64_t now = (uint64_t)time(NULL);
	double t0 = now_ms();
	int r = REC_ERR_INTERNAL, ret = -1;

	if ((sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0)) == MAP_FAILED) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	for (unsigned first = from; first < to; first += FILL_CHUNK) {
		struct fill_chunk c = { first, to - first, sh, now };

		if (c.n > FILL_CHUNK)
			c.n = FILL_CHUNK;
		if (fill_chunk_hash(b, sh, c.n, now) != 0) {
			r = REC_ERR_INTERNAL;
			goto out;
		}
		if ((r = rec_store_open(b->sys_store, geteuid(),
		    REC_STORE_CREATE, &b->log, &st)) != REC_OK ||
		    (r = rec_store_write(st, fill_txn, &c)) != REC_OK)
			goto out;
		rec_store_close(st);
		st = NULL;
	}
	/* Leave no writeback of the fill to slow the logins measured next. */
	sync();
	*ms = now_ms() - t0;
	ret = 0;
out:
	if (ret != 0)
		fprintf(stderr, "bench: filling %s: %s\n", b->sys_store,
		    rec_strerror(r));
	rec_store_close(st);
	if (sh != MAP_FAILED)
		munmap(sh, sizeof(*sh));
	return ret;
}

/*
 * 3. The system store filled to a hundredth, a tenth and all of b->users,
 * with the logins of SYS_USER measured at each size.
 */
int
system_store(struct bench *b)
{
	unsigned marks[3] = { b->users / 100, b->users / 10, b->users };
	unsigned filled = 0;
	double ms, fill_ms = 0;
	char what[128];

	printf(" 3 logins, system store %s (user " SYS_USER "), filled with "
	    "users of %d codes\n   at opslimit %d, memlimit %d\n",
	    b->sys_store, FILL_CODES, TINY_OPS, TINY_MEM);
	for (unsigned i = 0; i < 3; i++) {
		if (i < 2 && (marks[i] == 0 || marks[i] == marks[i + 1]))
			continue;
		if (fill(b, filled, marks[i], &ms) != 0)
			return -1;
		fill_ms += ms;
		filled = marks[i];
		snprintf(what, sizeof(what), "login, system store, %u users",
		    filled);
		if (latency(b, SVC_SYSTEM, b->sys_store, geteuid(), &b->scfg,
		    SYS_USER, 10, what, "users", filled, 0) != 0)
			return -1;
		b->sys_ok = b->last_ok;	/* for item 11's side by side */
		b->sys_floor = b->last_floor;
		b->sys_users = filled;
	}
	printf("   (filled in %.1f s, %.0f users/s)\n", fill_ms / 1e3,
	    fill_ms > 0 ? b->users / (fill_ms / 1e3) : 0.0);
	return 0;
}
