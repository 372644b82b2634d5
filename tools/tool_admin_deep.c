/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_deep.c: check --deep: the printing of what rec_deep_check finds. */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_check.h"
#include "rec_deep.h"
#include "rec_err.h"

/* The printing of one deep check: the first DEEP_SHOWN findings. */
struct shown {
	struct report *rp;
	const char *what;
	unsigned long n;
};

/* One finding: a FAIL line naming user, batch (0: none) and slot (0: none). */
static void
violation(const struct rec_finding *f, void *arg)
{
	struct shown *sh = arg;
	struct where w = { f->user, f->batch, f->slot, NULL };
	char id[32], at[REC_USER_MAX + 64];

	if (++sh->n > DEEP_SHOWN)
		return;
	if (f->batch == 0)
		snprintf(at, sizeof(at), "user %s", f->user);
	else if (f->slot == 0)
		snprintf(at, sizeof(at), "user %s, batch %s", f->user,
		    tool_batch_id(f->batch, id, sizeof(id)));
	else
		snprintf(at, sizeof(at), "user %s, batch %s, slot %u", f->user,
		    tool_batch_id(f->batch, id, sizeof(id)), f->slot);
	admin_check_item(sh->rp, FAIL, sh->what, &w, "%s: %s", at, f->text);
}

/*
 * What a login needs besides the records: LMDB's free-page database, read
 * whole, and a write transaction (aborted); nothing for a directory.  A damaged free-page tree
 * fails every login while the records all read back fine.
 */
static void
deep_probe(struct report *rp, struct rec_store *st, const char *path)
{
	char what[REC_PATH_MAX + 32];
	unsigned long n = 0;
	int r;

	snprintf(what, sizeof(what), "%s (deep, free pages)", path);
	rp->captured[0] = '\0';
	r = rec_store_probe(st, &n);
	/*
	 * A backend without such a probe: the directory's database is its
	 * server's, and the writes of a login were probed with its ACLs.
	 */
	if (r == REC_ERR_USAGE)
		return;
	rp->deep_violations += r != REC_OK;
	if (r != REC_OK)
		admin_check_item(rp, FAIL, what, NULL, "a login's write would "
		    "fail: %s%s%s", rec_strerror(r), rp->captured[0] != '\0' ?
		    ": " : "", rp->captured);
	else
		admin_check_item(rp, OK, what, NULL, "%lu free-page entr%s "
		    "read; a write transaction works (aborted, nothing written)",
		    n, n == 1 ? "y" : "ies");
}

void
admin_check_deep(struct report *rp, struct rec_store *st, const char *path,
    const char *owner)
{
	struct rec_deep_counts c;
	char what[REC_PATH_MAX + 16];
	struct shown sh = { rp, what, 0 };
	struct where w = { NULL, 0, 0, NULL };
	unsigned long n[4];	/* users, batches, codes, violations */
	int r;

	snprintf(what, sizeof(what), "%s (deep)", path);
	rp->captured[0] = '\0';
	r = rec_deep_check(st, owner, (uint64_t)time(NULL), violation, &sh,
	    &c);
	n[0] = c.users;
	n[1] = c.batches;
	n[2] = c.codes;
	n[3] = c.findings;
	rp->deep_stores++;
	rp->deep_violations += n[3] + (r != REC_OK);
	w.summary = n;
	if (r != REC_OK)
		admin_check_item(rp, FAIL, what, &w, "stopped after %lu users and "
		    "%lu batches: %s", n[0], n[1], rp->captured[0] !=
		    '\0' ? rp->captured : rec_strerror(r));
	else if (n[3] > DEEP_SHOWN)
		admin_check_item(rp, FAIL, what, &w, "%lu users, %lu batches, %lu "
		    "code records: %lu violations (the first %d shown)",
		    n[0], n[1], n[2], n[3], DEEP_SHOWN);
	else if (n[3] > 0)
		admin_check_item(rp, FAIL, what, &w, "%lu users, %lu batches, %lu "
		    "code records: %lu violation%s", n[0], n[1],
		    n[2], n[3], n[3] == 1 ? "" : "s");
	else
		admin_check_item(rp, OK, what, &w, "%lu users, %lu batches, %lu "
		    "code records: the counters match the codes, every active "
		    "batch is its user's", n[0], n[1], n[2]);
	deep_probe(rp, st, path);
}
