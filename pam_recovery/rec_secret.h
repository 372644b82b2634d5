/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_secret.h: reading a root-owned secret file (pepper, bind password). */
#ifndef REC_SECRET_H
#define REC_SECRET_H

#include <stddef.h>

#include "rec_log.h"

/*
 * Read the secret file path into buf (cap bytes) and set *len.  The file is
 * opened and checked by rec_file_open (no symbolic link, non-blocking, so
 * a FIFO in its place cannot hang a login): a regular file owned by root
 * (or, for a caller that is not root, by the caller), mode 0600 or
 * stricter, at most cap bytes.  what names the file in messages ("pepper
 * file").  Returns REC_OK; REC_ERR_UNSAFE for a symbolic link, a wrong
 * type, owner or mode;
 * REC_ERR_CONFIG for a file larger than cap; REC_ERR_IO when it cannot be
 * opened or read.  On every path the part of buf not returned as the
 * secret is wiped; the caller wipes the secret itself.
 */
int rec_secret_read(const char *path, const char *what, unsigned char *buf,
    size_t cap, size_t *len, const struct rec_log *log);

#endif
