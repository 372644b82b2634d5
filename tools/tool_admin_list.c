/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_list.c: the list command: every user with codes, one line each. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "admin_common.h"
#include "rec_err.h"

struct listing {
	int json;
	struct tool_json j;	/* with json: the array of rows */
	unsigned rows;
	uint64_t now;
};

static void
row(struct listing *l, const char *user, const struct rec_status *s)
{
	char id[20], t1[32], t2[32], t3[32], left[16];
	char name[TOOL_VIS_LEN(REC_USER_MAX)];
	uint64_t until = s->lock_remaining ? l->now + s->lock_remaining : 0;

	if (l->json) {
		tool_json_object_begin(&l->j);
		tool_json_member_string(&l->j, "user", user);
		tool_json_member_bool(&l->j, "enrolled", s->enrolled);
		tool_json_key(&l->j, "batch");
		if (s->enrolled)
			tool_json_string(&l->j, tool_batch_id(s->batch, id,
			    sizeof(id)));
		else
			tool_json_null(&l->j);
		tool_json_member_uint(&l->j, "count", s->count);
		tool_json_member_uint(&l->j, "remaining", s->remaining);
		tool_json_member_uint(&l->j, "created", s->created);
		tool_json_member_uint(&l->j, "expires", s->expires);
		tool_json_member_bool(&l->j, "expired", s->expired);
		tool_json_member_uint(&l->j, "last_used", s->last_used);
		tool_json_member_uint(&l->j, "failures", s->failures);
		tool_json_member_uint(&l->j, "locked_until", until);
		tool_json_object_end(&l->j);
	} else {
		if (l->rows == 0)
			printf("%-16s %-9s %-20s %-20s %s\n", "USER", "LEFT",
			    "EXPIRES", "LAST USED", "LOCKED UNTIL");
		if (s->enrolled)
			snprintf(left, sizeof(left), "%u/%u%s", s->remaining,
			    s->count, s->expired ? "!" : "");
		else
			snprintf(left, sizeof(left), "none");
		/* The name is a key of the store, never checked against passwd. */
		printf("%-16s %-9s %-20s %-20s %s\n", tool_vis(user,
		    TOOL_VIS_SPACE, name, sizeof(name)), left,
		    s->enrolled ? tool_time(s->expires, t1, sizeof(t1)) : "-",
		    tool_time(s->last_used, t2, sizeof(t2)),
		    until ? tool_time(until, t3, sizeof(t3)) : "-");
	}
	l->rows++;
}

/* One user of an open store. */
static int
list_one(struct admin *a, struct rec_store *st, const char *user,
    struct listing *l)
{
	struct rec_status s;
	char name[TOOL_VIS_LEN(REC_USER_MAX)];
	int r;

	if ((r = rec_auth_status(st, &a->cfg, user, l->now, &s)) != REC_OK) {
		warnx("%s: %s", tool_vis(user, 0, name, sizeof(name)),
		    rec_strerror(r));
		return EXIT_FAIL;
	}
	/*
	 * Nothing left of them (no active codes, no lock state, every batch
	 * purged): not a user with codes, so not listed (issue #17.8).
	 */
	if (!s.enrolled && s.failures == 0 && s.lock_remaining == 0) {
		unsigned long live;

		if ((r = rec_admin_batch_count(st, user, &live)) != REC_OK) {
			warnx("%s: %s", tool_vis(user, 0, name, sizeof(name)),
			    rec_strerror(r));
			return EXIT_FAIL;
		}
		if (live == 0)
			return EXIT_OK;
	}
	row(l, user, &s);
	return EXIT_OK;
}

/* A per-user store: its one user, when it holds anything. */
static int
list_store(struct admin *a, struct tool_target *t, void *arg)
{
	if (tool_target_open(t, 0) != REC_OK)
		return EXIT_FAIL;
	if (t->st == NULL)
		return EXIT_OK;
	return list_one(a, t->st, t->who.user, arg);
}

/* The system store: every user it has a record of. */
static int
list_system(struct admin *a, struct listing *l)
{
	struct tool_target t;
	struct rec_names nm = { NULL, 0, 0 };
	int r, ret = EXIT_FAIL;

	if (admin_system_target(a, &t) != REC_OK ||
	    tool_target_open(&t, 0) != REC_OK)
		goto out;
	if (t.st == NULL) {
		ret = EXIT_OK;
		goto out;
	}
	/* Names first, then each status in its own short read transaction. */
	if ((r = rec_admin_names_read(t.st, 0, &nm)) != REC_OK) {
		warnx("store %s: %s", t.path, rec_strerror(r));
		goto out;
	}
	ret = EXIT_OK;
	for (size_t i = 0; i < nm.n; i++)
		if (list_one(a, t.st, nm.v[i], l) != EXIT_OK)
			ret = EXIT_FAIL;
out:
	rec_admin_names_free(&nm);
	tool_target_close(&t);
	return ret;
}

int
admin_cmd_list(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct listing l;
	int ch, ret, r;

	/* All of it, padding too: the walk's children send it back. */
	memset(&l, 0, sizeof(l));
	l.now = (uint64_t)time(NULL);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			a->usage();
		l.json = 1;
	}
	if (optind != argc)
		a->usage();
	if (l.json) {
		tool_json_init(&l.j, stdout);
		tool_json_array_begin(&l.j, TOOL_JSON_ROWS);
	}
	if (rec_config_per_user(&a->cfg))
		ret = admin_each_store(a, list_store, &l, &l, sizeof(l), NULL);
	else
		ret = list_system(a, &l);
	if (l.json) {
		tool_json_array_end(&l.j);
		if ((r = tool_json_finish(&l.j)) != REC_OK) {
			warnx("standard output: %s", rec_strerror(r));
			ret = EXIT_FAIL;
		}
	} else if (l.rows == 0 && ret == EXIT_OK)
		/* A store that failed (said above) is not an empty one. */
		printf("No user has recovery codes in %s.\n", a->cfg.store);
	return ret;
}
