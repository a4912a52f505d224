/*
 * Functions of the eBPF object: programs in their sections, helpers,
 * struct_ops methods and variables, kfunc trampolines for userspace, and
 * the prog_array of tail calls.
 */
#include "ebpf_internal.h"

#include <stdlib.h>
#include <string.h>

#include "btf_types.h"
#include "ebpf_abi.h"
#include "sema.h"
#include "types.h"

/* ---- functions ---- */

static const char *prog_section(struct cgen *g, struct decl *fn)
{
	switch (fn->prog) {
	case PROG_XDP:
		return "xdp";
	case PROG_TC:
		/* Plain "tc" loads with every libbpf; the direction is chosen at attach time. */
		return "tc";
	case PROG_PROBE:
		return arena_printf(g->a, "fentry/%s", fn->attach_target);
	case PROG_KPROBE:
		return arena_printf(g->a, "kprobe/%s", fn->attach_target);
	case PROG_TRACEPOINT:
		return arena_printf(g->a, "tracepoint/%s", fn->attach_target);
	case PROG_PERF_EVENT:
		return "perf_event";
	default:
		return "?";
	}
}

/* The C prototype of a program function, as its SEC definition has it. */
static const char *prog_prototype(struct cgen *g, struct decl *fn)
{
	switch (fn->prog) {
	case PROG_PROBE:
		return arena_printf(g->a, "int %s(unsigned long long *ctx)",
				    eb_obj_cname(g, fn->name));
	case PROG_KPROBE:
		return arena_printf(g->a, "int %s(struct pt_regs *ctx)", eb_obj_cname(g, fn->name));
	default:
		return arena_printf(g->a, "int %s(%s)", eb_obj_cname(g, fn->name),
				    cg_decl(g, fn->params->ty, fn->params->name));
	}
}

/* "type a, type b" for BPF_PROG-style macros: the parameters as a C list. */
static const char *param_list(struct cgen *g, struct decl *fn, bool with_types)
{
	struct strbuf sb;
	char *s;
	const char *r;

	sb_init(&sb);
	for (struct param *p = fn->params; p; p = p->next) {
		sb_printf(&sb, ", %s", with_types ? cg_decl(g, p->ty, p->name) : p->name);
	}
	s = sb_detach(&sb);
	r = arena_strdup(g->a, s);
	free(s);
	return r;
}

/*
 * Functions are emitted one after the other; the bpf_loop callbacks a
 * function needs go right before it.
 */
static size_t fn_begin(struct cgen *g)
{
	return g->out->len;
}

static void fn_end(struct cgen *g, size_t start)
{
	struct ebpf *eb = EB(g);
	char *fn;
	size_t n;

	if (!eb->pending.len)
		return;
	n = g->out->len - start;
	fn = malloc(n + 1);
	if (!fn)
		abort();
	memcpy(fn, g->out->buf + start, n);
	g->out->len = start;
	sb_putn(g->out, eb->pending.buf, eb->pending.len);
	sb_putn(g->out, fn, n);
	free(fn);
	sb_free(&eb->pending);
	sb_init(&eb->pending);
}

static void emit_program(struct cgen *g, struct decl *fn)
{
	const char *ret = fn->ret && !type_is_void(fn->ret) ? "int" : "void";
	const char *name = eb_obj_cname(g, fn->name);
	size_t start = fn_begin(g), body;

	/* The label goes on a declaration: C takes none on a definition. */
	if (*eb_asm_label(g, fn->name))
		cg_line(g, "%s%s;", prog_prototype(g, fn), eb_asm_label(g, fn->name));
	cg_line(g, "SEC(\"%s\")", prog_section(g, fn));
	cg_line_map(g, fn->name_loc);
	switch (fn->prog) {
	case PROG_PROBE:
		cg_line(g, "int BPF_PROG(%s%s)", name, param_list(g, fn, true));
		break;
	case PROG_KPROBE:
		cg_line(g, "int BPF_KPROBE(%s%s)", name, param_list(g, fn, true));
		break;
	default:
		cg_line(g, "%s %s(%s)", ret, name, cg_decl(g, fn->params->ty, fn->params->name));
		break;
	}
	body = g->out->len;
	EB(g)->pkt_prog = fn->prog == PROG_XDP || fn->prog == PROG_TC;
	cg_function_body(g, fn);
	EB(g)->pkt_prog = false;
	eb_declare_pkt_locals(g, fn, body);
	cg_line_reset(g);
	cg_blank(g);
	fn_end(g, start);
}

/*
 * A struct_ops method: its body as a plain inline function (so other
 * methods can call it), and the program itself unpacking its arguments
 * from the context with BPF_PROG.
 */
static void emit_method(struct cgen *g, struct decl *impl, struct decl *m)
{
	/*
	 * Both C names carry the impl's name, so a member named like a C
	 * library function (sched_ext_ops.exit) needs no renaming, and the
	 * section keeps the member's own name.
	 */
	const char *body = arena_printf(g->a, "%s_%s_body", impl->name, m->name);
	const char *ret = m->ret && !type_is_void(m->ret) ? cg_type(g, m->ret) : "void";
	const char *args = param_list(g, m, false);
	size_t start = fn_begin(g);

	cg_line_map(g, m->name_loc);
	cg_line(g, "static __always_inline %s", cg_prototype(g, m, body));
	cg_function_body(g, m);
	cg_line_reset(g);
	cg_blank(g);
	fn_end(g, start);
	/* The program unpacking the context is the method's, line by line. */
	cg_line_map(g, m->name_loc);
	cg_block(g, "\
		SEC(\"struct_ops/%s\")\n\
		%s BPF_PROG(%s_%s%s)\n\
		{\n\
			%s%s(%s);\n\
		}\n\
		\n", m->name, ret, impl->name, m->name, param_list(g, m, true),
		 strcmp(ret, "void") ? "return " : "", body, args[0] ? args + 2 : "");
	cg_line_reset(g);
}

static bool struct_has_field(const struct decl *k, const char *name)
{
	for (const struct struct_field *f = k->fields; f; f = f->next)
		if (!strcmp(f->name, name))
			return true;
	return false;
}

static void emit_struct_ops_var(struct cgen *g, struct decl *impl)
{
	bool has_name = false;
	struct decl *k;

	cg_line(g, "SEC(\".struct_ops\")");
	cg_open(g, "struct %s %s%s = {", impl->struct_ops, eb_obj_cname(g, impl->name),
		eb_asm_label(g, impl->name));
	for (struct decl *m = impl->methods; m; m = m->next)
		cg_line(g, ".%s = (void *)%s_%s,", m->name, impl->name, m->name);
	for (struct impl_field *f = impl->ifields; f; f = f->next) {
		has_name |= !strcmp(f->name, "name");
		cg_line(g, ".%s = %s,", f->name, cg_expr_str(g, f->value));
	}
	/* A type the program declares (one a module defines, say) has a name only if declared. */
	k = sema_struct_ops_type(g->prog, impl->struct_ops);
	if (!k)
		k = btf_find_type(g->prog->kernel, g->a, impl->struct_ops);
	else
		has_name |= !struct_has_field(k, "name");
	if (!has_name) {
		int size = 0;

		for (struct struct_field *f = k ? k->fields : NULL; f; f = f->next)
			if (!strcmp(f->name, "name") && ut(f->ty)->kind == TY_ARRAY)
				size = (int)ut(f->ty)->count;
		/* The checker warned when the impl name does not fit. */
		cg_line(g, ".name = \"%.*s\",", size ? size - 1 : (int)strlen(impl->name), impl->name);
	}
	cg_close(g, "};");
	cg_blank(g);
}

static void emit_helper(struct cgen *g, struct decl *fn)
{
	size_t start = fn_begin(g);

	/* Inlined: the verifier then sees map values and ctx pointers as the caller does. */
	cg_line_map(g, fn->name_loc);
	cg_line(g, "static __always_inline %s", cg_prototype(g, fn, fn->name));
	cg_function_body(g, fn);
	cg_line_reset(g);
	cg_blank(g);
	fn_end(g, start);
}

/*
 * A kfunc called from userspace: a syscall program calling it with the
 * arguments of its context, run by the loader with BPF_PROG_TEST_RUN.
 */
static void emit_call_trampoline(struct cgen *g, struct decl *k)
{
	const char *args = cg_emit_call_args(g, k);
	bool ret = k->ret && !type_is_void(k->ret);
	struct strbuf call;

	sb_init(&call);
	sb_printf(&call, "%s%s(", ret ? "args->ret = " : "", k->name);
	for (struct param *p = k->params; p; p = p->next)
		sb_printf(&call, "%sargs->%s", p == k->params ? "" : ", ", p->name);
	sb_puts(&call, ");");
	/* Its code is the kfunc declaration's: the verifier names that line. */
	cg_line_map(g, k->name_loc);
	cg_block(g, "\
		SEC(\"syscall\")\n\
		int %s%s(struct %s *args)\n\
		{\n\
			%s\n\
			return 0;\n\
		}\n\
		\n", KSC_CALL_PREFIX, k->name, args, call.buf);
	cg_line_reset(g);
	sb_free(&call);
}

void eb_emit_functions(struct cgen *g)
{
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_KFUNC && d->called_from_user)
			emit_call_trampoline(g, d);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		/* A helper no program reaches is dead code clang would warn about. */
		if (d->kind == D_FUNC && d->role == ROLE_HELPER && d->prog_users)
			emit_helper(g, d);
		else if (d->kind == D_FUNC && d->role == ROLE_PROG)
			emit_program(g, d);
		else if (d->kind == D_IMPL && d->target != TARGET_KMOD) {
			for (struct decl *m = d->methods; m; m = m->next)
				emit_method(g, d, m);
			emit_struct_ops_var(g, d);
		}
	}
}

/* ---- tail calls ---- */

/*
 * The tail-call table, its slots filled from a static initializer: libbpf
 * stores each target's fd at load time, so tail calls work whoever loads
 * the object (the generated loader, bpftool, a test tool).
 */
void eb_emit_prog_array(struct cgen *g, struct ebpf *eb)
{
	for (int i = 0; i < eb->tail_targets.n; i++)
		cg_line(g, "%s;", prog_prototype(g, eb->tail_targets.v[i]));
	cg_blank(g);
	cg_open(g, "struct {");
	cg_block(g, "\
		__uint(type, BPF_MAP_TYPE_PROG_ARRAY);\n\
		__uint(max_entries, %d);\n\
		__uint(key_size, sizeof(__u32));\n\
		__array(values, int (void *));\n", eb->tail_targets.n);
	cg_reopen(g, "} %s SEC(\".maps\") = {", KSC_PROG_ARRAY);
	cg_open(g, ".values = {");
	for (int i = 0; i < eb->tail_targets.n; i++)
		cg_line(g, "[%d] = (void *)&%s,", i,
			eb_obj_cname(g, ((struct decl *)eb->tail_targets.v[i])->name));
	cg_close(g, "},");
	cg_close(g, "};");
	cg_blank(g);
}