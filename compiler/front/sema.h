/*
 * Name resolution and type checking.  Walks the declarations in order
 * (KernelScript requires definition before use), resolves every name,
 * types every expression and enforces the language's rules per context
 * (eBPF program, userspace, kernel module).
 */
#ifndef KSC_SEMA_H
#define KSC_SEMA_H

#include "ast.h"

/* Returns 0 when the program is valid; diagnostics go to d. */
int sema_check(struct program *prog, struct diag *d);

/*
 * The struct_ops type `name` the program declares (a struct carrying
 * @struct_ops), or NULL: such a declaration is the type's definition,
 * preferred over the kernel's BTF.  Indexed on the first question, so asked
 * only once the checker has read every struct's attributes.
 */
struct decl *sema_struct_ops_type(struct program *prog, const char *name);

/* Whether d is a struct_ops type the module defines (@struct_ops and @kmod on a struct). */
bool is_kmod_ops_type(const struct decl *d);

/* The function member `name` of a struct_ops type declared in the program, or NULL. */
struct struct_field *struct_ops_member(const struct decl *type, const char *name);

/* The eBPF stack limit the checker enforces per function. */
#define KS_EBPF_STACK_LIMIT 512

#endif
