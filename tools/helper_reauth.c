/* SPDX-License-Identifier: BSD-2-Clause */
/* helper_reauth.c: the user helper asks for the account password before a change. */
#include <err.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_misc.h>
#include <sodium.h>

#include "helper_reauth.h"

/*
 * One answer, from standard input up to a newline or the end, into buf.
 * Byte by byte: what follows the line stays for whoever reads it next.
 * Returns its length, or -1 at the end of input before any byte, on a read
 * error, or for a line that does not fit.
 */
static ssize_t
read_answer(char *buf, size_t len)
{
	size_t n = 0;
	ssize_t r;
	char c;

	for (;;) {
		r = read(STDIN_FILENO, &c, 1);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1 || (r == 0 && n == 0))
			return -1;
		if (r == 0 || c == '\n')
			break;
		if (n + 1 >= len)
			return -1;
		buf[n++] = c;
	}
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	return (ssize_t)n;
}

static void
drop_replies(struct pam_response *resp, int n)
{
	if (resp == NULL)
		return;
	for (int i = 0; i < n; i++) {
		if (resp[i].resp != NULL) {
			sodium_memzero(resp[i].resp, strlen(resp[i].resp));
			free(resp[i].resp);
		}
	}
	free(resp);
}

/* The conversation without a terminal: spec 11, one line per prompt. */
static int
stdin_conv(int n, const struct pam_message **msg, struct pam_response **out,
    void *ctx)
{
	struct pam_response *resp;
	char line[PAM_MAX_RESP_SIZE], safe[TOOL_VIS_LEN(PAM_MAX_MSG_SIZE)];
	int i, ret = PAM_CONV_ERR;

	(void)ctx;
	*out = NULL;
	if (n <= 0 || n > PAM_MAX_NUM_MSG ||
	    (resp = calloc((size_t)n, sizeof(*resp))) == NULL)
		return PAM_CONV_ERR;
	for (i = 0; i < n; i++) {
		const char *text = msg[i]->msg != NULL ? msg[i]->msg : "";

		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			fprintf(stderr, "%s\n", tool_vis(text, 0, safe,
			    sizeof(safe)));
			if (read_answer(line, sizeof(line)) < 0)
				goto out;
			resp[i].resp = strdup(line);
			sodium_memzero(line, sizeof(line));
			if (resp[i].resp == NULL)
				goto out;
			break;
		case PAM_ERROR_MSG:
		case PAM_TEXT_INFO:
			fprintf(stderr, "%s\n", tool_vis(text, 0, safe,
			    sizeof(safe)));
			break;
		default:
			goto out;
		}
	}
	*out = resp;
	resp = NULL;
	ret = PAM_SUCCESS;
out:
	sodium_memzero(line, sizeof(line));
	drop_replies(resp, n);
	return ret;
}

int
helper_reauth(const struct tool_target *t)
{
	struct pam_conv conv = { NULL, NULL };
	pam_handle_t *pamh = NULL;
	const void *item = NULL;
	const char *dir = t->cfg->reauth_pam_dir[0] != '\0' ?
	    t->cfg->reauth_pam_dir : REAUTH_PAM_DIR;
	char path[REC_PATH_MAX + sizeof(REAUTH_SERVICE) + 1];
	char user[TOOL_VIS_LEN(REC_USER_MAX)];
	struct stat sb;
	int r, ret = -1;

	tool_vis(t->who.user, 0, user, sizeof(user));
	/*
	 * Without its own file, PAM would fall back on the stack "other":
	 * whatever that is, it is not the check the administrator chose.
	 */
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, REAUTH_SERVICE)
	    >= sizeof(path) || stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		warnx("reauth = yes, but the PAM service %s is not installed "
		    "(%s): nothing changed; ask the administrator",
		    REAUTH_SERVICE, path);
		goto out;
	}
	conv.conv = isatty(STDIN_FILENO) ? misc_conv : stdin_conv;
	r = pam_start_confdir(REAUTH_SERVICE, t->who.user, &conv,
	    t->cfg->reauth_pam_dir[0] != '\0' ? t->cfg->reauth_pam_dir : NULL,
	    &pamh);
	if (r != PAM_SUCCESS) {
		warnx("cannot start PAM service %s: %s: nothing changed",
		    REAUTH_SERVICE, pam_strerror(NULL, r));
		pamh = NULL;
		goto out;
	}
	fprintf(stderr, "Changing the recovery codes of %s needs your "
	    "password.\n", user);
	if ((r = pam_authenticate(pamh, 0)) != PAM_SUCCESS) {
		warnx("password for %s not accepted (%s): nothing changed",
		    user, pam_strerror(pamh, r));
		goto out;
	}
	if ((r = pam_acct_mgmt(pamh, 0)) != PAM_SUCCESS) {
		warnx("account %s refused by PAM (%s): nothing changed", user,
		    pam_strerror(pamh, r));
		goto out;
	}
	/* A module may rename the user; the password must be this user's. */
	if ((r = pam_get_item(pamh, PAM_USER, &item)) != PAM_SUCCESS ||
	    item == NULL || strcmp(item, t->who.user) != 0) {
		warnx("PAM service %s authenticated someone other than %s: "
		    "nothing changed", REAUTH_SERVICE, user);
		goto out;
	}
	ret = 0;
out:
	if (pamh != NULL)
		pam_end(pamh, ret == 0 ? PAM_SUCCESS : PAM_AUTH_ERR);
	return ret;
}
