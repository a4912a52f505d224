/*
 * What goes into an output tree, written into the temporary directory of a
 * struct out_tree (tree.h) that replaces the target only when complete.
 */
#ifndef KSC_OUTPUT_H
#define KSC_OUTPUT_H

#include "ast.h"

enum out_part {
	OUT_EBPF = 1 << 0,   /* NAME.ebpf.c, vmlinux.h */
	OUT_USER = 1 << 1,   /* NAME.c and the loader runtime */
	OUT_KMOD = 1 << 2,   /* kmod/ (only if the program has module code) */
	OUT_BUILD = 1 << 3,  /* Makefile, README.md */
	OUT_ALL = 0xf,
	OUT_KBUILD = 1 << 4, /* for output_commit: the tree itself is a kbuild tree */
};

/* Generates `parts` of prog into dir.  Returns 0 or a negative errno (reported). */
int output_write(struct program *prog, const char *dir, unsigned parts);

/*
 * Moves a tree written by output_write() (and built, for kmod build) into
 * place, its marker listing what it holds and the products its Makefiles
 * make for `parts` (OUT_KBUILD: the tree is a kbuild tree itself, as for
 * DKMS).  Returns 0 or a negative errno (reported).
 */
struct out_tree;
int output_commit(struct out_tree *t, const char *name, unsigned parts);

#endif
