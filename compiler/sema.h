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

/* The eBPF stack limit the checker enforces per function. */
#define KS_EBPF_STACK_LIMIT 512

#endif
