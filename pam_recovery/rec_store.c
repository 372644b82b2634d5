/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store.c: the store interface: each operation goes to the handle's backend. */
#include "rec_err.h"
#include "rec_store_be.h"

int
rec_store_writable(const struct rec_store *st)
{
	return st->ops->writable(st);
}

void
rec_store_close(struct rec_store *st)
{
	if (st != NULL)
		st->ops->close(st);
}

const struct rec_log *
rec_store_log(const struct rec_store *st)
{
	return st->log;
}

int
rec_store_view(struct rec_store *st, const char *user, unsigned flags,
    struct rec_view *v)
{
	return st->ops->view(st, user, flags, v);
}

int
rec_store_lock_update(struct rec_store *st, const char *user,
    unsigned which, unsigned flags, rec_store_lock_fn *fn, void *arg,
    rec_store_audit_fn *audit, struct rec_user *out)
{
	return st->ops->lock_update(st, user, which, flags, fn, arg, audit,
	    out);
}

int
rec_store_code_mark(struct rec_store *st, const struct rec_code_mark *m,
    rec_store_audit_fn *audit, void *arg, int *outcome, unsigned *remaining)
{
	return st->ops->code_mark(st, m, audit, arg, outcome, remaining);
}

int
rec_store_event_append(struct rec_store *st, const struct rec_event *ev,
    unsigned n)
{
	return st->ops->event_append(st, ev, n);
}

int
rec_store_batch_stage(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n,
    rec_store_gen_fn *fn, void *arg)
{
	return st->ops->batch_stage(st, user, b, recs, n, fn, arg);
}

int
rec_store_batch_activate(struct rec_store *st, const char *user,
    const struct rec_batch *b, uint64_t now, rec_store_gen_fn *fn,
    void *arg, rec_store_audit_fn *audit, void *aarg)
{
	return st->ops->batch_activate(st, user, b, now, fn, arg, audit, aarg);
}

int
rec_store_batch_discard(struct rec_store *st, const char *user, uint64_t id)
{
	return st->ops->batch_discard(st, user, id);
}

int
rec_store_code_invalidate(struct rec_store *st, const char *user,
    const unsigned *slots, unsigned nslots, uint64_t now,
    rec_store_audit_fn *audit, void *arg)
{
	return st->ops->code_invalidate(st, user, slots, nslots, now, audit,
	    arg);
}

int
rec_store_batch_export_mark(struct rec_store *st, const char *user,
    uint64_t id, uint32_t how, uint64_t now)
{
	return st->ops->batch_export_mark(st, user, id, how, now);
}

int
rec_store_user_each(struct rec_store *st, rec_user_fn *fn, void *arg)
{
	return st->ops->user_each(st, fn, arg);
}

int
rec_store_batch_each(struct rec_store *st, const char *user,
    rec_batch_fn *fn, void *arg)
{
	return st->ops->batch_each(st, user, fn, arg);
}

int
rec_store_event_each(struct rec_store *st, const char *user, uint64_t from,
    rec_event_fn *fn, void *arg)
{
	return st->ops->event_each(st, user, from, fn, arg);
}

int
rec_store_user_forget(struct rec_store *st, const char *user, unsigned flags,
    rec_store_audit_fn *audit, void *arg, uint64_t *removed)
{
	return st->ops->user_forget(st, user, flags, audit, arg, removed);
}

int
rec_store_event_purge(struct rec_store *st, uint64_t after, uint64_t cutoff,
    unsigned max, unsigned flags, unsigned *n, uint64_t *next, int *more)
{
	return st->ops->event_purge(st, after, cutoff, max, flags, n, next,
	    more);
}

int
rec_store_purge_step(struct rec_store *st, const struct rec_purge_walk *w,
    unsigned flags)
{
	return st->ops->purge_step(st, w, flags);
}

int
rec_store_records_each(struct rec_store *st, rec_store_item_fn *ufn,
    rec_store_item_fn *bfn, void *arg)
{
	return st->ops->records_each(st, ufn, bfn, arg);
}

int
rec_store_batch_put(struct rec_store *st, const char *user,
    const struct rec_batch *b, const struct rec_code_rec *recs, unsigned n)
{
	return st->ops->batch_put(st, user, b, recs, n);
}

int
rec_store_user_put(struct rec_store *st, const char *user,
    const struct rec_user *u, unsigned flags, rec_store_audit_fn *audit,
    void *arg)
{
	return st->ops->user_put(st, user, u, flags, audit, arg);
}

int
rec_store_copy(struct rec_store *st, int fd)
{
	if (st->ops->copy == NULL) {
		rec_logf(st->log, LOG_ERR, "a %s store has no copy",
		    st->ops->name);
		return REC_ERR_USAGE;
	}
	return st->ops->copy(st, fd);
}

int
rec_store_probe(struct rec_store *st, unsigned long *free_entries)
{
	*free_entries = 0;
	if (st->ops->probe == NULL)
		return REC_ERR_USAGE;
	return st->ops->probe(st, free_entries);
}
