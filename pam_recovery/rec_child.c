/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_child.c: store work in a child process that is only the store's owner. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <malloc.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_be.h"
#include "rec_child.h"
#include "rec_err.h"

/*
 * LMDB trusts the files it maps: a user writes their own store, so a root
 * process must never map it, and a store damaged by any means must not
 * take the host (sshd, login, sudo) down.  The store work of one PAM call
 * runs in one forked child that is uid and nothing more (as root: groups,
 * gid and uid all set for good; not as root: uid must be the caller's
 * own), and talks to the caller over a socket pair: the caller reads
 * answers and may send requests between them (with MSG_NOSIGNAL: a dead
 * child is an error, not a SIGPIPE in the host).  A bad file can at worst
 * kill the child, which the caller sees as an answer that never came.
 *
 * SIGCHLD is left as the host set it while the child lives, since it may
 * live through a conversation; only rec_child_end, which makes it exit,
 * sets SIGCHLD to its default for that moment.  A host that reaps its
 * children itself (or ignores SIGCHLD) may still take the exit status of
 * a child that died early, so the answers read from the socket are what
 * count, and the status only explains a missing answer in the log.
 */
enum { CHILD_NO_IDENTITY = REC_CHILD_NO_IDENTITY, CHILD_FAILED = 112 };

/*
 * What precedes each answer: the child's result, 4 bytes big-endian (a
 * spawned helper is another program).
 */
struct answer_head {
	uint8_t r[4];
};

static void
head_put(struct answer_head *h, int r)
{
	uint32_t v = (uint32_t)r;

	rec_be_put32(h->r, v);
}

static int
head_get(const struct answer_head *h)
{
	return (int)rec_be_get32(h->r);
}

static int
send_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = send(fd, p, len, MSG_NOSIGNAL)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Milliseconds of the monotonic clock. */
static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Milliseconds left until deadline, for poll(): 0 once it passed. */
static int
left_ms(int64_t deadline)
{
	int64_t left = deadline - now_ms();

	return left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left;
}

/*
 * Read len bytes by the deadline: 0, -1 when the other end closed or the
 * socket broke, -2 when the deadline passed first.
 */
static int
recv_by(int fd, void *buf, size_t len, int64_t deadline)
{
	struct pollfd pfd;
	uint8_t *p = buf;
	ssize_t n;
	int ready;

	while (len > 0) {
		pfd.fd = fd;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if ((ready = poll(&pfd, 1, left_ms(deadline))) == -1 &&
		    errno == EINTR)
			continue;
		if (ready == -1)
			return -1;
		if (ready == 0)
			return -2;
		if ((n = recv(fd, p, len, MSG_DONTWAIT)) == -1 &&
		    (errno == EINTR || errno == EAGAIN))
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
recv_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = recv(fd, p, len, 0)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
rec_child_receive_request(int fd, void *buf, size_t len)
{
	return recv_all(fd, buf, len);
}

int
rec_child_send_reply(int fd, int r, const void *buf, size_t len)
{
	struct answer_head h;

	head_put(&h, r);
	return send_all(fd, &h, sizeof(h)) == 0 && send_all(fd, buf, len) == 0 ?
	    0 : -1;
}

/*
 * The child: become the owner for good, die with the caller, do the
 * work, end.
 */
static void __attribute__((noreturn))
child(int fd, uid_t uid, gid_t gid, pid_t parent, rec_child_fn *fn,
    void *arg)
{
	/*
	 * Large blocks from fresh zero pages, never from the host's heap: a
	 * host whose heap holds free megabytes (any process that freed a
	 * large block) would have LMDB's 3 MiB of calloc() zeroed by hand
	 * here, page by copied page: 1.4 ms per child, measured.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	malloc_trim(0);
	/* Not root: already nobody but uid; root: become uid for good. */
	if (geteuid() != 0 ? geteuid() != uid :
	    setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0 || (uid != 0 && setuid(0) == 0))
		_exit(CHILD_NO_IDENTITY);
	/*
	 * Not before: a change of identity clears the parent-death signal.
	 * A caller killed before this line is seen by getppid() instead.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
	    getppid() != parent)
		_exit(CHILD_FAILED);
	_exit(fn(arg, fd) == 0 ? 0 : CHILD_FAILED);
}

int
rec_child_start(struct rec_child *c, uid_t uid, gid_t gid, unsigned timeout,
    rec_child_fn *fn, void *arg, const struct rec_log *log)
{
	sigset_t chld, saved;
	pid_t parent = getpid();
	int sv[2];

	c->pid = -1;
	c->fd = -1;
	c->pidfd = -1;
	c->uid = uid;
	c->timeout = timeout > 0 ? timeout : 1;
	c->log = log;
	c->status = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rec_logf(log, LOG_ERR, "socketpair: %s", strerror(errno));
		return REC_ERR_IO;
	}
	/*
	 * SIGCHLD held until the child has a pidfd: a host that reaps in a
	 * handler cannot take it (and free its pid) before then, so a kill
	 * on a missed deadline reaches this child or nobody.
	 */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	pthread_sigmask(SIG_BLOCK, &chld, &saved);
	if ((c->pid = fork()) == -1) {
		rec_logf(log, LOG_ERR, "fork: %s", strerror(errno));
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
		close(sv[0]);
		close(sv[1]);
		return REC_ERR_IO;
	}
	if (c->pid == 0) {
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
		close(sv[0]);
		child(sv[1], uid, gid, parent, fn, arg);
	}
	c->pidfd = pidfd_open(c->pid, 0);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	close(sv[1]);
	c->fd = sv[0];
	return REC_OK;
}

int
rec_child_spawn(struct rec_child *c, uid_t uid, int exe, unsigned timeout,
    const struct rec_log *log)
{
	static char *const argv[] = { "pam-recovery-store", NULL };
	static char *const envp[] = { NULL };
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t at;
	sigset_t chld, saved, none, all;
	int sv[2] = { -1, -1 }, s = -1, x = -1, e, r = REC_ERR_IO;

	c->pid = -1;
	c->fd = -1;
	c->pidfd = -1;
	c->uid = uid;
	c->timeout = timeout > 0 ? timeout : 1;
	c->log = log;
	c->status = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rec_logf(log, LOG_ERR, "socketpair: %s", strerror(errno));
		return REC_ERR_IO;
	}
	/* Above 2 first, so that placing them cannot overwrite each other. */
	if ((s = fcntl(sv[1], F_DUPFD_CLOEXEC, 10)) == -1 ||
	    (x = fcntl(exe, F_DUPFD_CLOEXEC, 10)) == -1) {
		rec_logf(log, LOG_ERR, "fcntl: %s", strerror(errno));
		goto out;
	}
	/*
	 * The helper inherits its socket on 0, /dev/null on 1 and 2, its own
	 * file on 3 to be run from (/proc/self/fd/3, checked by the caller
	 * and never looked up by name again), and nothing else: no other
	 * descriptor, signal disposition, mask or environment of the host.
	 */
	sigemptyset(&none);
	sigfillset(&all);
	sigdelset(&all, SIGKILL);
	sigdelset(&all, SIGSTOP);
	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	if (posix_spawnattr_init(&at) != 0) {
		posix_spawn_file_actions_destroy(&fa);
		goto out;
	}
	if ((e = posix_spawn_file_actions_adddup2(&fa, s, 0)) != 0 ||
	    (e = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_RDWR,
	    0)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, 1, 2)) != 0 ||
	    (e = posix_spawn_file_actions_adddup2(&fa, x, 3)) != 0 ||
	    (e = posix_spawn_file_actions_addclosefrom_np(&fa, 4)) != 0 ||
	    (e = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
	    (e = posix_spawnattr_setsigdefault(&at, &all)) != 0 ||
	    (e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK |
	    POSIX_SPAWN_SETSIGDEF)) != 0)
		rec_logf(log, LOG_ERR, "posix_spawn setup: %s", strerror(e));
	else {
		/* SIGCHLD held until it has a pidfd, as in rec_child_start. */
		sigemptyset(&chld);
		sigaddset(&chld, SIGCHLD);
		pthread_sigmask(SIG_BLOCK, &chld, &saved);
		e = posix_spawn(&c->pid, "/proc/self/fd/3", &fa, &at, argv,
		    envp);
		if (e == 0)
			c->pidfd = pidfd_open(c->pid, 0);
		else
			c->pid = -1;
		pthread_sigmask(SIG_SETMASK, &saved, NULL);
		if (e != 0)
			rec_logf(log, LOG_ERR, "cannot start the store helper: "
			    "%s", strerror(e));
		else
			r = REC_OK;
	}
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
out:
	if (s != -1)
		close(s);
	if (x != -1)
		close(x);
	close(sv[1]);
	if (r == REC_OK)
		c->fd = sv[0];
	else
		close(sv[0]);
	return r;
}

/* SIGKILL to the child, if it is still ours: it runs as the store's owner. */
static void
stop(struct rec_child *c)
{
	if (c->pidfd != -1)
		(void)pidfd_send_signal(c->pidfd, SIGKILL, NULL, 0);
	else if (c->pid > 0) {
		siginfo_t si;

		/* Not ended yet (si_pid 0): still ours, its pid not reused. */
		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)c->pid, &si, WEXITED | WNOHANG |
		    WNOWAIT) == 0 && si.si_pid == 0)
			(void)kill(c->pid, SIGKILL);
	}
}

/* Sleep until the child may have ended, or at most ms. */
static void
nap(const struct rec_child *c, int ms)
{
	struct pollfd pfd = { c->pidfd, POLLIN, 0 };
	struct timespec ts = { 0, 2 * 1000 * 1000 };

	if (c->pidfd != -1)
		(void)poll(&pfd, 1, ms);
	else if (ms > 0)
		(void)nanosleep(&ts, NULL);
}

/*
 * Reap the child by the deadline, killed if it has not ended by then;
 * its exit status as waitpid gave it, or -1 if the host took it (or it
 * could not be reaped even killed: it is left).
 */
static int
reap(struct rec_child *c, int64_t deadline)
{
	int status = 0, killed = 0;
	pid_t w;

	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	while (c->pid > 0) {
		if ((w = waitpid(c->pid, &status, WNOHANG)) == -1 &&
		    errno == EINTR)
			continue;
		if (w != 0) {
			c->status = w == c->pid ? status : -1;
			break;
		}
		if (left_ms(deadline) > 0)
			nap(c, left_ms(deadline));
		else if (!killed) {
			stop(c);
			killed = 1;
			/* SIGKILL lands at once, unless in the kernel. */
			deadline = now_ms() + 1000;
		} else {
			rec_logf(c->log, LOG_ERR, "the store reader (pid %d) "
			    "does not end even killed", (int)c->pid);
			c->status = -1;
			break;
		}
	}
	c->pid = -1;
	if (c->pidfd != -1) {
		close(c->pidfd);
		c->pidfd = -1;
	}
	return c->status;
}

int
rec_child_receive_reply(struct rec_child *c, int *r, void *out, size_t len)
{
	struct answer_head h;
	int64_t deadline = now_ms() + (int64_t)c->timeout * 1000;
	int status, got = -1;

	if (c->fd != -1 && (got = recv_by(c->fd, &h, sizeof(h), deadline)) == 0 &&
	    (got = recv_by(c->fd, out, len, deadline)) == 0) {
		*r = head_get(&h);
		return REC_OK;
	}
	sodium_memzero(out, len);
	if (got == -2) {
		/* It runs as the store's owner, who may have stopped it. */
		reap(c, 0);
		rec_logf(c->log, LOG_ERR, "the store reader did not answer "
		    "within %u seconds (store_timeout): stopped; its owner may "
		    "hold the store's lock", c->timeout);
		return REC_ERR_TIMEOUT;
	}
	status = reap(c, now_ms() + (int64_t)c->timeout * 1000);
	if (status != -1 && WIFSIGNALED(status) && WTERMSIG(status) == SIGPIPE)
		rec_logf(c->log, LOG_DEBUG, "the store reader's output was "
		    "closed");
	else if (status != -1 && WIFSIGNALED(status))
		rec_logf(c->log, LOG_ERR, "the store reader died of signal %d: "
		    "the store is probably corrupt", WTERMSIG(status));
	else if (status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == REC_CHILD_NO_IDENTITY)
		rec_logf(c->log, LOG_ERR, "the store reader could not take the "
		    "identity of uid %u", (unsigned)c->uid);
	else
		rec_logf(c->log, LOG_ERR, "the store reader gave no answer");
	return REC_ERR_IO;
}

int
rec_child_send_request(struct rec_child *c, const void *in, size_t len)
{
	if (c->fd == -1 || send_all(c->fd, in, len) != 0) {
		rec_logf(c->log, LOG_ERR, "the store reader is gone");
		return REC_ERR_IO;
	}
	return REC_OK;
}

/*
 * SIGCHLD at its default while the child we tell to end exits, as
 * pam_unix does around unix_chkpwd: a host that reaps its children in a
 * handler neither takes this one nor sees a child it never made.
 */
void
rec_child_end(struct rec_child *c)
{
	struct sigaction dfl, saved;
	int restore;

	if (c->pid <= 0 && c->fd == -1)
		return;
	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	restore = sigaction(SIGCHLD, &dfl, &saved) == 0;
	reap(c, now_ms() + (int64_t)c->timeout * 1000);
	if (restore)
		sigaction(SIGCHLD, &saved, NULL);
}
