/* pam-recovery.c: the user's helper: make, print, check and invalidate one's own codes. */
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

static const char synopsis[] =
    "usage: pam-recovery [-c conf] generate [-n N] [--expires DAYS]\n"
    "                    [--format txt|csv|json|pdf] [-o FILE] [--qr] [-y]\n"
    "       pam-recovery [-c conf] status [--json]\n"
    "       pam-recovery [-c conf] history [--page N] [--per-page N] [--json]\n"
    "       pam-recovery [-c conf] verify\n"
    "       pam-recovery [-c conf] invalidate N... | --all [-y]\n"
    "       pam-recovery --help\n";

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
	    "One-time recovery codes for logging in when the usual second "
	    "factor is lost.\n\n"
	    "Commands:\n"
	    "  generate    make a new list of codes (the old list stops "
	    "working) and\n"
	    "              show it once: -n how many, --expires after DAYS, "
	    "--format,\n"
	    "              -o write a new file (0600, never overwritten), "
	    "--qr also\n"
	    "              print a QR code, -y replace working codes without "
	    "asking\n"
	    "  status      how many codes are left, expiry, lockout\n"
	    "  history     the lists made so far, newest first\n"
	    "  verify      check a code without using it up (asks for it "
	    "without echo)\n"
	    "  invalidate  make codes N... (as numbered on the list), or "
	    "--all, unusable\n\n"
	    "Options:\n"
	    "  -c, --conf PATH  another configuration file (default %s)\n"
	    "  -h, --help       this help\n\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.  See "
	    "pam-recovery(1).\n", synopsis, REC_CONF_DEFAULT);
	exit(EXIT_OK);
}

/* The commands, each with the same calling convention. */
static const struct {
	const char *name;
	int (*run)(struct tool_target *, int, char **, void (*)(void));
} commands[] = {
	{ "generate", tool_cmd_generate },
	{ "status", tool_cmd_status },
	{ "history", tool_cmd_history },
	{ "verify", tool_cmd_verify },
	{ "invalidate", tool_cmd_invalidate },
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_config cfg;
	struct rec_log log;
	struct tool_target t;
	const char *conf = NULL, *cmd;
	struct passwd *pw;
	int (*run)(struct tool_target *, int, char **, void (*)(void)) = NULL;
	int ch;

	tool_std_fds();
	memset(&t, 0, sizeof(t));
	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else if (ch == 'h')
			help();
		else
			usage();
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	if (strcmp(cmd, "help") == 0)
		help();
	for (size_t i = 0; run == NULL && i < sizeof(commands) /
	    sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			run = commands[i].run;
	if (run == NULL) {
		warnx("unknown command %s", cmd);
		usage();
	}
	argc -= optind;
	argv += optind;
	optind = 1;
	if (sodium_init() < 0)
		errx(EXIT_FAIL, "libsodium failed to initialise");
	tool_log_init(&log, 0);
	if (tool_load_user_config(conf, &cfg, &log) != REC_OK)
		return EXIT_FAIL;
	if (!rec_config_per_user(&cfg))
		errx(EXIT_FAIL, "this system keeps recovery codes in the system "
		    "store %s: codes are issued by the administrator "
		    "(pam-recovery-admin generate)", cfg.store);
	if ((pw = getpwuid(getuid())) == NULL)
		errx(EXIT_FAIL, "who are you? (uid %u is not in the password "
		    "database)", (unsigned)getuid());
	if (strlen(pw->pw_name) >= REC_USER_MAX)
		errx(EXIT_FAIL, "user name too long");
	t.cfg = &cfg;
	t.log = &log;
	t.owner = getuid();
	t.who.user = pw->pw_name;
	t.who.service = "pam-recovery";
	if (rec_config_store_path(&cfg, pw->pw_name, pw->pw_dir, t.path,
	    sizeof(t.path)) != REC_OK)
		errx(EXIT_FAIL, "cannot work out the store path from %s",
		    cfg.store);
	if (gethostname(t.host, sizeof(t.host) - 1) != 0)
		snprintf(t.host, sizeof(t.host), "localhost");
	return run(&t, argc, argv, usage);
}
