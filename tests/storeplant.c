/* SPDX-License-Identifier: BSD-2-Clause */
/* storeplant.c: write into a store what the owner of a per-user store could, and the module never would (tests only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_store_lmdb.h"	/* records no operation writes */
#include "rec_err.h"
#include "rec_issue.h"
#include "rec_store.h"

/*
 * usage: storeplant DIR event USER SERVICE RHOST DETAIL
 *        storeplant DIR batch USER
 *        storeplant DIR user USER
 * event appends a code_used event with these fields; batch stores a batch
 * of two codes for USER and invalidates it (dead: purge removes it); user
 * writes a user record whose active batch does not exist (check --deep
 * names it).  The store DIR (created when missing) must belong to the
 * caller.  Any name is accepted: escape sequences, line breaks, another
 * user's.  Exit status 0 on success.
 */

struct plant {
	const char *user, *service, *rhost, *detail;
	uint64_t now;
};

static int
event_txn(struct rec_txn *t, void *arg)
{
	const struct plant *p = arg;
	struct rec_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.time = p->now;
	ev.type = REC_EV_CODE_USED;
	ev.batch = 1;
	ev.slot = 1;
	snprintf(ev.user, sizeof(ev.user), "%s", p->user);
	snprintf(ev.service, sizeof(ev.service), "%s", p->service);
	snprintf(ev.rhost, sizeof(ev.rhost), "%s", p->rhost);
	snprintf(ev.detail, sizeof(ev.detail), "%s", p->detail);
	return rec_event_append(t, &ev);
}

static int
user_txn(struct rec_txn *t, void *arg)
{
	const struct plant *p = arg;
	struct rec_user u;

	memset(&u, 0, sizeof(u));
	u.active_batch = 0x5eed;
	return rec_user_put(t, p->user, &u);
}

static int
batch(struct rec_store *st, const struct rec_config *cfg,
    const struct plant *p)
{
	struct rec_who who = { p->user, "storeplant", NULL, NULL, NULL };
	struct rec_new_batch *nb;
	int r;

	if ((nb = sodium_malloc(sizeof(*nb))) == NULL)
		return REC_ERR_NOMEM;
	r = rec_issue_generate(st, cfg, &who,
	    &(struct rec_issue_req){ .count = 2, .now = p->now,
	    .flags = REC_GEN_REPLACE }, nb, NULL);
	rec_new_batch_wipe(nb);
	sodium_free(nb);
	if (r == REC_OK)
		r = rec_issue_invalidate(st, cfg, &who, NULL, 0, p->now);
	return r;
}

int
main(int argc, char **argv)
{
	struct rec_log log = { NULL, NULL, 0 };
	struct rec_config cfg;
	struct rec_store *st = NULL;
	struct plant p;
	int r = REC_ERR_USAGE;

	if (argc < 4 || sodium_init() < 0) {
		fprintf(stderr, "usage: storeplant DIR event|batch|user USER "
		    "...\n");
		return 2;
	}
	memset(&p, 0, sizeof(p));
	p.user = argv[3];
	p.now = (uint64_t)time(NULL);
	rec_config_defaults(&cfg);
	if (rec_config_set(&cfg, "kdf_opslimit", "1", "storeplant", 0,
	    &log) != REC_OK || rec_config_set(&cfg, "kdf_memlimit", "8K",
	    "storeplant", 0, &log) != REC_OK)
		goto out;
	if ((r = rec_store_open(argv[1], getuid(), REC_STORE_CREATE, &log,
	    &st)) != REC_OK)
		goto out;
	if (strcmp(argv[2], "event") == 0 && argc == 7) {
		p.service = argv[4];
		p.rhost = argv[5];
		p.detail = argv[6];
		r = rec_store_write(st, event_txn, &p);
	} else if (strcmp(argv[2], "batch") == 0 && argc == 4)
		r = batch(st, &cfg, &p);
	else if (strcmp(argv[2], "user") == 0 && argc == 4)
		r = rec_store_write(st, user_txn, &p);
	else
		r = REC_ERR_USAGE;
out:
	rec_store_close(st);
	if (r != REC_OK)
		fprintf(stderr, "storeplant: %s\n", rec_strerror(r));
	return r == REC_OK ? 0 : 1;
}
