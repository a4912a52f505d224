/*
 * The userspace backend: NAME.c, the libbpf loader holding the program's
 * userspace functions (main, unattributed functions, @test functions)
 * translated to C, built against the bpftool skeleton NAME.skel.h and the
 * runtime ksc_loader.{h,c}; plus the Makefile and README.md of the tree.
 */
#ifndef KSC_USERGEN_H
#define KSC_USERGEN_H

#include "ast.h"

/* Writes DIR/NAME.c and the runtime files.  Returns 0 or a negative errno (reported). */
int usergen_write(struct program *prog, const char *dir);

/* Writes the loader runtime, ksc_loader.h and ksc_loader.c, into DIR. */
int usergen_write_runtime(const char *dir);

/* Writes DIR/Makefile and DIR/README.md, and copies imported Python modules. */
int usergen_write_build(struct program *prog, const char *dir);

#endif
