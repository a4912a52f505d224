/* The module's C source: types, state, functions, kfunc sets, init/exit. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "cgen.h"
#include "kmodgen.h"
#include "kmodgen_internal.h"
#include "sema.h"
#include "types.h"

/* The struct_ops instance of a @kmod impl block: the file's name, or file_impl. */
const char *kmod_ops_name(struct cgen *g, struct decl *impl)
{
	if (!strcmp(impl->name, g->prog->ident))
		return impl->name;
	return arena_printf(g->a, "%s_%s", g->prog->ident, impl->name);
}

/* A method of a @kmod impl block, named after its instance (tcp_reno_ssthresh style). */
const char *kmod_method_name(struct cgen *g, struct decl *m)
{
	return arena_printf(g->a, "%s_%s", kmod_ops_name(g, m->impl), m->name);
}

/* ---- cgen hooks for kernel C ---- */

static const char *kernel_int(int size, bool is_signed)
{
	static const char *const u[] = { "u8", "u16", "u32", "u64" };
	static const char *const s[] = { "s8", "s16", "s32", "s64" };
	int i = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;

	return is_signed ? s[i] : u[i];
}

/* Kernel log lines end in a newline; add it unless the format has one. */
static void kernel_print(struct cgen *g, struct strbuf *sb, struct expr *call)
{
	cg_print_call(g, sb, "pr_info", call, CG_NL_IF_MISSING);
}

static const char *gfp_name(struct expr *flag)
{
	long long v;

	/* gfp_flag constants are symbolic: map them to the kernel's own flags. */
	if (flag && const_eval(flag, &v) && v == 1)
		return "GFP_KERNEL";
	return "GFP_ATOMIC";
}

/*
 * new T: zeroed memory.  Without an explicit flag GFP_ATOMIC, because a
 * kfunc runs in the context of the BPF program calling it (often softirq).
 */
static void kernel_new(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	sb_printf(sb, "kzalloc(sizeof(%s), %s)", cg_type(g, e->ty), gfp_name(e->lhs));
}

static void kernel_delete(struct cgen *g, struct stmt *s)
{
	cg_line(g, "kfree(%s);", cg_expr_str(g, s->lhs));
}

static void kernel_str_assign(struct cgen *g, const char *dst, struct type *dt, struct expr *src)
{
	if (src->kind == E_BINARY && src->op == OP_ADD) {
		cg_line(g, "snprintf(%s, sizeof(%s), \"%%s%%s\", %s, %s);", dst, dst,
			cg_expr_str(g, src->lhs), cg_expr_str(g, src->rhs));
		return;
	}
	cg_line(g, "strscpy(%s, %s, sizeof(%s));", dst, cg_expr_str(g, src), dst);
}

static bool kernel_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct type *lt;

	if (kmod_state_read(g, sb, e))
		return true;
	/* String comparison: == and != on str values compare contents. */
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE)) {
		lt = type_unalias(e->lhs->type);
		if (lt && lt->kind == TY_STR) {
			sb_printf(sb, "%sstrcmp(", e->op == OP_EQ ? "!" : "");
			cg_expr(g, sb, e->lhs);
			sb_puts(sb, ", ");
			cg_expr(g, sb, e->rhs);
			sb_putc(sb, ')');
			return true;
		}
	}
	return false;
}

static bool kernel_call(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (e->lhs->kind == E_IDENT && e->lhs->ref == REF_BUILTIN && e->builtin == BI_PRINT) {
		kernel_print(g, sb, e);
		return true;
	}
	return kmod_ops_call(g, sb, e);
}

/* A struct_ops type the module defines is written with the rest of its machinery. */
static bool kernel_want_type(struct cgen *g, struct decl *d)
{
	return !is_kmod_ops_type(d);
}

/*
 * Module-private functions and state carry the module's name, so they
 * cannot collide with kernel macros (a @private fn clamp would meet
 * <linux/minmax.h>'s clamp()).  kfuncs keep their names: they are the API.
 */
static const char *kernel_global_name(struct cgen *g, struct decl *d)
{
	if (d->kind == D_FUNC && d->role == ROLE_METHOD && d->impl)
		return kmod_method_name(g, d);
	if (d->target == TARGET_KMOD && !(d->kind == D_FUNC && d->role == ROLE_KFUNC))
		return arena_printf(g->a, "%s_%s", g->prog->ident, d->name);
	return d->name;
}

static const struct cg_hooks kernel_hooks = {
	.want_type = kernel_want_type,
	.global_name = kernel_global_name,
	.int_name = kernel_int,
	.print = kernel_print,
	.new_obj = kernel_new,
	.delete_ptr = kernel_delete,
	.str_assign = kernel_str_assign,
	.call = kernel_call,
	.expr = kernel_expr,
	.stmt = kmod_state_assign,
	.maybe_unused = " __maybe_unused",
};

/* ---- which declarations the module needs ---- */

static bool is_module_fn(const struct decl *d)
{
	return d->kind == D_FUNC && d->target == TARGET_KMOD && !d->kmod_unused;
}

static void emit_functions(struct cgen *g)
{
	bool kfuncs = false;

	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		kfuncs |= is_module_fn(d) && d->role == ROLE_KFUNC;
	if (kfuncs) {
		cg_line(g, "__ksc_kfunc_start_defs();");
		cg_blank(g);
	}
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		if (!is_module_fn(d))
			continue;
		if (d->role == ROLE_KFUNC)
			cg_line(g, "__bpf_kfunc %s", cg_prototype(g, d, d->name));
		else
			cg_line(g, "static %s", cg_prototype(g, d, cg_global_name(g, d)));
		cg_function_body(g, d);
		cg_blank(g);
	}
	if (kfuncs) {
		cg_line(g, "__ksc_kfunc_end_defs();");
		cg_blank(g);
	}
}

/* ---- kfunc sets and registration ---- */

static const struct {
	const char *suffix;       /* set name suffix */
	const char *prog_type;    /* BPF_PROG_TYPE_* passed to register_btf_kfunc_id_set */
	const char *have;         /* compat macro: the kernel has this hook, or NULL */
	const char *what;         /* for messages */
} hooks[KF_HOOK_COUNT] = {
	[KF_HOOK_XDP] = { "xdp", "BPF_PROG_TYPE_XDP", NULL, "XDP" },
	[KF_HOOK_TC] = { "tc", "BPF_PROG_TYPE_SCHED_CLS", NULL, "TC" },
	[KF_HOOK_TRACING] = { "tracing", "BPF_PROG_TYPE_TRACING", NULL, "fentry" },
	[KF_HOOK_KPROBE] = { "kprobe", "BPF_PROG_TYPE_KPROBE", "KSC_HAVE_KPROBE_KFUNCS", "kprobe" },
	[KF_HOOK_TRACEPOINT] = { "tracing", "BPF_PROG_TYPE_TRACING", "KSC_HAVE_TRACEPOINT_KFUNCS",
				 "tracepoint" },
	[KF_HOOK_PERF_EVENT] = { "tracing", "BPF_PROG_TYPE_TRACING", "KSC_HAVE_PERF_EVENT_KFUNCS",
				 "perf_event" },
	[KF_HOOK_STRUCT_OPS] = { "struct_ops", "BPF_PROG_TYPE_STRUCT_OPS", NULL, "struct_ops" },
	[KF_HOOK_SYSCALL] = { "syscall", "BPF_PROG_TYPE_SYSCALL", NULL, "syscall" },
};

unsigned kmodgen_hooks(const struct decl *fn)
{
	static const enum kf_hook of_prog[] = {
		[PROG_XDP] = KF_HOOK_XDP, [PROG_TC] = KF_HOOK_TC, [PROG_PROBE] = KF_HOOK_TRACING,
		[PROG_KPROBE] = KF_HOOK_KPROBE, [PROG_TRACEPOINT] = KF_HOOK_TRACEPOINT,
		[PROG_PERF_EVENT] = KF_HOOK_PERF_EVENT, [PROG_STRUCT_OPS] = KF_HOOK_STRUCT_OPS,
	};
	unsigned m = 0;

	for (int p = PROG_XDP; p <= PROG_STRUCT_OPS; p++)
		if (fn->prog_users & (1u << p))
			m |= 1u << of_prog[p];
	/* Called from userspace, or by nobody here: offered to syscall programs (ksc call). */
	if (fn->called_from_user || !m)
		m |= 1u << KF_HOOK_SYSCALL;
	return m;
}

static bool is_kernel_object_ptr(const struct type *t)
{
	t = type_unalias((struct type *)t);
	if (!t || t->kind != TY_PTR)
		return false;
	t = type_unalias(t->base);
	return t->kind == TY_STRUCT && t->decl->from_btf;
}

/* KF_* flags: from @kfunc(...), plus KF_TRUSTED_ARGS for kernel object pointers. */
static const char *kfunc_flags(struct cgen *g, struct decl *fn)
{
	static const struct { const char *word, *flag; } map[] = {
		{ "acquire", "KF_ACQUIRE" }, { "release", "KF_RELEASE" },
		{ "ret_null", "KF_RET_NULL" }, { "trusted_args", "KF_TRUSTED_ARGS" },
		{ "sleepable", "KF_SLEEPABLE" }, { "destructive", "KF_DESTRUCTIVE" },
	};
	bool on[ARRAY_SIZE(map)] = { false };
	struct strbuf sb;
	const char *r;
	char *s;

	for (const struct attr *a = fn->attrs; a; a = a->next)
		if (!strcmp(a->name, "kfunc"))
			for (const struct attr_arg *arg = a->args; arg; arg = arg->next)
				for (size_t i = 0; i < ARRAY_SIZE(map); i++)
					on[i] |= arg->name && !strcmp(arg->name, map[i].word);
	for (struct param *p = fn->params; p; p = p->next)
		on[3] |= is_kernel_object_ptr(p->ty);
	sb_init(&sb);
	for (size_t i = 0; i < ARRAY_SIZE(map); i++) {
		if (!on[i])
			continue;
		sb_printf(&sb, "%s%s", sb.len ? " | " : "", map[i].flag);
	}
	s = sb_detach(&sb);
	r = *s ? arena_strdup(g->a, s) : NULL;
	free(s);
	return r;
}

static const char *set_name(struct cgen *g, enum kf_hook h)
{
	return arena_printf(g->a, "%s_%s_kfunc_ids", g->prog->ident, hooks[h].suffix);
}

/* The hooks whose sets the generated code declares, tracing ones merged. */
static unsigned used_sets(struct program *prog)
{
	unsigned m = 0;

	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (is_module_fn(d) && d->role == ROLE_KFUNC)
			m |= kmodgen_hooks(d);
	return m;
}

static void emit_set(struct cgen *g, enum kf_hook set_hook, unsigned members_of)
{
	const char *name = set_name(g, set_hook);

	cg_line(g, "KSC_KFUNCS_START(%s)", name);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		unsigned m;
		const char *flags, *entry;

		if (!is_module_fn(d) || d->role != ROLE_KFUNC)
			continue;
		m = kmodgen_hooks(d) & members_of;
		if (!m)
			continue;
		flags = kfunc_flags(g, d);
		entry = flags ? arena_printf(g->a, "BTF_ID_FLAGS(func, %s, %s)", d->name, flags) :
				arena_printf(g->a, "BTF_ID_FLAGS(func, %s)", d->name);
		/* Tracepoint and perf_event users count only where their hook is TRACING. */
		if (set_hook == KF_HOOK_TRACING && !(m & (1u << KF_HOOK_TRACING))) {
			bool tp = m & (1u << KF_HOOK_TRACEPOINT), pe = m & (1u << KF_HOOK_PERF_EVENT);

			cg_block(g, "\
				#if %s%s%s\n\
				%s\n\
				#endif\n", tp ? "KSC_HAVE_TRACEPOINT_KFUNCS" : "", tp && pe ? " || " : "",
				 pe ? "KSC_HAVE_PERF_EVENT_KFUNCS" : "", entry);
			continue;
		}
		cg_line(g, "%s", entry);
	}
	cg_block(g, "\
		KSC_KFUNCS_END(%s)\n\
		\n\
		static const struct btf_kfunc_id_set %s_%s_kfunc_set = {\n\
			.owner = THIS_MODULE,\n\
			.set = &%s,\n\
		};\n\
		\n", name, g->prog->ident, hooks[set_hook].suffix, name);
}

/* Sets emitted, as (hook, membership mask) in registration order. */
static int plan_sets(unsigned used, enum kf_hook *order, unsigned *members)
{
	int n = 0;
	unsigned tracing = (1u << KF_HOOK_TRACING) | (1u << KF_HOOK_TRACEPOINT) |
			   (1u << KF_HOOK_PERF_EVENT);

	for (int h = 0; h < KF_HOOK_COUNT; h++) {
		if (!(used & (1u << h)))
			continue;
		if (h == KF_HOOK_TRACEPOINT || h == KF_HOOK_PERF_EVENT)
			continue;
		order[n] = (enum kf_hook)h;
		members[n++] = h == KF_HOOK_TRACING ? tracing : 1u << h;
	}
	/* Tracepoint/perf_event users alone still need the tracing set. */
	if ((used & tracing) && !(used & (1u << KF_HOOK_TRACING))) {
		order[n] = KF_HOOK_TRACING;
		members[n++] = tracing;
	}
	return n;
}

static void emit_hook_guards(struct cgen *g, unsigned used)
{
	static const enum kf_hook guarded[] = { KF_HOOK_KPROBE, KF_HOOK_TRACEPOINT,
						KF_HOOK_PERF_EVENT };

	for (size_t i = 0; i < ARRAY_SIZE(guarded); i++) {
		enum kf_hook h = guarded[i];

		if (!(used & (1u << h)))
			continue;
		cg_block(g, "\
			#if !%s\n\
			#error \"this kernel has no kfunc hook for %s programs; %s.ks calls kfuncs from one\"\n\
			#endif\n", hooks[h].have, hooks[h].what, g->prog->base);
	}
}

/* Module init: the kfunc sets, then the struct_ops types and instances. */
static void emit_init(struct cgen *g, const char *init, const enum kf_hook *order, int n)
{
	bool ops = kmod_has_struct_ops(g->prog), types = kmod_has_ops_types(g->prog);

	cg_line(g, "static int __init %s(void)", init);
	cg_open(g, "{");
	if (n || ops || types) {
		cg_line(g, "int err;");
		cg_blank(g);
	}
	/*
	 * One set per kernel hook: a second registration on the same hook would
	 * fail and drop the module's earlier ones.  A failure fails the load;
	 * the kernel frees what was registered when the module goes away.
	 */
	for (int i = 0; i < n; i++)
		cg_block(g, "\
			err = register_btf_kfunc_id_set(%s, &%s_%s_kfunc_set);\n\
			if (err) {\n\
				pr_err(\"cannot register kfuncs for %s programs: %%d\\n\", err);\n\
				return err;\n\
			}\n", hooks[order[i]].prog_type, g->prog->ident, hooks[order[i]].suffix,
			 hooks[order[i]].what);
	/* struct_ops types cannot be unregistered either: they go with the module's BTF. */
	if (types)
		kmod_emit_ops_type_register(g);
	/*
	 * Struct_ops instances last, as tcp_bbr does: they are what lets
	 * sockets into the module, and kfunc sets cannot be unregistered.
	 */
	if (ops)
		kmod_emit_struct_ops_register(g);
	else
		cg_line(g, "return 0;");
	cg_close(g, "}");
	cg_blank(g);
}

static void emit_registration(struct cgen *g)
{
	enum kf_hook order[KF_HOOK_COUNT];
	unsigned members[KF_HOOK_COUNT], used = used_sets(g->prog);
	int n = plan_sets(used, order, members);
	const char *base = g->prog->ident;
	bool ops = kmod_has_struct_ops(g->prog), types = kmod_has_ops_types(g->prog);
	/* Congestion control modules call theirs register/unregister, as the kernel's do. */
	const char *init = arena_printf(g->a, "%s_%s", base, ops ? "register" : "init");
	const char *exit = arena_printf(g->a, "%s_%s", base, ops ? "unregister" : "exit");
	const char *what = ops ? (n ? "Congestion control and kfuncs" : "Congestion control") :
			   types ? (n ? "struct_ops types and kfuncs" : "struct_ops types") : "kfuncs";

	emit_hook_guards(g, used);
	if (used & ((1u << KF_HOOK_KPROBE) | (1u << KF_HOOK_TRACEPOINT) | (1u << KF_HOOK_PERF_EVENT)))
		cg_blank(g);
	for (int i = 0; i < n; i++)
		emit_set(g, order[i], members[i]);
	emit_init(g, init, order, n);
	/* kfunc sets have no unregister call: the kernel drops them with the module. */
	cg_line(g, "static void __exit %s(void)", exit);
	cg_open(g, "{");
	if (ops)
		kmod_emit_struct_ops_unregister(g);
	cg_close(g, "}");
	cg_block(g, "\
		\n\
		module_init(%s);\n\
		module_exit(%s);\n\
		\n\
		MODULE_LICENSE(\"GPL\");\n\
		MODULE_DESCRIPTION(\"%s of %s.ks, built by ksc\");\n", init, exit, what, g->prog->base);
}

static void emit_includes(struct cgen *g)
{
	static const char *const base[] = { "bpf", "btf", "btf_ids", "init", "kernel", "module",
					    "rcupdate", "slab", "spinlock", "string" };
	bool types = kmod_has_ops_types(g->prog);

	if (kmod_state_uses_atomics(g->prog))
		cg_line(g, "#include <linux/atomic.h>");
	for (size_t i = 0; i < ARRAY_SIZE(base); i++) {
		/* RCU and the lock keep the attached implementation of a struct_ops type. */
		if (!types && (!strcmp(base[i], "rcupdate") || !strcmp(base[i], "spinlock")))
			continue;
		cg_line(g, "#include <linux/%s.h>", base[i]);
	}
	if (kmod_has_struct_ops(g->prog))
		cg_line(g, "#include <net/tcp.h>");
	cg_blank(g);
}

int kmod_write_c(struct program *prog, const char *path)
{
	struct kmod_backend kb = { 0 };
	struct strbuf out;
	struct cgen g;
	int err = 0;

	sb_init(&out);
	cg_init(&g, prog->arena, prog, &out, &kernel_hooks);
	g.backend = &kb;
	kmod_mark_unused(prog);
	kmod_state_scan(prog);
	cg_block(&g, "\
		// SPDX-License-Identifier: GPL-2.0\n\
		/* Generated by ksc from %s.ks: edit that file, not this one. */\n\
		\n\
		#define pr_fmt(fmt) KBUILD_MODNAME \": \" fmt\n\
		\n", prog->base);
	emit_includes(&g);
	cg_block(&g, "\
		#include \"ksc_compat.h\"\n\
		\n");
	kmod_emit_ops_type_guard(&g);
	cg_emit_user_types(&g);
	kmod_emit_state(&g);
	kmod_emit_ops_type_decls(&g);
	emit_functions(&g);
	if (kmod_emit_struct_ops(&g))
		err = -EINVAL;
	else
		emit_registration(&g);
	if (!err) {
		err = write_file_reported(path, out.buf, out.len);
	}
	sb_free(&out);
	return err;
}
