/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_status.c: the status command, shared by the user helper and the admin tool. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "rec_err.h"
#include "rec_slots.h"
#include "tool_common.h"

/*
 * Where slot s was used: the host its event names (a directory store
 * records every use's host_name); a local store's events name none, and
 * its codes are used here; a directory's use without an event, "-".
 */
static const char *
used_on(const struct tool_target *t, const struct rec_slot *s)
{
	if (s->audited && s->host[0] != '\0')
		return s->host;
	return t->directory ? "-" : t->host;
}

/* The "codes" member: one object per slot (status --codes --json). */
static void
print_slots_json(struct tool_json *j, const struct tool_target *t,
    const struct rec_slots *sl)
{
	tool_json_key(j, "codes");
	tool_json_array_begin(j, 0);
	for (unsigned i = 0; i < sl->n; i++) {
		const struct rec_slot *s = &sl->s[i];

		tool_json_object_begin(j);
		tool_json_member_uint(j, "slot", s->slot);
		tool_json_member_string(j, "state",
		    rec_slot_state_name(s->state));
		tool_json_member_uint(j, "when", s->when);
		if (s->state == REC_SLOT_USED || s->state == REC_SLOT_GONE)
			tool_json_member_string(j, "host", used_on(t, s));
		if (s->audited) {
			tool_json_member_string(j, "service", s->service);
			tool_json_member_string(j, "rhost", s->rhost);
			tool_json_member_string(j, "by", s->actor);
		}
		tool_json_member_bool(j, "audited", s->audited);
		tool_json_object_end(j);
	}
	tool_json_array_end(j);
}

/* Returns REC_OK, or the error of writing to stdout. */
static int
print_json(const struct tool_target *t, const struct rec_status *s,
    uint64_t now, const struct rec_slots *sl)
{
	struct tool_json j;
	char id[20];

	tool_json_init(&j, stdout);
	tool_json_object_begin(&j);
	tool_json_member_string(&j, "user", t->who.user);
	tool_json_member_bool(&j, "enrolled", s->enrolled);
	tool_json_key(&j, "batch");
	if (s->enrolled)
		tool_json_string(&j, tool_batch_id(s->batch, id, sizeof(id)));
	else
		tool_json_null(&j);
	tool_json_member_uint(&j, "count", s->count);
	tool_json_member_uint(&j, "used", s->used);
	tool_json_member_uint(&j, "invalidated", s->invalidated);
	tool_json_member_uint(&j, "remaining", s->remaining);
	tool_json_member_uint(&j, "created", s->created);
	tool_json_member_uint(&j, "expires", s->expires);
	tool_json_member_bool(&j, "expired", s->expired);
	tool_json_member_uint(&j, "verified", s->verified);
	tool_json_member_uint(&j, "last_used", s->last_used);
	tool_json_member_uint(&j, "failures", s->failures);
	tool_json_member_uint(&j, "locked_until", s->lock_remaining ?
	    now + s->lock_remaining : 0);
	tool_json_member_uint(&j, "lock_remaining", s->lock_remaining);
	if (sl != NULL)
		print_slots_json(&j, t, sl);
	tool_json_object_end(&j);
	return tool_json_finish(&j);
}

/* One line per code (status --codes); strings from the store escaped. */
static void
print_slots(const struct tool_target *t, const struct rec_slots *sl)
{
	char when[32], a[TOOL_VIS_LEN(REC_FIELD_MAX)], b[TOOL_VIS_LEN(256)];
	char c[TOOL_VIS_LEN(REC_FIELD_MAX)];

	if (sl->n == 0)
		return;
	printf("Codes:\n");
	for (unsigned i = 0; i < sl->n; i++) {
		const struct rec_slot *s = &sl->s[i];

		printf("  %3u  %-11s", s->slot, rec_slot_state_name(s->state));
		if (s->state == REC_SLOT_USED || s->state == REC_SLOT_GONE ||
		    s->state == REC_SLOT_INVALIDATED)
			printf(" %s", tool_time(s->when, when, sizeof(when)));
		if (s->state == REC_SLOT_USED || (s->state == REC_SLOT_GONE &&
		    s->audited && s->actor[0] == '\0'))
			printf(" on %s", tool_vis(used_on(t, s),
			    TOOL_VIS_SPACE, b, sizeof(b)));
		if (s->audited && s->state != REC_SLOT_INVALIDATED)
			printf(" via %s from %s", s->service[0] != '\0' ?
			    tool_vis(s->service, TOOL_VIS_SPACE, a, sizeof(a)) :
			    "-", s->rhost[0] != '\0' ? tool_vis(s->rhost,
			    TOOL_VIS_SPACE, c, sizeof(c)) : "-");
		if (s->audited && s->state == REC_SLOT_INVALIDATED)
			printf(" by %s", s->actor[0] != '\0' ? tool_vis(
			    s->actor, TOOL_VIS_SPACE, a, sizeof(a)) :
			    "the user");
		if (!s->audited && (s->state == REC_SLOT_USED ||
		    s->state == REC_SLOT_INVALIDATED))
			printf(" (no audit event says more)");
		if (s->state == REC_SLOT_GONE)
			printf(" (its record was purged)");
		printf("\n");
	}
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
		{ "codes", no_argument, NULL, 'C' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_status s;
	struct rec_slots *sl = NULL;
	uint64_t now = (uint64_t)time(NULL);
	int ch, json = 0, codes = 0, ret = EXIT_FAIL, r;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'C')
			codes = 1;
		else
			usage();
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
	if (codes && ((sl = malloc(sizeof(*sl))) == NULL ||
	    (r = rec_slots_read(t->st, t->who.user, now, sl)) != REC_OK)) {
		warnx("store %s: %s", t->path, rec_strerror(sl == NULL ?
		    REC_ERR_NOMEM : r));
		goto out;
	}
	if (json) {
		if ((r = print_json(t, &s, now, sl)) != REC_OK) {
			warnx("standard output: %s", rec_strerror(r));
			goto out;
		}
	} else {
		print_text(t, &s);
		if (sl != NULL)
			print_slots(t, sl);
	}
	ret = EXIT_OK;
out:
	free(sl);
	tool_target_close(t);
	return ret;
}
