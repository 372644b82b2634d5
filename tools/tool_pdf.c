/* SPDX-License-Identifier: BSD-2-Clause */
/* tool_pdf.c: the printable one-page A4 PDF of a list of codes (cairo). */
#include <err.h>
#include <stdio.h>
#include <string.h>

#include <cairo.h>
#include <cairo-pdf.h>
#include <sodium.h>

#include "rec_err.h"
#include "tool_common.h"

/* A4 in PostScript points, and the page layout. */
#define PAGE_W 595.28
#define PAGE_H 841.89
#define MARGIN 50.0
#define CONTENT_W (PAGE_W - 2 * MARGIN)
#define QR_MIN 150.0	/* a QR code smaller than this is hard to scan */
#define QR_MAX 220.0
/*
 * Under the QR code, where a copy of the list is safe: not on the phone
 * that holds the authenticator, the device most often lost with it.
 * Short lines: they must fit under the smallest QR code (QR_MIN).
 */
static const char *const qr_caption[] = {
	"Copy: scan into a password",
	"manager on another device,",
	"never the phone you log in with.",
};
#define QR_CAPTION_LINES (sizeof(qr_caption) / sizeof(qr_caption[0]))
#define CODE_SIZE_MAX 16.0
#define ROW_STEP 1.9	/* row height per point of code font size */
#define COL_GAP 24.0

static const char *const instructions[] = {
	"When asked for a \u201cRecovery code:\u201d (SSH, sudo or console "
	"login), type any one unused code from this page.",
	"Each code works only once: tick its box when you have used it.",
	"Upper or lower case, spaces and dashes do not matter.",
	"To check a code without using it up, run: pam-recovery verify",
	"When few codes are left, make a new list with: pam-recovery generate "
	"(this page then stops working).",
	"Keep this page somewhere safe and private, away from your phone: "
	"anyone who has it can use these codes to log in as you.",
};

/*
 * The codes of a system store: its user can neither check nor renew them
 * with pam-recovery, only the administrator issues codes.  NULL stands
 * for the line that says whom to ask, made with the contact when
 * admin_email is set.
 */
static const char *const instructions_system[] = {
	"When asked for a \u201cRecovery code:\u201d (SSH, sudo or console "
	"login), type any one unused code from this page.",
	"Each code works only once: tick its box when you have used it.",
	"Upper or lower case, spaces and dashes do not matter.",
	NULL,
	"Keep this page somewhere safe and private, away from your phone: "
	"anyone who has it can use these codes to log in as you.",
};

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static cairo_status_t
write_stream(void *closure, const unsigned char *data, unsigned int len)
{
	return fwrite(data, 1, len, closure) == len ? CAIRO_STATUS_SUCCESS :
	    CAIRO_STATUS_WRITE_ERROR;
}

static void
font(cairo_t *cr, const char *face, int bold, double size)
{
	cairo_select_font_face(cr, face, CAIRO_FONT_SLANT_NORMAL,
	    bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
	cairo_set_font_size(cr, size);
}

static void
text_at(cairo_t *cr, double x, double y, const char *s)
{
	cairo_move_to(cr, x, y);
	cairo_show_text(cr, s);
}

static double
text_width(cairo_t *cr, const char *s)
{
	cairo_text_extents_t e;

	cairo_text_extents(cr, s, &e);
	return e.x_advance;
}

/* A thin grey line across the page at y. */
static void
rule(cairo_t *cr, double y)
{
	cairo_set_source_rgb(cr, 0.6, 0.6, 0.6);
	cairo_set_line_width(cr, 0.6);
	cairo_move_to(cr, MARGIN, y);
	cairo_line_to(cr, PAGE_W - MARGIN, y);
	cairo_stroke(cr);
}

/* Title, site and the facts that identify this list; returns its bottom. */
static double
draw_header(cairo_t *cr, const struct tool_listing *l, double y)
{
	const struct rec_batch *b = &l->nb->batch;
	char created[32], expires[32], id[20];
	const char *label[] = { "User", "Host", "Created", "Expires", "Batch" };
	const char *value[] = {
		l->user, l->host, tool_time(b->created, created, sizeof(created)),
		tool_time(b->expires, expires, sizeof(expires)),
		tool_batch_id(b->id, id, sizeof(id)),
	};

	cairo_set_source_rgb(cr, 0, 0, 0);
	font(cr, "sans-serif", 1, 26);
	text_at(cr, MARGIN, y += 26, "Recovery codes");
	font(cr, "sans-serif", 0, 15);
	text_at(cr, MARGIN, y += 24, l->site);
	y += 10;
	for (size_t i = 0; i < sizeof(label) / sizeof(label[0]); i++) {
		y += 16;
		cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
		font(cr, "sans-serif", 1, 10.5);
		text_at(cr, MARGIN, y, label[i]);
		cairo_set_source_rgb(cr, 0, 0, 0);
		font(cr, i == 4 ? "monospace" : "sans-serif", 0, 10.5);
		text_at(cr, MARGIN + 62, y, value[i]);
	}
	return y;
}

/* The QR code as one path of filled rectangles, one per run of dark modules. */
static void
draw_qr(cairo_t *cr, const struct tool_qr *qr, double x, double y, double size)
{
	double m = size / (qr->width + 2 * TOOL_QR_QUIET);

	x += TOOL_QR_QUIET * m;
	y += TOOL_QR_QUIET * m;
	cairo_set_source_rgb(cr, 0, 0, 0);
	for (int r = 0; r < qr->width; r++) {
		const unsigned char *row = qr->dark + (size_t)r * (size_t)qr->width;

		for (int c = 0; c < qr->width; c++) {
			int run = c;

			if (!row[c])
				continue;
			while (run + 1 < qr->width && row[run + 1])
				run++;
			cairo_rectangle(cr, x + c * m, y + r * m,
			    (run - c + 1) * m, m);
			c = run;
		}
	}
	cairo_fill(cr);
	font(cr, "sans-serif", 0, 8);
	cairo_set_source_rgb(cr, 0.35, 0.35, 0.35);
	/* Below the quiet zone, which must stay empty for scanners. */
	for (size_t i = 0; i < QR_CAPTION_LINES; i++)
		text_at(cr, x, y - TOOL_QR_QUIET * m + size + 9 + 10 * (double)i,
		    qr_caption[i]);
}

/*
 * The numbered codes, each behind a box to tick, in as many columns as
 * make the largest font fit the area (w by h at x, y).
 */
static void
draw_codes(cairo_t *cr, const struct tool_listing *l, double x, double y,
    double w, double h)
{
	const struct rec_batch *b = &l->nb->batch;
	char code[REC_CODE_BUF], num[8], widest[REC_CODE_BUF + 16];
	double unit, size = 0, colw;
	unsigned cols = 1, rows;

	rec_code_display(&b->fmt, l->nb->codes[0], code, sizeof(code));
	snprintf(widest, sizeof(widest), "%u.  %s", (unsigned)b->count, code);
	font(cr, "monospace", 0, 1);
	/* Per point of font size: the box, its gap, the number and the code. */
	unit = 1.6 + text_width(cr, widest);
	for (unsigned c = 1; c <= 4 && c <= b->count; c++) {
		unsigned r = (b->count + c - 1) / c;
		double s = (w - (c - 1) * COL_GAP) / (c * unit);

		if (h / (r * ROW_STEP) < s)
			s = h / (r * ROW_STEP);
		if (s > CODE_SIZE_MAX)
			s = CODE_SIZE_MAX;
		if (s > size + 0.01) {
			size = s;
			cols = c;
		}
	}
	rows = (b->count + cols - 1) / cols;
	colw = unit * size + COL_GAP;
	font(cr, "monospace", 0, size);
	cairo_set_line_width(cr, 0.8);
	for (unsigned i = 0; i < b->count; i++) {
		double cx = x + (i / rows) * colw;
		double cy = y + (i % rows + 1) * ROW_STEP * size;

		cairo_set_source_rgb(cr, 0.45, 0.45, 0.45);
		cairo_rectangle(cr, cx, cy - 0.8 * size, 0.8 * size, 0.8 * size);
		cairo_stroke(cr);
		cairo_set_source_rgb(cr, 0, 0, 0);
		snprintf(num, sizeof(num), "%u.", i + 1);
		/* Numbers right-aligned so that the codes line up. */
		snprintf(widest, sizeof(widest), "%u.", (unsigned)b->count);
		text_at(cr, cx + 1.6 * size + text_width(cr, widest) -
		    text_width(cr, num), cy, num);
		rec_code_display(&b->fmt, l->nb->codes[i], code, sizeof(code));
		text_at(cr, cx + 1.6 * size + text_width(cr, widest) +
		    text_width(cr, "  "), cy, code);
	}
	sodium_memzero(code, sizeof(code));
	sodium_memzero(widest, sizeof(widest));
}

/* Words of s on as many lines of width w as they need; returns the last y. */
static double
draw_wrapped(cairo_t *cr, double x, double y, double w, double step,
    const char *s)
{
	char line[512];
	size_t n = 0;

	line[0] = '\0';
	while (*s != '\0') {
		size_t wl = strcspn(s, " "), keep = n;

		if (n + wl + 2 >= sizeof(line))
			break;
		if (n > 0)
			line[n++] = ' ';
		memcpy(line + n, s, wl);
		n += wl;
		line[n] = '\0';
		if (keep > 0 && text_width(cr, line) > w) {
			line[keep] = '\0';
			text_at(cr, x, y, line);
			y += step;
			memmove(line, s, wl);
			n = wl;
			line[n] = '\0';
		}
		s += wl;
		s += strspn(s, " ");
	}
	text_at(cr, x, y, line);
	return y;
}

static double
instructions_height(const struct tool_listing *l)
{
	size_t n = l->ask_admin ? NELEM(instructions_system) :
	    NELEM(instructions);

	/* Heading, and at most two lines per point at 10 pt. */
	return 30 + n * 2 * 13.5;
}

static void
draw_instructions(cairo_t *cr, double y, const struct tool_listing *l)
{
	const char *const *lines = l->ask_admin ? instructions_system :
	    instructions;
	size_t n = l->ask_admin ? NELEM(instructions_system) :
	    NELEM(instructions);
	char contact[TOOL_CONTACT_LEN], renew[TOOL_CONTACT_LEN + 128];

	cairo_set_source_rgb(cr, 0, 0, 0);
	font(cr, "sans-serif", 1, 12);
	text_at(cr, MARGIN, y, "How to use these codes");
	font(cr, "sans-serif", 0, 10);
	y += 6;
	for (size_t i = 0; i < n; i++) {
		const char *text = lines[i];

		if (text == NULL) {
			snprintf(renew, sizeof(renew), "When few codes are "
			    "left, ask your administrator%s for new ones (this "
			    "page then stops working).", tool_admin_contact(l,
			    contact, sizeof(contact)));
			text = renew;
		}
		y += 16;
		text_at(cr, MARGIN + 4, y, "\u2022");
		y = draw_wrapped(cr, MARGIN + 16, y, CONTENT_W - 16, 13.5,
		    text);
	}
}

int
tool_pdf_write(FILE *f, const struct tool_listing *l, const struct tool_qr *qr)
{
	cairo_surface_t *surface;
	cairo_t *cr;
	char title[REC_USER_MAX + 32];
	double y, qrsize = 0, top;
	cairo_status_t s;

	surface = cairo_pdf_surface_create_for_stream(write_stream, f, PAGE_W,
	    PAGE_H);
	snprintf(title, sizeof(title), "Recovery codes for %s", l->user);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title);
	cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR,
	    "pam-recovery");
	cr = cairo_create(surface);
	y = draw_header(cr, l, MARGIN);
	if (qr != NULL) {
		qrsize = (qr->width + 2 * TOOL_QR_QUIET) * 2.4;
		qrsize = qrsize < QR_MIN ? QR_MIN : qrsize > QR_MAX ? QR_MAX :
		    qrsize;
		draw_qr(cr, qr, PAGE_W - MARGIN - qrsize, MARGIN, qrsize);
		if (MARGIN + qrsize + 6 + 10 * QR_CAPTION_LINES > y)
			y = MARGIN + qrsize + 6 + 10 * QR_CAPTION_LINES;
	} else {
		font(cr, "sans-serif", 0, 9);
		text_at(cr, PAGE_W - MARGIN - 150, MARGIN + 20,
		    "(too many codes for one QR code)");
	}
	y += 16;
	top = PAGE_H - MARGIN - instructions_height(l);
	rule(cr, y);
	rule(cr, top - 26);
	draw_codes(cr, l, MARGIN, y + 8, CONTENT_W, top - y - 44);
	draw_instructions(cr, top, l);
	cairo_show_page(cr);
	s = cairo_status(cr);
	cairo_destroy(cr);
	cairo_surface_finish(surface);
	if (s == CAIRO_STATUS_SUCCESS)
		s = cairo_surface_status(surface);
	cairo_surface_destroy(surface);
	/*
	 * Nothing of cairo is alive any more: drop its font caches, which
	 * otherwise outlive the page and hide real leaks from memory checkers.
	 */
	cairo_debug_reset_static_data();
	if (s == CAIRO_STATUS_SUCCESS)
		return REC_OK;
	warnx("cannot write the PDF: %s", cairo_status_to_string(s));
	return s == CAIRO_STATUS_WRITE_ERROR ? REC_ERR_IO :
	    s == CAIRO_STATUS_NO_MEMORY ? REC_ERR_NOMEM : REC_ERR_INTERNAL;
}
