/* SPDX-License-Identifier: BSD-2-Clause */
/* bench_versus.c: item 5, our overhead next to pam_google_authenticator. */
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <security/pam_appl.h>

#include <sodium.h>

#include "bench.h"

#define GA_MODULE	"pam_google_authenticator.so"
#define GA_SCRATCH	5	/* scratch codes per secret file, as issued */
#define SVC_GA		"bench-ga"	/* pam_google_authenticator */
#define SVC_GA_SHM	"bench-ga-shm"	/* the same on tmpfs */

/* One 4 KiB write at the start of fd and its fdatasync, timed into *ms. */
static int
sync_once(int fd, double *ms)
{
	char page[4096];
	double t0;

	memset(page, 0x5a, sizeof(page));
	t0 = now_ms();
	if (pwrite(fd, page, sizeof(page), 0) != (ssize_t)sizeof(page) ||
	    fdatasync(fd) == -1) {
		fprintf(stderr, "bench: write and fdatasync: %s\n",
		    strerror(errno));
		return -1;
	}
	*ms = now_ms() - t0;
	return 0;
}

/* pam_google_authenticator.so in libpam's own module directory, or -1. */
static int
ga_module(char *out, size_t len)
{
	char lib[PATH_MAX];
	Dl_info di;

	if (dladdr((void *)(uintptr_t)pam_start, &di) == 0 ||
	    di.dli_fname == NULL || (size_t)snprintf(lib, sizeof(lib), "%s",
	    di.dli_fname) >= sizeof(lib) || (size_t)snprintf(out, len,
	    "%s/security/" GA_MODULE, dirname(lib)) >= len)
		return -1;
	return access(out, R_OK) == 0 ? 0 : -1;
}

/*
 * One line to syslog as long as the line each module writes per login,
 * timed into *ms.  Without a syslog daemon (no /dev/log), a process that
 * asked for LOG_CONS, as pam_google_authenticator does, writes it to
 * /dev/console instead.
 */
static void
syslog_once(double *ms)
{
	double t0 = now_ms();

	syslog(LOG_AUTHPRIV | LOG_NOTICE, "bench: a line as long as the one "
	    "each module logs for a login, to time it");
	*ms = now_ms() - t0;
}

/*
 * Where there is no syslog daemon (no /dev/log), pam_google_authenticator
 * asks for LOG_CONS, and from then on every log line of this process goes
 * to /dev/console: on a serial console, up to a millisecond a line, more
 * than either module's own work, and a cost no machine with a syslog
 * daemon pays.  *console receives what a line costs there (reps of them).
 * Then, as root, this process takes a private mount namespace with
 * /dev/null over /dev/console, where a line costs about as much as a
 * datagram to a syslog daemon.  Returns what log lines cost from then on.
 */
static const char *
quiet_console(const struct bench *b, double *console)
{
	if (access("/dev/log", F_OK) == 0)
		return "to /dev/log";
	openlog("bench", LOG_CONS | LOG_PID, LOG_AUTHPRIV);
	for (unsigned i = 0; i < b->reps; i++)
		syslog_once(&console[i]);
	closelog();
	if (geteuid() != 0)
		return "to /dev/console (no /dev/log; not root)";
	/* The types are ignored; "none" keeps memcheck from flagging NULL. */
	if (unshare(CLONE_NEWNS) == -1 ||
	    mount("none", "/", "none", MS_REC | MS_PRIVATE, NULL) == -1 ||
	    mount("/dev/null", "/dev/console", "none", MS_BIND, NULL) == -1) {
		fprintf(stderr, "bench: cannot put /dev/null over "
		    "/dev/console: %s\n", strerror(errno));
		return "to /dev/console (no /dev/log)";
	}
	return "to /dev/null (no /dev/log; /dev/null over /dev/console "
	    "in a private mount namespace)";
}

/* One side of a comparison: a module, a store or secret file, samples. */
struct side {
	const char *label;
	const char *svc;
	const char *store;		/* ours: the store; theirs: NULL */
	uid_t owner;			/* of the store */
	const struct rec_config *cfg;	/* ours: as its service reads it */
	struct rec_new_batch *nb;	/* ours: codes in clear */
	unsigned next;			/* the next unused one, once issued */
	int issued;
	double *ms, *cpu;		/* reps samples each */
};

/* One filesystem's comparison: theirs, ours per-user, ours system. */
struct fs_round {
	const char *dir;		/* where the stores are, for the name */
	char secret[PATH_MAX];		/* their secret file */
	struct side side[3];
	double *sync, *log;		/* reps samples each */
};

/*
 * Write the secret file of pam_google_authenticator afresh at path, owned
 * by pu, as its own tool would for TOTP: a random base32 secret, two option
 * lines and GA_SCRATCH scratch codes of 8 digits, the first of which goes
 * to code.  No RATE_LIMIT line: it would refuse the fourth login in 30
 * seconds.
 */
static int
ga_secret(const struct bench *b, const char *path, char code[9])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	char text[256];
	size_t len = 0;
	unsigned sc;
	int ret = -1;

	if (unlink(path) == -1 && errno != ENOENT) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (unsigned i = 0; i < 16; i++)
		text[len++] = b32[randombytes_uniform(32)];
	len += (size_t)snprintf(text + len, sizeof(text) - len,
	    "\n\" DISALLOW_REUSE\n\" TOTP_AUTH\n");
	for (unsigned k = 0; k < GA_SCRATCH; k++) {
		sc = 10000000 + randombytes_uniform(90000000);
		if (k == 0)
			snprintf(code, 9, "%08u", sc);
		len += (size_t)snprintf(text + len, sizeof(text) - len,
		    "%08u\n", sc);
	}
	if (write_file(path, 0600, text) != 0)
		goto out;
	if (chown(path, b->pu_uid, b->pu_gid) == -1) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	sodium_memzero(text, sizeof(text));
	return ret;
}

/*
 * One login of side sd as pu, its times into sample i (none when i is
 * -1): theirs with the first scratch code of a fresh secret file, written
 * outside the timing; ours with the next unused code, after a fresh batch
 * when they are all used.  Returns 0 when it succeeded.
 */
static int
side_login(struct bench *b, struct fs_round *fr, struct side *sd, int i)
{
	char gcode[9];
	const char *code;
	int r;

	if (sd->store == NULL) {
		if (ga_secret(b, fr->secret, gcode) != 0)
			return -1;
		code = gcode;
	} else {
		/* The batch in sd->nb is this side's only once issued. */
		if (!sd->issued || sd->next == REC_COUNT_MAX) {
			if (issue(b, sd->store, sd->owner, sd->cfg, b->pu,
			    REC_COUNT_MAX, sd->nb, NULL, NULL) != 0)
				return -1;
			sd->issued = 1;
			sd->next = 0;
		}
		code = sd->nb->codes[sd->next++];
	}
	r = login(b, sd->svc, b->pu, code, i >= 0 ? &sd->ms[i] : NULL,
	    i >= 0 ? &sd->cpu[i] : NULL);
	sodium_memzero(gcode, sizeof(gcode));
	if (r != PAM_SUCCESS) {
		fprintf(stderr, "bench: %s: a valid code gave %s\n", sd->svc,
		    r == -1 ? "no handle" : pam_strerror(NULL, r));
		return -1;
	}
	return 0;
}

/*
 * The logins of one filesystem: each side in turn, the order rotating, reps
 * times after one round to warm up; a write and fdatasync of a file in its
 * directory and a line to syslog follow each round.
 */
static int
fs_logins(struct bench *b, struct fs_round *fr)
{
	char path[PATH_MAX];
	int fd = -1, ret = -1;

	if ((size_t)snprintf(path, sizeof(path), "%s/sync.dat", fr->dir) >=
	    sizeof(path) || (fd = open(path, O_RDWR | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		fprintf(stderr, "bench: %s: %s\n", path, strerror(errno));
		goto out;
	}
	for (unsigned i = 0; i <= b->reps; i++) {
		for (unsigned j = 0; j < 3; j++)
			if (side_login(b, fr, &fr->side[(i + j) % 3],
			    (int)i - 1) != 0)
				goto out;
		if (i > 0 && sync_once(fd, &fr->sync[i - 1]) != 0)
			goto out;
		if (i > 0)
			syslog_once(&fr->log[i - 1]);
	}
	ret = 0;
out:
	if (fd != -1) {
		close(fd);
		unlink(path);
	}
	return ret;
}

static void
vs_row(const char *what, unsigned n, const struct stats *s, double cpu,
    const char *target)
{
	printf("   %-40s %3u %7.2f %7.2f %7.2f %7.2f  %s\n", what, n, s->min,
	    s->med, s->p99, cpu, target);
}

/* The rows of one filesystem; with overhead, the paired one of row 2. */
static void
fs_rows(const struct bench *b, struct fs_round *fr, int overhead)
{
	struct stats th, ou, sy;
	struct statfs sf;
	char target[48];

	if (statfs(fr->dir, &sf) == -1)
		sf.f_type = 0;
	printf("   on %s (%s):\n", fs_name((long)sf.f_type), fr->dir);
	th = summarise(fr->side[0].ms, b->reps);
	vs_row(fr->side[0].label, b->reps, &th,
	    summarise(fr->side[0].cpu, b->reps).med, "");
	for (unsigned k = 1; k < 3; k++) {
		ou = summarise(fr->side[k].ms, b->reps);
		snprintf(target, sizeof(target), "<= theirs %s (x%.2f)",
		    ou.med <= th.med ? "ok" : "MISSED", ou.med / th.med);
		vs_row(fr->side[k].label, b->reps, &ou,
		    summarise(fr->side[k].cpu, b->reps).med, target);
	}
	if (overhead) {
		snprintf(target, sizeof(target), "<= theirs %s (x%.2f)",
		    b->ovh.med <= th.med ? "ok" : "MISSED",
		    b->ovh.med / th.med);
		vs_row("  ours: login - paired floor (row 2)", b->reps, &b->ovh,
		    b->ovh_cpu, target);
	}
	sy = summarise(fr->sync, b->reps);
	vs_row("  one 4 KiB pwrite + fdatasync", b->reps, &sy, 0, "");
	sy = summarise(fr->log, b->reps);
	vs_row("  one syslog line, as above", b->reps, &sy, 0, "");
}

/*
 * 5. What a login costs besides argon2id, next to a whole login of
 * pam_google_authenticator (Debian's libpam-google-authenticator) with a
 * scratch code, a plaintext comparison: all through libpam the same way,
 * on the filesystem of the stores and on tmpfs, where a sync is free.
 */
static int
versus(struct bench *b)
{
	char module[PATH_MAX], svc[PATH_MAX + 16], text[2 * PATH_MAX];
	const char *dirs[2] = { b->udir, b->shm_udir };
	const char *ga_svcs[2] = { SVC_GA, SVC_GA_SHM };
	const char *pu_svcs[2] = { SVC_TINY, SVC_TINY_SHM };
	const char *pu_stores[2] = { b->tiny_store, b->tiny_shm_store };
	const char *sys_svcs[2] = { SVC_TINY_SYS, SVC_TINY_SYS_SHM };
	const char *sys_stores[2] = { b->tiny_sys_store,
	    b->tiny_sys_shm_store };
	struct rec_new_batch *nb2 = NULL;
	struct fs_round fr[2];
	unsigned nfs = b->shm[0] != '\0' ? 2 : 1;
	const char *logs;
	double *buf = NULL, *console;
	struct stats sy;
	int ret = -1;

	printf("\n 5 non-hash overhead of a login, next to a whole login of "
	    "pam_google_authenticator\n   with a scratch code (plaintext), "
	    "all as user %s through pam_start_confdir;\n   theirs: a fresh "
	    "secret file (5 scratch codes) written before each, outside the "
	    "timing;\n   ours: a valid code at argon2id opslimit %d, memlimit "
	    "%d (nearly nothing but overhead)\n   in a per-user store and in "
	    "a system store, or login - the floor measured just\n   before it "
	    "(row 2, 10 codes, valid)\n", b->pu, TINY_OPS, TINY_MEM);
	if (ga_module(module, sizeof(module)) != 0) {
		printf("   skipped: no %s beside libpam (Debian: apt-get "
		    "install libpam-google-authenticator)\n", GA_MODULE);
		return 0;
	}
	printf("   %s\n", module);
	if ((buf = calloc((size_t)b->reps * 17, sizeof(*buf))) == NULL ||
	    (nb2 = sodium_malloc(sizeof(*nb2))) == NULL) {
		fprintf(stderr, "bench: out of memory\n");
		goto out;
	}
	console = buf + (size_t)b->reps * 16;
	logs = quiet_console(b, console);
	for (unsigned k = 0; k < nfs; k++) {
		double *p = buf + (size_t)k * 8 * b->reps;

		memset(&fr[k], 0, sizeof(fr[k]));
		fr[k].dir = dirs[k];
		snprintf(fr[k].secret, sizeof(fr[k].secret), "%s/ga.secret",
		    dirs[k]);
		fr[k].side[0] = (struct side){ "  theirs: whole login, scratch "
		    "code", ga_svcs[k], NULL, 0, NULL, NULL, 0, 0, p,
		    p + b->reps };
		fr[k].side[1] = (struct side){ "  ours: whole login, per-user "
		    "store", pu_svcs[k], pu_stores[k], b->pu_uid, &b->tcfg,
		    b->nb, 0, 0, p + 2 * b->reps, p + 3 * b->reps };
		fr[k].side[2] = (struct side){ "  ours: whole login, system "
		    "store", sys_svcs[k], sys_stores[k], geteuid(), &b->tscfg,
		    nb2, 0, 0, p + 4 * b->reps, p + 5 * b->reps };
		fr[k].sync = p + 6 * b->reps;
		fr[k].log = p + 7 * b->reps;
		snprintf(svc, sizeof(svc), "%s/%s", b->confdir, ga_svcs[k]);
		snprintf(text, sizeof(text), "auth required %s secret=%s\n",
		    module, fr[k].secret);
		if (write_file(svc, 0600, text) != 0 ||
		    fs_logins(b, &fr[k]) != 0)
			goto out;
	}
	printf("   log lines: %s\n", logs);
	printf("   %-40s %3s %7s %7s %7s %7s  %s\n", "ms", "n", "min", "median",
	    "p99", "cpu", "target");
	if (access("/dev/log", F_OK) != 0) {
		sy = summarise(console, b->reps);
		vs_row("one syslog line to /dev/console", b->reps, &sy, 0, "");
	}
	for (unsigned k = 0; k < nfs; k++)
		fs_rows(b, &fr[k], k == 0);
	printf("   (cpu: median CPU time of this thread and its children.  A "
	    "login of ours forks\n   one child and commits two LMDB write "
	    "transactions, the first without a sync,\n   the second with an "
	    "fdatasync and an O_DSYNC meta-page write; theirs fsyncs\n   the "
	    "rewritten secret file once before renaming it; each module logs "
	    "one line)\n");
	ret = 0;
out:
	if (nb2 != NULL)
		rec_new_batch_wipe(nb2);
	sodium_free(nb2);
	rec_new_batch_wipe(b->nb);
	free(buf);
	return ret;
}

/*
 * Item 5 in a process of its own: pam_google_authenticator opens syslog
 * with LOG_CONS, which would stay in force for every later login of this
 * process and send their log lines to the console where there is no
 * syslog daemon.
 */
int
versus_apart(struct bench *b)
{
	int status;
	pid_t pid;

	fflush(NULL);
	if ((pid = fork()) == -1) {
		fprintf(stderr, "bench: fork: %s\n", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		int r = versus(b);

		fflush(stdout);
		_exit(r == 0 ? 0 : 1);
	}
	if (waitpid(pid, &status, 0) == -1 || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}
