/* SPDX-License-Identifier: BSD-2-Clause */
/* rec_ldap_int.h: private to rec_ldap*.c and their test. */
#ifndef REC_LDAP_INT_H
#define REC_LDAP_INT_H

#include <stddef.h>

#include <ldap.h>

#include "rec_config.h"
#include "rec_log.h"
#include "rec_record.h"

#define REC_DN_MAX 2048		/* longest DN built here */
#define REC_LDAP_VAL_MAX 512	/* longest value built or read */

struct rec_ldap {
	LDAP *ld;
	const struct rec_log *log;
	struct rec_config cfg;
	char uri[REC_PATH_MAX];	/* the URI in use, for messages */
	int broken;		/* an operation timed out: nothing more */
	int write;		/* opened for writing (ldap_write_uri) */
	struct ldap_conncb cb;	/* bounds the socket's reads and writes */
};

/*
 * Wait for the result of msgid for at most cfg.ldap_timeout seconds into
 * *res (the caller frees it with ldap_msgfree).  A silent server is
 * abandoned and REC_ERR_TIMEOUT, and the connection is not used again;
 * a lost connection is REC_ERR_IO.  what names the operation in messages.
 */
int rec_ldap_wait(struct rec_ldap *c, int msgid, const char *what,
    LDAPMessage **res);

/*
 * The result code of an operation's result message res (freed here), and
 * the server's message logged at LOG_DEBUG.  *lrc receives the LDAP code.
 * Returns REC_OK for LDAP_SUCCESS, else rec_ldap_err(*lrc).
 */
int rec_ldap_result(struct rec_ldap *c, LDAPMessage *res, const char *what,
    int *lrc);

/* The project error for an LDAP result code. */
int rec_ldap_err(int lrc);

/*
 * The DN of user's entry below ldap_base, the user name escaped
 * (RFC 4514), into dn (REC_DN_MAX).  REC_ERR_USAGE for an empty or too long
 * name or one with a control character.
 */
int rec_ldap_user_dn(const struct rec_ldap *c, const char *user, char *dn);

/*
 * The values of the directory (conf/ldap/README).  Encoders return REC_OK,
 * or REC_ERR_INTERNAL when len is too small.  Parsers accept exactly what
 * the encoders write (decimal without leading zeros, single blanks, base64
 * without padding, the batch's own cost in a code's PHC string) and return
 * REC_OK or REC_ERR_CORRUPT.
 */
int rec_ldap_lock_encode(const struct rec_lock *lk, char *buf, size_t len);
int rec_ldap_lock_parse(const char *s, struct rec_lock *lk);
int rec_ldap_code_encode(const struct rec_batch *b,
    const struct rec_code_rec *cr, char *buf, size_t len);
int rec_ldap_code_parse(const struct rec_batch *b, const char *s,
    struct rec_code_rec *cr);
int rec_ldap_mark_encode(const struct rec_batch *b,
    const struct rec_code_rec *cr, uint64_t t, const char *what, char *buf,
    size_t len);
int rec_ldap_mark_parse(const struct rec_batch *b, const char *s,
    enum rec_code_state state, struct rec_code_rec *cr);
int rec_ldap_format_parse(const char *s, struct rec_format *f);

/*
 * A decimal number as the encoders write it (digits, no sign, no leading
 * zero) of at most max, at the start of s; *end after its digits.
 */
int rec_ldap_parse_num(const char *s, uint64_t max, uint64_t *v,
    const char **end);

/* Printable ASCII of s into out (len), '?' for anything else. */
void rec_ldap_printable(const char *s, char *out, size_t len);

/* ---- Shared with the administrator's walks (rec_ldap_walk.c) ---------- */

/*
 * An entry's values as a login reads them (rec_ldap_entry.c): the user's
 * record, a batch, its codes (sorted by slot, counting used and
 * invalidated into *b), an audit event of user (host: pamRecoveryHost).
 * parse_user's *have receives REC_LOCK_LOGIN and REC_LOCK_GEN for the
 * lockout values e holds.  Each returns REC_OK or REC_ERR_CORRUPT.
 */
int parse_user(LDAP *ld, LDAPMessage *e, struct rec_user *u, unsigned *have);
int parse_batch(LDAP *ld, LDAPMessage *e, struct rec_batch *b);
int parse_codes(LDAP *ld, LDAPMessage *e, struct rec_batch *b,
    struct rec_code_rec *codes, unsigned *n);
int parse_event(LDAP *ld, LDAPMessage *e, const char *user,
    struct rec_event *ev, char *host, size_t hostlen);

/* ---- Paged searches and one user's entries (rec_ldap_walk.c) ---------- */

/*
 * Called with each page's result message; it may keep the message (then
 * sets *res to NULL and frees it later with ldap_msgfree).  Returns
 * REC_OK to go on, REC_STOP to end the search there, or an error.
 */
typedef int rec_ldap_page_fn(struct rec_ldap *c, LDAPMessage **res,
    void *arg);

/*
 * Search below base in pages (the Simple Paged Results control, RFC 2696,
 * marked critical), each page within ldap_timeout, and hand each page to
 * fn.  A base that is not there is REC_ERR_NOTFOUND (not logged); a size
 * or time limit the server puts on the whole search is an error (logged):
 * a walk never ends short as if complete.  Returns REC_OK, fn's return
 * (REC_STOP too, after the server was told to drop the search), or a
 * store error.
 */
int rec_ldap_paged(struct rec_ldap *c, const char *base, int scope,
    const char *filter, char **attrs, rec_ldap_page_fn *fn, void *arg);

/* The state attributes of a user's entry (NULL-terminated): none, a holder. */
extern char *const rec_ldap_user_state[];

/* The attributes a batch entry keeps its codes in, and their states. */
#define REC_LDAP_CODE_ATTRS 3
struct rec_ldap_code_attr {
	const char *attr;
	enum rec_code_state state;
};
extern const struct rec_ldap_code_attr rec_ldap_code_attrs[REC_LDAP_CODE_ATTRS];

/* 1 when entry e has a value of attr. */
int rec_ldap_has_attr(struct rec_ldap *c, LDAPMessage *e, const char *attr);

/* The single number attr of e, 0 when absent; REC_ERR_CORRUPT if bad. */
int rec_ldap_num_of(struct rec_ldap *c, LDAPMessage *e, const char *attr,
    uint64_t *v);

/* Log that batch id of user does not parse; REC_ERR_CORRUPT. */
int rec_ldap_batch_bad(struct rec_ldap *c, const char *user, uint64_t id);

#define REC_LDAP_PAGES_KEPT 4096	/* pages of one user's entries */

struct rec_ldap_batch_ent {
	uint64_t id;
	LDAPMessage *e;
};

/* A user's entry and batch entries, from pages kept until freed. */
struct rec_ldap_ents {
	LDAPMessage *pages[REC_LDAP_PAGES_KEPT];
	size_t npages;
	LDAPMessage *user;		/* NULL: no user entry */
	struct rec_ldap_batch_ent *b;	/* sorted by id */
	size_t nb, cap;
};

/*
 * Read user's entry and batch entries (attrs NULL: all of their
 * attributes) in one paged search below the user's entry, into *out,
 * freed by rec_ldap_ents_free.  *out is NULL with REC_OK when the user
 * has no entry.  Returns REC_OK or a store error.
 */
int rec_ldap_ents_read(struct rec_ldap *c, const char *user, char **attrs,
    struct rec_ldap_ents **out);
void rec_ldap_ents_free(struct rec_ldap_ents *ue);

#endif
