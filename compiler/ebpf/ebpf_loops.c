/*
 * Loops the verifier cannot unroll, run through bpf_loop.
 */
#include "ebpf_internal.h"

#include <string.h>

#include "types.h"

/* ---- loops the verifier cannot unroll ---- */

/*
 * A `for` with a bound known only at run time, and any `while`, run
 * through bpf_loop (kernel 5.17+): the verifier checks the body once
 * instead of walking every iteration.  The body becomes a callback; the
 * locals it uses travel in a context struct, copied in before and out
 * after the loop.  break and continue return 1 and 0 from the callback, a
 * return records its value and ends the loop, and the function returns it
 * after bpf_loop.  bpf_loop runs at most 1 << 23 iterations (the kernel's
 * limit); the front end's safety pass (compiler/front/safety.c) warns
 * about loops without a proof that they end within them and rejects a
 * `while (true)` with no way out, except in bodies that hold what it takes
 * for a plain loop (new, reserve(), ...).
 */
struct loop_cb {
	struct stmt *loop;
	struct ptrvec vars;          /* struct stmt *: locals the body uses */
	struct ptrvec exits;         /* S_BREAK/S_CONTINUE of this loop */
	bool returns;
	bool uses_index;             /* a for body reads its variable (else no __ksc_i: -Wunused) */
};

#define KSC_MAX_LOOPS "(1U << 23)"

static void add_var(struct arena *a, struct ptrvec *v, struct stmt *s)
{
	for (int i = 0; i < v->n; i++)
		if (v->v[i] == s)
			return;
	ptrvec_push(a, v, s);
}

static bool scan_stmts(struct cgen *g, struct loop_cb *l, struct stmt *s, bool nested);

/* Locals an expression uses; false if it has something a callback cannot hold. */
static bool scan_expr(struct cgen *g, struct loop_cb *l, struct expr *e)
{
	if (!e)
		return true;
	if (e->kind == E_IDENT && e->ref == REF_LOCAL && e->local && e->local != l->loop)
		add_var(g->a, &l->vars, e->local);
	if (e->kind == E_IDENT && e->ref == REF_LOCAL && e->local == l->loop)
		l->uses_index = true;
	if (e->kind == E_MATCH)
		for (struct match_arm *a = e->arms; a; a = a->next)
			if (!scan_stmts(g, l, a->body, true) || !scan_expr(g, l, a->value))
				return false;
	if (!scan_expr(g, l, e->lhs) || !scan_expr(g, l, e->rhs))
		return false;
	for (struct expr *a = e->args; a; a = a->next)
		if (!scan_expr(g, l, a))
			return false;
	for (struct field_init *f = e->fields; f; f = f->next)
		if (!scan_expr(g, l, f->value))
			return false;
	return true;
}

static bool scan_stmts(struct cgen *g, struct loop_cb *l, struct stmt *s, bool nested)
{
	for (; s; s = s->next) {
		switch (s->kind) {
		case S_TRY:
		case S_THROW:
		case S_DEFER:
			return false;
		case S_VAR:
		case S_IFVAR:
		case S_FOR:
			if (eb_owned_kind(g, s))
				return false;
			add_var(g->a, &l->vars, s);
			break;
		case S_RETURN:
			/* Valued matches and tail calls return from inside cgen. */
			if (s->value && (s->value->kind == E_MATCH ||
					 (s->value->kind == E_CALL && s->value->is_tail_call)))
				return false;
			l->returns = true;
			break;
		case S_BREAK:
		case S_CONTINUE:
			if (!nested)
				ptrvec_push(g->a, &l->exits, s);
			break;
		default:
			break;
		}
		if (!scan_expr(g, l, s->value) || !scan_expr(g, l, s->lhs) ||
		    !scan_expr(g, l, s->key))
			return false;
		if (!scan_stmts(g, l, s->then, nested) || !scan_stmts(g, l, s->els, nested) ||
		    !scan_stmts(g, l, s->body, nested || s->kind == S_FOR || s->kind == S_WHILE))
			return false;
	}
	return true;
}

static struct loop_cb *current_loop(struct cgen *g)
{
	struct ebpf *eb = EB(g);

	return eb->loops.n ? eb->loops.v[eb->loops.n - 1] : NULL;
}

static bool has_found_flag(struct stmt *v)
{
	return v->kind == S_VAR && v->from_lookup && v->null_checked;
}

/* struct __ksc_loopN: the callback's context, the body's locals first. */
static void emit_loop_context(struct cgen *g, struct loop_cb *l, int id)
{
	struct stmt *s = l->loop;

	cg_open(g, "struct __ksc_loop%d {", id);
	for (int i = 0; i < l->vars.n; i++) {
		struct stmt *v = l->vars.v[i];

		cg_line(g, "%s;", cg_decl(g, v->var_type, arena_printf(g->a, "v%d", i)));
		if (has_found_flag(v))
			cg_line(g, "bool v%d_found;", i);
	}
	if (s->kind == S_FOR) {
		cg_line(g, "%s;", cg_decl(g, s->var_type, "lo"));
		cg_line(g, "%s;", cg_decl(g, s->var_type, "hi"));
	}
	if (l->returns && g->fn->ret && !type_is_void(g->fn->ret))
		cg_line(g, "%s;", cg_decl(g, g->fn->ret, "ret"));
	cg_line(g, "int returned;");
	cg_close(g, "};");
	cg_blank(g);
}

/*
 * The callback's statements: the loop's body with its locals renamed to
 * context fields (and a for loop's variable to the callback's own) while
 * it is emitted.
 */
static void emit_loop_statements(struct cgen *g, struct loop_cb *l)
{
	struct ebpf *eb = EB(g);
	struct stmt *s = l->loop;
	const char **saved = arena_alloc(g->a, sizeof(char *) * (size_t)(l->vars.n + 1));
	const char *loop_name = s->cname;

	for (int i = 0; i < l->vars.n; i++) {
		struct stmt *v = l->vars.v[i];

		saved[i] = v->cname;
		v->cname = arena_printf(g->a, "__c->v%d", i);
	}
	if (s->kind == S_FOR)
		s->cname = "__ksc_i";
	ptrvec_push(g->a, &eb->loops, l);
	if (s->kind == S_WHILE) {
		cg_line(g, "if (!(%s))", cg_expr_str(g, s->value));
		cg_line(g, "\treturn 1;");
	}
	cg_emit_stmts(g, s->body);
	cg_line_map(g, s->loc);
	cg_line(g, "return 0;");
	eb->loops.n--;
	for (int i = 0; i < l->vars.n; i++)
		((struct stmt *)l->vars.v[i])->cname = saved[i];
	s->cname = loop_name;
}

/* The callback, into the pending buffer, with the body's locals renamed to context fields. */
static void emit_loop_callback(struct cgen *g, struct loop_cb *l, int id)
{
	struct ebpf *eb = EB(g);
	struct strbuf cb, *out = g->out;
	int indent = g->indent;

	sb_init(&cb);
	g->out = &cb;
	g->indent = 0;
	emit_loop_context(g, l, id);
	/* The callback's own code (the bounds check, the exit) is the loop's. */
	cg_line_map(g, l->loop->loc);
	cg_line(g, "static int __ksc_loop%d_body(__u64 __index, void *__ctx)", id);
	cg_open(g, "{");
	cg_line(g, "struct __ksc_loop%d *__c = __ctx;", id);
	if (l->loop->kind == S_FOR) {
		if (l->uses_index)
			cg_line(g, "%s;", cg_decl(g, l->loop->var_type, "__ksc_i"));
		cg_block(g, "\
			\n\
			if (__c->lo >= __c->hi || __index >= (__u64)__c->hi - (__u64)__c->lo)\n\
				return 1;\n");
		if (l->uses_index)
			cg_line(g, "__ksc_i = __c->lo + __index;");
	}
	cg_blank(g);
	emit_loop_statements(g, l);
	cg_line_map(g, l->loop->loc);
	cg_close(g, "}");
	cg_line_reset(g);
	cg_blank(g);
	g->out = out;
	g->indent = indent;
	sb_putn(&eb->pending, cb.buf ? cb.buf : "", cb.len);
	sb_free(&cb);
}

/* The loop s as a bpf_loop callback, or NULL if it stays a plain loop. */
static struct loop_cb *loop_callback(struct cgen *g, struct stmt *s)
{
	struct loop_cb *l;
	long long c;

	if (s->kind == S_FOR && const_eval(s->lhs, &c) && const_eval(s->key, &c))
		return NULL;
	l = arena_alloc(g->a, sizeof(*l));
	memset(l, 0, sizeof(*l));
	l->loop = s;
	if (g->fn->ret_name || !scan_stmts(g, l, s->body, false) || !scan_expr(g, l, s->value))
		return NULL;
	if (s->kind == S_FOR && (!scan_expr(g, l, s->lhs) || !scan_expr(g, l, s->key)))
		return NULL;
	return l;
}

/* The body's locals into the context before the loop (in), and back out of it after. */
static void copy_loop_vars(struct cgen *g, struct loop_cb *l, int id, bool in)
{
	for (int i = 0; i < l->vars.n; i++) {
		struct stmt *v = l->vars.v[i];
		const char *x = cg_local_name(v);
		const char *field = arena_printf(g->a, "__l%d.v%d", id, i);
		const char *dst = in ? field : x, *src = in ? x : field;

		cg_line(g, "__builtin_memcpy(&%s, &%s, sizeof(%s));", dst, src, field);
		if (has_found_flag(v))
			cg_line(g, "%s_found = %s_found;", dst, src);
	}
}

/* After the loop: the return the body recorded, emitted as a return of the function. */
static void loop_return(struct cgen *g, int id)
{
	bool valued = g->fn->ret && !type_is_void(g->fn->ret);
	struct expr *rv = arena_alloc(g->a, sizeof(*rv));
	struct stmt *ret = arena_alloc(g->a, sizeof(*ret));

	memset(rv, 0, sizeof(*rv));
	memset(ret, 0, sizeof(*ret));
	rv->kind = E_IDENT;
	rv->ref = REF_NONE;
	rv->str = arena_printf(g->a, "__l%d.ret", id);
	rv->type = g->fn->ret;
	ret->kind = S_RETURN;
	ret->value = valued ? rv : NULL;
	cg_open(g, "if (__l%d.returned) {", id);
	cg_emit_stmts(g, ret);
	cg_close(g, "}");
}

static bool emit_bpf_loop(struct cgen *g, struct stmt *s)
{
	struct loop_cb *l = loop_callback(g, s);
	int id;

	if (!l)
		return false;
	id = ++EB(g)->nloops;
	emit_loop_callback(g, l, id);

	cg_open(g, "{");
	cg_line(g, "struct __ksc_loop%d __l%d;", id, id);
	cg_blank(g);
	if (s->kind == S_FOR)
		cg_line(g, "(void)%s; /* the callback has its own */", cg_local_name(s));
	cg_line(g, "__builtin_memset(&__l%d, 0, sizeof(__l%d));", id, id);
	copy_loop_vars(g, l, id, true);
	if (s->kind == S_FOR) {
		/* Bounds evaluated once, lower first; the callback ends the loop at hi. */
		cg_line(g, "__l%d.lo = %s;", id, cg_expr_str(g, s->lhs));
		cg_line(g, "__l%d.hi = %s;", id, cg_expr_str(g, s->key));
	}
	/* A constant count: the verifier learns nothing about the bounds from it. */
	cg_line(g, "bpf_loop(%s, __ksc_loop%d_body, &__l%d, 0);", KSC_MAX_LOOPS, id, id);
	copy_loop_vars(g, l, id, false);
	if (l->returns)
		loop_return(g, id);
	cg_close(g, "}");
	return true;
}

/* break, continue and return inside a bpf_loop callback. */
static bool loop_exit(struct cgen *g, struct stmt *s)
{
	struct loop_cb *l = current_loop(g);

	if (!l)
		return false;
	if (s->kind == S_RETURN) {
		if (s->value && g->fn->ret && !type_is_void(g->fn->ret))
			cg_line(g, "__c->ret = %s;", cg_expr_str(g, s->value));
		cg_line(g, "__c->returned = 1;");
		cg_line(g, "return 1;");
		return true;
	}
	for (int i = 0; i < l->exits.n; i++)
		if (l->exits.v[i] == s) {
			cg_line(g, "return %d;", s->kind == S_BREAK);
			return true;
		}
	return false;
}

bool eb_loop_stmt(struct cgen *g, struct stmt *s)
{
	if ((s->kind == S_RETURN || s->kind == S_BREAK || s->kind == S_CONTINUE) && loop_exit(g, s))
		return true;
	return (s->kind == S_FOR || s->kind == S_WHILE) && emit_bpf_loop(g, s);
}
