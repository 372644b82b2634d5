/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_qr.c: the QR code of a list of codes (libqrencode), and its terminal form. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <qrencode.h>
#include <sodium.h>

#include "rec_err.h"
#include "tool_common.h"

/* Room for the header lines of the encoded text. */
#define HEADER_MAX (REC_USER_MAX + REC_STR_MAX + 64)

/*
 * The text a phone shows after scanning: who and what the codes are for,
 * then one numbered code per line, as on paper.  Built in guarded memory
 * because it holds every code.
 */
static char *
list_text(const struct tool_listing *l, size_t *lenp)
{
	const struct rec_batch *b = &l->nb->batch;
	char code[REC_CODE_BUF];
	size_t len = HEADER_MAX + (size_t)b->count * (REC_CODE_BUF + 8), n;
	char *text;

	if ((text = sodium_malloc(len)) == NULL)
		return NULL;
	/* One short header line: every byte makes the code larger. */
	n = (size_t)snprintf(text, len, "Recovery codes for %s on %s\n",
	    l->user, l->site);
	for (unsigned i = 0; i < b->count && n < len; i++) {
		rec_code_display(&b->fmt, l->nb->codes[i], code, sizeof(code));
		n += (size_t)snprintf(text + n, len - n, "%u. %s\n", i + 1, code);
	}
	sodium_memzero(code, sizeof(code));
	*lenp = n < len ? n : len - 1;
	return text;
}

int
tool_qr_make(const struct tool_listing *l, int paper, struct tool_qr *qr)
{
	/*
	 * On paper, M survives a smudge or a fold; L, the fallback for long
	 * lists, keeps a screen's QR code within 80 columns for 10 codes.
	 */
	static const QRecLevel levels[] = { QR_ECLEVEL_M, QR_ECLEVEL_L };
	QRcode *code = NULL;
	char *text = NULL;
	size_t len = 0, n;
	int ret = -1, e = EINVAL;

	memset(qr, 0, sizeof(*qr));
	if ((text = list_text(l, &len)) == NULL) {
		e = ENOMEM;
		goto out;
	}
	/* Let libqrencode pick 8-bit or alphanumeric segments for density. */
	for (size_t i = paper ? 0 : 1; code == NULL &&
	    i < sizeof(levels) / sizeof(levels[0]); i++) {
		errno = 0;
		code = QRcode_encodeString(text, 0, levels[i], QR_MODE_8, 1);
		e = errno != 0 ? errno : ENOMEM;
		if (code == NULL && e != ERANGE)
			goto out;
	}
	if (code == NULL)
		goto out;
	n = (size_t)code->width * (size_t)code->width;
	if ((qr->dark = sodium_malloc(n)) == NULL) {
		e = ENOMEM;
		goto out;
	}
	qr->width = code->width;
	/* Bit 0 of each byte is the module's colour; the rest is metadata. */
	for (size_t i = 0; i < n; i++)
		qr->dark[i] = code->data[i] & 1;
	ret = 0;
out:
	if (code != NULL) {
		sodium_memzero(code->data,
		    (size_t)code->width * (size_t)code->width);
		QRcode_free(code);
	}
	if (text != NULL)
		sodium_memzero(text, len);
	sodium_free(text);
	if (ret != 0)
		errno = e;
	return ret;
}

void
tool_qr_free(struct tool_qr *qr)
{
	if (qr == NULL)
		return;
	sodium_free(qr->dark);	/* sodium_free wipes before it frees */
	qr->dark = NULL;
	qr->width = 0;
}

/* Whether the module at (x, y) of the quiet-zoned square is dark. */
static int
dark_at(const struct tool_qr *qr, int x, int y)
{
	x -= TOOL_QR_QUIET;
	y -= TOOL_QR_QUIET;
	if (x < 0 || y < 0 || x >= qr->width || y >= qr->width)
		return 0;
	return qr->dark[(size_t)y * (size_t)qr->width + (size_t)x];
}

int
tool_qr_print(FILE *f, const struct tool_qr *qr, int ansi)
{
	/* Indexed by upper light << 1 | lower light. */
	static const char *const cell[4] = { " ", "\u2584", "\u2580", "\u2588" };
	int side = qr->width + 2 * TOOL_QR_QUIET;

	for (int y = 0; y < side; y += 2) {
		if (ansi)
			fputs("\033[40;97m", f);	/* black behind white */
		for (int x = 0; x < side; x++) {
			/* Below the last row is light, like the quiet zone. */
			int up = !dark_at(qr, x, y);
			int down = y + 1 >= side || !dark_at(qr, x, y + 1);

			fputs(cell[up << 1 | down], f);
		}
		fputs(ansi ? "\033[0m\n" : "\n", f);
	}
	return fflush(f) == 0 && !ferror(f) ? REC_OK : REC_ERR_IO;
}
