/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_secret.c: one careful reader for the secret files of the core. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_file.h"
#include "rec_secret.h"

int
rec_secret_read(const char *path, const char *what, unsigned char *buf,
    size_t cap, size_t *len, const struct rec_log *log)
{
	/* Root's (or, for a caller that is not root, its own), 0600. */
	struct rec_file_rule rule = { NULL, S_IFREG, 0, REC_FILE_SELF,
	    S_IRWXG | S_IRWXO, 0 };
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd = -1, r = REC_ERR_INTERNAL;

	*len = 0;
	rule.what = what;
	if ((r = rec_file_open(AT_FDCWD, NULL, path, &rule, log, &fd,
	    &sb)) != REC_OK) {
		if (r == REC_ERR_NOTFOUND)
			rec_logf(log, LOG_ERR, "%s %s: %s", what, path,
			    strerror(ENOENT));
		r = r == REC_ERR_OWNER || r == REC_ERR_UNSAFE ?
		    REC_ERR_UNSAFE : REC_ERR_IO;
		goto out;
	}
	if ((uintmax_t)sb.st_size > cap) {
		rec_logf(log, LOG_ERR, "%s %s: larger than %zu bytes", what,
		    path, cap);
		r = REC_ERR_CONFIG;
		goto out;
	}
	while (got < cap) {
		n = read(fd, buf + got, cap - got);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			rec_logf(log, LOG_ERR, "%s %s: %s", what, path,
			    strerror(errno));
			r = REC_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		got += (size_t)n;
	}
	*len = got;
	r = REC_OK;
out:
	if (r != REC_OK)
		got = 0;
	sodium_memzero(buf + got, cap - got);
	if (fd != -1)
		close(fd);
	return r;
}
