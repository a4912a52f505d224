/*
 * Module source trees on disk, shared by `ksc kmod build` and `ksc kmod
 * dkms`: a tree is a directory holding Kbuild and NAME.c as ksc writes them,
 * either given directly or as the kmod/ directory of a `ksc compile` output.
 */
#ifndef KSC_KMOD_TREE_H
#define KSC_KMOD_TREE_H

#include <stdbool.h>

bool is_dir(const char *path);

/* dir/kmod when it exists, else dir (malloc'd). */
char *kmod_tree_dir(const char *dir);

/* The module name of a tree: its Kbuild's "obj-m := NAME.o", or NULL. */
char *kmod_tree_name(const char *src);

/*
 * Copies the sources of the tree src of module name into the directory to,
 * without its build products or dkms.conf.  0 or a negative errno (reported).
 */
int kmod_tree_copy(const char *src, const char *name, const char *to);

/* `ksc kmod dkms ARGS` (kmodgen/build/dkms.c); returns the exit status. */
int kmod_dkms(int argc, char **argv);

#endif
