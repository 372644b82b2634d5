/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_self.h: the messages between pam-recovery and pam-recovery-selfd. */
#ifndef REC_SELF_H
#define REC_SELF_H

#include <stddef.h>
#include <stdint.h>

/*
 * Every message is a 4-byte head (version, type, payload length as 16 bits
 * big-endian) and at most REC_SELF_PAYLOAD_MAX bytes of payload.  A message
 * whose head does not decode ends that connection, nothing else.
 */
#define REC_SELF_VERSION	1
#define REC_SELF_HEAD_LEN	4
#define REC_SELF_PAYLOAD_MAX	4096
#define REC_SELF_ARGS_MAX	32	/* the command and its arguments */
#define REC_SELF_ARG_MAX	1024	/* bytes of one argument */

enum rec_self_type {
	/* pam-recovery to the service */
	REC_SELF_REQUEST = 1,	/* service name, command, arguments; fds */
	REC_SELF_ANSWER = 2,	/* an answer to a prompt or a question */
	REC_SELF_FILE = 3,	/* errno of a file made for the service; fd */
	/* the service to pam-recovery */
	REC_SELF_PROMPT_OFF = 16, /* ask without echo (a password, a code) */
	REC_SELF_PROMPT_ON = 17,  /* ask with echo */
	REC_SELF_INFO = 18,	/* a PAM module's text */
	REC_SELF_ERROR = 19,	/* a PAM module's error */
	REC_SELF_CONFIRM = 20,	/* a yes/no question */
	REC_SELF_CREATE = 21,	/* make this file as the caller, send it */
	REC_SELF_DONE = 22,	/* the command's exit status */
};

/* The request: the [service NAME] to use ("" for none) and argv. */
struct rec_self_request {
	char service[64];
	unsigned argc;
	char *argv[REC_SELF_ARGS_MAX + 1];	/* into buf; argv[argc] NULL */
	char buf[REC_SELF_PAYLOAD_MAX + REC_SELF_ARGS_MAX + 1];
};

/*
 * Write the head of a message of type with len bytes of payload into
 * head.  Returns REC_OK, or REC_ERR_USAGE for an unknown type or a payload
 * over REC_SELF_PAYLOAD_MAX.
 */
int rec_self_head(uint8_t head[REC_SELF_HEAD_LEN], int type, size_t len);

/*
 * Read a head: its type in *type and payload length in *len.  Returns
 * REC_OK, or REC_ERR_MALFORMED (another version, an unknown type, a
 * payload too long).
 */
int rec_self_parse_head(const uint8_t head[REC_SELF_HEAD_LEN], int *type,
    size_t *len);

/*
 * Encode a request: service ("" or NULL for none) and argc strings of
 * argv, into buf of cap bytes; *len receives its length.  Returns REC_OK
 * or REC_ERR_USAGE (too many or too long arguments, a service name over
 * 63 bytes, no room).
 */
int rec_self_encode_request(uint8_t *buf, size_t cap, size_t *len,
    const char *service, unsigned argc, char *const argv[]);

/*
 * Decode a request's payload into req: a service name, then 1 to
 * REC_SELF_ARGS_MAX arguments, each a 16-bit length and that many bytes
 * without NUL, and nothing after them.  Returns REC_OK or
 * REC_ERR_MALFORMED.
 */
int rec_self_decode_request(const uint8_t *p, size_t len,
    struct rec_self_request *req);

/*
 * A text payload (a prompt, a question, a path, an answer): len bytes
 * with no NUL, copied into out (cap bytes, NUL-terminated).  Returns
 * REC_OK or REC_ERR_MALFORMED (a NUL inside, or too long for out).
 */
int rec_self_decode_text(const uint8_t *p, size_t len, char *out,
    size_t cap);

#endif
