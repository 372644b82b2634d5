/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_check.c: the check command: configuration, stores, hash cost. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "admin_check.h"
#include "rec_err.h"

#define SLOW_MS 2000	/* a login waiting longer feels broken */
#define CHEAP_MS 50	/* below this a stolen store is cheap to attack */

/* Keep what the core logged during one step, for its report line. */
static void
capture(void *ctx, int prio, const char *msg)
{
	struct report *rp = ctx;
	size_t used = strlen(rp->captured);

	if (prio <= LOG_WARNING && used + 3 < sizeof(rp->captured))
		snprintf(rp->captured + used, sizeof(rp->captured) - used,
		    "%s%s", used > 0 ? "; " : "", msg);
}

static void
vitem(struct report *rp, enum level lv, const char *what,
    const struct where *w, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));

static void
vitem(struct report *rp, enum level lv, const char *what,
    const struct where *w, const char *fmt, va_list ap)
{
	static const char *const names[] = { "OK", "WARN", "FAIL" };
	char detail[1024], id[32], safe[TOOL_VIS_LEN(sizeof(detail))];
	char safe_what[TOOL_VIS_LEN(REC_PATH_MAX + 16)];

	vsnprintf(detail, sizeof(detail), fmt, ap);
	rp->warns += lv == WARN;
	rp->fails += lv == FAIL;
	if (!rp->json) {
		/* User names and the core's messages come from the stores. */
		printf("%-4s  %s: %s\n", names[lv], tool_vis(what, 0,
		    safe_what, sizeof(safe_what)), tool_vis(detail, 0, safe,
		    sizeof(safe)));
		rp->n++;
		return;
	}
	tool_json_object_begin(&rp->j);
	tool_json_member_string(&rp->j, "status", names[lv]);
	tool_json_member_string(&rp->j, "item", what);
	tool_json_member_string(&rp->j, "detail", detail);
	if (w != NULL && w->summary != NULL) {
		tool_json_key(&rp->j, "deep");
		tool_json_object_begin(&rp->j);
		tool_json_member_uint(&rp->j, "users", w->summary[0]);
		tool_json_member_uint(&rp->j, "batches", w->summary[1]);
		tool_json_member_uint(&rp->j, "codes", w->summary[2]);
		tool_json_member_uint(&rp->j, "violations", w->summary[3]);
		tool_json_object_end(&rp->j);
	} else if (w != NULL) {
		tool_json_member_string(&rp->j, "user", w->user);
		tool_json_key(&rp->j, "batch");
		if (w->batch != 0)
			tool_json_string(&rp->j, tool_batch_id(w->batch, id,
			    sizeof(id)));
		else
			tool_json_null(&rp->j);
		tool_json_member_uint(&rp->j, "slot", w->slot);
	}
	tool_json_object_end(&rp->j);
	rp->n++;
}

static void
item(struct report *rp, enum level lv, const char *what, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
item(struct report *rp, enum level lv, const char *what, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vitem(rp, lv, what, NULL, fmt, ap);
	va_end(ap);
}

void
admin_check_item(struct report *rp, enum level lv, const char *what,
    const struct where *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vitem(rp, lv, what, w, fmt, ap);
	va_end(ap);
}

static void
check_format(struct report *rp, const struct rec_config *cfg)
{
	struct rec_format fmt;
	double bits;
	unsigned tag;

	rec_config_format(cfg, &fmt);
	bits = rec_format_entropy(&fmt);
	tag = rec_format_tag_bits(&fmt);
	item(rp, bits < REC_MIN_ENTROPY ? FAIL :
	    bits < REC_WARN_ENTROPY ? WARN : OK, "code format",
	    "%s, %u characters%s: %.0f bits of entropy%s",
	    rec_config_alphabet_name(fmt.alphabet), fmt.length,
	    fmt.check ? " with a check character" : "", bits,
	    bits < REC_MIN_ENTROPY ? " (at least 40 needed)" :
	    bits < REC_WARN_ENTROPY ? " (64 or more recommended)" : "");
	if (tag == 0)
		item(rp, WARN, "code format", "too short for a candidate tag: "
		    "every attempt hashes against each code of a batch");
}

/* One argon2id evaluation at the configured cost: its time and memory. */
static void
check_cost(struct report *rp, const struct rec_config *cfg)
{
	struct timespec t0, t1;
	struct rusage ru;
	double ms;
	int r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = rec_kdf_dummy(cfg->kdf_opslimit, cfg->kdf_memlimit);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e6;
	if (r != REC_OK) {
		item(rp, FAIL, "hash cost", "argon2id with opslimit %llu, "
		    "memlimit %llu KiB failed: %s",
		    (unsigned long long)cfg->kdf_opslimit,
		    (unsigned long long)(cfg->kdf_memlimit >> 10),
		    rec_strerror(r));
		return;
	}
	getrusage(RUSAGE_SELF, &ru);
	item(rp, ms > SLOW_MS || ms < CHEAP_MS ? WARN : OK, "hash cost",
	    "one argon2id (opslimit %llu, memlimit %llu KiB) took %.*f ms; "
	    "each login attempt holds %llu KiB while it hashes (peak of this "
	    "process: %ld KiB)%s", (unsigned long long)cfg->kdf_opslimit,
	    (unsigned long long)(cfg->kdf_memlimit >> 10), ms < 10 ? 1 : 0,
	    ms, (unsigned long long)(cfg->kdf_memlimit >> 10), ru.ru_maxrss,
	    ms > SLOW_MS ? ": logins will feel slow, see calibrate" :
	    ms < CHEAP_MS ? ": cheap to attack offline, see calibrate" : "");
}

static void
check_pepper(struct report *rp, const struct rec_config *cfg, int per_user)
{
	struct rec_log log = { capture, rp, 0 };
	unsigned char *pepper;
	struct stat sb;
	int r;

	if (cfg->pepper_file[0] == '\0') {
		item(rp, OK, "pepper", "none configured%s", per_user ? "" :
		    " (optional: a pepper_file keeps a stolen store from "
		    "being attacked offline)");
		return;
	}
	if ((pepper = sodium_malloc(REC_PEPPER_LEN)) == NULL) {
		item(rp, FAIL, "pepper", "out of memory");
		return;
	}
	rp->captured[0] = '\0';
	r = rec_kdf_load_pepper(cfg->pepper_file, pepper, &log);
	sodium_free(pepper);
	if (r != REC_OK)
		item(rp, FAIL, "pepper", "%s", rp->captured[0] != '\0' ?
		    rp->captured : rec_strerror(r));
	else if (lstat(cfg->pepper_file, &sb) == 0)
		item(rp, OK, "pepper", "%s: owner uid %u, mode %04o, "
		    "%lld bytes", cfg->pepper_file, (unsigned)sb.st_uid,
		    (unsigned)(sb.st_mode & 07777), (long long)sb.st_size);
	else
		item(rp, OK, "pepper", "%s", cfg->pepper_file);
}

/* Owner and mode of one file of a store, relative to its directory. */
static void
check_file(struct report *rp, int dfd, const struct tool_target *t,
    const char *name)
{
	struct stat sb;
	char what[REC_PATH_MAX + 16];

	snprintf(what, sizeof(what), "%s/%s", t->path, name);
	if (fstatat(dfd, name, &sb, AT_SYMLINK_NOFOLLOW) == -1) {
		if (errno != ENOENT)
			item(rp, FAIL, what, "%s", strerror(errno));
		else if (strcmp(name, "data.mdb") == 0)
			item(rp, WARN, what, "missing: no codes issued yet");
		return;
	}
	if (!S_ISREG(sb.st_mode) || sb.st_uid != t->owner ||
	    (sb.st_mode & (S_IWGRP | S_IWOTH)) != 0)
		item(rp, FAIL, what, "must be a regular file owned by uid %u, "
		    "writable only by it (owner %u, mode %04o)",
		    (unsigned)t->owner, (unsigned)sb.st_uid,
		    (unsigned)(sb.st_mode & 07777));
	else
		item(rp, (sb.st_mode & 077) != 0 ? WARN : OK, what,
		    "owner uid %u, mode %04o, %lld KiB%s", (unsigned)sb.st_uid,
		    (unsigned)(sb.st_mode & 07777), (long long)sb.st_size >> 10,
		    (sb.st_mode & 077) != 0 ? " (0600 expected)" : "");
}

/* Room for a login's writes on the store's filesystem, as its writer sees it. */
static void
check_space(struct report *rp, int dfd, const struct tool_target *t)
{
	unsigned long long avail, need;
	char what[REC_PATH_MAX + 16];
	int rdonly;

	snprintf(what, sizeof(what), "%s (space)", t->path);
	if (tool_store_room(dfd, t, &avail, &need, &rdonly) != 0) {
		item(rp, FAIL, what, "%s", strerror(errno));
		return;
	}
	if (rdonly)
		item(rp, FAIL, what, "read-only filesystem: logins cannot count "
		    "attempts or use up codes");
	else if (avail < need)
		item(rp, FAIL, what, "%llu KiB free for uid %u on its "
		    "filesystem, a login may need %llu KiB: logins will fail "
		    "with \"No space left on device\"", avail >> 10,
		    (unsigned)t->owner, need >> 10);
	else
		item(rp, OK, what, "%llu MiB free for uid %u on its filesystem",
		    avail >> 20, (unsigned)t->owner);
}

/* One store: directory, files, filesystem, and every record read back. */
static int
check_store(struct admin *a, struct tool_target *t, void *arg)
{
	struct report *rp = arg;
	struct rec_log log = { capture, rp, 0 };
	struct rec_store_counts n;
	struct stat sb;
	struct statfs sf;
	int dfd, e, r;

	/* The directory store has no files here: its records alone. */
	if (t->directory)
		goto records;
	dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1 && errno == ENOENT) {
		item(rp, WARN, t->path, "does not exist yet (the first "
		    "pam-recovery-admin generate creates it)");
		return EXIT_OK;
	}
	if (dfd == -1) {
		/* The module's own open says why, owner mismatch included. */
		e = errno;
		rp->captured[0] = '\0';
		t->log = &log;
		r = tool_target_open(t, 0);
		item(rp, FAIL, t->path, "%s: %s", rec_strerror(r != REC_OK ? r :
		    rec_err_errno(e)), rp->captured[0] != '\0' ? rp->captured :
		    strerror(e));
		tool_target_close(t);
		t->log = &a->log;
		return EXIT_OK;
	}
	if (fstat(dfd, &sb) == -1 || fstatfs(dfd, &sf) == -1)
		item(rp, FAIL, t->path, "%s", strerror(errno));
	else if (sb.st_uid != t->owner || (sb.st_mode & 077) != 0)
		item(rp, FAIL, t->path, "must be owned by uid %u with mode "
		    "0700 (owner %u, mode %04o)", (unsigned)t->owner,
		    (unsigned)sb.st_uid, (unsigned)(sb.st_mode & 07777));
	else
		item(rp, OK, t->path, "directory, owner uid %u, mode %04o, "
		    "filesystem type 0x%lx", (unsigned)sb.st_uid,
		    (unsigned)(sb.st_mode & 07777), (unsigned long)sf.f_type);
	check_file(rp, dfd, t, "data.mdb");
	check_file(rp, dfd, t, "lock.mdb");
	check_space(rp, dfd, t);
	close(dfd);
records:
	/* The module's own checks, filesystem included, then every record. */
	rp->captured[0] = '\0';
	t->log = &log;
	r = tool_target_open(t, 0);
	if (r == REC_OK && t->st != NULL)
		r = rec_admin_verify(t->st, &n);
	if (r != REC_OK)
		item(rp, FAIL, t->path, "%s", rp->captured[0] != '\0' ?
		    rp->captured : rec_strerror(r));
	else if (t->st != NULL)
		item(rp, OK, t->path, "%s; %lu users, %lu batches, %lu codes, "
		    "%lu audit events, all readable", t->directory ?
		    "the directory answers" : "opens on a local filesystem",
		    n.users, n.batches, n.codes, n.events);
	if (rp->deep && t->st != NULL)
		admin_check_deep(rp, t->st, t->path,
		    rec_config_per_user(&a->cfg) ? t->who.user : NULL);
	tool_target_close(t);
	t->log = &a->log;
	return EXIT_OK;
}

/* A store whose child died (see admin_each_store) fails the check. */
static void
check_lost(void *arg, const char *path, int lost)
{
	if (lost == ADMIN_LOST_TIMEOUT)
		item(arg, FAIL, path, "skipped: no answer within store_timeout "
		    "(its owner may hold its lock; see above)");
	else if (lost)
		item(arg, FAIL, path, "not read to the end: its reader died "
		    "(the store is probably corrupt; see above)");
}

/*
 * The checks of one configuration (a->service: NULL for the global
 * settings, else a [service] section's) and its store.  label, when not
 * NULL, says which services use it: a file with several stores is checked
 * store by store.
 */
static void
check_config(struct admin *a, struct report *rp, const char *conf,
    const char *label)
{
	struct rec_log log = { capture, rp, 0 };
	struct tool_target t;
	int per_user;

	rp->captured[0] = '\0';
	if (admin_config(a, &a->cfg, &log) != REC_OK) {
		item(rp, FAIL, "configuration", "%s%s%s", label != NULL ?
		    label : "", label != NULL ? ": " : "", rp->captured);
		return;
	}
	item(rp, OK, "configuration", "%s%s%s%s, store = %s", conf,
	    a->conf == NULL && access(conf, F_OK) != 0 ?
	    " not found: built-in defaults" : "", label != NULL ? ", " : "",
	    label != NULL ? label : "", a->cfg.store);
	per_user = rec_config_per_user(&a->cfg);
	check_format(rp, &a->cfg);
	check_cost(rp, &a->cfg);
	check_pepper(rp, &a->cfg, per_user);
	if (!per_user) {
		if (admin_system_target(a, &t) == REC_OK)
			check_store(a, &t, rp);
	} else {
		unsigned before = rp->n;

		admin_each_store(a, check_store, rp, rp, sizeof(*rp),
		    check_lost);
		if (rp->n == before)
			item(rp, OK, "stores", "no user has a store yet");
		if (geteuid() != 0)
			item(rp, WARN, "stores", "not root: only your own "
			    "store was checked");
	}
}

/*
 * Without --service or --store, a file whose [service] sections name
 * several stores is checked store by store (each labelled with the
 * services using it), as the module will use each: rather than a refusal
 * that would leave a newcomer's second stack unchecked.  0 when the file
 * names one store (or cannot be read: check_config reports that).
 */
struct each_check {
	struct report *rp;
	const char *conf;
};

static void
check_one(struct admin *a, unsigned i, const char *store, const char *label,
    void *arg)
{
	struct each_check *e = arg;

	(void)i;
	(void)store;
	check_config(a, e->rp, e->conf, label);
}

int
admin_cmd_check(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "deep", no_argument, NULL, 'd' },
		{ "pam-dir", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	struct report rp;
	const char *conf = a->conf != NULL ? a->conf : REC_CONF_DEFAULT;
	struct each_check e = { &rp, conf };
	/* The system as a whole: its stacks too, unless -c or -s narrow it. */
	const char *pamdir = a->conf == NULL && a->store == NULL ?
	    "/etc/pam.d" : NULL;
	int ch, r;

	memset(&rp, 0, sizeof(rp));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'j':
			rp.json = 1;
			break;
		case 'd':
			rp.deep = 1;
			break;
		case 'p':
			pamdir = optarg;
			break;
		default:
			a->usage();
		}
	}
	if (optind != argc)
		a->usage();
	if (rp.json) {
		tool_json_init(&rp.j, stdout);
		tool_json_object_begin(&rp.j);
		tool_json_key(&rp.j, "checks");
		tool_json_array_begin(&rp.j, TOOL_JSON_ROWS);
	}
	if (admin_each_config(a, check_one, &e) != 1)
		check_config(a, &rp, conf, NULL);
	if (pamdir != NULL)
		admin_check_stacks(&rp, a, pamdir);
	if (rp.json) {
		tool_json_array_end(&rp.j);
		if (rp.deep) {
			tool_json_key(&rp.j, "deep");
			tool_json_object_begin(&rp.j);
			tool_json_member_uint(&rp.j, "stores", rp.deep_stores);
			tool_json_member_uint(&rp.j, "violations",
			    rp.deep_violations);
			tool_json_object_end(&rp.j);
		}
		tool_json_member_uint(&rp.j, "warnings", rp.warns);
		tool_json_member_uint(&rp.j, "failures", rp.fails);
		tool_json_member_bool(&rp.j, "ok", rp.fails == 0);
		tool_json_object_end(&rp.j);
		if ((r = tool_json_finish(&rp.j)) != REC_OK) {
			warnx("standard output: %s", rec_strerror(r));
			return EXIT_FAIL;
		}
	} else
		printf("%u check%s: %u warning%s, %u failure%s\n", rp.n,
		    rp.n == 1 ? "" : "s", rp.warns, rp.warns == 1 ? "" : "s",
		    rp.fails, rp.fails == 1 ? "" : "s");
	return rp.fails == 0 ? EXIT_OK : EXIT_FAIL;
}
