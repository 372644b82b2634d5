/* SPDX-License-Identifier: BSD-2-Clause */
/* store_helper.c: pam-recovery-store, the module's store work in its own program. */
#include <errno.h>
#include <grp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_auth.h"
#include "rec_be.h"
#include "rec_child.h"
#include "rec_err.h"
#include "rec_helper.h"
#include "rec_target.h"

/*
 * The module spawns this program for each PAM call with its socket on
 * descriptor 0 and nothing else of the host's (rec_child_spawn); it is not
 * setuid and is of no use to anyone else: run by a user it is that user,
 * and reads that user's store.  Started by root it becomes the store's
 * owner for good right after it read the configuration (root's, which
 * the owner may not be able to read), before it touches the store: the
 * store is the one file here that its owner wrote.
 * It dies with the module, never dumps core, and its CPU time and memory
 * are bounded to fit one call at the configured cost.
 */

enum { EXIT_FAILED = 112 };

/* Read exactly len bytes from fd: 0, or -1 at the end of input. */
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

/* The job: a 32-bit big-endian length, then that many bytes. */
static int
read_job(uint8_t *buf, struct rec_helper_job *j)
{
	uint8_t b[4];
	uint32_t len;

	if (read_all(0, b, sizeof(b)) != 0)
		return -1;
	len = rec_be_get32(b);
	if (len > REC_HELPER_JOB_MAX || read_all(0, buf, len) != 0)
		return -1;
	return rec_helper_job_decode(buf, len, j) == REC_OK ? 0 : -1;
}

/* Become uid/gid for good (as root), or be it already. */
static int
become(const struct rec_helper_job *j)
{
	gid_t gid = j->gid;

	if (geteuid() != 0)
		return geteuid() == j->uid && getuid() == j->uid ? 0 : -1;
	if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
	    setresuid(j->uid, j->uid, j->uid) != 0 ||
	    (j->uid != 0 && setuid(0) == 0))
		return -1;
	return 0;
}

/* The size of our private writable memory now, from /proc, in bytes. */
static uint64_t
data_now(void)
{
	char line[128];
	unsigned long long kb = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmData: %llu kB", &kb) == 1)
			break;
	fclose(f);
	return (uint64_t)kb * 1024;
}

/*
 * Limits that fit one call: the memory of one hash (kdf_memlimit) and
 * 64 MiB for the rest over what this program holds already (a sanitizer's
 * shadow, say), CPU seconds for two answers at the deadline, no core.
 * LMDB maps the store shared, which RLIMIT_DATA does not count.
 */
static int
limit(const struct rec_config *cfg)
{
	struct rlimit cpu, data;
	uint64_t d = data_now() + cfg->kdf_memlimit + (UINT64_C(64) << 20);

	cpu.rlim_cur = 2 * (rlim_t)cfg->store_timeout + 1;
	cpu.rlim_max = cpu.rlim_cur + 1;
	data.rlim_cur = data.rlim_max = (rlim_t)d;
	return setrlimit(RLIMIT_CPU, &cpu) == 0 &&
	    setrlimit(RLIMIT_DATA, &data) == 0 ? 0 : -1;
}

/* Messages go nowhere but to a caller who asked (debug): to syslog. */
static void
log_sink(void *ctx, int prio, const char *msg)
{
	(void)ctx;
	syslog(prio, "%s", msg);
}

/*
 * The configuration as the module has it: the file with the section of the
 * module's PAM service, then its arguments.
 */
static int
configure(const struct rec_helper_job *j, struct rec_config *cfg,
    const struct rec_log *log)
{
	int r;

	rec_config_defaults(cfg);
	r = rec_config_load_service(cfg, j->conf[0] != '\0' ? j->conf :
	    REC_CONF_DEFAULT, j->has_service ? j->service : NULL, log);
	if (r == REC_ERR_NOTFOUND && !j->conf_given)
		r = REC_OK;
	for (size_t off = 0; r == REC_OK && off < j->args_len;
	    off += strlen(j->args + off) + 1) {
		const char *a = j->args + off, *eq = strchr(a, '=');
		char key[64];

		if (eq == NULL || (size_t)(eq - a) >= sizeof(key))
			return REC_ERR_CONFIG;
		memcpy(key, a, (size_t)(eq - a));
		key[eq - a] = '\0';
		r = rec_config_set(cfg, key, eq + 1, "module arguments", 0, log);
	}
	return r == REC_OK ? rec_config_validate(cfg, log) : r;
}

/*
 * Open the store, through the one opener of every front end
 * (rec_target_open): the target is the job's (its path and owner, as the
 * module resolved them) under the configuration read here.  A per-user
 * store that does not exist (or none) is NULL: its user has no codes.  A
 * system store that does not exist is a broken configuration, not a whole
 * host of users who are not enrolled.
 *
 * The directory store (store = ldap) has no path and is always opened.
 * Its owner is the module's own identity (rec_target_resolve: a system
 * store is the caller's), so become() kept the identity this program was
 * started with: the connection and the bind, with the password of
 * ldap_bind_pw_file (root's, mode 0600), are made as root under sshd,
 * login or sudo, and as the test's user in the tests, never after a
 * change to another user who could not read that file.  started is the
 * effective uid before become(); a job that would have it otherwise is
 * refused rather than binding as someone else.
 */
static int
open_store(const struct rec_helper_job *j, const struct rec_config *cfg,
    uid_t started, const struct rec_log *log, struct rec_store **st)
{
	struct rec_target t;
	int r;

	*st = NULL;
	memset(&t, 0, sizeof(t));
	t.per_user = rec_config_per_user(cfg);
	t.directory = rec_config_directory(cfg);
	t.owner = j->uid;
	t.owner_gid = j->gid;
	snprintf(t.path, sizeof(t.path), "%s", j->store);
	if (t.directory && (j->uid != started || j->store[0] != '\0')) {
		rec_logf(log, LOG_ERR, "directory store: the job names owner "
		    "%u and store \"%s\", not this program's own identity %u "
		    "and no path: refused", (unsigned)j->uid, j->store,
		    (unsigned)started);
		return REC_ERR_CONFIG;
	}
	if (!t.directory && j->store[0] == '\0')
		return REC_OK;
	r = rec_target_open(cfg, &t, 0, log, st);
	if (r == REC_ERR_NOSTORE && !rec_config_per_user(cfg)) {
		rec_logf(log, LOG_ERR, "store %s: the system store does not "
		    "exist (pam-recovery-admin generate USER creates it)",
		    j->store);
		return REC_ERR_MISSING;
	}
	return r == REC_ERR_NOSTORE ? REC_OK : r;
}

int
main(void)
{
	struct rec_helper_job *j = NULL;
	struct rec_config cfg;
	struct rec_log log = { log_sink, NULL, 0 };
	struct rec_store *st = NULL;
	struct rec_status s;
	struct rec_result res;
	struct rec_who who;
	uint8_t *buf = NULL, st_out[REC_HELPER_STATUS_LEN],
	    res_out[REC_HELPER_RESULT_LEN];
	char code[REC_HELPER_CODE_LEN];
	int r, ret = EXIT_FAILED;
	uid_t started;

	/* It will hold a code and perhaps the pepper: no core, no ptrace. */
	struct rlimit none = { 0, 0 };

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Run from /proc/self/fd/3, it would be called "3" in ps(1). */
	prctl(PR_SET_NAME, "pam-recovery-st", 0, 0, 0);
	/* Descriptor 3 is the executable it was started from. */
	close_range(3, ~0U, 0);
	memset(code, 0, sizeof(code));
	memset(&s, 0, sizeof(s));
	memset(&res, 0, sizeof(res));
	if (sodium_init() < 0 || (j = sodium_malloc(sizeof(*j))) == NULL ||
	    (buf = malloc(REC_HELPER_JOB_MAX)) == NULL)
		goto out;
	if (read_job(buf, j) != 0)
		goto out;
	openlog("pam-recovery-store", LOG_PID, LOG_AUTHPRIV);
	log.debug = j->debug;
	/*
	 * The configuration first, with the identity it was started with:
	 * the module's, which may read a file of root's that the store's
	 * owner may not (it is checked as the module checks it).
	 */
	if (configure(j, &cfg, &log) != REC_OK)
		goto out;
	started = geteuid();
	if (become(j) != 0) {
		ret = REC_CHILD_NO_IDENTITY;
		goto out;
	}
	/* Cleared by the change of identity; a dead module is seen here. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0 ||
	    (pid_t)j->parent != getppid() || limit(&cfg) != 0)
		goto out;
	who.user = j->user;
	who.service = j->has_service ? j->service : NULL;
	who.rhost = j->has_rhost ? j->rhost : NULL;
	who.tty = j->has_tty ? j->tty : NULL;
	who.actor = NULL;
	if ((r = open_store(j, &cfg, started, &log, &st)) == REC_OK)
		r = rec_auth_status(st, &cfg, j->user, (uint64_t)time(NULL),
		    &s);
	rec_helper_status_encode(&s, st != NULL, st_out);
	if (rec_child_send_reply(0, r, st_out, sizeof(st_out)) != 0 ||
	    r != REC_OK)
		goto done;
	/* The end of input instead of a code: nothing to try. */
	if (rec_child_receive_request(0, code, sizeof(code)) != 0)
		goto done;
	code[sizeof(code) - 1] = '\0';
	r = rec_auth_attempt(st, &cfg, &who,
	    &(struct rec_attempt){ .input = code,
	    .pepper = j->have_pepper ? j->pepper : NULL,
	    .now = (uint64_t)time(NULL), .status = &s }, &res);
	/* What the attempt cost, for whoever debugs (spec 4: one hash). */
	rec_logf(&log, LOG_DEBUG, "attempt: %s, %u argon2id evaluation%s",
	    rec_err_reason(r), res.kdf_evals, res.kdf_evals == 1 ? "" : "s");
	rec_helper_result_encode(&res, res_out);
	rec_child_send_reply(0, r, res_out, sizeof(res_out));
done:
	ret = 0;
out:
	sodium_memzero(code, sizeof(code));
	rec_store_close(st);
	sodium_free(j);
	free(buf);
	return ret;
}
