/* Parser: one recursive-descent function per grammar rule of KernelScript 0.1.1. */
#ifndef KSC_PARSER_H
#define KSC_PARSER_H

#include "ast.h"

/*
 * Parses one source file into a list of declarations.  `include` and
 * `import` are returned as D_INCLUDE/D_IMPORT declarations; the loader
 * resolves them.  Syntax errors go to d; the returned list holds whatever
 * could be recovered.
 */
struct decl *parse_source(struct arena *a, struct diag *d, const struct ks_src *src);

#endif
