/*
 * The eBPF backend.  What the verifier needs is generated here rather than
 * asked of the programmer: map reads with a zero default, packet reads
 * behind a data_end check, struct_ops arguments through BPF_PROG, tail
 * calls with a fallback return.
 */
#include "ebpfgen.h"

#include <bpf/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "btf_types.h"
#include "builtins.h"
#include "cgen.h"
#include "ebpf_abi.h"
#include "types.h"

struct ebpf {
	struct ptrvec tail_targets;  /* struct decl *, index = slot */
	struct ptrvec consts;        /* struct enum_const * used but absent from BTF */
	bool need_streq, need_strcat, need_obj_new;
};

#define EB(g) ((struct ebpf *)(g)->backend)

/* ---- small queries ---- */

static struct type *ut(struct type *t)
{
	return type_unalias(t);
}

static bool is_map_read(const struct expr *e)
{
	return e->kind == E_INDEX && e->map_lookup;
}

static struct decl *map_of(const struct expr *e)
{
	return e->lhs->kind == E_IDENT ? e->lhs->decl : NULL;
}

static bool is_config_field(const struct expr *e)
{
	return e->kind == E_FIELD && e->lhs->kind == E_IDENT && e->lhs->ref == REF_CONFIG;
}

static bool is_ringbuf_call(const struct expr *e, const char *method)
{
	return e->kind == E_CALL && e->lhs->kind == E_FIELD &&
	       e->lhs->lhs->type && ut(e->lhs->lhs->type)->kind == TY_RINGBUF &&
	       (!method || !strcmp(e->lhs->str, method));
}

/* Legacy BPF helpers are called through libbpf's declarations, not as kfuncs. */
static bool is_legacy_helper(const char *name)
{
	static const char *const helpers[] = {
		"bpf_ktime_get_ns", "bpf_ktime_get_boot_ns", "bpf_get_prandom_u32",
		"bpf_get_smp_processor_id", "bpf_get_current_pid_tgid", "bpf_get_current_uid_gid",
		"bpf_get_current_comm", "bpf_trace_printk", "bpf_xdp_adjust_head",
		"bpf_xdp_adjust_tail", "bpf_xdp_adjust_meta", "bpf_redirect", "bpf_redirect_map",
		"bpf_csum_diff", "bpf_skb_load_bytes", "bpf_skb_store_bytes", "bpf_probe_read",
		"bpf_probe_read_kernel", "bpf_probe_read_user", "bpf_probe_read_kernel_str",
		"bpf_probe_read_user_str", "bpf_get_current_task", "bpf_get_numa_node_id",
		"bpf_jiffies64", "bpf_ktime_get_coarse_ns", "bpf_get_current_cgroup_id",
		"bpf_send_signal", "bpf_xdp_get_buff_len", "bpf_get_func_ip",
	};

	for (size_t i = 0; i < ARRAY_SIZE(helpers); i++)
		if (!strcmp(helpers[i], name))
			return true;
	return false;
}

/* ---- tail calls ---- */

static void find_tail_calls_expr(struct ptrvec *v, struct arena *a, struct expr *e);

static void add_target(struct ptrvec *v, struct arena *a, struct decl *d)
{
	for (int i = 0; i < v->n; i++)
		if (v->v[i] == d)
			return;
	ptrvec_push(a, v, d);
}

static void find_tail_calls_stmts(struct ptrvec *v, struct arena *a, struct stmt *s)
{
	for (; s; s = s->next) {
		find_tail_calls_expr(v, a, s->value);
		find_tail_calls_stmts(v, a, s->then);
		find_tail_calls_stmts(v, a, s->els);
		find_tail_calls_stmts(v, a, s->body);
		for (struct catch_clause *c = s->catches; c; c = c->next)
			find_tail_calls_stmts(v, a, c->body);
	}
}

static void find_tail_calls_expr(struct ptrvec *v, struct arena *a, struct expr *e)
{
	if (!e)
		return;
	if (e->kind == E_CALL && e->is_tail_call)
		add_target(v, a, e->lhs->decl);
	if (e->kind == E_MATCH)
		for (struct match_arm *arm = e->arms; arm; arm = arm->next) {
			find_tail_calls_expr(v, a, arm->value);
			find_tail_calls_stmts(v, a, arm->body);
		}
}

static void collect_tail_targets(struct program *prog, struct ptrvec *v)
{
	for (struct decl *d = prog->decls; d; d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_PROG)
			find_tail_calls_stmts(v, prog->arena, d->body);
}

int ebpf_tail_slot(const struct program *prog, const struct decl *fn)
{
	struct ptrvec v = { 0 };

	collect_tail_targets((struct program *)prog, &v);
	for (int i = 0; i < v.n; i++)
		if (v.v[i] == fn)
			return i;
	return -1;
}

/* ---- owned pointers ---- */

/*
 * A local holding a ring buffer reservation or a `new` object owns a
 * reference the verifier wants released on every path: such locals start
 * NULL, become NULL again when submitted, discarded or deleted, and are
 * released before every return while still held.
 */
enum owned { OWN_NONE, OWN_RINGBUF, OWN_OBJ };

static enum owned owned_kind(const struct stmt *var)
{
	const struct expr *v = var->value;

	if ((var->kind != S_VAR && var->kind != S_IFVAR) || !v)
		return OWN_NONE;
	if (is_ringbuf_call(v, "reserve"))
		return OWN_RINGBUF;
	if (v->kind == E_NEW)
		return OWN_OBJ;
	return OWN_NONE;
}

static bool is_owned_ref(const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_LOCAL && e->local && owned_kind(e->local);
}

static void release_owned(struct cgen *g)
{
	for (int i = 0; i < g->hoisted.n; i++) {
		struct stmt *v = g->hoisted.v[i];
		const char *x = cg_local_name(v);

		switch (owned_kind(v)) {
		case OWN_RINGBUF:
			cg_line(g, "if (%s)", x);
			cg_line(g, "\tbpf_ringbuf_discard(%s, 0);", x);
			break;
		case OWN_OBJ:
			cg_line(g, "if (%s)", x);
			cg_line(g, "\tbpf_obj_drop(%s);", x);
			break;
		case OWN_NONE:
			break;
		}
	}
}

static const char *owned_init(struct cgen *g, struct stmt *var)
{
	return owned_kind(var) ? " = NULL" : NULL;
}

/* ---- cgen hooks ---- */

static const char *bpf_int(int size, bool is_signed)
{
	static const char *const u[] = { "__u8", "__u16", "__u32", "__u64" };
	static const char *const s[] = { "__s8", "__s16", "__s32", "__s64" };
	int i = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;

	return is_signed ? s[i] : u[i];
}

static void bpf_print(struct cgen *g, struct strbuf *sb, struct expr *call)
{
	struct strbuf fmt;
	const char **casts;
	int n = 0;
	struct expr *a = call->args ? call->args->next : NULL;

	sb_init(&fmt);
	if (call->args)
		n = cg_print_args(g, call, &fmt, &casts);
	if (call->args && call->args->kind != E_STR)
		a = call->args;
	sb_puts(sb, "bpf_printk(");
	cg_string_lit(sb, fmt.buf ? fmt.buf : "", (int)fmt.len);
	for (int i = 0; a && i < n; a = a->next, i++) {
		sb_puts(sb, ", ");
		if (casts[i])
			sb_printf(sb, "(%s)", casts[i]);
		cg_expr(g, sb, a);
	}
	sb_putc(sb, ')');
	sb_free(&fmt);
}

static void bpf_new(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	EB(g)->need_obj_new = true;
	sb_printf(sb, "bpf_obj_new(%s)", cg_type(g, e->ty));
}

static void bpf_delete(struct cgen *g, struct stmt *s)
{
	const char *p = cg_expr_str(g, s->lhs);

	cg_line(g, "if (%s) {", p);
	cg_line(g, "\tbpf_obj_drop(%s);", p);
	if (is_owned_ref(s->lhs))
		cg_line(g, "\t%s = NULL;", p);
	cg_line(g, "}");
}

/* Strings are NUL-terminated char arrays; copies are bounded by the destination. */
static void bpf_str_assign(struct cgen *g, const char *dst, struct type *dt, struct expr *src)
{
	long long cap = ut(dt)->count + 1;

	if (src->kind == E_BINARY && src->op == OP_ADD) {
		EB(g)->need_strcat = true;
		cg_line(g, "ksc_strcat(%s, sizeof(%s), %s, sizeof(%s), %s, sizeof(%s));", dst, dst,
			cg_expr_str(g, src->lhs), cg_expr_str(g, src->lhs), cg_expr_str(g, src->rhs),
			cg_expr_str(g, src->rhs));
		return;
	}
	if (src->kind == E_STR) {
		long long n = src->str_len + 1 < cap ? src->str_len + 1 : cap - 1;

		cg_line(g, "__builtin_memset(%s, 0, sizeof(%s));", dst, dst);
		cg_line(g, "__builtin_memcpy(%s, %s, %lld);", dst, cg_expr_str(g, src), n);
		return;
	}
	EB(g)->need_strcat = true;
	cg_line(g, "ksc_strcat(%s, sizeof(%s), %s, sizeof(%s), \"\", 1);", dst, dst,
		cg_expr_str(g, src), cg_expr_str(g, src));
}

/* A map read as a value: a copy of the entry, or zero when there is none. */
static void map_read(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct decl *m = map_of(e);
	struct type *mt = ut(m->ty);

	sb_printf(sb, "({ %s = ", cg_decl(g, mt->key, "__k"));
	cg_expr(g, sb, e->rhs);
	sb_printf(sb, "; %s = bpf_map_lookup_elem(&%s, &__k); ",
		  cg_decl(g, type_ptr(g->a, mt->base), "__p"), m->name);
	if (ut(mt->base)->kind == TY_STRUCT || ut(mt->base)->kind == TY_ARRAY ||
	    ut(mt->base)->kind == TY_STR)
		sb_printf(sb, "%s = {}; if (__p) __builtin_memcpy(&__v, __p, sizeof(__v)); __v; })",
			  cg_decl(g, mt->base, "__v"));
	else
		sb_printf(sb, "__p ? *__p : 0; })");
}

/* *ctx->data: a packet byte, read only behind a data_end check. */
static void packet_read(struct cgen *g, struct strbuf *sb, struct expr *field)
{
	const char *ctx = cg_expr_str(g, field->lhs);

	sb_printf(sb, "({ __u8 *__pkt = (void *)(long)%s->%s; "
		  "(void *)(__pkt + 1) <= (void *)(long)%s->data_end ? *__pkt : 0; })",
		  ctx, field->str, ctx);
}

static bool is_len_expr(const struct expr *e)
{
	return e->kind == E_BINARY && e->op == OP_SUB && is_packet_field(e->lhs) &&
	       is_packet_field(e->rhs) && !strcmp(e->lhs->str, "data_end") &&
	       !strcmp(e->rhs->str, "data");
}

static bool ctx_is(const struct expr *field, const char *name)
{
	struct type *t = ut(field->lhs->type);

	if (t->kind == TY_PTR)
		t = ut(t->base);
	return t->kind == TY_STRUCT && !strcmp(t->decl->name, name);
}

/* `x == null` where x was initialized by a map lookup. */
static bool is_found_var(const struct expr *x, const struct expr *other)
{
	return other->kind == E_NULL && x->kind == E_IDENT && x->ref == REF_LOCAL && x->local &&
	       x->local->kind == S_VAR && x->local->from_lookup && x->local->null_checked;
}

/* An enum constant from a header or the prelude that the kernel's BTF lacks (TC_ACT_OK). */
static void note_const(struct cgen *g, struct expr *e)
{
	struct ebpf *eb = EB(g);
	long long v;

	if (!e->decl || !e->decl->from_header || e->decl->from_btf)
		return;
	if (btf_find_enum_const(g->a, e->str, &v))
		return;
	for (struct enum_const *c = e->decl->consts; c; c = c->next) {
		if (strcmp(c->name, e->str))
			continue;
		for (int i = 0; i < eb->consts.n; i++)
			if (eb->consts.v[i] == c)
				return;
		ptrvec_push(g->a, &eb->consts, c);
	}
}

static bool bpf_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (e->kind == E_IDENT && e->ref == REF_ENUMCONST)
		note_const(g, e);
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
	    ((e->rhs->kind == E_NULL && is_map_read(e->lhs)) ||
	     (e->lhs->kind == E_NULL && is_map_read(e->rhs)))) {
		struct expr *m = e->lhs->kind == E_NULL ? e->rhs : e->lhs;
		struct type *mt = ut(map_of(m)->ty);

		sb_printf(sb, "({ %s = ", cg_decl(g, mt->key, "__k"));
		cg_expr(g, sb, m->rhs);
		sb_printf(sb, "; bpf_map_lookup_elem(&%s, &__k) %s NULL; })", map_of(m)->name,
			  e->op == OP_EQ ? "==" : "!=");
		return true;
	}
	if (is_map_read(e)) {
		map_read(g, sb, e);
		return true;
	}
	if (is_config_field(e)) {
		sb_printf(sb, "%s%s()->%s", e->lhs->str, KSC_CONFIG_STRUCT_SUFFIX, e->str);
		return true;
	}
	if (e->kind == E_UNARY && e->op == UOP_DEREF && is_packet_field(e->lhs)) {
		packet_read(g, sb, e->lhs);
		return true;
	}
	/*
	 * data_end - data is pointer arithmetic the verifier refuses; the
	 * packet length it means comes from the kernel instead.
	 */
	if (is_len_expr(e)) {
		if (ctx_is(e->lhs, "xdp_md"))
			sb_printf(sb, "bpf_xdp_get_buff_len(%s)", cg_expr_str(g, e->lhs->lhs));
		else
			sb_printf(sb, "%s->len", cg_expr_str(g, e->lhs->lhs));
		return true;
	}
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
	    (is_found_var(e->lhs, e->rhs) || is_found_var(e->rhs, e->lhs))) {
		struct expr *v = e->lhs->kind == E_NULL ? e->rhs : e->lhs;

		sb_printf(sb, "%s%s_found", e->op == OP_EQ ? "!" : "", cg_local_name(v->local));
		return true;
	}
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
	    ut(e->lhs->type)->kind == TY_STR) {
		EB(g)->need_streq = true;
		sb_printf(sb, "%sksc_streq(%s, sizeof(%s), %s, sizeof(%s))", e->op == OP_NE ? "!" : "",
			  cg_expr_str(g, e->lhs), cg_expr_str(g, e->lhs), cg_expr_str(g, e->rhs),
			  cg_expr_str(g, e->rhs));
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
	if (is_ringbuf_call(e, "reserve")) {
		struct type *rb = ut(e->lhs->lhs->type);

		sb_printf(sb, "bpf_ringbuf_reserve(&%s, sizeof(%s), 0)", cg_expr_str(g, e->lhs->lhs),
			  cg_type(g, rb->base));
		return true;
	}
	if (is_ringbuf_call(e, NULL)) {
		const char *p = cg_expr_str(g, e->args);

		if (is_owned_ref(e->args))
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
	struct decl *target;
	int slot;

	if (v->kind != E_CALL || !v->is_tail_call)
		return false;
	target = v->lhs->decl;
	slot = -1;
	for (int i = 0; i < EB(g)->tail_targets.n; i++)
		if (EB(g)->tail_targets.v[i] == target)
			slot = i;
	cg_line(g, "bpf_tail_call(%s, &%s, %d);", cg_expr_str(g, v->args), KSC_PROG_ARRAY, slot);
	cg_line(g, "return %s;", tail_fallback(g->fn->prog));
	return true;
}

/* m[k] = v and m[k] op= v: update in place when present, insert otherwise. */
static void map_assign(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	static const char *const ops[] = { "+", "-", "*", "/", "%" };

	cg_line(g, "{");
	g->indent++;
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	if (s->op < 0) {
		cg_line(g, "%s = %s;", cg_decl(g, mt->base, "__v"), cg_expr_str(g, s->value));
		cg_line(g, "bpf_map_update_elem(&%s, &__k, &__v, BPF_ANY);", m->name);
	} else {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
			cg_decl(g, type_ptr(g->a, mt->base), "__p"), m->name);
		cg_line(g, "if (__p) {");
		g->indent++;
		if (s->op == OP_ADD)
			cg_line(g, "__sync_fetch_and_add(__p, %s);", cg_expr_str(g, s->value));
		else if (s->op == OP_SUB)
			cg_line(g, "__sync_fetch_and_sub(__p, %s);", cg_expr_str(g, s->value));
		else
			cg_line(g, "*__p %s= %s;", ops[s->op], cg_expr_str(g, s->value));
		g->indent--;
		cg_line(g, "} else {");
		g->indent++;
		cg_line(g, "%s = 0;", cg_decl(g, mt->base, "__v"));
		cg_line(g, "__v %s= %s;", ops[s->op], cg_expr_str(g, s->value));
		cg_line(g, "bpf_map_update_elem(&%s, &__k, &__v, BPF_ANY);", m->name);
		g->indent--;
		cg_line(g, "}");
	}
	g->indent--;
	cg_line(g, "}");
}

/* m[k].f = v and m[k].f op= v: in place, only when the entry exists. */
static void map_field_assign(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs->lhs;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	static const char *const ops[] = { "+", "-", "*", "/", "%" };

	cg_line(g, "{");
	g->indent++;
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
		cg_decl(g, type_ptr(g->a, mt->base), "__p"), m->name);
	cg_line(g, "if (__p)");
	g->indent++;
	if (s->op < 0)
		cg_line(g, "__p->%s = %s;", s->lhs->str, cg_expr_str(g, s->value));
	else
		cg_line(g, "__p->%s %s= %s;", s->lhs->str, ops[s->op], cg_expr_str(g, s->value));
	g->indent -= 2;
	cg_line(g, "}");
}

static void map_ifvar(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->value;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	const char *x = cg_local_name(s);

	cg_line(g, "{");
	g->indent++;
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	if (s->binds_pointer) {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);", x, m->name);
		cg_line(g, "if (%s) {", x);
	} else {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
			cg_decl(g, type_ptr(g->a, mt->base), "__p"), m->name);
		cg_line(g, "if (__p) {");
		g->indent++;
		cg_line(g, "%s = *__p;", x);
		g->indent--;
	}
	g->indent--;
	return;
}

static void emit_block(struct cgen *g, struct stmt *body);

/*
 * var x = m[k]: x is a copy (zero if absent) and x_found remembers whether
 * the entry existed, which is what `x == null` asks.
 */
static void lookup_var(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->value;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	const char *x = cg_local_name(s);

	cg_line(g, "{");
	g->indent++;
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
		cg_decl(g, type_ptr(g->a, mt->base), "__p"), m->name);
	cg_blank(g);
	cg_line(g, "%s_found = __p != NULL;", x);
	cg_line(g, "if (__p)");
	cg_line(g, "	__builtin_memcpy(&%s, __p, sizeof(%s));", x, x);
	cg_line(g, "else");
	cg_line(g, "	__builtin_memset(&%s, 0, sizeof(%s));", x, x);
	g->indent--;
	cg_line(g, "}");
}

static void bpf_extra_decls(struct cgen *g, struct stmt *var)
{
	if (var->kind == S_VAR && var->from_lookup && var->null_checked)
		cg_line(g, "bool %s_found;", cg_local_name(var));
}

static bool bpf_stmt(struct cgen *g, struct stmt *s)
{
	if (s->kind == S_ASSIGN && (s->lhs->kind == E_ARROW || s->lhs->kind == E_FIELD) &&
	    is_owned_ref(s->lhs->lhs)) {
		/* Writes through a reservation or new object that may be NULL. */
		const char *p = cg_expr_str(g, s->lhs->lhs);

		cg_line(g, "if (%s)", p);
		g->indent++;
		if (s->op < 0)
			cg_line(g, "%s = %s;", cg_expr_str(g, s->lhs), cg_expr_str(g, s->value));
		else
			cg_line(g, "%s %s= %s;", cg_expr_str(g, s->lhs),
				(const char *[]){ "+", "-", "*", "/", "%" }[s->op],
				cg_expr_str(g, s->value));
		g->indent--;
		return true;
	}
	if (s->kind == S_VAR && s->from_lookup && s->null_checked) {
		lookup_var(g, s);
		return true;
	}
	if (s->kind == S_EXPR && is_ringbuf_call(s->value, NULL) &&
	    !is_ringbuf_call(s->value, "reserve") && is_owned_ref(s->value->args)) {
		const char *p = cg_expr_str(g, s->value->args);

		cg_line(g, "if (%s) {", p);
		cg_line(g, "\tbpf_ringbuf_%s(%s, 0);", s->value->lhs->str, p);
		cg_line(g, "\t%s = NULL;", p);
		cg_line(g, "}");
		return true;
	}
	if (s->kind == S_ASSIGN && is_map_read(s->lhs)) {
		map_assign(g, s);
		return true;
	}
	if (s->kind == S_ASSIGN && s->lhs->kind == E_FIELD && is_map_read(s->lhs->lhs)) {
		map_field_assign(g, s);
		return true;
	}
	if (s->kind == S_DELETE && s->key) {
		struct type *mt = ut(s->lhs->type);

		cg_line(g, "{");
		g->indent++;
		cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, s->key));
		cg_line(g, "bpf_map_delete_elem(&%s, &__k);", cg_expr_str(g, s->lhs));
		g->indent--;
		cg_line(g, "}");
		return true;
	}
	if (s->kind == S_IFVAR && is_map_read(s->value)) {
		map_ifvar(g, s);
		g->indent += 2;
		emit_block(g, s->then);
		g->indent--;
		if (s->els) {
			cg_line(g, "} else {");
			g->indent++;
			emit_block(g, s->els);
			g->indent--;
		}
		cg_line(g, "}");
		g->indent--;
		cg_line(g, "}");
		return true;
	}
	return false;
}

static const struct cg_hooks bpf_hooks = {
	.int_name = bpf_int,
	.print = bpf_print,
	.new_obj = bpf_new,
	.delete_ptr = bpf_delete,
	.str_assign = bpf_str_assign,
	.call = bpf_call,
	.stmt = bpf_stmt,
	.expr = bpf_expr,
	.return_value = bpf_return_value,
	.extra_decls = bpf_extra_decls,
	.decl_init = owned_init,
	.before_return = release_owned,
	.line_directives = true,
};

/* ---- declarations ---- */

static void emit_block(struct cgen *g, struct stmt *body)
{
	cg_emit_stmts(g, body);
}

static const char *map_type_name(enum map_kind k)
{
	static const char *const names[] = {
		"BPF_MAP_TYPE_HASH", "BPF_MAP_TYPE_ARRAY", "BPF_MAP_TYPE_PERCPU_HASH",
		"BPF_MAP_TYPE_PERCPU_ARRAY", "BPF_MAP_TYPE_LRU_HASH",
	};

	return names[k];
}

static const char *map_flags(struct cgen *g, struct decl *d)
{
	static const struct { const char *name, *flag; } flags[] = {
		{ "no_prealloc", "BPF_F_NO_PREALLOC" }, { "no_common_lru", "BPF_F_NO_COMMON_LRU" },
		{ "rdonly", "BPF_F_RDONLY" }, { "wronly", "BPF_F_WRONLY" },
		{ "clone", "BPF_F_CLONE" }, { "numa_node", "BPF_F_NUMA_NODE" },
		{ "rdonly_prog", "BPF_F_RDONLY_PROG" }, { "wronly_prog", "BPF_F_WRONLY_PROG" },
		{ "mmapable", "BPF_F_MMAPABLE" },
	};
	struct strbuf sb;
	char *s;
	const char *r;

	sb_init(&sb);
	for (struct map_flag *f = d->flags; f; f = f->next)
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
			if (!strcmp(f->name, flags[i].name))
				sb_printf(&sb, "%s%s", sb.len ? " | " : "", flags[i].flag);
	s = sb_detach(&sb);
	r = *s ? arena_strdup(g->a, s) : NULL;
	free(s);
	return r;
}

static void emit_map(struct cgen *g, struct decl *d)
{
	struct type *t = ut(d->ty);
	const char *flags = map_flags(g, d);

	cg_line(g, "struct {");
	g->indent++;
	if (t->kind == TY_RINGBUF) {
		cg_line(g, "__uint(type, BPF_MAP_TYPE_RINGBUF);");
		cg_line(g, "__uint(max_entries, %lld);", t->count);
	} else {
		cg_line(g, "__uint(type, %s);", map_type_name(t->map));
		cg_line(g, "__uint(max_entries, %lld);", t->count);
		cg_line(g, "__type(key, %s);", cg_type(g, t->key));
		cg_line(g, "__type(value, %s);", cg_type(g, t->base));
	}
	if (flags)
		cg_line(g, "__uint(map_flags, %s);", flags);
	for (struct map_flag *f = d->flags; f; f = f->next)
		if (f->has_arg)
			cg_line(g, "__uint(numa_node, %lld);", f->arg);
	g->indent--;
	cg_line(g, "} %s SEC(\".maps\");", d->name);
	cg_blank(g);
}

static void emit_config(struct cgen *g, struct decl *d)
{
	cg_line(g, "struct %s%s {", d->name, KSC_CONFIG_STRUCT_SUFFIX);
	g->indent++;
	for (struct config_field *f = d->cfields; f; f = f->next)
		cg_line(g, "%s;", cg_decl(g, f->ty, f->name));
	g->indent--;
	cg_line(g, "};");
	cg_blank(g);
	cg_line(g, "struct {");
	g->indent++;
	cg_line(g, "__uint(type, BPF_MAP_TYPE_ARRAY);");
	cg_line(g, "__uint(max_entries, 1);");
	cg_line(g, "__type(key, __u32);");
	cg_line(g, "__type(value, struct %s%s);", d->name, KSC_CONFIG_STRUCT_SUFFIX);
	g->indent--;
	cg_line(g, "} %s%s SEC(\".maps\");", d->name, KSC_CONFIG_MAP_SUFFIX);
	cg_blank(g);
	/* Reads never see NULL: before userspace writes the config, fields read zero. */
	/* Global, not static: clang would fold a never-written static into a constant. */
	cg_line(g, "__hidden struct %s%s %s_unset;", d->name, KSC_CONFIG_STRUCT_SUFFIX, d->name);
	cg_blank(g);
	cg_line(g, "static __always_inline struct %s%s *%s%s(void)", d->name,
		KSC_CONFIG_STRUCT_SUFFIX, d->name, KSC_CONFIG_STRUCT_SUFFIX);
	cg_line(g, "{");
	g->indent++;
	cg_line(g, "__u32 key = 0;");
	cg_line(g, "struct %s%s *c = bpf_map_lookup_elem(&%s%s, &key);", d->name,
		KSC_CONFIG_STRUCT_SUFFIX, d->name, KSC_CONFIG_MAP_SUFFIX);
	cg_blank(g);
	cg_line(g, "return c ? c : &%s_unset;", d->name);
	g->indent--;
	cg_line(g, "}");
	cg_blank(g);
}

static void emit_global(struct cgen *g, struct decl *d)
{
	const char *decl = cg_decl(g, d->ty, d->name);

	if (d->is_pinned)
		return;
	if (d->init && !(d->init->kind == E_INT && d->init->ival == 0))
		cg_line(g, "%s%s = %s;", d->is_local ? "__hidden " : "", decl,
			cg_expr_str(g, d->init));
	else
		cg_line(g, "%s%s;", d->is_local ? "__hidden " : "", decl);
}

static void emit_pinned_globals(struct cgen *g)
{
	bool any = false;

	for (struct decl *d = g->prog->decls; d; d = d->next)
		any |= d->kind == D_GLOBAL && d->is_pinned && d->target == TARGET_EBPF;
	if (!any)
		return;
	cg_line(g, "struct %s {", KSC_PINNED_GLOBALS);
	g->indent++;
	for (struct decl *d = g->prog->decls; d; d = d->next)
		if (d->kind == D_GLOBAL && d->is_pinned && d->target == TARGET_EBPF)
			cg_line(g, "%s;", cg_decl(g, d->ty, d->name));
	g->indent--;
	cg_line(g, "};");
	cg_blank(g);
	cg_line(g, "struct {");
	g->indent++;
	cg_line(g, "__uint(type, BPF_MAP_TYPE_ARRAY);");
	cg_line(g, "__uint(max_entries, 1);");
	cg_line(g, "__type(key, __u32);");
	cg_line(g, "__type(value, struct %s);", KSC_PINNED_GLOBALS);
	g->indent--;
	cg_line(g, "} %s SEC(\".maps\");", KSC_PINNED_GLOBALS);
	cg_blank(g);
}

/* A kfunc or extern called from eBPF code, declared as a kernel symbol. */
static void emit_ksym(struct cgen *g, struct decl *d)
{
	cg_line(g, "extern %s __ksym;", cg_prototype(g, d, d->name));
}

static bool called_from_ebpf(struct program *prog, struct decl *callee)
{
	for (struct decl *d = prog->decls; d; d = d->next) {
		struct decl *fns = d->kind == D_IMPL ? d->methods : d->kind == D_FUNC ? d : NULL;

		for (struct decl *f = fns; f; f = d->kind == D_IMPL ? f->next : NULL) {
			if (f->target != TARGET_EBPF)
				continue;
			for (int i = 0; i < f->calls.n; i++)
				if (f->calls.v[i] == callee)
					return true;
		}
	}
	return false;
}

static void emit_externs(struct cgen *g)
{
	bool any = false;

	for (struct decl *d = g->prog->decls; d; d = d->next) {
		bool kf = d->kind == D_FUNC && d->role == ROLE_KFUNC;

		if (!(kf || d->kind == D_EXTERN) || is_legacy_helper(d->name))
			continue;
		if (!called_from_ebpf(g->prog, d))
			continue;
		emit_ksym(g, d);
		any = true;
	}
	if (any)
		cg_blank(g);
}

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

static void emit_program(struct cgen *g, struct decl *fn)
{
	const char *ret = fn->ret && !type_is_void(fn->ret) ? "int" : "void";

	cg_line(g, "SEC(\"%s\")", prog_section(g, fn));
	cg_line_map(g, fn->name_loc);
	switch (fn->prog) {
	case PROG_PROBE:
		cg_line(g, "int BPF_PROG(%s%s)", fn->name, param_list(g, fn, true));
		break;
	case PROG_KPROBE:
		cg_line(g, "int BPF_KPROBE(%s%s)", fn->name, param_list(g, fn, true));
		break;
	default:
		cg_line(g, "%s %s(%s)", ret, fn->name, cg_decl(g, fn->params->ty, fn->params->name));
		break;
	}
	cg_function_body(g, fn);
	cg_line_reset(g);
	cg_blank(g);
}

/*
 * A struct_ops method: its body as a plain inline function (so other
 * methods can call it), and the program itself unpacking its arguments
 * from the context with BPF_PROG.
 */
static void emit_method(struct cgen *g, struct decl *impl, struct decl *m)
{
	const char *body = arena_printf(g->a, "%s_%s_body", impl->name, m->name);
	const char *ret = m->ret && !type_is_void(m->ret) ? cg_type(g, m->ret) : "void";
	const char *args = param_list(g, m, false);

	cg_line_map(g, m->name_loc);
	cg_line(g, "static __always_inline %s", cg_prototype(g, m, body));
	cg_function_body(g, m);
	cg_line_reset(g);
	cg_blank(g);
	cg_line(g, "SEC(\"struct_ops/%s\")", m->name);
	cg_line(g, "%s BPF_PROG(%s_%s%s)", ret, impl->name, m->name, param_list(g, m, true));
	cg_line(g, "{");
	g->indent++;
	cg_line(g, "%s%s(%s);", strcmp(ret, "void") ? "return " : "", body, args[0] ? args + 2 : "");
	g->indent--;
	cg_line(g, "}");
	cg_blank(g);
}

static void emit_struct_ops_var(struct cgen *g, struct decl *impl)
{
	bool has_name = false;

	cg_line(g, "SEC(\".struct_ops\")");
	cg_line(g, "struct %s %s = {", impl->struct_ops, impl->name);
	g->indent++;
	for (struct decl *m = impl->methods; m; m = m->next)
		cg_line(g, ".%s = (void *)%s_%s,", m->name, impl->name, m->name);
	for (struct impl_field *f = impl->ifields; f; f = f->next) {
		has_name |= !strcmp(f->name, "name");
		cg_line(g, ".%s = %s,", f->name, cg_expr_str(g, f->value));
	}
	if (!has_name) {
		struct decl *k = btf_find_type(g->a, impl->struct_ops);
		int size = 0;

		for (struct struct_field *f = k ? k->fields : NULL; f; f = f->next)
			if (!strcmp(f->name, "name") && ut(f->ty)->kind == TY_ARRAY)
				size = (int)ut(f->ty)->count;
		/* The checker warned when the impl name does not fit. */
		cg_line(g, ".name = \"%.*s\",", size ? size - 1 : (int)strlen(impl->name), impl->name);
	}
	g->indent--;
	cg_line(g, "};");
	cg_blank(g);
}

static void emit_helper(struct cgen *g, struct decl *fn)
{
	/* Inlined: the verifier then sees map values and ctx pointers as the caller does. */
	cg_line_map(g, fn->name_loc);
	cg_line(g, "static __always_inline %s", cg_prototype(g, fn, fn->name));
	cg_function_body(g, fn);
	cg_line_reset(g);
	cg_blank(g);
}

static void emit_functions(struct cgen *g)
{
	for (struct decl *d = g->prog->decls; d; d = d->next) {
		/* A helper no program reaches is dead code clang would warn about. */
		if (d->kind == D_FUNC && d->role == ROLE_HELPER && d->prog_users)
			emit_helper(g, d);
		else if (d->kind == D_FUNC && d->role == ROLE_PROG)
			emit_program(g, d);
		else if (d->kind == D_IMPL) {
			for (struct decl *m = d->methods; m; m = m->next)
				emit_method(g, d, m);
			emit_struct_ops_var(g, d);
		}
	}
}

/* Support code emitted only when the program needs it. */
static void emit_support(struct cgen *g, struct ebpf *eb)
{
	for (int i = 0; i < eb->consts.n; i++) {
		struct enum_const *c = eb->consts.v[i];

		cg_line(g, "#define %s %lld", c->name, c->value);
	}
	if (eb->consts.n)
		cg_blank(g);
	if (eb->need_streq) {
		cg_line(g, "static __always_inline bool ksc_streq(const char *a, __u32 na, const char *b, __u32 nb)");
		cg_line(g, "{");
		cg_line(g, "\tfor (__u32 i = 0; i < na && i < nb; i++) {");
		cg_line(g, "\t\tif (a[i] != b[i])");
		cg_line(g, "\t\t\treturn false;");
		cg_line(g, "\t\tif (!a[i])");
		cg_line(g, "\t\t\treturn true;");
		cg_line(g, "\t}");
		cg_line(g, "\treturn (na >= nb || !b[na]) && (nb >= na || !a[nb]);");
		cg_line(g, "}");
		cg_blank(g);
	}
	if (eb->need_strcat) {
		cg_line(g, "/* dst = a + b, truncated to dst's size and always terminated. */");
		cg_line(g, "static __always_inline void ksc_strcat(char *dst, __u32 nd, const char *a, __u32 na,");
		cg_line(g, "\t\t\t\t\t      const char *b, __u32 nb)");
		cg_line(g, "{");
		cg_line(g, "\t__u32 i = 0, j = 0;");
		cg_blank(g);
		cg_line(g, "\tfor (; i < na && i + 1 < nd && a[i]; i++)");
		cg_line(g, "\t\tdst[i] = a[i];");
		cg_line(g, "\tfor (; j < nb && i + 1 < nd && b[j]; i++, j++)");
		cg_line(g, "\t\tdst[i] = b[j];");
		cg_line(g, "\tif (i < nd)");
		cg_line(g, "\t\tdst[i] = 0;");
		cg_line(g, "}");
		cg_blank(g);
	}
	if (eb->need_obj_new) {
		cg_line(g, "extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;");
		cg_line(g, "extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;");
		cg_line(g, "#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))");
		cg_line(g, "#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)");
		cg_blank(g);
	}
}

static void emit_declarations(struct cgen *g, struct ebpf *eb)
{
	bool globals = false;

	cg_emit_user_types(g);
	emit_externs(g);
	for (struct decl *d = g->prog->decls; d; d = d->next)
		if (d->kind == D_CONFIG)
			emit_config(g, d);
	for (struct decl *d = g->prog->decls; d; d = d->next)
		if (d->kind == D_MAP)
			emit_map(g, d);
	if (eb->tail_targets.n) {
		cg_line(g, "struct {");
		g->indent++;
		cg_line(g, "__uint(type, BPF_MAP_TYPE_PROG_ARRAY);");
		cg_line(g, "__uint(max_entries, %d);", eb->tail_targets.n);
		cg_line(g, "__type(key, __u32);");
		cg_line(g, "__type(value, __u32);");
		g->indent--;
		cg_line(g, "} %s SEC(\".maps\");", KSC_PROG_ARRAY);
		cg_blank(g);
	}
	emit_pinned_globals(g);
	for (struct decl *d = g->prog->decls; d; d = d->next) {
		if (d->kind == D_GLOBAL && d->target == TARGET_EBPF) {
			emit_global(g, d);
			globals |= !d->is_pinned;
		}
	}
	if (globals)
		cg_blank(g);
}

int ebpfgen_write(struct program *prog, const char *path)
{
	struct strbuf out, body;
	struct cgen g;
	struct ebpf eb = { 0 };
	int err;

	collect_tail_targets(prog, &eb.tail_targets);
	/* Functions first, into their own buffer: they decide what support code is needed. */
	sb_init(&body);
	cg_init(&g, prog->arena, prog, &body, &bpf_hooks);
	g.backend = &eb;
	emit_functions(&g);

	sb_init(&out);
	g.out = &out;
	cg_line(&g, "// SPDX-License-Identifier: GPL-2.0");
	cg_line(&g, "/* Generated by ksc from %s.ks: edit that file, not this one. */", prog->base);
	cg_line(&g, "#include \"vmlinux.h\"");
	cg_line(&g, "#include <bpf/bpf_helpers.h>");
	cg_line(&g, "#include <bpf/bpf_tracing.h>");
	cg_line(&g, "#include <bpf/bpf_core_read.h>");
	cg_blank(&g);
	cg_line(&g, "char LICENSE[] SEC(\"license\") = \"GPL\";");
	cg_blank(&g);
	emit_declarations(&g, &eb);
	emit_support(&g, &eb);
	sb_putn(&out, body.buf ? body.buf : "", body.len);
	cg_fix_line_resets(&out, arena_printf(prog->arena, "%s.ebpf.c", prog->base));
	err = write_file(path, out.buf, out.len);
	if (err)
		p_err("cannot write '%s': %s", path, strerror(-err));
	sb_free(&out);
	sb_free(&body);
	return err;
}

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	sb_vprintf(ctx, fmt, args);
}

int ebpfgen_write_vmlinux_h(const char *path)
{
	struct btf *btf = btf__parse(btf_types_path(), NULL);
	struct btf_dump *d;
	struct strbuf sb;
	int err = 0;
	__u32 n;

	if (!btf) {
		err = -errno;
		p_err("cannot read kernel BTF '%s': %s (use --btf FILE)", btf_types_path(),
		      strerror(errno));
		return err;
	}
	sb_init(&sb);
	sb_printf(&sb, "/* Generated by ksc from the kernel BTF %s. */\n", btf_types_path());
	sb_puts(&sb, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	sb_puts(&sb, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
		     "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
		     "#endif\n\n");
	d = btf_dump__new(btf, dump_printf, &sb, NULL);
	if (!d) {
		err = -errno;
		p_err("cannot dump kernel BTF: %s", strerror(errno));
		goto out;
	}
	n = btf__type_cnt(btf);
	for (__u32 id = 1; id < n && !err; id++)
		err = btf_dump__dump_type(d, id);
	btf_dump__free(d);
	if (err) {
		p_err("cannot dump kernel BTF: %s", strerror(-err));
		goto out;
	}
	sb_puts(&sb, "\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
		     "#endif /* __VMLINUX_H__ */\n");
	err = write_file(path, sb.buf, sb.len);
	if (err)
		p_err("cannot write '%s': %s", path, strerror(-err));
out:
	sb_free(&sb);
	btf__free(btf);
	return err;
}
