/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_store_ldap_admin.c: the directory backend: the administrator's walks and deletions. */
#include <string.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_store_ldap_int.h"

#define FORGET_EVENTS 4		/* events a forget may record */

/*
 * The walks read over s->rd (ldap_uri: a replica may serve them); forget
 * and purge read what they decide on, and change it, over the writer.  No
 * walk is one consistent view: the directory has no multi-entry read
 * transaction, so each user's entries are read as they are when the walk
 * comes to them.
 */

int
sldap_user_each(struct rec_store *st, rec_user_fn *fn, void *arg)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap_users us;
	int r;

	if ((r = rec_ldap_users_read(s->rd, &us)) != REC_OK)
		return r;
	/* A forgotten user's holder is not a user record (LMDB: none). */
	for (size_t i = 0; i < us.n && r == REC_OK; i++)
		if (!us.v[i].holder)
			r = fn(us.v[i].name, &us.v[i].u, arg);
	rec_ldap_users_free(&us);
	return r == REC_STOP ? REC_OK : r;
}

struct batches {
	const struct rec_log *log;
	rec_batch_fn *fn;
	void *arg;
};

/* Codes that do not parse: the batch's counts cannot be trusted. */
static int
codes_bad(const struct rec_log *log, const struct rec_store_item *it)
{
	rec_logf(log, LOG_ERR, "directory store: the codes of batch %llu of "
	    "user %s do not parse", (unsigned long long)it->b->id, it->user);
	return it->codes_rc;
}

static int
one_batch(const struct rec_store_item *it, void *arg)
{
	const struct batches *a = arg;

	if (it->codes_rc != REC_OK)
		return codes_bad(a->log, it);
	return a->fn(it->user, it->b, a->arg);
}

int
sldap_batch_each(struct rec_store *st, const char *user, rec_batch_fn *fn,
    void *arg)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct batches a = { st->log, fn, arg };
	int r;

	/* Every user's: in the directory's order (rec_store.h allows it). */
	if (user == NULL)
		return rec_ldap_batches_each(s->rd, fn, arg);
	r = rec_ldap_user_records(s->rd, user, NULL, one_batch, &a);
	return r == REC_STOP ? REC_OK : r;
}

int
sldap_event_each(struct rec_store *st, const char *user, uint64_t from,
    rec_event_fn *fn, void *arg)
{
	return rec_ldap_events_each(rec_sldap_of(st)->rd, user, from, fn, arg);
}

int
sldap_user_forget(struct rec_store *st, const char *user, unsigned flags,
    rec_store_audit_fn *audit, void *arg, uint64_t *removed)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_event ev[FORGET_EVENTS];
	struct rec_store_done d;
	struct rec_ldap *c;
	unsigned n = 0;
	int r;

	*removed = 0;
	if (flags & REC_WRITE_DRY)
		return rec_ldap_forget(s->rd, user, 1, removed);
	if ((r = rec_sldap_writer(s, "forget", &c)) != REC_OK ||
	    (r = rec_ldap_forget(c, user, 0, removed)) != REC_OK ||
	    *removed == 0)
		return r;
	/*
	 * The events go below the user's entry, which forget kept as their
	 * holder; after the deletes, not with them (no transaction spans
	 * entries): a forget that stops before its event is recorded has
	 * still removed what it removed, and a second run finds nothing.
	 */
	memset(&d, 0, sizeof(d));
	d.changed = (unsigned)(*removed > ~0u ? ~0u : *removed);
	if (audit != NULL && (r = audit(&d, ev, FORGET_EVENTS, &n, arg)) !=
	    REC_OK)
		goto out;
	for (unsigned i = 0; i < n; i++)
		if ((r = rec_ldap_audit(c, &ev[i], s->cfg.host_name)) !=
		    REC_OK)
			goto out;
	/* Nothing recorded (audit = no): an empty holder need not stay. */
	r = n == 0 ? rec_ldap_holder_drop(c, user) : REC_OK;
out:
	sodium_memzero(ev, sizeof(ev));
	return r;
}

int
sldap_event_purge(struct rec_store *st, uint64_t after, uint64_t cutoff,
    unsigned max, unsigned flags, unsigned *n, uint64_t *next, int *more)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap *c = s->rd;
	int r;

	*n = 0;
	*next = after;
	*more = 0;
	if (!(flags & REC_WRITE_DRY) &&
	    (r = rec_sldap_writer(s, "audit purge", &c)) != REC_OK)
		return r;
	/*
	 * Events have no sequence number here, and each step deletes what a
	 * filter on their time finds: those it deleted are gone, so the
	 * next step starts from the first again.  The cursor only counts
	 * (after + n), which moves while anything is deleted and stops the
	 * caller's loop (rec_purge_audit) once a step deletes nothing.
	 */
	r = rec_ldap_events_purge(c, cutoff, max, (flags & REC_WRITE_DRY) != 0,
	    n, more);
	*next = after + *n;
	return r;
}

/* A purge step's walk: resume after (after_user, after_id). */
struct step {
	const struct rec_log *log;
	const struct rec_purge_walk *w;
	const char *user;	/* the user being walked */
	int resume;		/* it is after_user: skip to after_id */
};

static int
step_batch(const struct rec_store_item *it, void *arg)
{
	const struct step *p = arg;
	const struct rec_batch *b = it->b;

	if (p->resume && b->id <= p->w->after_id)
		return REC_OK;
	if (it->codes_rc != REC_OK)
		return codes_bad(p->log, it);	/* never purge it */
	return p->w->batch(it->user, b, it->codes, b->status ==
	    REC_BATCH_PURGED ? 0 : it->ncodes, p->w->arg);
}

/* Do the planned jobs, the codes of one batch in one Modify. */
static int
step_jobs(struct rec_ldap *c, const struct rec_purge_walk *w)
{
	unsigned slots[REC_COUNT_MAX], ns, i = 0, nj = *w->njobs;
	const struct rec_purge_job *j;
	int r = REC_OK;

	while (i < nj && r == REC_OK) {
		j = &w->jobs[i];
		if (j->kind == REC_PURGE_CODE) {
			ns = 0;
			while (i < nj && ns < REC_COUNT_MAX &&
			    w->jobs[i].kind == REC_PURGE_CODE &&
			    w->jobs[i].batch == j->batch &&
			    strcmp(w->jobs[i].user, j->user) == 0)
				slots[ns++] = w->jobs[i++].slot;
			r = rec_ldap_purge_codes(c, j->user, j->batch, slots,
			    ns);
			continue;
		}
		if (j->kind == REC_PURGE_MARK)
			r = rec_ldap_purge_mark(c, j->user, j->batch, w->now);
		else
			r = rec_ldap_purge_delete(c, j->user, j->batch);
		i++;
	}
	return r;
}

int
sldap_purge_step(struct rec_store *st, const struct rec_purge_walk *w,
    unsigned flags)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap *c = s->rd;
	struct rec_ldap_users us;
	struct step p = { st->log, w, NULL, 0 };
	const char *after = w->after_user != NULL ? w->after_user : "";
	int r;

	memset(&us, 0, sizeof(us));
	if (!(flags & REC_WRITE_DRY) &&
	    (r = rec_sldap_writer(s, "purge", &c)) != REC_OK)
		return r;
	/*
	 * Users in name order, each user's batches in id order: the key
	 * order of the LMDB store, so the cursor means the same.  Each step
	 * lists the names of the batches' users again to find its place (one
	 * paged search of the batches' DNs).
	 */
	if ((r = rec_ldap_batch_owners(c, &us)) != REC_OK)
		goto out;
	w->begin(w->arg);
	for (size_t i = after[0] != '\0' ? rec_ldap_users_from(&us, after) : 0;
	    i < us.n; i++) {
		p.user = us.v[i].name;
		p.resume = strcmp(p.user, after) == 0;
		if ((r = rec_ldap_user_records(c, p.user, NULL, step_batch,
		    &p)) != REC_OK)
			break;
	}
	if (r == REC_STOP)
		r = REC_OK;
	if (r != REC_OK || (flags & REC_WRITE_DRY))
		goto out;
	r = step_jobs(c, w);
out:
	rec_ldap_users_free(&us);
	return r;
}

int
sldap_records_each(struct rec_store *st, rec_store_item_fn *ufn,
    rec_store_item_fn *bfn, void *arg)
{
	struct rec_store_ldap *s = rec_sldap_of(st);
	struct rec_ldap_users us;
	int r;

	/*
	 * User by user (rec_store.h allows it): the user's record, then its
	 * batches; a holder's batches (a forget that stopped half-way) come
	 * without a user record.
	 */
	if ((r = rec_ldap_users_read(s->rd, &us)) != REC_OK ||
	    (r = rec_ldap_users_batches(s->rd, &us)) != REC_OK)
		goto out;
	for (size_t i = 0; i < us.n && r == REC_OK; i++) {
		struct rec_store_item it = { us.v[i].name, &us.v[i].u, NULL,
		    NULL, 0, REC_OK, REC_ERR_NOTFOUND };

		/* Without batches: the record as listed, no search below. */
		if (us.v[i].batches)
			r = rec_ldap_user_records(s->rd, us.v[i].name, ufn, bfn,
			    arg);
		else if (!us.v[i].holder && ufn != NULL)
			r = ufn(&it, arg);
	}
out:
	rec_ldap_users_free(&us);
	return r == REC_STOP ? REC_OK : r;
}
