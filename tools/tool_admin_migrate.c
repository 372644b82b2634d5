/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_migrate.c: the migrate command: local stores copied into the configured store (the directory). */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin_common.h"
#include "rec_err.h"
#include "rec_migrate.h"

/* What the reading of one user's source store hands back (plain data). */
struct migrate_read {
	int rc;				/* rec_migrate_read's result */
	struct rec_migrate_user mu;
};

/* One run of migrate. */
struct migrate {
	struct admin *a;		/* the destination's configuration */
	struct admin src;		/* the same with store = FROM */
	const char *from;
	struct rec_store *dst;		/* NULL: not made yet (dry run) */
	int dry;
	int per_user;			/* the source is per-user stores */
	struct migrate_read *rd;	/* sodium_malloc'ed: hashes */
	unsigned copied, skipped, failed, empty;
};

/*
 * The store the configuration names, opened for writing into *out, as
 * every command opens it (rec_target_open): the directory with store =
 * ldap, else the system store (*out NULL for a dry run's store that does
 * not exist yet).
 */
static int
dest_open(struct migrate *m, struct rec_store **out)
{
	struct admin *a = m->a;
	struct tool_target t;
	struct stat to, from;
	char v[TOOL_VIS_LEN(REC_PATH_MAX)];
	int r;

	*out = NULL;
	if ((r = admin_system_target(a, &t)) != REC_OK)
		return r;
	tool_vis(m->from, 0, v, sizeof(v));
	if (!t.directory && stat(t.path, &to) == 0 && stat(m->from, &from) ==
	    0 && to.st_dev == from.st_dev && to.st_ino == from.st_ino) {
		warnx("--from %s is the configured store itself", v);
		return REC_ERR_USAGE;
	}
	if (!m->dry && !admin_may_change(a, &t))
		return REC_ERR_PERM;
	if ((r = tool_target_open(&t, !m->dry && !t.directory)) != REC_OK)
		return r;
	*out = t.st;
	return REC_OK;
}

/* In the source's child (or here, for a system store): read the user. */
static int
read_user(struct admin *a, struct tool_target *t, void *arg)
{
	struct migrate_read *rd = arg;

	(void)a;
	rd->rc = REC_ERR_NOSTORE;
	if (tool_target_open(t, 0) != REC_OK) {
		rd->rc = REC_ERR_IO;
		return EXIT_FAIL;
	}
	if (t->st != NULL)
		rd->rc = rec_migrate_read(t->st, t->who.user, &rd->mu);
	return EXIT_OK;
}

/* Here: copy what was read into the destination, and say what it did. */
static void
write_user(struct migrate *m, const char *user)
{
	const struct rec_migrate_user *mu = &m->rd->mu;
	struct rec_migrate_result res;
	struct rec_who who = { .user = user, .service = "pam-recovery-admin",
	    .actor = m->a->actor };
	char name[TOOL_VIS_LEN(REC_USER_MAX)];
	const char *verb = m->dry ? "would copy" : "copied";
	int r;

	tool_vis(user, TOOL_VIS_SPACE, name, sizeof(name));
	/*
	 * What a per-user store's child hands back is that user's word: it
	 * is written for the user we asked for, or not at all.
	 */
	if (m->rd->rc == REC_OK && (memchr(mu->user, '\0',
	    sizeof(mu->user)) == NULL || strcmp(mu->user, user) != 0)) {
		printf("%s: failed: the store's reader answered for someone "
		    "else\n", name);
		m->failed++;
		return;
	}
	if (m->rd->rc == REC_ERR_NOSTORE) {
		printf("%s: nothing to copy (no record in the source)\n", name);
		m->empty++;
		return;
	}
	if (m->rd->rc != REC_OK) {
		printf("%s: failed: reading the source: %s\n", name,
		    rec_strerror(m->rd->rc));
		m->failed++;
		return;
	}
	/*
	 * With per-user stores the destination is open only between their
	 * children: a child, running as a user over that user's store,
	 * inherits no connection bound as the administrators, and no file
	 * of a root-owned store.
	 */
	if (m->per_user && (r = dest_open(m, &m->dst)) != REC_OK) {
		printf("%s: failed: the destination: %s\n", name,
		    rec_strerror(r));
		m->failed++;
		return;
	}
	r = rec_migrate_write(m->dst, mu, &m->a->cfg, &who, m->from,
	    (uint64_t)time(NULL), m->dry ? REC_MIGRATE_DRY : 0, &res);
	if (m->per_user) {
		rec_store_close(m->dst);
		m->dst = NULL;
	}
	if (r != REC_OK) {
		printf("%s: failed: %s\n", name, rec_strerror(r));
		m->failed++;
		return;
	}
	if (res.skipped) {
		printf("%s: skipped: already in the destination (left as it "
		    "is)\n", name);
		m->skipped++;
		return;
	}
	printf("%s: %s %u batches, %u codes unused, %u used, %u invalidated",
	    name, verb, res.batches, res.unused, res.used, res.invalid);
	if (mu->purged > 0)
		printf("; %u purged batches left out (no codes)", mu->purged);
	putchar('\n');
	if (mu->peppered > 0)
		printf("%s: %u batches need the pepper: every host using the "
		    "destination needs the same pepper_file%s\n", name,
		    mu->peppered, m->a->cfg.pepper_file[0] == '\0' ?
		    " (this configuration has none)" : "");
	m->copied++;
}

/* One user of the source: read (as the store's owner), then copy. */
static void
migrate_user(struct migrate *m, const char *user)
{
	int ret;

	sodium_memzero(m->rd, sizeof(*m->rd));
	m->rd->rc = REC_ERR_IO;
	fflush(stdout);
	ret = admin_on_user(&m->src, user, 0, read_user, m->rd,
	    m->rd, sizeof(*m->rd));
	if (ret != EXIT_OK && m->rd->rc == REC_OK)
		m->rd->rc = REC_ERR_IO;
	write_user(m, user);
	sodium_memzero(m->rd, sizeof(*m->rd));
}

/* One user of rec_migrate_read_each; mu is m->rd->mu. */
static int
each_system(int rc, const struct rec_migrate_user *mu, void *arg)
{
	struct migrate *m = arg;

	m->rd->rc = rc;
	write_user(m, mu->user);
	return REC_OK;
}

/* Every user of a system store, in one walk over it. */
static int
system_all(struct migrate *m)
{
	struct tool_target t;
	int r;

	if ((r = admin_system_target(&m->src, &t)) != REC_OK ||
	    (r = tool_target_open(&t, 0)) != REC_OK)
		return r;
	if (t.st == NULL) {
		warnx("no store at %s", m->from);
		return REC_ERR_NOSTORE;
	}
	r = rec_migrate_read_each(t.st, &m->rd->mu, each_system, m);
	tool_target_close(&t);
	if (r != REC_OK)
		warnx("store %s: %s", m->from, rec_strerror(r));
	return r;
}

int
admin_cmd_migrate(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "user", required_argument, NULL, 'u' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct migrate m;
	const char **users = NULL;
	char **names = NULL;
	size_t nusers = 0, nnames = 0;
	int ch, ret = EXIT_FAIL;

	memset(&m, 0, sizeof(m));
	m.a = a;
	if ((users = calloc((size_t)argc, sizeof(*users))) == NULL)
		errx(EXIT_FAIL, "out of memory");
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			m.from = optarg;
			break;
		case 'u':
			users[nusers++] = optarg;
			break;
		case 'n':
			m.dry = 1;
			break;
		default:
			a->usage();
		}
	}
	if (optind != argc || m.from == NULL) {
		warnx("migrate needs --from STORE");
		a->usage();
	}
	/* The source: the same settings, its store the one named. */
	m.src = *a;
	m.src.rdonly = 1;
	m.src.store = m.from;
	if (rec_config_set(&m.src.cfg, "store", m.from, "--from", 0,
	    &a->log) != REC_OK || rec_config_validate(&m.src.cfg, &a->log) !=
	    REC_OK)
		goto out;
	if (rec_config_directory(&m.src.cfg)) {
		warnx("--from %s: migrate copies local stores (a store "
		    "directory or a per-user pattern)", m.from);
		goto out;
	}
	if ((m.rd = sodium_malloc(sizeof(*m.rd))) == NULL) {
		warnx("out of memory");
		goto out;
	}
	/* Opened here once to fail early; see write_user. */
	if (dest_open(&m, &m.dst) != REC_OK)
		goto out;
	if ((m.per_user = rec_config_per_user(&m.src.cfg)) != 0) {
		rec_store_close(m.dst);
		m.dst = NULL;
	}
	if (nusers == 0 && m.per_user) {
		if (admin_store_users(&m.src, &names, &nnames) != 0) {
			warnx("out of memory");
			goto out;
		}
		for (size_t i = 0; i < nnames; i++)
			if (i == 0 || strcmp(names[i], names[i - 1]) != 0)
				migrate_user(&m, names[i]);
	} else {
		if (nusers == 0 && system_all(&m) != REC_OK)
			m.failed++;
		for (size_t i = 0; i < nusers; i++)
			migrate_user(&m, users[i]);
	}
	printf("migrate%s: %u %s, %u skipped (already there), %u with "
	    "nothing to copy, %u failed\n", m.dry ? " (dry run)" : "",
	    m.copied, m.dry ? "to copy" : "copied", m.skipped, m.empty,
	    m.failed);
	ret = m.failed == 0 ? EXIT_OK : EXIT_FAIL;
out:
	for (size_t i = 0; i < nnames; i++)
		free(names[i]);
	free(names);
	free(users);
	rec_store_close(m.dst);
	sodium_free(m.rd);
	return ret;
}
