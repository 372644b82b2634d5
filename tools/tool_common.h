/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_common.h: what the user helper and the admin tool share. */
#ifndef TOOL_COMMON_H
#define TOOL_COMMON_H

#include <stdio.h>
#include <sys/types.h>
#include <time.h>

#include "rec_issue.h"
#include "rec_target.h"
#include "tool_json.h"

/* Exit statuses of both tools (pam-recovery(1)). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/*
 * Make sure descriptors 0, 1 and 2 are open (on /dev/null when they were
 * closed), before anything else opens a file: a store's lock file must
 * never become "standard output".  Exits when it cannot.
 */
void tool_std_fds(void);

/* A log sink printing "prog: message" on stderr. */
void tool_log_init(struct rec_log *log, int debug);

/*
 * Defaults, then the file (a missing default file means defaults, a missing
 * named one is an error), then validation.  Errors are already printed.
 */
int tool_load_config(const char *path, const char *service,
    struct rec_config *cfg, const struct rec_log *log);

/*
 * Whether the configuration file path (NULL: the default) leaves no doubt
 * about the store cfg holds (loaded for service, or for none).  Without a
 * service, a [service NAME] section whose store differs from the global
 * one means the tool would be guessing: the choices are printed and
 * REC_ERR_USAGE returned.  With a service, the store chosen is said on
 * stderr.  Returns REC_OK, or the error of reading the file.
 */
int tool_one_store(const char *path, const char *service,
    const struct rec_config *cfg, const struct rec_log *log);

/* The distinct stores of a configuration file, each with its services. */
struct tool_stores {
	unsigned n;		/* s[0] is the global settings' store */
	struct {
		char store[REC_PATH_MAX];
		char service[REC_SERVICE_MAX];	/* a service using it; "" = global */
		char label[1024];	/* "global settings, [service sudo]" */
	} s[REC_SECTIONS_MAX + 1];
};

/*
 * Fill set with the stores of the file at path (NULL: the default): the
 * global settings' (cfg, loaded without a service) first, then each other
 * store a [service NAME] section names, once, labelled with every section
 * that uses it.  Returns REC_OK (a missing file: just the global store) or
 * the error of reading the file.
 */
int tool_config_stores(const char *path, const struct rec_config *cfg,
    struct tool_stores *set, const struct rec_log *log);

/*
 * The user helper's configuration, for service (NULL: the global
 * settings).  Without path, as tool_load_config.
 * With path (pam-recovery -c, a file the user may own), the system
 * configuration REC_CONF_DEFAULT (or, when it does not exist, the built-in
 * defaults) still sets the policy: path may tighten the cost bounds and the
 * entropy floor but not loosen them, and the life-cycle keys
 * (code_expiry_days, generate_cooldown, audit) take the stricter of both
 * (rec_policy_apply); a cost or format outside the policy is an error.
 */
int tool_load_user_config(const char *path, const char *service,
    struct rec_config *cfg, const struct rec_log *log);

/* Ask a yes/no question on the terminal; 1 only for an explicit yes. */
int tool_confirm(const char *question);

/* "2026-11-23 14:05 UTC" (or "never" for 0) into buf. */
const char *tool_time(uint64_t t, char *buf, size_t len);

/* A batch id as printed everywhere: 16 hex digits. */
const char *tool_batch_id(uint64_t id, char *buf, size_t len);

/* What a listing of codes is printed for. */
struct tool_listing {
	const char *user;
	const char *host;
	const char *site;
	const struct rec_new_batch *nb;
	/*
	 * Codes an administrator issued for a system store: the sheet says
	 * to ask the administrator (admin_email, when not NULL or "") for new
	 * ones, and names no pam-recovery command, as the module's messages
	 * do.  0 for a per-user store and for the self-service's own sheets.
	 */
	int ask_admin;
	const char *admin_email;
};

/*
 * " (admin@example.org)", the administrator's address as the sheets of a
 * system store name it (escaped by tool_vis), or "" when l has none; into
 * buf of len bytes (TOOL_CONTACT_LEN holds it all).  Returns buf.
 */
#define TOOL_CONTACT_LEN (TOOL_VIS_LEN(REC_STR_MAX) + 4)
const char *tool_admin_contact(const struct tool_listing *l, char *buf,
    size_t len);

/*
 * Print the codes of a new batch in `format` (txt, csv or json) to f; a txt
 * listing of a system store says to ask the administrator for new codes.
 * Returns REC_OK, or REC_ERR_IO when writing failed.
 */
int tool_print_codes(FILE *f, enum rec_export format,
    const struct tool_listing *l);

/*
 * Create path for the codes with mode 0600, never following a symlink nor
 * overwriting anything.  Returns the stream or NULL with errno set.
 */
FILE *tool_create_private(const char *path);

/* Room tool_vis needs for all of a string of n bytes. */
#define TOOL_VIS_LEN(n) (4 * (size_t)(n) + 1)

/* tool_vis flags. */
#define TOOL_VIS_SPACE 0x1	/* escape blanks too: a key=value field */
#define TOOL_VIS_QUOTE 0x2	/* escape double quotes: a quoted field */

/*
 * src as it may be printed in text (terminal, report, mail): every byte
 * that is not printable ASCII (control characters, DEL, each byte of a
 * non-ASCII character), and the backslash, becomes a vis(3) C-style
 * escape (\n, \t, \\, \033, \303), so that a string from a store can
 * neither move the cursor nor start a line of its own; flags add blanks
 * and double quotes.  Into buf of len bytes; what does not fit is cut at
 * a whole escape and ends in "...".  Every string a store or the
 * environment gave goes out through this in text.  Returns buf.
 */
const char *tool_vis(const char *src, int flags, char *buf, size_t len);

/*
 * What a command that runs in a store's child (the admin tool: a child
 * that is the store's owner) asks of the process that started it: a
 * question on its terminal, with no deadline running, and a file for the
 * codes created by it, as the administrator.  Both as tool_confirm and
 * tool_create_private.
 */
struct tool_parent {
	int (*confirm)(void *ctx, const char *question);
	FILE *(*create)(void *ctx, const char *path);
	void *ctx;
};

/*
 * What a user-level command acts on: one user's codes in one store.  The
 * user helper fills it for the invoking user; the admin tool for USER, and
 * runs the command in a child that is the store's owner.
 */
struct tool_target {
	const struct rec_config *cfg;
	const struct rec_log *log;
	char path[REC_PATH_MAX];	/* the store directory, or for the
					   directory store "ldap:BASE", a
					   name for messages, never a file */
	int directory;			/* store = ldap (rec_target) */
	uid_t owner;			/* who must own it */
	struct rec_who who;		/* user (and actor, for the admin) */
	const char *service;		/* --service NAME, or NULL */
	char host[256];
	const unsigned char *pepper;	/* REC_PEPPER_LEN bytes, or NULL */
	struct rec_store *st;		/* opened by tool_target_open() */
	int rdonly;			/* open the store read-only */
	const struct tool_parent *parent; /* NULL: ask and create here */
	/*
	 * Asked by generate and invalidate once their arguments are good,
	 * before anything is read or changed: nonzero refuses the command
	 * (exit 1) after saying why.  NULL: nothing to ask (reauth = no, the
	 * admin tool, or pam-recovery-selfd, which has asked already).
	 */
	int (*reauth)(const struct tool_target *t);
	/*
	 * Opens rt, t's store, for tool_target_open with the store flags
	 * given, into t->st: pam-recovery run by a user on the directory
	 * store binds as that user (tool_bind_open).  NULL: rec_target_open,
	 * as the hosts' account for the directory.
	 */
	int (*open)(struct tool_target *t, const struct rec_target *rt,
	    unsigned flags);
};

/*
 * Take rt's store into t: its owner, and its path or, for the directory
 * store, a name for it in messages (see struct tool_target).
 */
void tool_target_store(struct tool_target *t, const struct rec_target *rt);

/*
 * Open t's store (creating it when create is set) through rec_target_open,
 * as every front end does.  A store that does not exist leaves t->st NULL
 * and returns REC_OK (never for the directory store, which is there or is
 * an error).  Errors are printed.
 */
int tool_target_open(struct tool_target *t, int create);

/* Close t's store; safe to call twice. */
void tool_target_close(struct tool_target *t);

/*
 * Tell the notify_command of a change made to t's user (rec_notify), as
 * the process that made it.  A failure is logged and changes nothing.
 */
void tool_target_notify(const struct tool_target *t, int event,
    long remaining);

/* tool_confirm and tool_create_private, through t->parent when set. */
int tool_target_confirm(const struct tool_target *t, const char *question);
FILE *tool_target_create(const struct tool_target *t, const char *path);

/*
 * The user-level commands shared by both tools.  argv[0] is the command
 * name; options are parsed with getopt_long; usage() is called (and must
 * not return) on a usage error.  Each returns an exit status (EXIT_OK,
 * EXIT_FAIL) after printing what happened.
 */
int tool_cmd_generate(struct tool_target *t, int argc, char **argv,
    void (*usage)(void));
int tool_cmd_status(struct tool_target *t, int argc, char **argv,
    void (*usage)(void));

/*
 * A command's synopsis, for usage and --help: syn has one line per form of
 * the command ("audit [--json]\naudit --purge"), and a line that starts with
 * a blank continues the form before it.  The first form follows first, the
 * others rest; continuation lines are lined up under the form's options.
 */
void tool_synopsis(FILE *f, const char *first, const char *rest,
    const char *syn);

/*
 * A command's description, for --help: "  name        " and the lines of
 * about ('\n' between them), the later ones lined up under the first.
 */
void tool_about(FILE *f, const char *name, const char *about);

/*
 * Whether argv[1..argc-1] asks for a command's help: "--help" before any
 * "--".  Every command answers it, whatever else is on the line.
 */
int tool_wants_help(int argc, char **argv);

/*
 * A command of pam-recovery: its function, and the synopsis and
 * description from which usage, --help and COMMAND --help are printed.
 */
struct tool_command {
	const char *name;
	int (*run)(struct tool_target *, int, char **, void (*)(void));
	const char *syn;
	const char *about;
};
extern const struct tool_command tool_user_commands[];
extern const size_t tool_user_ncommands;

/* The user's command of that name, or NULL. */
const struct tool_command *tool_user_command(const char *name);

/*
 * The self-service (pam-recovery-selfd): its messages over a UNIX
 * SOCK_SEQPACKET socket, one rec_self message per packet.
 */
#define TOOL_SELF_FDS_MAX	2
#define TOOL_SELF_CLIENT_WAIT_MS (15 * 60 * 1000)	/* the service's own deadline is shorter */

/*
 * Send one message of type with len bytes of payload, and nfds
 * descriptors of fds (0 to TOOL_SELF_FDS_MAX).  Returns 0, or -1 with
 * errno set.
 */
int tool_self_send(int fd, int type, const void *p, size_t len,
    const int *fds, int nfds);

/*
 * Receive one message within timeout_ms (-1: no limit): its type, its
 * payload in p (REC_SELF_PAYLOAD_MAX bytes) and length in *len, and the
 * descriptors that came with it in fds (TOOL_SELF_FDS_MAX; more are
 * closed) and *nfds, both may be NULL (then every descriptor is closed).
 * Returns 0, or -1 with errno set: ETIMEDOUT, ECONNRESET (the other end
 * closed), EPROTO (a message that does not decode; its descriptors are
 * closed).
 */
int tool_self_recv(int fd, int timeout_ms, int *type, uint8_t *p,
    size_t *len, int *fds, int *nfds);

/*
 * Run argv (a user's command and its arguments) for the calling user on
 * the system store of cfg through the self-service at cfg->self_socket,
 * whose peer must be root: its prompts are answered from the terminal
 * (or one line of standard input each), its questions asked here, the
 * files it writes made here as the user; the command's output comes
 * straight to our standard output and error.  Returns its exit status,
 * or EXIT_FAIL after saying why.
 */
int tool_self_client(const struct rec_config *cfg, const char *service,
    int argc, char **argv);

/* A number from min to max, or usage() naming what it is for. */
unsigned tool_number(const char *s, unsigned min, unsigned max,
    const char *what, void (*usage)(void));

/*
 * More user-level commands (pam-recovery(1)), same conventions.  history
 * and invalidate are shared with the admin tool; verify reads a code from
 * the terminal (or one line of standard input when that is not a terminal)
 * and returns EXIT_OK only when the code would be accepted.  When
 * t->who.actor is set (an administrator acting for the user), hints name
 * pam-recovery-admin instead of pam-recovery.
 */
int tool_cmd_history(struct tool_target *t, int argc, char **argv,
    void (*usage)(void));
int tool_cmd_invalidate(struct tool_target *t, int argc, char **argv,
    void (*usage)(void));
int tool_cmd_verify(struct tool_target *t, int argc, char **argv,
    void (*usage)(void));

/* "45 seconds", "2 minutes 5 seconds", "1 hour": a wait as people say it. */
const char *tool_duration(uint64_t secs, char *buf, size_t len);

/* The actor of pam-recovery-selfd: the user, through the self-service. */
#define TOOL_ACTOR_SELF "self"

/*
 * Whether an administrator acts for t's user (pam-recovery-admin: actor
 * set), rather than the user (pam-recovery, or pam-recovery-selfd, whose
 * actor is TOOL_ACTOR_SELF).
 */
int tool_by_admin(const struct tool_target *t);

/*
 * The command that makes new codes for t's user, for hints in messages:
 * "pam-recovery generate" or "pam-recovery-admin generate USER" (USER
 * escaped by tool_vis), with " --service NAME" after the program's name
 * when the command was given one; TOOL_HINT_LEN bytes hold all of it.
 */
#define TOOL_HINT_LEN (TOOL_VIS_LEN(REC_USER_MAX) + REC_SERVICE_MAX + 48)
const char *tool_generate_hint(const struct tool_target *t, char *buf,
    size_t len);

/*
 * When the directory that should hold t's store does not exist (a user
 * whose home directory is missing), say so on stderr -- naming it as the
 * user's home directory when it is -- and return 1; else return 0.  No
 * store can be created there, so nothing should advise generating codes.
 */
int tool_store_dir_missing(const struct tool_target *t);

/*
 * A login commits two write transactions, and activating new codes one;
 * copy-on-write gives every tree they touch new pages, from the free list
 * or from the end of the file.  With less room than this on the store's
 * filesystem they can fail with "No space left on device".
 */
#define TOOL_WRITE_ROOM_PAGES 64

/*
 * The room on the filesystem of the directory open as dfd, in bytes, as
 * t's owner may use it (a user cannot use the blocks reserved for root),
 * into *avail, and what a write may need into *need; *rdonly is set for a
 * read-only mount.  Returns 0, or -1 with errno set.
 */
int tool_store_room(int dfd, const struct tool_target *t,
    unsigned long long *avail, unsigned long long *need, int *rdonly);

/* Modules of light margin around a QR code, as the QR standard asks. */
#define TOOL_QR_QUIET 4

/* A QR code of a listing: a square of modules, quiet zone not included. */
struct tool_qr {
	int width;		/* modules per side */
	unsigned char *dark;	/* width * width bytes, row by row; 1 = dark */
};

/*
 * Encode the numbered list of l's codes (after a header line naming user
 * and site) as a QR code, in guarded memory that tool_qr_free wipes; with
 * paper set, with more error correction when the list allows it.  Returns
 * 0, or -1 with errno ERANGE when the list is too long for one QR code, or
 * another errno.
 */
int tool_qr_make(const struct tool_listing *l, int paper, struct tool_qr *qr);

/* Wipe and free the modules; NULL and an empty qr are accepted. */
void tool_qr_free(struct tool_qr *qr);

/*
 * Print qr to f with UTF-8 half blocks, two module rows per text line,
 * light modules drawn as blocks (right for a dark terminal background).
 * With ansi set, colours are forced so that it also reads on a light one.
 * Returns REC_OK, or REC_ERR_IO when writing failed.
 */
int tool_qr_print(FILE *f, const struct tool_qr *qr, int ansi);

/*
 * Write l as a one-page A4 PDF to f: title, site, user, host, dates,
 * batch id, numbered codes, qr (NULL: a note that the list is too long for
 * one), and how to use the codes.  Returns REC_OK, or after printing why
 * REC_ERR_IO (writing failed), REC_ERR_NOMEM or REC_ERR_INTERNAL (cairo).
 */
int tool_pdf_write(FILE *f, const struct tool_listing *l,
    const struct tool_qr *qr);

/*
 * Sealing a code sheet to SSH public keys with age(1) (Debian: age), so
 * that whoever handles the file cannot read it: the plaintext goes through
 * a pipe into age, never to the disk.
 */
#define TOOL_AGE_PATH "/usr/bin/age"

/*
 * Before any code exists: age is installed, and keyfile holds one or more
 * ssh-ed25519 / ssh-rsa public key lines (blank lines and # comments
 * aside).  Returns 0, or -1 after saying why.
 */
int tool_seal_check(const char *keyfile);

/*
 * Start age encrypting to keyfile, writing to the descriptor out; returns
 * the stream its plaintext goes into, or NULL after saying why.  *pid is
 * age's, for tool_seal_close.  SIGPIPE is ignored until then, so that an
 * age that exits early is a failed write, not a killed tool.
 */
FILE *tool_seal_open(const char *keyfile, int out, pid_t *pid);

/*
 * Close the stream and wait for age: REC_OK when it sealed everything,
 * else REC_ERR_IO (a failed age is said).
 */
int tool_seal_close(FILE *f, pid_t pid);

#endif
