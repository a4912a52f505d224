/*
 * Accesses the verifier wants checked, emitted behind their checks:
 * packet reads against data_end, pointers that may hold no object, array
 * indexes known only at run time.
 */
#include "ebpf_internal.h"

#include <stdlib.h>
#include <string.h>

#include "types.h"

/* ---- packet fields ---- */

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

/* ---- packet pointers ---- */

/*
 * A packet pointer is a `*T` made by casting an integer computed from
 * ctx->data: `(ctx->data as u64 + 14) as *iphdr`, or a local initialized
 * with one.  Every access through it is emitted behind a data_end check of
 * the whole element it addresses (`*p`, `p->f...`: T; `p[i]`: element i):
 * a read outside the packet yields zero, a write outside it does nothing.
 */
static struct expr *pkt_field_in(struct expr *e)
{
	struct expr *f;

	switch (e->kind) {
	case E_ARROW:
	case E_FIELD:
		return is_packet_field(e) && !strcmp(e->str, "data") ? e : NULL;
	case E_BINARY:
		if (e->op != OP_ADD && e->op != OP_SUB)
			return NULL;
		f = pkt_field_in(e->lhs);
		return f ? f : e->op == OP_ADD ? pkt_field_in(e->rhs) : NULL;
	case E_CAST:
		return type_is_int(e->ty) ? pkt_field_in(e->lhs) : NULL;
	default:
		return NULL;
	}
}

/* The ctx->data field a packet pointer comes from, or NULL if e is none. */
static struct expr *pkt_origin(const struct expr *e, int depth)
{
	if (depth > 16)
		return NULL;
	if (e->kind == E_CAST && ut(e->ty)->kind == TY_PTR)
		return pkt_field_in(e->lhs);
	if (e->kind == E_IDENT && e->ref == REF_LOCAL && e->param_index < 0 && e->local &&
	    e->local->kind == S_VAR && e->local->value && e->type && ut(e->type)->kind == TY_PTR)
		return pkt_origin(e->local->value, depth + 1);
	return NULL;
}

struct pkt_access {
	struct expr *base;   /* the packet pointer */
	struct expr *index;  /* base[index] or NULL (*base, base->f) */
	struct expr *field;  /* its ctx->data */
};

/* Whether e reads or writes through a packet pointer, and which element. */
static bool pkt_access(struct expr *e, struct pkt_access *pa)
{
	for (;;) {
		struct type *lt = e->lhs && e->lhs->type ? ut(e->lhs->type) : NULL;

		if (!lt)
			return false;
		if (e->kind == E_FIELD || (e->kind == E_INDEX && !e->map_lookup &&
					   (lt->kind == TY_ARRAY || lt->kind == TY_STR))) {
			e = e->lhs;
			continue;
		}
		if ((e->kind == E_ARROW || (e->kind == E_UNARY && e->op == UOP_DEREF)) &&
		    lt->kind == TY_PTR) {
			pa->base = e->lhs;
			pa->index = NULL;
		} else if (e->kind == E_INDEX && !e->map_lookup && lt->kind == TY_PTR) {
			pa->base = e->lhs;
			pa->index = e->rhs;
		} else {
			return false;
		}
		pa->field = pkt_origin(pa->base, 0);
		return pa->field != NULL;
	}
}

static bool is_raw(struct cgen *g, const struct expr *e)
{
	for (int i = 0; i < EB(g)->raw.n; i++)
		if (EB(g)->raw.v[i] == e)
			return true;
	return false;
}

/* Marks the access path e..base as emitted unchecked; returns how many were marked. */
static int mark_raw(struct cgen *g, struct expr *e, const struct expr *base)
{
	int n = 0;

	for (; e && e != base; e = e->lhs, n++)
		ptrvec_push(g->a, &EB(g)->raw, e);
	return n;
}

/*
 * A program reads its ctx->data and ctx->data_end once, into locals, as
 * hand-written code does: packet pointers are then pointer arithmetic on
 * one value, and every check of one header compares the same two values,
 * so clang keeps one of them, where a fresh load of data_end after each
 * helper call would have to be checked again.  Not in bpf_loop callbacks
 * (their ctx travels in a struct), not when something the function sees
 * already has the name, and not in an object that calls a helper moving
 * the packet.
 */
static bool name_taken(struct cgen *g, const char *name)
{
	if (!strcmp(g->fn->params->name, name))
		return true;
	for (int i = 0; i < g->hoisted.n; i++)
		if (!strcmp(cg_local_name(g->hoisted.v[i]), name))
			return true;
	/* A global, map or constant of that name would be hidden by the local. */
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		if (d->name && (!strcmp(d->name, name) || !strcmp(eb_obj_cname(g, d->name), name)))
			return true;
		for (struct enum_const *c = d->consts; c; c = c->next)
			if (!strcmp(c->name, name))
				return true;
	}
	return false;
}

static bool pkt_local(struct cgen *g, const struct expr *ctx, const char *name, bool *used)
{
	if (!EB(g)->pkt_prog || EB(g)->pkt_changing || EB(g)->loops.n || ctx->kind != E_IDENT ||
	    ctx->ref != REF_LOCAL || ctx->param_index != 0 || ut(ctx->type)->kind != TY_PTR ||
	    name_taken(g, name))
		return false;
	*used = true;
	return true;
}

/* Inserts text into the output at pos. */
static void out_insert(struct cgen *g, size_t pos, const char *text)
{
	size_t n = g->out->len - pos;
	char *tail = malloc(n + 1);

	if (!tail)
		abort();
	memcpy(tail, g->out->buf + pos, n);
	g->out->len = pos;
	sb_puts(g->out, text);
	sb_putn(g->out, tail, n);
	free(tail);
}

void eb_declare_pkt_locals(struct cgen *g, struct decl *fn, size_t body)
{
	/* Whether cg_function_body declared anything, and so ended with a blank line. */
	bool decls = g->hoisted.n || g->defers.n || g->uses_err || fn->ret_name ||
		     (g->uses_out && fn->ret && !type_is_void(fn->ret));
	struct ebpf *eb = EB(g);
	struct strbuf sb;

	if (!eb->data_used && !eb->data_end_used)
		return;
	sb_init(&sb);
	if (eb->data_used)
		sb_printf(&sb, "\tvoid *data = (void *)(long)%s->data;\n", fn->params->name);
	if (eb->data_end_used)
		sb_printf(&sb, "\tvoid *data_end = (void *)(long)%s->data_end;\n", fn->params->name);
	/* A blank line ends the declarations if the body had none. */
	if (!decls)
		sb_putc(&sb, '\n');
	eb->data_used = eb->data_end_used = false;
	/* Right after the body's opening "{\n". */
	out_insert(g, strchr(g->out->buf + body, '\n') + 1 - g->out->buf, sb.buf);
	sb_free(&sb);
}

/* "(void *)(ELEM + 1) <= data_end" for an access. */
static const char *pkt_bound(struct cgen *g, const struct pkt_access *pa)
{
	const char *ctx = cg_expr_str(g, pa->field->lhs);
	const char *sep = ut(pa->field->lhs->type)->kind == TY_PTR ? "->" : ".";
	const char *base = cg_expr_str(g, pa->base);
	const char *end = pkt_local(g, pa->field->lhs, "data_end", &EB(g)->data_end_used) ?
			  "data_end" :
			  arena_printf(g->a, "(void *)(long)%s%sdata_end", ctx, sep);

	if (pa->index)
		return arena_printf(g->a, "(void *)(&(%s)[%s] + 1) <= %s", base,
				    cg_expr_str(g, pa->index), end);
	return arena_printf(g->a, "(void *)(%s + 1) <= %s", base, end);
}

/* The C text of a packet access path, without its check. */
static const char *pkt_path(struct cgen *g, struct expr *e, const struct pkt_access *pa)
{
	int n = mark_raw(g, e, pa->base);
	const char *r = cg_expr_str(g, e);

	EB(g)->raw.n -= n;
	return r;
}

static void pkt_read(struct cgen *g, struct strbuf *sb, struct expr *e, const struct pkt_access *pa)
{
	if (type_is_scalar(e->type))
		sb_printf(sb, "(%s ? %s : 0)", pkt_bound(g, pa), pkt_path(g, e, pa));
	else
		sb_printf(sb, "({ %s; __builtin_memset(&__v, 0, sizeof(__v)); if (%s) __v = %s; __v; })",
			  cg_decl(g, e->type, "__v"), pkt_bound(g, pa), pkt_path(g, e, pa));
}

static bool pkt_write(struct cgen *g, struct stmt *s)
{
	struct pkt_access pa;

	if (!pkt_access(s->lhs, &pa))
		return false;
	cg_line(g, "if (%s)", pkt_bound(g, &pa));
	cg_line(g, "\t%s %s= %s;", pkt_path(g, s->lhs, &pa), eb_assign_op(s),
		cg_expr_str(g, s->value));
	return true;
}

/* ---- pointers to objects kept in maps ---- */

/*
 * A local that may hold an object read from a map of objects is NULL when
 * the entry has none: reads through it yield zero then, and writes do
 * nothing, as for packet pointers.
 */
static struct expr *guarded_base(struct cgen *g, struct expr *e)
{
	for (;;) {
		struct type *lt = e->lhs && e->lhs->type ? ut(e->lhs->type) : NULL;

		if (!lt)
			return NULL;
		if ((e->kind == E_ARROW || e->kind == E_FIELD ||
		     (e->kind == E_UNARY && e->op == UOP_DEREF)) && lt->kind == TY_PTR)
			return eb_is_guarded(g, e->lhs) ? e->lhs : NULL;
		if (e->kind == E_FIELD || (e->kind == E_INDEX && !e->map_lookup &&
					   (lt->kind == TY_ARRAY || lt->kind == TY_STR))) {
			e = e->lhs;
			continue;
		}
		return NULL;
	}
}

/* The C text of an access path through base, without its check. */
static const char *guarded_path(struct cgen *g, struct expr *e, const struct expr *base)
{
	int n = mark_raw(g, e, base);
	const char *r = cg_expr_str(g, e);

	EB(g)->raw.n -= n;
	return r;
}

static void guarded_read(struct cgen *g, struct strbuf *sb, struct expr *e, struct expr *base)
{
	const char *p = cg_expr_str(g, base);

	if (type_is_scalar(e->type))
		sb_printf(sb, "(%s ? %s : 0)", p, guarded_path(g, e, base));
	else
		sb_printf(sb, "({ %s; __builtin_memset(&__v, 0, sizeof(__v)); if (%s) __v = %s; __v; })",
			  cg_decl(g, e->type, "__v"), p, guarded_path(g, e, base));
}

static bool guarded_write(struct cgen *g, struct stmt *s)
{
	struct expr *base = guarded_base(g, s->lhs);
	const char *lhs;

	if (!base)
		return false;
	lhs = guarded_path(g, s->lhs, base);
	/* A string copy is more than one statement: all of it under the check. */
	if (ut(s->lhs->type)->kind == TY_STR && s->op < 0) {
		cg_open(g, "if (%s) {", cg_expr_str(g, base));
		eb_str_assign(g, lhs, s->lhs->type, s->value);
		cg_close(g, "}");
		return true;
	}
	cg_line(g, "if (%s)", cg_expr_str(g, base));
	cg_line(g, "\t%s %s= %s;", lhs, eb_assign_op(s), cg_expr_str(g, s->value));
	return true;
}

/* ---- array indexes known only at run time ---- */

/*
 * a[i] with a non-constant i reads zero when i is out of range and writes
 * nothing: the verifier rejects stack and map-value accesses it cannot
 * bound, and KernelScript has no undefined behaviour to fall back on.
 */
static bool is_var_index(const struct expr *e)
{
	struct type *lt;
	long long v;

	if (e->kind != E_INDEX || e->map_lookup || !e->lhs->type)
		return false;
	lt = ut(e->lhs->type);
	return (lt->kind == TY_ARRAY || lt->kind == TY_STR) && !const_eval(e->rhs, &v);
}

static const char *index_tmp(struct cgen *g)
{
	return arena_printf(g->a, "__i%d", ++EB(g)->nidx);
}

/*
 * Whether e lies inside the record a tracepoint program's ctx points to:
 * the verifier wants constant offsets from ctx, so a run-time index into
 * it reads through bpf_probe_read_kernel instead.
 */
static bool in_tp_record(struct cgen *g, const struct expr *e)
{
	if (!g->fn || g->fn->prog != PROG_TRACEPOINT)
		return false;
	while (e->kind == E_FIELD || (e->kind == E_INDEX && !e->map_lookup &&
				      ut(e->lhs->type)->kind == TY_ARRAY))
		e = e->lhs;
	if (e->kind != E_ARROW)
		return false;
	e = e->lhs;
	return e->kind == E_IDENT && e->ref == REF_LOCAL && e->param_index == 0;
}

static void index_read(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	const char *i = index_tmp(g);
	const char *arr = cg_expr_str(g, e->lhs);
	long long n = ut(e->lhs->type)->count;

	/* The index is evaluated once: the verifier bounds the register it checked. */
	sb_printf(sb, "({ __u64 %s = %s; ", i, cg_expr_str(g, e->rhs));
	if (in_tp_record(g, e->lhs))
		sb_printf(sb, "%s; __builtin_memset(&__v, 0, sizeof(__v)); "
			  "if (%s < %lld) bpf_probe_read_kernel(&__v, sizeof(__v), &(%s)[%s]); __v; })",
			  cg_decl(g, e->type, "__v"), i, n, arr, i);
	else if (type_is_scalar(e->type))
		sb_printf(sb, "%s < %lld ? (%s)[%s] : 0; })", i, n, arr, i);
	else
		sb_printf(sb, "%s; __builtin_memset(&__v, 0, sizeof(__v)); if (%s < %lld) __v = (%s)[%s]; __v; })",
			  cg_decl(g, e->type, "__v"), i, n, arr, i);
}

/* The lvalue e with each run-time index replaced by its checked temporary. */
static const char *index_lvalue(struct cgen *g, struct expr *e, struct strbuf *guards)
{
	const char *base, *i;

	if (is_var_index(e)) {
		base = index_lvalue(g, e->lhs, guards);
		i = index_tmp(g);
		cg_line(g, "__u64 %s = %s;", i, cg_expr_str(g, e->rhs));
		sb_printf(guards, "%s%s < %lld", guards->len ? " && " : "", i,
			  ut(e->lhs->type)->count);
		return arena_printf(g->a, "(%s)[%s]", base, i);
	}
	if (e->kind == E_FIELD || (e->kind == E_INDEX && !e->map_lookup)) {
		base = index_lvalue(g, e->lhs, guards);
		if (e->kind == E_FIELD)
			return arena_printf(g->a, "(%s)%s%s", base,
					    ut(e->lhs->type)->kind == TY_PTR ? "->" : ".", e->str);
		return arena_printf(g->a, "(%s)[%s]", base, cg_expr_str(g, e->rhs));
	}
	return cg_expr_str(g, e);
}

static bool has_var_index(const struct expr *e)
{
	for (; e && (e->kind == E_FIELD || e->kind == E_INDEX); e = e->lhs)
		if (is_var_index(e))
			return true;
	return false;
}

/* An assignment whose target indexes an array with a run-time index. */
static bool index_write(struct cgen *g, struct stmt *s)
{
	struct strbuf guards;
	const char *lhs;

	if (!has_var_index(s->lhs))
		return false;
	sb_init(&guards);
	cg_open(g, "{");
	lhs = index_lvalue(g, s->lhs, &guards);
	cg_line(g, "if (%s)", guards.buf);
	cg_line(g, "\t%s %s= %s;", lhs, eb_assign_op(s), cg_expr_str(g, s->value));
	cg_close(g, "}");
	sb_free(&guards);
	return true;
}

/* ---- entry points ---- */

/*
 * Whether the address a packet pointer is cast from is ctx->data plus and
 * minus integers, each step 64 bits wide: then it can be pointer
 * arithmetic on the data local.
 */
static bool pkt_sum(const struct expr *e)
{
	switch (e->kind) {
	case E_ARROW:
	case E_FIELD:
		return is_packet_field(e);
	case E_BINARY:
		if (e->op != OP_ADD && e->op != OP_SUB)
			return false;
		return (pkt_field_in(e->lhs) && pkt_sum(e->lhs)) ||
		       (e->op == OP_ADD && pkt_field_in(e->rhs) && pkt_sum(e->rhs));
	case E_CAST:
		return type_is_int(e->ty) && type_size(e->ty) == 8 && pkt_sum(e->lhs);
	default:
		return false;
	}
}

/* (T *)(data + 14): the cast of a pkt_sum, through the data local. */
static bool packet_pointer(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct expr *f;
	struct expr *outer = EB(g)->pkt_ptr;
	bool bare;

	if (!(e->kind == E_CAST && ut(e->ty)->kind == TY_PTR && pkt_sum(e->lhs)))
		return false;
	f = pkt_field_in(e->lhs);
	if (!pkt_local(g, f->lhs, "data", &EB(g)->data_used))
		return false;
	bare = e->lhs == f || (e->lhs->kind == E_CAST && e->lhs->lhs == f);
	sb_printf(sb, bare ? "(%s)" : "(%s)(", cg_type(g, e->ty));
	EB(g)->pkt_ptr = f;
	cg_expr(g, sb, e->lhs);
	EB(g)->pkt_ptr = outer;
	if (!bare)
		sb_putc(sb, ')');
	return true;
}

/*
 * ctx->data + 14 > ctx->data_end: a bounds check written on the fields.
 * Compared as the u32s they are declared, clang zero-extends the sum with
 * shifts, which the verifier refuses on a packet pointer ("pointer
 * arithmetic with <<= operator prohibited"); 64-bit, as C programs write
 * it, the verifier learns the packet's checked length from it.
 */
static bool packet_compare(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (e->kind != E_BINARY || e->op < OP_EQ || e->op > OP_GE || EB(g)->pkt_wide ||
	    !pkt_sum(e->lhs) || !pkt_sum(e->rhs))
		return false;
	EB(g)->pkt_wide = true;
	cg_expr(g, sb, e);
	EB(g)->pkt_wide = false;
	return true;
}

/* ctx->data in address arithmetic, and the casts that make packet pointers of it. */
static bool packet_address(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (packet_compare(g, sb, e))
		return true;
	if (EB(g)->pkt_ptr && (e == EB(g)->pkt_ptr ||
			       (e->kind == E_CAST && e->lhs == EB(g)->pkt_ptr))) {
		sb_puts(sb, "data");
		return true;
	}
	if (packet_pointer(g, sb, e))
		return true;
	if (EB(g)->pkt_wide && is_packet_field(e)) {
		/* 64-bit address arithmetic: a 32-bit sum would be truncated by shifts. */
		sb_printf(sb, "(long)%s%s%s", cg_expr_str(g, e->lhs),
			  ut(e->lhs->type)->kind == TY_PTR ? "->" : ".", e->str);
		return true;
	}
	if (e->kind == E_CAST && ut(e->ty)->kind == TY_PTR && pkt_field_in(e->lhs) &&
	    !EB(g)->pkt_wide) {
		/* (T *)((long)ctx->data + 14): the verifier follows the packet pointer. */
		bool bare = is_packet_field(e->lhs);

		sb_printf(sb, bare ? "(%s)" : "(%s)(", cg_type(g, e->ty));
		EB(g)->pkt_wide = true;
		cg_expr(g, sb, e->lhs);
		EB(g)->pkt_wide = false;
		if (!bare)
			sb_putc(sb, ')');
		return true;
	}
	return false;
}

/* Reads through packet pointers, guarded pointers and run-time indexes, and &p->f. */
static bool checked_read(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct pkt_access pa;
	struct expr *base;

	if (!is_raw(g, e) && pkt_access(e, &pa)) {
		pkt_read(g, sb, e, &pa);
		return true;
	}
	if (!is_raw(g, e) && (base = guarded_base(g, e))) {
		guarded_read(g, sb, e, base);
		return true;
	}
	if (!is_raw(g, e) && is_var_index(e)) {
		index_read(g, sb, e);
		return true;
	}
	if (e->kind == E_UNARY && e->op == UOP_ADDR && pkt_access(e->lhs, &pa)) {
		/* &p->f is an address, not a read. */
		int n = mark_raw(g, e->lhs, pa.base);

		sb_putc(sb, '&');
		cg_expr(g, sb, e->lhs);
		EB(g)->raw.n -= n;
		return true;
	}
	return false;
}

/* *ctx->data, and data_end - data. */
static bool packet_data(struct cgen *g, struct strbuf *sb, struct expr *e)
{
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
	return false;
}

bool eb_access_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	return packet_address(g, sb, e) || checked_read(g, sb, e) || packet_data(g, sb, e);
}

bool eb_access_stmt(struct cgen *g, struct stmt *s)
{
	return s->kind == S_ASSIGN && (pkt_write(g, s) || guarded_write(g, s) || index_write(g, s));
}
