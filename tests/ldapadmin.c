/* SPDX-License-Identifier: BSD-2-Clause */
/* ldapadmin.c: the administrator's operations of layer 4 over the directory store (tests only). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "rec_admin.h"
#include "rec_code.h"
#include "rec_config.h"
#include "rec_deep.h"
#include "rec_err.h"
#include "rec_kdf.h"
#include "rec_ldap.h"
#include "rec_purge.h"
#include "rec_store_ldap.h"

/*
 * usage: ldapadmin CONF names [batches]     ("names N sorted yes|no" and
 *                                            the first and last name)
 *        ldapadmin CONF plant USER DAYS-AGO STATUS N USED
 *             (a batch of N codes made DAYS-AGO days ago, with status
 *              active, invalidated or staged, whose first USED codes were
 *              used then; prints the codes, one a line)
 *        ldapadmin CONF events-old USER N DAYS-AGO   (N events that old)
 *        ldapadmin CONF events [USER]      ("seq time type host" a line,
 *                                            then "events N ordered yes|no")
 *        ldapadmin CONF purge RETENTION BATCH-SIZE [DAYS-AHEAD] [dry]
 *        ldapadmin CONF audit-purge DAYS BATCH-SIZE [dry]
 *        ldapadmin CONF forget USER [dry]
 *        ldapadmin CONF deep               (findings, then the counts)
 *        ldapadmin CONF counts             (users, batches, codes, events)
 *        ldapadmin CONF batches USER       ("batch ID status used N" a line)
 * Runs each through the real layer-4 function (rec_admin, rec_purge,
 * rec_deep) over rec_store_open_ldap, as the admin tool does.  Prints
 * "ok ..." or "error REASON (SENTENCE)" and exits 2.  The kdf costs of
 * CONF are used as they are (tests set tiny ones).
 */

static void
log_stderr(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	fprintf(stderr, "ldapadmin: %s\n", msg);
}

static int
fail(int r)
{
	printf("error %s (%s)\n", rec_err_reason(r), rec_strerror(r));
	return 2;
}

static int
names(struct rec_store *st, int batches)
{
	struct rec_names nm = { 0 };
	int r, sorted = 1;

	r = rec_admin_names_read(st, batches ? REC_NAMES_BATCHES : 0, &nm);
	if (r != REC_OK) {
		rec_admin_names_free(&nm);
		return fail(r);
	}
	for (size_t i = 1; i < nm.n; i++)
		if (strcmp(nm.v[i - 1], nm.v[i]) >= 0)
			sorted = 0;
	printf("ok names %zu sorted %s first %s last %s\n", nm.n,
	    sorted ? "yes" : "no", nm.n ? nm.v[0] : "-",
	    nm.n ? nm.v[nm.n - 1] : "-");
	rec_admin_names_free(&nm);
	return 0;
}

static int
plant(struct rec_ldap *c, const struct rec_config *cfg, const char *user,
    unsigned days, const char *status, unsigned n, unsigned used)
{
	static struct rec_code_rec codes[REC_COUNT_MAX];
	static char text[REC_COUNT_MAX][REC_CODE_MAX + 1];
	uint64_t now = (uint64_t)time(NULL), then = now - days * 86400ULL;
	struct rec_batch b;
	uint32_t rnd;
	int r;

	if (n == 0 || n > REC_COUNT_MAX || used > n)
		return fail(REC_ERR_USAGE);
	memset(&b, 0, sizeof(b));
	randombytes_buf(&rnd, sizeof(rnd));
	b.id = then << 24 | (rnd & 0xffffff);
	b.status = strcmp(status, "invalidated") == 0 ? REC_BATCH_INVALIDATED :
	    strcmp(status, "staged") == 0 ? REC_BATCH_STAGED : REC_BATCH_ACTIVE;
	b.created = b.modified = then;
	b.count = (uint16_t)n;
	b.opslimit = cfg->kdf_opslimit;
	b.memlimit = cfg->kdf_memlimit;
	rec_config_format(cfg, &b.fmt);
	b.tag_bits = 0;
	for (unsigned i = 0; i < n; i++) {
		rec_code_generate(&b.fmt, text[i]);
		codes[i].slot = (uint8_t)(i + 1);
		codes[i].state = REC_CODE_UNUSED;
		randombytes_buf(codes[i].salt, REC_SALT_LEN);
		if ((r = rec_kdf_hash(text[i], NULL, codes[i].salt, b.opslimit,
		    b.memlimit, codes[i].hash)) != REC_OK)
			return fail(r);
	}
	if ((r = rec_ldap_write_batch(c, user, &b, codes, n, then)) != REC_OK)
		return fail(r);
	for (unsigned i = 0; i < used; i++)
		if ((r = rec_ldap_mark_code(c, user, &b, &codes[i],
		    b.status == REC_BATCH_ACTIVE ? REC_CODE_USED :
		    REC_CODE_INVALID, then, "plant")) != REC_OK)
			return fail(r);
	for (unsigned i = 0; i < n; i++)
		printf("%s\n", text[i]);
	printf("ok batch %llu\n", (unsigned long long)b.id);
	sodium_memzero(codes, sizeof(codes));
	return 0;
}

static int
events_old(struct rec_ldap *c, const char *host, const char *user,
    unsigned n, unsigned days)
{
	uint64_t then = (uint64_t)time(NULL) - days * 86400ULL;
	struct rec_event ev;
	int r;

	for (unsigned i = 0; i < n; i++) {
		memset(&ev, 0, sizeof(ev));
		ev.time = then + i % 60;
		ev.type = REC_EV_ADMIN;
		snprintf(ev.user, sizeof(ev.user), "%s", user);
		snprintf(ev.actor, sizeof(ev.actor), "seed");
		if ((r = rec_ldap_audit(c, &ev, host)) != REC_OK)
			return fail(r);
	}
	printf("ok events %u\n", n);
	return 0;
}

struct seen {
	unsigned long n;
	uint64_t last_seq, last_time;
	int ordered, print;
};

static int
one_event(uint64_t seq, const struct rec_event *ev, void *arg)
{
	struct seen *s = arg;

	if (seq != s->last_seq + 1 || ev->time < s->last_time)
		s->ordered = 0;
	s->last_seq = seq;
	s->last_time = ev->time;
	s->n++;
	if (s->print)
		printf("%llu %llu %s %s %s\n", (unsigned long long)seq,
		    (unsigned long long)ev->time, rec_event_name(ev->type),
		    ev->user, ev->host[0] != '\0' ? ev->host : "-");
	return REC_OK;
}

static int
events(struct rec_store *st, const char *user)
{
	struct seen s = { 0, 0, 0, 1, user != NULL };
	int r;

	if ((r = rec_admin_event_each(st, user, one_event, &s)) != REC_OK)
		return fail(r);
	printf("ok events %lu ordered %s\n", s.n, s.ordered ? "yes" : "no");
	return 0;
}

static void
purged_user(const char *user, uint64_t codes, uint64_t batches, void *arg)
{
	(void)arg;
	printf("user %s codes %llu batches %llu\n", user,
	    (unsigned long long)codes, (unsigned long long)batches);
}

static int
purge(struct rec_store *st, const struct rec_config *cfg, unsigned days,
    unsigned size, unsigned ahead, int dry)
{
	/* As the admin tool's: a purge names no user. */
	struct rec_who who = { .user = "", .actor = "ldapadmin" };
	struct rec_purge_opts o = { (uint64_t)time(NULL) + ahead * 86400ULL,
	    days, size, -1, dry };
	struct rec_purge_stats s;
	int r;

	r = rec_purge(st, cfg, &who, &o, purged_user, NULL, &s);
	printf("%s codes %llu purged %llu deleted %llu txns %llu left %llu "
	    "codes_left %llu\n", r == REC_OK ? "ok" : "partial",
	    (unsigned long long)s.codes, (unsigned long long)s.batches_purged,
	    (unsigned long long)s.batches_deleted, (unsigned long long)s.txns,
	    (unsigned long long)s.batches_left,
	    (unsigned long long)s.codes_left);
	return r == REC_OK ? 0 : fail(r);
}

static int
audit_purge(struct rec_store *st, unsigned days, unsigned size, int dry)
{
	uint64_t n = 0;
	int r;

	r = rec_purge_audit(st, days, (uint64_t)time(NULL), size, dry, &n);
	if (r != REC_OK)
		return fail(r);
	printf("ok deleted %llu\n", (unsigned long long)n);
	return 0;
}

static int
forget(struct rec_store *st, const struct rec_config *cfg, const char *user,
    int dry)
{
	struct rec_who who = { .user = user, .actor = "ldapadmin" };
	uint64_t n = 0;
	int r;

	r = rec_purge_forget(st, cfg, &who, (uint64_t)time(NULL), dry, &n);
	if (r != REC_OK)
		return fail(r);
	printf("ok removed %llu\n", (unsigned long long)n);
	return 0;
}

static void
finding(const struct rec_finding *f, void *arg)
{
	(void)arg;
	printf("finding %s %llu %u %s\n", f->user, (unsigned long long)f->batch,
	    f->slot, f->text);
}

static int
deep(struct rec_store *st)
{
	struct rec_deep_counts n;
	int r;

	if ((r = rec_deep_check(st, NULL, (uint64_t)time(NULL), finding, NULL,
	    &n)) != REC_OK)
		return fail(r);
	printf("ok users %lu batches %lu codes %lu findings %lu\n", n.users,
	    n.batches, n.codes, n.findings);
	return 0;
}

static int
counts(struct rec_store *st)
{
	struct rec_store_counts n;
	int r;

	if ((r = rec_admin_verify(st, &n)) != REC_OK)
		return fail(r);
	printf("ok users %llu batches %llu codes %llu events %llu\n",
	    (unsigned long long)n.users, (unsigned long long)n.batches,
	    (unsigned long long)n.codes, (unsigned long long)n.events);
	return 0;
}

static int
one_batch(const char *user, const struct rec_batch *b, void *arg)
{
	(void)user;
	(void)arg;
	printf("batch %llu status %u used %u invalidated %u count %u\n",
	    (unsigned long long)b->id, b->status, b->used, b->invalidated,
	    b->count);
	return REC_OK;
}

static int
batches(struct rec_store *st, const char *user)
{
	unsigned long live = 0;
	int r;

	if ((r = rec_store_batch_each(st, user, one_batch, NULL)) != REC_OK ||
	    (r = rec_admin_batch_count(st, user, &live)) != REC_OK)
		return fail(r);
	printf("ok live %lu\n", live);
	return 0;
}

static unsigned
num(const char *s)
{
	return (unsigned)strtoul(s, NULL, 10);
}

static int
run(struct rec_store *st, struct rec_ldap *wr, const struct rec_config *cfg,
    int argc, char **argv)
{
	const char *cmd = argv[2];
	int dry = strcmp(argv[argc - 1], "dry") == 0;

	if (strcmp(cmd, "names") == 0)
		return names(st, argc > 3);
	if (strcmp(cmd, "plant") == 0 && argc == 8)
		return plant(wr, cfg, argv[3], num(argv[4]), argv[5],
		    num(argv[6]), num(argv[7]));
	if (strcmp(cmd, "events-old") == 0 && argc == 6)
		return events_old(wr, cfg->host_name, argv[3], num(argv[4]),
		    num(argv[5]));
	if (strcmp(cmd, "events") == 0)
		return events(st, argc > 3 ? argv[3] : NULL);
	if (strcmp(cmd, "purge") == 0 && argc >= 5)
		return purge(st, cfg, num(argv[3]), num(argv[4]),
		    argc - dry > 5 ? num(argv[5]) : 0, dry);
	if (strcmp(cmd, "audit-purge") == 0 && argc >= 5)
		return audit_purge(st, num(argv[3]), num(argv[4]), dry);
	if (strcmp(cmd, "forget") == 0 && argc >= 4)
		return forget(st, cfg, argv[3], dry);
	if (strcmp(cmd, "deep") == 0)
		return deep(st);
	if (strcmp(cmd, "counts") == 0)
		return counts(st);
	if (strcmp(cmd, "batches") == 0 && argc == 4)
		return batches(st, argv[3]);
	fprintf(stderr, "ldapadmin: unknown command or arguments\n");
	return 1;
}

int
main(int argc, char **argv)
{
	struct rec_log log = { log_stderr, NULL, 0 };
	struct rec_config cfg;
	struct rec_store *st = NULL;
	struct rec_ldap *wr = NULL;
	int r, rc;

	if (argc < 3) {
		fprintf(stderr, "usage: ldapadmin CONF COMMAND [ARGS...]\n");
		return 1;
	}
	if (sodium_init() < 0)
		return 1;
	rec_config_defaults(&cfg);
	if ((r = rec_config_load(&cfg, argv[1], &log)) != REC_OK)
		return fail(r);
	if ((r = rec_store_open_ldap(&cfg, 0, &log, &st)) != REC_OK ||
	    (r = rec_ldap_open(&cfg, 1, &log, &wr)) != REC_OK) {
		rc = fail(r);
		goto out;
	}
	rc = run(st, wr, &cfg, argc, argv);
out:
	rec_store_close(st);
	rec_ldap_close(wr);
	return rc;
}
