/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_child.h: store work in a child process that is only the store's owner. */
#ifndef REC_CHILD_H
#define REC_CHILD_H

#include <stddef.h>
#include <sys/types.h>

#include "rec_log.h"

/*
 * The child runs fn(arg, fd): it reads requests from fd with
 * rec_child_receive_request and writes answers to it with
 * rec_child_send_reply, and returns 0 to end normally.  It never returns into
 * the caller's code: it ends with _exit().  Why a child, and how SIGCHLD is
 * handled: rec_child.c.
 */
typedef int rec_child_fn(void *arg, int fd);

struct rec_child {
	pid_t pid;
	int fd;			/* our end of the socket pair */
	int pidfd;		/* the child's pidfd, or -1 */
	uid_t uid;
	unsigned timeout;	/* seconds for each answer, and for the end */
	const struct rec_log *log;
	int status;		/* waitpid's status once reaped, else -1 */
};

/*
 * Start fn in a child that is uid/gid and dies with the caller
 * (PR_SET_PDEATHSIG).  Every wait on it has a deadline of timeout
 * seconds: the store's owner can hold its locks or stop the child, and
 * must not stall the caller with it.  Returns REC_OK, or REC_ERR_IO
 * (logged) when the socket pair or the child could not be made.
 */
int rec_child_start(struct rec_child *c, uid_t uid, gid_t gid,
    unsigned timeout, rec_child_fn *fn, void *arg,
    const struct rec_log *log);

/*
 * Spawn the store helper (exe: its executable, opened and checked by the
 * caller) as a child with rec_child_start's deadlines and answers, but
 * without a copy of the caller: posix_spawn (vfork and exec, a constant
 * cost whatever the host's size), its socket on descriptor 0, /dev/null
 * on 1 and 2, nothing else inherited, signals at their defaults and an
 * empty environment.  It starts with the caller's identity (uid is who it
 * becomes, for messages) and takes the store owner's itself.  Returns
 * REC_OK, or REC_ERR_IO (logged).
 */
int rec_child_spawn(struct rec_child *c, uid_t uid, int exe,
    unsigned timeout, const struct rec_log *log);

/* Exit status of a child that could not take the owner's identity. */
#define REC_CHILD_NO_IDENTITY 111

/*
 * The next answer: its result in *r and its len bytes in out, waiting
 * timeout seconds at most.  Returns REC_OK; REC_ERR_TIMEOUT when the
 * deadline passed (the child is killed and reaped, and that logged);
 * REC_ERR_IO when the child ended without giving it (then the child is
 * reaped and the reason logged: a signal, a failed change of identity,
 * or no answer; a child killed by SIGPIPE, whose output was closed, only
 * at LOG_DEBUG: the caller sees it in status).  out is wiped on failure.
 */
int rec_child_receive_reply(struct rec_child *c, int *r, void *out, size_t len);

/* Send a request of len bytes; REC_ERR_IO when the child is gone. */
int rec_child_send_request(struct rec_child *c, const void *in, size_t len);

/*
 * Close our end (a child waiting for a request sees the end of input and
 * exits) and reap it, killed if it has not ended within timeout seconds.
 * Safe to call twice and after a failed start.
 */
void rec_child_end(struct rec_child *c);

/*
 * In the child: read a request of exactly len bytes (0: got it, -1: the
 * caller closed its end or it broke), and write an answer (0 or -1).
 */
int rec_child_receive_request(int fd, void *buf, size_t len);
int rec_child_send_reply(int fd, int r, const void *buf, size_t len);

#endif
