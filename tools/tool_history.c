/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_history.c: the history command (batch cards), shared by the user helper and the admin tool. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec_err.h"
#include "tool_common.h"

/* The batches of one user, as rec_issue_batches_read gathered them. */
struct batches {
	const char *user;
	uint64_t active;		/* the user's active batch, 0 = none */
	struct rec_batch *b;
	size_t n;
};

/* Export kinds in the order they are listed; names as in pam-recovery(1). */
static const struct {
	uint32_t bit;
	const char *name;
} exports[] = {
	{ REC_EXP_TERMINAL, "terminal" }, { REC_EXP_TXT, "txt" },
	{ REC_EXP_CSV, "csv" }, { REC_EXP_PDF, "pdf" },
	{ REC_EXP_JSON, "json" }, { REC_EXP_QR, "qr" },
};

/*
 * Newest first: by creation time.  Ids only order batches to the second,
 * so among batches of the same second the current one, which replaced the
 * others, comes first.
 */
static int
newest_first(const void *va, const void *vb, void *varg)
{
	const struct rec_batch *a = va, *b = vb;
	const struct batches *bs = varg;

	if (a->created != b->created)
		return a->created < b->created ? 1 : -1;
	if (a->id == b->id)
		return 0;
	if (a->id == bs->active || b->id == bs->active)
		return a->id == bs->active ? -1 : 1;
	return a->id < b->id ? 1 : -1;
}

static unsigned
remaining(const struct rec_batch *b)
{
	return (unsigned)(b->count - b->used - b->invalidated);
}

/* The export kinds of b joined by ", "; or, with j, as its strings. */
static int
print_exported(const struct rec_batch *b, struct tool_json *j)
{
	int any = 0;

	for (size_t i = 0; i < sizeof(exports) / sizeof(exports[0]); i++)
		if (b->exported & exports[i].bit) {
			if (j != NULL)
				tool_json_string(j, exports[i].name);
			else
				printf("%s%s", any ? ", " : "",
				    exports[i].name);
			any = 1;
		}
	return any;
}

static void
print_card(const struct rec_batch *b, const struct batches *bs, uint64_t now)
{
	char id[20], t1[32], t2[32];

	printf("Batch %s  %s%s\n", tool_batch_id(b->id, id, sizeof(id)),
	    rec_batch_status_name(b, now),
	    b->id == bs->active ? " (current)" : "");
	printf("  created   %s    modified %s\n",
	    tool_time(b->created, t1, sizeof(t1)),
	    tool_time(b->modified, t2, sizeof(t2)));
	printf("  expires   %s\n", tool_time(b->expires, t1, sizeof(t1)));
	printf("  codes     %u issued, %u used, %u invalidated, %u remaining\n",
	    b->count, b->used, b->invalidated, remaining(b));
	printf("  verified  %s\n", tool_time(b->verified, t1, sizeof(t1)));
	printf("  exported  ");
	if (!print_exported(b, NULL))
		printf("never");
	putchar('\n');
}

static void
print_json_batch(struct tool_json *j, const struct rec_batch *b,
    const struct batches *bs, uint64_t now)
{
	char id[20];

	tool_json_object_begin(j);
	tool_json_member_string(j, "batch", tool_batch_id(b->id, id,
	    sizeof(id)));
	tool_json_member_string(j, "status", rec_batch_status_name(b, now));
	tool_json_member_bool(j, "current", b->id == bs->active);
	tool_json_member_uint(j, "created", b->created);
	tool_json_member_uint(j, "modified", b->modified);
	tool_json_member_uint(j, "expires", b->expires);
	tool_json_member_uint(j, "verified", b->verified);
	tool_json_member_uint(j, "count", b->count);
	tool_json_member_uint(j, "used", b->used);
	tool_json_member_uint(j, "invalidated", b->invalidated);
	tool_json_member_uint(j, "remaining", remaining(b));
	tool_json_key(j, "exported");
	tool_json_array_begin(j, 0);
	print_exported(b, j);
	tool_json_array_end(j);
	tool_json_object_end(j);
}

int
tool_cmd_history(struct tool_target *t, int argc, char **argv,
    void (*usage)(void))
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "page", required_argument, NULL, 'p' },
		{ "per-page", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_batches got = { 0, NULL, 0, 0 };
	struct batches bs = { t->who.user, 0, NULL, 0 };
	struct tool_json j;
	uint64_t now = (uint64_t)time(NULL);
	unsigned page = 1, per = t->cfg->history_per_page, pages, first, last;
	size_t visible;
	char hint[TOOL_HINT_LEN], user[TOOL_VIS_LEN(REC_USER_MAX)];
	int ch, json = 0, r, ret = EXIT_FAIL;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'j')
			json = 1;
		else if (ch == 'p')
			page = tool_number(optarg, 1, 1000000, "--page", usage);
		else if (ch == 'P')
			per = tool_number(optarg, 1, 1000, "--per-page", usage);
		else
			usage();
	}
	if (optind != argc)
		usage();
	if (tool_target_open(t, 0) != REC_OK)
		goto out;
	if (t->st != NULL &&
	    (r = rec_issue_batches_read(t->st, t->who.user, &got)) != REC_OK) {
		warnx("store %s: %s", t->path, rec_strerror(r));
		goto out;
	}
	bs.active = got.active;
	bs.b = got.v;
	bs.n = got.n;
	if (bs.n > 1)
		qsort_r(bs.b, bs.n, sizeof(*bs.b), newest_first, &bs);
	visible = bs.n < t->cfg->history_max_visible ? bs.n :
	    t->cfg->history_max_visible;
	pages = (unsigned)((visible + per - 1) / per);
	if (page > 1 && page > pages) {
		warnx("no page %u: the history shows %zu batch%s, on %u "
		    "page%s of %u", page, visible, visible == 1 ? "" : "es",
		    pages, pages == 1 ? "" : "s", per);
		goto out;
	}
	first = (page - 1) * per;
	last = first + per < visible ? first + per : (unsigned)visible;
	if (json) {
		tool_json_init(&j, stdout);
		tool_json_object_begin(&j);
		tool_json_member_string(&j, "user", t->who.user);
		tool_json_member_uint(&j, "total", bs.n);
		tool_json_member_uint(&j, "visible", visible);
		tool_json_member_uint(&j, "page", page);
		tool_json_member_uint(&j, "per_page", per);
		tool_json_member_uint(&j, "pages", pages);
		tool_json_key(&j, "batches");
		tool_json_array_begin(&j, 0);
		for (unsigned i = first; i < last; i++)
			print_json_batch(&j, &bs.b[i], &bs, now);
		tool_json_array_end(&j);
		tool_json_object_end(&j);
		if ((r = tool_json_finish(&j)) != REC_OK) {
			warnx("standard output: %s", rec_strerror(r));
			goto out;
		}
	} else if (visible == 0)
		printf("No recovery codes for %s yet. Create some with: %s\n",
		    tool_vis(t->who.user, 0, user, sizeof(user)),
		    tool_generate_hint(t, hint, sizeof(hint)));
	else {
		for (unsigned i = first; i < last; i++) {
			print_card(&bs.b[i], &bs, now);
			putchar('\n');
		}
		printf("Page %u of %u: batches %u to %u of %zu, newest first.",
		    page, pages, first + 1, last, visible);
		if (bs.n > visible)
			printf(" %zu older not shown (history_max_visible).",
			    bs.n - visible);
		if (page < pages)
			printf("\nNext: --page %u", page + 1);
		putchar('\n');
	}
	ret = fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_FAIL;
out:
	rec_issue_batches_free(&got);
	tool_target_close(t);
	return ret;
}
