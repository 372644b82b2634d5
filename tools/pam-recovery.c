/* SPDX-License-Identifier: BSD-2-Clause */
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
#include "rec_target.h"
#include "helper_reauth.h"
#include "tool_bind.h"
#include "tool_common.h"

#define PROG "pam-recovery"
#define LEAD PROG " [-c conf] "

/* The commands: tool_user_commands (tool_user.c), shared with pam-recovery-selfd. */
#define commands tool_user_commands
#define NCOMMANDS tool_user_ncommands

static void
synopsis(FILE *f)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		tool_synopsis(f, i == 0 ? "usage: " LEAD : "       " LEAD,
		    "       " LEAD, commands[i].syn);
	fputs("       " PROG " --help | --version | COMMAND --help\n", f);
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
	printf("\nOne-time recovery codes for logging in when the usual second "
	    "factor is lost.\n\nCommands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		tool_about(stdout, commands[i].name, commands[i].about);
	printf("\nOptions:\n"
	    "  -c, --conf PATH  another configuration file (default %s)\n"
	    "      --service NAME  the settings and store of PAM service NAME\n"
	    "  -h, --help       this help (COMMAND --help: that command's)\n"
	    "      --version    the version\n\n"
	    "Exit status: 0 success, 1 failure, 2 usage error.  See "
	    PROG "(1).\n", REC_CONF_DEFAULT);
	exit(EXIT_OK);
}

/* COMMAND --help: its synopsis and what it does. */
static void
command_help(const struct tool_command *c)
{
	tool_synopsis(stdout, "usage: " LEAD, "       " LEAD, c->syn);
	putchar('\n');
	tool_about(stdout, c->name, c->about);
	printf("\nOptions before the command: " PROG " --help.  See " PROG
	    "(1).\n");
	exit(EXIT_OK);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "service", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_config cfg;
	struct rec_log log;
	struct tool_target t;
	struct rec_target rt;
	const char *conf = NULL, *service = NULL, *cmd;
	struct passwd *pw;
	const struct tool_command *c = NULL;
	int ch, bound;

	tool_std_fds();
	memset(&t, 0, sizeof(t));
	while ((ch = getopt_long(argc, argv, "+c:h", longopts, NULL)) != -1) {
		if (ch == 'c')
			conf = optarg;
		else if (ch == 'S') {
			if (!rec_config_service_ok(optarg)) {
				warnx("--service %s: not a PAM service name",
				    optarg);
				usage();
			}
			service = optarg;
		} else if (ch == 'h')
			help();
		else if (ch == 'V') {
			printf(PROG " %s\n", REC_VERSION);
			return EXIT_OK;
		} else
			usage();
	}
	if (optind >= argc)
		usage();
	cmd = argv[optind];
	if (strcmp(cmd, "help") == 0)
		help();
	for (size_t i = 0; c == NULL && i < NCOMMANDS; i++)
		if (strcmp(cmd, commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		warnx("unknown command %s", cmd);
		usage();
	}
	argc -= optind;
	argv += optind;
	/* Before anything that could fail: help needs no configuration. */
	if (tool_wants_help(argc, argv))
		command_help(c);
	optind = 1;
	if (sodium_init() < 0)
		errx(EXIT_FAIL, "libsodium failed to initialise");
	tool_log_init(&log, 0);
	if (tool_load_user_config(conf, service, &cfg, &log) != REC_OK ||
	    tool_one_store(conf, service, &cfg, &log) != REC_OK)
		return EXIT_FAIL;
	/*
	 * The directory store: a user binds as themselves, never as the
	 * hosts' account nor through pam-recovery-selfd, and the directory's
	 * ACLs decide what they may do (conf/ldap/acl-self.conf).
	 */
	bound = rec_config_directory(&cfg) && getuid() != 0;
	if (bound && !tool_bind_usable(&cfg))
		return EXIT_FAIL;
	/* A system store is root's: its users go through pam-recovery-selfd. */
	if (!rec_config_per_user(&cfg) && !bound && getuid() != 0)
		return tool_self_client(&cfg, service, argc, argv);
	if (!rec_config_per_user(&cfg) && !bound)
		errx(EXIT_FAIL, "this system keeps recovery codes in the system "
		    "store %s: codes are issued by the administrator "
		    "(pam-recovery-admin generate)", cfg.store);
	/*
	 * As the module and the admin tool: codes made here while the module
	 * refuses every login of this configuration would be a surprise.
	 */
	if (rec_target_check_pepper(&cfg, &log) != REC_OK)
		return EXIT_FAIL;
	if ((pw = getpwuid(getuid())) == NULL)
		errx(EXIT_FAIL, "who are you? (uid %u is not in the password "
		    "database)", (unsigned)getuid());
	if (strlen(pw->pw_name) >= REC_USER_MAX)
		errx(EXIT_FAIL, "user name too long");
	t.cfg = &cfg;
	t.log = &log;
	t.who.user = pw->pw_name;
	t.who.service = "pam-recovery";
	t.service = service;
	if (cfg.reauth)
		t.reauth = helper_reauth;
	/* Our own store: its owner is pw's uid, which is ours. */
	if (rec_target_resolve(&cfg, pw->pw_name, pw, 0, &rt) != REC_OK)
		errx(EXIT_FAIL, "cannot work out the store path from %s",
		    cfg.store);
	tool_target_store(&t, &rt);
	if (bound)
		t.open = tool_bind_open;
	if (gethostname(t.host, sizeof(t.host) - 1) != 0)
		snprintf(t.host, sizeof(t.host), "localhost");
	return c->run(&t, argc, argv, usage);
}
