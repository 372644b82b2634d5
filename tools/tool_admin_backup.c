/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_backup.c: the backup command: a hot copy of a store. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "admin_common.h"
#include "rec_err.h"

/* What one backup needs where the store is open, and what it made. */
struct backup {
	const char *dest;
	int fd;				/* dest/data.mdb, made by us, or -1 */
};

/* Copy t's store into b->fd (or into b->dest, made here); say what it holds. */
static int
backup_store(struct admin *a, struct tool_target *t, void *arg)
{
	struct backup *b = arg;
	struct rec_store_counts n;
	int r;

	if (tool_target_open(t, 0) != REC_OK)
		return EXIT_FAIL;
	if (t->st == NULL) {
		warnx("store %s does not exist: nothing to back up", t->path);
		return EXIT_FAIL;
	}
	r = b->fd != -1 ? rec_admin_backup_fd(t->st, b->fd, b->dest, &a->log,
	    &n) : rec_admin_backup(t->st, b->dest, &a->log, &n);
	if (r != REC_OK) {
		warnx("backup of %s to %s failed: %s", t->path, b->dest,
		    rec_strerror(r));
		return EXIT_FAIL;
	}
	printf("Copied %s to %s: %lu users, %lu batches, %lu codes, %lu audit "
	    "events; the copy opens and reads back.\n", t->path, b->dest,
	    n.users, n.batches, n.codes, n.events);
	return EXIT_OK;
}

/*
 * A per-user store is copied by a child that is its user, into a file we
 * made as root and lend it for the copy: the user may write it but never
 * reach it by name (dest is ours, mode 0700), and it is ours again, with
 * mode 0600, before dest is complete.
 */
static int
backup_user(struct admin *a, const char *user, const char *dest)
{
	struct backup b = { dest, -1 };
	struct rec_target rt;
	int dfd = -1, ret = EXIT_FAIL;

	if (admin_check_user(a, user, ADMIN_CHANGE | ADMIN_KNOWN, &rt) !=
	    REC_OK)
		return EXIT_FAIL;
	if (rec_admin_backup_dest(dest, &a->log, &dfd, &b.fd) != REC_OK) {
		warnx("backup to %s failed", dest);
		return EXIT_FAIL;
	}
	/* The copy is reopened by the child through /proc: it must be its. */
	if (geteuid() == 0 && fchown(b.fd, rt.owner, rt.owner_gid) == -1) {
		warn("backup %s/data.mdb", dest);
		goto out;
	}
	ret = admin_on_user(a, user, ADMIN_CHANGE | ADMIN_KNOWN, backup_store,
	    &b, NULL, 0);
	if (ret == EXIT_OK && ((geteuid() == 0 &&
	    fchown(b.fd, geteuid(), getegid()) == -1) ||
	    fchmod(b.fd, 0600) == -1 || fsync(b.fd) == -1 || fsync(dfd) == -1)) {
		warn("backup %s/data.mdb", dest);
		ret = EXIT_FAIL;
	}
out:
	if (close(b.fd) == -1 && ret == EXIT_OK) {
		warn("backup %s/data.mdb", dest);
		ret = EXIT_FAIL;
	}
	if (ret != EXIT_OK)
		rec_admin_backup_undo(dest, dfd);
	else
		close(dfd);
	return ret;
}

int
admin_cmd_backup(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ NULL, 0, NULL, 0 },
	};
	struct backup b = { NULL, -1 };
	struct tool_target t;
	const char *user = NULL;
	int ch, ret = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'u')
			a->usage();
		user = optarg;
	}
	if (optind != argc - 1)
		a->usage();
	b.dest = argv[optind];
	/*
	 * The directory's server keeps the store: its own tools make a
	 * consistent copy, and one made here would need every hash read out
	 * over the network.  Said before anything is made at dest.
	 */
	if (rec_config_directory(&a->cfg)) {
		warnx("store = ldap: the directory is backed up on its server, "
		    "not here; on slapd: slapcat -b SUFFIX -l FILE (389-ds: "
		    "dsconf INSTANCE backup create); nothing written to %s",
		    b.dest);
		return EXIT_FAIL;
	}
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
	a->rdonly = 1;
	if (user != NULL)
		return backup_user(a, user, b.dest);
	if (admin_system_target(a, &t) == REC_OK)
		ret = backup_store(a, &t, &b);
	tool_target_close(&t);
	return ret;
}
