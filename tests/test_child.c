/* SPDX-License-Identifier: BSD-2-Clause */
/* test_child.c: unit tests of the store's child and its socket. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rec_err.h"
#include "rec_child.h"
#include "rec_log.h"
#include "testutil.h"

/* What the test children do, chosen by the test. */
enum plan {
	ECHO_TWICE,	/* answer 42, then twice the request */
	DIE_AT_ONCE,	/* SIGKILL before any answer */
	ANSWER_THEN_GO,	/* answer, then end without reading */
	NEVER_ANSWER,	/* wait forever without a word, as on a held lock */
	STOP_AT_ONCE,	/* SIGSTOP before any answer, as its owner may */
	ANSWER_THEN_HANG, /* answer, then never end, whatever is closed */
	PIPE_AT_ONCE,	/* SIGPIPE before any answer: its output closed */
	REPORT_PID,	/* answer with its pid, then wait forever */
};

static int
kid(void *arg, int fd)
{
	enum plan plan = *(enum plan *)arg;
	uint32_t v = 7, req = 0;

	if (plan == DIE_AT_ONCE)
		raise(SIGKILL);
	if (plan == STOP_AT_ONCE)
		raise(SIGSTOP);
	if (plan == PIPE_AT_ONCE)
		raise(SIGPIPE);
	if (plan == NEVER_ANSWER)
		for (;;)
			pause();
	if (plan == REPORT_PID)
		v = (uint32_t)getpid();
	if (rec_child_send_reply(fd, 42, &v, sizeof(v)) != 0)
		return 1;
	if (plan == ANSWER_THEN_GO)
		return 0;
	if (plan == ANSWER_THEN_HANG || plan == REPORT_PID) {
		signal(SIGTERM, SIG_IGN);
		for (;;)
			pause();
	}
	if (rec_child_receive_request(fd, &req, sizeof(req)) != 0)
		return 0;	/* the caller had nothing to ask */
	v = 2 * req;
	return rec_child_send_reply(fd, REC_OK, &v, sizeof(v)) == 0 ? 0 : 1;
}

/* One test's child, its plan and what it logged. */
struct fx {
	struct capture cap;
	struct rec_log log;
	struct rec_child c;
	enum plan plan;
};

/* Start a child of ours with the plan; uid is ours unless given. */
static int
start_in(struct fx *f, enum plan plan, uid_t uid, unsigned timeout)
{
	f->plan = plan;
	capture_init(&f->cap, &f->log);
	return rec_child_start(&f->c, uid, getegid(), timeout, kid, &f->plan,
	    &f->log);
}

static int
start_as(struct fx *f, enum plan plan, uid_t uid)
{
	return start_in(f, plan, uid, 10);
}

static void
start(struct fx *f, enum plan plan)
{
	assert_int_equal(start_as(f, plan, geteuid()), REC_OK);
	assert_true(f->c.pid > 0);
}

/* No child of this process is left, not even a zombie. */
static void
assert_no_children(void)
{
	errno = 0;
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
test_answer_request_answer(void **state)
{
	struct fx f;
	uint32_t v = 0, req = 21;
	int r = -1;

	(void)state;
	start(&f, ECHO_TWICE);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	assert_int_equal(r, 42);
	assert_int_equal(v, 7);
	assert_int_equal(rec_child_send_request(&f.c, &req, sizeof(req)),
	    REC_OK);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	assert_int_equal(r, REC_OK);
	assert_int_equal(v, 42);
	rec_child_end(&f.c);
	rec_child_end(&f.c);	/* twice is harmless */
	assert_no_children();
	assert_int_equal(f.cap.errors, 0);
}

/* Nothing to ask: ending makes the waiting child see the end and exit. */
static void
test_end_without_request(void **state)
{
	struct fx f;
	uint32_t v = 0;
	int r = -1;

	(void)state;
	start(&f, ECHO_TWICE);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	rec_child_end(&f.c);
	assert_no_children();
	assert_int_equal(f.cap.errors, 0);
}

/* A child killed before answering: an error, the signal in the log. */
static void
test_child_dies(void **state)
{
	struct fx f;
	uint32_t v = 0xffffffff;
	int r = -1;

	(void)state;
	start(&f, DIE_AT_ONCE);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_ERR_IO);
	assert_int_equal(v, 0);		/* nothing half-read is left */
	assert_logged(&f.cap, "died of signal 9");
	assert_int_equal(rec_child_send_request(&f.c, &v, sizeof(v)),
	    REC_ERR_IO);
	rec_child_end(&f.c);
	assert_no_children();
}

/*
 * A request to a child that is gone is an error, not a SIGPIPE that
 * would kill the host (the test process, here).
 */
static void
test_ask_gone_child(void **state)
{
	struct fx f;
	struct pollfd p;
	uint32_t v = 0;
	int r = -1, i;

	(void)state;
	start(&f, ANSWER_THEN_GO);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	/* Wait (bounded) until the child's end of the socket is closed. */
	p.fd = f.c.fd;
	p.events = POLLRDHUP;
	for (i = 0; i < 100; i++) {
		p.revents = 0;
		if (poll(&p, 1, 100) == 1 && (p.revents & (POLLRDHUP | POLLHUP)))
			break;
	}
	assert_true(i < 100);
	assert_int_equal(rec_child_send_request(&f.c, &v, sizeof(v)),
	    REC_ERR_IO);
	assert_logged(&f.cap, "the store reader is gone");
	rec_child_end(&f.c);
	assert_no_children();
}

/* A host that ignores SIGCHLD: its children are reaped by the kernel. */
static void
test_host_ignores_sigchld(void **state)
{
	struct fx f;
	struct sigaction ign, saved;
	uint32_t v = 0, req = 5;
	int r = -1;

	(void)state;
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	assert_int_equal(sigaction(SIGCHLD, &ign, &saved), 0);
	start(&f, ECHO_TWICE);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	assert_int_equal(rec_child_send_request(&f.c, &req, sizeof(req)),
	    REC_OK);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	assert_int_equal(v, 10);
	rec_child_end(&f.c);
	assert_int_equal(sigaction(SIGCHLD, &saved, NULL), 0);
	assert_no_children();
	assert_int_equal(f.cap.errors, 0);
}

static volatile sig_atomic_t reaped;

static void
reap_all(int sig)
{
	int saved = errno;

	(void)sig;
	while (waitpid(-1, NULL, WNOHANG) > 0)
		reaped++;
	errno = saved;
}

/* Act as a host whose SIGCHLD handler reaps every child; the old in saved. */
static void
become_reaping_host(struct sigaction *saved)
{
	struct sigaction h;

	memset(&h, 0, sizeof(h));
	h.sa_handler = reap_all;
	h.sa_flags = SA_RESTART;
	sigemptyset(&h.sa_mask);
	assert_int_equal(sigaction(SIGCHLD, &h, saved), 0);
	reaped = 0;
}

/* A host whose SIGCHLD handler reaps every child, ours included. */
static void
test_host_reaps_children(void **state)
{
	struct fx f;
	struct sigaction saved;
	uint32_t v = 0;
	int r = -1, i;

	(void)state;
	become_reaping_host(&saved);
	start(&f, ANSWER_THEN_GO);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	assert_int_equal(r, 42);
	assert_int_equal(v, 7);
	for (i = 0; i < 100 && reaped == 0; i++)
		usleep(10000);
	rec_child_end(&f.c);	/* must not hang on a child already reaped */
	assert_int_equal(sigaction(SIGCHLD, &saved, NULL), 0);
	assert_int_equal(reaped, 1);
	assert_int_equal(f.cap.errors, 0);
}

/*
 * The same host, with a child that lives until it is told to end: ending
 * it hides its exit from the host's handler, which reaps nothing.
 */
static void
test_end_hidden_from_host(void **state)
{
	struct fx f;
	struct sigaction saved, after;
	uint32_t v = 0;
	int r = -1;

	(void)state;
	become_reaping_host(&saved);
	start(&f, ECHO_TWICE);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	rec_child_end(&f.c);
	assert_int_equal(sigaction(SIGCHLD, &saved, &after), 0);
	assert_ptr_equal(after.sa_handler, reap_all);	/* put back */
	assert_int_equal(reaped, 0);
	assert_no_children();
	assert_int_equal(f.cap.errors, 0);
}

/* Not root: a child for another uid refuses to run the work. */
static void
test_other_uid_refused(void **state)
{
	struct fx f;
	uint32_t v = 0;
	int r = -1;

	(void)state;
	if (geteuid() == 0)
		skip();		/* root can become anyone */
	assert_int_equal(start_as(&f, ECHO_TWICE, geteuid() + 1), REC_OK);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_ERR_IO);
	assert_logged(&f.cap, "could not take the identity");
	rec_child_end(&f.c);
	assert_no_children();
}

/* Seconds of the monotonic clock since t0. */
static double
since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) +
	    (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * A child that never answers (its owner holds the store's lock) or is
 * stopped: the wait ends at the deadline, the child is killed and reaped.
 */
static void
missed_deadline(enum plan plan)
{
	struct timespec t0;
	struct fx f;
	uint32_t v = 0xffffffff;
	int r = -1;

	assert_int_equal(start_in(&f, plan, geteuid(), 1), REC_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_ERR_TIMEOUT);
	assert_true(since(&t0) >= 0.9 && since(&t0) < 3.0);
	assert_int_equal(v, 0);
	assert_logged(&f.cap, "did not answer within 1 seconds");
	assert_true(WIFSIGNALED(f.c.status));
	assert_int_equal(WTERMSIG(f.c.status), SIGKILL);
	assert_int_equal(rec_child_send_request(&f.c, &v, sizeof(v)),
	    REC_ERR_IO);
	rec_child_end(&f.c);
	assert_no_children();
}

static void
test_deadline_never_answers(void **state)
{
	(void)state;
	missed_deadline(NEVER_ANSWER);
}

static void
test_deadline_stopped(void **state)
{
	(void)state;
	missed_deadline(STOP_AT_ONCE);
}

/* A child that answered but will not end: ending it is bounded too. */
static void
test_deadline_at_end(void **state)
{
	struct timespec t0;
	struct fx f;
	uint32_t v = 0;
	int r = -1;

	(void)state;
	assert_int_equal(start_in(&f, ANSWER_THEN_HANG, geteuid(), 1), REC_OK);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_OK);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	rec_child_end(&f.c);
	assert_true(since(&t0) < 3.0);
	assert_true(WIFSIGNALED(f.c.status));
	assert_int_equal(WTERMSIG(f.c.status), SIGKILL);
	assert_no_children();
}

/* SIGPIPE (the output was closed) is no sign of a corrupt store. */
static void
test_sigpipe_not_corrupt(void **state)
{
	struct fx f;
	uint32_t v = 0;
	int r = -1;

	(void)state;
	start(&f, PIPE_AT_ONCE);
	assert_int_equal(rec_child_receive_reply(&f.c, &r, &v, sizeof(v)),
	    REC_ERR_IO);
	assert_true(WIFSIGNALED(f.c.status));
	assert_int_equal(WTERMSIG(f.c.status), SIGPIPE);
	assert_int_equal(f.cap.errors, 0);
	rec_child_end(&f.c);
	assert_no_children();
}

/*
 * The child dies with the process that started it: a host killed with
 * SIGKILL leaves no store reader behind.  A go-between process starts the
 * child, passes its pid on and is killed; we are the subreaper that the
 * orphan would come to.
 */
static void
test_dies_with_parent(void **state)
{
	struct timespec t0;
	int p[2], status;
	pid_t mid, orphan = 0, w = 0;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	assert_int_equal(pipe(p), 0);
	if ((mid = fork()) == 0) {
		struct fx f;
		uint32_t v = 0;
		int r;

		close(p[0]);
		if (start_in(&f, REPORT_PID, geteuid(), 10) != REC_OK ||
		    rec_child_receive_reply(&f.c, &r, &v, sizeof(v)) != REC_OK)
			_exit(1);
		if (write(p[1], &v, sizeof(v)) != (ssize_t)sizeof(v))
			_exit(1);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], &orphan, sizeof(orphan)),
	    (ssize_t)sizeof(orphan));
	close(p[0]);
	assert_true(orphan > 0);
	kill(mid, SIGKILL);
	assert_int_equal(waitpid(mid, &status, 0), mid);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (since(&t0) < 5.0 && (w = waitpid(orphan, &status, WNOHANG)) == 0)
		usleep(10000);
	assert_int_equal(w, orphan);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGKILL);
	prctl(PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0);
	assert_no_children();
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_answer_request_answer),
		cmocka_unit_test(test_end_without_request),
		cmocka_unit_test(test_child_dies),
		cmocka_unit_test(test_ask_gone_child),
		cmocka_unit_test(test_host_ignores_sigchld),
		cmocka_unit_test(test_host_reaps_children),
		cmocka_unit_test(test_end_hidden_from_host),
		cmocka_unit_test(test_other_uid_refused),
		cmocka_unit_test(test_deadline_never_answers),
		cmocka_unit_test(test_deadline_stopped),
		cmocka_unit_test(test_deadline_at_end),
		cmocka_unit_test(test_sigpipe_not_corrupt),
		cmocka_unit_test(test_dies_with_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
