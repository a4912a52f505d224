/*
 * The cgen hooks of the eBPF backend: where eBPF C differs from the C cgen
 * emits by itself (print, new and delete, strings, map and packet access,
 * tail calls, owned references).  Each kind of construct is another
 * file's; the hooks dispatch.
 */
#include "ebpf_internal.h"

#include <string.h>

#include "btf_types.h"
#include "ebpf_abi.h"
#include "types.h"

static void bpf_print(struct cgen *g, struct strbuf *sb, struct expr *call)
{
	cg_print_call(g, sb, "bpf_printk", call, CG_NL_NEVER);
}

static void bpf_new(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct type *t = type_unalias(e->ty);
	struct ptrvec *v = &EB(g)->new_types;
	int i;

	EB(g)->need_obj_new = true;
	/* Each `new` has its own type node: one ksc_new_T() per struct. */
	for (i = 0; i < v->n && ((struct type *)v->v[i])->decl != t->decl; i++)
		;
	if (i == v->n)
		ptrvec_push(g->a, v, t);
	sb_printf(sb, "ksc_new_%s()", t->decl->name);
}

static void bpf_delete(struct cgen *g, struct stmt *s)
{
	const char *p = cg_expr_str(g, s->lhs);

	if (eb_is_split_owner(g, s->lhs)) {
		const char *o = eb_owner_name(g, s->lhs->local);

		cg_block(g, "\
			if (%s) {\n\
				bpf_obj_drop(%s);\n\
				%s = NULL;\n\
			}\n\
			%s = NULL;\n", o, o, o, p);
		return;
	}

	cg_open(g, "if (%s) {", p);
	cg_line(g, "bpf_obj_drop(%s);", p);
	if (eb_is_owned_ref(g, s->lhs))
		cg_line(g, "%s = NULL;", p);
	cg_close(g, "}");
}

/*
 * The size of the char array a string expression names: sizeof(e), but
 * the declared size for a parameter, which C has turned into a pointer.
 */
static const char *str_size(struct cgen *g, struct expr *e)
{
	if (e->kind == E_IDENT && e->ref == REF_LOCAL && e->param_index >= 0 && e->type &&
	    ut(e->type)->kind == TY_STR)
		return arena_printf(g->a, "%lld", ut(e->type)->count + 1);
	return arena_printf(g->a, "sizeof(%s)", cg_expr_str(g, e));
}

/* Strings are NUL-terminated char arrays; copies are bounded by the destination. */
void eb_str_assign(struct cgen *g, const char *dst, struct type *dt, struct expr *src)
{
	long long cap = ut(dt)->count + 1;

	if (src->kind == E_BINARY && src->op == OP_ADD) {
		EB(g)->need_strcat = true;
		cg_line(g, "ksc_strcat(%s, sizeof(%s), %s, %s, %s, %s);", dst, dst,
			cg_expr_str(g, src->lhs), str_size(g, src->lhs), cg_expr_str(g, src->rhs),
			str_size(g, src->rhs));
		return;
	}
	if (src->kind == E_STR) {
		long long n = src->str_len + 1 < cap ? src->str_len + 1 : cap - 1;

		cg_line(g, "__builtin_memset(%s, 0, sizeof(%s));", dst, dst);
		cg_line(g, "__builtin_memcpy(%s, %s, %lld);", dst, cg_expr_str(g, src), n);
		return;
	}
	EB(g)->need_strcat = true;
	cg_line(g, "ksc_strcat(%s, sizeof(%s), %s, %s, \"\", 1);", dst, dst,
		cg_expr_str(g, src), str_size(g, src));
}

/* `x == null` where x was initialized by a map lookup. */
static bool is_found_var(const struct expr *x, const struct expr *other)
{
	return other->kind == E_NULL && x->kind == E_IDENT && x->ref == REF_LOCAL && x->local &&
	       x->local->kind == S_VAR && x->local->from_lookup && x->local->null_checked;
}

/*
 * An enum constant from a header or the prelude that the kernel's BTF
 * lacks (TC_ACT_OK).  Each is looked up once, since the lookup walks the
 * whole of the kernel's BTF; the answer is kept with the others.
 */
static void note_const(struct cgen *g, struct expr *e)
{
	struct ebpf *eb = EB(g);
	struct enum_const *c;
	long long v;

	if (!e->decl || !e->decl->from_header || e->decl->from_btf)
		return;
	for (c = e->decl->consts; c && strcmp(c->name, e->str); c = c->next)
		;
	if (!c || eb_in_vec(&eb->consts, c) || eb_in_vec(&eb->btf_consts, c))
		return;
	if (btf_find_enum_const(g->prog->kernel, g->a, e->str, &v))
		ptrvec_push(g->a, &eb->btf_consts, c);
	else
		ptrvec_push(g->a, &eb->consts, c);
}

/*
 * A signed / or % not folded at compile time: BPF has no signed division
 * before cpu v4 (Linux 6.6), and clang's BPF backend stops with "Unsupport
 * signed division", even for a constant divisor (`a % 7`, a: i32).
 */
static bool is_signed_div(const struct expr *e)
{
	const struct type *t = ut(e->type);
	long long v;

	return e->kind == E_BINARY && (e->op == OP_DIV || e->op == OP_MOD) && t &&
	       t->kind == TY_INT && t->is_signed && !const_eval(e, &v);
}

static bool bpf_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (is_signed_div(e)) {
		if (e->op == OP_DIV)
			EB(g)->need_sdiv = true;
		else
			EB(g)->need_smod = true;
		sb_printf(sb, "(%s)ksc_s%s(%s, %s)", cg_type(g, e->type), e->op == OP_DIV ? "div" : "mod",
			  cg_expr_str(g, e->lhs), cg_expr_str(g, e->rhs));
		return true;
	}
	if (e->kind == E_IDENT && e->ref == REF_ENUMCONST)
		note_const(g, e);
	if (e->kind == E_IDENT && e->ref == REF_MAP) {
		sb_puts(sb, eb_obj_cname(g, e->str));
		return true;
	}
	if (eb_access_expr(g, sb, e) || eb_map_expr(g, sb, e))
		return true;
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
	    (is_found_var(e->lhs, e->rhs) || is_found_var(e->rhs, e->lhs))) {
		struct expr *v = e->lhs->kind == E_NULL ? e->rhs : e->lhs;

		sb_printf(sb, "%s%s_found", e->op == OP_EQ ? "!" : "", cg_local_name(v->local));
		return true;
	}
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
	    ut(e->lhs->type)->kind == TY_STR) {
		EB(g)->need_streq = true;
		sb_printf(sb, "%sksc_streq(%s, %s, %s, %s)", e->op == OP_NE ? "!" : "",
			  cg_expr_str(g, e->lhs), str_size(g, e->lhs), cg_expr_str(g, e->rhs),
			  str_size(g, e->rhs));
		return true;
	}
	return false;
}

static bool bpf_call(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (e->lhs->kind == E_IDENT && e->lhs->ref == REF_BUILTIN) {
		bpf_print(g, sb, e);
		return true;
	}
	if (eb_is_ringbuf_call(e, "reserve")) {
		struct type *rb = ut(e->lhs->lhs->type);

		sb_printf(sb, "bpf_ringbuf_reserve(&%s, sizeof(%s), 0)", cg_expr_str(g, e->lhs->lhs),
			  cg_type(g, rb->base));
		return true;
	}
	if (eb_is_ringbuf_call(e, NULL)) {
		const char *p = cg_expr_str(g, e->args);

		if (eb_is_owned_ref(g, e->args))
			sb_printf(sb, "({ if (%s) bpf_ringbuf_%s(%s, 0); %s = NULL; 0; })", p,
				  e->lhs->str, p, p);
		else
			sb_printf(sb, "bpf_ringbuf_%s(%s, 0)", e->lhs->str, p);
		return true;
	}
	if (e->lhs->kind == E_IDENT && e->lhs->ref == REF_FUNC && e->lhs->decl->role == ROLE_METHOD) {
		/* Methods call each other through their plain bodies (see emit_method). */
		sb_printf(sb, "%s_%s_body", e->lhs->decl->impl->name, e->lhs->decl->name);
		sb_putc(sb, '(');
		for (struct expr *a = e->args; a; a = a->next) {
			cg_expr(g, sb, a);
			if (a->next)
				sb_puts(sb, ", ");
		}
		sb_putc(sb, ')');
		return true;
	}
	return false;
}

/* The value a program returns when a tail call finds no program in its slot. */
static const char *tail_fallback(enum prog_kind k)
{
	switch (k) {
	case PROG_XDP:
		return "XDP_PASS";
	case PROG_TC:
		return "TC_ACT_OK";
	default:
		return "0";
	}
}

static bool bpf_return_value(struct cgen *g, struct expr *v)
{
	if (v->kind != E_CALL || !v->is_tail_call)
		return false;
	cg_line(g, "bpf_tail_call(%s, &%s, %d);", cg_expr_str(g, v->args), KSC_PROG_ARRAY,
		ebpf_tail_slot(v->lhs->decl));
	cg_line(g, "return %s;", tail_fallback(g->fn->prog));
	return true;
}

/* x = new T() for a split owner: the owning copy takes the object, x points at it. */
static void split_new(struct cgen *g, struct stmt *var, struct expr *value)
{
	const char *o = eb_owner_name(g, var);

	cg_block(g, "\
		if (%s)\n\
			bpf_obj_drop(%s);\n\
		%s = %s;\n\
		%s = %s;\n", o, o, o, cg_expr_str(g, value), cg_local_name(var), o);
}

/* Statements on locals that own a reservation or an object. */
static bool owned_stmt(struct cgen *g, struct stmt *s)
{
	if (s->kind == S_VAR && s->value && s->value->kind == E_NEW &&
	    eb_owned_kind(g, s) == OWN_SPLIT) {
		split_new(g, s, s->value);
		return true;
	}
	if (s->kind == S_ASSIGN && s->op < 0 && s->value->kind == E_NEW &&
	    eb_is_split_owner(g, s->lhs)) {
		split_new(g, s->lhs->local, s->value);
		return true;
	}
	if (s->kind == S_ASSIGN && (s->lhs->kind == E_ARROW || s->lhs->kind == E_FIELD) &&
	    eb_is_owned_ref(g, s->lhs->lhs)) {
		/* Writes through a reservation or new object that may be NULL. */
		cg_line(g, "if (%s)", cg_expr_str(g, s->lhs->lhs));
		cg_line(g, "\t%s %s= %s;", cg_expr_str(g, s->lhs), eb_assign_op(s),
			cg_expr_str(g, s->value));
		return true;
	}
	if (s->kind == S_EXPR && eb_is_ringbuf_call(s->value, NULL) &&
	    !eb_is_ringbuf_call(s->value, "reserve") && eb_is_owned_ref(g, s->value->args)) {
		const char *p = cg_expr_str(g, s->value->args);

		cg_block(g, "\
			if (%s) {\n\
				bpf_ringbuf_%s(%s, 0);\n\
				%s = NULL;\n\
			}\n", p, s->value->lhs->str, p, p);
		return true;
	}
	return false;
}

/*
 * Checked accesses first: a write through a split owner, which may point
 * at an object kept in a map, is a guarded write.
 */
static bool bpf_stmt(struct cgen *g, struct stmt *s)
{
	return eb_access_stmt(g, s) || owned_stmt(g, s) || eb_loop_stmt(g, s) || eb_map_stmt(g, s);
}

static void release_owned(struct cgen *g)
{
	for (int i = 0; i < g->hoisted.n; i++) {
		struct stmt *v = g->hoisted.v[i];
		const char *x = cg_local_name(v);

		switch (eb_owned_kind(g, v)) {
		case OWN_RINGBUF:
			cg_line(g, "if (%s)", x);
			cg_line(g, "\tbpf_ringbuf_discard(%s, 0);", x);
			break;
		case OWN_OBJ:
			cg_line(g, "if (%s)", x);
			cg_line(g, "\tbpf_obj_drop(%s);", x);
			break;
		case OWN_SPLIT:
			cg_line(g, "if (%s)", eb_owner_name(g, v));
			cg_line(g, "\tbpf_obj_drop(%s);", eb_owner_name(g, v));
			break;
		case OWN_NONE:
			break;
		}
	}
}

static const char *owned_init(struct cgen *g, struct stmt *var)
{
	return eb_owned_kind(g, var) ? " = NULL" : NULL;
}

static void bpf_extra_decls(struct cgen *g, struct stmt *var)
{
	if (var->kind == S_VAR && var->from_lookup && var->null_checked)
		cg_line(g, "bool %s_found;", cg_local_name(var));
	if (eb_owned_kind(g, var) == OWN_SPLIT)
		cg_line(g, "%s = NULL;", cg_decl(g, var->var_type, eb_owner_name(g, var)));
}

static const char *bpf_global_name(struct cgen *g, struct decl *d)
{
	if (d->kind == D_FUNC && d->role == ROLE_PROG)
		return eb_obj_cname(g, d->name);
	/* Pinned globals live in the one entry of the pinned_globals map. */
	if (d->kind == D_GLOBAL && d->is_pinned) {
		EB(g)->uses_pinned = true;
		return arena_printf(g->a, "ksc_%s()->%s", KSC_PINNED_GLOBALS, d->name);
	}
	return d->name;
}

const struct cg_hooks eb_hooks = {
	.int_name = cg_uapi_int,
	.print = bpf_print,
	.new_obj = bpf_new,
	.delete_ptr = bpf_delete,
	.str_assign = eb_str_assign,
	.call = bpf_call,
	.stmt = bpf_stmt,
	.expr = bpf_expr,
	.return_value = bpf_return_value,
	.extra_decls = bpf_extra_decls,
	.decl_init = owned_init,
	.before_return = release_owned,
	.global_name = bpf_global_name,
	.line_directives = true,
	.builtin_mem = true,
};
