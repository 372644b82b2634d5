/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_bind.c: pam-recovery on the directory store, bound as the user who runs it. */
#include <bsd/readpassphrase.h>
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_ldap.h"
#include "tool_bind.h"

/* Whether every URI of the blank-separated list is ldapi://. */
static int
all_ldapi(const char *list)
{
	size_t n;

	for (list += strspn(list, " \t"); *list != '\0';
	    list += strspn(list, " \t")) {
		n = strcspn(list, " \t");
		if (n < 8 || strncmp(list, "ldapi://", 8) != 0)
			return 0;
		list += n;
	}
	return 1;
}

int
tool_bind_usable(const struct rec_config *cfg)
{
	if (cfg->pepper_file[0] != '\0') {
		warnx("the directory's codes are keyed with a pepper "
		    "(pepper_file) that only the hosts hold: codes are issued "
		    "by the administrator (pam-recovery-admin generate)");
		return 0;
	}
	if (cfg->ldap_user_dn[0] == '\0' && !(all_ldapi(cfg->ldap_uri) &&
	    all_ldapi(cfg->ldap_write_uri))) {
		warnx("the directory store has no ldap_user_dn, so users "
		    "cannot bind to it as themselves: codes are issued by the "
		    "administrator (pam-recovery-admin generate)");
		return 0;
	}
	return 1;
}

int
tool_bind_open(struct tool_target *t, const struct rec_target *rt,
    unsigned flags)
{
	struct rec_ldap_bind as = { NULL, NULL, 0 };
	char dn[REC_LDAP_DN_MAX], safe[TOOL_VIS_LEN(REC_LDAP_DN_MAX)];
	char prompt[sizeof(safe) + 32];
	char *pw = NULL;
	int r = REC_ERR_INTERNAL, rflags;

	if (t->cfg->ldap_user_dn[0] == '\0')
		goto open;	/* SASL EXTERNAL: the server knows our uid */
	if ((r = rec_ldap_bind_dn(t->cfg->ldap_user_dn, t->who.user, dn,
	    sizeof(dn))) != REC_OK) {
		warnx("ldap_user_dn: no DN for user %s: %s", tool_vis(
		    t->who.user, 0, safe, sizeof(safe)), rec_strerror(r));
		goto out;
	}
	/* The password will be in this process's memory: keep it out of cores. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* Guarded, locked in memory, and wiped when freed. */
	if ((pw = sodium_malloc(TOOL_BIND_PW_MAX)) == NULL) {
		r = REC_ERR_NOMEM;
		goto out;
	}
	snprintf(prompt, sizeof(prompt), "Directory password for %s: ",
	    tool_vis(dn, 0, safe, sizeof(safe)));
	/*
	 * As verify asks for a code: from the controlling terminal without
	 * echo, or one line of standard input when that is not a terminal.
	 */
	rflags = RPP_ECHO_OFF | (isatty(STDIN_FILENO) ? RPP_REQUIRE_TTY :
	    RPP_STDIN);
	if (readpassphrase(prompt, pw, TOOL_BIND_PW_MAX, rflags) == NULL) {
		if (errno == ENOTTY)
			warnx("no controlling terminal to ask for the "
			    "directory password without echo (as under \"su "
			    "-c\"): run pam-recovery from a login shell");
		else
			warn("cannot read the directory password");
		r = REC_ERR_IO;
		goto out;
	}
	if (pw[0] == '\0') {
		warnx("no directory password was entered: nothing was sent");
		r = REC_ERR_PERM;
		goto out;
	}
	as.dn = dn;
	as.pw = pw;
	as.pwlen = strlen(pw);
open:
	r = rec_target_open_as(t->cfg, rt, flags, &as, t->log, &t->st);
	if (r == REC_ERR_PERM && as.dn != NULL)
		warnx("the directory did not accept the password for %s",
		    tool_vis(dn, 0, safe, sizeof(safe)));
out:
	sodium_free(pw);
	return r;
}
