/* rec_isolate.h: reading a user-owned store in a child that is only the user. */
#ifndef REC_ISOLATE_H
#define REC_ISOLATE_H

#include <stddef.h>
#include <sys/types.h>

#include "rec_log.h"

/*
 * Run fn(arg, out) in a forked child that is uid and nothing more (as root:
 * groups, gid and uid all set for good; not as root: uid must be the
 * caller's own), and copy the outlen bytes it leaves in out back to the
 * caller's out.  LMDB trusts the files it maps: a user writes their own
 * store, so a root process must never map it, and a store damaged by any
 * means must not take the host down.  A bad file can at worst kill this
 * child.
 * SIGCHLD is set to its default for the duration, so that a host that
 * reaps its children cannot take this one.  The child never returns: it
 * ends with _exit(), after wiping its copy of out.
 * Returns fn's result, or REC_ERR_IO (logged) when the child could not be
 * made, could not become the user, or died without answering (a crash on
 * a corrupt store is logged with its signal).
 */
typedef int rec_isolated_fn(void *arg, void *out);
int rec_run_as(uid_t uid, gid_t gid, rec_isolated_fn *fn, void *arg,
    void *out, size_t outlen, const struct rec_log *log);

#endif
