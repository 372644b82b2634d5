/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_purge.c: pam-recovery-admin purge, its report and its mail. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "admin_common.h"
#include "rec_err.h"
#include "rec_purge.h"

extern char **environ;

/*
 * What the stores add up to, in plain data: a per-user store is purged in
 * a child that is its owner (admin_each_store), which hands this back.
 * The child's lines of the report wait in users and errs (one store's
 * worth: a line or two) until the report's process takes them.
 */
#define HELD 1024
struct tally {
	struct rec_purge_stats total;
	unsigned stores, errors;
	int incomplete;
	char users[HELD];
	char errs[HELD];
};

/* One run over one or many stores, and the report it builds. */
struct run {
	struct rec_purge_opts o;
	int report;
	const char *mail;
	pid_t self;		/* the process that holds the report */
	const char *owner;	/* of the per-user store being purged */
	struct tally tally;
	FILE *users;		/* per-user lines of the report */
	char *users_buf;
	size_t users_len;
	FILE *errs;		/* error lines of the report */
	char *errs_buf;
	size_t errs_len;
};

/* A line of the report: straight in here, kept in the tally in a child. */
static void __attribute__((format(printf, 4, 5)))
line(struct run *r, FILE *f, char *held, const char *fmt, ...)
{
	size_t n = strlen(held);
	va_list ap;

	va_start(ap, fmt);
	if (getpid() == r->self)
		vfprintf(f, fmt, ap);
	else
		vsnprintf(held + n, HELD - n, fmt, ap);
	va_end(ap);
}

/* After a store purged in a child: its lines join the report. */
static void
merged(void *arg, const char *path, int lost)
{
	struct run *r = arg;

	if (lost) {
		fprintf(r->errs, "  %s: %s\n", path, lost == ADMIN_LOST_TIMEOUT ?
		    "skipped: no answer within store_timeout (its owner may "
		    "hold its lock)" : "not read to the end (the store is "
		    "probably corrupt)");
		r->tally.errors++;
	}
	fputs(r->tally.users, r->users);
	fputs(r->tally.errs, r->errs);
	r->tally.users[0] = r->tally.errs[0] = '\0';
}

/*
 * A user's line.  The name is a key of the store: in a per-user store the
 * owner may have written records under any name, so the line is the
 * owner's, and names the other user only as a forgery.
 */
static void
per_user(const char *user, uint64_t codes, uint64_t batches, void *arg)
{
	struct run *r = arg;
	char name[TOOL_VIS_LEN(REC_USER_MAX)], other[TOOL_VIS_LEN(REC_USER_MAX)];
	int forged = r->owner != NULL && strcmp(user, r->owner) != 0;

	line(r, r->users, r->tally.users, "  %-24s %8llu codes %6llu "
	    "batches%s%s%s\n", tool_vis(forged ? r->owner : user,
	    TOOL_VIS_SPACE, name, sizeof(name)), (unsigned long long)codes,
	    (unsigned long long)batches, forged ? " (forged records for " :
	    "", forged ? tool_vis(user, TOOL_VIS_SPACE, other, sizeof(other)) :
	    "", forged ? ")" : "");
}

static int
purge_store(struct admin *a, struct tool_target *t, void *arg)
{
	struct run *run = arg;
	struct rec_purge_stats s;
	int r;

	if (!run->o.dry_run && !admin_may_change(a, t))
		return EXIT_FAIL;
	if (tool_target_open(t, 0) != REC_OK) {
		line(run, run->errs, run->tally.errs, "  %s: cannot open\n",
		    t->path);
		run->tally.errors++;
		return EXIT_FAIL;
	}
	if (t->st == NULL)
		return EXIT_OK;
	run->tally.stores++;
	run->owner = rec_config_per_user(&a->cfg) ? t->who.user : NULL;
	r = rec_purge(t->st, &a->cfg, &t->who, &run->o, per_user, run, &s);
	run->tally.total.codes += s.codes;
	run->tally.total.batches_purged += s.batches_purged;
	run->tally.total.batches_deleted += s.batches_deleted;
	run->tally.total.txns += s.txns;
	run->tally.total.codes_left += s.codes_left;
	run->tally.total.batches_left += s.batches_left;
	if (!s.complete)
		run->tally.incomplete = 1;
	if (r != REC_OK) {
		warnx("store %s: %s", t->path, rec_strerror(r));
		line(run, run->errs, run->tally.errs, "  %s: %s\n", t->path,
		    rec_strerror(r));
		run->tally.errors++;
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* The report as text: what went, per user, what is left, how long. */
static void
write_report(FILE *f, const struct admin *a, const struct run *r,
    double secs, int full)
{
	const struct rec_purge_stats *n = &r->tally.total;
	char site[TOOL_VIS_LEN(REC_STR_MAX)];

	fprintf(f, "%s%llu code%s, %llu batch%s purged, %llu purged batch "
	    "card%s deleted, in %llu transaction%s (%.2f s)%s.\n",
	    r->o.dry_run ? "Dry run, would remove: " : "Removed ",
	    (unsigned long long)n->codes, n->codes == 1 ? "" : "s",
	    (unsigned long long)n->batches_purged,
	    n->batches_purged == 1 ? "" : "es",
	    (unsigned long long)n->batches_deleted,
	    n->batches_deleted == 1 ? "" : "s",
	    (unsigned long long)n->txns, n->txns == 1 ? "" : "s", secs,
	    r->tally.incomplete ? "; stopped at --max, run again to finish" :
	    "");
	if (!full)
		return;
	fprintf(f, "\nSite %s, retention %u days, %u store%s, batches of %u "
	    "records.\n", tool_vis(a->cfg.site_name, 0, site, sizeof(site)),
	    r->o.retention_days, r->tally.stores,
	    r->tally.stores == 1 ? "" : "s", r->o.batch_size);
	fprintf(f, "\nPer user:\n%s", r->users_len != 0 ? r->users_buf :
	    "  (nothing to remove)\n");
	fprintf(f, "\nLeft: %llu codes in %llu batches.\n",
	    (unsigned long long)n->codes_left,
	    (unsigned long long)n->batches_left);
	fprintf(f, "\nErrors: %u\n%s", r->tally.errors, r->errs_len != 0 ?
	    r->errs_buf : "");
}

/* A mail address for a header: no line breaks, no option, not empty. */
static int
bad_address(const char *s)
{
	return *s == '\0' || *s == '-' || strpbrk(s, "\r\n") != NULL ||
	    strlen(s) > 254;
}

/*
 * Hand the report to sendmail as a proper message.  sendmail is run
 * directly (no shell) with the recipients taken from the headers.
 */
static int
send_report(const struct admin *a, const struct run *r, const char *to,
    double secs)
{
	char from[REC_STR_MAX + 64], date[64], site[TOOL_VIS_LEN(REC_STR_MAX)];
	char *const argv[] = { "sendmail", "-t", "-oi", NULL };
	posix_spawn_file_actions_t fa;
	time_t now = time(NULL);
	struct tm tm;
	FILE *f = NULL;
	pid_t pid = -1;
	int fds[2] = { -1, -1 }, status, ret = -1;

	if (a->cfg.mail_from[0] != '\0')
		snprintf(from, sizeof(from), "%s", a->cfg.mail_from);
	else
		snprintf(from, sizeof(from), "root@%s", a->host);
	if (bad_address(to) || bad_address(from)) {
		warnx("refusing to mail: bad address");
		return -1;
	}
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
	    gmtime_r(&now, &tm));
	if (pipe(fds) == -1 || posix_spawn_file_actions_init(&fa) != 0) {
		warn("pipe");
		goto out;
	}
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	posix_spawn_file_actions_addclose(&fa, fds[1]);
	errno = posix_spawnp(&pid, "sendmail", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fds[0]);
	fds[0] = -1;
	if (errno != 0) {
		warn("sendmail");
		pid = -1;
		goto out;
	}
	if ((f = fdopen(fds[1], "w")) == NULL)
		goto out;
	fds[1] = -1;
	fprintf(f, "From: %s\nTo: %s\nSubject: [%s] pam_recovery purge "
	    "report\nDate: %s\nMIME-Version: 1.0\nContent-Type: text/plain; "
	    "charset=utf-8\nAuto-Submitted: auto-generated\n\n", from, to,
	    tool_vis(a->cfg.site_name, 0, site, sizeof(site)), date);
	write_report(f, a, r, secs, 1);
	ret = 0;
out:
	if (f != NULL && fclose(f) != 0)
		ret = -1;
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	if (pid > 0 && (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)) {
		warnx("sendmail failed");
		ret = -1;
	}
	return ret;
}

int
admin_cmd_purge(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "retention-days", required_argument, NULL, 'r' },
		{ "batch-size", required_argument, NULL, 'b' },
		{ "max", required_argument, NULL, 'm' },
		{ "report", no_argument, NULL, 'R' },
		{ "mail", required_argument, NULL, 'M' },
		{ "departed", no_argument, NULL, 'D' },
		{ NULL, 0, NULL, 0 },
	};
	struct run r;
	struct tool_target t;
	struct timespec t0, t1;
	const char *to;
	double secs;
	char *end;
	int ch, ret = EXIT_FAIL, departed = 0, others = 0;

	memset(&r, 0, sizeof(r));
	r.o.retention_days = a->cfg.retention_days;
	r.o.batch_size = a->cfg.purge_batch_size;
	r.o.max = a->cfg.purge_max_per_run;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			r.o.dry_run = 1;
			break;
		case 'r':
			r.o.retention_days = tool_number(optarg, 0, 36500,
			    "--retention-days", a->usage);
			break;
		case 'b':
			r.o.batch_size = tool_number(optarg, 1, 1000000,
			    "--batch-size", a->usage);
			break;
		case 'm':
			errno = 0;
			r.o.max = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || errno != 0 ||
			    r.o.max < -1) {
				warnx("--max must be -1 (all) or a number");
				a->usage();
			}
			break;
		case 'R':
			r.report = 1;
			break;
		case 'M':
			r.mail = optarg;
			break;
		case 'D':
			departed = 1;
			break;
		default:
			a->usage();
		}
		others += ch != 'n' && ch != 'D';
	}
	if (optind != argc || (departed && others > 0))
		a->usage();
	if (departed)
		return admin_purge_departed(a, r.o.dry_run);
	to = r.mail != NULL ? r.mail : a->cfg.admin_email[0] != '\0' ?
	    a->cfg.admin_email : NULL;
	r.users = open_memstream(&r.users_buf, &r.users_len);
	r.errs = open_memstream(&r.errs_buf, &r.errs_len);
	if (r.users == NULL || r.errs == NULL) {
		warn("report");
		goto out;
	}
	r.o.now = (uint64_t)time(NULL);
	r.self = getpid();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	if (rec_config_per_user(&a->cfg))
		ret = admin_each_store(a, purge_store, &r, &r.tally,
		    sizeof(r.tally), merged);
	else {
		memset(&t, 0, sizeof(t));
		if (admin_system_target(a, &t) == REC_OK)
			ret = purge_store(a, &t, &r);
		tool_target_close(&t);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	fflush(r.users);
	fflush(r.errs);
	write_report(stdout, a, &r, secs, r.report);
	if (to != NULL && send_report(a, &r, to, secs) != 0)
		ret = EXIT_FAIL;
out:
	if (r.users != NULL)
		fclose(r.users);
	if (r.errs != NULL)
		fclose(r.errs);
	free(r.users_buf);
	free(r.errs_buf);
	return ret;
}
