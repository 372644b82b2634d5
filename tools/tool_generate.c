/* tool_generate.c: the generate command, shared by the user helper and the admin tool. */
#include <err.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>

#include <sodium.h>

#include "rec_err.h"
#include "tool_common.h"

static int
parse_format(const char *s, enum rec_export *f)
{
	static const enum rec_export all[] = {
		REC_EXPORT_TXT, REC_EXPORT_CSV, REC_EXPORT_JSON,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, rec_export_name(all[i])) == 0) {
			*f = all[i];
			return 0;
		}
	return -1;
}

static uint32_t
exported_bit(enum rec_export f, int to_file)
{
	if (!to_file && f == REC_EXPORT_TXT)
		return REC_EXP_TERMINAL;
	switch (f) {
	case REC_EXPORT_CSV:	return REC_EXP_CSV;
	case REC_EXPORT_JSON:	return REC_EXP_JSON;
	case REC_EXPORT_PDF:	return REC_EXP_PDF;
	default:		return REC_EXP_TXT;
	}
}

int
tool_cmd_generate(struct tool_target *t, int argc, char **argv,
    void (*usage)(void))
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const struct rec_config *cfg = t->cfg;
	struct rec_new_batch *nb = NULL;
	struct tool_listing l;
	enum rec_export format = REC_EXPORT_TXT;
	const char *out = NULL;
	unsigned count = cfg->code_count, days = cfg->code_expiry_days;
	unsigned flags = 0;
	uint64_t wait = 0;
	FILE *f = NULL;
	int ch, r, ret = EXIT_FAIL, format_given = 0;

	while ((ch = getopt_long(argc, argv, "n:e:f:o:y", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			count = tool_number(optarg, 1, REC_COUNT_MAX, "-n", usage);
			break;
		case 'e':
			days = tool_number(optarg, 0, 36500, "--expires", usage);
			break;
		case 'f':
			if (parse_format(optarg, &format) != 0) {
				warnx("unknown format %s", optarg);
				usage();
			}
			format_given = 1;
			break;
		case 'o':
			out = optarg;
			break;
		case 'y':
			flags |= REC_GEN_REPLACE;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (out != NULL && !format_given && cfg->export_format != REC_EXPORT_PDF)
		format = cfg->export_format;
	/* Codes will be in this process's memory: keep them out of cores. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if ((nb = sodium_malloc(sizeof(*nb))) == NULL) {
		warnx("out of memory");
		goto out;
	}
	if (tool_target_open(t, 1) != REC_OK)
		goto out;
	r = rec_generate(t->st, cfg, &t->who, t->pepper, count, days,
	    (uint64_t)time(NULL), flags, nb, &wait);
	if (r == REC_ERR_EXISTS) {
		if (!tool_confirm("The current recovery codes still work. "
		    "Replace them all with new ones?")) {
			warnx("kept the current codes (use -y to replace them "
			    "without asking)");
			goto out;
		}
		r = rec_generate(t->st, cfg, &t->who, t->pepper, count, days,
		    (uint64_t)time(NULL), flags | REC_GEN_REPLACE, nb, &wait);
	}
	if (r == REC_ERR_COOLDOWN) {
		warnx("codes were generated too recently: try again in %llu "
		    "seconds", (unsigned long long)wait);
		goto out;
	}
	if (r != REC_OK) {
		warnx("cannot generate codes: %s", rec_strerror(r));
		goto out;
	}
	if (out != NULL && (f = tool_create_private(out)) == NULL) {
		warn("%s (the new codes are active: invalidate them with "
		    "\"invalidate --all\" and generate again)", out);
		goto out;
	}
	l.user = t->who.user;
	l.host = t->host;
	l.site = cfg->site_name;
	l.nb = nb;
	if (tool_print_codes(f != NULL ? f : stdout, format, &l) != 0) {
		warnx("could not write the codes");
		goto out;
	}
	if (f != NULL)
		fprintf(stderr, "Wrote %u codes to %s (mode 0600).\n",
		    nb->batch.count, out);
	r = rec_mark_exported(t->st, t->who.user, nb->batch.id,
	    exported_bit(format, out != NULL), (uint64_t)time(NULL));
	if (r != REC_OK)
		warnx("could not record the export: %s", rec_strerror(r));
	ret = EXIT_OK;
out:
	if (f != NULL && fclose(f) != 0 && ret == EXIT_OK) {
		warn("%s", out);
		ret = EXIT_FAIL;
	}
	rec_new_batch_wipe(nb);
	sodium_free(nb);
	tool_target_close(t);
	return ret;
}
