/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_seal.c: a code sheet sealed to an SSH public key with age(1), never on disk in clear. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rec_err.h"
#include "tool_common.h"

#define SEAL_KEYS_MAX	(64 * 1024)	/* a file of public keys is small */

/*
 * While the pipe to age is open SIGPIPE is ignored, so that an age that
 * refuses the key and exits early makes our write fail with EPIPE (the
 * batch is then discarded) instead of killing the tool mid-generate.
 */
static struct sigaction seal_oldpipe;
static int seal_pipe_ignored;

int
tool_seal_check(const char *keyfile)
{
	char buf[SEAL_KEYS_MAX + 1], *line, *next;
	unsigned keys = 0, lineno = 0;
	ssize_t n;
	int fd, ret = -1;

	if (access(TOOL_AGE_PATH, X_OK) != 0) {
		warnx("sealing needs age (%s): apt-get install age",
		    TOOL_AGE_PATH);
		return -1;
	}
	if ((fd = open(keyfile, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		warn("--encrypt-to-ssh-key %s", keyfile);
		return -1;
	}
	if ((n = read(fd, buf, sizeof(buf))) < 0) {
		warn("--encrypt-to-ssh-key %s", keyfile);
		goto out;
	}
	if (n > SEAL_KEYS_MAX) {
		warnx("--encrypt-to-ssh-key %s: larger than %d bytes, not a "
		    "public key file", keyfile, SEAL_KEYS_MAX);
		goto out;
	}
	buf[n] = '\0';
	for (line = buf; line != NULL; line = next) {
		lineno++;
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		if (*line == '\0' || *line == '#')
			continue;
		/* age reads these two; a private key must never be sent. */
		if (strncmp(line, "ssh-ed25519 ", 12) != 0 &&
		    strncmp(line, "ssh-rsa ", 8) != 0) {
			warnx("--encrypt-to-ssh-key %s, line %u: not an "
			    "ssh-ed25519 or ssh-rsa public key (the .pub file, "
			    "or a line of authorized_keys without options)",
			    keyfile, lineno);
			goto out;
		}
		keys++;
	}
	if (keys == 0) {
		warnx("--encrypt-to-ssh-key %s: no public key in it", keyfile);
		goto out;
	}
	ret = 0;
out:
	explicit_bzero(buf, sizeof(buf));
	close(fd);
	return ret;
}

FILE *
tool_seal_open(const char *keyfile, int out, pid_t *pid)
{
	char *const argv[] = { "age", "--encrypt", "-R", (char *)keyfile,
	    NULL };
	char *const envp[] = { "PATH=/usr/bin:/bin", NULL };
	struct sigaction ign;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t dfl;
	int fds[2] = { -1, -1 }, r;
	FILE *f = NULL;

	*pid = -1;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		warn("pipe");
		return NULL;
	}
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	sigemptyset(&ign.sa_mask);
	if (!seal_pipe_ignored) {
		if (sigaction(SIGPIPE, &ign, &seal_oldpipe) == -1) {
			warn("sigaction");
			goto out;
		}
		seal_pipe_ignored = 1;
	}
	if ((r = posix_spawnattr_init(&attr)) != 0) {
		errno = r;
		warn("age");
		goto out;
	}
	/* age itself gets the default SIGPIPE back. */
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGPIPE);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGDEF);
	if ((r = posix_spawn_file_actions_init(&fa)) != 0) {
		posix_spawnattr_destroy(&attr);
		errno = r;
		warn("age");
		goto out;
	}
	/* dup2 clears close-on-exec on the copies age gets. */
	posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, out, STDOUT_FILENO);
	r = posix_spawn(pid, TOOL_AGE_PATH, &fa, &attr, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (r != 0) {
		errno = r;
		warn("%s", TOOL_AGE_PATH);
		*pid = -1;
		goto out;
	}
	if ((f = fdopen(fds[1], "w")) == NULL)
		warn("fdopen");
	else
		fds[1] = -1;
out:
	close(fds[0]);
	if (fds[1] != -1)
		close(fds[1]);
	return f;
}

int
tool_seal_close(FILE *f, pid_t pid)
{
	int st, r = REC_OK;

	if (f != NULL && fclose(f) != 0)
		r = REC_ERR_IO;
	if (seal_pipe_ignored) {
		sigaction(SIGPIPE, &seal_oldpipe, NULL);
		seal_pipe_ignored = 0;
	}
	if (pid <= 0)
		return REC_ERR_IO;
	while (waitpid(pid, &st, 0) == -1)
		if (errno != EINTR)
			return REC_ERR_IO;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		warnx("age failed to seal the codes (exit status %d)",
		    WIFEXITED(st) ? WEXITSTATUS(st) : -1);
		return REC_ERR_IO;
	}
	return r;
}
