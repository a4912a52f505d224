/* Shared by the files of the module backend. */
#ifndef KSC_KMODGEN_INTERNAL_H
#define KSC_KMODGEN_INTERNAL_H

#include "ast.h"
#include "cgen.h"

int kmod_write_c(struct program *prog, const char *path);

/* C names of a @kmod impl block's instance and methods. */
const char *kmod_ops_name(struct cgen *g, struct decl *impl);
const char *kmod_method_name(struct cgen *g, struct decl *m);

/* Native struct_ops (kmod_struct_ops.c): @kmod impl blocks. */
bool kmod_has_struct_ops(struct program *prog);
/* The methods and the instances; -1 when BTF lacks a prototype (reported). */
int kmod_emit_struct_ops(struct cgen *g);
/* Module init's registrations (ending in `return`) and module exit's unregistrations. */
void kmod_emit_struct_ops_register(struct cgen *g);
void kmod_emit_struct_ops_unregister(struct cgen *g);

/* struct_ops types the module defines (kmod_ops_type.c). */
bool kmod_has_ops_types(struct program *prog);
/* The #error for kernels before 6.9; the types, attached pointers, dispatcher prototypes. */
void kmod_emit_ops_type_guard(struct cgen *g);
void kmod_emit_ops_type_decls(struct cgen *g);
/* Default implementations, dispatchers, cfi stubs, struct bpf_struct_ops. */
void kmod_emit_ops_types(struct cgen *g);
/* Module init's register_bpf_struct_ops() calls (returning on failure). */
void kmod_emit_ops_type_register(struct cgen *g);
/* cgen call hook: TYPE.member(args) as a call of its dispatcher. */
bool kmod_ops_call(struct cgen *g, struct strbuf *sb, struct expr *e);

int kmod_write_files(struct program *prog, const char *dir);

/* The module backend's own state, cgen's g->backend. */
struct kmod_backend {
	struct decl *rmw;  /* the variable an update's try_cmpxchg loop is computing */
};

/*
 * Module state shared by every CPU (kmod_state.c): atomics, READ_ONCE and
 * WRITE_ONCE chosen per variable.  kmod_state_scan finds the variables
 * whose address is taken (they stay plain); then the state's definitions,
 * and the cgen expr and stmt hooks for its reads and assignments.
 */
void kmod_state_scan(struct program *prog);

/*
 * Sets decl->kmod_unused on the @private functions and state that no kfunc
 * and no @kmod method reaches: they are left out of the module's C, where
 * they would be "defined but not used" (an error with KCFLAGS=-Werror or
 * CONFIG_WERROR), and kmodgen_check() warns about them.
 */
void kmod_mark_unused(struct program *prog);
bool kmod_state_uses_atomics(const struct program *prog);
void kmod_emit_state(struct cgen *g);
bool kmod_state_read(struct cgen *g, struct strbuf *sb, struct expr *e);
bool kmod_state_assign(struct cgen *g, struct stmt *s);

#endif
