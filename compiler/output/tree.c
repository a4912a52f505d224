#include "tree.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

/*
 * A tree being written holds this stamp until it is committed: a dead run's
 * temporary tree is recognised by it (and by its lock being free), and only
 * then removed whole.
 */
#define STAMP ".ksc-tmp"
#define TMP_INFIX ".ksc-tmp-"
#define MARKER_HEAD "# ksc output tree"
/* Deeper than any tree ksc writes; beyond it an entry counts as the user's. */
#define MAX_DEPTH 16

/* What a marker says ksc owns. */
struct owned {
	char **paths;  /* "file REL" and "dir REL" lines, REL kept with its kind */
	size_t npaths;
	char **products;
	size_t nproducts;
};

enum own { FOREIGN, OWN_FILE, OWN_DIR, PRODUCT_DIR };

static void owned_free(struct owned *o)
{
	for (size_t i = 0; i < o->npaths; i++)
		free(o->paths[i]);
	for (size_t i = 0; i < o->nproducts; i++)
		free(o->products[i]);
	free(o->paths);
	free(o->products);
	memset(o, 0, sizeof(*o));
}

static void push(char ***v, size_t *n, char *s)
{
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = s;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Parses a marker.  -ENOENT: none; -EPROTO: not one this ksc wrote (an older format). */
static int owned_read(const char *dir, struct owned *o)
{
	char *path = xasprintf("%s/%s", dir, TREE_MARKER), *text, *line, *save = NULL;
	size_t len;
	int err = read_file(path, &text, &len);

	free(path);
	memset(o, 0, sizeof(*o));
	if (err)
		return err;
	if (strncmp(text, MARKER_HEAD, strlen(MARKER_HEAD)) || strlen(text) != len) {
		free(text);
		return -EPROTO;
	}
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "file ", 5) || !strncmp(line, "dir ", 4))
			push(&o->paths, &o->npaths, xstrdup(line));
		else if (!strncmp(line, "product ", 8))
			push(&o->products, &o->nproducts, xstrdup(line + 8));
	}
	qsort(o->paths, o->npaths, sizeof(*o->paths), cmp_str);
	free(text);
	return 0;
}

static bool listed(const struct owned *o, const char *kind, const char *rel)
{
	char *key = xasprintf("%s %s", kind, rel);
	bool yes = bsearch(&key, o->paths, o->npaths, sizeof(*o->paths), cmp_str) != NULL;

	free(key);
	return yes;
}

static bool is_product(const struct owned *o, const char *rel, bool is_dir)
{
	for (size_t i = 0; i < o->nproducts; i++) {
		const char *p = o->products[i];
		size_t n = strlen(p);
		bool dir_pat = n && p[n - 1] == '/';
		char *pat = xstrndup(p, dir_pat ? n - 1 : n);
		bool yes = dir_pat == is_dir && !fnmatch(pat, rel, FNM_PATHNAME | FNM_PERIOD);

		free(pat);
		if (yes)
			return true;
	}
	return false;
}

static enum own classify(const struct owned *o, const char *rel, bool is_dir)
{
	if (!is_dir && (!strcmp(rel, TREE_MARKER) || listed(o, "file", rel)))
		return OWN_FILE;
	if (is_dir && listed(o, "dir", rel))
		return OWN_DIR;
	if (is_product(o, rel, is_dir))
		return is_dir ? PRODUCT_DIR : OWN_FILE;
	return FOREIGN;
}

/*
 * Walks root/rel: counts the entries ksc does not own and, with remove,
 * deletes the ones it does (a directory only once empty).  *first gets the
 * first foreign path found.
 */
static size_t sweep(const char *root, const char *rel, const struct owned *o, bool remove,
		    int depth, char **first)
{
	char *path = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	struct dirent **names = NULL;
	/* Sorted, so that the entry a refusal names does not depend on the filesystem. */
	int n = depth < MAX_DEPTH ? scandir(path, &names, NULL, alphasort) : -1;
	size_t foreign = 0;

	if (n < 0) {
		if (first && !*first)
			*first = xstrdup(*rel ? rel : ".");
		free(path);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		const char *name = names[i]->d_name;
		char *sub = NULL, *full = NULL;
		struct stat st;
		enum own own;

		if (!strcmp(name, ".") || !strcmp(name, ".."))
			goto next;
		sub = *rel ? xasprintf("%s/%s", rel, name) : xstrdup(name);
		full = xasprintf("%s/%s", path, name);
		own = lstat(full, &st) ? FOREIGN : classify(o, sub, S_ISDIR(st.st_mode));
		if (own == FOREIGN) {
			foreign++;
			if (first && !*first)
				*first = xstrdup(sub);
		} else if (own == OWN_DIR) {
			foreign += sweep(root, sub, o, remove, depth + 1, first);
			if (remove)
				rmdir(full);
		} else if (remove && own == PRODUCT_DIR) {
			remove_tree(full);
		} else if (remove && strcmp(sub, TREE_MARKER)) {
			unlink(full);
		}
next:
		free(full);
		free(sub);
		free(names[i]);
	}
	free(names);
	free(path);
	return foreign;
}

/* Removes an old tree swapped aside; what ksc does not own stays, and is said. */
static void remove_owned(const char *dir, const struct owned *o)
{
	char *first = NULL, *marker = xasprintf("%s/%s", dir, TREE_MARKER);
	size_t left = sweep(dir, "", o, true, 0, &first);

	if (left) {
		p_warn("kept %s/%s (and %zu more entries), which appeared in the old tree while ksc ran",
		       dir, first, left - 1);
	} else {
		unlink(marker);
		rmdir(dir);
	}
	free(marker);
	free(first);
}

/* tree_is_ksc() of path, whose messages call it name. */
static bool is_ksc(const char *path, const char *name, char **why)
{
	struct owned o;
	char *first = NULL;
	int err = owned_read(path, &o);
	bool ok = false;

	if (err == -EPROTO) {
		if (why)
			*why = xasprintf("'%s' was written by an older ksc that did not record its files: remove it yourself, or choose another -o directory",
					 name);
	} else if (err) {
		if (why)
			*why = xasprintf("'%s' exists and was not written by ksc; choose another -o directory",
					 name);
	} else if (sweep(path, "", &o, false, 0, &first)) {
		if (why)
			*why = xasprintf("'%s' holds '%s', which ksc did not write: move it out, or choose another -o directory",
					 name, first);
	} else {
		ok = true;
	}
	free(first);
	owned_free(&o);
	return ok;
}

bool tree_is_ksc(const char *dir, char **why)
{
	return is_ksc(dir, dir, why);
}

static bool is_empty_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	bool empty = d != NULL;

	while (d && (e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			empty = false;
	if (d)
		closedir(d);
	return empty;
}

/* mkdir -p of path's parent, so -o may name a new nested directory. */
static void make_parents(const char *path)
{
	char *p = xstrdup(path);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	free(p);
}

/* Whether path is the current directory or one of its ancestors. */
static bool holds_cwd(const char *path)
{
	char *cwd = getcwd(NULL, 0);
	size_t n = strlen(path);
	bool yes = cwd && !strncmp(cwd, path, n) && (cwd[n] == '\0' || cwd[n] == '/');

	free(cwd);
	return yes;
}

/*
 * The absolute path of an output directory, its parents made: "tree/" is
 * "tree", "." and ".." are resolved, so the temporary tree is always a
 * sibling of the target and never inside it.
 */
static char *absolute(const char *dir)
{
	char *d = xstrdup(dir), *slash, *parent, *abs = NULL;
	const char *base;
	size_t n = strlen(d);

	while (n > 1 && d[n - 1] == '/')
		d[--n] = '\0';
	slash = strrchr(d, '/');
	base = slash ? slash + 1 : d;
	if (!strcmp(base, ".") || !strcmp(base, "..")) {
		abs = realpath(d, NULL);
		if (!abs)
			p_err("cannot use '%s' as the output directory: %s", dir, strerror(errno));
		free(d);
		return abs;
	}
	parent = slash ? (slash == d ? xstrdup("/") : xstrndup(d, slash - d)) : xstrdup(".");
	make_parents(d);
	if (!strcmp(parent, "/")) {
		abs = xasprintf("/%s", base);
	} else {
		char *rp = realpath(parent, NULL);

		if (rp)
			abs = xasprintf("%s/%s", rp, base);
		else
			p_err("cannot use '%s' as the output directory: %s", dir, strerror(errno));
		free(rp);
	}
	free(parent);
	free(d);
	return abs;
}

/* "/a/b" -> "/a" and "b". */
static void split(const char *abs, char **parent, const char **base)
{
	const char *slash = strrchr(abs, '/');

	*parent = slash == abs ? xstrdup("/") : xstrndup(abs, slash - abs);
	*base = slash + 1;
}

/* A temporary tree whose run died: its lock is free. */
static bool abandoned(const char *path, bool *stamped)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	char *stamp;
	bool dead;

	if (fd < 0)
		return false;
	dead = flock(fd, LOCK_EX | LOCK_NB) == 0;
	close(fd);
	stamp = xasprintf("%s/%s", path, STAMP);
	*stamped = access(stamp, F_OK) == 0;
	free(stamp);
	return dead;
}

/*
 * Removes DIR.ksc-tmp-* beside abs left by runs that were killed: a stamped
 * one is a tree being written, all ksc's; an unstamped one with a marker is
 * an old tree swapped aside, of which only what its marker lists goes.
 */
static void remove_stale(const char *abs)
{
	char *parent, *prefix;
	const char *base;
	struct dirent *e;
	DIR *d;

	split(abs, &parent, &base);
	prefix = xasprintf("%s%s", base, TMP_INFIX);
	d = opendir(parent);
	while (d && (e = readdir(d))) {
		char *path;
		struct owned o;
		bool stamped;

		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		path = xasprintf("%s/%s", parent, e->d_name);
		if (abandoned(path, &stamped)) {
			if (stamped && !remove_tree(path)) {
				p_step("removed %s, left by a ksc run that did not finish", path);
			} else if (!stamped && !owned_read(path, &o)) {
				remove_owned(path, &o);
				owned_free(&o);
			}
		}
		free(path);
	}
	if (d)
		closedir(d);
	free(prefix);
	free(parent);
}

static int check_target(const char *dir, const char *abs, bool project)
{
	struct stat st;

	if (lstat(abs, &st)) {
		if (errno == ENOENT)
			return 0;
		p_err("cannot use '%s' as the output directory: %s", dir, strerror(errno));
		return -errno;
	}
	if (S_ISLNK(st.st_mode)) {
		p_err("'%s' is a symbolic link: give the directory itself as the output directory", dir);
		return -EEXIST;
	}
	if (!S_ISDIR(st.st_mode)) {
		p_err("'%s' exists and is not a directory; choose another -o directory", dir);
		return -EEXIST;
	}
	if (project && !is_empty_dir(abs)) {
		p_err("cannot create '%s': it exists already", dir);
		return -EEXIST;
	}
	if (holds_cwd(abs)) {
		p_err("'%s' is the current directory or holds it, and ksc replaces its output whole: run ksc from outside it",
		      dir);
		return -EBUSY;
	}
	return 0;
}

/* An existing target must be ksc's before any work is done for it (and again at commit). */
static int check_owner(const struct out_tree *t)
{
	char *why = NULL;
	int err = 0;

	if (access(t->dir, F_OK) || is_empty_dir(t->dir) || is_ksc(t->dir, t->name, &why))
		return 0;
	p_err("%s", why);
	err = -EEXIST;
	free(why);
	return err;
}

static void release(struct out_tree *t)
{
	if (t->lock >= 0)
		close(t->lock);
	free(t->tmp);
	free(t->dir);
	free(t->name);
	memset(t, 0, sizeof(*t));
	t->lock = -1;
}

int tree_begin(struct out_tree *t, const char *dir, bool project)
{
	char *stamp;
	int err;

	memset(t, 0, sizeof(*t));
	t->lock = -1;
	t->project = project;
	if (!*dir) {
		p_err("the output directory name is empty");
		return -EINVAL;
	}
	t->name = xstrdup(dir);
	t->dir = absolute(dir);
	if (!t->dir) {
		release(t);
		return -ENOENT;
	}
	if (!strcmp(t->dir, "/")) {
		p_err("'%s' cannot be an output directory", dir);
		release(t);
		return -EINVAL;
	}
	err = check_target(dir, t->dir, project);
	if (!err && !project)
		err = check_owner(t);
	if (err) {
		release(t);
		return err;
	}
	remove_stale(t->dir);
	t->tmp = xasprintf("%s" TMP_INFIX "XXXXXX", t->dir);
	if (!mkdtemp(t->tmp)) {
		err = -errno;
		p_err("cannot create a directory next to '%s': %s", dir, strerror(errno));
		release(t);
		return err;
	}
	/* mkdtemp makes it private; the tree is meant to be shared like any source. */
	chmod(t->tmp, 0755);
	t->lock = open(t->tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	stamp = xasprintf("%s/%s", t->tmp, STAMP);
	if (t->lock < 0 || flock(t->lock, LOCK_EX) || write_file(stamp, "", 0)) {
		err = -errno;
		p_err("cannot prepare '%s': %s", t->tmp, strerror(errno));
		free(stamp);
		tree_abort(t);
		return err ? err : -EIO;
	}
	free(stamp);
	return 0;
}

void tree_abort(struct out_tree *t)
{
	if (t->tmp)
		remove_tree(t->tmp);
	release(t);
}

/* Every file and directory below root, sorted, as "file REL" / "dir REL". */
static void list(const char *root, const char *rel, char ***v, size_t *n)
{
	char *path = *rel ? xasprintf("%s/%s", root, rel) : xstrdup(root);
	DIR *d = opendir(path);
	struct dirent *e;

	while (d && (e = readdir(d))) {
		char *sub, *full;
		struct stat st;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    (!*rel && (!strcmp(e->d_name, STAMP) || !strcmp(e->d_name, TREE_MARKER))))
			continue;
		sub = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
		full = xasprintf("%s/%s", path, e->d_name);
		if (!lstat(full, &st) && S_ISDIR(st.st_mode)) {
			push(v, n, xasprintf("dir %s", sub));
			list(root, sub, v, n);
		} else {
			push(v, n, xasprintf("file %s", sub));
		}
		free(full);
		free(sub);
	}
	if (d)
		closedir(d);
	free(path);
}

static int write_marker(const struct out_tree *t, const char *const *products)
{
	char *path = xasprintf("%s/%s", t->tmp, TREE_MARKER), **v = NULL;
	struct strbuf sb;
	size_t n = 0;
	int err;

	list(t->tmp, "", &v, &n);
	qsort(v, n, sizeof(*v), cmp_str);
	sb_init(&sb);
	sb_puts(&sb, MARKER_HEAD ": written by ksc, which replaces this directory only while it\n"
		     "# holds nothing but these files and the products of its Makefiles.\n");
	for (size_t i = 0; i < n; i++) {
		sb_printf(&sb, "%s\n", v[i]);
		free(v[i]);
	}
	for (size_t i = 0; products && products[i]; i++)
		sb_printf(&sb, "product %s\n", products[i]);
	err = write_file_reported(path, sb.buf, sb.len);
	sb_free(&sb);
	free(v);
	free(path);
	return err;
}

/* Swaps the new tree in; the old one ends at t->tmp.  Falls back to two renames. */
static int swap_in(const struct out_tree *t)
{
	char *aside;
	int err = 0;

	if (!renameat2(AT_FDCWD, t->tmp, AT_FDCWD, t->dir, RENAME_EXCHANGE))
		return 0;
	if (errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
		return -errno;
	/* No exchange on this filesystem: the old tree goes aside first, under a temporary name. */
	aside = xasprintf("%s" TMP_INFIX "XXXXXX", t->dir);
	if (!mkdtemp(aside) || rename(t->dir, aside)) {
		err = -errno;
	} else if (rename(t->tmp, t->dir)) {
		err = -errno;
		rename(aside, t->dir);
	} else {
		rename(aside, t->tmp);
	}
	free(aside);
	return err;
}

int tree_commit(struct out_tree *t, const char *const *products)
{
	struct owned old = { 0 };
	char *stamp = xasprintf("%s/%s", t->tmp, STAMP), *why = NULL;
	bool exists = access(t->dir, F_OK) == 0, replace = exists && !is_empty_dir(t->dir);
	int err = t->project ? 0 : write_marker(t, products);

	if (!err && replace && (t->project || !is_ksc(t->dir, t->name, &why))) {
		if (why)
			p_err("%s", why);
		else
			p_err("cannot create '%s': it exists already", t->name);
		err = -EEXIST;
	}
	if (!err && replace)
		err = owned_read(t->dir, &old);
	if (!err && unlink(stamp))
		err = -errno;
	if (!err && replace) {
		err = swap_in(t);
		if (!err)
			remove_owned(t->tmp, &old);
	} else if (!err && rename(t->tmp, t->dir)) {
		err = -errno;
	}
	if (err && err != -EEXIST)
		p_err("cannot move the output into '%s': %s", t->name, strerror(-err));
	if (err)
		remove_tree(t->tmp);
	owned_free(&old);
	free(stamp);
	free(why);
	release(t);
	return err;
}
