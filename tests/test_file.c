/* SPDX-License-Identifier: BSD-2-Clause */
/* test_file.c: every refusal of the one trusted-file check, and what passes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"
#include "rec_err.h"
#include "rec_file.h"

struct fx {
	char dir[64];
	char path[128];
	struct capture cap;
	struct rec_log log;
	struct rec_file_rule reg, dir_rule;
};

static int
setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_file.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/file", f->dir);
	capture_init(&f->cap, &f->log);
	f->reg = (struct rec_file_rule){ "test file", S_IFREG, geteuid(), 0,
	    S_IWGRP | S_IWOTH, 0 };
	f->dir_rule = (struct rec_file_rule){ "test dir", S_IFDIR, geteuid(),
	    0, S_IRWXG | S_IRWXO, 0 };
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	(void)chmod(f->dir, 0700);
	tmpdir_remove(f->dir);
	free(f);
	return 0;
}

static void
make_file(const char *path, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	assert_true(fd != -1);
	assert_int_equal(write(fd, "x\n", 2), 2);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* Refused by rec_file_open and rec_file_stat alike, with err and the words. */
static void
refused(struct fx *f, const char *path, const struct rec_file_rule *rule,
    int err, const char *words)
{
	struct stat sb;
	int fd = 12345;

	assert_int_equal(rec_file_open(AT_FDCWD, NULL, path, rule, &f->log,
	    &fd, &sb), err);
	assert_int_equal(fd, -1);
	assert_logged(&f->cap, words);
	assert_logged(&f->cap, rule->what);
	capture_init(&f->cap, &f->log);
	assert_int_equal(rec_file_stat(AT_FDCWD, NULL, path, rule, &f->log,
	    &sb), err);
	assert_logged(&f->cap, words);
}

static void
test_regular_file_passes(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	char buf[4];
	int fd = -1;

	make_file(f->path, 0644);
	assert_int_equal(rec_file_open(AT_FDCWD, NULL, f->path, &f->reg,
	    &f->log, &fd, &sb), REC_OK);
	assert_true(fd != -1);
	assert_true(S_ISREG(sb.st_mode));
	assert_int_equal(read(fd, buf, sizeof(buf)), 2);
	close(fd);
	assert_int_equal(rec_file_stat(AT_FDCWD, NULL, f->path, &f->reg,
	    &f->log, &sb), REC_OK);
	assert_int_equal(f->cap.count, 0);
}

static void
test_directory_passes(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	int fd = -1;

	assert_int_equal(chmod(f->dir, 0700), 0);
	assert_int_equal(rec_file_open(AT_FDCWD, NULL, f->dir, &f->dir_rule,
	    &f->log, &fd, &sb), REC_OK);
	assert_true(S_ISDIR(sb.st_mode));
	close(fd);
}

/* Relative to a directory descriptor, messages name directory and file. */
static void
test_relative_to_dirfd(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	int dfd, fd = -1;

	make_file(f->path, 0620);
	dfd = open(f->dir, O_RDONLY | O_DIRECTORY);
	assert_true(dfd != -1);
	assert_int_equal(rec_file_open(dfd, f->dir, "file", &f->reg, &f->log,
	    &fd, &sb), REC_ERR_UNSAFE);
	assert_logged(&f->cap, "test file");
	assert_logged(&f->cap, "/file: writable by group or other");
	assert_true(strstr(f->cap.text, f->dir) != NULL);
	close(dfd);
}

static void
test_missing_is_notfound_unlogged(void **state)
{
	struct fx *f = *state;
	struct stat sb;
	int fd = 0;

	assert_int_equal(rec_file_open(AT_FDCWD, NULL, f->path, &f->reg,
	    &f->log, &fd, &sb), REC_ERR_NOTFOUND);
	assert_int_equal(fd, -1);
	assert_int_equal(rec_file_stat(AT_FDCWD, NULL, f->path, &f->reg,
	    &f->log, &sb), REC_ERR_NOTFOUND);
	assert_int_equal(f->cap.count, 0);
}

static void
test_symlink_refused(void **state)
{
	struct fx *f = *state;
	char link[160];

	make_file(f->path, 0600);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(symlink(f->path, link), 0);
	refused(f, link, &f->reg, REC_ERR_UNSAFE, "a symbolic link");
}

static void
test_symlink_to_directory_refused(void **state)
{
	struct fx *f = *state;
	char sub[160], link[160];

	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	snprintf(link, sizeof(link), "%s/link", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	assert_int_equal(symlink(sub, link), 0);
	refused(f, link, &f->dir_rule, REC_ERR_UNSAFE, "a symbolic link");
}

static void
test_wrong_owner_refused(void **state)
{
	struct fx *f = *state;
	struct rec_file_rule rule = f->reg;

	make_file(f->path, 0600);
	rule.owner = geteuid() + 1;
	refused(f, f->path, &rule, REC_ERR_OWNER, "owned by uid");
	if (rule.owner == 0)
		assert_logged(&f->cap, "not by root");
}

/* REC_FILE_SELF: also the caller's own file (root's, for root). */
static void
test_self_accepted(void **state)
{
	struct fx *f = *state;
	struct rec_file_rule rule = f->reg;
	struct stat sb;

	make_file(f->path, 0600);
	rule.owner = geteuid() == 0 ? 1 : 0;
	assert_int_equal(rec_file_stat(AT_FDCWD, NULL, f->path, &rule,
	    &f->log, &sb), REC_ERR_OWNER);
	rule.flags = REC_FILE_SELF;
	assert_int_equal(rec_file_stat(AT_FDCWD, NULL, f->path, &rule,
	    &f->log, &sb), REC_OK);
}

static void
test_group_writable_refused(void **state)
{
	struct fx *f = *state;

	make_file(f->path, 0620);
	refused(f, f->path, &f->reg, REC_ERR_UNSAFE,
	    "writable by group or other (mode 0620)");
}

static void
test_other_writable_refused(void **state)
{
	struct fx *f = *state;

	make_file(f->path, 0602);
	refused(f, f->path, &f->reg, REC_ERR_UNSAFE,
	    "writable by group or other (mode 0602)");
}

/* A secret's rule forbids reading too. */
static void
test_group_readable_refused_when_forbidden(void **state)
{
	struct fx *f = *state;
	struct rec_file_rule rule = f->reg;

	make_file(f->path, 0640);
	rule.forbid = S_IRWXG | S_IRWXO;
	refused(f, f->path, &rule, REC_ERR_UNSAFE,
	    "readable or usable by group or other (mode 0640)");
}

static void
test_open_directory_refused(void **state)
{
	struct fx *f = *state;

	assert_int_equal(chmod(f->dir, 0750), 0);
	refused(f, f->dir, &f->dir_rule, REC_ERR_UNSAFE,
	    "readable or usable by group or other (mode 0750)");
}

static void
test_directory_is_not_regular(void **state)
{
	struct fx *f = *state;

	refused(f, f->dir, &f->reg, REC_ERR_UNSAFE, "not a regular file");
}

/* A FIFO in a file's place is refused at once, never waited on. */
static void
test_fifo_is_not_regular(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mkfifo(f->path, 0600), 0);
	refused(f, f->path, &f->reg, REC_ERR_UNSAFE, "not a regular file");
}

static void
test_file_is_not_directory(void **state)
{
	struct fx *f = *state;

	make_file(f->path, 0600);
	refused(f, f->path, &f->dir_rule, REC_ERR_UNSAFE, "not a directory");
}

static void
test_not_executable_refused(void **state)
{
	struct fx *f = *state;
	struct rec_file_rule rule = f->reg;
	struct stat sb;

	make_file(f->path, 0644);
	rule.need = S_IXUSR;
	refused(f, f->path, &rule, REC_ERR_UNSAFE, "not executable");
	assert_int_equal(chmod(f->path, 0755), 0);
	assert_int_equal(rec_file_stat(AT_FDCWD, NULL, f->path, &rule,
	    &f->log, &sb), REC_OK);
}

/*
 * A directory its caller may not open because it is another uid's is
 * explained by its owner, not by "Permission denied" (a store restored as
 * root).  As root, the caller is a child that is nobody.
 */
static void
test_no_access_explained_by_owner(void **state)
{
	struct fx *f = *state;
	struct rec_file_rule rule = f->dir_rule;
	struct stat sb;
	char sub[160];
	pid_t pid;
	int fd, status;

	snprintf(sub, sizeof(sub), "%s/sub", f->dir);
	assert_int_equal(mkdir(sub, 0000), 0);
	if (geteuid() != 0) {
		rule.owner = geteuid() + 1;
		assert_int_equal(rec_file_open(AT_FDCWD, NULL, sub, &rule,
		    &f->log, &fd, &sb), REC_ERR_OWNER);
		assert_logged(&f->cap, "owned by uid");
		return;
	}
	assert_int_equal(chmod(f->dir, 0711), 0);
	rule.owner = 65534;
	pid = fork();
	assert_true(pid != -1);
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		_exit(rec_file_open(AT_FDCWD, NULL, sub, &rule, &f->log, &fd,
		    &sb) == REC_ERR_OWNER &&
		    strstr(f->cap.text, "owned by uid 0, not by uid 65534") !=
		    NULL ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)
		T(test_regular_file_passes),
		T(test_directory_passes),
		T(test_relative_to_dirfd),
		T(test_missing_is_notfound_unlogged),
		T(test_symlink_refused),
		T(test_symlink_to_directory_refused),
		T(test_wrong_owner_refused),
		T(test_self_accepted),
		T(test_group_writable_refused),
		T(test_other_writable_refused),
		T(test_group_readable_refused_when_forbidden),
		T(test_open_directory_refused),
		T(test_directory_is_not_regular),
		T(test_fifo_is_not_regular),
		T(test_file_is_not_directory),
		T(test_not_executable_refused),
		T(test_no_access_explained_by_owner),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
