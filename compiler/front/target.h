/* Target of each function, decided once from its role. */
#ifndef KSC_TARGET_H
#define KSC_TARGET_H

#include "ast.h"

enum target target_of_role(enum func_role r);

/*
 * Where fn's code goes: its role's target, except that the methods of a
 * @kmod impl block are kernel module code (native struct_ops).
 */
enum target target_of(const struct decl *fn);

/* Whether a function or impl method of target t calls callee (sema's call lists). */
bool target_calls(const struct program *prog, const struct decl *callee, enum target t);

#endif
