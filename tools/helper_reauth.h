/* SPDX-License-Identifier: BSD-2-Clause */
/* helper_reauth.h: the user helper asks for the account password before a change. */
#ifndef HELPER_REAUTH_H
#define HELPER_REAUTH_H

#include "tool_common.h"

/* The PAM service that checks the password (spec 11), in /etc/pam.d. */
#define REAUTH_SERVICE "pam-recovery-self"
#define REAUTH_PAM_DIR "/etc/pam.d"

/*
 * Check that whoever runs the helper knows the password of t's user
 * (reauth = yes): PAM service REAUTH_SERVICE from t->cfg->reauth_pam_dir
 * (empty: REAUTH_PAM_DIR), authentication and then account management,
 * for exactly that user.  The conversation is misc_conv(3) when standard
 * input is a terminal, else one line of standard input per prompt (read a
 * byte at a time, so that nothing after it is consumed), wiped after use.
 * A missing service file, a wrong password, an account PAM refuses, or any
 * PAM error is said on stderr and returns -1; 0 only when PAM said yes to
 * both.  Meant for tool_target.reauth.
 */
int helper_reauth(const struct tool_target *t);

#endif
