/* Expression checking: calls, builtins and methods (see sema_expr.c). */
#include "format.h"
#include "sema.h"
#include "sema_internal.h"

#include <string.h>

/* ---- calls ---- */

static void check_args(struct checker *c, struct expr *call, struct type **params, int n,
		       const char *name)
{
	int i = 0;

	for (struct expr *a = call->args; a; a = a->next, i++) {
		if (i < n)
			check_value(c, a, params[i], "argument");
		else
			check_expr(c, a, NULL);
	}
	if (i != n)
		diag_error(c->d, call->loc, "'%s' takes %d argument%s, but %d %s given", name, n,
			   n == 1 ? "" : "s", i, i == 1 ? "was" : "were");
}

static int count_args(const struct expr *call)
{
	int n = 0;

	for (const struct expr *a = call->args; a; a = a->next)
		n++;
	return n;
}

static bool is_prog_ref(const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_FUNC && e->decl && e->decl->role == ROLE_PROG;
}

static struct type *named_builtin_type(struct checker *c, const char *name)
{
	struct sym *s = sym_lookup(c->types, name);
	struct type *t;

	if (!s)
		return ty_error(c);
	t = type_new(c->a, s->decl->kind == D_ENUM ? TY_ENUM : TY_STRUCT);
	t->decl = s->decl;
	return t;
}

static bool is_struct_named(const struct type *t, const char *name)
{
	t = type_unalias((struct type *)t);
	return t && t->kind == TY_STRUCT && t->decl && !strcmp(t->decl->name, name);
}

/* Where bytes [start, end) of string literal f are, when it is on one line. */
static struct ks_loc format_loc(const struct expr *f, int start, int end)
{
	struct ks_loc loc = f->loc;

	if (loc.line == f->loc.line) {
		loc.col += start + 1;
		loc.len = end - start;
	}
	return loc;
}

/* Conversions that C compilers or bpf_printk() would not print as written. */
static void check_print_convs(struct checker *c, const struct expr *f, const struct fmt_conv *conv,
			      int n)
{
	for (int i = 0; i < n; i++) {
		const char *why = fmt_refused(&conv[i], c->ctx == TARGET_EBPF);

		if (why)
			diag_error(c->d, format_loc(f, conv[i].start, conv[i].end),
				   "'%.*s' in the print() format: %s", conv[i].end - conv[i].start,
				   f->str + conv[i].start, why);
	}
}

/* print(FORMAT, args...): printf conversions, each matched with its argument. */
static void check_print_format(struct checker *c, struct expr *e)
{
	struct expr *f = e->args, *a;
	struct fmt_conv conv[64];
	int n, bad, i = 0;

	if (!f)
		return;
	if (f->kind != E_STR) {
		if (f->next || (!type_is_error(f->type) && type_unalias(f->type)->kind != TY_STR))
			diag_error(c->d, f->loc, "print() needs a format string literal first");
		return;
	}
	n = fmt_parse(f->str, f->str_len, conv, 64, &bad);
	if (n < 0) {
		diag_error(c->d, format_loc(f, bad, bad + 2),
			   "unsupported conversion in print() format (use %%d %%i %%u %%x %%o %%c %%s %%p)");
		diag_note(c->d, format_loc(f, bad, bad + 2),
			  "between '%%' and the letter: C's flags (- + space # 0), a width and a "
			  "precision, at most 7 characters");
		return;
	}
	if (n > 64) {
		diag_error(c->d, f->loc, "print() format has more than 64 conversions");
		return;
	}
	check_print_convs(c, f, conv, n);
	for (a = f->next; a && i < n; a = a->next, i++) {
		struct type *t = type_unalias(a->type);
		bool ok;

		if (type_is_error(t))
			continue;
		switch (conv[i].kind) {
		case FMT_STR:
			ok = t->kind == TY_STR;
			break;
		case FMT_PTR:
			ok = t->kind == TY_PTR || t->kind == TY_NULL;
			break;
		default:
			ok = type_is_int(t) || t->kind == TY_BOOL;
			break;
		}
		if (!ok)
			diag_error(c->d, a->loc, "'%%%c' in the print() format does not take %s",
				   conv[i].conv, type_str(c->a, t));
	}
	if (i < n)
		diag_error(c->d, e->loc, "print() format has %d conversion%s but %d argument%s follow%s",
			   n, n == 1 ? "" : "s", i, i == 1 ? "" : "s", i == 1 ? "s" : "");
	else if (a && n > 0)
		diag_warning(c->d, a->loc, "print() has more arguments than its format uses; the rest are not printed");
}

/* attach(handle, target, flags): a string target, or perf_options for a perf event. */
static struct type *check_attach(struct checker *c, struct expr *e, int n)
{
	struct expr *a = e->args;
	struct type *t, *h, *target;

	if (n != 3) {
		diag_error(c->d, e->loc, "attach() takes (handle, target, flags)");
		return NULL;
	}
	h = check_expr(c, a, NULL);
	if (!type_is_error(h) && type_unalias(h)->kind != TY_HANDLE)
		diag_error(c->d, a->loc, "attach() needs a program handle from load(), not %s",
			   type_str(c->a, h));
	target = check_expr(c, a->next, NULL);
	t = check_expr(c, a->next->next, NULL);
	if (!type_is_error(t) && !type_is_int(t))
		diag_error(c->d, a->next->next->loc, "attach() flags must be an integer");
	if (is_struct_named(target, "perf_options")) {
		long long v;

		if (const_eval(a->next->next, &v) && v != 0)
			diag_error(c->d, a->next->next->loc, "perf event attach flags must be 0");
		return named_builtin_type(c, "PerfAttachment");
	}
	if (!type_is_error(target) && type_unalias(target)->kind != TY_STR)
		diag_error(c->d, a->next->loc,
			   "attach() target must be a string or perf_options { ... }, not %s",
			   type_str(c->a, target));
	return type_int(c->a, 4, false);
}

/* register(impl): a BPF struct_ops impl block (a @kmod one registers itself). */
static struct type *check_register(struct checker *c, struct expr *e, int n)
{
	struct expr *a = e->args;
	struct type *t;

	if (n != 1) {
		diag_error(c->d, e->loc, "register() takes one impl block");
		return NULL;
	}
	t = check_expr(c, a, NULL);
	if (!type_is_error(t) && type_unalias(t)->kind != TY_IMPL)
		diag_error(c->d, a->loc, "register() needs a @struct_ops impl block, not %s",
			   type_str(c->a, t));
	else if (!type_is_error(t) && type_unalias(t)->decl->target == TARGET_KMOD)
		diag_error(c->d, a->loc,
			   "'%s' is a @kmod impl block: its kernel module registers it when loaded",
			   type_unalias(t)->decl->name);
	return type_int(c->a, 4, false);
}

/* test(program, context), inside @test functions. */
static struct type *check_test(struct checker *c, struct expr *e, int n)
{
	struct expr *a = e->args;

	if (!c->fn || c->fn->role != ROLE_TEST)
		diag_error(c->d, e->loc, "test() can only be used inside @test functions");
	if (n != 2) {
		diag_error(c->d, e->loc, "test() takes (program, context)");
		return NULL;
	}
	check_expr(c, a, NULL);
	if (!is_prog_ref(a) && !type_is_error(a->type))
		diag_error(c->d, a->loc, "test() needs an eBPF program function");
	check_expr(c, a->next, NULL);
	return type_int(c->a, 4, false);
}

/* exec("script.py"). */
static struct type *check_exec(struct checker *c, struct expr *e, int n)
{
	struct expr *a = e->args;
	struct type *t;

	if (n != 1) {
		diag_error(c->d, e->loc, "exec() takes one Python script path");
		return NULL;
	}
	t = check_expr(c, a, NULL);
	if (!type_is_error(t) && type_unalias(t)->kind != TY_STR)
		diag_error(c->d, a->loc, "exec() needs a string, not %s", type_str(c->a, t));
	else if (a->kind == E_STR && (a->str_len < 3 || strcmp(a->str + a->str_len - 3, ".py")))
		diag_error(c->d, a->loc, "exec() runs a Python script: the path must end in .py");
	return ty_basic(c, TY_VOID);
}

/* load(program): an eBPF program function. */
static struct type *check_load(struct checker *c, struct expr *e, int n)
{
	struct expr *a = e->args;

	if (n != 1) {
		diag_error(c->d, e->loc, "load() takes one program function");
		return NULL;
	}
	check_expr(c, a, NULL);
	if (!is_prog_ref(a) && !type_is_error(a->type))
		diag_error(c->d, a->loc,
			   "load() needs an eBPF program function (@xdp, @tc, @probe, @tracepoint or @perf_event)");
	return ty_basic(c, TY_HANDLE);
}

/* detach(handle or PerfAttachment). */
static struct type *check_detach(struct checker *c, struct expr *e, int n)
{
	struct expr *a = e->args;
	struct type *t;

	if (n != 1) {
		diag_error(c->d, e->loc, "detach() takes one argument");
		return NULL;
	}
	t = check_expr(c, a, NULL);
	if (!type_is_error(t) && type_unalias(t)->kind != TY_HANDLE &&
	    !is_struct_named(t, "PerfAttachment"))
		diag_error(c->d, a->loc, "detach() needs a ProgramHandle or PerfAttachment, not %s",
			   type_str(c->a, t));
	return ty_basic(c, TY_VOID);
}

/* read(PerfAttachment): its counter. */
static struct type *check_read(struct checker *c, struct expr *e, int n)
{
	struct expr *a = e->args;
	struct type *t;

	if (n != 1) {
		diag_error(c->d, e->loc, "read() takes one PerfAttachment");
		return NULL;
	}
	t = check_expr(c, a, NULL);
	if (!type_is_error(t) && !is_struct_named(t, "PerfAttachment"))
		diag_error(c->d, a->loc, "read() needs a PerfAttachment, not %s",
			   type_str(c->a, t));
	return type_int(c->a, 8, true);
}

static struct type *check_builtin_call(struct checker *c, struct expr *e, enum builtin bi)
{
	int n = count_args(e);
	struct expr *a = e->args;
	const char *name = builtin_name(bi);
	struct type *t;

	e->builtin = bi;
	if (builtin_user_only(bi) && c->ctx != TARGET_USER) {
		diag_error(c->d, e->loc, "'%s' is only available in userspace code, not in %s", name,
			   ctx_name(c->ctx));
		for (; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	switch (bi) {
	case BI_PRINT:
		for (; a; a = a->next) {
			t = check_expr(c, a, NULL);
			if (!type_is_error(t) && !type_is_scalar(t) && type_unalias(t)->kind != TY_STR)
				diag_error(c->d, a->loc, "print() cannot format a value of type %s",
					   type_str(c->a, t));
		}
		check_print_format(c, e);
		return type_int(c->a, 4, false);
	case BI_LOAD:
		if ((t = check_load(c, e, n)))
			return t;
		break;
	case BI_ATTACH:
		if ((t = check_attach(c, e, n)))
			return t;
		break;
	case BI_DETACH:
		if ((t = check_detach(c, e, n)))
			return t;
		break;
	case BI_READ:
		if ((t = check_read(c, e, n)))
			return t;
		break;
	case BI_REGISTER:
		if ((t = check_register(c, e, n)))
			return t;
		break;
	case BI_TEST:
		if ((t = check_test(c, e, n)))
			return t;
		break;
	case BI_DISPATCH:
		if (n == 0)
			diag_error(c->d, e->loc, "dispatch() needs at least one ring buffer");
		for (; a; a = a->next) {
			t = check_expr(c, a, NULL);
			if (!type_is_error(t) && type_unalias(t)->kind != TY_RINGBUF)
				diag_error(c->d, a->loc, "dispatch() only takes ring buffers, not %s",
					   type_str(c->a, t));
		}
		return type_int(c->a, 4, true);
	case BI_DAEMON:
		if (n != 0)
			diag_error(c->d, e->loc, "daemon() takes no arguments");
		return ty_basic(c, TY_VOID);
	case BI_EXEC:
		if ((t = check_exec(c, e, n)))
			return t;
		break;
	default:
		break;
	}
	for (a = e->args; a; a = a->next)
		if (!a->type)
			check_expr(c, a, NULL);
	return ty_error(c);
}

static struct type *check_rb_method(struct checker *c, struct expr *e, struct type *rb)
{
	const char *m = e->lhs->str;
	struct expr *a = e->args;
	int n = count_args(e);

	if (!strcmp(m, "reserve")) {
		if (c->ctx != TARGET_EBPF)
			diag_error(c->d, e->loc, "reserve() is only available in eBPF code");
		if (n)
			diag_error(c->d, e->loc, "reserve() takes no arguments");
		return type_ptr(c->a, rb->base);
	}
	if (!strcmp(m, "submit") || !strcmp(m, "discard")) {
		if (c->ctx != TARGET_EBPF)
			diag_error(c->d, e->loc, "%s() is only available in eBPF code", m);
		if (n != 1) {
			diag_error(c->d, e->loc, "%s() takes the reserved pointer", m);
			return type_int(c->a, 4, true);
		}
		check_value(c, a, type_ptr(c->a, rb->base), "argument");
		return type_int(c->a, 4, true);
	}
	if (!strcmp(m, "on_event")) {
		struct type *t;

		if (c->ctx != TARGET_USER)
			diag_error(c->d, e->loc, "on_event() is only available in userspace code");
		if (n != 1) {
			diag_error(c->d, e->loc, "on_event() takes a callback function");
			return type_int(c->a, 4, true);
		}
		t = type_unalias(check_expr(c, a, NULL));
		if (!type_is_error(t) &&
		    (t->kind != TY_FUNC || t->nparams != 1 ||
		     type_unalias(t->params[0])->kind != TY_PTR ||
		     !type_equal(type_unalias(t->params[0])->base, rb->base)))
			diag_error(c->d, a->loc, "on_event() needs a function taking *%s",
				   type_str(c->a, rb->base));
		else if (a->kind == E_IDENT && a->decl && a->decl->role != ROLE_USER)
			diag_error(c->d, a->loc, "the on_event() callback must be a userspace function");
		else if (!type_is_error(t) && !type_equal(t->base, type_int(c->a, 4, true)))
			/* The loader polls until a handler returns non-zero: its
			 * handlers are int (*)(T *), as libbpf's ring buffer callbacks. */
			diag_error(c->d, a->loc, "the on_event() callback must return i32 (non-zero "
				   "stops the polling), not %s", type_str(c->a, t->base));
		return type_int(c->a, 4, true);
	}
	diag_error(c->d, e->lhs->loc,
		   "ring buffers have reserve(), submit(), discard() and on_event(), not %s()", m);
	for (; a; a = a->next)
		check_expr(c, a, NULL);
	return ty_error(c);
}

/* m.fn(...) on an imported .ks module: its userspace functions. */
static struct type *check_import_call(struct checker *c, struct expr *e, struct decl *imp)
{
	const char *fname = e->lhs->str;
	struct decl *f = NULL;
	struct type *ft;

	if (c->ctx != TARGET_USER)
		diag_error(c->d, e->loc, "imported module functions can only be called from userspace");
	if (imp->imported) {
		for (struct decl *d = imp->imported->decls; decl_visit(d); d = d->next)
			if (d->kind == D_FUNC && d->role == ROLE_USER && !strcmp(d->name, fname))
				f = d;
	} else {
		/* Python modules are dynamic: any call goes, with any arguments. */
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return type_int(c->a, 8, true);
	}
	if (!f) {
		diag_error(c->d, e->lhs->loc, "module '%s' has no userspace function '%s'", imp->name,
			   fname);
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	ft = func_type(c, f);
	check_args(c, e, ft->params, ft->nparams, fname);
	return ft->base;
}

static void check_call_target(struct checker *c, struct expr *e, struct decl *f, bool tail)
{
	const char *n = f->name;

	switch (f->role) {
	case ROLE_PROG:
		if (c->ctx == TARGET_EBPF && tail && c->fn && c->fn->role == ROLE_PROG &&
		    c->fn->prog == f->prog) {
			e->is_tail_call = true;
			return;
		}
		diag_error(c->d, e->loc,
			   c->ctx == TARGET_USER ?
			   "program '%s' cannot be called directly; use load() and attach()" :
			   "program '%s' can only be tail-called as 'return %s(ctx)' from a program of the same type",
			   n, n);
		return;
	case ROLE_HELPER:
		if (c->ctx != TARGET_EBPF)
			diag_error(c->d, e->loc, "@helper function '%s' can only be called from eBPF code, not from %s",
				   n, ctx_name(c->ctx));
		return;
	case ROLE_KFUNC:
		if (c->ctx == TARGET_USER)
			f->called_from_user = true;
		return;
	case ROLE_PRIVATE:
		if (c->ctx != TARGET_KMOD)
			diag_error(c->d, e->loc,
				   "@private function '%s' can only be called from @kfunc and @private functions", n);
		return;
	case ROLE_TEST:
		diag_error(c->d, e->loc, "@test function '%s' cannot be called; the test runner calls it", n);
		return;
	case ROLE_METHOD:
		if (c->impl != f->impl)
			diag_error(c->d, e->loc, "struct_ops method '%s' cannot be called from outside its impl block", n);
		return;
	case ROLE_USER:
		if (c->ctx != TARGET_USER)
			diag_error(c->d, e->loc, "userspace function '%s' cannot be called from %s", n,
				   ctx_name(c->ctx));
		return;
	}
}

/*
 * TYPE.member(args) in module code, TYPE a struct_ops type the module
 * defines: calls the implementation attached from BPF, else the module's
 * default.  The call node's callee carries the type (decl) for codegen.
 */
static struct type *check_ops_call(struct checker *c, struct expr *e, struct decl *type)
{
	struct expr *callee = e->lhs;
	struct struct_field *f = struct_ops_member(type, callee->str);
	struct type *ft;

	if (c->ctx != TARGET_KMOD) {
		diag_error(c->d, e->loc,
			   "'%s.%s' calls the implementation attached to a module-defined struct_ops type: only module code (@kfunc, @private functions) can",
			   type->name, callee->str);
	} else if (!f) {
		diag_error(c->d, callee->loc, "struct_ops type '%s' has no function member '%s'",
			   type->name, callee->str);
	}
	if (c->ctx != TARGET_KMOD || !f) {
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	f->called = true;
	callee->decl = type;
	ft = type_unalias(f->ty);
	callee->type = ft;
	check_args(c, e, ft->params, ft->nparams, arena_printf(c->a, "%s.%s", type->name, f->name));
	return ft->base ? ft->base : ty_basic(c, TY_VOID);
}

struct type *check_call(struct checker *c, struct expr *e, bool tail)
{
	struct expr *callee = e->lhs;
	struct type *ft;

	if (callee->kind == E_IDENT && !find_local(c, callee->str)) {
		struct sym *s = sym_lookup(c->values, callee->str);

		if (s && s->kind == REF_BUILTIN) {
			callee->ref = REF_BUILTIN;
			return check_builtin_call(c, e, s->bi);
		}
	}
	if (callee->kind == E_FIELD) {
		struct expr *obj = callee->lhs;
		struct sym *s = obj->kind == E_IDENT && !find_local(c, obj->str) ?
				sym_lookup(c->values, obj->str) : NULL;

		if (s && s->kind == REF_IMPORT) {
			obj->ref = REF_IMPORT;
			obj->decl = s->decl;
			return check_import_call(c, e, s->decl);
		}
		if (!s && obj->kind == E_IDENT && !find_local(c, obj->str)) {
			struct sym *t = sym_lookup(c->types, obj->str);

			if (t && is_kmod_ops_type(t->decl))
				return check_ops_call(c, e, t->decl);
		}
		ft = type_unalias(check_expr(c, obj, NULL));
		if (ft->kind == TY_RINGBUF)
			return check_rb_method(c, e, ft);
		if (type_is_error(ft)) {
			for (struct expr *a = e->args; a; a = a->next)
				check_expr(c, a, NULL);
			return ty_error(c);
		}
	}
	ft = type_unalias(check_expr(c, callee, NULL));
	if (type_is_error(ft)) {
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	if (ft->kind != TY_FUNC) {
		diag_error(c->d, callee->loc, "%s is not a function", type_str(c->a, ft));
		return ty_error(c);
	}
	if (callee->kind == E_IDENT && callee->ref == REF_FUNC) {
		check_call_target(c, e, callee->decl, tail);
		record_call(c, callee->decl);
	} else if (callee->kind == E_IDENT && callee->ref == REF_EXTERN) {
		if (c->ctx == TARGET_USER)
			diag_error(c->d, e->loc, "extern kernel function '%s' cannot be called from userspace",
				   callee->str);
		/* A module links against exported kernel functions, never BPF-only ones. */
		else if (c->ctx == TARGET_KMOD && !strncmp(callee->str, "bpf_", 4))
			diag_error(c->d, e->loc,
				   "'%s' is a BPF helper or kfunc: kernel module code cannot call it",
				   callee->str);
		record_call(c, callee->decl);
	} else if (c->ctx == TARGET_EBPF) {
		diag_error(c->d, e->loc, "calls through function pointers are not possible in eBPF code");
	}
	check_args(c, e, ft->params, ft->nparams,
		   callee->kind == E_IDENT ? callee->str : "function");
	return ft->base ? ft->base : ty_basic(c, TY_VOID);
}
