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

static void
usage(void)
{
	fprintf(stderr,
	    "usage: pam-recovery [-c conf] generate [-n N] [--expires DAYS] "
	    "[--format txt|csv|json] [-o FILE] [-y]\n"
	    "       pam-recovery [-c conf] status [--json]\n");
	exit(EXIT_USAGE);
}

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
	int ch;

	memset(&t, 0, sizeof(t));
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
	tool_log_init(&log, 0);
	if (tool_load_config(conf, &cfg, &log) != REC_OK)
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
	if (strcmp(cmd, "generate") == 0)
		return tool_cmd_generate(&t, argc, argv, usage);
	if (strcmp(cmd, "status") == 0)
		return tool_cmd_status(&t, argc, argv, usage);
	warnx("unknown command %s", cmd);
	usage();
}
