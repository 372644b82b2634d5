/* tool_common.h: what the user helper and the admin tool share. */
#ifndef TOOL_COMMON_H
#define TOOL_COMMON_H

#include <stdio.h>
#include <time.h>

#include "rec_generate.h"

/* Exit statuses of both tools (pam-recovery(1)). */
#define EXIT_OK 0
#define EXIT_FAIL 1
#define EXIT_USAGE 2

/* A log sink printing "prog: message" on stderr. */
void tool_log_init(struct rec_log *log, int debug);

/*
 * Defaults, then the file (a missing default file means defaults, a missing
 * named one is an error), then validation.  Errors are already printed.
 */
int tool_load_config(const char *path, struct rec_config *cfg,
    const struct rec_log *log);

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
};

/*
 * Print the codes of a new batch in `format` (txt, csv or json) to f.
 * Returns 0, or -1 when writing failed.
 */
int tool_print_codes(FILE *f, enum rec_export format,
    const struct tool_listing *l);

/*
 * Create path for the codes with mode 0600, never following a symlink nor
 * overwriting anything.  Returns the stream or NULL with errno set.
 */
FILE *tool_create_private(const char *path);

/* Escape s as the body of a JSON string into out. */
void tool_json_str(FILE *f, const char *s);

#endif
