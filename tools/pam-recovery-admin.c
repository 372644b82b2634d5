/* SPDX-License-Identifier: BSD-2-Clause */
/* pam-recovery-admin.c: the administrator's tool: options and dispatch. */
#include <err.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "admin_common.h"
#include "rec_err.h"

#define PROG "pam-recovery-admin"
#define LEAD PROG " [-c conf] [-s store] "

/*
 * The commands: what each needs before it runs, and its synopsis and
 * description, from which usage, --help and COMMAND --help are printed.
 */
static const struct command {
	const char *name;
	int (*fn)(struct admin *, int, char **);
	int config;	/* load the configuration (check loads its own) */
	int pepper;	/* hashes codes: load pepper_file */
	const char *syn;
	const char *about;
} commands[] = {
	{ "list", admin_cmd_list, 1, 0, "list [--json]",
	    "users with codes: left, expiry, last use, lock" },
	{ "show", admin_cmd_user, 1, 0, "show USER [--codes] [--json]",
	    "USER's codes, as USER sees them" },
	{ "history", admin_cmd_user, 1, 0,
	    "history USER [--page N] [--per-page N] [--json]",
	    "USER's batches, newest first" },
	{ "generate", admin_cmd_user, 1, 1,
	    "generate USER [-n N] [--expires DAYS]\n"
	    " [--format txt|csv|json|pdf] [-o FILE] [--qr] [-y]\n"
	    " [--encrypt-to-ssh-key KEYFILE -o FILE]\n"
	    "generate --users-from FILE [-n N] [--expires DAYS]\n"
	    " [--format txt|csv|json|pdf] [-o DIR] [--qr] [-y]",
	    "issue codes for USER (shown once; or sealed with age to\n"
	    "USER's SSH public key, for a help desk that must not read them),\n"
	    "or for each user of FILE (one a line, '#' comments; -o DIR:\n"
	    "DIR/USER.FORMAT each)" },
	{ "invalidate", admin_cmd_user, 1, 0,
	    "invalidate USER N... | --all [-y]",
	    "make USER's codes N... (or --all) unusable" },
	{ "forget", admin_cmd_forget, 1, 0, "forget USER [-y]",
	    "remove every record of USER (offboarding; audited)" },
	{ "unlock", admin_cmd_user, 1, 0, "unlock USER",
	    "clear USER's lockout and generate cooldown" },
	{ "audit", admin_cmd_audit, 1, 0,
	    "audit [--user USER] [--since DATE] [--json]\n"
	    "audit --purge [--older-than DAYS] [--dry-run]",
	    "the audit trail (DATE: YYYY-MM-DD[THH:MM:SS], UTC),\n"
	    "or delete events older than DAYS (default audit_retention_days)" },
	{ "check", admin_cmd_check, 0, 0,
	    "check [--deep] [--json] [--pam-dir DIR]",
	    "configuration, stores, hash cost, the PAM stacks; fails on any\n"
	    "error (--deep: also every batch's counters against its codes)" },
	{ "calibrate", admin_cmd_calibrate, 0, 0,
	    "calibrate [--target-ms MS] [--max-memory SIZE]",
	    "suggest kdf_opslimit and kdf_memlimit for a time" },
	{ "backup", admin_cmd_backup, 1, 0, "backup [--user USER] DEST",
	    "hot copy of a store into the new directory DEST" },
	{ "purge", admin_cmd_purge, 1, 0,
	    "purge [--dry-run] [--retention-days N] [--batch-size N]\n"
	    " [--max N] [--report] [--mail ADDR]\n"
	    "purge --departed [--dry-run]",
	    "delete dead codes and batches older than the retention,\n"
	    "or (--departed) every record of users no longer in passwd" },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void
synopsis(FILE *f)
{
	fputs("usage: " LEAD "command [options]\n", f);
	for (size_t i = 0; i < NCOMMANDS; i++)
		tool_synopsis(f, "  ", "  ", commands[i].syn);
	fputs(PROG " --help | --version | COMMAND --help\n", f);
}

static void
usage(void)
{
	synopsis(stderr);
	exit(EXIT_USAGE);
}

static void
help(void)
{
	synopsis(stdout);
	printf("\nManage recovery codes for all users.  Commands that change "
	    "a store need root.\n\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		tool_about(stdout, commands[i].name, commands[i].about);
	printf("\nOptions:\n"
	    "  -c, --conf PATH   another configuration file (default %s)\n"
	    "  -s, --store PATH  act on this store (or per-user pattern)\n"
	    "      --service NAME  the settings and store of PAM service NAME\n"
	    "  -h, --help        this help (COMMAND --help: that command's)\n"
	    "      --version     the version\n\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.  See "
	    PROG "(8).\n", REC_CONF_DEFAULT);
	exit(EXIT_OK);
}

/* COMMAND --help: its synopsis and what it does. */
static void
command_help(const struct command *c)
{
	tool_synopsis(stdout, "usage: " PROG " [options] ",
	    "       " PROG " [options] ", c->syn);
	putchar('\n');
	tool_about(stdout, c->name, c->about);
	printf("\nOptions before the command: " PROG " --help.  See " PROG
	    "(8).\n");
	exit(EXIT_OK);
}

/*
 * Who is acting, for the audit trail: the administrator behind sudo, or
 * the real user.  SUDO_USER is believed only when the real uid is root, as
 * sudo leaves it; anyone else could set it to anything.
 */
static void
actor_name(char *buf, size_t len)
{
	const char *sudo = getenv("SUDO_USER");
	struct passwd *pw;

	if (getuid() == 0 && sudo != NULL && *sudo != '\0')
		snprintf(buf, len, "%s", sudo);
	else if ((pw = getpwuid(getuid())) != NULL)
		snprintf(buf, len, "%s", pw->pw_name);
	else
		snprintf(buf, len, "uid=%u", (unsigned)getuid());
}

struct browse {
	const struct command *c;
	int argc;
	char **argv, **av;
	int ret;
};

/* One store of browse_each: a heading, then the command on it. */
static void
browse_one(struct admin *a, unsigned i, const char *store, const char *label,
    void *arg)
{
	char v[TOOL_VIS_LEN(REC_PATH_MAX)], l[TOOL_VIS_LEN(1024)];
	struct browse *b = arg;
	int r;

	printf("%s== store %s (%s)\n", i > 0 ? "\n" : "",
	    tool_vis(store, TOOL_VIS_SPACE, v, sizeof(v)),
	    tool_vis(label, 0, l, sizeof(l)));
	fflush(stdout);
	if (admin_config(a, &a->cfg, &a->log) != REC_OK) {
		b->ret = EXIT_FAIL;
		return;
	}
	/* Commands rewrite their argv (show USER): a fresh copy each. */
	memcpy(b->av, b->argv, (size_t)(b->argc + 1) * sizeof(*b->av));
	optind = 0;
	if ((r = b->c->fn(a, b->argc, b->av)) != EXIT_OK && r > b->ret)
		b->ret = r;
	fflush(stdout);
}

/*
 * The commands that only look (list, show, history, audit) over a file
 * whose [service NAME] sections name several stores: each store in turn,
 * under a heading that names the services using it, rather than a guess
 * or a refusal.  JSON output stays one document: there --service is
 * needed.  Returns the worst exit status, or -1 when this does not apply.
 */
static int
browse_each(struct admin *a, const struct command *c, int argc, char **argv)
{
	static const char *const browse[] = { "list", "show", "history",
	    "audit" };
	struct browse b = { c, argc, argv, NULL, EXIT_OK };
	int done;
	size_t i;

	for (i = 0; i < sizeof(browse) / sizeof(browse[0]); i++)
		if (strcmp(c->name, browse[i]) == 0)
			break;
	if (i == sizeof(browse) / sizeof(browse[0]))
		return -1;
	for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
		if (strcmp(argv[k], "--json") == 0)
			return -1;
	if ((b.av = calloc((size_t)argc + 1, sizeof(*b.av))) == NULL)
		return -1;
	done = admin_each_config(a, browse_one, &b);
	free(b.av);
	return done == 1 ? b.ret : -1;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "service", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct admin a;
	const struct command *c = NULL;
	unsigned char *pepper = NULL;
	int ch, ret = EXIT_FAIL;

	tool_std_fds();
	/* A closed output ends us quietly, as any filter (head(1) after us). */
	signal(SIGPIPE, SIG_DFL);
	memset(&a, 0, sizeof(a));
	a.usage = usage;
	while ((ch = getopt_long(argc, argv, "+c:s:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			a.conf = optarg;
			break;
		case 's':
			a.store = optarg;
			break;
		case 'S':
			if (!rec_config_service_ok(optarg)) {
				warnx("--service %s: not a PAM service name",
				    optarg);
				usage();
			}
			a.service = optarg;
			break;
		case 'h':
			help();
			break;
		case 'V':
			printf(PROG " %s\n", REC_VERSION);
			return EXIT_OK;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		warnx("unknown command %s", argv[0]);
		usage();
	}
	/* Before anything that could fail: help needs no configuration. */
	if (tool_wants_help(argc, argv))
		command_help(c);
	if (sodium_init() < 0)
		errx(EXIT_FAIL, "libsodium failed to initialise");
	tool_log_init(&a.log, 0);
	actor_name(a.actor, sizeof(a.actor));
	if (gethostname(a.host, sizeof(a.host) - 1) != 0)
		snprintf(a.host, sizeof(a.host), "localhost");
	if (c->config && !c->pepper && (ret = browse_each(&a, c, argc,
	    argv)) != -1)
		goto out;
	ret = EXIT_FAIL;
	if (c->config && admin_config(&a, &a.cfg, &a.log) != REC_OK)
		goto out;
	if (c->pepper && a.cfg.pepper_file[0] != '\0') {
		if ((pepper = sodium_malloc(REC_PEPPER_LEN)) == NULL) {
			warnx("out of memory");
			goto out;
		}
		if (rec_kdf_load_pepper(a.cfg.pepper_file, pepper, &a.log) !=
		    REC_OK)
			goto out;
		a.pepper = pepper;
	}
	/* Each command parses its own options from argv[0] on. */
	optind = 0;
	ret = c->fn(&a, argc, argv);
out:
	sodium_free(pepper);
	return ret;
}
