/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_generate.c: the generate command, shared by the user helper and the admin tool. */
#include <err.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "rec_err.h"
#include "rec_notify.h"
#include "tool_common.h"

/* What the command line asked for. */
struct gen_opts {
	unsigned count, days, flags;
	enum rec_export format;
	int format_given, qr;
	const char *out;		/* -o as given, or NULL */
	const char *seal;		/* --encrypt-to-ssh-key KEYFILE */
	char path[REC_PATH_MAX];	/* the file actually written */
};

static const enum rec_export formats[] = {
	REC_EXPORT_TXT, REC_EXPORT_CSV, REC_EXPORT_JSON, REC_EXPORT_PDF,
};

static int
parse_format(const char *s, enum rec_export *f)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcasecmp(s, rec_config_export_name(formats[i])) == 0) {
			*f = formats[i];
			return 0;
		}
	return -1;
}

/*
 * Work out the file and its format: -o DIR means DIR/export_name.FORMAT,
 * and without --format the file's extension (codes.pdf) picks the format,
 * else export_format does.  Returns 0, or -1 when the path is too long.
 */
static int
resolve_output(const struct rec_config *cfg, struct gen_opts *o)
{
	const char *dot;
	struct stat sb;

	if (o->out == NULL)
		return 0;
	if (stat(o->out, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		if (!o->format_given)
			o->format = cfg->export_format;
		return snprintf(o->path, sizeof(o->path), "%s/%s.%s", o->out,
		    cfg->export_name, rec_config_export_name(o->format)) <
		    (int)sizeof(o->path) ? 0 : -1;
	}
	if (!o->format_given) {
		dot = strrchr(o->out, '.');
		if (dot == NULL || strchr(dot, '/') != NULL ||
		    parse_format(dot + 1, &o->format) != 0)
			o->format = cfg->export_format;
	}
	return snprintf(o->path, sizeof(o->path), "%s", o->out) <
	    (int)sizeof(o->path) ? 0 : -1;
}

static uint32_t
exported_bits(const struct gen_opts *o)
{
	uint32_t bits = o->qr ? REC_EXP_QR : 0;

	switch (o->format) {
	case REC_EXPORT_CSV:	return bits | REC_EXP_CSV;
	case REC_EXPORT_JSON:	return bits | REC_EXP_JSON;
	case REC_EXPORT_PDF:	return bits | REC_EXP_PDF;
	default:
		return bits | (o->out == NULL && isatty(STDOUT_FILENO) ?
		    REC_EXP_TERMINAL : REC_EXP_TXT);
	}
}

/*
 * Whether a list of this many codes fits in one QR code, found before any
 * code exists by encoding a stand-in list of the same shape.  Letters cost
 * as much as any code character in the densest mode libqrencode can use
 * for the alphabet, so a stand-in that fits means the real list fits.
 */
static int
qr_fits(const struct tool_target *t, unsigned count)
{
	struct rec_new_batch *shape;
	struct tool_listing l = { .user = t->who.user, .host = t->host,
	    .site = t->cfg->site_name };
	struct tool_qr qr;
	int fits = -1;
	char ch;

	if ((shape = calloc(1, sizeof(*shape))) == NULL)
		return -1;
	rec_config_format(t->cfg, &shape->batch.fmt);
	shape->batch.count = (uint16_t)count;
	ch = shape->batch.fmt.alphabet == REC_ALPHA_DIGITS ? '9' :
	    shape->batch.fmt.alphabet == REC_ALPHA_BASE60 ? 'z' : 'Z';
	for (unsigned i = 0; i < count; i++)
		memset(shape->codes[i], ch, shape->batch.fmt.length);
	l.nb = shape;
	if (tool_qr_make(&l, 0, &qr) == 0)
		fits = 1;
	else if (errno == ERANGE)
		fits = 0;
	tool_qr_free(&qr);
	free(shape);
	return fits;
}

static void
parse_args(const struct tool_target *t, struct gen_opts *o, int argc,
    char **argv, void (*usage)(void))
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "expires", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "qr", no_argument, NULL, 'q' },
		{ "yes", no_argument, NULL, 'y' },
		{ "encrypt-to-ssh-key", required_argument, NULL, 'K' },
		{ NULL, 0, NULL, 0 },
	};
	int ch;

	while ((ch = getopt_long(argc, argv, "n:e:f:o:qy", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'n':
			o->count = tool_number(optarg, 1, REC_COUNT_MAX, "-n",
			    usage);
			break;
		case 'e':
			o->days = tool_number(optarg, 0, 36500, "--expires",
			    usage);
			break;
		case 'f':
			if (parse_format(optarg, &o->format) != 0) {
				warnx("unknown format %s (txt, csv, json or pdf)",
				    optarg);
				usage();
			}
			o->format_given = 1;
			break;
		case 'o':
			o->out = optarg;
			break;
		case 'q':
			o->qr = 1;
			break;
		case 'y':
			o->flags |= REC_GEN_REPLACE;
			break;
		case 'K':
			o->seal = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (resolve_output(t->cfg, o) != 0) {
		warnx("output file name too long: %s", o->out);
		usage();
	}
	if (o->out == NULL && o->format == REC_EXPORT_PDF &&
	    isatty(STDOUT_FILENO)) {
		warnx("a PDF is not for the terminal: write it with -o FILE, "
		    "or redirect standard output");
		usage();
	}
	if (o->seal != NULL && o->out == NULL) {
		warnx("--encrypt-to-ssh-key writes the sealed sheet to a file: "
		    "give it with -o FILE");
		usage();
	}
	if (o->seal != NULL && o->qr) {
		warnx("--qr would show the codes in clear on this terminal: "
		    "leave it out when sealing");
		usage();
	}
	if (o->qr && o->out == NULL && o->format != REC_EXPORT_TXT) {
		warnx("--qr would mix a QR code into the %s output: write the "
		    "list with -o FILE", rec_config_export_name(o->format));
		usage();
	}
}

static int explain(int r, uint64_t wait);

/*
 * Whether the store's filesystem has room for the staging and the
 * activation.  The staging below fails on a full disk before any code is
 * shown; this also keeps the activation after the codes were shown from
 * running out of room, unless something else fills the disk meanwhile.
 * Returns 0 when there is room (or it cannot be told).
 */
static int
no_room(const struct tool_target *t)
{
	unsigned long long avail, need;
	int dfd, rdonly, ret = 0;

	if (t->directory)
		return 0;	/* the directory's server has its own disks */
	dfd = open(t->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd == -1)
		return 0;
	if (tool_store_room(dfd, t, &avail, &need, &rdonly) == 0 &&
	    !rdonly && avail < need) {
		warnx("store %s: %llu KiB free on its filesystem, new codes "
		    "need up to %llu KiB to be stored and activated: no code "
		    "was shown and the current codes are unchanged", t->path,
		    avail >> 10, need >> 10);
		ret = 1;
	}
	close(dfd);
	return ret;
}

/*
 * Make the codes, asking before they would replace codes that still work.
 * Nothing is stored yet: rec_issue_stage() does that before they are
 * shown, rec_issue_commit() activates them once they were.
 */
static int
prepare(struct tool_target *t, const struct gen_opts *o,
    struct rec_new_batch *nb)
{
	uint64_t wait = 0;
	int r;

	r = rec_issue_prepare(t->st, t->cfg, &t->who,
	    &(struct rec_issue_req){ .pepper = t->pepper, .count = o->count,
	    .expires_days = o->days, .now = (uint64_t)time(NULL),
	    .flags = o->flags }, nb, &wait);
	if (r == REC_ERR_EXISTS) {
		if (!tool_target_confirm(t, "The current recovery codes still work. "
		    "Replace them all with new ones?")) {
			warnx("kept the current codes (use -y to replace them "
			    "without asking)");
			return r;
		}
		r = rec_issue_prepare(t->st, t->cfg, &t->who,
		    &(struct rec_issue_req){ .pepper = t->pepper,
		    .count = o->count, .expires_days = o->days,
		    .now = (uint64_t)time(NULL),
		    .flags = o->flags | REC_GEN_REPLACE }, nb, &wait);
	}
	return explain(r, wait);
}

/* Say why no codes were made (or stored); r is passed through. */
static int
explain(int r, uint64_t wait)
{
	char when[32], howlong[64];

	if (r == REC_ERR_COOLDOWN)
		warnx("new codes were made too recently: this system allows "
		    "generating again in %s, at %s (generate_cooldown); the "
		    "current codes are unchanged",
		    tool_duration(wait, howlong, sizeof(howlong)),
		    tool_time((uint64_t)time(NULL) + wait, when, sizeof(when)));
	else if (r == REC_ERR_EXISTS)
		warnx("codes were generated meanwhile by someone else; the "
		    "current codes are unchanged");
	else if (r != REC_OK)
		warnx("cannot generate codes: %s", rec_strerror(r));
	return r;
}

/*
 * Where codes printed on standard output would go nowhere: closed (the
 * tool put /dev/null there) or /dev/null itself.
 */
static int
stdout_lost(void)
{
	struct stat so, dn;

	return fstat(STDOUT_FILENO, &so) != 0 || (stat("/dev/null", &dn) == 0 &&
	    S_ISCHR(so.st_mode) && so.st_rdev == dn.st_rdev);
}

/*
 * The PDF, with the QR code of the list when the list fits in one.
 * Returns REC_OK or the error of tool_pdf_write.
 */
static int
write_pdf(FILE *f, const struct tool_listing *l)
{
	struct tool_qr qr = { 0, NULL };
	int have_qr = tool_qr_make(l, 1, &qr) == 0, ret;

	if (!have_qr && errno == ERANGE)
		warnx("the list is too long for one QR code: the PDF has none "
		    "(fewer codes with -n would fit)");
	else if (!have_qr)
		warn("cannot make a QR code for the PDF");
	ret = tool_pdf_write(f, l, have_qr ? &qr : NULL);
	tool_qr_free(&qr);
	return ret;
}

/*
 * The QR code on standard output, with a word when it is too wide.
 * Returns REC_OK, or after saying why REC_ERR_IO (writing failed) or
 * REC_ERR_INTERNAL (no QR code could be made: qr_fits said it would be).
 */
static int
print_qr(const struct tool_listing *l)
{
	struct tool_qr qr = { 0, NULL };
	struct winsize ws;
	int tty = isatty(STDOUT_FILENO), ret = REC_ERR_INTERNAL;

	if (tool_qr_make(l, 0, &qr) != 0) {
		warn("cannot make the QR code");
		goto out;
	}
	printf("\nScan this QR code into a password manager on another device "
	    "for a copy;\nnever onto the phone that holds your authenticator, "
	    "which is lost with it:\n\n");
	if (tool_qr_print(stdout, &qr, tty) != REC_OK) {
		warn("could not write the QR code");
		ret = REC_ERR_IO;
		goto out;
	}
	if (tty && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col > 0 && ws.ws_col < qr.width + 2 * TOOL_QR_QUIET)
		warnx("the QR code is %d columns wide but the terminal only "
		    "%u: widen the window to scan it", qr.width +
		    2 * TOOL_QR_QUIET, (unsigned)ws.ws_col);
	ret = REC_OK;
out:
	tool_qr_free(&qr);
	return ret;
}

/*
 * Write the listing (and the terminal QR code) once the codes exist.
 * Returns REC_OK, or an error after saying why.
 */
static int
emit(struct tool_target *t, const struct gen_opts *o, FILE *f,
    const struct rec_new_batch *nb)
{
	char helper[REC_HELPER_CMD_MAX];
	/*
	 * Codes an administrator issued for a system store send the user
	 * back to the administrator, unless pam-recovery-selfd lets them
	 * make their own (rec_config_helper).
	 */
	struct tool_listing l = { .user = t->who.user, .host = t->host,
	    .site = t->cfg->site_name, .nb = nb,
	    .ask_admin = tool_by_admin(t) && rec_config_helper(t->cfg, NULL,
	    helper, sizeof(helper)) == NULL,
	    .admin_email = t->cfg->admin_email };
	int r;

	if (o->format == REC_EXPORT_PDF) {
		if ((r = write_pdf(f, &l)) != REC_OK)
			return r;
		if (fflush(f) != 0 || ferror(f)) {
			r = REC_ERR_IO;
			goto fail;
		}
	} else if ((r = tool_print_codes(f, o->format, &l)) != REC_OK)
		goto fail;
	return o->qr ? print_qr(&l) : REC_OK;
fail:
	warn("could not write the codes");
	return r;
}

int
tool_cmd_generate(struct tool_target *t, int argc, char **argv,
    void (*usage)(void))
{
	struct gen_opts o;
	struct rec_new_batch *nb = NULL;
	FILE *f = NULL, *sf = NULL;
	pid_t age = -1;
	uint64_t wait = 0;
	int r, ret = EXIT_FAIL, fits, created = 0, staged = 0;

	memset(&o, 0, sizeof(o));
	o.count = t->cfg->code_count;
	o.days = t->cfg->code_expiry_days;
	o.format = REC_EXPORT_TXT;
	parse_args(t, &o, argc, argv, usage);
	if (t->cfg->code_expiry_days > 0 && (o.days == 0 ||
	    o.days > t->cfg->code_expiry_days)) {
		warnx("--expires %u: codes on this system expire after at most "
		    "%u days (code_expiry_days)%s", o.days,
		    t->cfg->code_expiry_days, o.days == 0 ? "; 0 means never" :
		    "");
		goto out;
	}
	/* Before any code exists: a sheet that cannot be sealed is none. */
	if (o.seal != NULL && tool_seal_check(o.seal) != 0)
		goto out;
	if (t->reauth != NULL && t->reauth(t) != 0)
		goto out;
	/* Codes will be in this process's memory: keep them out of cores. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	if (o.qr && (fits = qr_fits(t, o.count)) != 1) {
		if (fits == 0)
			warnx("%u codes are too many for one QR code: generate "
			    "fewer with -n, or leave out --qr", o.count);
		else
			warn("cannot make a QR code");
		goto out;
	}
	if ((nb = sodium_malloc(sizeof(*nb))) == NULL) {
		warnx("out of memory");
		goto out;
	}
	if (o.out == NULL && stdout_lost()) {
		warnx("standard output is closed or /dev/null: the codes would "
		    "be lost; write them to a file with -o FILE");
		goto out;
	}
	if (tool_store_dir_missing(t) || tool_target_open(t, 1) != REC_OK ||
	    no_room(t))
		goto out;
	/* The file first: a name that is taken must not cost the old codes. */
	if (o.out != NULL) {
		if ((f = tool_target_create(t, o.path)) == NULL) {
			if (errno == EEXIST)
				warnx("%s already exists: codes are never "
				    "written over a file; choose another name "
				    "or remove it first", o.path);
			else
				warn("cannot create %s", o.path);
			goto out;
		}
		created = 1;
	}
	if (prepare(t, &o, nb) != REC_OK)
		goto out;
	/*
	 * Stored before shown: no code is ever displayed that a full disk or
	 * a read-only store kept out of the store.  Staged codes do not work
	 * and the old ones stay active until the commit below.
	 */
	if ((r = rec_issue_stage(t->st, t->cfg, &t->who, nb,
	    (uint64_t)time(NULL), &wait)) != REC_OK) {
		if (r != REC_ERR_COOLDOWN && r != REC_ERR_EXISTS)
			warnx("cannot store new codes: %s; no code was shown "
			    "and the current codes are unchanged",
			    rec_strerror(r));
		else
			explain(r, wait);
		goto out;
	}
	staged = 1;
	if (o.seal != NULL) {
		/* The plaintext goes through a pipe into age, never to disk. */
		if (fflush(f) != 0 || (sf = tool_seal_open(o.seal, fileno(f),
		    &age)) == NULL)
			goto out;
		r = emit(t, &o, sf, nb);
		if (tool_seal_close(sf, age) != REC_OK && r == REC_OK)
			r = REC_ERR_IO;
		sf = NULL;
		age = -1;
		if (r != REC_OK)
			goto out;
	} else if (emit(t, &o, f != NULL ? f : stdout, nb) != REC_OK)
		goto out;
	if (f != NULL) {
		r = fclose(f);
		f = NULL;
		if (r != 0) {
			warn("%s", o.path);
			goto out;
		}
	}
	/* Only codes that were shown or saved replace the old ones. */
	nb->batch.exported = exported_bits(&o);
	if (explain(rec_issue_commit(t->st, t->cfg, &t->who, nb,
	    (uint64_t)time(NULL), &wait), wait) != REC_OK)
		goto out;
	tool_target_notify(t, REC_NOTIFY_GENERATED, (long)nb->batch.count);
	if (o.seal != NULL)
		fprintf(stderr, "Wrote %u code%s to %s (%s sealed with age to "
		    "the public key in %s, mode 0600); its owner opens it with: "
		    "age -d -i ~/.ssh/id_ed25519 %s\n", nb->batch.count,
		    nb->batch.count == 1 ? "" : "s", o.path,
		    rec_config_export_name(o.format), o.seal, o.path);
	else if (o.out != NULL)
		fprintf(stderr, "Wrote %u code%s to %s (%s, mode 0600).\n",
		    nb->batch.count, nb->batch.count == 1 ? "" : "s", o.path,
		    rec_config_export_name(o.format));
	ret = EXIT_OK;
out:
	if (sf != NULL || age > 0)
		tool_seal_close(sf, age);
	if (f != NULL)
		fclose(f);
	/* A file that did not get the codes must not look as if it had. */
	if (ret != EXIT_OK && created)
		unlink(o.path);
	if (ret != EXIT_OK && staged) {
		if (rec_issue_discard(t->st, &t->who, nb) != REC_OK)
			warnx("could not remove the unused new batch from the "
			    "store; purge removes it after the retention");
		warnx("the codes made now were NOT activated and will not "
		    "work; the current codes are unchanged");
	}
	rec_new_batch_wipe(nb);
	sodium_free(nb);
	tool_target_close(t);
	return ret;
}
