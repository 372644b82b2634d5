/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_helper.h: the messages between the module and its store helper. */
#ifndef REC_HELPER_H
#define REC_HELPER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rec_auth.h"
#include "rec_code.h"
#include "rec_config.h"
#include "rec_kdf.h"
#include "rec_record.h"

/*
 * The module never maps a store: each PAM call spawns the store helper
 * (pam-recovery-store, not setuid) with nothing but its socket, sends it
 * one job, and reads its answers.  Everything crosses the exec boundary
 * explicitly encoded: a magic, a version byte, then fields big-endian,
 * strings with a 16-bit length; nothing is a struct copied in memory.  A
 * message that does not decode exactly (wrong magic or version, a length
 * past its end, bytes left over, a string over its bound or holding a
 * NUL) is REC_ERR_CORRUPT.
 *
 * The helper answers the job with the status (REC_HELPER_STATUS_LEN
 * bytes), waits for the code (REC_HELPER_CODE_LEN bytes, NUL-padded; the
 * end of input instead when there is nothing to try), and answers with
 * the result (REC_HELPER_RESULT_LEN bytes).
 */
#define REC_HELPER_VERSION	1
#define REC_HELPER_JOB_MAX	16384	/* bytes of one encoded job */
#define REC_HELPER_ARGS_MAX	4096	/* bytes of the key=value arguments */
#define REC_HELPER_STATUS_LEN	83
#define REC_HELPER_RESULT_LEN	30
#define REC_HELPER_CODE_LEN	(REC_INPUT_MAX + 2)

/* What the helper needs for one PAM call. */
struct rec_helper_job {
	uint32_t uid, gid;		/* whom to become: the store's owner */
	uint32_t parent;		/* the module's pid: die with it */
	char store[REC_PATH_MAX];	/* the store directory; "" = none */
	char conf[REC_PATH_MAX];	/* the configuration file */
	int conf_given;			/* conf= was given: it must exist */
	char args[REC_HELPER_ARGS_MAX];	/* key=value arguments, NUL after each */
	size_t args_len;
	char user[REC_USER_MAX];
	char service[REC_FIELD_MAX], rhost[REC_FIELD_MAX], tty[REC_FIELD_MAX];
	int has_service, has_rhost, has_tty;	/* 0: the item was unset */
	int debug;
	int have_pepper;
	unsigned char pepper[REC_PEPPER_LEN];
};

/*
 * Encode j into buf (cap bytes, at least REC_HELPER_JOB_MAX); *len is set.
 * Returns REC_OK, or REC_ERR_USAGE when a field is over its bound.
 */
int rec_helper_job_encode(const struct rec_helper_job *j, uint8_t *buf,
    size_t cap, size_t *len);

/* Decode len bytes of buf into j: REC_OK or REC_ERR_CORRUPT. */
int rec_helper_job_decode(const uint8_t *buf, size_t len,
    struct rec_helper_job *j);

/* The status answer: REC_HELPER_STATUS_LEN bytes, both ways. */
void rec_helper_status_encode(const struct rec_status *s, int store_exists,
    uint8_t *out);
int rec_helper_status_decode(const uint8_t *in, struct rec_status *s,
    int *store_exists);

/* The result answer: REC_HELPER_RESULT_LEN bytes, both ways. */
void rec_helper_result_encode(const struct rec_result *r, uint8_t *out);
int rec_helper_result_decode(const uint8_t *in, struct rec_result *r);

#endif
