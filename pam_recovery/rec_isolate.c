/* rec_isolate.c: running store work in a child process that is only the user. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <malloc.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_isolate.h"

/* What the child writes back: fn's result, then out. */
struct answer_head {
	int32_t r;
};

static int
write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = read(fd, p, len)) == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The child: become the user for good, do the work, answer, end. */
static void __attribute__((noreturn))
child(int fd, uid_t uid, gid_t gid, rec_isolated_fn *fn, void *arg, void *out,
    size_t outlen)
{
	struct answer_head h = { REC_ERR_IO };

	/*
	 * Large blocks from fresh zero pages, never from the host's heap: a
	 * host whose glibc has raised its mmap threshold (any process that
	 * freed a large block) would have LMDB's 3 MiB of calloc() zeroed by
	 * hand here, page by copied page: 1.4 ms per child, measured.
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	malloc_trim(0);
	/* Not root: already nobody but uid; root: become uid for good. */
	if (geteuid() != 0 ? geteuid() != uid :
	    setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(uid, uid, uid) != 0 || (uid != 0 && setuid(0) == 0))
		_exit(111);
	h.r = fn(arg, out);
	if (write_all(fd, &h, sizeof(h)) != 0 ||
	    write_all(fd, out, outlen) != 0) {
		sodium_memzero(out, outlen);
		_exit(112);
	}
	sodium_memzero(out, outlen);
	_exit(0);
}

int
rec_run_as(uid_t uid, gid_t gid, rec_isolated_fn *fn, void *arg, void *out,
    size_t outlen, const struct rec_log *log)
{
	struct sigaction dfl, saved;
	struct answer_head h;
	int fds[2] = { -1, -1 }, status = 0, got, r = REC_ERR_INTERNAL;
	pid_t pid = -1, w;

	memset(&dfl, 0, sizeof(dfl));
	dfl.sa_handler = SIG_DFL;
	sigemptyset(&dfl.sa_mask);
	if (sigaction(SIGCHLD, &dfl, &saved) != 0) {
		rec_logf(log, LOG_ERR, "sigaction: %s", strerror(errno));
		return REC_ERR_IO;
	}
	if (pipe2(fds, O_CLOEXEC) != 0) {
		rec_logf(log, LOG_ERR, "pipe: %s", strerror(errno));
		r = REC_ERR_IO;
		goto out;
	}
	if ((pid = fork()) == -1) {
		rec_logf(log, LOG_ERR, "fork: %s", strerror(errno));
		r = REC_ERR_IO;
		goto out;
	}
	if (pid == 0) {
		close(fds[0]);
		child(fds[1], uid, gid, fn, arg, out, outlen);
	}
	close(fds[1]);
	fds[1] = -1;
	got = read_all(fds[0], &h, sizeof(h)) == 0 &&
	    read_all(fds[0], out, outlen) == 0;
	while ((w = waitpid(pid, &status, 0)) == -1 && errno == EINTR)
		;
	if (!got || w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (w == pid && WIFSIGNALED(status))
			rec_logf(log, LOG_ERR, "the store reader died of signal "
			    "%d: the store is probably corrupt",
			    WTERMSIG(status));
		else if (w == pid && WIFEXITED(status) &&
		    WEXITSTATUS(status) == 111)
			rec_logf(log, LOG_ERR, "the store reader could not take "
			    "the identity of uid %u", (unsigned)uid);
		else
			rec_logf(log, LOG_ERR, "the store reader gave no answer");
		sodium_memzero(out, outlen);
		r = REC_ERR_IO;
		goto out;
	}
	r = h.r;
out:
	if (fds[0] != -1)
		close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	sigaction(SIGCHLD, &saved, NULL);
	return r;
}
