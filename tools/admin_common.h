/* SPDX-License-Identifier: BSD-2-Clause */
/* admin_common.h: what the pieces of pam-recovery-admin share. */
#ifndef ADMIN_COMMON_H
#define ADMIN_COMMON_H

#include <pwd.h>
#include <stdarg.h>
#include <sys/types.h>

#include "rec_admin.h"
#include "rec_target.h"
#include "tool_common.h"

/*
 * One run of the admin tool: the configuration (with -s applied), who is
 * acting, and the pepper when a command needs it.  Filled by main().
 */
struct admin {
	struct rec_config cfg;
	struct rec_log log;
	const char *conf;		/* -c PATH, or NULL for the default */
	const char *store;		/* -s PATH, or NULL */
	const char *service;		/* --service NAME, or NULL */
	int each_store;			/* browsing every store in turn */
	char actor[REC_FIELD_MAX];	/* SUDO_USER, or the real user */
	char host[256];
	const unsigned char *pepper;	/* REC_PEPPER_LEN bytes, or NULL */
	void (*usage)(void);		/* prints usage, exits 2 */
	int rdonly;			/* the command only reads stores */
};

/*
 * Load the configuration named by a->conf into cfg for a->service (its
 * [service NAME] section over the global settings), apply a->store over
 * it, and validate: the same steps for every command and for check.
 * Without --service or --store, a file whose sections name other stores
 * than the global one is refused (tool_one_store): no guessing.
 * Errors go to log.  Returns REC_OK or the error.
 */
int admin_config(const struct admin *a, struct rec_config *cfg,
    const struct rec_log *log);

typedef int admin_store_fn(struct admin *a, struct tool_target *t, void *arg);
enum { ADMIN_LOST_DIED = 1, ADMIN_LOST_TIMEOUT = 2 };
typedef void admin_merge_fn(void *arg, const char *path, int lost);

/* How admin_on_user and admin_check_user take USER. */
enum admin_user_flags {
	/* The command changes the store: root, or the caller's own store. */
	ADMIN_CHANGE = 1 << 0,
	/* USER must be in the password database also with a system store. */
	ADMIN_KNOWN = 1 << 1,
};

/*
 * fn on USER's codes, with t set up for them: the system store, or USER's
 * per-user store (USER must exist), as rec_target_resolve works them out.
 * With ADMIN_CHANGE in flags the command changes the store, which needs
 * root, unless the store directory already exists and belongs to the
 * caller (a test store).  ADMIN_KNOWN asks for USER in the password
 * database also with a system store.  A per-user store is
 * only ever opened in a child that is USER for good, as in
 * admin_each_store; t->parent then asks the administrator's questions and
 * creates the command's file here, as ourselves; the state_len bytes at
 * state come back as there.  A usage error in the
 * child ends this process with EXIT_USAGE, as it would have here.
 * Returns fn's exit status, or EXIT_FAIL after printing why (a child that
 * died: "not read to the end").
 */
int admin_on_user(struct admin *a, const char *user, unsigned flags,
    admin_store_fn *fn, void *arg, void *state, size_t state_len);

/*
 * The checks of admin_on_user alone, for a command that prepares
 * something before; rt, unless NULL, receives USER's store and its owner.
 * REC_OK, or an error after printing why.
 */
int admin_check_user(struct admin *a, const char *user, unsigned flags,
    struct rec_target *rt);

/*
 * For a per-user pattern, call fn for every user of the password database
 * whose store directory exists, with t set up, in a child process that is
 * USER for good: root never maps a file a user wrote, and a store that
 * kills its child fails for that user alone.  Not as root, only the
 * caller's own store is visited.  The child writes to our stdout and
 * stderr; what fn changes in arg is lost with it, except the state_len
 * bytes at state (a part of arg; plain data: no pointer that fn changes),
 * which come back; then merged(arg, path, lost), unless NULL, runs here,
 * lost set when the child died without handing state back (the store at
 * path is then unread): ADMIN_LOST_TIMEOUT when it missed store_timeout
 * (killed, and the walk goes on), ADMIN_LOST_DIED otherwise.  A child
 * killed by SIGPIPE (our output was closed) ends this process the same
 * way, quietly.  fn returns an exit status; the worst one is
 * returned.
 */
int admin_each_store(struct admin *a, admin_store_fn *fn, void *arg,
    void *state, size_t state_len, admin_merge_fn *merged);

/*
 * The users of the password database whose per-user store directory
 * exists (as admin_each_store visits them: not as root, only the
 * caller), sorted, into *names (*n of them; each and the array freed by
 * the caller).  Returns 0, or -1 when out of memory.
 */
int admin_store_users(struct admin *a, char ***names, size_t *n);

/*
 * Whether the caller may change t's store: root, or the store is the
 * caller's own (see admin_target).  When not, says so and returns 0.
 */
int admin_may_change(const struct admin *a, const struct tool_target *t);

/*
 * Set t up for the system store as a whole (no user): its path, and as
 * owner the caller (root, or the test user).  Returns REC_OK, or after
 * printing why REC_ERR_CONFIG (a per-user pattern has no one store) or
 * rec_target_resolve's error.
 */
int admin_system_target(struct admin *a, struct tool_target *t);

/*
 * When the file (a->conf) names several stores and neither --service nor
 * --store picks one: call fn once for each store, the global settings'
 * first, with a->service set to a service using it (NULL: the global
 * settings) and a->each_store set; store and label (the services using
 * it) are for headings.  Returns 1 then, 0 when the file names one store
 * or cannot be read (the caller's usual path reports that), -1 when out
 * of memory.
 */
typedef void admin_config_fn(struct admin *a, unsigned i, const char *store,
    const char *label, void *arg);
int admin_each_config(struct admin *a, admin_config_fn *fn, void *arg);

/* The commands; argv[0] is the command name.  Each returns an exit status. */
int admin_cmd_user(struct admin *a, int argc, char **argv);
int admin_cmd_list(struct admin *a, int argc, char **argv);
int admin_cmd_audit(struct admin *a, int argc, char **argv);
int admin_cmd_check(struct admin *a, int argc, char **argv);
int admin_cmd_calibrate(struct admin *a, int argc, char **argv);
int admin_cmd_backup(struct admin *a, int argc, char **argv);
int admin_cmd_purge(struct admin *a, int argc, char **argv);
int admin_cmd_forget(struct admin *a, int argc, char **argv);
int admin_cmd_migrate(struct admin *a, int argc, char **argv);

/*
 * Forget USER in t's store (open or not): count, confirm unless yes, then
 * rec_purge_forget, and say what went.  EXIT_OK when there was nothing.
 */
int admin_forget_in(struct admin *a, struct tool_target *t, int yes);

/*
 * purge --departed: forget every user of the system store who is no longer
 * in the password database (getpwnam finds no such user); a lookup that
 * fails otherwise keeps the user and fails the run.  Per-user stores have
 * nothing to do.  With dry_run, only says who would go.
 */
int admin_purge_departed(struct admin *a, int dry_run);

#endif
