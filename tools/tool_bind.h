/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_bind.h: pam-recovery on the directory store, bound as the user who runs it. */
#ifndef TOOL_BIND_H
#define TOOL_BIND_H

#include "tool_common.h"

/* The longest directory password read (the bind password file's bound). */
#define TOOL_BIND_PW_MAX 1024

/*
 * Whether the user running pam-recovery can manage their own codes in the
 * directory store of cfg (store = ldap), as rec_config_helper advises
 * it: a pepper_file is root's, and codes made without it would never be
 * accepted; and the user needs a way to bind, ldap_user_dn or SASL
 * EXTERNAL, which works over ldapi:// alone (every URI of ldap_uri and
 * ldap_write_uri).  Returns 1, or 0 after saying on stderr why not and
 * that the administrator issues the codes.
 */
int tool_bind_usable(const struct rec_config *cfg);

/*
 * Open rt, t's directory store, into t->st bound as t's user, never as
 * the hosts' account (tool_target.open).  With ldap_user_dn, a simple
 * bind as its DN for t->who.user (rec_ldap_bind_dn) with the user's
 * directory password, asked without echo on the controlling terminal, or
 * read as one line of standard input when that is not a terminal (as
 * every answer of pam-recovery is), into guarded memory that is wiped as
 * soon as the store is open (both connections bound) or failed to open;
 * it never reaches argv, the environment or a log.  Without it, SASL
 * EXTERNAL over ldapi://.  flags as rec_target_open_as.  Returns REC_OK,
 * REC_ERR_PERM for a password the directory refused or none entered
 * (said on stderr), or the opener's error.
 */
int tool_bind_open(struct tool_target *t, const struct rec_target *rt,
    unsigned flags);

#endif
