/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_self.c: pam-recovery's side of the self-service, and the messages' I/O for both sides. */
#include <bsd/readpassphrase.h>
#include <err.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_be.h"
#include "rec_err.h"
#include "rec_self.h"
#include "tool_common.h"

int
tool_self_send(int fd, int type, const void *p, size_t len, const int *fds,
    int nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * TOOL_SELF_FDS_MAX)];
	} u;
	uint8_t head[REC_SELF_HEAD_LEN];
	struct iovec iov[2];
	struct msghdr mh;
	struct cmsghdr *cm;

	if (nfds < 0 || nfds > TOOL_SELF_FDS_MAX ||
	    rec_self_head(head, type, len) != REC_OK) {
		errno = EINVAL;
		return -1;
	}
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof(head);
	iov[1].iov_base = (void *)p;
	iov[1].iov_len = len;
	mh.msg_iov = iov;
	mh.msg_iovlen = 2;
	if (nfds > 0) {
		mh.msg_control = u.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * (size_t)nfds);
	}
	return sendmsg(fd, &mh, MSG_NOSIGNAL) ==
	    (ssize_t)(sizeof(head) + len) ? 0 : -1;
}

int
tool_self_recv(int fd, int timeout_ms, int *type, uint8_t *p, size_t *len,
    int *fds, int *nfds)
{
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(sizeof(int) * TOOL_SELF_FDS_MAX)];
	} u;
	uint8_t msg[REC_SELF_HEAD_LEN + REC_SELF_PAYLOAD_MAX];
	struct pollfd pfd = { fd, POLLIN, 0 };
	struct iovec iov = { msg, sizeof(msg) };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int got = 0, r = -1;

	if (nfds != NULL)
		*nfds = 0;
	for (;;) {
		n = poll(&pfd, 1, timeout_ms);
		if (n > 0)
			break;
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
	memset(&mh, 0, sizeof(mh));
	memset(&u, 0, sizeof(u));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = u.buf;
	mh.msg_controllen = sizeof(u.buf);
	if ((n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC)) <= 0) {
		if (n == 0)
			errno = ECONNRESET;
		return -1;
	}
	/* Every descriptor that came is either handed over or closed. */
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_type != SCM_RIGHTS)
			continue;
		int k = (int)((cm->cmsg_len - CMSG_LEN(0)) / sizeof(int));
		for (int i = 0; i < k; i++) {
			int d;

			memcpy(&d, CMSG_DATA(cm) + sizeof(int) * (size_t)i,
			    sizeof(d));
			if (fds != NULL && got < TOOL_SELF_FDS_MAX)
				fds[got++] = d;
			else
				close(d);
		}
	}
	if ((mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) != 0 ||
	    (size_t)n < REC_SELF_HEAD_LEN ||
	    rec_self_parse_head(msg, type, len) != REC_OK ||
	    *len != (size_t)n - REC_SELF_HEAD_LEN) {
		errno = EPROTO;
		goto out;
	}
	memcpy(p, msg + REC_SELF_HEAD_LEN, *len);
	r = 0;
out:
	sodium_memzero(msg, sizeof(msg));
	if (r != 0)
		while (got > 0)
			close(fds[--got]);
	if (nfds != NULL)
		*nfds = got;
	return r;
}

/* An answer to a prompt: from the terminal, or one line of stdin. */
static int
answer_prompt(int fd, int echo, const char *prompt)
{
	char buf[REC_SELF_ARG_MAX];
	int flags, r;

	flags = (echo ? RPP_ECHO_ON : RPP_ECHO_OFF) |
	    (isatty(STDIN_FILENO) ? RPP_REQUIRE_TTY : RPP_STDIN);
	if (readpassphrase(prompt, buf, sizeof(buf), flags) == NULL) {
		warn("cannot read the answer to \"%s\"", prompt);
		return -1;
	}
	r = tool_self_send(fd, REC_SELF_ANSWER, buf, strlen(buf), NULL, 0);
	sodium_memzero(buf, sizeof(buf));
	return r;
}

/* Make the file the service asks for, as ourselves, and send it over. */
static int
give_file(int fd, const char *path)
{
	uint8_t err[4] = { 0, 0, 0, 0 };
	FILE *f;
	int e = 0, d = -1, r;

	if ((f = tool_create_private(path)) == NULL)
		e = errno != 0 ? errno : EIO;
	else
		d = fileno(f);
	rec_be_put32(err, (uint32_t)e);
	r = tool_self_send(fd, REC_SELF_FILE, err, sizeof(err), &d,
	    d == -1 ? 0 : 1);
	if (f != NULL)
		fclose(f);
	return r;
}

int
tool_self_client(const struct rec_config *cfg, const char *service,
    int argc, char **argv)
{
	struct sockaddr_un sa;
	struct ucred cred;
	socklen_t cl = sizeof(cred);
	uint8_t p[REC_SELF_PAYLOAD_MAX];
	char text[REC_SELF_PAYLOAD_MAX + 1];
	size_t len;
	int fd = -1, type, ret = EXIT_FAIL;
	int out[2] = { STDOUT_FILENO, STDERR_FILENO };

	if (argc < 1 || argc > REC_SELF_ARGS_MAX) {
		warnx("too many arguments for the self-service");
		return EXIT_USAGE;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(cfg->self_socket) >= sizeof(sa.sun_path)) {
		warnx("self_socket %s: path too long", cfg->self_socket);
		return EXIT_FAIL;
	}
	memcpy(sa.sun_path, cfg->self_socket, strlen(cfg->self_socket));
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1) {
		warn("the self-service for the system store %s is not "
		    "reachable at %s; codes there are managed by the "
		    "administrator, or through pam-recovery-selfd(8) once it "
		    "runs", cfg->store, cfg->self_socket);
		goto out;
	}
	/* Only a service of root's gets the password. */
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &cl) == -1 ||
	    cred.uid != 0) {
		warnx("%s is not root's pam-recovery-selfd: refusing to talk "
		    "to it", cfg->self_socket);
		goto out;
	}
	if (rec_self_encode_request(p, sizeof(p), &len, service,
	    (unsigned)argc, argv) != REC_OK) {
		warnx("arguments too long for the self-service");
		ret = EXIT_USAGE;
		goto out;
	}
	fflush(NULL);
	if (tool_self_send(fd, REC_SELF_REQUEST, p, len, out, 2) != 0) {
		warn("%s", cfg->self_socket);
		goto out;
	}
	for (;;) {
		if (tool_self_recv(fd, TOOL_SELF_CLIENT_WAIT_MS, &type, p, &len,
		    NULL, NULL) != 0) {
			warnx("the self-service ended without an answer%s",
			    errno == ETIMEDOUT ? " in time" : "");
			goto out;
		}
		if (type == REC_SELF_DONE) {
			if (len == 1 && p[0] <= EXIT_USAGE)
				ret = p[0];
			else
				warnx("the self-service gave no exit status");
			break;
		}
		if (rec_self_decode_text(p, len, text, sizeof(text)) !=
		    REC_OK) {
			warnx("the self-service sent a malformed message");
			goto out;
		}
		switch (type) {
		case REC_SELF_PROMPT_OFF:
		case REC_SELF_PROMPT_ON:
			if (answer_prompt(fd, type == REC_SELF_PROMPT_ON,
			    text) != 0)
				goto out;
			break;
		case REC_SELF_INFO:
			printf("%s\n", text);
			fflush(stdout);
			break;
		case REC_SELF_ERROR:
			fprintf(stderr, "%s\n", text);
			break;
		case REC_SELF_CONFIRM:
			p[0] = tool_confirm(text) ? 'y' : 'n';
			if (tool_self_send(fd, REC_SELF_ANSWER, p, 1, NULL,
			    0) != 0)
				goto out;
			break;
		case REC_SELF_CREATE:
			if (give_file(fd, text) != 0)
				goto out;
			break;
		default:
			warnx("the self-service sent an unexpected message");
			goto out;
		}
	}
out:
	sodium_memzero(p, sizeof(p));
	sodium_memzero(text, sizeof(text));
	if (fd != -1)
		close(fd);
	return ret;
}
