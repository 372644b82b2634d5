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

static const char synopsis[] =
    "usage: pam-recovery-admin [-c conf] [-s store] command [options]\n"
    "  list [--json]\n"
    "  show USER [--json]\n"
    "  history USER [--page N] [--per-page N] [--json]\n"
    "  generate USER [-n N] [--expires DAYS] [--format txt|csv|json|pdf]\n"
    "                [-o FILE] [--qr] [-y]\n"
    "  invalidate USER N... | --all [-y]\n"
    "  unlock USER\n"
    "  audit [--user USER] [--since DATE] [--json]\n"
    "  audit --purge [--older-than DAYS] [--dry-run]\n"
    "  check [--deep] [--json]\n"
    "  calibrate [--target-ms MS] [--max-memory SIZE]\n"
    "  backup [--user USER] DEST\n"
    "  purge [--dry-run] [--retention-days N] [--batch-size N] [--max N]\n"
    "        [--report] [--mail ADDR]\n"
    "pam-recovery-admin --help\n";

static void
usage(void)
{
	fputs(synopsis, stderr);
	exit(EXIT_USAGE);
}

static void
help(void)
{
	printf("%s\n"
	    "Manage recovery codes for all users.  Commands that change a "
	    "store need root.\n\n"
	    "  list        users with codes: left, expiry, last use, lock\n"
	    "  show        USER's codes, as USER sees them\n"
	    "  history     USER's batches, newest first\n"
	    "  generate    issue codes for USER (shown once)\n"
	    "  invalidate  make USER's codes N... (or --all) unusable\n"
	    "  unlock      clear USER's lockout and generate cooldown\n"
	    "  audit       the audit trail (DATE: YYYY-MM-DD[THH:MM:SS], "
	    "UTC),\n"
	    "              or delete events older than DAYS (default "
	    "audit_retention_days)\n"
	    "  check       configuration, stores, hash cost; fails on any "
	    "error\n"
	    "              (--deep: also every batch's counters against its "
	    "codes)\n"
	    "  calibrate   suggest kdf_opslimit and kdf_memlimit for a time\n"
	    "  backup      hot copy of a store into the new directory DEST\n"
	    "  purge       delete dead codes and batches older than the "
	    "retention\n\n"
	    "Options:\n"
	    "  -c, --conf PATH   another configuration file (default %s)\n"
	    "  -s, --store PATH  act on this store (or per-user pattern)\n"
	    "  -h, --help        this help\n\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.  See "
	    "pam-recovery-admin(8).\n", synopsis, REC_CONF_DEFAULT);
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

static const struct command {
	const char *name;
	int (*fn)(struct admin *, int, char **);
	int config;	/* load the configuration (check loads its own) */
	int pepper;	/* hashes codes: load pepper_file */
} commands[] = {
	{ "list", admin_cmd_list, 1, 0 },
	{ "show", admin_cmd_user, 1, 0 },
	{ "history", admin_cmd_user, 1, 0 },
	{ "generate", admin_cmd_user, 1, 1 },
	{ "invalidate", admin_cmd_user, 1, 0 },
	{ "unlock", admin_cmd_user, 1, 0 },
	{ "audit", admin_cmd_audit, 1, 0 },
	{ "check", admin_cmd_check, 0, 0 },
	{ "calibrate", admin_cmd_calibrate, 0, 0 },
	{ "backup", admin_cmd_backup, 1, 0 },
	{ "purge", admin_cmd_purge, 1, 0 },
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "store", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
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
		case 'h':
			help();
			break;
		default:
			usage();
		}
	}
	if (optind >= argc)
		usage();
	argc -= optind;
	argv += optind;
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[0], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		warnx("unknown command %s", argv[0]);
		usage();
	}
	if (sodium_init() < 0)
		errx(EXIT_FAIL, "libsodium failed to initialise");
	tool_log_init(&a.log, 0);
	actor_name(a.actor, sizeof(a.actor));
	if (gethostname(a.host, sizeof(a.host) - 1) != 0)
		snprintf(a.host, sizeof(a.host), "localhost");
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
