/* Shared by the safety pass's files (safety.c: walking, loops; safety_flow.c: null and references). */
#ifndef KSC_SAFETY_INTERNAL_H
#define KSC_SAFETY_INTERNAL_H

#include "safety.h"

/* bpf_loop's cap (the kernel's BPF_MAX_LOOPS): ebpf_loops.c runs unproven loops with it. */
#define LOOP_CAP ((__int128)1 << 23)
/*
 * Recursion guard: the parser caps nesting at 200 levels, so this is never
 * reached by a program that parsed; it keeps fuzzed trees off our stack.
 */
#define MAX_DEPTH 1000

typedef __int128 i128;

struct safety {
	struct program *prog;
	struct diag *d;
	struct decl *fn;
	struct ptrvec addr;        /* struct stmt *: locals whose address fn takes */
};

/*
 * Calls f on every statement and expression under s, with loops: how many
 * loops between the walk's root and the node (a continue at 0 belongs to
 * the root's loop).
 */
typedef void (*walk_fn)(void *data, const struct stmt *s, const struct expr *e, int loops);

void sf_walk_stmts(const struct stmt *s, walk_fn f, void *data, int loops, int depth);
void sf_walk_expr(const struct expr *e, walk_fn f, void *data, int loops, int depth);
bool sf_is_local(const struct expr *e, const struct stmt *var);

/* The flow analysis of fn: possibly null dereferences, unreleased references (safety_flow.c). */
void sf_flow_check(struct safety *sf, struct decl *fn);
/* Rules of the program type and the call graph: stack chains, context fields, helpers (safety_prog.c). */
void sf_prog_check(struct safety *sf, struct decl *fn);

#endif
