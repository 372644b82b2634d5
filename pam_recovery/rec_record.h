/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_record.h: the records of a store and their on-disk encoding. */
#ifndef REC_RECORD_H
#define REC_RECORD_H

#include <stddef.h>
#include <stdint.h>

#include "rec_code.h"
#include "rec_kdf.h"
#include "rec_lockout.h"

#define REC_RECORD_VERSION 1
#define REC_USER_MAX 256	/* longest user name accepted */
#define REC_FIELD_MAX 256	/* longest audit text field */
#define REC_COUNT_MAX 100	/* most codes in one batch */

/* One per user ("users" database, key: the user name). */
struct rec_user {
	uint64_t active_batch;	/* 0 = none */
	struct rec_lock lock;	/* login attempts */
	struct rec_lock gen;	/* generate_cooldown, escalating the same way */
	uint64_t last_used;	/* last successful code, 0 = never */
	uint64_t last_generated;
};

enum rec_batch_status {
	REC_BATCH_ACTIVE = 1,
	REC_BATCH_INVALIDATED = 2,	/* replaced or invalidated by hand */
	REC_BATCH_PURGED = 3,		/* its codes were removed by purge */
	REC_BATCH_STAGED = 4,		/* stored, not yet shown and activated */
};

/* Export formats a batch was shown or saved in, as a bit mask. */
enum rec_exported {
	REC_EXP_TERMINAL = 1 << 0, REC_EXP_TXT = 1 << 1, REC_EXP_CSV = 1 << 2,
	REC_EXP_JSON = 1 << 3, REC_EXP_PDF = 1 << 4, REC_EXP_QR = 1 << 5,
};

/* One per batch ("batches" database, key: user NUL batch id). */
struct rec_batch {
	uint64_t id;		/* created << 24 | 24 random bits */
	uint8_t status;		/* enum rec_batch_status */
	uint64_t created, modified, expires, verified; /* 0 = never */
	uint32_t exported;	/* enum rec_exported bits */
	uint16_t count, used, invalidated;
	uint64_t opslimit, memlimit;
	uint8_t peppered;
	uint8_t tag_bits;
	uint8_t tag_key[REC_TAGKEY_LEN];
	struct rec_format fmt;	/* the format its codes were generated in */
};

enum rec_code_state { REC_CODE_UNUSED = 0, REC_CODE_USED = 1, REC_CODE_INVALID = 2 };

/* One per code ("codes" database, key: user NUL batch id slot). */
struct rec_code_rec {
	uint8_t slot;		/* 1..count */
	uint8_t state;		/* enum rec_code_state */
	uint16_t tag;
	uint8_t salt[REC_SALT_LEN];
	uint8_t hash[REC_HASH_LEN];
	uint64_t changed;	/* when used or invalidated */
};

enum rec_event_type {
	REC_EV_CODE_USED = 1, REC_EV_CODE_REJECTED, REC_EV_CODE_MALFORMED,
	REC_EV_LOCKED, REC_EV_LOCK_DENIED, REC_EV_STORE_ERROR,
	REC_EV_GENERATED, REC_EV_INVALIDATED, REC_EV_UNLOCKED, REC_EV_VERIFIED,
	REC_EV_PURGED, REC_EV_ADMIN, REC_EV_FORGOTTEN,
};

/* One audit event ("audit" database, key: 64-bit sequence number). */
struct rec_event {
	uint64_t time;
	uint8_t type;		/* enum rec_event_type */
	uint64_t batch;
	uint8_t slot;
	char user[REC_USER_MAX], service[REC_FIELD_MAX], rhost[REC_FIELD_MAX];
	char tty[REC_FIELD_MAX], actor[REC_FIELD_MAX], detail[REC_FIELD_MAX];
	/*
	 * The host that recorded it, as a fleet's directory keeps it
	 * (pamRecoveryHost); not part of the LMDB encoding: a local store's
	 * events come back with it empty.
	 */
	char host[REC_FIELD_MAX];
};

/* Largest encoding of any record. */
#define REC_RECORD_BUF 2048

/*
 * Encoders write the record, big-endian, field by field, after a version
 * byte, into buf (REC_RECORD_BUF bytes) and return its length.  Decoders
 * return REC_OK or REC_ERR_CORRUPT for a short, long, unknown-version or
 * out-of-range record; they never read past len.
 */
size_t rec_user_encode(const struct rec_user *u, uint8_t *buf);
int rec_user_decode(const uint8_t *buf, size_t len, struct rec_user *u);
size_t rec_batch_encode(const struct rec_batch *b, uint8_t *buf);
int rec_batch_decode(const uint8_t *buf, size_t len, struct rec_batch *b);
size_t rec_coderec_encode(const struct rec_code_rec *c, uint8_t *buf);
int rec_coderec_decode(const uint8_t *buf, size_t len, struct rec_code_rec *c);
size_t rec_event_encode(const struct rec_event *e, uint8_t *buf);
int rec_event_decode(const uint8_t *buf, size_t len, struct rec_event *e);

/*
 * Check the code records of batch b (n of them, in slot order, as
 * rec_coderec_get_all returns them) against its counts: slots within
 * 1..count and each once, no more unused codes than count - used -
 * invalidated, no more used or invalid codes than the batch counted.  A store
 * that breaks these
 * was not written by us.  Returns REC_OK or REC_ERR_CORRUPT.
 */
int rec_batch_check_codes(const struct rec_batch *b,
    const struct rec_code_rec *codes, unsigned n);

/* Name of an event type as logged ("code_used", ...). */
const char *rec_event_name(enum rec_event_type t);

/* "active", "invalidated", "purged", or "expired" when expires <= now. */
const char *rec_batch_status_name(const struct rec_batch *b, uint64_t now);

#endif
