/*
 * Compile-time checks for what the eBPF verifier always rejects (or, for
 * loops, what ksc would otherwise cap silently): loops without a bound ksc
 * can prove, possibly null dereferences of kfunc results, and kfunc
 * references not released on every path.  Only code that runs as eBPF is
 * checked.  docs/safety.md gives the rules and why each is sound.
 */
#ifndef KSC_SAFETY_H
#define KSC_SAFETY_H

#include "ast.h"

/* Checks prog's eBPF functions (after the target split), reporting to d. */
void safety_check(struct program *prog, struct diag *d);

#endif
