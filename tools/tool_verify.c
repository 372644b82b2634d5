/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_verify.c: the verify command: would this code be accepted? It is not used up. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include <bsd/readpassphrase.h>
#include <sodium.h>

#include "rec_err.h"
#include "tool_common.h"

/* Room for a code typed with spaces or dashes, and then some. */
#define INPUT_MAX 256

static void
say_locked(uint64_t secs, uint64_t now)
{
	char when[32], wait[64];

	warnx("recovery codes are locked after too many failed attempts: try "
	    "again in %s, at %s", tool_duration(secs, wait, sizeof(wait)),
	    tool_time(now + secs, when, sizeof(when)));
}

static void
say_no_codes(const struct tool_target *t)
{
	char hint[TOOL_HINT_LEN], user[TOOL_VIS_LEN(REC_USER_MAX)];

	warnx("no recovery codes for %s, so none would be accepted: create "
	    "some with: %s", tool_vis(t->who.user, 0, user, sizeof(user)),
	    tool_generate_hint(t, hint, sizeof(hint)));
}

/*
 * Say why nothing would be accepted before asking for a code: no codes,
 * locked, expired, none left.  Returns 1 when a code is worth asking for.
 */
static int
worth_asking(const struct tool_target *t, const struct rec_status *s,
    uint64_t now)
{
	char hint[TOOL_HINT_LEN], t1[32];

	tool_generate_hint(t, hint, sizeof(hint));
	if (!s->enrolled)
		say_no_codes(t);
	else if (s->lock_remaining > 0)
		say_locked(s->lock_remaining, now);
	else if (s->expired)
		warnx("the recovery codes expired on %s: none would be "
		    "accepted; generate new ones with: %s",
		    tool_time(s->expires, t1, sizeof(t1)), hint);
	else if (s->remaining == 0)
		warnx("all %u recovery codes are used or invalidated: generate "
		    "new ones with: %s", s->count, hint);
	else
		return 1;
	return 0;
}

/* Tell the outcome r of the attempt. */
static void
report(const struct tool_target *t, int r, const struct rec_result *res,
    uint64_t now)
{
	char wait[64], hint[TOOL_HINT_LEN];

	tool_generate_hint(t, hint, sizeof(hint));
	switch (r) {
	case REC_OK:
		printf("Code #%u would be accepted; it was not used up (%u "
		    "code%s left).\n", res->slot, res->remaining,
		    res->remaining == 1 ? "" : "s");
		return;
	case REC_ERR_MALFORMED:
		warnx("not a valid recovery code — check for typos (this did "
		    "not count as a failed attempt)");
		break;
	case REC_ERR_NOMATCH:
		warnx("wrong code: it is not one of the current recovery codes "
		    "(this counted as a failed attempt)");
		break;
	case REC_ERR_USED:
		warnx("this code was already used: it will not work again");
		break;
	case REC_ERR_INVALIDATED:
		warnx("this code was invalidated: it will not work any more");
		break;
	case REC_ERR_EXPIRED:
		warnx("the recovery codes have expired: generate new ones "
		    "with: %s", hint);
		break;
	case REC_ERR_NOSTORE:
		say_no_codes(t);
		break;
	case REC_ERR_LOCKED:
		say_locked(res->lock_remaining, now);
		return;
	default:
		warnx("cannot verify the code: %s", rec_strerror(r));
		return;
	}
	if (res->locked_now)
		warnx("too many failed attempts: recovery codes are now locked "
		    "for %s", tool_duration(res->lock_remaining, wait,
		    sizeof(wait)));
}

int
tool_cmd_verify(struct tool_target *t, int argc, char **argv,
    void (*usage)(void))
{
	static const struct option longopts[] = { { NULL, 0, NULL, 0 } };
	char input[INPUT_MAX];
	struct rec_status s;
	struct rec_result res;
	uint64_t now = (uint64_t)time(NULL);
	int flags, r, ret = EXIT_FAIL;

	sodium_memzero(input, sizeof(input));
	if (getopt_long(argc, argv, "", longopts, NULL) != -1)
		usage();
	if (optind != argc) {
		warnx("verify asks for the code: never put a code on the "
		    "command line, where others can see it");
		usage();
	}
	/* The code will be in this process's memory: keep it out of cores. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (tool_target_open(t, 0) != REC_OK)
		goto out;
	if ((r = rec_auth_status(t->st, t->cfg, t->who.user, now, &s)) !=
	    REC_OK) {
		warnx("store %s: %s", t->path, rec_strerror(r));
		goto out;
	}
	if (!worth_asking(t, &s, now))
		goto out;
	/*
	 * From the controlling terminal without echo; when standard input is
	 * not a terminal (a script, a test), one line of it.  A terminal on
	 * standard input without a controlling terminal (as under "su -c")
	 * is refused: readpassphrase would read it with echo on.
	 */
	flags = RPP_ECHO_OFF | (isatty(STDIN_FILENO) ? RPP_REQUIRE_TTY :
	    RPP_STDIN);
	if (readpassphrase("Recovery code: ", input, sizeof(input), flags) ==
	    NULL) {
		if (errno == ENOTTY)
			warnx("no controlling terminal to ask for the code "
			    "without echo (as under \"su -c\"): run verify "
			    "from a login shell");
		else
			warn("cannot read the code");
		goto out;
	}
	if (input[strspn(input, " \t-")] == '\0') {
		warnx("no code was entered: nothing was checked");
		goto out;
	}
	r = rec_auth_attempt(t->st, t->cfg, &t->who,
	    &(struct rec_attempt){ .input = input, .pepper = t->pepper,
	    .now = (uint64_t)time(NULL), .flags = REC_ATTEMPT_TEST,
	    .status = &s }, &res);
	sodium_memzero(input, sizeof(input));
	report(t, r, &res, (uint64_t)time(NULL));
	ret = r == REC_OK ? EXIT_OK : EXIT_FAIL;
out:
	sodium_memzero(input, sizeof(input));
	tool_target_close(t);
	return ret;
}
