/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_forget.c: the forget command: every record of a user goes (offboarding). */
#include <err.h>
#include <errno.h>
#include <pwd.h>
#include <stdlib.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_common.h"
#include "rec_err.h"
#include "rec_purge.h"

int
admin_forget_in(struct admin *a, struct tool_target *t, int yes)
{
	char name[TOOL_VIS_LEN(REC_USER_MAX)], path[TOOL_VIS_LEN(REC_PATH_MAX)];
	char question[sizeof(name) + sizeof(path) + 64];
	uint64_t n = 0;
	int r;

	(void)a;
	tool_vis(t->who.user, TOOL_VIS_SPACE, name, sizeof(name));
	tool_vis(t->path, TOOL_VIS_SPACE, path, sizeof(path));
	if (tool_target_open(t, 0) != REC_OK)
		return EXIT_FAIL;
	if (t->st != NULL && (r = rec_purge_forget(t->st, t->cfg, &t->who,
	    (uint64_t)time(NULL), 1, &n)) != REC_OK) {
		warnx("store %s: %s", path, rec_strerror(r));
		return EXIT_FAIL;
	}
	if (n == 0) {
		printf("Nothing to forget: no records of %s in %s.\n", name,
		    path);
		return EXIT_OK;
	}
	snprintf(question, sizeof(question), "Forget %s: remove %llu records "
	    "from %s?", name, (unsigned long long)n, path);
	if (!yes && !tool_target_confirm(t, question)) {
		printf("Nothing changed.\n");
		return EXIT_FAIL;
	}
	if ((r = rec_purge_forget(t->st, t->cfg, &t->who, (uint64_t)time(NULL),
	    0, &n)) != REC_OK) {
		warnx("store %s: %s", path, rec_strerror(r));
		return EXIT_FAIL;
	}
	printf("Forgot %s: %llu records removed from %s (the audit trail "
	    "keeps their history).\n", name, (unsigned long long)n, path);
	return EXIT_OK;
}

/* admin_on_user has checked that the caller may change the store. */
static int
forget_store(struct admin *a, struct tool_target *t, void *arg)
{
	return admin_forget_in(a, t, *(int *)arg);
}

int
admin_cmd_forget(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const char *user;
	int ch, yes = 0;

	/* USER comes right after the command, before its options. */
	if (argc < 2 || argv[1][0] == '-') {
		warnx("forget needs USER first: forget USER [-y]");
		a->usage();
	}
	user = argv[1];
	argv[1] = argv[0];
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "y", longopts, NULL)) != -1) {
		if (ch != 'y')
			a->usage();
		yes = 1;
	}
	if (optind != argc)
		a->usage();
	/* A departed user of a system store is no longer in passwd. */
	return admin_on_user(a, user, ADMIN_CHANGE, forget_store, &yes, NULL,
	    0);
}

int
admin_purge_departed(struct admin *a, int dry_run)
{
	struct rec_names nm = { NULL, 0, 0 };
	struct tool_target t;
	char name[TOOL_VIS_LEN(REC_USER_MAX)];
	unsigned long gone = 0, kept = 0;
	uint64_t n;
	struct passwd *pw;
	int r, e, ret = EXIT_FAIL;

	memset(&t, 0, sizeof(t));
	if (rec_config_per_user(&a->cfg)) {
		printf("Per-user stores (store = %s) leave with their owners' "
		    "home directories: nothing to forget here.\n", a->cfg.store);
		return EXIT_OK;
	}
	a->rdonly = dry_run;
	if (admin_system_target(a, &t) != REC_OK ||
	    (!dry_run && !admin_may_change(a, &t)) ||
	    tool_target_open(&t, 0) != REC_OK)
		goto out;
	ret = EXIT_OK;
	if (t.st == NULL)
		goto out;
	/* Every name it holds records of: user records and batches. */
	if ((r = rec_admin_names_read(t.st, REC_NAMES_BATCHES, &nm)) !=
	    REC_OK) {
		warnx("store %s: %s", t.path, rec_strerror(r));
		ret = EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < nm.n; i++) {
		tool_vis(nm.v[i], TOOL_VIS_SPACE, name, sizeof(name));
		errno = 0;
		pw = getpwnam(nm.v[i]);
		e = errno;
		if (pw != NULL)
			continue;
		/* Only "no such user" is departed; a failed lookup is not. */
		if (e != 0 && e != ENOENT) {
			warnx("%s: cannot tell whether this user exists (%s): "
			    "kept", name, strerror(e));
			kept++;
			ret = EXIT_FAIL;
			continue;
		}
		t.who.user = nm.v[i];
		if ((r = rec_purge_forget(t.st, t.cfg, &t.who,
		    (uint64_t)time(NULL), dry_run, &n)) != REC_OK) {
			warnx("%s: %s", name, rec_strerror(r));
			ret = EXIT_FAIL;
			continue;
		}
		printf("%s %s: %llu records (no such user)\n", dry_run ?
		    "Would forget" : "Forgot", name, (unsigned long long)n);
		gone++;
	}
	printf("%lu departed user%s %s%s\n", gone, gone == 1 ? "" : "s",
	    dry_run ? "found (dry run: nothing changed)" : "forgotten",
	    kept > 0 ? "; some kept: see above" : "");
out:
	rec_admin_names_free(&nm);
	tool_target_close(&t);
	return ret;
}
