/*
 * The target split: where each function's code goes (eBPF object,
 * userspace loader, kernel module), decided here once from its attribute,
 * and which program types reach each kfunc (they decide its registration).
 */
#include <string.h>

#include "program.h"
#include "target.h"

enum target target_of_role(enum func_role r)
{
	switch (r) {
	case ROLE_PROG:
	case ROLE_HELPER:
	case ROLE_METHOD:
		return TARGET_EBPF;
	case ROLE_KFUNC:
	case ROLE_PRIVATE:
		return TARGET_KMOD;
	case ROLE_USER:
	case ROLE_TEST:
		return TARGET_USER;
	}
	return TARGET_USER;
}

enum target target_of(const struct decl *fn)
{
	if (fn->role == ROLE_METHOD && fn->impl && fn->impl->target == TARGET_KMOD)
		return TARGET_KMOD;
	return target_of_role(fn->role);
}

/* Marks every kfunc reachable from `fn` through eBPF subprograms as used by `prog`. */
static void mark_kfunc_users(struct decl *fn, enum prog_kind prog, unsigned depth)
{
	/* Call chains are checked acyclic only for tail position; bound the walk. */
	if (depth > 64)
		return;
	for (int i = 0; i < fn->calls.n; i++) {
		struct decl *callee = fn->calls.v[i];

		if (callee->kind != D_FUNC)
			continue;
		if (callee->role == ROLE_KFUNC) {
			callee->prog_users |= 1u << prog;
		} else if (callee->role == ROLE_HELPER && !(callee->prog_users & (1u << prog))) {
			callee->prog_users |= 1u << prog;
			mark_kfunc_users(callee, prog, depth + 1);
		}
	}
}

static void split_function(struct program *prog, struct decl *fn)
{
	fn->target = target_of(fn);
	if (fn->target == TARGET_KMOD)
		prog->has_kmod = true;
	/* A @kmod method calls kfuncs as plain C: no program type reaches them. */
	else if (fn->role == ROLE_PROG || fn->role == ROLE_METHOD)
		mark_kfunc_users(fn, fn->prog, 0);
}

void target_split(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_FUNC) {
			split_function(prog, d);
		} else if (d->kind == D_IMPL) {
			if (d->target == TARGET_KMOD)
				prog->has_kmod = true;
			for (struct decl *m = d->methods; m; m = m->next)
				split_function(prog, m);
		} else if ((d->kind == D_GLOBAL || d->kind == D_STRUCT) && d->target == TARGET_KMOD) {
			/* Module state, or a struct_ops type the module registers. */
			prog->has_kmod = true;
		}
	}
}

bool target_calls(const struct program *prog, const struct decl *callee, enum target t)
{
	for (const struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		const struct decl *fns = d->kind == D_IMPL ? d->methods : d->kind == D_FUNC ? d : NULL;

		for (const struct decl *f = fns; f; f = d->kind == D_IMPL ? f->next : NULL) {
			if (f->target != t)
				continue;
			for (int i = 0; i < f->calls.n; i++)
				if (f->calls.v[i] == callee)
					return true;
		}
	}
	return false;
}
