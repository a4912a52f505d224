/*
 * struct_ops types the module defines (Linux 6.9+): `@struct_ops("T") @kmod
 * struct T { member: fn(...) -> R }` with a `@kmod` impl block of T as its
 * default implementation.  The module registers T with
 * register_bpf_struct_ops(), as the kernel's bpf_testmod does, so BPF
 * programs can implement it; reg/unreg keep the one implementation attached
 * (RCU-published), and `T.member(args)` in module code calls it, or the
 * default when none is attached or it leaves the member out.
 */
#include <string.h>

#include "kmodgen_internal.h"
#include "sema.h"
#include "types.h"

bool kmod_has_ops_types(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (is_kmod_ops_type(d))
			return true;
	return false;
}

static struct decl *default_impl(struct program *prog, struct decl *type)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_IMPL && d->target == TARGET_KMOD && d->struct_ops &&
		    !strcmp(d->struct_ops, type->name))
			return d;
	return NULL;
}

static struct type *member_fn(struct struct_field *f)
{
	return type_unalias(f->ty);
}

static const char *ret_type(struct cgen *g, struct type *fn)
{
	return fn->base && !type_is_void(fn->base) ? cg_type(g, fn->base) : "void";
}

/* A member's parameter name: as the .ks declaration wrote it, else argN. */
static const char *param_name(struct cgen *g, struct type *fn, int i)
{
	if (fn->param_names && fn->param_names[i])
		return fn->param_names[i];
	return arena_printf(g->a, "arg%d", i);
}

/* "(u32 x, u64 y)" with the type's names, or the given method's parameter names. */
static const char *param_list(struct cgen *g, struct type *fn, struct decl *m)
{
	struct strbuf sb;
	struct param *p = m ? m->params : NULL;
	const char *r;

	sb_init(&sb);
	sb_putc(&sb, '(');
	for (int i = 0; i < fn->nparams; i++, p = p ? p->next : NULL)
		sb_printf(&sb, "%s%s", i ? ", " : "",
			  cg_decl(g, fn->params[i], p ? p->name : param_name(g, fn, i)));
	sb_puts(&sb, fn->nparams ? ")" : "void)");
	r = arena_strdup(g->a, sb.buf);
	sb_free(&sb);
	return r;
}

/* "RET NAME(PARAMS)", with a space unless RET ends in '*'. */
static const char *fn_head(struct cgen *g, struct type *fn, const char *name, struct decl *m)
{
	const char *ret = ret_type(g, fn);

	return arena_printf(g->a, "%s%s%s%s", ret, ret[strlen(ret) - 1] == '*' ? "" : " ", name,
			    param_list(g, fn, m));
}

/* The arguments of a call forwarding the dispatcher's own parameters. */
static const char *arg_names(struct cgen *g, struct type *fn)
{
	struct strbuf sb;
	const char *r;

	sb_init(&sb);
	for (int i = 0; i < fn->nparams; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", param_name(g, fn, i));
	r = arena_strdup(g->a, sb.buf);
	sb_free(&sb);
	return r;
}

static const char *dispatcher_name(struct cgen *g, struct decl *type, struct struct_field *f)
{
	return arena_printf(g->a, "%s_call_%s", type->name, f->name);
}

bool kmod_ops_call(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct expr *callee = e->lhs;

	if (callee->kind != E_FIELD || !is_kmod_ops_type(callee->decl))
		return false;
	sb_printf(sb, "%s(", arena_printf(g->a, "%s_call_%s", callee->decl->name, callee->str));
	for (struct expr *a = e->args; a; a = a->next) {
		cg_expr(g, sb, a);
		if (a->next)
			sb_puts(sb, ", ");
	}
	sb_putc(sb, ')');
	return true;
}

/* ---- before the module's functions: the type, its attached pointer, the dispatchers ---- */

static void emit_type_decls(struct cgen *g, struct decl *type)
{
	bool called = false;

	cg_open(g, "struct %s {", type->name);
	for (struct struct_field *f = type->fields; f; f = f->next)
		cg_line(g, "%s (*%s)%s;", ret_type(g, member_fn(f)), f->name,
			param_list(g, member_fn(f), NULL));
	cg_close(g, "};");
	cg_block(g, "\
		\n\
		/* The implementation BPF attached, if any; readers hold rcu_read_lock(). */\n\
		static struct %s __rcu *%s_attached;\n\
		static DEFINE_SPINLOCK(%s_lock);\n\
		\n", type->name, type->name, type->name);
	/* Module functions call them; they call the default implementation, defined later. */
	for (struct struct_field *f = type->fields; f; f = f->next) {
		if (!f->called)
			continue;
		cg_line(g, "static %s;", fn_head(g, member_fn(f), dispatcher_name(g, type, f), NULL));
		called = true;
	}
	if (called)
		cg_blank(g);
}

void kmod_emit_ops_type_decls(struct cgen *g)
{
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (is_kmod_ops_type(d))
			emit_type_decls(g, d);
}

/* ---- after the module's functions ---- */

static struct decl *find_method(struct decl *impl, const char *name)
{
	for (struct decl *m = impl->methods; m; m = m->next)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/* The default implementation: its methods with the type's prototypes, and its instance. */
static void emit_default(struct cgen *g, struct decl *type, struct decl *impl)
{
	for (struct decl *m = impl->methods; m; m = m->next) {
		struct struct_field *f = struct_ops_member(type, m->name);

		cg_line(g, "static %s", fn_head(g, member_fn(f), kmod_method_name(g, m), m));
		cg_function_body(g, m);
		cg_blank(g);
	}
	cg_open(g, "static const struct %s %s = {", type->name, kmod_ops_name(g, impl));
	for (struct decl *m = impl->methods; m; m = m->next)
		cg_line(g, ".%s = %s,", m->name, kmod_method_name(g, m));
	cg_close(g, "};");
	cg_blank(g);
}

static void emit_dispatcher(struct cgen *g, struct decl *type, struct decl *impl,
			    struct struct_field *f)
{
	struct type *fn = member_fn(f);
	bool ret = strcmp(ret_type(g, fn), "void");

	cg_line(g, "/* %s.%s(): the implementation attached from BPF, else the module's own. */",
		type->name, f->name);
	cg_line(g, "static %s", fn_head(g, fn, dispatcher_name(g, type, f), NULL));
	cg_open(g, "{");
	cg_line(g, "const struct %s *ops;", type->name);
	if (ret)
		cg_line(g, "%s;", cg_decl(g, fn->base, "ret"));
	cg_block(g, "\
		\n\
		rcu_read_lock();\n\
		ops = rcu_dereference(%s_attached);\n\
		if (!ops || !ops->%s)\n\
			ops = &%s;\n\
		%sops->%s(%s);\n\
		rcu_read_unlock();\n", type->name, f->name, kmod_ops_name(g, impl),
		 ret ? "ret = " : "", f->name, arg_names(g, fn));
	if (ret)
		cg_line(g, "return ret;");
	cg_close(g, "}");
	cg_blank(g);
}

/*
 * The kernel needs a stub of every member (cfi_stubs): its address gives
 * the trampoline its CFI type, and its BTF name, T__member, is where the
 * kernel looks for argument tags.
 */
static void emit_stubs(struct cgen *g, struct decl *type)
{
	for (struct struct_field *f = type->fields; f; f = f->next) {
		struct type *fn = member_fn(f);

		cg_line(g, "static %s",
			fn_head(g, fn, arena_printf(g->a, "%s__%s", type->name, f->name), NULL));
		cg_open(g, "{");
		if (strcmp(ret_type(g, fn), "void"))
			cg_line(g, "return 0;");
		cg_close(g, "}");
		cg_blank(g);
	}
	cg_open(g, "static struct %s __bpf_ops_%s = {", type->name, type->name);
	for (struct struct_field *f = type->fields; f; f = f->next)
		cg_line(g, ".%s = %s__%s,", f->name, type->name, f->name);
	cg_close(g, "};");
	cg_blank(g);
}

/* Tabs and spaces that bring a continuation line to column col, as the kernel aligns them. */
static const char *align_to(struct cgen *g, size_t col)
{
	return arena_printf(g->a, "%.*s%*s", (int)(col / 8), "\t\t\t\t\t\t\t\t\t\t\t\t",
			    (int)(col % 8), "");
}

/*
 * "static RET NAME(FIRST," then each further parameter on a line of its
 * own, aligned under FIRST; more is NULL-terminated.  One string, for a
 * template's "%s" line.
 */
static const char *wrapped_head(struct cgen *g, const char *head, const char *const *more)
{
	const char *pad = align_to(g, strcspn(head, "(") + 1), *r;
	struct strbuf sb;

	sb_init(&sb);
	sb_puts(&sb, head);
	for (; *more; more++)
		sb_printf(&sb, "\n%s%s", pad, *more);
	r = arena_strdup(g->a, sb.buf);
	sb_free(&sb);
	return r;
}

/* Verifier callbacks: arguments read through BTF, as tracing programs read theirs. */
static void emit_verifier_ops(struct cgen *g, const char *t)
{
	static const char *const access_args[] = { "const struct bpf_prog *prog,",
						   "struct bpf_insn_access_aux *info)", NULL };
	const char *head = wrapped_head(g, arena_printf(g->a,
		"static bool %s_is_valid_access(int off, int size, enum bpf_access_type type,", t),
		access_args);

	cg_block(g, "\
		%s\n\
		{\n\
			return bpf_tracing_btf_ctx_access(off, size, type, prog, info);\n\
		}\n\
		\n\
		static const struct bpf_verifier_ops %s_verifier_ops = {\n\
			.is_valid_access = %s_is_valid_access,\n\
			.get_func_proto = bpf_base_func_proto,\n\
		};\n\
		\n", head, t, t);
}

/* reg and unreg take the attaching link from 6.11 on. */
static void emit_reg_head(struct cgen *g, const char *head)
{
	cg_block(g, "\
		#if KSC_STRUCT_OPS_REG_LINK\n\
		%s(void *kdata, struct bpf_link *link)\n\
		#else\n\
		%s(void *kdata)\n\
		#endif\n", head, head);
}

/* reg and unreg: the attached implementation, set and cleared under the type's lock. */
static void emit_reg_unreg(struct cgen *g, const char *t)
{
	cg_line(g, "/* One implementation at a time: a second one is refused until the first goes. */");
	emit_reg_head(g, arena_printf(g->a, "static int %s_reg", t));
	cg_block(g, "\
		{\n\
			int err = 0;\n\
			\n\
			spin_lock(&%s_lock);\n\
			if (rcu_access_pointer(%s_attached))\n\
				err = -EEXIST;\n\
			else\n\
				rcu_assign_pointer(%s_attached, kdata);\n\
			spin_unlock(&%s_lock);\n\
			return err;\n\
		}\n\
		\n\
		/*\n\
		 * The kernel frees the implementation only after an RCU grace period, so\n\
		 * callers still inside one finish with it safely.\n\
		 */\n", t, t, t, t);
	emit_reg_head(g, arena_printf(g->a, "static void %s_unreg", t));
	cg_block(g, "\
		{\n\
			spin_lock(&%s_lock);\n\
			if (rcu_access_pointer(%s_attached) == kdata)\n\
				RCU_INIT_POINTER(%s_attached, NULL);\n\
			spin_unlock(&%s_lock);\n\
		}\n\
		\n", t, t, t, t);
}

static void emit_callbacks(struct cgen *g, const char *t)
{
	static const char *const init_member_args[] = { "void *kdata, const void *udata)", NULL };
	static const char *const check_member_args[] = { "const struct bpf_prog *prog)", NULL };
	const char *init_member = wrapped_head(g, arena_printf(g->a,
		"static int %s_init_member(const struct btf_type *t, const struct btf_member *member,", t),
		init_member_args);
	const char *check_member = wrapped_head(g, arena_printf(g->a,
		"static int %s_check_member(const struct btf_type *t, const struct btf_member *member,", t),
		check_member_args);

	/* init_member does nothing: every member is a function, which the kernel fills in. */
	cg_block(g, "\
		static int %s_init(struct btf *btf)\n\
		{\n\
			return 0;\n\
		}\n\
		\n\
		%s\n\
		{\n\
			return 0;\n\
		}\n\
		\n\
		/* Members are called under rcu_read_lock(): no sleepable programs. */\n\
		%s\n\
		{\n\
			return ksc_prog_sleepable(prog) ? -EINVAL : 0;\n\
		}\n\
		\n", t, init_member, check_member);
	emit_reg_unreg(g, t);
}

static void emit_bpf_struct_ops(struct cgen *g, const char *t)
{
	emit_verifier_ops(g, t);
	emit_callbacks(g, t);
	cg_block(g, "\
		static struct bpf_struct_ops bpf_%s = {\n\
			.verifier_ops = &%s_verifier_ops,\n\
			.init = %s_init,\n\
			.init_member = %s_init_member,\n\
			.check_member = %s_check_member,\n\
			.reg = %s_reg,\n\
			.unreg = %s_unreg,\n\
			.cfi_stubs = &__bpf_ops_%s,\n\
			.name = \"%s\",\n\
			.owner = THIS_MODULE,\n\
		};\n\
		\n", t, t, t, t, t, t, t, t, t);
}

void kmod_emit_ops_types(struct cgen *g)
{
	for (struct decl *type = g->prog->decls; decl_visit(type); type = type->next) {
		struct decl *impl;

		if (!is_kmod_ops_type(type) || !(impl = default_impl(g->prog, type)))
			continue;
		emit_default(g, type, impl);
		for (struct struct_field *f = type->fields; f; f = f->next)
			if (f->called && find_method(impl, f->name))
				emit_dispatcher(g, type, impl, f);
		emit_stubs(g, type);
		emit_bpf_struct_ops(g, type->name);
	}
}

void kmod_emit_ops_type_register(struct cgen *g)
{
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		if (!is_kmod_ops_type(d))
			continue;
		cg_block(g, "\
			err = register_bpf_struct_ops(&bpf_%s, %s);\n\
			if (err) {\n\
				pr_err(\"cannot register struct_ops type %s: %%d\\n\", err);\n\
				return err;\n\
			}\n", d->name, d->name, d->name);
	}
}

/* Before any of it: kernels before 6.9 have no register_bpf_struct_ops(). */
void kmod_emit_ops_type_guard(struct cgen *g)
{
	if (!kmod_has_ops_types(g->prog))
		return;
	cg_block(g, "\
		#if !KSC_HAVE_STRUCT_OPS_TYPES\n\
		#error \"modules define struct_ops types from Linux 6.9 on (register_bpf_struct_ops); %s.ks defines one\"\n\
		#endif\n\
		\n", g->prog->base);
}
