/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_user.c: the user's commands, for pam-recovery and pam-recovery-selfd alike. */
#include <string.h>

#include "tool_common.h"

/*
 * The commands, each with the same calling convention, and the synopsis
 * and description from which usage, --help and COMMAND --help are printed.
 */
const struct tool_command tool_user_commands[] = {
	{ "generate", tool_cmd_generate,
	    "generate [-n N] [--expires DAYS] [-o FILE]\n"
	    " [--format txt|csv|json|pdf] [--qr] [-y]\n"
	    " [--encrypt-to-ssh-key KEYFILE]",
	    "make a new list of codes (the old list stops working) and\n"
	    "show it once: -n how many, --expires after DAYS, --format,\n"
	    "-o write a new file (0600, never overwritten), --qr also\n"
	    "print a QR code, -y replace working codes without asking" },
	{ "status", tool_cmd_status, "status [--codes] [--json]",
	    "how many codes are left, expiry, lockout (--codes: each\n"
	    "code: unused, used when and from where, invalidated by whom)" },
	{ "history", tool_cmd_history,
	    "history [--page N] [--per-page N] [--json]",
	    "the lists made so far, newest first" },
	{ "verify", tool_cmd_verify, "verify",
	    "check a code without using it up (asks for it without echo)" },
	{ "invalidate", tool_cmd_invalidate, "invalidate N... | --all [-y]",
	    "make codes N... (as numbered on the list), or --all, unusable" },
};
const size_t tool_user_ncommands =
    sizeof(tool_user_commands) / sizeof(tool_user_commands[0]);

const struct tool_command *
tool_user_command(const char *name)
{
	for (size_t i = 0; i < tool_user_ncommands; i++)
		if (strcmp(name, tool_user_commands[i].name) == 0)
			return &tool_user_commands[i];
	return NULL;
}
