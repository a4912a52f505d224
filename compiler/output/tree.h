/*
 * Output trees ksc owns.  A tree is generated whole into a private sibling
 * directory and swapped into place only when complete, so a failure or a
 * kill never leaves a partial tree.  Every tree carries a marker,
 * .ksc-output, listing the files ksc wrote and the build products its
 * Makefiles make; an existing tree is replaced only while it holds nothing
 * else, so a file the user put there (the .ks source included) is never
 * deleted: ksc refuses instead.
 */
#ifndef KSC_TREE_H
#define KSC_TREE_H

#include <stdbool.h>

#define TREE_MARKER ".ksc-output"

struct out_tree {
	char *name; /* the target as the user spelt it, for messages */
	char *dir;  /* the target, absolute */
	char *tmp;  /* where the new tree is being written */
	int lock;   /* flock held on tmp while this run writes it */
	bool project;
};

/*
 * Starts a tree for dir: checks the name (not empty, not a symbolic link,
 * not the current directory or one holding it), makes its parents, removes
 * temporary directories that dead runs left beside it, and creates t->tmp.
 * A project tree (ksc init) is the user's: it gets no marker and never
 * replaces anything.  Returns 0 or a negative errno (reported).
 */
int tree_begin(struct out_tree *t, const char *dir, bool project);

/*
 * Lists what t->tmp holds, plus the build-product patterns (NULL-terminated,
 * fnmatch patterns of paths relative to the tree; a pattern ending in '/'
 * names a directory of products), in its marker and swaps it into place.
 * An existing target that holds a file ksc did not write is refused with
 * one line.  Returns 0 or a negative errno (reported); t is released.
 */
int tree_commit(struct out_tree *t, const char *const *products);

/* Drops the temporary tree; t is released. */
void tree_abort(struct out_tree *t);

/*
 * Whether dir is a tree ksc wrote (it has a marker of this format) and
 * holds nothing but what the marker lists.  On false, *why (if given) is a
 * message for the caller to print, which it frees.
 */
bool tree_is_ksc(const char *dir, char **why);

#endif
