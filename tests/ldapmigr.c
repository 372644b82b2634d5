/* SPDX-License-Identifier: BSD-2-Clause */
/* ldapmigr.c: a login through the directory store's operations, as the module makes it (tests only). */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "rec_auth.h"
#include "rec_config.h"
#include "rec_err.h"
#include "rec_kdf.h"
#include "rec_store_ldap.h"

/*
 * usage: ldapmigr CONF attempt USER CODE   (rec_auth_attempt)
 *        ldapmigr CONF view USER           (rec_store_view with codes)
 * attempt prints "ok slot N remaining N", or the word for its refusal
 * (used, nomatch, locked, invalidated, expired, malformed) and exits 3; view
 * prints the user's record and the active batch's codes by state.  A
 * store error prints "error REASON" and exits 2.  CONF's pepper_file, when
 * set, is loaded as the module loads it.
 */

static void
log_stderr(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	(void)prio;
	fprintf(stderr, "ldapmigr: %s\n", msg);
}

/* The word for a refused attempt, or NULL for a store error. */
static const char *
refusal(int r)
{
	switch (r) {
	case REC_ERR_USED:
		return "used";
	case REC_ERR_NOMATCH:
		return "nomatch";
	case REC_ERR_LOCKED:
		return "locked";
	case REC_ERR_INVALIDATED:
		return "invalidated";
	case REC_ERR_EXPIRED:
		return "expired";
	case REC_ERR_MALFORMED:
		return "malformed";
	default:
		return NULL;
	}
}

int
main(int argc, char **argv)
{
	struct rec_log log = { log_stderr, NULL, 0 };
	static struct rec_config cfg;
	static struct rec_view v;
	static unsigned char pepper[REC_PEPPER_LEN];
	struct rec_store *st = NULL;
	struct rec_result res;
	unsigned n[3] = { 0, 0, 0 };
	int r, ret = 2;

	rec_config_defaults(&cfg);
	if (argc < 4 || sodium_init() < 0 ||
	    rec_config_load(&cfg, argv[1], &log) != REC_OK) {
		fprintf(stderr, "usage: ldapmigr CONF attempt USER CODE | "
		    "view USER\n");
		return 2;
	}
	if (cfg.pepper_file[0] != '\0' && (r = rec_kdf_load_pepper(
	    cfg.pepper_file, pepper, &log)) != REC_OK)
		goto fail;
	if ((r = rec_store_open_ldap(&cfg, 0, &log, &st)) != REC_OK)
		goto fail;
	if (strcmp(argv[2], "attempt") == 0 && argc == 5) {
		r = rec_auth_attempt(st, &cfg, &(struct rec_who){ .user =
		    argv[3], .service = "ldapmigr" },
		    &(struct rec_attempt){ .input = argv[4],
		    .pepper = cfg.pepper_file[0] != '\0' ? pepper : NULL,
		    .now = (uint64_t)time(NULL) }, &res);
		if (r == REC_OK) {
			printf("ok slot %u remaining %u\n", res.slot,
			    res.remaining);
			ret = 0;
		} else if (refusal(r) != NULL) {
			printf("%s\n", refusal(r));
			ret = 3;
		} else
			goto fail;
	} else if (strcmp(argv[2], "view") == 0 && argc == 4) {
		if ((r = rec_store_view(st, argv[3], REC_VIEW_CODES, &v)) !=
		    REC_OK)
			goto fail;
		for (unsigned i = 0; i < v.ncodes; i++)
			if (v.codes[i].state <= REC_CODE_INVALID)
				n[v.codes[i].state]++;
		printf("ok batch %d count %u unused %u used %u invalid %u "
		    "failures %u gen_failures %u last_used %s\n", v.have_batch,
		    v.have_batch ? v.batch.count : 0, n[0], n[1], n[2],
		    v.user.lock.failures, v.user.gen.failures,
		    v.user.last_used != 0 ? "set" : "never");
		ret = 0;
	} else {
		fprintf(stderr, "usage: ldapmigr CONF attempt USER CODE | "
		    "view USER\n");
		ret = 2;
	}
	goto out;
fail:
	printf("error %s\n", rec_err_reason(r));
	ret = 2;
out:
	sodium_memzero(&v, sizeof(v));
	sodium_memzero(pepper, sizeof(pepper));
	rec_store_close(st);
	return ret;
}
