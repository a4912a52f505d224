/*
 * Compile-time checks for what the verifier rejects, on eBPF code only
 * (decl->target == TARGET_EBPF): loops without a bound ksc can prove, and
 * (flow-sensitively) possibly null dereferences of kfunc results and kfunc
 * references left unreleased.  Each rule errs towards accepting: a
 * program is rejected only where the rule proves the problem, and
 * docs/safety.md says why each rule cannot reject what the verifier takes.
 */
#include "safety_internal.h"

#include <stdlib.h>
#include <string.h>

#include "types.h"

/* ---- walking a function ---- */


void sf_walk_expr(const struct expr *e, walk_fn f, void *data, int loops, int depth)
{
	if (!e || depth > MAX_DEPTH)
		return;
	f(data, NULL, e, loops);
	sf_walk_expr(e->lhs, f, data, loops, depth + 1);
	sf_walk_expr(e->rhs, f, data, loops, depth + 1);
	for (const struct expr *a = e->args; a; a = a->next)
		sf_walk_expr(a, f, data, loops, depth + 1);
	for (const struct field_init *fi = e->fields; fi; fi = fi->next)
		sf_walk_expr(fi->value, f, data, loops, depth + 1);
	for (const struct match_arm *m = e->arms; m; m = m->next) {
		sf_walk_expr(m->value, f, data, loops, depth + 1);
		sf_walk_stmts(m->body, f, data, loops, depth + 1);
	}
}

void sf_walk_stmts(const struct stmt *s, walk_fn f, void *data, int loops, int depth)
{
	if (depth > MAX_DEPTH)
		return;
	for (; s; s = s->next) {
		int inner = loops + (s->kind == S_WHILE || s->kind == S_FOR);

		f(data, s, NULL, loops);
		sf_walk_expr(s->value, f, data, loops, depth + 1);
		sf_walk_expr(s->lhs, f, data, loops, depth + 1);
		sf_walk_expr(s->key, f, data, loops, depth + 1);
		sf_walk_stmts(s->then, f, data, loops, depth + 1);
		sf_walk_stmts(s->els, f, data, loops, depth + 1);
		sf_walk_stmts(s->body, f, data, inner, depth + 1);
		for (const struct catch_clause *c = s->catches; c; c = c->next)
			sf_walk_stmts(c->body, f, data, loops, depth + 1);
	}
}

bool sf_is_local(const struct expr *e, const struct stmt *var)
{
	return e && e->kind == E_IDENT && e->ref == REF_LOCAL && e->local == var;
}

struct count {
	const struct stmt *var;    /* assignments to var; NULL: continues */
	int n;
};

static void count_one(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct count *c = data;

	if (!s)
		return;
	if (c->var ? s->kind == S_ASSIGN && sf_is_local(s->lhs, c->var)
		   : s->kind == S_CONTINUE && loops == 0)
		c->n++;
}

static int assignments(const struct stmt *body, const struct stmt *var)
{
	struct count c = { var, 0 };

	sf_walk_stmts(body, count_one, &c, 0, 0);
	return c.n;
}

/* Whether s (one statement) holds a continue of the loop whose body it is in. */
static bool has_continue(const struct stmt *s)
{
	struct count c = { NULL, 0 };
	struct stmt one = *s;

	one.next = NULL;
	sf_walk_stmts(&one, count_one, &c, 0, 0);
	return c.n > 0;
}

static void find_addr(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct safety *sf = data;

	if (e && e->kind == E_UNARY && e->op == UOP_ADDR && e->lhs && e->lhs->kind == E_IDENT &&
	    e->lhs->ref == REF_LOCAL && e->lhs->local)
		ptrvec_push(sf->prog->arena, &sf->addr, e->lhs->local);
}

static bool addr_taken(const struct safety *sf, const struct stmt *var)
{
	for (int i = 0; i < sf->addr.n; i++)
		if (sf->addr.v[i] == var)
			return true;
	return false;
}

/* ---- constants and ranges ---- */

static bool constant(const struct expr *e, long long *v)
{
	if (e->kind == E_INT && e->ival > (uint64_t)INT64_MAX)
		return false;
	if (const_eval(e, v))
		return true;
	if (e->const_known) {
		*v = e->cval;
		return true;
	}
	return false;
}

/* A local that keeps its constant initializer: never assigned, address never taken. */
static bool local_constant(const struct safety *sf, const struct expr *e, long long *v)
{
	const struct stmt *var = e->kind == E_IDENT && e->ref == REF_LOCAL ? e->local : NULL;

	if (!var || var->kind != S_VAR || !var->value || addr_taken(sf, var))
		return false;
	return constant(var->value, v) && assignments(sf->fn->body, var) == 0;
}

static bool known_value(const struct safety *sf, const struct expr *e, long long *v)
{
	return constant(e, v) || local_constant(sf, e, v);
}

static i128 int_val_i128(struct int_val v)
{
	return v.neg ? -(i128)v.mag : (i128)v.mag;
}

static bool type_range(const struct type *t, i128 *lo, i128 *hi)
{
	struct int_val l, h;

	if (!t || !type_int_range(t, &l, &h))
		return false;
	*lo = int_val_i128(l);
	*hi = int_val_i128(h);
	return true;
}

static bool expr_range(const struct safety *sf, const struct expr *e, i128 *lo, i128 *hi);

/*
 * a + b or a - b of two known ranges, when the result stays in e's type
 * (so no wrap): `(base - 1)..(base + n)` of locals that keep constants.
 */
static bool sum_range(const struct safety *sf, const struct expr *e, i128 *lo, i128 *hi)
{
	i128 al, ah, bl, bh, tl, th;
	long long v;

	if (!(known_value(sf, e->lhs, &v) || e->lhs->kind == E_BINARY) ||
	    !(known_value(sf, e->rhs, &v) || e->rhs->kind == E_BINARY) ||
	    !expr_range(sf, e->lhs, &al, &ah) || !expr_range(sf, e->rhs, &bl, &bh) ||
	    !type_range(type_unalias(e->type), &tl, &th))
		return false;
	*lo = e->op == OP_ADD ? al + bl : al - bh;
	*hi = e->op == OP_ADD ? ah + bh : ah - bl;
	return *lo >= tl && *hi <= th;
}

/* The values e may have: a known value, x % K for unsigned x, else its type's range. */
static bool expr_range(const struct safety *sf, const struct expr *e, i128 *lo, i128 *hi)
{
	const struct type *t = type_unalias(e->type);
	long long v;

	if (known_value(sf, e, &v)) {
		*lo = *hi = v;
		return true;
	}
	if (e->kind == E_BINARY && (e->op == OP_ADD || e->op == OP_SUB) && t && t->kind == TY_INT &&
	    !t->int_literal && sum_range(sf, e, lo, hi))
		return true;
	if (e->kind == E_BINARY && e->op == OP_MOD && t && t->kind == TY_INT && !t->is_signed &&
	    constant(e->rhs, &v) && v > 0) {
		*lo = 0;
		*hi = v - 1;
		return true;
	}
	if (t && t->kind == TY_INT && t->int_literal)
		return false;
	return type_range(t, lo, hi);
}

/* ---- loops ---- */

/*
 * Whether ebpf_loops.c keeps the loop a plain C loop, which the verifier
 * bounds itself (so ksc need not): constant for bounds, or a body a
 * bpf_loop callback cannot hold.  Errs towards "plain", which skips the check.
 */
struct plain {
	bool plain;
};

static void plain_one(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct plain *p = data;

	if (s && (s->kind == S_TRY || s->kind == S_THROW || s->kind == S_DEFER))
		p->plain = true;
	if (s && s->kind == S_RETURN && s->value &&
	    (s->value->kind == E_MATCH || (s->value->kind == E_CALL && s->value->is_tail_call)))
		p->plain = true;
	if (e && e->kind == E_NEW)
		p->plain = true;
	if (e && e->kind == E_CALL && e->lhs && (e->lhs->kind == E_FIELD || e->lhs->kind == E_ARROW) &&
	    e->lhs->str && !strcmp(e->lhs->str, "reserve"))
		p->plain = true;
}

static bool stays_plain(const struct safety *sf, const struct stmt *s)
{
	struct plain p = { false };
	long long v;

	if (s->kind == S_FOR && constant(s->lhs, &v) && constant(s->key, &v))
		return true;
	if (sf->fn->ret_name)
		return true;
	sf_walk_stmts(s->body, plain_one, &p, 0, 0);
	return p.plain;
}

/*
 * `v REL N`: the loop goes on only while it holds.  N need not be
 * constant: any value in [n_lo, n_hi] (its type's range) bounds v as well.
 */
struct term {
	const struct stmt *var;
	const struct type *type;
	int rel;                   /* OP_LT, OP_LE, OP_GT, OP_GE */
	i128 n_lo, n_hi;
};

static int flip(int rel)
{
	return rel == OP_LT ? OP_GT : rel == OP_GT ? OP_LT : rel == OP_LE ? OP_GE : OP_LE;
}

static int negate(int rel)
{
	return rel == OP_LT ? OP_GE : rel == OP_GE ? OP_LT : rel == OP_LE ? OP_GT : OP_LE;
}

/*
 * e as `v REL N` with v an integer local and N's values known, if it is
 * one.  N's values must be values of v's type, so that C's conversions
 * for the comparison change neither side (u32 against i32 compares as
 * unsigned, for one).
 */
static bool as_term(const struct safety *sf, const struct expr *e, bool swap, struct term *t)
{
	const struct expr *v, *n;
	i128 lo, hi;
	int rel;

	if (e->kind != E_BINARY || e->op < OP_LT || e->op > OP_GE)
		return false;
	v = swap ? e->rhs : e->lhs;
	n = swap ? e->lhs : e->rhs;
	rel = swap ? flip(e->op) : e->op;
	if (!(v->kind == E_IDENT && v->ref == REF_LOCAL && v->local) ||
	    !expr_range(sf, n, &t->n_lo, &t->n_hi))
		return false;
	t->type = type_unalias(v->type);
	if (!t->type || t->type->kind != TY_INT || addr_taken(sf, v->local) ||
	    !type_range(t->type, &lo, &hi) || t->n_lo < lo || t->n_hi > hi)
		return false;
	t->var = v->local;
	t->rel = rel;
	return true;
}

#define MAX_TERMS 16

struct bounds {
	struct term t[MAX_TERMS];
	int n;
};

/* The terms of a condition the loop needs true (its && operands); exit: of one it leaves on (||). */
static void collect_terms(const struct safety *sf, const struct expr *e, bool exit,
			  struct bounds *b, int depth)
{
	if (!e || depth > MAX_DEPTH || b->n >= MAX_TERMS)
		return;
	if (e->kind == E_BINARY && e->op == (exit ? OP_OR : OP_AND)) {
		collect_terms(sf, e->lhs, exit, b, depth + 1);
		collect_terms(sf, e->rhs, exit, b, depth + 1);
		return;
	}
	for (int swap = 0; swap < 2 && b->n < MAX_TERMS; swap++)
		if (as_term(sf, e, swap, &b->t[b->n])) {
			if (exit)
				b->t[b->n].rel = negate(b->t[b->n].rel);
			b->n++;
		}
}

/* A guard's branch leaves the loop: it ends in break or return and holds no continue. */
static bool leaves_loop(const struct stmt *then)
{
	const struct stmt *last = then;

	if (!then)
		return false;
	for (const struct stmt *s = then; s; s = s->next) {
		if (has_continue(s))
			return false;
		last = s;
	}
	return last->kind == S_BREAK || last->kind == S_RETURN;
}

/* `v = v + C`, `v += C`, `v = C + v`, `v = v - C`, `v -= C`: the step C (negative: down). */
static bool as_step(const struct safety *sf, const struct stmt *s, const struct stmt *var,
		    i128 *step)
{
	const struct expr *x = s->value;
	long long c;

	if (s->kind != S_ASSIGN || !sf_is_local(s->lhs, var) || !x)
		return false;
	if ((s->op == OP_ADD || s->op == OP_SUB) && known_value(sf, x, &c)) {
		*step = s->op == OP_ADD ? (i128)c : -(i128)c;
		return c != 0;
	}
	if (s->op >= 0 || x->kind != E_BINARY || (x->op != OP_ADD && x->op != OP_SUB))
		return false;
	if (sf_is_local(x->lhs, var) && known_value(sf, x->rhs, &c))
		*step = x->op == OP_ADD ? (i128)c : -(i128)c;
	else if (x->op == OP_ADD && sf_is_local(x->rhs, var) && known_value(sf, x->lhs, &c))
		*step = c;
	else
		return false;
	return c != 0;
}

/*
 * The body's guards and steps, in order, up to the first statement that
 * may continue (after it, a statement may be skipped): guards
 * `if (EXIT) { ... break }` add the negation of EXIT's || operands.
 */
static void scan_body(const struct safety *sf, const struct stmt *body, struct bounds *b)
{
	for (const struct stmt *s = body; s; s = s->next) {
		if (s->kind == S_IF && leaves_loop(s->then))
			collect_terms(sf, s->value, true, b, 0);
		if (has_continue(s))
			break;
	}
}

/* The step the body takes for var on every iteration that goes on, if it has one. */
static bool body_step(const struct safety *sf, const struct stmt *body, const struct stmt *var,
		      i128 *step)
{
	if (assignments(body, var) != 1)
		return false;
	for (const struct stmt *s = body; s; s = s->next) {
		if (as_step(sf, s, var, step))
			return true;
		if (has_continue(s))
			return false;
	}
	return false;
}

static i128 ceil_div(i128 a, i128 b)
{
	return (a + b - 1) / b;
}

/*
 * Iterations of a loop that goes on only while t holds and moves t's
 * variable by step each time, from start (its first value's bound: the
 * least for steps up, the greatest for steps down); -1 when unbounded or
 * when the step could wrap the variable before the test fails.
 */
static i128 term_iterations(const struct term *t, i128 step, i128 start)
{
	i128 lo, hi, end;

	if (!type_range(t->type, &lo, &hi))
		return -1;
	if (step > 0 && (t->rel == OP_LT || t->rel == OP_LE)) {
		end = t->rel == OP_LT ? t->n_hi : t->n_hi + 1; /* goes on while v < end */
		if (end - 1 + step > hi)
			return -1;
		return start >= end ? 0 : ceil_div(end - start, step);
	}
	if (step < 0 && (t->rel == OP_GT || t->rel == OP_GE)) {
		end = t->rel == OP_GT ? t->n_lo : t->n_lo - 1; /* goes on while v > end */
		if (end + 1 + step < lo)
			return -1;
		return start <= end ? 0 : ceil_div(start - end, -step);
	}
	return -1;
}

/* The bound of v's first value: its constant initializer if only the loop changes it. */
static i128 start_value(const struct safety *sf, const struct stmt *loop, const struct term *t,
			bool up)
{
	i128 lo = 0, hi = 0;
	long long v;

	type_range(t->type, &lo, &hi);
	if (t->var->kind == S_VAR && t->var->value && constant(t->var->value, &v) &&
	    assignments(sf->fn->body, t->var) == assignments(loop->body, t->var))
		return v;
	return up ? lo : hi;
}

static bool while_bounded(const struct safety *sf, const struct stmt *s)
{
	struct bounds b = { .n = 0 };

	collect_terms(sf, s->value, false, &b, 0);
	scan_body(sf, s->body, &b);
	for (int i = 0; i < b.n; i++) {
		i128 step, n;

		if (!body_step(sf, s->body, b.t[i].var, &step))
			continue;
		n = term_iterations(&b.t[i], step, start_value(sf, s, &b.t[i], step > 0));
		if (n >= 0 && n <= LOOP_CAP)
			return true;
	}
	return false;
}

static bool for_bounded(const struct safety *sf, const struct stmt *s)
{
	struct bounds b = { .n = 0 };
	i128 lo, lohi, hilo, hi;

	if (!expr_range(sf, s->lhs, &lo, &lohi) && !type_range(type_unalias(s->var_type), &lo, &lohi))
		return false;
	if (expr_range(sf, s->key, &hilo, &hi) && hi - lo <= LOOP_CAP)
		return true;
	/* A guard on the loop's variable, which runs lo, lo + 1, ... while the body leaves it. */
	if (assignments(s->body, s) != 0)
		return false;
	scan_body(sf, s->body, &b);
	for (int i = 0; i < b.n; i++) {
		i128 n = b.t[i].var == s ? term_iterations(&b.t[i], 1, lo) : -1;

		if (n >= 0 && n + 1 <= LOOP_CAP)
			return true;
	}
	return false;
}

/* Whether the body's last top-level statement leaves the loop, with no continue before: one pass at most. */
static bool single_pass(const struct stmt *body)
{
	const struct stmt *last = body;

	for (const struct stmt *s = body; s; s = s->next) {
		if (has_continue(s))
			return false;
		last = s;
	}
	return last && (last->kind == S_BREAK || last->kind == S_RETURN || last->kind == S_THROW);
}

static void exit_one(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	if (s && ((s->kind == S_BREAK && loops == 0) || s->kind == S_RETURN || s->kind == S_THROW))
		*(bool *)data = true;
}

/* `while (true)` with no break, return or throw in it: it never ends. */
static bool endless(const struct stmt *s)
{
	bool exits = false;

	if (s->kind != S_WHILE || !s->value || s->value->kind != E_BOOL || !s->value->ival)
		return false;
	sf_walk_stmts(s->body, exit_one, &exits, 0, 0);
	return !exits;
}

/*
 * A loop that never ends is an error (bpf_loop would cut it at 8388608
 * iterations, silently).  One ksc cannot bound is a warning, not an error:
 * the proof rules are narrower than what the verifier accepts (values
 * flowing in from earlier branches, say), and a false error would refuse
 * a working program.
 */
static void check_loop(struct safety *sf, const struct stmt *s)
{
	if (stays_plain(sf, s) || single_pass(s->body))
		return;
	if (endless(s)) {
		diag_error(sf->d, s->loc, "this loop never ends (no break, return or throw): in eBPF "
			   "it would run through bpf_loop, which stops it silently after 8388608 iterations");
		diag_note(sf->d, s->loc, "bound it: 'for (i in 0..N)' with N constant, or a 'break'");
	} else if (s->kind == S_FOR && !for_bounded(sf, s)) {
		diag_warning(sf->d, s->key->loc, "this loop's bound is known only at run time: it runs "
			     "through bpf_loop, which stops it after 8388608 iterations");
		diag_note(sf->d, s->key->loc, "bound it: a constant, a u8 or u16 value (e.g. 'n as u16'), "
			  "or 'if (%s >= N) { break }' at the top of the body with N constant", s->name);
	} else if (s->kind == S_WHILE && !while_bounded(sf, s)) {
		diag_warning(sf->d, s->loc, "ksc cannot prove that this loop ends within 8388608 "
			     "iterations, where bpf_loop stops it");
		diag_note(sf->d, s->loc, "bound it with a counter: 'while (... && n < N)' with N constant "
			  "and 'n = n + 1' in the body before any 'continue', or use 'for (i in 0..N)'");
	}
}

static void loop_one(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	if (s && (s->kind == S_WHILE || s->kind == S_FOR))
		check_loop(data, s);
}

static void check_function(struct safety *sf, struct decl *fn)
{
	if (!fn->body || fn->target != TARGET_EBPF)
		return;
	sf->fn = fn;
	sf->addr = (struct ptrvec){ 0 };
	sf_walk_stmts(fn->body, find_addr, sf, 0, 0);
	sf_walk_stmts(fn->body, loop_one, sf, 0, 0);
	sf_flow_check(sf, fn);
	sf_prog_check(sf, fn);
}

void safety_check(struct program *prog, struct diag *d)
{
	struct safety sf = { .prog = prog, .d = d };

	for (struct decl *x = prog->decls; decl_visit(x); x = x->next) {
		if (x->kind == D_FUNC)
			check_function(&sf, x);
		for (struct decl *m = x->kind == D_IMPL ? x->methods : NULL; m; m = m->next)
			check_function(&sf, m);
	}
}
