/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_admin_audit.c: the audit command: the trail of events, filtered. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "admin_common.h"
#include "rec_err.h"
#include "rec_purge.h"

struct filter {
	const char *user;	/* NULL = every user */
	uint64_t since;		/* 0 = from the start */
	int json;
	struct tool_json j;	/* with json: the array of events */
	unsigned long shown;
	unsigned long forged;	/* shown events that name another user */
};

/*
 * The walk of one store.  A per-user store belongs to its owner, who can
 * write anything into it: its events are the owner's, and one that names
 * another user is a forgery (the module writes only the owner's events
 * there).  A system store is written by root alone.
 */
struct walk {
	struct filter *f;
	const char *owner;	/* of a per-user store; NULL: a system store */
};

/*
 * A date as an administrator types it, in UTC: YYYY-MM-DD or
 * YYYY-MM-DDTHH:MM:SS (a space for the T and a final Z are accepted).
 */
static int
parse_date(const char *s, uint64_t *out)
{
	static const char *const formats[] = {
		"%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d",
	};
	struct tm tm;
	const char *end;
	time_t t;

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		memset(&tm, 0, sizeof(tm));
		if ((end = strptime(s, formats[i], &tm)) == NULL)
			continue;
		if (*end == 'Z')
			end++;
		if (*end != '\0' || (t = timegm(&tm)) == (time_t)-1 || t < 0)
			continue;
		*out = (uint64_t)t;
		return 0;
	}
	return -1;
}

static const char *
iso_time(uint64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL)
		snprintf(buf, len, "%llu", (unsigned long long)t);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

/*
 * A text field, made safe for a terminal: every field comes from a store,
 * rhost and tty from the remote side or the PAM application; none may
 * smuggle an escape, a blank or a line break in.
 */
static void
text_field(const char *key, const char *v)
{
	char safe[TOOL_VIS_LEN(REC_FIELD_MAX)];

	printf(" %s=%s", key, *v == '\0' ? "-" :
	    tool_vis(v, TOOL_VIS_SPACE, safe, sizeof(safe)));
}

static int
print_event(uint64_t seq, const struct rec_event *ev, void *arg)
{
	const struct walk *w = arg;
	struct filter *f = w->f;
	const char *user = w->owner != NULL ? w->owner : ev->user;
	int forged = w->owner != NULL && strcmp(ev->user, w->owner) != 0;
	char when[32], id[20], detail[TOOL_VIS_LEN(REC_FIELD_MAX)];

	if (ev->time < f->since || (f->user != NULL &&
	    strcmp(user, f->user) != 0))
		return REC_OK;
	iso_time(ev->time, when, sizeof(when));
	tool_batch_id(ev->batch, id, sizeof(id));
	if (f->json) {
		tool_json_object_begin(&f->j);
		tool_json_member_uint(&f->j, "seq", seq);
		tool_json_member_uint(&f->j, "time", ev->time);
		tool_json_member_string(&f->j, "date", when);
		tool_json_member_string(&f->j, "event",
		    rec_event_name(ev->type));
		tool_json_member_string(&f->j, "user", user);
		/* A fleet's directory says which host recorded it. */
		if (ev->host[0] != '\0')
			tool_json_member_string(&f->j, "host", ev->host);
		tool_json_member_bool(&f->j, "forged", forged);
		if (forged)
			tool_json_member_string(&f->j, "claimed_user",
			    ev->user);
		tool_json_member_string(&f->j, "service", ev->service);
		tool_json_member_string(&f->j, "rhost", ev->rhost);
		tool_json_member_string(&f->j, "tty", ev->tty);
		tool_json_key(&f->j, "batch");
		if (ev->batch != 0)
			tool_json_string(&f->j, id);
		else
			tool_json_null(&f->j);
		tool_json_member_uint(&f->j, "slot", ev->slot);
		tool_json_member_string(&f->j, "actor", ev->actor);
		tool_json_member_string(&f->j, "detail", ev->detail);
		tool_json_object_end(&f->j);
	} else {
		printf("%s %s", when, rec_event_name(ev->type));
		text_field("user", user);
		if (ev->host[0] != '\0')
			text_field("host", ev->host);
		if (forged)
			text_field("forged", ev->user);
		text_field("service", ev->service);
		text_field("rhost", ev->rhost);
		text_field("tty", ev->tty);
		text_field("batch", ev->batch != 0 ? id : "");
		if (ev->slot != 0)
			printf(" slot=%u", ev->slot);
		text_field("actor", ev->actor);
		/* The detail is a sentence: quoted, blanks kept. */
		printf(" detail=\"%s\"\n", tool_vis(ev->detail,
		    TOOL_VIS_QUOTE, detail, sizeof(detail)));
	}
	f->shown++;
	f->forged += forged;
	return REC_OK;
}

static int
audit_store(struct admin *a, struct tool_target *t, void *arg)
{
	struct walk w = { arg, rec_config_per_user(&a->cfg) ? t->who.user :
	    NULL };
	int r;

	if (tool_target_open(t, 0) != REC_OK)
		return EXIT_FAIL;
	if (t->st == NULL)
		return EXIT_OK;
	/*
	 * Printing inside the read transaction keeps one consistent view;
	 * it is a reader, so logins and writers are never held up by it.
	 */
	/*
	 * A system store is asked for the one user's events (the directory
	 * then reads only below that user); a per-user store's are all the
	 * owner's, forged ones included.
	 */
	if ((r = rec_admin_event_each(t->st, w.owner == NULL ? w.f->user :
	    NULL, print_event, &w)) != REC_OK) {
		warnx("store %s: %s", t->path, rec_strerror(r));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}

/* What audit --purge is asked to do. */
struct purge {
	unsigned days;
	int dry_run;
};

/*
 * Delete one store's old events in transactions of purge_batch_size, so
 * that logins wait little, then record who did it.
 */
static int
purge_store(struct admin *a, struct tool_target *t, void *arg)
{
	const struct purge *p = arg;
	uint64_t now = (uint64_t)time(NULL), n = 0;
	char detail[96];
	int r;

	if (!p->dry_run && !admin_may_change(a, t))
		return EXIT_FAIL;
	if (tool_target_open(t, 0) != REC_OK)
		return EXIT_FAIL;
	if (t->st == NULL)
		return EXIT_OK;
	r = rec_purge_audit(t->st, p->days, now, a->cfg.purge_batch_size,
	    p->dry_run, &n);
	snprintf(detail, sizeof(detail), "deleted %llu audit events older "
	    "than %u days", (unsigned long long)n, p->days);
	if (r == REC_OK && !p->dry_run)
		r = rec_admin_event(t->st, &a->cfg, &t->who, REC_EV_PURGED, now,
		    detail);
	if (r != REC_OK) {
		warnx("store %s: %s (%llu events deleted)", t->path,
		    rec_strerror(r), (unsigned long long)n);
		return EXIT_FAIL;
	}
	printf("%s %llu audit event%s older than %u days from %s.\n",
	    p->dry_run ? "Would delete" : "Deleted", (unsigned long long)n,
	    n == 1 ? "" : "s", p->days, t->path);
	return EXIT_OK;
}

static int
purge(struct admin *a, const struct purge *p)
{
	struct tool_target t;
	int ret = EXIT_FAIL;

	if (rec_config_per_user(&a->cfg))
		return admin_each_store(a, purge_store, (void *)p, NULL, 0,
		    NULL);
	if (admin_system_target(a, &t) == REC_OK)
		ret = purge_store(a, &t, (void *)p);
	tool_target_close(&t);
	return ret;
}

int
admin_cmd_audit(struct admin *a, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "user", required_argument, NULL, 'u' },
		{ "since", required_argument, NULL, 'S' },
		{ "json", no_argument, NULL, 'j' },
		{ "purge", no_argument, NULL, 'P' },
		{ "older-than", required_argument, NULL, 'O' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct filter f;
	struct purge p = { a->cfg.audit_retention_days, 0 };
	struct tool_target t;
	int ch, purging = 0, older = 0, ret = EXIT_FAIL, r;

	/* All of it, padding too: the walk's children send it back. */
	memset(&f, 0, sizeof(f));
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'u':
			f.user = optarg;
			break;
		case 'S':
			if (parse_date(optarg, &f.since) != 0) {
				warnx("--since %s: not a date (YYYY-MM-DD or "
				    "YYYY-MM-DDTHH:MM:SS, UTC)", optarg);
				a->usage();
			}
			break;
		case 'j':
			f.json = 1;
			break;
		case 'P':
			purging = 1;
			break;
		case 'O':
			p.days = tool_number(optarg, 0, 36500, "--older-than",
			    a->usage);
			older = 1;
			break;
		case 'n':
			p.dry_run = 1;
			break;
		default:
			a->usage();
		}
	}
	if (optind != argc)
		a->usage();
	/* Listing and purging take options of their own. */
	if (purging ? f.user != NULL || f.since != 0 || f.json :
	    older || p.dry_run)
		a->usage();
	if (purging)
		return purge(a, &p);
	a->rdonly = 1;
	if (f.json) {
		tool_json_init(&f.j, stdout);
		tool_json_array_begin(&f.j, TOOL_JSON_ROWS);
	}
	if (!rec_config_per_user(&a->cfg)) {
		if (admin_system_target(a, &t) == REC_OK)
			ret = audit_store(a, &t, &f);
		tool_target_close(&t);
	} else if (f.user != NULL) {
		ret = admin_on_user(a, f.user, ADMIN_KNOWN, audit_store, &f,
		    &f, sizeof(f));
	} else
		ret = admin_each_store(a, audit_store, &f, &f, sizeof(f),
		    NULL);
	if (f.json) {
		tool_json_array_end(&f.j);
		if ((r = tool_json_finish(&f.j)) != REC_OK) {
			warnx("standard output: %s", rec_strerror(r));
			ret = EXIT_FAIL;
		}
	}
	fflush(stdout);
	if (f.forged > 0)
		warnx("%lu event%s in a user's own store name%s another user: "
		    "the store's owner wrote %s, not the module; shown as the "
		    "owner's, marked forged", f.forged, f.forged == 1 ? "" : "s",
		    f.forged == 1 ? "s" : "", f.forged == 1 ? "it" : "them");
	return ret;
}
