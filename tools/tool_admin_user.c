/* tool_admin_user.c: the commands on one user: show ... invalidate, unlock. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_common.h"
#include "rec_err.h"

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
	r = rec_unlock(t->st, t->cfg, &t->who, (uint64_t)time(NULL), &found);
	if (r == REC_ERR_NOTFOUND) {
		warnx("nothing is recorded for %s in %s: nothing to unlock",
		    user, t->path);
		return EXIT_FAIL;
	}
	if (r != REC_OK) {
		warnx("cannot unlock %s: %s", user, rec_strerror(r));
		return EXIT_FAIL;
	}
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
	int change;		/* writes to the store: root only */
	int create;		/* creates the store, and USER must exist */
} user_cmds[] = {
	{ "show", tool_cmd_status, 0, 0 },
	{ "history", tool_cmd_history, 0, 0 },
	{ "generate", tool_cmd_generate, 1, 1 },
	{ "invalidate", tool_cmd_invalidate, 1, 0 },
	{ "unlock", unlock_cmd, 1, 0 },
};

int
admin_cmd_user(struct admin *a, int argc, char **argv)
{
	const struct user_cmd *c = NULL;
	struct tool_target t;
	struct admin_ident id;
	const char *user;
	int ret;

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
	argc--;
	argv++;
	if ((ret = admin_target(a, user, c->change, c->create, &t, &id)) !=
	    EXIT_OK)
		return ret;
	/*
	 * A per-user store is opened (or made) with USER's identity; once it
	 * is open, LMDB holds its files and the command goes on as ourselves,
	 * so that a file of generate -o belongs to the administrator.  Without
	 * a store the identity stays taken on: nothing in the command may then
	 * open one as root.
	 */
	if (id.switched) {
		if (tool_target_open(&t, c->create) != REC_OK) {
			ret = EXIT_FAIL;
			goto out;
		}
		if (t.st != NULL && admin_restore(&id) != REC_OK) {
			ret = EXIT_FAIL;
			goto out;
		}
	}
	ret = c->fn(&t, argc, argv, a->usage);
out:
	if (admin_untarget(&t, &id) != EXIT_OK)
		ret = EXIT_FAIL;
	return ret;
}
