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
#include "rec_secret.h"

int
rec_secret_read(const char *path, const char *what, unsigned char *buf,
    size_t cap, size_t *len, const struct rec_log *log)
{
	struct stat sb;
	ssize_t n;
	size_t got = 0;
	int fd = -1, r = REC_ERR_INTERNAL;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK |
	    O_NOCTTY)) == -1) {
		rec_logf(log, LOG_ERR, "%s %s: %s", what, path,
		    strerror(errno));
		r = REC_ERR_IO;
		goto out;
	}
	if (fstat(fd, &sb) == -1 || !S_ISREG(sb.st_mode)) {
		rec_logf(log, LOG_ERR, "%s %s: not a regular file", what, path);
		r = REC_ERR_UNSAFE;
		goto out;
	}
	if ((uintmax_t)sb.st_size > cap) {
		rec_logf(log, LOG_ERR, "%s %s: larger than %zu bytes", what,
		    path, cap);
		r = REC_ERR_CONFIG;
		goto out;
	}
	if ((sb.st_uid != 0 && sb.st_uid != geteuid()) ||
	    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
		rec_logf(log, LOG_ERR, "%s %s: must be owned by root "
		    "with mode 0600 or stricter", what, path);
		r = REC_ERR_UNSAFE;
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
