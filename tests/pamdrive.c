/* SPDX-License-Identifier: BSD-2-Clause */
/* pamdrive.c: drive the real libpam against a service file in a test directory. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <security/pam_appl.h>

/*
 * usage: pamdrive CONFDIR SERVICE USER [auth|account|session]... [-- ANSWER...]
 * Each prompt is answered with the next ANSWER ("-" reads a line from
 * stdin).  Messages are printed as "info: ..." and "error: ...", each
 * prompt as "prompt: ...", and each step's result as "STEP: NAME", where
 * NAME is the PAM_* constant.  The exit status is the last step's result.
 */

struct script {
	char **answers;
	int n, next, prompts;
};

static const char *
pam_name(int r)
{
	switch (r) {
	case PAM_SUCCESS:		return "PAM_SUCCESS";
	case PAM_AUTH_ERR:		return "PAM_AUTH_ERR";
	case PAM_AUTHINFO_UNAVAIL:	return "PAM_AUTHINFO_UNAVAIL";
	case PAM_SERVICE_ERR:		return "PAM_SERVICE_ERR";
	case PAM_CONV_ERR:		return "PAM_CONV_ERR";
	case PAM_IGNORE:		return "PAM_IGNORE";
	case PAM_USER_UNKNOWN:		return "PAM_USER_UNKNOWN";
	case PAM_PERM_DENIED:		return "PAM_PERM_DENIED";
	case PAM_SYSTEM_ERR:		return "PAM_SYSTEM_ERR";
	case PAM_BUF_ERR:		return "PAM_BUF_ERR";
	case PAM_ABORT:			return "PAM_ABORT";
	}
	return "PAM_OTHER";
}

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *data)
{
	struct script *s = data;
	struct pam_response *r = calloc((size_t)n, sizeof(*r));
	char line[512];

	if (r == NULL)
		return PAM_BUF_ERR;
	for (int i = 0; i < n; i++) {
		switch (msg[i]->msg_style) {
		case PAM_PROMPT_ECHO_OFF:
		case PAM_PROMPT_ECHO_ON:
			s->prompts++;
			printf("prompt: %s\n", msg[i]->msg);
			if (s->next >= s->n)
				goto fail;
			if (strcmp(s->answers[s->next], "-") == 0) {
				if (fgets(line, sizeof(line), stdin) == NULL)
					goto fail;
				line[strcspn(line, "\n")] = '\0';
				r[i].resp = strdup(line);
			} else
				r[i].resp = strdup(s->answers[s->next]);
			s->next++;
			if (r[i].resp == NULL)
				goto fail;
			break;
		case PAM_TEXT_INFO:
			printf("info: %s\n", msg[i]->msg);
			break;
		case PAM_ERROR_MSG:
			printf("error: %s\n", msg[i]->msg);
			break;
		default:
			goto fail;
		}
	}
	*resp = r;
	return PAM_SUCCESS;
fail:
	for (int i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

int
main(int argc, char **argv)
{
	struct script s = { NULL, 0, 0, 0 };
	struct pam_conv pc = { conv, &s };
	pam_handle_t *pamh = NULL;
	char **env;
	int i, r = PAM_SYSTEM_ERR, steps_end = argc;

	if (argc < 5) {
		fprintf(stderr, "usage: pamdrive CONFDIR SERVICE USER "
		    "auth|account|session... [-- ANSWER...]\n");
		return 2;
	}
	for (i = 4; i < argc; i++)
		if (strcmp(argv[i], "--") == 0) {
			steps_end = i;
			s.answers = argv + i + 1;
			s.n = argc - i - 1;
			break;
		}
	if ((r = pam_start_confdir(argv[2], argv[3], &pc, argv[1], &pamh)) !=
	    PAM_SUCCESS) {
		printf("start: %s\n", pam_name(r));
		return r;
	}
	pam_set_item(pamh, PAM_RHOST, "127.0.0.1");
	pam_set_item(pamh, PAM_TTY, "pts/test");
	for (i = 4; i < steps_end; i++) {
		if (strcmp(argv[i], "auth") == 0)
			r = pam_authenticate(pamh, 0);
		else if (strcmp(argv[i], "account") == 0)
			r = pam_acct_mgmt(pamh, 0);
		else if (strcmp(argv[i], "session") == 0)
			r = pam_open_session(pamh, 0);
		else {
			fprintf(stderr, "pamdrive: unknown step %s\n", argv[i]);
			r = PAM_SYSTEM_ERR;
			break;
		}
		printf("%s: %s\n", argv[i], pam_name(r));
	}
	env = pam_getenvlist(pamh);
	for (i = 0; env != NULL && env[i] != NULL; i++) {
		if (strncmp(env[i], "PAM_RECOVERY_", 13) == 0)
			printf("env: %s\n", env[i]);
		free(env[i]);
	}
	free(env);
	printf("prompts: %d\n", s.prompts);
	pam_end(pamh, r);
	return r;
}
