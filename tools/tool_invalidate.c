/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_invalidate.c: the invalidate command, shared by the user helper and the admin tool. */
#include <err.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec_err.h"
#include "rec_notify.h"
#include "tool_common.h"

/*
 * A slot as a person writes it: "3" or "#3".  Returns the number, 0 for a
 * number that cannot be a slot (0 or far too large), or -1 for something
 * that is not a number at all.
 */
static long
parse_slot(const char *arg)
{
	const char *s = arg[0] == '#' ? arg + 1 : arg;
	unsigned long v;
	char *end;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (*end != '\0')
		return -1;
	return errno != 0 || v > REC_COUNT_MAX ? 0 : (long)v;
}

static unsigned
count_slots(const struct rec_states *s, const unsigned *list, unsigned n,
    uint8_t st)
{
	unsigned total = 0;

	for (unsigned i = 0; i < n; i++)
		total += s->state[list[i]] == st;
	return total;
}

/* One line: what, then "#2, #5 and #7" for the slots of list in state st. */
static void
print_slots(const char *what, const struct rec_states *s, const unsigned *list,
    unsigned n, uint8_t st)
{
	unsigned total = count_slots(s, list, n, st), done = 0;

	if (total == 0)
		return;
	printf("%s", what);
	for (unsigned i = 0; i < n; i++) {
		if (s->state[list[i]] != st)
			continue;
		done++;
		printf("%s#%u", done == 1 ? " " : done == total ? " and " : ", ",
		    list[i]);
	}
	printf(".\n");
}

static void
report_slots(const struct rec_states *before, const unsigned *list, unsigned n)
{
	unsigned left = before->remaining -
	    count_slots(before, list, n, REC_CODE_UNUSED);

	print_slots("Invalidated", before, list, n, REC_CODE_UNUSED);
	print_slots("Already used, left as it was:", before, list, n,
	    REC_CODE_USED);
	print_slots("Already invalidated:", before, list, n, REC_CODE_INVALID);
	printf("%u code%s left.\n", left, left == 1 ? "" : "s");
}

int
tool_cmd_invalidate(struct tool_target *t, int argc, char **argv,
    void (*usage)(void))
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_states before;
	unsigned list[REC_COUNT_MAX], n = 0;
	char hint[TOOL_HINT_LEN], id[20], question[TOOL_VIS_LEN(REC_USER_MAX) +
	    96], user[TOOL_VIS_LEN(REC_USER_MAX)];
	int ch, all = 0, yes = 0, r, ret = EXIT_FAIL;
	long v;

	while ((ch = getopt_long(argc, argv, "ay", longopts, NULL)) != -1) {
		if (ch == 'a')
			all = 1;
		else if (ch == 'y')
			yes = 1;
		else
			usage();
	}
	if (all == (optind < argc)) {
		warnx("name the codes to invalidate by number, or --all");
		usage();
	}
	for (int i = optind; i < argc; i++)
		if (parse_slot(argv[i]) < 0) {
			warnx("%s is not a code number (codes are numbered 1, "
			    "2, 3, ... as on the printed list)", argv[i]);
			usage();
		}
	memset(&before, 0, sizeof(before));
	tool_generate_hint(t, hint, sizeof(hint));
	tool_vis(t->who.user, 0, user, sizeof(user));
	if (t->reauth != NULL && t->reauth(t) != 0)
		goto out;
	if (tool_target_open(t, 0) != REC_OK)
		goto out;
	r = t->st == NULL ? REC_ERR_NOSTORE :
	    rec_issue_states_read(t->st, t->who.user, &before);
	if (r == REC_ERR_NOSTORE) {
		warnx("no active recovery codes for %s: nothing to invalidate",
		    user);
		goto out;
	}
	if (r != REC_OK) {
		warnx("store %s: %s", tool_vis(t->path, 0, question,
		    sizeof(question)), rec_strerror(r));
		goto out;
	}
	/* Every number is checked before anything changes. */
	for (int i = optind; i < argc; i++) {
		if ((v = parse_slot(argv[i])) < 1 || (unsigned long)v >
		    before.count) {
			warnx("no code #%s: the current codes are numbered 1 "
			    "to %u; nothing was invalidated",
			    argv[i][0] == '#' ? argv[i] + 1 : argv[i],
			    before.count);
			goto out;
		}
		for (unsigned j = 0; j < n && v >= 0; j++)
			if (list[j] == (unsigned)v)
				v = -1;
		if (v > 0 && n < REC_COUNT_MAX)
			list[n++] = (unsigned)v;
	}
	snprintf(question, sizeof(question), "Invalidate all %u remaining "
	    "recovery codes of %s? They stop working at once.",
	    before.remaining, user);
	if (all && !yes && before.remaining > 0 &&
	    !tool_target_confirm(t, question)) {
		warnx("kept the codes (use -y to invalidate them without "
		    "asking)");
		goto out;
	}
	if ((r = rec_issue_invalidate(t->st, t->cfg, &t->who, list, n,
	    (uint64_t)time(NULL))) != REC_OK) {
		warnx("cannot invalidate: %s", rec_strerror(r));
		goto out;
	}
	tool_target_notify(t, REC_NOTIFY_INVALIDATED, all ? 0 : -1);
	if (all)
		printf("Invalidated all %u remaining codes of batch %s.\n"
		    "%s has no working recovery codes now: generate new ones "
		    "with: %s\n", before.remaining,
		    tool_batch_id(before.batch, id, sizeof(id)), user, hint);
	else
		report_slots(&before, list, n);
	ret = EXIT_OK;
out:
	tool_target_close(t);
	return ret;
}
