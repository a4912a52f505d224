#include "diag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct diag_msg {
	enum diag_kind kind;
	struct ks_loc loc;
	char *text;
	struct diag_msg *next;
};

/* Long lines are shown as a window around the caret. */
#define LINE_WINDOW 160

struct ks_src *diag_add_source(struct diag *d, const char *path, char *text, size_t len)
{
	struct ks_src *s = xcalloc(1, sizeof(*s));
	int cap = 64;

	s->path = xstrdup(path);
	s->text = text;
	s->len = len;
	s->line_start = xmalloc(sizeof(int) * (size_t)cap);
	s->line_start[s->nlines++] = 0;
	for (size_t i = 0; i < len; i++) {
		if (text[i] != '\n')
			continue;
		if (s->nlines == cap) {
			cap *= 2;
			s->line_start = xrealloc(s->line_start, sizeof(int) * (size_t)cap);
		}
		s->line_start[s->nlines++] = (int)(i + 1);
	}
	s->next = d->sources;
	d->sources = s;
	return s;
}

/* Sources are capped at 64 MiB: bigger is not a program anyone writes by hand. */
#define MAX_SOURCE (64u << 20)

struct ks_src *diag_load_source(struct diag *d, const char *path, int *err)
{
	char *text;
	size_t len;

	*err = read_file(path, &text, &len);
	if (*err)
		return NULL;
	if (len > MAX_SOURCE) {
		free(text);
		*err = -EFBIG;
		return NULL;
	}
	return diag_add_source(d, path, text, len);
}

static void diag_add(struct diag *d, enum diag_kind kind, struct ks_loc loc,
		     const char *fmt, va_list ap)
{
	struct diag_msg *m;
	struct strbuf sb;

	if (kind == DIAG_ERROR) {
		if (d->nerrors >= DIAG_MAX_ERRORS) {
			d->nerrors++;
			return;
		}
		d->nerrors++;
	} else if (kind == DIAG_NOTE) {
		/* A note follows its message; drop it if that was dropped. */
		if (d->nerrors > DIAG_MAX_ERRORS)
			return;
	} else {
		d->nwarnings++;
	}
	sb_init(&sb);
	sb_vprintf(&sb, fmt, ap);
	m = xcalloc(1, sizeof(*m));
	m->kind = kind;
	m->loc = loc;
	m->text = sb_detach(&sb);
	if (d->tail)
		d->tail->next = m;
	else
		d->head = m;
	d->tail = m;
}

void diag_error(struct diag *d, struct ks_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, DIAG_ERROR, loc, fmt, ap);
	va_end(ap);
}

void diag_warning(struct diag *d, struct ks_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, DIAG_WARNING, loc, fmt, ap);
	va_end(ap);
}

void diag_note(struct diag *d, struct ks_loc loc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_add(d, DIAG_NOTE, loc, fmt, ap);
	va_end(ap);
}

bool diag_too_many(const struct diag *d)
{
	return d->nerrors >= DIAG_MAX_ERRORS;
}

/* Prints the source line and a caret under loc, windowed if the line is long; the caret green when coloured. */
static void show_line(FILE *out, const struct ks_loc *loc, bool color)
{
	const struct ks_src *s = loc->src;
	int start, end, from, to, caret, len;

	if (!s || loc->line < 1 || loc->line > s->nlines)
		return;
	start = s->line_start[loc->line - 1];
	end = start;
	while ((size_t)end < s->len && s->text[end] != '\n')
		end++;
	if (end > start && s->text[end - 1] == '\r')
		end--;
	caret = start + loc->col - 1;
	if (caret > end)
		caret = end;
	from = start;
	to = end;
	if (to - from > LINE_WINDOW) {
		from = caret - LINE_WINDOW / 2 < start ? start : caret - LINE_WINDOW / 2;
		to = from + LINE_WINDOW > end ? end : from + LINE_WINDOW;
	}
	fputs("    ", out);
	for (int i = from; i < to; i++) {
		unsigned char c = (unsigned char)s->text[i];

		fputc(c == '\t' || (c >= 0x20 && c != 0x7f) ? c : '?', out);
	}
	fputs("\n    ", out);
	for (int i = from; i < caret; i++)
		fputc(s->text[i] == '\t' ? '\t' : ' ', out);
	fputs(color ? KSC_SGR_CARET "^" : "^", out);
	len = loc->len;
	for (int i = 1; i < len && caret + i < to; i++)
		fputc('~', out);
	fputs(color ? KSC_SGR_RESET "\n" : "\n", out);
}

static const char *kind_color(enum diag_kind k)
{
	return k == DIAG_WARNING ? KSC_SGR_WARNING : k == DIAG_NOTE ? KSC_SGR_NOTE : KSC_SGR_ERROR;
}

static const char *kind_name(enum diag_kind k)
{
	switch (k) {
	case DIAG_ERROR:
		return "error";
	case DIAG_WARNING:
		return "warning";
	case DIAG_NOTE:
		return "note";
	}
	return "error";
}

void diag_flush(struct diag *d, FILE *out)
{
	struct diag_msg *m = d->head;
	bool color = m && ksc_color(out);

	while (m) {
		struct diag_msg *next = m->next;
		/* gcc's colours: the place bold, the kind in its own colour. */
		const char *locus = color ? KSC_SGR_LOCUS : "", *kind = color ? kind_color(m->kind) : "",
			   *reset = color ? KSC_SGR_RESET : "";

		if (m->loc.src)
			fprintf(out, "%s%s:%d:%d:%s %s%s: %s%s\n", locus, m->loc.src->path, m->loc.line,
				m->loc.col, reset, kind, kind_name(m->kind), reset, m->text);
		else
			fprintf(out, "ksc: %s%s: %s%s\n", kind, kind_name(m->kind), reset, m->text);
		show_line(out, &m->loc, color);
		free(m->text);
		free(m);
		m = next;
	}
	if (d->nerrors > DIAG_MAX_ERRORS)
		fprintf(out, "ksc: too many errors (%d), stopped after %d\n", d->nerrors,
			DIAG_MAX_ERRORS);
	d->head = d->tail = NULL;
}

void diag_free(struct diag *d)
{
	struct ks_src *s = d->sources;

	diag_flush(d, stderr);
	while (s) {
		struct ks_src *next = s->next;

		free(s->path);
		free(s->text);
		free(s->line_start);
		free(s);
		s = next;
	}
	d->sources = NULL;
}
