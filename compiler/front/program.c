#include "program.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "builtins.h"
#include "names.h"
#include "parser.h"
#include "safety.h"
#include "sema.h"
#include "stdheaders.h"

/* Imports nest; deeper than this is abuse (a cycle is caught at once, by file identity). */
#define MAX_IMPORT_DEPTH 16
#define MAX_INCLUDE_DEPTH 32
/* Sources are capped at 64 MiB: bigger is not a program anyone writes by hand. */
#define MAX_SOURCE ((size_t)64 << 20)

/*
 * A .ks file loaded as a program, known by its device and inode: a file
 * imported from many places (a diamond, a mesh) is parsed and checked once.
 */
struct loaded {
	dev_t dev;
	ino_t ino;
	struct program *prog;
	bool loading;            /* its imports are being loaded: importing it now is a cycle */
	bool main_import;        /* the main program imports this copy (under one name) */
};

struct loader {
	struct arena *a;
	struct diag *d;
	struct kernel *kernel;
	struct ptrvec seen;      /* real paths of headers already spliced */
	struct loaded *files;    /* every .ks file loaded, the main one first */
	int nfiles, capfiles;
	int import_depth;
};

/* Reads a source: a regular file of at most MAX_SOURCE bytes, else *err. */
static struct ks_src *load_source(struct loader *l, const char *path, int *err, struct stat *st)
{
	char *text;
	size_t len;

	*err = read_file_limited(path, &text, &len, MAX_SOURCE, st);
	if (*err)
		return NULL;
	return diag_add_source(l->d, path, text, len);
}

static char *dir_of(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? xstrndup(path, (size_t)(slash - path)) : xstrdup(".");
}

static bool seen_before(struct loader *l, const char *key)
{
	for (int i = 0; i < l->seen.n; i++)
		if (!strcmp(l->seen.v[i], key))
			return true;
	ptrvec_push(l->a, &l->seen, arena_strdup(l->a, key));
	return false;
}

static void mark_header(struct decl *list)
{
	for (struct decl *d = list; d; d = d->next)
		d->from_header = true;
}

static struct decl *expand(struct loader *l, struct decl *list, const char *dir, int depth);

/* Headers hold declarations only: types, externs and further includes. */
static void check_header_decls(struct loader *l, struct decl *list)
{
	for (struct decl *d = list; d; d = d->next) {
		switch (d->kind) {
		case D_STRUCT:
		case D_ENUM:
		case D_ALIAS:
		case D_EXTERN:
		case D_INCLUDE:
			break;
		default:
			diag_error(l->d, d->loc,
				   "a .kh header may only declare types, enums, aliases and extern functions");
		}
	}
}

/* dir/name, without a leading "./" so messages name files as the user wrote them. */
static char *join(const char *dir, const char *name)
{
	if (name[0] == '/')
		return xstrdup(name);
	if (!strcmp(dir, "."))
		return xstrdup(name);
	return xasprintf("%s/%s", dir, name);
}

static struct decl *load_header(struct loader *l, struct decl *inc, const char *dir, int depth)
{
	char *path = join(dir, inc->import_path);
	char real[PATH_MAX];
	struct ks_src *src = NULL;
	struct decl *list;
	int err = -ENOENT;

	if (realpath(path, real)) {
		if (seen_before(l, real)) {
			free(path);
			return NULL;
		}
		src = load_source(l, path, &err, NULL);
	} else if (!strchr(inc->import_path, '/')) {
		for (const struct ks_stdheader *h = ks_stdheaders; h->name; h++) {
			if (strcmp(h->name, inc->import_path))
				continue;
			if (seen_before(l, h->name)) {
				free(path);
				return NULL;
			}
			char *name = xasprintf("<ksc>/%s", h->name);

			src = diag_add_source(l->d, name, xstrdup(h->text), strlen(h->text));
			free(name);    /* diag_add_source keeps its own copy */
		}
	}
	if (!src) {
		diag_error(l->d, inc->loc, "cannot open include file '%s': %s", inc->import_path,
			   read_file_strerror(err));
		free(path);
		return NULL;
	}
	list = parse_source(l->a, l->d, src);
	check_header_decls(l, list);
	mark_header(list);
	{
		char *hdir = src->path[0] == '<' ? xstrdup(dir) : dir_of(path);

		list = expand(l, list, hdir, depth + 1);
		free(hdir);
	}
	free(path);
	return list;
}

static struct program *load_program(struct loader *l, const char *path, int *err);

/* The compiled loader copies a Python module later: it must be a readable regular file. */
static int check_python_module(const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -KSC_ENOTREG;
	if ((unsigned long long)st.st_size > MAX_SOURCE)
		return -EFBIG;
	return access(path, R_OK) ? -errno : 0;
}

/* The entry of a .ks file loaded before (or being loaded), or NULL. */
static struct loaded *find_loaded(struct loader *l, const char *path)
{
	struct stat st;

	if (stat(path, &st))
		return NULL;
	for (int i = 0; i < l->nfiles; i++)
		if (l->files[i].dev == st.st_dev && l->files[i].ino == st.st_ino)
			return &l->files[i];
	return NULL;
}

/* Records a program being loaded; returns its index (l->files moves as it grows). */
static int remember(struct loader *l, const struct stat *st, struct program *prog)
{
	if (l->nfiles == l->capfiles) {
		l->capfiles = l->capfiles ? l->capfiles * 2 : 8;
		l->files = xrealloc(l->files, sizeof(*l->files) * (size_t)l->capfiles);
	}
	l->files[l->nfiles] = (struct loaded){ st->st_dev, st->st_ino, prog, true, false };
	return l->nfiles++;
}

static void load_import(struct loader *l, struct decl *imp, const char *dir)
{
	char *path = join(dir, imp->import_path);
	size_t n = strlen(path);
	struct loaded *old;
	int err = 0;

	if (n > 3 && !strcmp(path + n - 3, ".py")) {
		err = check_python_module(path);
		if (err)
			diag_error(l->d, imp->loc, "cannot open imported Python module '%s': %s",
				   imp->import_path, read_file_strerror(err));
		imp->import_path = arena_strdup(l->a, path);
		free(path);
		return;
	}
	old = n > 3 && !strcmp(path + n - 3, ".ks") ? find_loaded(l, path) : NULL;
	if (n <= 3 || strcmp(path + n - 3, ".ks")) {
		diag_error(l->d, imp->loc, "can only import .ks and .py files, not '%s'",
			   imp->import_path);
	} else if (old && !old->loading && !(l->import_depth == 0 && old->main_import)) {
		/*
		 * The loader names an imported function after the import that
		 * names it (m1_square), so a file the main program imports twice
		 * gets a copy for each name; any other import shares one copy.
		 */
		imp->imported = old->prog;
		old->main_import |= l->import_depth == 0;
	} else if ((old && old->loading) || l->import_depth >= MAX_IMPORT_DEPTH) {
		/* A file still loading imports it: the chain would never end. */
		diag_error(l->d, imp->loc, "imports nest too deeply (import cycle?)");
	} else {
		struct program *sub;

		l->import_depth++;
		sub = load_program(l, path, &err);
		l->import_depth--;
		for (int i = l->nfiles - 1; i >= 0 && sub && !l->import_depth; i--)
			if (l->files[i].prog == sub)
				l->files[i].main_import = true;
		if (err)
			diag_error(l->d, imp->loc, "cannot open imported file '%s': %s",
				   imp->import_path, read_file_strerror(err));
		imp->imported = sub;
	}
	free(path);
}

/* Replaces each include by the header's declarations; loads imports in place. */
static struct decl *expand(struct loader *l, struct decl *list, const char *dir, int depth)
{
	struct decl head = { 0 }, *cur = &head;

	for (struct decl *d = list, *next; d; d = next) {
		next = d->next;
		d->next = NULL;
		cur->next = d;
		cur = d;
		if (d->kind == D_IMPORT) {
			load_import(l, d, dir);
		} else if (d->kind == D_INCLUDE) {
			struct decl *h;

			if (depth >= MAX_INCLUDE_DEPTH) {
				diag_error(l->d, d->loc, "includes nest too deeply (include cycle?)");
				continue;
			}
			h = load_header(l, d, dir, depth);
			cur->next = h;
			while (cur->next)
				cur = cur->next;
		}
	}
	return head.next;
}

static const char *base_name(struct arena *a, const char *path)
{
	const char *s = strrchr(path, '/');
	size_t n;

	s = s ? s + 1 : path;
	n = strlen(s);
	if (n > 3 && !strcmp(s + n - 3, ".ks"))
		n -= 3;
	return arena_strndup(a, s, n);
}

/* kbuild turns '-' in module names into '_'; other odd characters follow suit. */
static const char *c_ident(struct arena *a, const char *base)
{
	char *s = arena_strdup(a, base);

	for (char *p = s; *p; p++)
		if (!(isalnum((unsigned char)*p) || *p == '_'))
			*p = '_';
	if (isdigit((unsigned char)s[0]))
		s = arena_printf(a, "_%s", s);
	return s;
}

static struct program *load_program(struct loader *l, const char *path, int *err)
{
	struct program *prog = arena_alloc(l->a, sizeof(*prog));
	struct ks_src *src, *pre;
	struct decl *prelude, *decls, *tail;
	struct stat st;
	char *dir;
	int self;

	struct ptrvec outer_seen = l->seen;

	*err = 0;
	src = load_source(l, path, err, &st);
	if (!src)
		return NULL;
	self = remember(l, &st, prog);
	/* Each program sees its own headers, even ones its importer included. */
	l->seen = (struct ptrvec){ 0 };
	prog->path = arena_strdup(l->a, path);
	prog->base = base_name(l->a, path);
	prog->ident = c_ident(l->a, prog->base);
	prog->arena = l->a;
	prog->kernel = l->kernel;
	pre = diag_add_source(l->d, "<builtin>", xstrdup(ks_prelude), strlen(ks_prelude));
	prelude = parse_source(l->a, l->d, pre);
	mark_header(prelude);
	dir = dir_of(path);
	decls = expand(l, parse_source(l->a, l->d, src), dir, 0);
	free(dir);
	for (tail = prelude; tail && tail->next; tail = tail->next)
		;
	if (tail)
		tail->next = decls;
	prog->decls = prelude ? prelude : decls;
	l->seen = outer_seen;
	l->files[self].loading = false;
	if (diag_errors(l->d))
		return prog;
	sema_check(prog, l->d);
	if (!diag_errors(l->d)) {
		target_split(prog);
		safety_check(prog, l->d);
	}
	return prog;
}

struct program *program_load(const char *path, struct kernel *k, struct arena *a, struct diag *d,
			     int *err)
{
	struct loader l = { .a = a, .d = d, .kernel = k };
	struct program *prog = load_program(&l, path, err);

	/* Once, for the top file: it names the imported files' C too. */
	if (prog && !*err && !diag_errors(d))
		names_assign(prog, d);
	free(l.files);
	if (*err) {
		p_err("cannot read '%s': %s", path, read_file_strerror(*err));
		return NULL;
	}
	return diag_errors(d) ? NULL : prog;
}
