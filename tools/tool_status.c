/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_status.c: the status command, shared by the user helper and the admin tool. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <time.h>

#include "rec_err.h"
#include "tool_common.h"

static void
print_json(const char *user, const struct rec_status *s, uint64_t now)
{
	char id[20];

	printf("{\"user\":");
	tool_json_str(stdout, user);
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

static void
print_text(const struct tool_target *t, const struct rec_status *s)
{
	char user[TOOL_VIS_LEN(REC_USER_MAX)];
	char t1[32], t2[32], id[20], hint[TOOL_HINT_LEN];

	tool_vis(t->who.user, 0, user, sizeof(user));
	tool_generate_hint(t, hint, sizeof(hint));
	if (!s->enrolled) {
		printf("No recovery codes for %s yet. Create some with: %s\n",
		    user, hint);
		return;
	}
	printf("Recovery codes for %s: %u of %u left%s\n", user, s->remaining,
	    s->count, s->expired ? " (EXPIRED)" : "");
	printf("  batch %s, created %s, expires %s\n",
	    tool_batch_id(s->batch, id, sizeof(id)),
	    tool_time(s->created, t1, sizeof(t1)),
	    tool_time(s->expires, t2, sizeof(t2)));
	printf("  used %u, invalidated %u, verified %s, ", s->used,
	    s->invalidated, tool_time(s->verified, t1, sizeof(t1)));
	printf("last used %s\n", tool_time(s->last_used, t2, sizeof(t2)));
	if (s->lock_remaining > 0)
		printf("  LOCKED for %llu more seconds after failed attempts\n",
		    (unsigned long long)s->lock_remaining);
	else
		printf("  not locked (%u recent failed attempt%s)\n",
		    s->failures, s->failures == 1 ? "" : "s");
	if (s->remaining == 0 || s->expired)
		printf("Generate new codes with: %s\n", hint);
	else if (s->remaining <= t->cfg->warn_remaining)
		printf("Running low: generate new codes soon with: %s\n", hint);
}

int
tool_cmd_status(struct tool_target *t, int argc, char **argv,
    void (*usage)(void))
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_status s;
	uint64_t now = (uint64_t)time(NULL);
	int ch, json = 0, ret = EXIT_FAIL, r;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 'j')
			usage();
		json = 1;
	}
	if (optind != argc)
		usage();
	if (tool_target_open(t, 0) != REC_OK)
		goto out;
	/* Not "create some": generate could not store them either. */
	if (t->st == NULL && tool_store_dir_missing(t))
		goto out;
	if ((r = rec_auth_status(t->st, t->cfg, t->who.user, now, &s)) !=
	    REC_OK) {
		warnx("store %s: %s", t->path, rec_strerror(r));
		goto out;
	}
	if (json)
		print_json(t->who.user, &s, now);
	else
		print_text(t, &s);
	ret = EXIT_OK;
out:
	tool_target_close(t);
	return ret;
}
