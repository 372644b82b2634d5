/* pam-recovery.c: the user's helper: generate codes and see their status. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "tool_common.h"

/* What every command needs: the configuration and the user's own store. */
struct ctx {
	struct rec_config cfg;
	struct rec_log log;
	char user[REC_USER_MAX];
	char path[REC_PATH_MAX];
	char host[256];
};

static void __attribute__((noreturn))
usage(void)
{
	fprintf(stderr,
	    "usage: pam-recovery [-c conf] generate [-n N] [--expires DAYS] "
	    "[--format txt|csv|json] [-o FILE] [-y]\n"
	    "       pam-recovery [-c conf] status [--json]\n");
	exit(EXIT_USAGE);
}

static unsigned
number(const char *s, unsigned min, unsigned max, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 || v < min ||
	    v > max) {
		warnx("%s must be a number from %u to %u", what, min, max);
		usage();
	}
	return (unsigned)v;
}

static int
parse_format(const char *s, enum rec_export *f)
{
	static const enum rec_export all[] = {
		REC_EXPORT_TXT, REC_EXPORT_CSV, REC_EXPORT_JSON,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, rec_export_name(all[i])) == 0) {
			*f = all[i];
			return 0;
		}
	return -1;
}

/* Open the invoking user's store; with create, make it if missing. */
static int
open_store(struct ctx *c, int create, struct rec_store **st)
{
	int r = rec_store_open(c->path, getuid(), create ? REC_STORE_CREATE : 0,
	    &c->log, st);

	if (r == REC_ERR_NOSTORE)
		*st = NULL;
	else if (r != REC_OK)
		warnx("store %s: %s", c->path, rec_strerror(r));
	return r == REC_ERR_NOSTORE ? REC_OK : r;
}

static uint32_t
exported_bit(enum rec_export f, int to_file)
{
	if (!to_file && f == REC_EXPORT_TXT)
		return REC_EXP_TERMINAL;
	switch (f) {
	case REC_EXPORT_CSV:	return REC_EXP_CSV;
	case REC_EXPORT_JSON:	return REC_EXP_JSON;
	case REC_EXPORT_PDF:	return REC_EXP_PDF;
	default:		return REC_EXP_TXT;
	}
}

static int
cmd_generate(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_new_batch *nb = NULL;
	struct rec_store *st = NULL;
	struct rec_who who = { .user = c->user, .service = "pam-recovery" };
	struct tool_listing l;
	enum rec_export format = REC_EXPORT_TXT;
	const char *out = NULL;
	unsigned count = c->cfg.code_count, days = c->cfg.code_expiry_days;
	unsigned flags = 0;
	uint64_t wait = 0;
	FILE *f = NULL;
	int ch, r, ret = EXIT_FAIL, format_given = 0;

	while ((ch = getopt_long(argc, argv, "n:e:f:o:y", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n': count = number(optarg, 1, REC_COUNT_MAX, "-n"); break;
		case 'e': days = number(optarg, 0, 36500, "--expires"); break;
		case 'f':
			if (parse_format(optarg, &format) != 0) {
				warnx("unknown format %s", optarg);
				usage();
			}
			format_given = 1;
			break;
		case 'o': out = optarg; break;
		case 'y': flags |= REC_GEN_REPLACE; break;
		default: usage();
		}
	}
	if (optind != argc)
		usage();
	if (out != NULL && !format_given && c->cfg.export_format != REC_EXPORT_PDF)
		format = c->cfg.export_format;
	/* Codes will be in this process's memory: keep them out of cores. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((nb = sodium_malloc(sizeof(*nb))) == NULL) {
		warnx("out of memory");
		goto out;
	}
	if (open_store(c, 1, &st) != REC_OK)
		goto out;
	r = rec_generate(st, &c->cfg, &who, NULL, count, days,
	    (uint64_t)time(NULL), flags, nb, &wait);
	if (r == REC_ERR_EXISTS) {
		if (!tool_confirm("Your current recovery codes still work. "
		    "Replace them all with new ones?")) {
			warnx("kept your current codes (use -y to replace them "
			    "without asking)");
			goto out;
		}
		r = rec_generate(st, &c->cfg, &who, NULL, count, days,
		    (uint64_t)time(NULL), flags | REC_GEN_REPLACE, nb, &wait);
	}
	if (r == REC_ERR_COOLDOWN) {
		warnx("codes were generated too recently: try again in %llu "
		    "seconds", (unsigned long long)wait);
		goto out;
	}
	if (r != REC_OK) {
		warnx("cannot generate codes: %s", rec_strerror(r));
		goto out;
	}
	if (out != NULL && (f = tool_create_private(out)) == NULL) {
		warn("%s (the new codes are active; invalidate them with "
		    "pam-recovery invalidate --all and retry)", out);
		goto out;
	}
	l.user = c->user;
	l.host = c->host;
	l.site = c->cfg.site_name;
	l.nb = nb;
	if (tool_print_codes(f != NULL ? f : stdout, format, &l) != 0) {
		warnx("could not write the codes");
		goto out;
	}
	if (f != NULL)
		fprintf(stderr, "Wrote %u codes to %s (mode 0600).\n",
		    nb->batch.count, out);
	r = rec_mark_exported(st, c->user, nb->batch.id,
	    exported_bit(format, out != NULL), (uint64_t)time(NULL));
	if (r != REC_OK)
		warnx("could not record the export: %s", rec_strerror(r));
	ret = EXIT_OK;
out:
	if (f != NULL && fclose(f) != 0 && ret == EXIT_OK) {
		warn("%s", out);
		ret = EXIT_FAIL;
	}
	rec_new_batch_wipe(nb);
	sodium_free(nb);
	rec_store_close(st);
	return ret;
}

static void
print_status_json(const struct ctx *c, const struct rec_status *s,
    uint64_t now)
{
	char id[20];

	printf("{\"user\":");
	tool_json_str(stdout, c->user);
	printf(",\"enrolled\":%s,\"batch\":", s->enrolled ? "true" : "false");
	if (s->enrolled)
		printf("\"%s\"", tool_batch_id(s->batch, id, sizeof(id)));
	else
		printf("null");
	printf(",\"count\":%u,\"used\":%u,\"invalidated\":%u,\"remaining\":%u,"
	    "\"created\":%llu,\"expires\":%llu,\"expired\":%s,\"verified\":%llu,"
	    "\"last_used\":%llu,\"failures\":%u,\"locked_until\":%llu,"
	    "\"lock_remaining\":%llu}\n", s->count, s->used, s->invalidated,
	    s->remaining, (unsigned long long)s->created,
	    (unsigned long long)s->expires, s->expired ? "true" : "false",
	    (unsigned long long)s->verified, (unsigned long long)s->last_used,
	    s->failures, (unsigned long long)(s->lock_remaining ?
	    now + s->lock_remaining : 0), (unsigned long long)s->lock_remaining);
}

static int
cmd_status(struct ctx *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_store *st = NULL;
	struct rec_status s;
	uint64_t now = (uint64_t)time(NULL);
	char t1[32], t2[32], t3[32], id[20];
	int ch, json = 0, ret = EXIT_FAIL, r;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			usage();
		json = 1;
	}
	if (optind != argc)
		usage();
	if (open_store(c, 0, &st) != REC_OK)
		goto out;
	if ((r = rec_auth_status(st, &c->cfg, c->user, now, &s)) != REC_OK) {
		warnx("store %s: %s", c->path, rec_strerror(r));
		goto out;
	}
	ret = EXIT_OK;
	if (json) {
		print_status_json(c, &s, now);
		goto out;
	}
	if (!s.enrolled) {
		printf("No recovery codes yet. Create some with: "
		    "pam-recovery generate\n");
		goto out;
	}
	printf("Recovery codes for %s: %u of %u left%s\n", c->user,
	    s.remaining, s.count, s.expired ? " (EXPIRED)" : "");
	printf("  batch %s, created %s, expires %s\n",
	    tool_batch_id(s.batch, id, sizeof(id)),
	    tool_time(s.created, t1, sizeof(t1)),
	    tool_time(s.expires, t2, sizeof(t2)));
	printf("  used %u, invalidated %u, verified %s, last used %s\n",
	    s.used, s.invalidated, tool_time(s.verified, t3, sizeof(t3)),
	    tool_time(s.last_used, t1, sizeof(t1)));
	if (s.lock_remaining > 0)
		printf("  LOCKED for %llu more seconds after failed attempts\n",
		    (unsigned long long)s.lock_remaining);
	else
		printf("  not locked (%u recent failed attempt%s)\n",
		    s.failures, s.failures == 1 ? "" : "s");
	if (s.remaining == 0 || s.expired)
		printf("Generate new codes with: pam-recovery generate\n");
	else if (s.remaining <= c->cfg.warn_remaining)
		printf("Running low: generate new codes soon with: "
		    "pam-recovery generate\n");
out:
	rec_store_close(st);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctx c;
	const char *conf = NULL, *cmd;
	struct passwd *pw;
	int ch;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else
			usage();
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	optind = 1;
	if (sodium_init() < 0)
		errx(EXIT_FAIL, "libsodium failed to initialise");
	tool_log_init(&c.log, 0);
	if (tool_load_config(conf, &c.cfg, &c.log) != REC_OK)
		return EXIT_FAIL;
	if (!rec_config_per_user(&c.cfg))
		errx(EXIT_FAIL, "this system keeps recovery codes in the system "
		    "store %s: ask your administrator to issue codes", c.cfg.store);
	if ((pw = getpwuid(getuid())) == NULL)
		errx(EXIT_FAIL, "who are you? (uid %u is not in the password "
		    "database)", (unsigned)getuid());
	if (strlen(pw->pw_name) >= sizeof(c.user))
		errx(EXIT_FAIL, "user name too long");
	memcpy(c.user, pw->pw_name, strlen(pw->pw_name) + 1);
	if (rec_config_store_path(&c.cfg, pw->pw_name, pw->pw_dir, c.path,
	    sizeof(c.path)) != REC_OK)
		errx(EXIT_FAIL, "cannot work out the store path from %s",
		    c.cfg.store);
	if (gethostname(c.host, sizeof(c.host) - 1) != 0)
		snprintf(c.host, sizeof(c.host), "localhost");
	if (strcmp(cmd, "generate") == 0)
		return cmd_generate(&c, argc, argv);
	if (strcmp(cmd, "status") == 0)
		return cmd_status(&c, argc, argv);
	warnx("unknown command %s", cmd);
	usage();
}
