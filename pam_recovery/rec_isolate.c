/* rec_isolate.c: store work in a child process that is only the store's owner. */
#include <errno.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_isolate.h"

/* Exit statuses of the child that explain a missing answer. */
enum { CHILD_NO_IDENTITY = 111, CHILD_FAILED = 112 };

/* What precedes each answer: the child's result. */
struct answer_head {
	int32_t r;
};

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
rec_child_request(int fd, void *buf, size_t len)
{
	return recv_all(fd, buf, len);
}

int
rec_child_reply(int fd, int r, const void *buf, size_t len)
{
	struct answer_head h = { r };

	return send_all(fd, &h, sizeof(h)) == 0 && send_all(fd, buf, len) == 0 ?
	    0 : -1;
}

/* The child: become the owner for good, do the work, end. */
static void __attribute__((noreturn))
child(int fd, uid_t uid, gid_t gid, rec_child_fn *fn, void *arg)
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
	_exit(fn(arg, fd) == 0 ? 0 : CHILD_FAILED);
}

int
rec_child_start(struct rec_child *c, uid_t uid, gid_t gid, rec_child_fn *fn,
    void *arg, const struct rec_log *log)
{
	int sv[2];

	c->pid = -1;
	c->fd = -1;
	c->uid = uid;
	c->log = log;
	c->status = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
		rec_logf(log, LOG_ERR, "socketpair: %s", strerror(errno));
		return REC_ERR_IO;
	}
	if ((c->pid = fork()) == -1) {
		rec_logf(log, LOG_ERR, "fork: %s", strerror(errno));
		close(sv[0]);
		close(sv[1]);
		return REC_ERR_IO;
	}
	if (c->pid == 0) {
		close(sv[0]);
		child(sv[1], uid, gid, fn, arg);
	}
	close(sv[1]);
	c->fd = sv[0];
	return REC_OK;
}

/* Reap the child; its exit status as waitpid gave it, or -1 if taken. */
static int
reap(struct rec_child *c)
{
	int status = 0;
	pid_t w;

	if (c->fd != -1) {
		close(c->fd);
		c->fd = -1;
	}
	if (c->pid <= 0)
		return -1;
	while ((w = waitpid(c->pid, &status, 0)) == -1 && errno == EINTR)
		;
	c->pid = -1;
	c->status = w == -1 ? -1 : status;
	return c->status;
}

int
rec_child_answer(struct rec_child *c, int *r, void *out, size_t len)
{
	struct answer_head h;
	int status;

	if (c->fd != -1 && recv_all(c->fd, &h, sizeof(h)) == 0 &&
	    recv_all(c->fd, out, len) == 0) {
		*r = h.r;
		return REC_OK;
	}
	sodium_memzero(out, len);
	status = reap(c);
	if (status != -1 && WIFSIGNALED(status))
		rec_logf(c->log, LOG_ERR, "the store reader died of signal %d: "
		    "the store is probably corrupt", WTERMSIG(status));
	else if (status != -1 && WIFEXITED(status) &&
	    WEXITSTATUS(status) == CHILD_NO_IDENTITY)
		rec_logf(c->log, LOG_ERR, "the store reader could not take the "
		    "identity of uid %u", (unsigned)c->uid);
	else
		rec_logf(c->log, LOG_ERR, "the store reader gave no answer");
	return REC_ERR_IO;
}

int
rec_child_ask(struct rec_child *c, const void *in, size_t len)
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
	reap(c);
	if (restore)
		sigaction(SIGCHLD, &saved, NULL);
}
