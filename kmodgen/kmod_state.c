/*
 * Module state (@private globals) as concurrent C.  kfuncs run in the BPF
 * program that calls them, on every CPU at once, and so do the methods of
 * a @kmod congestion control; `count = count + 1` in plain C would lose
 * increments.  So the module backend chooses per variable:
 *
 * - 32- and 64-bit integers are atomic_t / atomic64_t: reads are
 *   atomic_read(), `x += e`, `x = x + e` and `x -= e` are atomic_add/sub(),
 *   `x = e` (e not reading x) is atomic_set(), and any other update that
 *   reads x is a try_cmpxchg loop over the old value, so every
 *   read-modify-write is atomic as a whole;
 * - other scalars (bool, 8/16-bit integers, pointers) are read and written
 *   with READ_ONCE/WRITE_ONCE: no torn or cached accesses, though an update
 *   of one is a separate read and write;
 * - structs and arrays, and any variable whose address is taken, stay
 *   plain C: the module author synchronises those.
 */
#include <string.h>

#include "kmodgen_internal.h"
#include "types.h"

enum state_kind { STATE_PLAIN, STATE_ONCE, STATE_ATOMIC, STATE_ATOMIC64 };

/* Every expression of module code, once each: what the scans below look at. */
typedef void visit_fn(struct expr *e);

static void walk_stmts(struct stmt *s, visit_fn *visit);

static void walk_expr(struct expr *e, visit_fn *visit)
{
	if (!e)
		return;
	visit(e);
	walk_expr(e->lhs, visit);
	walk_expr(e->rhs, visit);
	for (struct expr *a = e->args; a; a = a->next)
		walk_expr(a, visit);
	for (struct field_init *f = e->fields; f; f = f->next)
		walk_expr(f->value, visit);
	for (struct match_arm *m = e->arms; m; m = m->next) {
		walk_expr(m->value, visit);
		walk_stmts(m->body, visit);
	}
}

static void walk_stmts(struct stmt *s, visit_fn *visit)
{
	for (; s; s = s->next) {
		walk_expr(s->value, visit);
		walk_expr(s->lhs, visit);
		walk_expr(s->key, visit);
		walk_stmts(s->then, visit);
		walk_stmts(s->els, visit);
		walk_stmts(s->body, visit);
		for (struct catch_clause *c = s->catches; c; c = c->next)
			walk_stmts(c->body, visit);
	}
}

static void mark_addr(struct expr *e)
{
	if (e->kind != E_UNARY || e->op != UOP_ADDR)
		return;
	/* &x, &x.f, &x[i]: the variable behind the place is address-taken. */
	for (e = e->lhs; e && (e->kind == E_FIELD || e->kind == E_INDEX); e = e->lhs)
		;
	if (e && e->kind == E_IDENT && e->ref == REF_GLOBAL && e->decl)
		e->decl->addr_taken = true;
}

static void mark_used(struct expr *e)
{
	if (e->kind == E_IDENT && e->ref == REF_GLOBAL && e->decl)
		e->decl->kmod_unused = false;
}

/* Marks fn and what it calls as reached (unmarks kmod_unused), depth first. */
static void reach(struct decl *fn)
{
	if (!fn->kmod_unused)
		return;
	fn->kmod_unused = false;
	for (int i = 0; i < fn->calls.n; i++) {
		struct decl *callee = fn->calls.v[i];

		if (callee->kind == D_FUNC && callee->target == TARGET_KMOD)
			reach(callee);
	}
}

static bool is_private(const struct decl *d)
{
	return d->target == TARGET_KMOD &&
	       ((d->kind == D_FUNC && d->role == ROLE_PRIVATE) || d->kind == D_GLOBAL);
}

void kmod_mark_unused(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		d->kmod_unused = is_private(d);
	/* The module's entry points: its kfuncs and the methods of @kmod impl blocks. */
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_FUNC && d->target == TARGET_KMOD && d->role != ROLE_PRIVATE) {
			d->kmod_unused = true;
			reach(d);
		}
		if (d->kind == D_IMPL && d->target == TARGET_KMOD)
			for (struct decl *m = d->methods; m; m = m->next) {
				m->kmod_unused = true;
				reach(m);
			}
	}
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_FUNC && d->target == TARGET_KMOD && !d->kmod_unused)
			walk_stmts(d->body, mark_used);
		if (d->kind == D_IMPL && d->target == TARGET_KMOD) {
			for (struct decl *m = d->methods; m; m = m->next)
				walk_stmts(m->body, mark_used);
			for (struct impl_field *f = d->ifields; f; f = f->next)
				walk_expr(f->value, mark_used);
		}
	}
}

void kmod_state_scan(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_FUNC && d->target == TARGET_KMOD)
			walk_stmts(d->body, mark_addr);
		if (d->kind == D_IMPL && d->target == TARGET_KMOD)
			for (struct decl *m = d->methods; m; m = m->next)
				walk_stmts(m->body, mark_addr);
	}
}

static enum state_kind state_kind(const struct decl *d)
{
	struct type *t;

	if (!d || d->kind != D_GLOBAL || d->target != TARGET_KMOD || d->addr_taken)
		return STATE_PLAIN;
	t = type_unalias(d->ty);
	if (type_is_int(t) && type_size(t) == 8)
		return STATE_ATOMIC64;
	if (type_is_int(t) && type_size(t) == 4)
		return STATE_ATOMIC;
	return type_is_scalar(t) ? STATE_ONCE : STATE_PLAIN;
}

static bool is_state_ident(const struct expr *e, const struct decl *d)
{
	return e && e->kind == E_IDENT && e->ref == REF_GLOBAL && e->decl == d;
}

static bool is_unsigned(const struct decl *d)
{
	struct type *t = type_unalias(d->ty);

	return t->kind == TY_INT && !t->is_signed;
}

/* atomic_ or atomic64_ */
static const char *ops_of(enum state_kind k)
{
	return k == STATE_ATOMIC64 ? "atomic64" : "atomic";
}

bool kmod_state_uses_atomics(const struct program *prog)
{
	for (const struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (state_kind(d) >= STATE_ATOMIC)
			return true;
	return false;
}

void kmod_emit_state(struct cgen *g)
{
	bool any = false;

	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		enum state_kind k = state_kind(d);
		const char *name = cg_global_name(g, d);
		/* Statics start zeroed: checkpatch wants no `= 0` or `= false`. */
		bool zero = !d->init || ((d->init->kind == E_INT || d->init->kind == E_BOOL) &&
					 d->init->ival == 0);

		if (d->kind != D_GLOBAL || d->target != TARGET_KMOD || d->kmod_unused)
			continue;
		if (k >= STATE_ATOMIC)
			cg_line(g, "static %s_t %s = %s_INIT(%s);", ops_of(k), name,
				k == STATE_ATOMIC64 ? "ATOMIC64" : "ATOMIC",
				zero ? "0" : cg_expr_str(g, d->init));
		else if (!zero)
			cg_line(g, "static %s = %s;", cg_decl(g, d->ty, name), cg_expr_str(g, d->init));
		else
			cg_line(g, "static %s;", cg_decl(g, d->ty, name));
		any = true;
	}
	if (any)
		cg_blank(g);
}

bool kmod_state_read(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct kmod_backend *kb = g->backend;
	enum state_kind k;

	if (e->kind != E_IDENT || e->ref != REF_GLOBAL)
		return false;
	k = state_kind(e->decl);
	if (kb && kb->rmw && e->decl == kb->rmw) {
		/* Inside an update's try_cmpxchg loop: the value it started from. */
		sb_printf(sb, is_unsigned(e->decl) ? "(%s)__ksc_old" : "__ksc_old",
			  cg_type(g, e->decl->ty));
	} else if (k >= STATE_ATOMIC) {
		if (is_unsigned(e->decl))
			sb_printf(sb, "(%s)", cg_type(g, e->decl->ty));
		sb_printf(sb, "%s_read(&%s)", ops_of(k), cg_global_name(g, e->decl));
	} else if (k == STATE_ONCE) {
		sb_printf(sb, "READ_ONCE(%s)", cg_global_name(g, e->decl));
	} else {
		return false;
	}
	return true;
}

static bool reads(const struct expr *e, const struct decl *d)
{
	if (!e)
		return false;
	/* A match is too large to judge: it counts as reading x, to be safe. */
	if (is_state_ident(e, d) || e->arms || reads(e->lhs, d) || reads(e->rhs, d))
		return true;
	for (const struct expr *a = e->args; a; a = a->next)
		if (reads(a, d))
			return true;
	for (const struct field_init *f = e->fields; f; f = f->next)
		if (reads(f->value, d))
			return true;
	return false;
}

/* x = x + e, x = e + x, x = x - e as the delta e and its sign. */
static struct expr *delta_of(const struct stmt *s, const struct decl *d, bool *sub)
{
	const struct expr *v = s->value;

	*sub = s->op == OP_SUB;
	if (s->op == OP_ADD || s->op == OP_SUB)
		return reads(v, d) ? NULL : (struct expr *)v;
	if (s->op >= 0 || v->kind != E_BINARY || (v->op != OP_ADD && v->op != OP_SUB))
		return NULL;
	*sub = v->op == OP_SUB;
	if (is_state_ident(v->lhs, d) && !reads(v->rhs, d))
		return v->rhs;
	if (v->op == OP_ADD && is_state_ident(v->rhs, d) && !reads(v->lhs, d))
		return v->lhs;
	return NULL;
}

/* The new value of an update that reads x, with x read as __ksc_old. */
static const char *new_value(struct cgen *g, struct stmt *s, struct decl *d)
{
	struct kmod_backend *kb = g->backend;
	struct expr whole = { .kind = E_BINARY, .op = s->op, .lhs = s->lhs, .rhs = s->value,
			      .type = s->lhs->type };
	const char *text;

	kb->rmw = d;
	text = cg_expr_str(g, s->op < 0 ? s->value : &whole);
	kb->rmw = NULL;
	return text;
}

static void emit_cmpxchg(struct cgen *g, struct stmt *s, struct decl *d, enum state_kind k)
{
	const char *name = cg_global_name(g, d), *ops = ops_of(k);
	const char *ty = k == STATE_ATOMIC64 ? "s64" : "int";

	cg_block(g, "\
		{\n\
			%s __ksc_old = %s_read(&%s), __ksc_new;\n\
			\n\
			do {\n\
				__ksc_new = %s;\n\
			} while (!%s_try_cmpxchg(&%s, &__ksc_old, __ksc_new));\n\
		}\n", ty, ops, name, new_value(g, s, d), ops, name);
}

static void emit_once_store(struct cgen *g, struct stmt *s, struct decl *d)
{
	struct expr whole = { .kind = E_BINARY, .op = s->op, .lhs = s->lhs, .rhs = s->value,
			      .type = s->lhs->type };

	cg_line(g, "WRITE_ONCE(%s, %s);", cg_global_name(g, d),
		cg_expr_str(g, s->op < 0 ? s->value : &whole));
}

bool kmod_state_assign(struct cgen *g, struct stmt *s)
{
	struct decl *d;
	enum state_kind k;
	struct expr *delta;
	bool sub;

	if (s->kind != S_ASSIGN || !s->lhs || s->lhs->kind != E_IDENT || s->lhs->ref != REF_GLOBAL)
		return false;
	d = s->lhs->decl;
	k = state_kind(d);
	if (k == STATE_ONCE) {
		emit_once_store(g, s, d);
		return true;
	}
	if (k < STATE_ATOMIC)
		return false;
	delta = delta_of(s, d, &sub);
	if (delta)
		cg_line(g, "%s_%s(%s, &%s);", ops_of(k), sub ? "sub" : "add",
			cg_expr_str(g, delta), cg_global_name(g, d));
	else if (s->op < 0 && !reads(s->value, d))
		cg_line(g, "%s_set(&%s, %s);", ops_of(k), cg_global_name(g, d),
			cg_expr_str(g, s->value));
	else
		emit_cmpxchg(g, s, d, k);
	return true;
}
