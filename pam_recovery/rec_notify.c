/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_notify.c: run the administrator's notify_command on every change. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rec_err.h"
#include "rec_file.h"
#include "rec_notify.h"

#define NOTIFY_PATH	"/usr/sbin:/usr/bin:/sbin:/bin"
#define NOTIFY_VARS	11	/* the variables, and the closing NULL */
#define NOTIFY_VAR_MAX	512
#define NOTIFY_TICK_NS	10000000L	/* 10 ms between looks at the child */

static const char *const event_names[] = {
	[REC_NOTIFY_CODE_USED] = "code_used",
	[REC_NOTIFY_GENERATED] = "generated",
	[REC_NOTIFY_INVALIDATED] = "invalidated",
	[REC_NOTIFY_LOCKED] = "locked",
	[REC_NOTIFY_UNLOCKED] = "unlocked",
	[REC_NOTIFY_EXPIRING] = "expiring",
};

const char *
rec_notify_event_name(enum rec_notify_event event)
{
	if ((unsigned)event >= sizeof(event_names) / sizeof(event_names[0]))
		return NULL;
	return event_names[event];
}

/* A program of root's that only root may change, never a symbolic link. */
static const struct rec_file_rule notify_rule = {
	"notify_command", S_IFREG, 0, 0, S_IWGRP | S_IWOTH, S_IXUSR
};

int
rec_notify_check(const char *path, const struct rec_log *log)
{
	struct stat st;
	int r;

	if (path == NULL || path[0] != '/')
		return REC_ERR_CONFIG;
	r = rec_file_stat(AT_FDCWD, NULL, path, &notify_rule, log, &st);
	if (r == REC_ERR_OWNER)
		r = REC_ERR_UNSAFE;
	else if (r != REC_OK && r != REC_ERR_NOTFOUND && r != REC_ERR_UNSAFE)
		r = REC_ERR_IO;
	return r;
}

/* Add "name=value" to env[*n] in buf; values are cut, never overflow. */
static int
add_var(char env[][NOTIFY_VAR_MAX], char **envp, size_t *n,
    const char *name, const char *value)
{
	int len;

	if (value == NULL)
		return REC_OK;
	len = snprintf(env[*n], NOTIFY_VAR_MAX, "%s=%s", name, value);
	if (len < 0 || len >= NOTIFY_VAR_MAX)
		return REC_ERR_USAGE;
	envp[*n] = env[*n];
	(*n)++;
	return REC_OK;
}

/*
 * Wait for pid for up to timeout seconds, counted in ticks rather than by
 * the clock so that a slow machine gives the command no less time.  Kills
 * and reaps it when the time is up.  *status gets its wait status.
 */
static int
wait_child(pid_t pid, unsigned timeout, int *status)
{
	struct timespec tick = { 0, NOTIFY_TICK_NS };
	unsigned long ticks, limit;
	pid_t r;

	limit = (unsigned long)timeout * (1000000000L / NOTIFY_TICK_NS);
	for (ticks = 0; ticks <= limit; ticks++) {
		r = waitpid(pid, status, WNOHANG);
		if (r == pid)
			return REC_OK;
		if (r == -1 && errno != EINTR)
			return REC_ERR_IO;
		nanosleep(&tick, NULL);
	}
	(void)kill(pid, SIGKILL);
	while (waitpid(pid, status, 0) == -1 && errno == EINTR)
		;
	return REC_ERR_TIMEOUT;
}

int
rec_notify(const char *command, unsigned timeout,
    const struct rec_notice *notice, const struct rec_log *log)
{
	char env[NOTIFY_VARS][NOTIFY_VAR_MAX];
	char *envp[NOTIFY_VARS + 1];
	char remaining[32], host[HOST_NAME_MAX + 1];
	char *argv[2];
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	const char *name;
	size_t n = 0;
	pid_t pid;
	int fa_ok = 0, attr_ok = 0, status = 0, rc = REC_ERR_INTERNAL, e;

	if (command == NULL || command[0] == '\0')
		return REC_OK;
	name = notice == NULL ? NULL : rec_notify_event_name(notice->event);
	if (name == NULL || notice->user == NULL || timeout == 0) {
		rc = REC_ERR_USAGE;
		goto out;
	}
	if ((rc = rec_notify_check(command, log)) != REC_OK) {
		rec_logf(log, LOG_ERR, "notify_command %s refused: %s",
		    command, rec_err_reason(rc));
		goto out;
	}
	rc = REC_ERR_INTERNAL;
	if (gethostname(host, sizeof(host)) == -1)
		host[0] = '\0';
	host[sizeof(host) - 1] = '\0';
	if (notice->remaining >= 0)
		snprintf(remaining, sizeof(remaining), "%ld", notice->remaining);
	else
		remaining[0] = '\0';
	if (add_var(env, envp, &n, "PATH", NOTIFY_PATH) != REC_OK ||
	    add_var(env, envp, &n, "PAM_RECOVERY_EVENT", name) != REC_OK ||
	    add_var(env, envp, &n, "PAM_USER", notice->user) != REC_OK ||
	    add_var(env, envp, &n, "PAM_RECOVERY_REMAINING",
	    remaining) != REC_OK ||
	    add_var(env, envp, &n, "PAM_RECOVERY_HOST", host) != REC_OK ||
	    add_var(env, envp, &n, "PAM_RECOVERY_STORE_KIND",
	    notice->system_store ? "system" : "user") != REC_OK ||
	    add_var(env, envp, &n, "PAM_SERVICE", notice->service) != REC_OK ||
	    add_var(env, envp, &n, "PAM_RHOST", notice->rhost) != REC_OK ||
	    add_var(env, envp, &n, "PAM_RECOVERY_ADMIN_EMAIL",
	    notice->admin_email != NULL && notice->admin_email[0] != '\0' ?
	    notice->admin_email : NULL) != REC_OK ||
	    add_var(env, envp, &n, "PAM_RECOVERY_HELPER",
	    notice->helper) != REC_OK) {
		rc = REC_ERR_USAGE;
		rec_logf(log, LOG_ERR, "notify_command: a value is too long");
		goto out;
	}
	envp[n] = NULL;

	if (posix_spawn_file_actions_init(&fa) != 0)
		goto out;
	fa_ok = 1;
	if (posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)
	    != 0 ||
	    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)
	    != 0 ||
	    posix_spawn_file_actions_adddup2(&fa, 1, 2) != 0)
		goto out;
	/* The child, not the host, gets default signals and an empty mask. */
	if (posix_spawnattr_init(&attr) != 0)
		goto out;
	attr_ok = 1;
	sigemptyset(&none);
	sigfillset(&all);
	if (posix_spawnattr_setsigmask(&attr, &none) != 0 ||
	    posix_spawnattr_setsigdefault(&attr, &all) != 0 ||
	    posix_spawnattr_setflags(&attr,
	    POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF) != 0)
		goto out;
	argv[0] = (char *)command;
	argv[1] = NULL;
	if ((e = posix_spawn(&pid, command, &fa, &attr, argv, envp)) != 0) {
		rc = e == ENOENT ? REC_ERR_NOTFOUND : REC_ERR_IO;
		rec_logf(log, LOG_ERR, "notify_command %s: %s", command,
		    strerror(e));
		goto out;
	}
	rc = wait_child(pid, timeout, &status);
	if (rc == REC_ERR_TIMEOUT)
		rec_logf(log, LOG_ERR, "notify_command %s killed after %u s "
		    "(event=%s)", command, timeout, name);
	else if (rc != REC_OK)
		rec_logf(log, LOG_ERR, "notify_command %s: wait: %s",
		    command, strerror(errno));
	else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = REC_ERR_INTERNAL;
		rec_logf(log, LOG_ERR, "notify_command %s failed (event=%s, "
		    "status %d)", command, name, status);
	} else
		rec_logf(log, LOG_DEBUG, "notify_command %s: event=%s",
		    command, name);
out:
	if (attr_ok)
		posix_spawnattr_destroy(&attr);
	if (fa_ok)
		posix_spawn_file_actions_destroy(&fa);
	return rc;
}
