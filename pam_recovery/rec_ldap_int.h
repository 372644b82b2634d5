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

/* ---- Requests (rec_ldap_req.c) ---------------------------------------- */

/*
 * A Modify or Add being built.  Every value is a copy kept in it (code
 * values hold hashes), so it is one allocation, wiped when freed.  A
 * builder that ran out of room, or a value too long, marks it bad: its
 * list is then NULL, and sending it REC_ERR_INTERNAL.
 */
struct rec_ldap_mods;
struct rec_ldap_mods *rec_ldap_mods_new(void);	/* NULL: no memory */
void rec_ldap_mods_free(struct rec_ldap_mods *m);
/* Start the values of attribute attr, for op (LDAP_MOD_ADD, _DELETE...). */
void rec_ldap_mods_attr(struct rec_ldap_mods *m, int op, const char *attr);
/* One more value of the attribute started last. */
void rec_ldap_mods_val(struct rec_ldap_mods *m, const void *v, size_t len);
void rec_ldap_mods_str(struct rec_ldap_mods *m, const char *s);
void rec_ldap_mods_fmt(struct rec_ldap_mods *m, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* attr with the one value v, or s. */
void rec_ldap_mods_u64(struct rec_ldap_mods *m, int op, const char *attr,
    uint64_t v);
void rec_ldap_mods_one(struct rec_ldap_mods *m, int op, const char *attr,
    const char *s);
/* How many attributes m changes so far. */
unsigned rec_ldap_mods_count(const struct rec_ldap_mods *m);
/* The NULL-terminated list to send, owned by m; NULL when m is bad. */
LDAPMod **rec_ldap_mods_list(struct rec_ldap_mods *m);

/*
 * Changes, and the reads that decide them, go over a connection opened
 * for writing (ldap_write_uri): a replica may be behind, or refer writes.
 * REC_OK for such a connection, else REC_ERR_USAGE (logged).
 */
int rec_ldap_need_write(struct rec_ldap *c, const char *what);

enum rec_ldap_op { REC_LDAP_MODIFY, REC_LDAP_ADD, REC_LDAP_DELETE };

/*
 * Send the Modify or Add list (rec_ldap_mods_list, or one built by hand;
 * NULL is REC_ERR_INTERNAL), or the Delete of dn, over c, which must be
 * open for writing, and wait for its result within ldap_timeout.
 * Returns REC_OK, or the error with the LDAP result in *lrc (LDAP_OTHER
 * when none came); only errors of the connection are logged here.
 */
int rec_ldap_send(struct rec_ldap *c, enum rec_ldap_op op, const char *dn,
    LDAPMod **list, int *lrc);

/*
 * Log a change refused for a reason the caller does not expect (what, of
 * dn), unless the connection already said so (a timeout, a lost or a
 * read-only connection).  Returns r.
 */
int rec_ldap_failed(struct rec_ldap *c, int r, int lrc, const char *what,
    const char *dn);

/*
 * The outcome of an asserted Modify (conf/ldap/README): a value deleted
 * that was gone, or a single value added where another host had put one,
 * is a lost race (REC_LDAP_LOST, nothing applied); no entry is
 * REC_ERR_NOTFOUND; anything else is rec_ldap_failed.
 */
int rec_ldap_judge(struct rec_ldap *c, int r, int lrc, const char *what,
    const char *dn);

/* The DN of batch id of user into dn (REC_DN_MAX); as rec_ldap_user_dn. */
int rec_ldap_batch_dn(const struct rec_ldap *c, const char *user,
    uint64_t id, char *dn);

/*
 * Search below base, all results at once within ldap_timeout: REC_OK and
 * *res (the caller frees it), REC_ERR_NOTFOUND (not logged) when base is
 * not there, or a store error (logged).
 */
int rec_ldap_search(struct rec_ldap *c, const char *base, int scope,
    const char *filter, char **attrs, LDAPMessage **res);

/*
 * The entry dn (attrs) into *e, within *res for the caller to free; *e
 * NULL, with REC_OK, when there is no such entry.
 */
int rec_ldap_read_entry(struct rec_ldap *c, const char *dn, char **attrs,
    LDAPMessage **res, LDAPMessage **e);

/*
 * The one value of attr in entry e: into buf (len), NUL-terminated
 * (REC_ERR_NOTFOUND when it has none, REC_ERR_CORRUPT for several, a NUL
 * or too long); a number as the encoders write it, at most max (absent
 * is 0 when optional, else corrupt); a lockout value (*have 0 and the
 * zero state when absent).  REC_OK or REC_ERR_CORRUPT but as said.
 */
int rec_ldap_get_str(LDAP *ld, LDAPMessage *e, const char *attr, char *buf,
    size_t len);
int rec_ldap_get_u64(LDAP *ld, LDAPMessage *e, const char *attr,
    int optional, uint64_t max, uint64_t *out);
int rec_ldap_get_lock(LDAP *ld, LDAPMessage *e, const char *attr,
    struct rec_lock *lk, int *have);

/* 1 when e is of object class oc; 1 when e has a value of attr. */
int rec_ldap_is_class(LDAP *ld, LDAPMessage *e, const char *oc);
int rec_ldap_has_attr(struct rec_ldap *c, LDAPMessage *e, const char *attr);

/* ---- The entries' parsers (rec_ldap_entry.c) ---------------------------- */

/*
 * An entry's values as a login reads them (rec_ldap_entry.c): the user's
 * record, a batch, its codes (sorted by slot, counting used and
 * invalidated into *b; a slot without any value, which purge removed,
 * counts as used), an audit event of user (host: pamRecoveryHost).
 * rec_ldap_parse_user's *have receives REC_LOCK_LOGIN and REC_LOCK_GEN
 * for the lockout values e holds.  Each returns REC_OK or
 * REC_ERR_CORRUPT.
 */
int rec_ldap_parse_user(LDAP *ld, LDAPMessage *e, struct rec_user *u,
    unsigned *have);
int rec_ldap_parse_batch(LDAP *ld, LDAPMessage *e, struct rec_batch *b);
int rec_ldap_parse_codes(LDAP *ld, LDAPMessage *e, struct rec_batch *b,
    struct rec_code_rec *codes, unsigned *n);
int rec_ldap_parse_event(LDAP *ld, LDAPMessage *e, const char *user,
    struct rec_event *ev, char *host, size_t hostlen);

/*
 * user's entry and batch entries, all their attributes, in one subtree
 * search (rec_ldap_search): *res for the caller to free, *ue the user's
 * entry in it (NULL when there is none).  REC_ERR_NOTFOUND when the user
 * has no entry, or a store error.
 */
int rec_ldap_user_entries(struct rec_ldap *c, const char *user,
    LDAPMessage **res, LDAPMessage **ue);

/* The batch entry of id (0: none) in res, or NULL. */
LDAPMessage *rec_ldap_batch_entry(struct rec_ldap *c, LDAPMessage *res,
    uint64_t id);

/*
 * The attributes of batch entry b but its codes, as rec_ldap_parse_batch
 * reads them, added to the Add m.
 */
void rec_ldap_mods_batch(struct rec_ldap_mods *m, const struct rec_batch *b);

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

/*
 * 1 when the user's entry e (read with rec_ldap_user_state at least) is a
 * holder: a forgotten user's entry kept for the events below it, which is
 * no user record (conf/ldap/README).
 */
int rec_ldap_is_holder(struct rec_ldap *c, LDAPMessage *e);

/* The attributes a batch entry keeps its codes in, and their states. */
#define REC_LDAP_CODE_ATTRS 3
struct rec_ldap_code_attr {
	const char *attr;
	enum rec_code_state state;
};
extern const struct rec_ldap_code_attr rec_ldap_code_attrs[REC_LDAP_CODE_ATTRS];

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
