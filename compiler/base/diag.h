/*
 * Source files and diagnostics.  Every message about a .ks program goes
 * through here: "file:line:col: error: text", the source line, a caret.
 * Messages are collected and printed together by diag_flush().
 */
#ifndef KSC_DIAG_H
#define KSC_DIAG_H

#include <stdbool.h>
#include <stdio.h>

#include "util.h"

struct ks_src {
	char *path;        /* as given, for messages */
	char *text;        /* NUL-terminated contents */
	size_t len;
	int *line_start;   /* byte offset of each line */
	int nlines;
	struct ks_src *next;
};

struct ks_loc {
	const struct ks_src *src;
	int line, col;     /* 1-based; col counts bytes */
	int len;           /* bytes underlined, at least 1 */
};

enum diag_kind { DIAG_ERROR, DIAG_WARNING, DIAG_NOTE };

struct diag_msg;

struct diag {
	struct diag_msg *head, *tail;
	int nerrors, nwarnings;
	struct ks_src *sources;  /* every file read, owned here */
};

/* Stop collecting after this many errors; the rest are noise. */
#define DIAG_MAX_ERRORS 50

/* Registers a source buffer (takes ownership of text). */
struct ks_src *diag_add_source(struct diag *d, const char *path, char *text, size_t len);
/* Reads a file as a source; on failure returns NULL and sets *err (negative errno). */
struct ks_src *diag_load_source(struct diag *d, const char *path, int *err);

void diag_error(struct diag *d, struct ks_loc loc, const char *fmt, ...) KSC_PRINTF(3, 4);
void diag_warning(struct diag *d, struct ks_loc loc, const char *fmt, ...) KSC_PRINTF(3, 4);
/* A note attached to the previous message. */
void diag_note(struct diag *d, struct ks_loc loc, const char *fmt, ...) KSC_PRINTF(3, 4);

static inline int diag_errors(const struct diag *d)
{
	return d->nerrors;
}

bool diag_too_many(const struct diag *d);
void diag_flush(struct diag *d, FILE *out);
void diag_free(struct diag *d);

#endif
