/* SPDX-License-Identifier: BSD-2-Clause */
/* admin_check.h: what the check command's report and its deep walk share. */
#ifndef ADMIN_CHECK_H
#define ADMIN_CHECK_H

#include <stdint.h>

#include "admin_common.h"

#define DEEP_SHOWN 50	/* violations printed per store; the rest counted */

enum level { OK, WARN, FAIL };

struct report {
	int json;
	struct tool_json j;		/* with json: the document */
	int deep;			/* --deep: walk every batch's codes */
	unsigned n, warns, fails;
	unsigned long deep_stores, deep_violations;
	char captured[1024];	/* what the core logged during one step */
};

/*
 * Where a deep violation is, for JSON (NULL for an ordinary line); batch 0
 * and slot 0 mean none.  With summary set, the counts of a deep walk.
 */
struct where {
	const char *user;
	uint64_t batch;
	unsigned slot;
	const unsigned long *summary;	/* users, batches, codes, violations */
};

/* One report line (text or JSON), at a place for the deep walk. */
void admin_check_item(struct report *rp, enum level lv, const char *what,
    const struct where *w, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/*
 * Walk st deeply and report each violation and a summary line.  owner is
 * the owner of a per-user store (NULL for a system store): there a record
 * under any other name is a violation, written by the owner.
 */
void admin_check_deep(struct report *rp, struct rec_store *st,
    const char *path, const char *owner);

/*
 * Every line of the PAM service files in dir that loads pam_recovery.so,
 * resolved as the module will resolve it (conf=, the [service NAME]
 * section, the arguments): a line the module would refuse, a pepper with
 * per-user stores, a system store that does not exist or holds no codes
 * are failures, each with its fix.  Each system store is checked once.
 */
void admin_check_stacks(struct report *rp, struct admin *a, const char *dir);

/*
 * A log sink keeping what the core logged at LOG_WARNING or worse in
 * ctx's captured (a struct report), for the report line of one step.
 */
void admin_check_capture(void *ctx, int prio, const char *msg);

/*
 * The checks of a directory store (store = ldap, rec_config_directory;
 * tool_admin_check_ldap.c): the settings, then over each URI of ldap_uri
 * and ldap_write_uri on its own: connection and bind (timed), TLS, schema,
 * ldap_base, what the bound account and anonymous clients may read and
 * write (probed without changing anything).  Returns 1 when every URI
 * could be connected to and bound and ldap_base read there, else 0 (the
 * store's records would then fail to read all the same).
 */
int admin_check_ldap(struct report *rp, const struct rec_config *cfg);

#endif
