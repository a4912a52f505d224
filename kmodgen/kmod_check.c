/* What the module backend needs beyond the front end's rules. */
#include <stdlib.h>
#include <string.h>

#include "btf_types.h"
#include "kmodgen.h"
#include "kmodgen_internal.h"
#include "sema.h"
#include "types.h"

static bool has_flag(const struct decl *fn, const char *flag, struct ks_loc *loc)
{
	for (const struct attr *a = fn->attrs; a; a = a->next)
		if (!strcmp(a->name, "kfunc"))
			for (const struct attr_arg *arg = a->args; arg; arg = arg->next)
				if (arg->name && !strcmp(arg->name, flag)) {
					*loc = arg->loc;
					return true;
				}
	return false;
}

static bool returns_pointer(const struct decl *fn)
{
	return fn->ret && type_unalias(fn->ret)->kind == TY_PTR;
}

/* The verifier's rules for KF_ACQUIRE / KF_RELEASE / KF_RET_NULL, checked early. */
static void check_flags(struct diag *d, struct decl *fn)
{
	struct ks_loc loc;

	if (has_flag(fn, "acquire", &loc) && !returns_pointer(fn))
		diag_error(d, loc, "an 'acquire' kfunc must return a pointer");
	if (has_flag(fn, "ret_null", &loc) && !returns_pointer(fn))
		diag_error(d, loc, "a 'ret_null' kfunc must return a pointer");
	if (has_flag(fn, "release", &loc) &&
	    (!fn->params || type_unalias(fn->params->ty)->kind != TY_PTR))
		diag_error(d, loc, "a 'release' kfunc must take the released pointer as its first parameter");
	if (has_flag(fn, "acquire", &loc) && has_flag(fn, "release", &loc))
		diag_error(d, loc, "a kfunc cannot both acquire and release");
}

static const struct attr *find_attr(const struct decl *d, const char *name)
{
	for (const struct attr *a = d->attrs; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

static const struct decl *find_method(const struct decl *impl, const char *name)
{
	for (const struct decl *m = impl->methods; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/*
 * The default implementation of a struct_ops type the module defines: what
 * module code calls when no BPF implementation is attached, so it has every
 * member.  Its prototypes were checked against the type by the front end.
 */
static void check_default_impl(struct diag *d, struct decl *impl, struct decl *type)
{
	const struct attr *kmod = find_attr(impl, "kmod");

	if (!is_kmod_ops_type(type)) {
		diag_error(d, kmod->loc,
			   "a @kmod impl block of %s needs the type defined by the module: mark its struct @kmod too",
			   impl->struct_ops);
		return;
	}
	for (struct struct_field *f = type->fields; f; f = f->next)
		if (struct_ops_member(type, f->name) && !find_method(impl, f->name))
			diag_error(d, impl->name_loc,
				   "default implementation '%s' of %s lacks '%s': module code falls back to it when no BPF implementation is attached",
				   impl->name, impl->struct_ops, f->name);
}

/* Each struct_ops type the module defines has exactly one default implementation. */
static void check_ops_type(struct diag *d, struct program *prog, struct decl *type)
{
	struct decl *first = NULL;

	for (struct decl *x = prog->decls; decl_visit(x); x = x->next) {
		if (x->kind != D_IMPL || x->target != TARGET_KMOD || !x->struct_ops ||
		    strcmp(x->struct_ops, type->name))
			continue;
		if (first)
			diag_error(d, x->name_loc,
				   "struct_ops type '%s' already has a default implementation, '%s'",
				   type->name, first->name);
		else
			first = x;
	}
	if (!first)
		diag_error(d, type->name_loc,
			   "struct_ops type '%s' needs a default implementation in the module: a @struct_ops(\"%s\") @kmod impl block",
			   type->name, type->name);
}

/*
 * A native tcp_congestion_ops: tcp_register_congestion_control() refuses
 * one without ssthresh, undo_cwnd, and cong_avoid or cong_control.  Its
 * methods get the kernel's prototypes, so BTF must have them.
 */
static void check_kmod_impl(struct diag *d, struct program *prog, struct decl *impl)
{
	const struct attr *a = find_attr(impl, "kmod");
	struct decl *type;

	if (!impl->struct_ops)
		return;
	type = sema_struct_ops_type(prog, impl->struct_ops);
	if (type) {
		check_default_impl(d, impl, type);
		return;
	}
	if (strcmp(impl->struct_ops, "tcp_congestion_ops")) {
		diag_error(d, a->loc,
			   "a @kmod impl block implements tcp_congestion_ops only; %s is registered from eBPF (drop @kmod)",
			   impl->struct_ops);
		return;
	}
	if (!find_method(impl, "ssthresh"))
		diag_error(d, impl->name_loc,
			   "congestion control '%s' needs a 'ssthresh' method: the kernel does not register one without it",
			   impl->name);
	if (!find_method(impl, "cong_avoid") && !find_method(impl, "cong_control"))
		diag_error(d, impl->name_loc,
			   "congestion control '%s' needs a 'cong_avoid' or 'cong_control' method: the kernel does not register one without it",
			   impl->name);
	if (!find_method(impl, "undo_cwnd"))
		diag_error(d, impl->name_loc,
			   "congestion control '%s' needs an 'undo_cwnd' method: the kernel does not register one without it",
			   impl->name);
	for (struct decl *m = impl->methods; m; m = m->next) {
		char *ret = btf_member_param_c(prog->kernel, impl->struct_ops, m->name, -1, "");

		if (!ret)
			diag_error(d, m->name_loc,
				   "no prototype for %s.%s in the kernel BTF %s: a @kmod method takes the kernel's own (use --btf FILE)",
				   impl->struct_ops, m->name, btf_types_path(prog->kernel));
		free(ret);
	}
}

/* @private code and state nothing reaches: said, and left out of the module. */
static void check_unused(struct diag *d, struct program *prog)
{
	kmod_mark_unused(prog);
	for (struct decl *u = prog->decls; decl_visit(u); u = u->next)
		if (u->kmod_unused && !u->import_owner)
			diag_warning(d, u->name_loc.src ? u->name_loc : u->loc,
				     "@private %s '%s' is not used by any @kfunc or @kmod method: it is left out of the module",
				     u->kind == D_FUNC ? "function" : "variable", u->name);
}

int kmodgen_check(struct program *prog, struct diag *d)
{
	int before = diag_errors(d);

	for (struct decl *fn = prog->decls; decl_visit(fn); fn = fn->next) {
		if (fn->kind == D_FUNC && fn->role == ROLE_KFUNC)
			check_flags(d, fn);
		if (fn->kind == D_IMPL && fn->target == TARGET_KMOD)
			check_kmod_impl(d, prog, fn);
	}
	for (struct decl *t = prog->decls; decl_visit(t); t = t->next)
		if (is_kmod_ops_type(t))
			check_ops_type(d, prog, t);
	kmodgen_check_exports(prog, d);
	check_unused(d, prog);
	return diag_errors(d) != before ? -1 : 0;
}
