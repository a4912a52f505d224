/*
 * Loading a program: read the .ks file, parse it, splice in its includes
 * (.kh headers: relative to the including file, then ksc's own), load its
 * imports, check everything and decide each function's target.
 */
#ifndef KSC_PROGRAM_H
#define KSC_PROGRAM_H

#include "ast.h"

/*
 * Returns the checked program, checked against the kernel k (which it
 * keeps as prog->kernel), or NULL when it has errors (all reported to
 * d) or cannot be read (reported with p_err; *err is the negative errno).
 */
struct program *program_load(const char *path, struct kernel *k, struct arena *a, struct diag *d,
			     int *err);

/* Decides decl->target for every function and state, and prog->has_kmod. */
void target_split(struct program *prog);

#endif
