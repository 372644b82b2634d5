/* tool_admin_backup.c: the backup command: a hot copy of a store. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "admin_common.h"
#include "rec_err.h"

int
admin_cmd_backup(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_store_counts n;
	struct tool_target t;
	struct admin_ident id;
	const char *user = NULL, *dest;
	int ch, r, ret = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'u')
			a->usage();
		user = optarg;
	}
	if (optind != argc - 1)
		a->usage();
	dest = argv[optind];
	if (rec_config_per_user(&a->cfg) != (user != NULL)) {
		if (user != NULL)
			warnx("--user is for per-user stores; store = %s is "
			    "one system store", a->cfg.store);
		else
			warnx("store = %s is per user: name whose store to "
			    "copy with --user USER", a->cfg.store);
		return EXIT_FAIL;
	}
	/* A backup holds every hash: it needs the same rights as a change. */
	if (user != NULL)
		r = admin_target(a, user, 1, 1, &t, &id);
	else {
		r = admin_system_target(a, &t);
		memset(&id, 0, sizeof(id));
	}
	if (r != EXIT_OK)
		return EXIT_FAIL;
	/* A per-user store is opened as its owner ... */
	if (tool_target_open(&t, 0) != REC_OK)
		goto out;
	if (t.st == NULL) {
		warnx("store %s does not exist: nothing to back up", t.path);
		goto out;
	}
	/*
	 * ... and the copy written as ourselves: LMDB holds its files open
	 * already, and the backup belongs to the administrator.
	 */
	if (admin_restore(&id) != REC_OK)
		goto out;
	if ((r = rec_store_backup(t.st, dest, &a->log, &n)) != REC_OK) {
		warnx("backup of %s to %s failed: %s", t.path, dest,
		    rec_strerror(r));
		goto out;
	}
	printf("Copied %s to %s: %lu users, %lu batches, %lu codes, %lu audit "
	    "events; the copy opens and reads back.\n", t.path, dest, n.users,
	    n.batches, n.codes, n.events);
	ret = EXIT_OK;
out:
	if (admin_untarget(&t, &id) != EXIT_OK)
		ret = EXIT_FAIL;
	return ret;
}
