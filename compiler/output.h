/*
 * Writing an output tree all at once: everything is generated into a
 * fresh sibling directory that replaces the target only when complete, so
 * a failure never leaves a partial tree behind.
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
};

/* Generates `parts` of prog into dir.  Returns 0 or a negative errno (reported). */
int output_write(struct program *prog, const char *dir, unsigned parts);

/* Writes into a temporary directory next to dir; output_commit moves it into place. */
int output_begin(const char *dir, char **tmp);
int output_commit(const char *tmp, const char *dir);
void output_abort(const char *tmp);

/* rm -rf, for our own temporary trees only. */
int remove_tree(const char *path);

#endif
