/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_access.c: reading, writing and walking the records of a store. */
#include <string.h>

#include "rec_be.h"
#include "rec_err.h"
#include "rec_store_lmdb_int.h"

#define KEY_MAX		(REC_USER_MAX + 1 + 8 + 1)

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
	return rec_be_get64((const uint8_t *)k->mv_data + userlen + 1);
}

static int
get_raw(struct rec_txn *t, int db, const uint8_t *key, size_t klen, MDB_val *v)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	if (klen == 0)
		return REC_ERR_USAGE;
	rc = mdb_get(t->txn, t->st->dbi[db], &k, v);
	return rec_mdb_error(t->st, rec_db_names[db], rc);
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
	if (rc == MDB_SUCCESS)
		t->dirty = 1;
	return rec_mdb_error(t->st, rec_db_names[db], rc);
}

static int
corrupt(struct rec_txn *t, const char *what, const char *user)
{
	rec_logf(t->st->log, LOG_ERR, "store %s: corrupt %s record of user %s",
	    t->st->path, what, user);
	return REC_ERR_CORRUPT;
}

int
rec_user_get(struct rec_txn *t, const char *user, struct rec_user *u)
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
rec_user_put(struct rec_txn *t, const char *user, const struct rec_user *u)
{
	uint8_t key[KEY_MAX], buf[REC_RECORD_BUF];

	return put_raw(t, DB_USERS, key, make_key(key, user, NULL, NULL), buf,
	    rec_user_encode(u, buf));
}

int
rec_batch_get(struct rec_txn *t, const char *user, uint64_t id,
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
rec_batch_get_active(struct rec_txn *t, const char *user, struct rec_user *u,
    struct rec_batch *b)
{
	int r;

	if ((r = rec_user_get(t, user, u)) == REC_ERR_NOTFOUND ||
	    (r == REC_OK && u->active_batch == 0))
		return REC_ERR_NOSTORE;
	if (r != REC_OK)
		return r;
	if ((r = rec_batch_get(t, user, u->active_batch,
	    b)) == REC_ERR_NOTFOUND)
		return REC_ERR_CORRUPT;
	return r;
}

int
rec_batch_put(struct rec_txn *t, const char *user, const struct rec_batch *b)
{
	uint8_t key[KEY_MAX], buf[REC_RECORD_BUF];

	return put_raw(t, DB_BATCHES, key, make_key(key, user, &b->id, NULL),
	    buf, rec_batch_encode(b, buf));
}

int
rec_coderec_get(struct rec_txn *t, const char *user, uint64_t batch,
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
rec_coderec_put(struct rec_txn *t, const char *user, uint64_t batch,
    const struct rec_code_rec *c)
{
	uint8_t key[KEY_MAX], buf[REC_RECORD_BUF];
	unsigned slot = c->slot;

	return put_raw(t, DB_CODES, key, make_key(key, user, &batch, &slot),
	    buf, rec_coderec_encode(c, buf));
}

/*
 * Walk db in key order from the first key >= from (all of db when flen is
 * 0) while keys begin with prefix (plen bytes; 0 = no bound), calling
 * visit for each record.  visit returns REC_OK to go on, REC_STOP to stop
 * there (the walk then returns REC_OK), or an error that stops the walk.
 * Nothing may be written to db while it is walked: callers collect first.
 */
typedef int walk_fn(struct rec_txn *t, const MDB_val *k, const MDB_val *v,
    void *arg);

static int
walk(struct rec_txn *t, int db, const uint8_t *from, size_t flen,
    const uint8_t *prefix, size_t plen, walk_fn *visit, void *arg)
{
	MDB_cursor *cur = NULL;
	MDB_val k = { flen, (void *)from }, v;
	int rc, r = REC_ERR_INTERNAL;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[db], &cur)) !=
	    MDB_SUCCESS) {
		r = rec_mdb_error(t->st, rec_db_names[db], rc);
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, flen != 0 ? MDB_SET_RANGE : MDB_FIRST);
	for (; rc == MDB_SUCCESS; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (plen != 0 && (k.mv_size < plen ||
		    memcmp(k.mv_data, prefix, plen) != 0))
			break;
		if ((r = visit(t, &k, &v, arg)) == REC_STOP)
			break;
		if (r != REC_OK)
			goto out;
	}
	if (rc != MDB_SUCCESS && rc != MDB_NOTFOUND) {
		r = rec_mdb_error(t->st, rec_db_names[db], rc);
		goto out;
	}
	r = REC_OK;
out:
	mdb_cursor_close(cur);
	return r;
}

/*
 * Split a batch or code key into its user (copied to name), batch id and,
 * for a code key (slotted), slot.  REC_ERR_CORRUPT for a malformed key.
 */
static int
split_key(struct rec_txn *t, const MDB_val *k, int slotted, char *name,
    uint64_t *batch, unsigned *slot)
{
	const uint8_t *p = k->mv_data, *nul = memchr(p, '\0', k->mv_size);
	size_t ulen = nul != NULL ? (size_t)(nul - p) : 0;

	if (nul == NULL || ulen == 0 || ulen >= REC_USER_MAX ||
	    k->mv_size != ulen + 9 + (slotted ? 1 : 0))
		return corrupt(t, slotted ? "code key" : "batch key", "?");
	memcpy(name, p, ulen);
	name[ulen] = '\0';
	*batch = key_batch(k, ulen);
	if (slot != NULL)
		*slot = slotted ? p[ulen + 9] : 0;
	return REC_OK;
}

struct codes_arg {
	const char *user;
	struct rec_code_rec *codes;
	unsigned max, *n;
};

static int
collect_code(struct rec_txn *t, const MDB_val *k, const MDB_val *v, void *varg)
{
	struct codes_arg *a = varg;
	struct rec_code_rec *c = &a->codes[*a->n];

	if (*a->n >= a->max)
		return corrupt(t, "code count", a->user);
	if (k->mv_size == 0 || rec_coderec_decode(v->mv_data, v->mv_size, c) !=
	    REC_OK || c->slot != ((const uint8_t *)k->mv_data)[k->mv_size - 1])
		return corrupt(t, "code", a->user);
	(*a->n)++;
	return REC_OK;
}

int
rec_coderec_get_all(struct rec_txn *t, const char *user, uint64_t batch,
    struct rec_code_rec *codes, unsigned max, unsigned *n)
{
	uint8_t key[KEY_MAX];
	size_t plen = make_key(key, user, &batch, NULL);
	struct codes_arg a = { user, codes, max, n };

	*n = 0;
	if (plen == 0)
		return REC_ERR_USAGE;
	return walk(t, DB_CODES, key, plen, key, plen, collect_code, &a);
}

struct batch_arg {
	rec_batch_fn *fn;
	void *arg;
	const uint8_t *after;	/* skip keys up to and including this one */
	size_t alen;
};

static int
visit_batch(struct rec_txn *t, const MDB_val *k, const MDB_val *v, void *varg)
{
	struct batch_arg *a = varg;
	char name[REC_USER_MAX];
	struct rec_batch b;
	uint64_t id;
	int r;

	if (a->after != NULL && k->mv_size == a->alen &&
	    memcmp(k->mv_data, a->after, a->alen) == 0)
		return REC_OK;
	if ((r = split_key(t, k, 0, name, &id, NULL)) != REC_OK)
		return r;
	if (rec_batch_decode(v->mv_data, v->mv_size, &b) != REC_OK ||
	    b.id != id)
		return corrupt(t, "batch", name);
	return a->fn(name, &b, a->arg);
}

int
rec_batch_each(struct rec_txn *t, const char *user, rec_batch_fn *fn, void *arg)
{
	uint8_t key[KEY_MAX];
	size_t plen = 0;
	struct batch_arg a = { fn, arg, NULL, 0 };

	if (user != NULL) {
		if ((plen = make_key(key, user, NULL, NULL)) == 0)
			return REC_ERR_USAGE;
		key[plen++] = '\0';
	}
	return walk(t, DB_BATCHES, key, plen, key, plen, visit_batch, &a);
}

int
rec_batch_scan(struct rec_txn *t, const char *after_user, uint64_t after_id,
    rec_batch_fn *fn, void *arg)
{
	uint8_t key[KEY_MAX];
	size_t klen = 0;
	struct batch_arg a = { fn, arg, NULL, 0 };

	if (after_user != NULL && *after_user != '\0') {
		if ((klen = make_key(key, after_user, &after_id, NULL)) == 0)
			return REC_ERR_USAGE;
		a.after = key;
		a.alen = klen;
	}
	return walk(t, DB_BATCHES, key, klen, NULL, 0, visit_batch, &a);
}

struct user_arg {
	rec_user_fn *fn;
	void *arg;
};

static int
visit_user(struct rec_txn *t, const MDB_val *k, const MDB_val *v, void *varg)
{
	struct user_arg *a = varg;
	char name[REC_USER_MAX];
	struct rec_user u;

	if (k->mv_size == 0 || k->mv_size >= REC_USER_MAX)
		return corrupt(t, "user key", "?");
	memcpy(name, k->mv_data, k->mv_size);
	name[k->mv_size] = '\0';
	if (rec_user_decode(v->mv_data, v->mv_size, &u) != REC_OK)
		return corrupt(t, "user", name);
	return a->fn(name, &u, a->arg);
}

int
rec_user_each(struct rec_txn *t, rec_user_fn *fn, void *arg)
{
	struct user_arg a = { fn, arg };

	return walk(t, DB_USERS, NULL, 0, NULL, 0, visit_user, &a);
}

static int
del_raw(struct rec_txn *t, int db, const uint8_t *key, size_t klen)
{
	MDB_val k = { klen, (void *)key };
	int rc;

	if (klen == 0)
		return REC_ERR_USAGE;
	if ((rc = mdb_del(t->txn, t->st->dbi[db], &k, NULL)) == MDB_SUCCESS)
		t->dirty = 1;
	return rec_mdb_error(t->st, rec_db_names[db], rc);
}

int
rec_coderec_del(struct rec_txn *t, const char *user, uint64_t batch,
    unsigned slot)
{
	uint8_t key[KEY_MAX];

	return del_raw(t, DB_CODES, key, make_key(key, user, &batch, &slot));
}

int
rec_batch_del(struct rec_txn *t, const char *user, uint64_t id)
{
	uint8_t key[KEY_MAX];

	return del_raw(t, DB_BATCHES, key, make_key(key, user, &id, NULL));
}

int
rec_user_del(struct rec_txn *t, const char *user)
{
	uint8_t key[KEY_MAX];

	return del_raw(t, DB_USERS, key, make_key(key, user, NULL, NULL));
}

static void
seq_key(uint8_t key[8], uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		key[i] = (uint8_t)(seq >> (56 - 8 * i));
}

static uint64_t
key_seq(const MDB_val *k)
{
	return rec_be_get64(k->mv_data);
}

int
rec_event_append(struct rec_txn *t, const struct rec_event *ev)
{
	uint8_t key[8], buf[REC_RECORD_BUF];
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	uint64_t seq = 1;
	int rc, r = REC_ERR_INTERNAL;

	if ((rc = mdb_cursor_open(t->txn, t->st->dbi[DB_AUDIT], &cur)) !=
	    MDB_SUCCESS) {
		r = rec_mdb_error(t->st, "audit", rc);
		goto out;
	}
	rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	if (rc == MDB_SUCCESS && k.mv_size == 8)
		seq = key_seq(&k) + 1;
	else if (rc != MDB_NOTFOUND) {
		r = rc == MDB_SUCCESS ? corrupt(t, "audit key", ev->user) :
		    rec_mdb_error(t->st, "audit", rc);
		goto out;
	}
	seq_key(key, seq);
	r = put_raw(t, DB_AUDIT, key, sizeof(key), buf,
	    rec_event_encode(ev, buf));
out:
	mdb_cursor_close(cur);
	return r;
}

struct event_arg {
	rec_event_fn *fn;
	void *arg;
};

static int
visit_event(struct rec_txn *t, const MDB_val *k, const MDB_val *v, void *varg)
{
	struct event_arg *a = varg;
	struct rec_event ev;

	if (k->mv_size != 8 ||
	    rec_event_decode(v->mv_data, v->mv_size, &ev) != REC_OK)
		return corrupt(t, "audit", "?");
	return a->fn(key_seq(k), &ev, a->arg);
}

int
rec_event_each(struct rec_txn *t, rec_event_fn *fn, void *arg)
{
	return rec_event_scan(t, 0, fn, arg);
}

int
rec_event_scan(struct rec_txn *t, uint64_t from, rec_event_fn *fn, void *arg)
{
	uint8_t key[8];
	struct event_arg a = { fn, arg };

	seq_key(key, from);
	return walk(t, DB_AUDIT, key, from != 0 ? sizeof(key) : 0, NULL, 0,
	    visit_event, &a);
}

int
rec_event_del(struct rec_txn *t, uint64_t seq)
{
	uint8_t key[8];

	seq_key(key, seq);
	return del_raw(t, DB_AUDIT, key, sizeof(key));
}
