/* Small helpers shared by every part of ksc: memory, strings, files, messages. */
#ifndef KSC_UTIL_H
#define KSC_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KSC_PRINTF(f, a) __attribute__((format(printf, f, a)))

/* Allocation failure is not recoverable for a compiler: these abort. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) KSC_PRINTF(1, 2);

/* Growable string. */
struct strbuf {
	char *buf;
	size_t len, cap;
};
void sb_init(struct strbuf *sb);
void sb_free(struct strbuf *sb);
void sb_putc(struct strbuf *sb, char c);
void sb_puts(struct strbuf *sb, const char *s);
void sb_putn(struct strbuf *sb, const char *s, size_t n);
void sb_printf(struct strbuf *sb, const char *fmt, ...) KSC_PRINTF(2, 3);
void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap);
/* Hands the buffer over to the caller (NUL-terminated, never NULL). */
char *sb_detach(struct strbuf *sb);

/*
 * Reads a whole file.  Returns 0 and a NUL-terminated buffer the caller frees,
 * or a negative errno.
 */
int read_file(const char *path, char **data, size_t *len);

/* Not an errno: read_file_limited()'s error for a FIFO, device or socket. */
#define KSC_ENOTREG 4000

/*
 * read_file() for input that may be hostile (program sources): reads only
 * a regular file, never blocks on a FIFO, and stops with -EFBIG as soon as
 * the file holds more than max bytes.  A directory is -EISDIR, anything
 * else that is not a regular file -KSC_ENOTREG.  st, if not NULL, gets the
 * file's status (its st_dev and st_ino identify it).
 */
struct stat;
int read_file_limited(const char *path, char **data, size_t *len, size_t max, struct stat *st);
/* strerror() for read_file() and read_file_limited() errors (negative). */
const char *read_file_strerror(int err);
int write_file(const char *path, const char *data, size_t len);
/* write_file() that reports a failure with p_err ("cannot write 'PATH': ..."). */
int write_file_reported(const char *path, const char *data, size_t len);
/*
 * rm -rf of a directory that is ksc's as a whole (a temporary tree it
 * made): 0, or -errno; a path already gone is 0.  Never for a directory
 * that may hold a user's files (compiler/output/tree.c says which).
 */
int remove_tree(const char *path);

/*
 * "did you mean": the candidate closest to a name that is not known, by
 * Damerau-Levenshtein distance (adjacent swaps count one), accepted within
 * 2 edits and under half the name's length so that short names get no
 * far-fetched guesses.  Ties go to the first in strcmp order.
 */
struct suggest {
	const char *name, *best;
	int dist;
};
void suggest_init(struct suggest *s, const char *name);
/* Whether candidate is now the closest. */
bool suggest_consider(struct suggest *s, const char *candidate);
/* The accepted candidate, or NULL. */
const char *suggest_best(const struct suggest *s);

/* Output verbosity set by -q / -v; progress lines go to stderr. */
extern int ksc_verbose; /* -1 quiet, 0 normal, 1 verbose */

/*
 * --color=auto|always|never, every command's: whether diagnostics and
 * error lines are coloured the way gcc colours them.  auto colours a
 * terminal, unless NO_COLOR is set or TERM is dumb.
 */
enum ksc_color_when { KSC_COLOR_AUTO, KSC_COLOR_ALWAYS, KSC_COLOR_NEVER };
extern int ksc_color_when;
/* Sets ksc_color_when from "auto", "always" or "never"; false for anything else. */
bool ksc_set_color(const char *when);
/* Whether what goes to out is coloured. */
bool ksc_color(FILE *out);
/* gcc's SGR sequences (GCC_COLORS' defaults) and the reset after each. */
#define KSC_SGR_ERROR "\033[01;31m\033[K"
#define KSC_SGR_WARNING "\033[01;35m\033[K"
#define KSC_SGR_NOTE "\033[01;36m\033[K"
#define KSC_SGR_CARET "\033[01;32m\033[K"
#define KSC_SGR_LOCUS "\033[01m\033[K"
#define KSC_SGR_RESET "\033[m\033[K"

/* The one printer for errors that are not source diagnostics: "ksc: error: ...". */
void p_err(const char *fmt, ...) KSC_PRINTF(1, 2);
void p_warn(const char *fmt, ...) KSC_PRINTF(1, 2);
/* One progress line for a long step, silenced by -q. */
void p_step(const char *fmt, ...) KSC_PRINTF(1, 2);
/* Shown only with -v (commands run, details). */
void p_debug(const char *fmt, ...) KSC_PRINTF(1, 2);

#endif
