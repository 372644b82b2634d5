/* SPDX-License-Identifier: BSD-2-Clause */
/* pam-recovery-selfd.c: the self-service for a system store: a user's own codes, after their password, without setuid. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <sodium.h>

#include "rec_be.h"
#include "rec_err.h"
#include "rec_kdf.h"
#include "rec_self.h"
#include "rec_target.h"
#include "tool_common.h"

#define PROG "pam-recovery-selfd"
#define PAM_SERVICE_NAME "pam-recovery-self"
#define LISTEN_FD_START 3	/* sd_listen_fds(3): the first passed socket */
#define WORKERS_MAX 16		/* connections served at once */
#define FAILS_MAX 256		/* callers whose failed passwords are kept */
#define FAILS_FREE 3		/* failed passwords before any wait */
#define FAIL_WAIT_BASE 30	/* seconds, doubled with each further failure */
#define FAIL_WAIT_CAP 3600
#define REQUEST_WAIT_MS (30 * 1000)	/* for the request after connecting */
#define ANSWER_WAIT_MS (120 * 1000)	/* for a person to answer a prompt */
#define WORKER_DEADLINE 600	/* seconds for a whole connection */
#define EXIT_AUTH 3		/* a worker's exit status: wrong password */

static struct {
	const char *conf;
	const char *pam_dir;
	int conn;		/* the worker's connection */
} self = { NULL, NULL, -1 };

/*
 * Failed passwords per caller, in memory shared by the listening process
 * and every worker: a worker counts its failure before it answers, so the
 * caller's next connection already sees it.
 */
struct fail {
	uid_t uid;
	unsigned n;
	time_t last;
};
static struct fails {
	pthread_mutex_t lock;
	struct fail f[FAILS_MAX];
} *fails;

static struct worker {
	pid_t pid;
	uid_t uid;
} workers[WORKERS_MAX];

static void
logmsg(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsyslog(prio, fmt, ap);
	va_end(ap);
}

/* A worker killed while it held the lock leaves the counts as they were. */
static void
lock_fails(void)
{
	if (pthread_mutex_lock(&fails->lock) == EOWNERDEAD)
		pthread_mutex_consistent(&fails->lock);
}

static struct fail *
fail_of(uid_t uid, int make)
{
	struct fail *oldest = &fails->f[0];

	for (int i = 0; i < FAILS_MAX; i++) {
		if (fails->f[i].n > 0 && fails->f[i].uid == uid)
			return &fails->f[i];
		if (fails->f[i].last < oldest->last)
			oldest = &fails->f[i];
	}
	if (!make)
		return NULL;
	memset(oldest, 0, sizeof(*oldest));
	oldest->uid = uid;
	return oldest;
}

/* Seconds uid must still wait before its next password, 0 = none. */
static unsigned
wait_left(uid_t uid, time_t now)
{
	struct fail *f = fail_of(uid, 0);
	unsigned long w = FAIL_WAIT_BASE;

	if (f == NULL || f->n < FAILS_FREE)
		return 0;
	for (unsigned i = FAILS_FREE; i < f->n && w < FAIL_WAIT_CAP; i++)
		w *= 2;
	if (w > FAIL_WAIT_CAP)
		w = FAIL_WAIT_CAP;
	return f->last + (time_t)w > now ? (unsigned)(f->last + (time_t)w -
	    now) : 0;
}

static void
reap(void)
{
	pid_t pid;
	int st;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0)
		for (int i = 0; i < WORKERS_MAX; i++) {
			if (workers[i].pid != pid)
				continue;
			workers[i].pid = 0;
			if (WIFSIGNALED(st))
				logmsg(LOG_WARNING, "a worker for uid %u was "
				    "killed by signal %d", (unsigned)
				    workers[i].uid, WTERMSIG(st));
		}
}

/* Count a failed password of uid, or clear its count after a good one. */
static void
count_password(uid_t uid, int good)
{
	struct fail *f;

	lock_fails();
	if ((f = fail_of(uid, !good)) != NULL) {
		if (good)
			memset(f, 0, sizeof(*f));
		else {
			f->n++;
			f->last = time(NULL);
		}
	}
	pthread_mutex_unlock(&fails->lock);
}

/* --- the worker: one connection, one caller ---------------------------- */

static void
send_done(int status)
{
	uint8_t b = (uint8_t)status;

	fflush(NULL);
	tool_self_send(self.conn, REC_SELF_DONE, &b, 1, NULL, 0);
}

/* A command's usage error, as pam-recovery would end on it. */
static void
worker_usage(void)
{
	warnx("usage error: see pam-recovery --help");
	send_done(EXIT_USAGE);
	_exit(EXIT_USAGE);
}

/* Ask the caller: a prompt (its answer in out) or a yes/no question. */
static int
ask(int type, const char *text, char *out, size_t cap)
{
	uint8_t p[REC_SELF_PAYLOAD_MAX];
	size_t len;
	int t, r = -1;

	if (tool_self_send(self.conn, type, text, strlen(text), NULL, 0) != 0 ||
	    tool_self_recv(self.conn, ANSWER_WAIT_MS, &t, p, &len, NULL,
	    NULL) != 0 || t != REC_SELF_ANSWER)
		goto out;
	if (out != NULL && rec_self_decode_text(p, len, out, cap) != REC_OK)
		goto out;
	r = 0;
out:
	sodium_memzero(p, sizeof(p));
	return r;
}

/* PAM's questions go to the caller, over the socket. */
static int
relay_conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct pam_response *r;
	char buf[REC_SELF_ARG_MAX + 1];
	int type;

	(void)data;
	if (n <= 0 || n > PAM_MAX_NUM_MSG)
		return PAM_CONV_ERR;
	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF: type = REC_SELF_PROMPT_OFF; break;
		case PAM_PROMPT_ECHO_ON: type = REC_SELF_PROMPT_ON; break;
		case PAM_ERROR_MSG: type = REC_SELF_ERROR; break;
		case PAM_TEXT_INFO: type = REC_SELF_INFO; break;
		default: goto fail;
		}
		if (strlen(msg[i]->msg) > REC_SELF_PAYLOAD_MAX)
			goto fail;
		if (type == REC_SELF_ERROR || type == REC_SELF_INFO) {
			if (tool_self_send(self.conn, type, msg[i]->msg,
			    strlen(msg[i]->msg), NULL, 0) != 0)
				goto fail;
			continue;
		}
		if (ask(type, msg[i]->msg, buf, sizeof(buf)) != 0)
			goto fail;
		r[i].resp = strdup(buf);
		sodium_memzero(buf, sizeof(buf));
		if (r[i].resp == NULL)
			goto fail;
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	sodium_memzero(buf, sizeof(buf));
	for (int i = 0; i < n; i++)
		if (r[i].resp != NULL) {
			sodium_memzero(r[i].resp, strlen(r[i].resp));
			free(r[i].resp);
		}
	free(r);
	return PAM_CONV_ERR;
}

/* The caller's password, through PAM service pam-recovery-self. */
static int
reauthenticate(const char *user)
{
	struct pam_conv conv = { relay_conv, NULL };
	pam_handle_t *ph = NULL;
	int r;

	r = pam_start_confdir(PAM_SERVICE_NAME, user, &conv, self.pam_dir,
	    &ph);
	if (r == PAM_SUCCESS)
		r = pam_set_item(ph, PAM_RUSER, user);
	if (r == PAM_SUCCESS)
		r = pam_authenticate(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (r == PAM_SUCCESS)
		r = pam_acct_mgmt(ph, PAM_DISALLOW_NULL_AUTHTOK);
	if (r != PAM_SUCCESS)
		logmsg(LOG_NOTICE, "%s: user %s not re-authenticated: %s",
		    PAM_SERVICE_NAME, user, pam_strerror(ph, r));
	if (ph != NULL)
		pam_end(ph, r);
	return r == PAM_SUCCESS ? 0 : -1;
}

static int
relay_confirm(void *ctx, const char *question)
{
	char a[4];

	(void)ctx;
	return ask(REC_SELF_CONFIRM, question, a, sizeof(a)) == 0 &&
	    a[0] == 'y';
}

/* A file the caller makes as themselves, never one root makes. */
static FILE *
relay_create(void *ctx, const char *path)
{
	uint8_t p[REC_SELF_PAYLOAD_MAX];
	size_t len;
	int t, fd = -1, n = 0, e = EIO;
	FILE *f;

	(void)ctx;
	if (tool_self_send(self.conn, REC_SELF_CREATE, path, strlen(path),
	    NULL, 0) != 0 || tool_self_recv(self.conn, ANSWER_WAIT_MS, &t, p,
	    &len, &fd, &n) != 0)
		goto fail;
	if (t != REC_SELF_FILE || len != 4)
		goto fail;
	e = (int)rec_be_get32(p);
	if (e != 0 || n != 1)
		goto fail;
	if ((f = fdopen(fd, "w")) != NULL)
		return f;
	e = errno;
fail:
	if (n == 1 && fd != -1)
		close(fd);
	errno = e != 0 ? e : EIO;
	return NULL;
}

/*
 * verify reads the code as pam-recovery does without a terminal: one line
 * of standard input, here a pipe holding what the caller typed.
 */
static int
code_on_stdin(void)
{
	char code[REC_SELF_ARG_MAX + 2];
	int pfd[2], r = -1;

	if (ask(REC_SELF_PROMPT_OFF, "Recovery code: ", code, sizeof(code) -
	    1) != 0 || pipe(pfd) == -1)
		goto out;
	strcat(code, "\n");
	if (write(pfd[1], code, strlen(code)) == (ssize_t)strlen(code) &&
	    dup2(pfd[0], STDIN_FILENO) != -1)
		r = 0;
	close(pfd[0]);
	close(pfd[1]);
out:
	sodium_memzero(code, sizeof(code));
	return r;
}

static int
worker(int conn, uid_t uid)
{
	static struct rec_self_request req;
	static const struct tool_parent parent = { relay_confirm,
	    relay_create, NULL };
	uint8_t p[REC_SELF_PAYLOAD_MAX];
	unsigned char *pepper = NULL;
	const struct tool_command *c;
	struct rec_config cfg;
	struct rec_log log;
	struct tool_target t;
	struct rec_target rt;
	struct passwd *pw;
	size_t len;
	int type, fds[TOOL_SELF_FDS_MAX], n = 0, null, ret = EXIT_FAIL;
	const char *service;
	unsigned wait;

	self.conn = conn;
	alarm(WORKER_DEADLINE);
	if (tool_self_recv(conn, REQUEST_WAIT_MS, &type, p, &len, fds, &n) !=
	    0 || type != REC_SELF_REQUEST || n != 2 ||
	    rec_self_decode_request(p, len, &req) != REC_OK) {
		logmsg(LOG_NOTICE, "uid %u: a malformed request, connection "
		    "closed", (unsigned)uid);
		return EXIT_FAIL;
	}
	/* The command writes to the caller's own output and error. */
	if (dup2(fds[0], STDOUT_FILENO) == -1 ||
	    dup2(fds[1], STDERR_FILENO) == -1 ||
	    (null = open("/dev/null", O_RDONLY)) == -1 ||
	    dup2(null, STDIN_FILENO) == -1)
		return EXIT_FAIL;
	close(fds[0]);
	close(fds[1]);
	close(null);
	setvbuf(stdout, NULL, _IOFBF, BUFSIZ);
	service = req.service[0] != '\0' ? req.service : NULL;
	if ((pw = getpwuid(uid)) == NULL || strlen(pw->pw_name) >=
	    REC_USER_MAX) {
		warnx("uid %u is not a user of this system", (unsigned)uid);
		goto done;
	}
	if ((c = tool_user_command(req.argv[0])) == NULL) {
		warnx("unknown command %s", req.argv[0]);
		ret = EXIT_USAGE;
		goto done;
	}
	if (service != NULL && !rec_config_service_ok(service)) {
		warnx("--service %s: not a PAM service name", service);
		ret = EXIT_USAGE;
		goto done;
	}
	if (strcmp(c->name, "generate") == 0)
		for (unsigned i = 1; i < req.argc; i++)
			if (strcmp(req.argv[i], "--encrypt-to-ssh-key") == 0) {
				warnx("--encrypt-to-ssh-key is not offered by "
				    "the self-service: save the sheet with -o "
				    "and seal it yourself with age");
				ret = EXIT_USAGE;
				goto done;
			}
	tool_log_init(&log, 0);
	if (tool_load_config(self.conf, service, &cfg, &log) != REC_OK ||
	    tool_one_store(self.conf, service, &cfg, &log) != REC_OK)
		goto done;
	if (rec_config_per_user(&cfg)) {
		warnx("store = %s is a per-user store: pam-recovery manages it "
		    "without the self-service", cfg.store);
		goto done;
	}
	/*
	 * The directory is not root's to lend: the hosts' account may not
	 * write codes, and a user binds to it as themselves.
	 */
	if (rec_config_directory(&cfg)) {
		warnx("store = %s is the directory store: pam-recovery binds to "
		    "it as you, without the self-service", cfg.store);
		goto done;
	}
	lock_fails();
	wait = wait_left(uid, time(NULL));
	pthread_mutex_unlock(&fails->lock);
	if (wait > 0) {
		warnx("too many wrong passwords: try again in %u second%s",
		    wait, wait == 1 ? "" : "s");
		goto done;
	}
	if (reauthenticate(pw->pw_name) != 0) {
		count_password(uid, 0);
		warnx("authentication failed: nothing was changed");
		send_done(EXIT_FAIL);
		return EXIT_AUTH;
	}
	count_password(uid, 1);
	memset(&t, 0, sizeof(t));
	t.cfg = &cfg;
	t.log = &log;
	t.who.user = pw->pw_name;
	t.who.service = PAM_SERVICE_NAME;
	t.who.actor = TOOL_ACTOR_SELF;
	t.service = service;
	t.parent = &parent;
	if (gethostname(t.host, sizeof(t.host) - 1) != 0)
		snprintf(t.host, sizeof(t.host), "localhost");
	/* The system store, ours (root's); its pepper_file applies. */
	if (rec_target_resolve(&cfg, pw->pw_name, pw, 0, &rt) != REC_OK) {
		warnx("cannot use %s as a store path", cfg.store);
		goto done;
	}
	tool_target_store(&t, &rt);
	if (rt.pepper) {
		if ((pepper = sodium_malloc(REC_PEPPER_LEN)) == NULL ||
		    rec_kdf_load_pepper(cfg.pepper_file, pepper, &log) !=
		    REC_OK)
			goto done;
		t.pepper = pepper;
	}
	if (strcmp(c->name, "verify") == 0 && code_on_stdin() != 0)
		goto done;
	logmsg(LOG_INFO, "user %s: %s on the system store %s", pw->pw_name,
	    c->name, t.path);
	optind = 1;
	ret = c->run(&t, (int)req.argc, req.argv, worker_usage);
done:
	if (pepper != NULL)
		sodium_free(pepper);
	send_done(ret);
	return ret == EXIT_OK ? 0 : EXIT_FAIL;
}

/* --- the listening process --------------------------------------------- */

static int
share_fails(void)
{
	pthread_mutexattr_t ma;

	fails = mmap(NULL, sizeof(*fails), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (fails == MAP_FAILED)
		return -1;
	memset(fails, 0, sizeof(*fails));
	if (pthread_mutexattr_init(&ma) != 0 ||
	    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) != 0 ||
	    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST) != 0 ||
	    pthread_mutex_init(&fails->lock, &ma) != 0)
		return -1;
	pthread_mutexattr_destroy(&ma);
	return 0;
}

static int
listen_on(const char *path)
{
	struct sockaddr_un sa;
	struct stat sb;
	int fd;

	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa.sun_path))
		errx(EXIT_FAIL, "%s: path too long for a socket", path);
	memcpy(sa.sun_path, path, strlen(path));
	/* Only a socket left by an earlier run is replaced. */
	if (lstat(path, &sb) == 0) {
		if (!S_ISSOCK(sb.st_mode))
			errx(EXIT_FAIL, "%s exists and is not a socket", path);
		if (unlink(path) == -1)
			err(EXIT_FAIL, "%s", path);
	}
	if ((fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0)) == -1 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    chmod(path, 0666) == -1 || listen(fd, 16) == -1)
		err(EXIT_FAIL, "%s", path);
	return fd;
}

/* The socket systemd passed (LISTEN_PID, LISTEN_FDS), or -1. */
static int
activated(void)
{
	const char *pid = getenv("LISTEN_PID"), *n = getenv("LISTEN_FDS");
	char want[32];
	int type;
	socklen_t tl = sizeof(type);

	if (pid == NULL || n == NULL)
		return -1;
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (strcmp(pid, want) != 0)
		return -1;
	if (strcmp(n, "1") != 0)
		errx(EXIT_FAIL, "systemd passed %s sockets: expected one", n);
	if (getsockopt(LISTEN_FD_START, SOL_SOCKET, SO_TYPE, &type, &tl) ==
	    -1 || type != SOCK_SEQPACKET)
		errx(EXIT_FAIL, "the socket systemd passed is not a "
		    "SOCK_SEQPACKET socket (ListenSequentialPacket=)");
	fcntl(LISTEN_FD_START, F_SETFD, FD_CLOEXEC);
	return LISTEN_FD_START;
}

static void
usage(void)
{
	fprintf(stderr, "usage: " PROG " [-c conf] [--socket PATH] "
	    "[--pam-dir DIR]\n       " PROG " --help | --version\n");
	exit(EXIT_USAGE);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "conf", required_argument, NULL, 'c' },
		{ "socket", required_argument, NULL, 's' },
		{ "pam-dir", required_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct rec_config cfg;
	struct rec_log log;
	const char *sock = NULL;
	struct sigaction sa;
	int ch, lfd;

	tool_std_fds();
	while ((ch = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c': self.conf = optarg; break;
		case 's': sock = optarg; break;
		case 'p': self.pam_dir = optarg; break;
		case 'h':
			printf("usage: " PROG " [-c conf] [--socket PATH] "
			    "[--pam-dir DIR]\n\nServes pam-recovery for the "
			    "users of a system store, after their password "
			    "(PAM service " PAM_SERVICE_NAME ").  See " PROG
			    "(8).\n");
			return EXIT_OK;
		case 'V':
			printf(PROG " %s\n", REC_VERSION);
			return EXIT_OK;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (geteuid() != 0)
		errx(EXIT_FAIL, "must run as root: it reads and writes the "
		    "system store for its callers");
	if (sodium_init() < 0)
		errx(EXIT_FAIL, "libsodium failed to initialise");
	openlog(PROG, LOG_PID, LOG_AUTHPRIV);
	tool_log_init(&log, 0);
	/* The configuration must load now; each request reads it again. */
	if (tool_load_config(self.conf, NULL, &cfg, &log) != REC_OK)
		return EXIT_FAIL;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	if (share_fails() != 0)
		err(EXIT_FAIL, "shared memory for the password counts");
	if ((lfd = activated()) == -1)
		lfd = listen_on(sock != NULL ? sock : cfg.self_socket);
	logmsg(LOG_INFO, "serving on %s", sock != NULL ? sock :
	    cfg.self_socket);
	for (;;) {
		struct pollfd pfd = { lfd, POLLIN, 0 };
		struct ucred cred;
		socklen_t cl = sizeof(cred);
		pid_t pid;
		int conn, slot = -1;

		reap();
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((conn = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) == -1)
			continue;
		for (int i = 0; i < WORKERS_MAX && slot == -1; i++)
			if (workers[i].pid == 0)
				slot = i;
		if (slot == -1 || getsockopt(conn, SOL_SOCKET, SO_PEERCRED,
		    &cred, &cl) == -1) {
			close(conn);
			continue;
		}
		if ((pid = fork()) == 0) {
			close(lfd);
			_exit(worker(conn, cred.uid));
		}
		close(conn);
		if (pid > 0) {
			workers[slot].pid = pid;
			workers[slot].uid = cred.uid;
		}
	}
}
