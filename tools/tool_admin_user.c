/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_user.c: the commands on one user: show ... invalidate, unlock; generate for a list of users. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

#define USERS_FROM_MAX 100000	/* users in one --users-from file */

/* The users of --users-from FILE, one a line; '#' starts a comment. */
struct user_list {
	char **name;
	size_t n;
};

static void
user_list_free(struct user_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->name[i]);
	free(l->name);
	memset(l, 0, sizeof(*l));
}

/*
 * Read the whole list before anyone gets codes: a line that is not one
 * user name (blanks inside, too long, a '/') refuses the file, naming the
 * line.  Returns 0, or -1 after saying why.
 */
static int
user_list_read(const char *path, struct user_list *l)
{
	char line[REC_USER_MAX + 64], vis[TOOL_VIS_LEN(64)], *p, *end, **grown;
	size_t cap = 0, lineno = 0;
	FILE *f;
	int ret = -1;

	memset(l, 0, sizeof(*l));
	if ((f = fopen(path, "re")) == NULL) {
		warn("--users-from %s", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		if (strchr(line, '\n') == NULL && !feof(f)) {
			warnx("%s, line %zu: longer than any user name", path,
			    lineno);
			goto out;
		}
		line[strcspn(line, "#\n")] = '\0';
		for (p = line; *p == ' ' || *p == '\t' || *p == '\r'; p++)
			;
		for (end = p + strlen(p); end > p && (end[-1] == ' ' ||
		    end[-1] == '\t' || end[-1] == '\r'); end--)
			;
		*end = '\0';
		if (*p == '\0')
			continue;
		if (strcspn(p, " \t/") != strlen(p) ||
		    strlen(p) >= REC_USER_MAX) {
			warnx("%s, line %zu: not one user name: %s", path,
			    lineno, tool_vis(p, 0, vis, sizeof(vis)));
			goto out;
		}
		if (l->n == USERS_FROM_MAX) {
			warnx("%s: more than %d users", path, USERS_FROM_MAX);
			goto out;
		}
		if (l->n == cap) {
			cap = cap == 0 ? 64 : cap * 2;
			if ((grown = reallocarray(l->name, cap,
			    sizeof(*grown))) == NULL) {
				warnx("out of memory");
				goto out;
			}
			l->name = grown;
		}
		if ((l->name[l->n] = strdup(p)) == NULL) {
			warnx("out of memory");
			goto out;
		}
		l->n++;
	}
	if (ferror(f)) {
		warn("--users-from %s", path);
		goto out;
	}
	if (l->n == 0) {
		warnx("%s names no user", path);
		goto out;
	}
	ret = 0;
out:
	fclose(f);
	if (ret != 0)
		user_list_free(l);
	return ret;
}

/*
 * Where -o points for user: with --users-from, -o names a directory and
 * each user's sheet is DIR/USER.FORMAT there (--format, or export_format),
 * a new file as for one user.  *o is the index in argv of the word that
 * holds -o's value (0: none), *joined how many bytes of that word come
 * before the value (--output=DIR, -oDIR; 0 when it is the whole word).
 */
static void
many_output(struct admin *a, int argc, char **argv, int *o, size_t *joined,
    const char **format)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "qr", no_argument, NULL, 'q' },
		{ "yes", no_argument, NULL, 'y' },
		{ "encrypt-to-ssh-key", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	struct stat sb;
	int ch, given = 0;

	*o = 0;
	*joined = 0;
	*format = rec_config_export_name(a->cfg.export_format);
	optind = 0;
	opterr = 0;	/* the command itself reports bad options */
	while ((ch = getopt_long(argc, argv, "+n:e:f:o:qy", longopts,
	    NULL)) != -1) {
		if (ch == 'f') {
			*format = optarg;
			given = 1;
		} else if (ch == 'K') {
			warnx("--encrypt-to-ssh-key seals to one user's key: "
			    "not with --users-from");
			a->usage();
		} else if (ch == 'o') {
			*o = optind - 1;
			*joined = (size_t)(optarg - argv[optind - 1]);
			if (stat(optarg, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
				warnx("with --users-from, -o names a directory "
				    "(each user's sheet is DIR/USER.FORMAT): "
				    "%s", optarg);
				a->usage();
			}
		}
	}
	opterr = 1;
	optind = 0;
	/*
	 * On standard output only the terminal's sheet names each user; a csv
	 * or json document after another would not say whose codes are whose.
	 */
	if (*o == 0 && given && strcmp(*format, "txt") != 0) {
		warnx("with --users-from, --format %s needs -o DIR (each "
		    "user's sheet is DIR/USER.%s): on standard output the "
		    "sheets would not say whose codes they hold", *format,
		    *format);
		a->usage();
	}
}

/*
 * generate --users-from FILE [options]: generate as for one user, for
 * each user of FILE in turn, saying on standard error how each went; a
 * user that fails does not stop the others.  EXIT_FAIL when any failed.
 */
static int
generate_many(struct admin *a, const struct user_cmd *c, int argc,
    char **argv)
{
	struct user_list l;
	struct user_run u;
	char **av = NULL, *path = NULL, vis[TOOL_VIS_LEN(REC_USER_MAX)];
	const char *file = NULL, *format, *dir = NULL;
	size_t failed = 0, plen = 0, joined;
	int o, ret = EXIT_FAIL, r, shift = 0;

	if (strncmp(argv[1], "--users-from=", 13) == 0) {
		file = argv[1] + 13;
		shift = 1;
	} else if (argc >= 3) {
		file = argv[2];
		shift = 2;
	} else {
		warnx("--users-from needs a FILE");
		a->usage();
		return EXIT_USAGE;
	}
	/* The options as for one user: "generate [options]". */
	argc -= shift;
	argv += shift;
	argv[0] = (char *)c->name;
	many_output(a, argc, argv, &o, &joined, &format);
	if (user_list_read(file, &l) != 0)
		return EXIT_FAIL;
	if ((av = calloc((size_t)argc + 1, sizeof(*av))) == NULL) {
		warnx("out of memory");
		goto out;
	}
	if (o != 0) {
		dir = argv[o] + joined;
		plen = strlen(argv[o]) + REC_USER_MAX + strlen(format) + 8;
		if ((path = malloc(plen)) == NULL) {
			warnx("out of memory");
			goto out;
		}
	}
	for (size_t i = 0; i < l.n; i++) {
		/* Each run may reorder its argv (getopt): a fresh copy. */
		memcpy(av, argv, (size_t)(argc + 1) * sizeof(*av));
		if (dir != NULL) {
			snprintf(path, plen, "%.*s%s/%s.%s", (int)joined,
			    argv[o], dir, l.name[i], format);
			av[o] = path;
		}
		tool_vis(l.name[i], 0, vis, sizeof(vis));
		u.c = c;
		u.argc = argc;
		u.argv = av;
		optind = 0;
		a->rdonly = c->rdonly;
		fflush(stdout);
		r = admin_on_user(a, l.name[i], c->flags, user_store, &u, NULL,
		    0);
		fflush(stdout);
		if (r == EXIT_OK)
			warnx("%s: codes issued", vis);
		else {
			warnx("%s: FAILED, no new codes", vis);
			failed++;
		}
	}
	warnx("generate --users-from %s: %zu of %zu user%s issued codes, %zu "
	    "failed", file, l.n - failed, l.n, l.n == 1 ? "" : "s", failed);
	ret = failed == 0 ? EXIT_OK : EXIT_FAIL;
out:
	free(path);
	free(av);
	user_list_free(&l);
	return ret;
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
	/* generate --users-from FILE: the list in place of USER. */
	if (c != NULL && strcmp(c->name, "generate") == 0 && argc >= 2 &&
	    (strcmp(argv[1], "--users-from") == 0 ||
	    strncmp(argv[1], "--users-from=", 13) == 0))
		return generate_many(a, c, argc, argv);
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
