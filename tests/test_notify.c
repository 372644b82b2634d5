/* SPDX-License-Identifier: BSD-2-Clause */
/* test_notify.c: the notify command's environment, timeout and refusals. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "rec_err.h"
#include "rec_notify.h"

struct fx {
	char dir[64];
	char cmd[128];
	char out[128];
	struct capture cap;
	struct rec_log log;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_notify.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	assert_int_equal(chmod(f->dir, 0755), 0);
	snprintf(f->cmd, sizeof(f->cmd), "%s/notify", f->dir);
	snprintf(f->out, sizeof(f->out), "%s/out", f->dir);
	capture_init(&f->cap, &f->log);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

/* Write the notify script: body after the #! line, with the given mode. */
static void
script(struct fx *f, const char *body, mode_t mode)
{
	FILE *fp = fopen(f->cmd, "w");

	assert_non_null(fp);
	fprintf(fp, "#!/bin/sh\n%s\n", body);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(f->cmd, mode), 0);
}

/* No child of ours is left, running or a zombie. */
static void
assert_no_children(void)
{
	assert_int_equal(waitpid(-1, NULL, WNOHANG), -1);
	assert_int_equal(errno, ECHILD);
}

static void
read_out(struct fx *f, char *buf, size_t len)
{
	FILE *fp = fopen(f->out, "r");
	size_t n;

	assert_non_null(fp);
	n = fread(buf, 1, len - 1, fp);
	buf[n] = '\0';
	fclose(fp);
}

static void
test_environment(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_CODE_USED, .user = "alice",
	    .remaining = 7, .service = "sshd", .rhost = "192.0.2.1",
	    .system_store = 1, .admin_email = "root@example.org",
	    .helper = "pam-recovery --service sudo" };
	struct sigaction before, after;
	char body[512], buf[4096], host[256];

	if (geteuid() != 0)
		skip();
	snprintf(body, sizeof(body), "env | sort > %s\n"
	    "[ -t 0 ] && echo tty >> %s; read x; echo \"stdin=$x\" >> %s",
	    f->out, f->out, f->out);
	script(f, body, 0755);
	assert_int_equal(sigaction(SIGCHLD, NULL, &before), 0);
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_OK);
	assert_int_equal(sigaction(SIGCHLD, NULL, &after), 0);
	assert_ptr_equal(before.sa_handler, after.sa_handler);
	assert_no_children();
	assert_int_equal(f->cap.errors, 0);
	read_out(f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "PAM_RECOVERY_EVENT=code_used\n"));
	assert_non_null(strstr(buf, "PAM_USER=alice\n"));
	assert_non_null(strstr(buf, "PAM_RECOVERY_REMAINING=7\n"));
	assert_non_null(strstr(buf, "PAM_SERVICE=sshd\n"));
	assert_non_null(strstr(buf, "PAM_RHOST=192.0.2.1\n"));
	assert_non_null(strstr(buf, "PAM_RECOVERY_STORE_KIND=system\n"));
	assert_non_null(strstr(buf, "PAM_RECOVERY_ADMIN_EMAIL=root@example.org\n"));
	assert_non_null(strstr(buf,
	    "PAM_RECOVERY_HELPER=pam-recovery --service sudo\n"));
	assert_non_null(strstr(buf, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\n"));
	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	assert_non_null(strstr(buf, "PAM_RECOVERY_HOST="));
	assert_non_null(strstr(buf, host));
	/* Nothing of ours leaks into the command's environment. */
	assert_null(strstr(buf, "HOME="));
	assert_null(strstr(buf, "\nUSER="));
	assert_null(strstr(buf, "\ntty\n"));
	assert_non_null(strstr(buf, "stdin=\n"));
}

static void
test_optional_values(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_INVALIDATED,
	    .user = "bob", .remaining = -1 };
	char body[512], buf[4096];

	if (geteuid() != 0)
		skip();
	snprintf(body, sizeof(body), "env | sort > %s", f->out);
	script(f, body, 0700);
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_OK);
	read_out(f, buf, sizeof(buf));
	assert_non_null(strstr(buf, "PAM_RECOVERY_EVENT=invalidated\n"));
	assert_non_null(strstr(buf, "PAM_RECOVERY_REMAINING=\n"));
	assert_null(strstr(buf, "PAM_SERVICE="));
	assert_null(strstr(buf, "PAM_RHOST="));
	assert_non_null(strstr(buf, "PAM_RECOVERY_STORE_KIND=user\n"));
	assert_null(strstr(buf, "PAM_RECOVERY_ADMIN_EMAIL="));
	assert_null(strstr(buf, "PAM_RECOVERY_HELPER="));
	/* An admin_email left empty is not set either. */
	n.admin_email = "";
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_OK);
	read_out(f, buf, sizeof(buf));
	assert_null(strstr(buf, "PAM_RECOVERY_ADMIN_EMAIL="));
}

static void
test_event_names(void **state)
{
	(void)state;
	assert_string_equal(rec_notify_event_name(REC_NOTIFY_CODE_USED),
	    "code_used");
	assert_string_equal(rec_notify_event_name(REC_NOTIFY_GENERATED),
	    "generated");
	assert_string_equal(rec_notify_event_name(REC_NOTIFY_INVALIDATED),
	    "invalidated");
	assert_string_equal(rec_notify_event_name(REC_NOTIFY_LOCKED), "locked");
	assert_string_equal(rec_notify_event_name(REC_NOTIFY_UNLOCKED),
	    "unlocked");
	assert_string_equal(rec_notify_event_name(REC_NOTIFY_EXPIRING),
	    "expiring");
	assert_null(rec_notify_event_name((enum rec_notify_event)99));
}

static void
test_timeout_kills(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_LOCKED, .user = "alice",
	    .remaining = 3 };

	if (geteuid() != 0)
		skip();
	script(f, "exec sleep 30", 0755);
	assert_int_equal(rec_notify(f->cmd, 1, &n, &f->log), REC_ERR_TIMEOUT);
	assert_no_children();
	assert_logged(&f->cap, "killed after 1 s");
}

static void
test_failing_command(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_GENERATED, .user = "alice",
	    .remaining = 10 };

	if (geteuid() != 0)
		skip();
	script(f, "exit 3", 0755);
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_ERR_INTERNAL);
	assert_no_children();
	assert_logged(&f->cap, "failed");
}

static void
test_refused(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_UNLOCKED, .user = "alice",
	    .remaining = 1 };
	char body[512];

	if (geteuid() != 0)
		skip();
	snprintf(body, sizeof(body), "touch %s", f->out);
	script(f, body, 0775);
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_ERR_UNSAFE);
	assert_int_equal(chmod(f->cmd, 0757), 0);
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_ERR_UNSAFE);
	assert_int_equal(chmod(f->cmd, 0644), 0);
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_ERR_UNSAFE);
	assert_int_equal(chmod(f->cmd, 0755), 0);
	assert_int_equal(chown(f->cmd, 1, 1), 0);
	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_ERR_UNSAFE);
	assert_int_equal(rec_notify("notify", 5, &n, &f->log), REC_ERR_CONFIG);
	assert_int_equal(access(f->out, F_OK), -1);
	/* Each refusal says why (rec_file), then that the command was refused. */
	assert_int_equal(f->cap.errors, 9);
	assert_logged(&f->cap, "refused");
	assert_logged(&f->cap, "writable by group or other (mode 0775)");
	assert_logged(&f->cap, "not executable by its owner (mode 0644)");
	assert_logged(&f->cap, "owned by uid 1, not by root");
	assert_no_children();
}

static void
test_symlink_refused(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_UNLOCKED, .user = "alice",
	    .remaining = 1 };
	char link[256];

	if (geteuid() != 0)
		skip();
	script(f, "exit 0", 0755);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink(f->cmd, link), 0);
	assert_int_equal(rec_notify(link, 5, &n, &f->log), REC_ERR_UNSAFE);
}

static void
test_missing(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_EXPIRING, .user = "alice",
	    .remaining = 4 };

	assert_int_equal(rec_notify(f->cmd, 5, &n, &f->log), REC_ERR_NOTFOUND);
	assert_int_equal(f->cap.errors, 1);
	assert_no_children();
}

static void
test_none_configured(void **state)
{
	struct fx *f = *state;
	struct rec_notice n = { .event = REC_NOTIFY_CODE_USED, .user = "alice",
	    .remaining = 4 };

	assert_int_equal(rec_notify("", 5, &n, &f->log), REC_OK);
	assert_int_equal(rec_notify(NULL, 5, &n, &f->log), REC_OK);
	assert_int_equal(f->cap.count, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_environment, setup, teardown),
		cmocka_unit_test_setup_teardown(test_optional_values, setup,
		    teardown),
		cmocka_unit_test(test_event_names),
		cmocka_unit_test_setup_teardown(test_timeout_kills, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_failing_command, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink_refused, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_missing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_none_configured, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
