/* Shared between the parts of the C emitter (cgen*.c); not a public interface. */
#ifndef KSC_CGEN_INTERNAL_H
#define KSC_CGEN_INTERNAL_H

#include "cgen.h"

/* A fresh temporary's name in the current function: stem1, stem2, ... */
char *cg_tmp_name(struct cgen *g, const char *stem);

/* cgen_expr.c: C operator of each binary operator (enum binop order). */
extern const char *const cg_binop_text[];
/* Whether t is a string (through aliases). */
bool cg_is_str(const struct type *t);

/* cgen_stmt.c: a match statement or expression, its arms' values going to sink. */
void cg_emit_match(struct cgen *g, struct expr *e, struct cg_sink sink);

#endif
