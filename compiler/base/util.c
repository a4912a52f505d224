#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ksc_verbose;

static void oom(void)
{
	fputs("ksc: out of memory\n", stderr);
	abort();
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		oom();
	return p;
}

void *xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct strbuf sb;
	va_list ap;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	return sb_detach(&sb);
}

void sb_init(struct strbuf *sb)
{
	sb->buf = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void sb_free(struct strbuf *sb)
{
	free(sb->buf);
	sb_init(sb);
}

static void sb_grow(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;

	if (need <= sb->cap)
		return;
	if (sb->cap * 2 > need)
		need = sb->cap * 2;
	sb->buf = xrealloc(sb->buf, need);
	sb->cap = need;
}

void sb_putn(struct strbuf *sb, const char *s, size_t n)
{
	sb_grow(sb, n);
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
	sb->buf[sb->len] = '\0';
}

void sb_putc(struct strbuf *sb, char c)
{
	sb_putn(sb, &c, 1);
}

void sb_puts(struct strbuf *sb, const char *s)
{
	sb_putn(sb, s, strlen(s));
}

void sb_vprintf(struct strbuf *sb, const char *fmt, va_list ap)
{
	va_list aq;
	int n;

	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n < 0)
		return;
	sb_grow(sb, (size_t)n);
	vsnprintf(sb->buf + sb->len, (size_t)n + 1, fmt, ap);
	sb->len += (size_t)n;
}

void sb_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

char *sb_detach(struct strbuf *sb)
{
	char *p = sb->buf ? sb->buf : xstrdup("");

	sb_init(sb);
	return p;
}

/* Reads fd to its end and closes it; fails with -EFBIG as soon as more than max bytes arrive. */
static int read_fd(int fd, size_t max, char **data, size_t *len)
{
	struct strbuf sb;
	char chunk[65536];
	ssize_t n;
	int err = 0;

	sb_init(&sb);
	while ((n = read(fd, chunk, sizeof(chunk))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if ((size_t)n > max - sb.len) {
			err = -EFBIG;
			break;
		}
		sb_putn(&sb, chunk, (size_t)n);
	}
	close(fd);
	if (err) {
		sb_free(&sb);
		return err;
	}
	if (len)
		*len = sb.len;
	*data = sb_detach(&sb);
	return 0;
}

/* -EISDIR, -KSC_ENOTREG or -EFBIG unless st is a regular file of at most max bytes. */
static int regular_error(const struct stat *st, size_t max)
{
	if (S_ISDIR(st->st_mode))
		return -EISDIR;
	if (!S_ISREG(st->st_mode))
		return -KSC_ENOTREG;
	return (unsigned long long)st->st_size > max ? -EFBIG : 0;
}

/*
 * Only a regular file is opened: a FIFO would block open() or read() until
 * a writer comes, and a device such as /dev/zero never ends.  The path is
 * checked before opening (opening some devices has side effects), and the
 * open file again, opened O_NONBLOCK so that a FIFO swapped in meanwhile
 * cannot block; the flag is cleared once the file is known to be regular.
 */
static int open_regular(const char *path, size_t max, struct stat *st)
{
	int fd, err, flags;

	if (stat(path, st))
		return -errno;
	if ((err = regular_error(st, max)))
		return err;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, st))
		err = -errno;
	else if (!(err = regular_error(st, max)) &&
		 ((flags = fcntl(fd, F_GETFL)) < 0 || fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) < 0))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

int read_file_limited(const char *path, char **data, size_t *len, size_t max, struct stat *st)
{
	struct stat tmp;
	int fd = open_regular(path, max, st ? st : &tmp);

	return fd < 0 ? fd : read_fd(fd, max, data, len);
}

const char *read_file_strerror(int err)
{
	return err == -KSC_ENOTREG ? "not a regular file" : strerror(-err);
}

int read_file(const char *path, char **data, size_t *len)
{
	struct stat st;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return -EISDIR;
	}
	return read_fd(fd, SIZE_MAX, data, len);
}

int write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = 0;

	if (fd < 0)
		return -errno;
	while (len) {
		ssize_t n = write(fd, data, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		data += n;
		len -= (size_t)n;
	}
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int write_file_reported(const char *path, const char *data, size_t len)
{
	int err = write_file(path, data, len);

	if (err)
		p_err("cannot write '%s': %s", path, strerror(-err));
	return err;
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

int remove_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT)
		return -errno;
	return 0;
}

int ksc_color_when = KSC_COLOR_AUTO;

bool ksc_set_color(const char *when)
{
	static const char *const names[] = { [KSC_COLOR_AUTO] = "auto", [KSC_COLOR_ALWAYS] = "always",
					     [KSC_COLOR_NEVER] = "never" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (!strcmp(when, names[i])) {
			ksc_color_when = (int)i;
			return true;
		}
	return false;
}

bool ksc_color(FILE *out)
{
	const char *term = getenv("TERM"), *no = getenv("NO_COLOR");

	if (ksc_color_when != KSC_COLOR_AUTO)
		return ksc_color_when == KSC_COLOR_ALWAYS;
	/* no-color.org: set and not empty. */
	return isatty(fileno(out)) && !(no && *no) && !(term && !strcmp(term, "dumb"));
}

/* "ksc: KIND: text"; KIND, when given, in its colour (sgr), as gcc's driver does. */
static void p_vmsg(const char *kind, const char *sgr, const char *fmt, va_list ap)
{
	if (*kind && ksc_color(stderr))
		fprintf(stderr, "ksc: %s%s" KSC_SGR_RESET, sgr, kind);
	else
		fprintf(stderr, "ksc: %s", kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void p_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p_vmsg("error: ", KSC_SGR_ERROR, fmt, ap);
	va_end(ap);
}

void p_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	p_vmsg("warning: ", KSC_SGR_WARNING, fmt, ap);
	va_end(ap);
}

void p_step(const char *fmt, ...)
{
	va_list ap;

	if (ksc_verbose < 0)
		return;
	va_start(ap, fmt);
	p_vmsg("", "", fmt, ap);
	va_end(ap);
}

void p_debug(const char *fmt, ...)
{
	va_list ap;

	if (ksc_verbose < 1)
		return;
	va_start(ap, fmt);
	p_vmsg("", "", fmt, ap);
	va_end(ap);
}

#define SUGGEST_MAX 2

/* Optimal string alignment distance of a and b, or SUGGEST_MAX + 1 when above SUGGEST_MAX. */
static int edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	int *rows, *prev2, *prev, *cur, *t, d;

	if ((la > lb ? la - lb : lb - la) > SUGGEST_MAX || la > 256 || lb > 256)
		return SUGGEST_MAX + 1;
	rows = xcalloc(3 * (lb + 1), sizeof(*rows));
	prev2 = rows, prev = rows + lb + 1, cur = rows + 2 * (lb + 1);
	for (size_t j = 0; j <= lb; j++)
		prev[j] = (int)j;
	for (size_t i = 1; i <= la; i++) {
		cur[0] = (int)i;
		for (size_t j = 1; j <= lb; j++) {
			int cost = a[i - 1] != b[j - 1], v = prev[j - 1] + cost;

			if (prev[j] + 1 < v)
				v = prev[j] + 1;
			if (cur[j - 1] + 1 < v)
				v = cur[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < v)
				v = prev2[j - 2] + 1;
			cur[j] = v;
		}
		t = prev2;
		prev2 = prev, prev = cur, cur = t;
	}
	d = prev[lb];
	free(rows);
	return d > SUGGEST_MAX ? SUGGEST_MAX + 1 : d;
}

void suggest_init(struct suggest *s, const char *name)
{
	s->name = name;
	s->best = NULL;
	s->dist = SUGGEST_MAX + 1;
}

bool suggest_consider(struct suggest *s, const char *candidate)
{
	int d;

	if (!candidate || !*candidate || !strcmp(candidate, s->name))
		return false;
	d = edit_distance(s->name, candidate);
	if (d > SUGGEST_MAX || (size_t)d * 2 >= strlen(s->name))
		return false;
	if (d < s->dist || (d == s->dist && s->best && strcmp(candidate, s->best) < 0)) {
		s->best = candidate;
		s->dist = d;
		return true;
	}
	return false;
}

const char *suggest_best(const struct suggest *s)
{
	return s->dist <= SUGGEST_MAX ? s->best : NULL;
}
