/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_limits.h: sizes every layer shares, and nothing else. */
#ifndef REC_LIMITS_H
#define REC_LIMITS_H

#define REC_PATH_MAX 1024	/* longest path: store, files, programs */

#endif
