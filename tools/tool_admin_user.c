/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_user.c: the commands on one user: show ... invalidate, unlock. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_common.h"
#include "rec_err.h"
#include "rec_notify.h"

static int
unlock_cmd(struct tool_target *t, int argc, char **argv, void (*usage)(void))
{
	static const struct option longopts[] = { { NULL, 0, NULL, 0 } };
	struct rec_unlocked found;
	char wait[64], user[TOOL_VIS_LEN(REC_USER_MAX)];
	int r;

	if (getopt_long(argc, argv, "", longopts, NULL) != -1 || optind != argc)
		usage();
	tool_vis(t->who.user, 0, user, sizeof(user));
	if (tool_target_open(t, 0) != REC_OK)
		return EXIT_FAIL;
	if (t->st == NULL) {
		warnx("%s has no store at %s: nothing to unlock", user,
		    t->path);
		return EXIT_FAIL;
	}
	r = rec_admin_unlock(t->st, t->cfg, &t->who, (uint64_t)time(NULL),
	    &found);
	if (r == REC_ERR_NOTFOUND) {
		warnx("nothing is recorded for %s in %s: nothing to unlock",
		    user, t->path);
		return EXIT_FAIL;
	}
	if (r != REC_OK) {
		warnx("cannot unlock %s: %s", user, rec_strerror(r));
		return EXIT_FAIL;
	}
	tool_target_notify(t, REC_NOTIFY_UNLOCKED, -1);
	if (found.lock_remaining > 0)
		printf("Unlocked %s: the lock had %s to go after %u failed "
		    "attempt%s.\n", user,
		    tool_duration(found.lock_remaining, wait, sizeof(wait)),
		    found.failures,
		    found.failures == 1 ? "" : "s");
	else
		printf("%s was not locked; %u recent failed attempt%s "
		    "cleared.\n", user, found.failures,
		    found.failures == 1 ? "" : "s");
	if (found.gen_remaining > 0)
		printf("The generate cooldown (%s left) is cleared too.\n",
		    tool_duration(found.gen_remaining, wait, sizeof(wait)));
	return EXIT_OK;
}

static const struct user_cmd {
	const char *name;
	int (*fn)(struct tool_target *, int, char **, void (*)(void));
	/* ADMIN_CHANGE: writes to the store; ADMIN_KNOWN: creates it. */
	unsigned flags;		/* enum admin_user_flags */
	int rdonly;		/* only reads the store */
} user_cmds[] = {
	{ "show", tool_cmd_status, 0, 1 },
	{ "history", tool_cmd_history, 0, 1 },
	{ "generate", tool_cmd_generate, ADMIN_CHANGE | ADMIN_KNOWN, 0 },
	{ "invalidate", tool_cmd_invalidate, ADMIN_CHANGE, 0 },
	{ "unlock", unlock_cmd, ADMIN_CHANGE, 0 },
};

/* The command and its arguments, as it runs on the store. */
struct user_run {
	const struct user_cmd *c;
	int argc;
	char **argv;
};

static int
user_store(struct admin *a, struct tool_target *t, void *arg)
{
	const struct user_run *u = arg;

	return u->c->fn(t, u->argc, u->argv, a->usage);
}

int
admin_cmd_user(struct admin *a, int argc, char **argv)
{
	const struct user_cmd *c = NULL;
	struct user_run u;
	const char *user;

	for (size_t i = 0; i < sizeof(user_cmds) / sizeof(user_cmds[0]); i++)
		if (strcmp(argv[0], user_cmds[i].name) == 0)
			c = &user_cmds[i];
	/* USER comes right after the command, before its options. */
	if (c == NULL || argc < 2 || argv[1][0] == '-') {
		warnx("%s needs USER first: %s USER [options]", argv[0],
		    argv[0]);
		a->usage();
	}
	user = argv[1];
	/* The shared command sees "command [options]", as in the helper. */
	argv[1] = argv[0];
	u.c = c;
	u.argc = argc - 1;
	u.argv = argv + 1;
	/*
	 * A per-user store is opened (or made) only in a child that is USER:
	 * a file of generate -o is still made here, and belongs to the
	 * administrator.
	 */
	a->rdonly = c->rdonly;
	return admin_on_user(a, user, c->flags, user_store, &u, NULL, 0);
}
