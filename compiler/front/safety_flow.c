/*
 * The safety pass's flow analysis (safety.h): per eBPF function, which
 * locals may hold null (kfunc results marked ret_null, null itself) and
 * which hold a reference that must be released, statement by statement,
 * narrowed by null tests; a dereference of a possibly null local and a
 * reference still held where the function ends are reported.
 */
#include <stdlib.h>
#include <string.h>

#include "safety_internal.h"
#include "types.h"

/* ---- the flow analysis: nullable results and references ---- */

/*
 * Kernel kfuncs ksc knows by name (extern declarations carry no flags).
 * ret_null only where the kernel registers it KF_RET_NULL on every
 * release from 6.1 to 7.x that has it: bpf_task_acquire and
 * bpf_cgroup_acquire became KF_RET_NULL only in 6.4, so a dereference of
 * their result without a check loads on older kernels, and they are
 * listed as acquiring only.
 */
static const struct kfunc_fact {
	const char *name;
	bool ret_null, acquire, release;
	const char *release_with;  /* the release kfunc of what it acquires */
} kfunc_facts[] = {
	{ "bpf_task_from_pid", true, true, false, "bpf_task_release" },
	{ "bpf_task_acquire", false, true, false, "bpf_task_release" },
	{ "bpf_task_release", false, false, true, NULL },
	{ "bpf_cgroup_from_id", true, true, false, "bpf_cgroup_release" },
	{ "bpf_cgroup_ancestor", true, true, false, "bpf_cgroup_release" },
	{ "bpf_cgroup_acquire", false, true, false, "bpf_cgroup_release" },
	{ "bpf_cgroup_release", false, false, true, NULL },
	{ "bpf_cpumask_create", true, true, false, "bpf_cpumask_release" },
	{ "bpf_cpumask_release", false, false, true, NULL },
	{ "bpf_lookup_user_key", true, true, false, "bpf_key_put" },
	{ "bpf_lookup_system_key", true, true, false, "bpf_key_put" },
	{ "bpf_key_put", false, false, true, NULL },
};

/* What calling e does, for the kfuncs ksc knows (above, or @kfunc(FLAGS) of this program). */
static bool call_fact(const struct expr *e, struct kfunc_fact *f)
{
	const struct decl *d = e && e->kind == E_CALL && e->lhs && e->lhs->kind == E_IDENT ?
			       e->lhs->decl : NULL;

	memset(f, 0, sizeof(*f));
	if (!d || !(e->lhs->ref == REF_EXTERN || e->lhs->ref == REF_FUNC))
		return false;
	f->name = d->name;
	if (d->kind == D_EXTERN) {
		for (size_t i = 0; i < sizeof(kfunc_facts) / sizeof(kfunc_facts[0]); i++)
			if (!strcmp(kfunc_facts[i].name, d->name)) {
				*f = kfunc_facts[i];
				return true;
			}
		return false;
	}
	if (d->kind != D_FUNC || d->role != ROLE_KFUNC)
		return false;
	for (const struct attr *a = d->attrs; a; a = a->next) {
		if (strcmp(a->name, "kfunc"))
			continue;
		for (const struct attr_arg *g = a->args; g; g = g->next) {
			f->ret_null |= g->name && !strcmp(g->name, "ret_null");
			f->acquire |= g->name && !strcmp(g->name, "acquire");
			f->release |= g->name && !strcmp(g->name, "release");
		}
	}
	return true;
}

/* Borrowing calls: kfuncs and helpers, ksc's builtins (print), which keep no reference. */
static bool borrows(const struct expr *call)
{
	const struct expr *c = call->lhs;

	if (!c || c->kind != E_IDENT)
		return false;
	return c->ref == REF_EXTERN || c->ref == REF_BUILTIN ||
	       (c->ref == REF_FUNC && c->decl && c->decl->role == ROLE_KFUNC);
}

#define MAX_VARS 32
/* Budget of statements visited per function: nested loops iterate to a fixpoint each. */
#define FLOW_BUDGET 300000

enum { NB_NULL = 1, NB_NONNULL = 2 };    /* what a pointer may be */
enum { RB_HELD = 1, RB_NONE = 2, RB_GONE = 4 };  /* may hold a reference; may be released */

struct vstate {
	unsigned char nb, rb;
	const struct expr *nul;    /* where it may have become null */
	const struct expr *acq;    /* the call that acquired its reference */
	const struct expr *rel;    /* the call that released it */
};

struct state {
	bool dead;                 /* no path reaches here */
	struct vstate v[MAX_VARS];
};

struct loopctx {
	struct state *brk, *cont;
	struct loopctx *up;
};

struct flow {
	struct diag *d;
	struct arena *a;
	struct decl *fn;
	const struct stmt *vars[MAX_VARS];
	bool escaped[MAX_VARS];    /* copied, returned, stored or passed on: not followed */
	bool leak_reported[MAX_VARS];
	int nvars;
	int quiet;                 /* inside a loop's fixpoint iterations: no reports */
	long budget;
	int depth;
	struct loopctx *loop;
};

static struct state *st_copy(const struct state *s)
{
	struct state *n = malloc(sizeof(*n));

	if (!n)
		abort();
	*n = *s;
	return n;
}

static void st_join(struct state *a, const struct state *b)
{
	if (b->dead)
		return;
	if (a->dead) {
		*a = *b;
		return;
	}
	for (int i = 0; i < MAX_VARS; i++) {
		struct vstate *x = &a->v[i];
		const struct vstate *y = &b->v[i];

		if (!(x->nb & NB_NULL) && (y->nb & NB_NULL))
			x->nul = y->nul;
		if (!(x->rb & RB_HELD) && (y->rb & RB_HELD))
			x->acq = y->acq;
		if (!(x->rb & RB_GONE) && (y->rb & RB_GONE))
			x->rel = y->rel;
		x->nb |= y->nb;
		x->rb |= y->rb;
	}
}

static bool st_equal(const struct state *a, const struct state *b)
{
	if (a->dead || b->dead)
		return a->dead == b->dead;
	for (int i = 0; i < MAX_VARS; i++)
		if (a->v[i].nb != b->v[i].nb || a->v[i].rb != b->v[i].rb)
			return false;
	return true;
}

static int var_index(const struct flow *f, const struct expr *e)
{
	if (!e || e->kind != E_IDENT || e->ref != REF_LOCAL || !e->local)
		return -1;
	for (int i = 0; i < f->nvars; i++)
		if (f->vars[i] == e->local)
			return i;
	return -1;
}

static bool is_null(const struct expr *e)
{
	return e && e->kind == E_NULL;
}

/* ---- which locals are followed ---- */

static void find_vars(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct flow *f = data;
	const struct type *t = s && s->kind == S_VAR ? type_unalias(s->var_type) : NULL;

	if (t && t->kind == TY_PTR && f->nvars < MAX_VARS)
		f->vars[f->nvars++] = s;
}

/*
 * Marks the followed locals that e hands on: anything but a dereference,
 * a null test, a condition or an argument of a borrowing call makes a copy
 * ksc does not follow, so the local's reference is no longer its own to
 * release (its null state is still followed).  held: e's value is only
 * read in place.
 */
static void escapes(struct flow *f, const struct expr *e, bool held, int depth)
{
	bool inner;

	if (!e || depth > MAX_DEPTH)
		return;
	if (e->kind == E_IDENT) {
		int i = var_index(f, e);

		if (i >= 0 && !held)
			f->escaped[i] = true;
		return;
	}
	inner = e->kind == E_ARROW || e->kind == E_FIELD ||
		(e->kind == E_UNARY && (e->op == UOP_DEREF || e->op == UOP_NOT)) ||
		(e->kind == E_BINARY && (e->op == OP_AND || e->op == OP_OR)) ||
		(e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
		 (is_null(e->lhs) || is_null(e->rhs)));
	escapes(f, e->lhs, inner || e->kind == E_INDEX, depth + 1);
	escapes(f, e->rhs, inner && e->kind != E_INDEX, depth + 1);
	for (const struct expr *a = e->args; a; a = a->next)
		escapes(f, a, e->kind == E_CALL && borrows(e), depth + 1);
	for (const struct field_init *fi = e->fields; fi; fi = fi->next)
		escapes(f, fi->value, false, depth + 1);
}

static void escapes_stmts(struct flow *f, const struct stmt *s, int depth);

static void find_escapes(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct flow *f = data;

	if (!s) {
		/* Match arms are walked as statements below; their values escape. */
		for (const struct match_arm *m = e->kind == E_MATCH ? e->arms : NULL; m; m = m->next)
			escapes(f, m->value, false, 0);
		if (e->kind == E_MATCH)
			escapes(f, e->lhs, false, 0);
		return;
	}
	switch (s->kind) {
	case S_IF:
	case S_WHILE:
	case S_EXPR:
		escapes(f, s->value, true, 0);
		break;
	case S_ASSIGN:
		escapes(f, s->lhs, true, 0);
		escapes(f, s->value, false, 0);
		break;
	default:
		escapes(f, s->value, false, 0);
		escapes(f, s->lhs, false, 0);
		escapes(f, s->key, false, 0);
		break;
	}
}

static void escapes_stmts(struct flow *f, const struct stmt *s, int depth)
{
	sf_walk_stmts(s, find_escapes, f, 0, depth);
}

struct unsupported {
	bool found;
};

/* try, throw and defer move control in ways the analysis does not model. */
static void find_unsupported(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct unsupported *u = data;

	if (s && (s->kind == S_TRY || s->kind == S_THROW || s->kind == S_DEFER))
		u->found = true;
}

/* ---- reports ---- */

/*
 * x used (dereferenced, or passed to a call) where some path has released
 * it: the verifier invalidates every copy of a released reference.
 */
static bool report_released(struct flow *f, const struct expr *x, const struct state *st)
{
	int i = var_index(f, x);

	if (f->quiet || st->dead || i < 0 || !(st->v[i].rb & RB_GONE) || f->escaped[i])
		return false;
	diag_error(f->d, x->loc, "'%s' may be released here already, and the verifier rejects any "
		   "use of a released reference", x->str);
	if (st->v[i].rel)
		diag_note(f->d, st->v[i].rel->loc, "it is released here on some path: do not use "
			  "it after that");
	return true;
}

static void report_deref(struct flow *f, const struct expr *x, const struct state *st)
{
	struct kfunc_fact k;
	int i = var_index(f, x);

	if (f->quiet || st->dead || report_released(f, x, st))
		return;
	if (i >= 0 && (st->v[i].nb & NB_NULL)) {
		const struct expr *from = st->v[i].nul;

		diag_error(f->d, x->loc, "'%s' may be null here, and the verifier rejects a possibly "
			   "null dereference", x->str);
		if (from && is_null(from))
			diag_note(f->d, from->loc, "it is null from here on some path: check it "
				  "with 'if (%s != null)' first", x->str);
		else if (from)
			diag_note(f->d, from->loc, "it may be null from here ('%s' returns null when "
				  "it fails): check it with 'if (%s != null)' first",
				  call_fact(from, &k) ? k.name : "the call", x->str);
	} else if (call_fact(x, &k) && k.ret_null) {
		diag_error(f->d, x->loc, "the result of '%s' may be null, and the verifier rejects a "
			   "possibly null dereference", k.name);
		diag_note(f->d, x->loc, "keep it in a variable and check it first: "
			  "'var p = %s(...)' then 'if (p != null) { ... }'", k.name);
	}
}

/*
 * A followed local still holding its reference where its path ends or it
 * is overwritten: at, where what happens.
 */
static void report_leaks(struct flow *f, const struct state *st, int only, struct ks_loc at,
			 const char *what)
{
	struct kfunc_fact k;

	for (int i = 0; i < f->nvars && !f->quiet && !st->dead; i++) {
		const struct vstate *v = &st->v[i];
		const char *name = f->vars[i]->name;

		if ((only >= 0 && i != only) || f->escaped[i] || f->leak_reported[i] ||
		    !(v->rb & RB_HELD) || !v->acq)
			continue;
		f->leak_reported[i] = true;
		call_fact(v->acq, &k);
		diag_error(f->d, v->acq->loc, "'%s' holds a reference from '%s' that is not "
			   "released on every path, and the verifier rejects an unreleased reference",
			   name, k.name);
		if (k.release_with)
			diag_note(f->d, at, "%s, with '%s' still held: call %s(%s) before it", what,
				  name, k.release_with, name);
		else
			diag_note(f->d, at, "%s, with '%s' still held: release it first", what, name);
	}
}

/* ---- transfer ---- */

static void flow_stmts(struct flow *f, const struct stmt *s, struct state *st);
static void flow_cond(struct flow *f, const struct expr *e, const struct state *in,
		      struct state *t, struct state *fl);

/* Out of budget or too deep: the rest of the function is not analysed (nothing reported). */
static bool flow_stop(struct flow *f)
{
	return f->budget <= 0 || f->depth > MAX_DEPTH;
}

/* The state a followed local gets from value (NULL: declared without one). */
static struct vstate value_state(const struct flow *f, const struct expr *value,
				 const struct state *st)
{
	struct vstate v = { NB_NONNULL, RB_NONE, NULL, NULL, NULL };
	struct kfunc_fact k;
	int j = var_index(f, value);

	if (is_null(value)) {
		v.nb = NB_NULL;
		v.nul = value;
	} else if (j >= 0) {
		v.nb = st->v[j].nb;
		v.nul = st->v[j].nul;
	} else if (call_fact(value, &k)) {
		if (k.ret_null) {
			v.nb = NB_NULL | NB_NONNULL;
			v.nul = value;
		}
		if (k.acquire) {
			v.rb = RB_HELD;
			v.acq = value;
		}
	}
	return v;
}

static void narrow(struct state *st, int i, bool to_null)
{
	if (st->dead || i < 0)
		return;
	if (to_null) {
		/* A null reference is none: nothing to release on this path. */
		st->v[i].nb = NB_NULL;
		st->v[i].rb = RB_NONE;
	} else {
		st->v[i].nb = NB_NONNULL;
	}
}

static void flow_expr(struct flow *f, const struct expr *e, struct state *st);

static void flow_match(struct flow *f, const struct expr *e, struct state *st)
{
	struct state *out = st_copy(st);

	out->dead = true;
	for (const struct match_arm *m = e->arms; m; m = m->next) {
		struct state *arm = st_copy(st);

		flow_expr(f, m->value, arm);
		flow_stmts(f, m->body, arm);
		st_join(out, arm);
		free(arm);
	}
	*st = *out;
	free(out);
}

/* Calls: their arguments, then what a release does to the local it is given. */
static void flow_call(struct flow *f, const struct expr *e, struct state *st)
{
	struct kfunc_fact k;

	for (const struct expr *a = e->args; a; a = a->next) {
		flow_expr(f, a, st);
		report_released(f, a, st);
	}
	if (call_fact(e, &k) && k.release)
		for (const struct expr *a = e->args; a && !st->dead; a = a->next)
			if (var_index(f, a) >= 0) {
				st->v[var_index(f, a)].rb = RB_GONE;
				st->v[var_index(f, a)].rel = e;
				break;
			}
}

static void flow_expr(struct flow *f, const struct expr *e, struct state *st)
{
	const struct type *lt;

	if (!e || st->dead || flow_stop(f))
		return;
	f->depth++;
	lt = e->lhs ? type_unalias(e->lhs->type) : NULL;
	if (e->kind == E_ARROW || (e->kind == E_UNARY && e->op == UOP_DEREF) ||
	    ((e->kind == E_FIELD || e->kind == E_INDEX) && lt && lt->kind == TY_PTR))
		report_deref(f, e->lhs, st);
	if (e->kind == E_BINARY && (e->op == OP_AND || e->op == OP_OR)) {
		struct state *t = st_copy(st), *fl = st_copy(st);

		flow_cond(f, e, st, t, fl);
		st_join(t, fl);
		*st = *t;
		free(t);
		free(fl);
	} else if (e->kind == E_MATCH) {
		flow_expr(f, e->lhs, st);
		flow_match(f, e, st);
	} else if (e->kind == E_CALL) {
		flow_call(f, e, st);
	} else {
		flow_expr(f, e->lhs, st);
		flow_expr(f, e->rhs, st);
		for (const struct expr *a = e->args; a; a = a->next)
			flow_expr(f, a, st);
		for (const struct field_init *fi = e->fields; fi; fi = fi->next)
			flow_expr(f, fi->value, st);
	}
	f->depth--;
}

/* The null test e of a followed local, if it is one: *to_null for the true branch. */
static int null_test(const struct flow *f, const struct expr *e, bool *to_null)
{
	if (e->kind == E_IDENT) {
		*to_null = false;
		return var_index(f, e);
	}
	if (e->kind != E_BINARY || (e->op != OP_EQ && e->op != OP_NE))
		return -1;
	*to_null = e->op == OP_EQ;
	if (is_null(e->rhs))
		return var_index(f, e->lhs);
	if (is_null(e->lhs))
		return var_index(f, e->rhs);
	return -1;
}

/* The states after condition e is true (t) and false (fl), from in. */
static void flow_cond(struct flow *f, const struct expr *e, const struct state *in,
		      struct state *t, struct state *fl)
{
	bool to_null;
	int i;

	*t = *in;
	if (flow_stop(f)) {
		*fl = *in;
		return;
	}
	f->depth++;
	if (e->kind == E_UNARY && e->op == UOP_NOT) {
		flow_cond(f, e->lhs, in, fl, t);
	} else if (e->kind == E_BINARY && (e->op == OP_AND || e->op == OP_OR)) {
		struct state *a = st_copy(in), *b = st_copy(in), *c = st_copy(in), *d = st_copy(in);
		bool and = e->op == OP_AND;

		flow_cond(f, e->lhs, in, a, b);        /* a: lhs true, b: lhs false */
		flow_cond(f, e->rhs, and ? a : b, c, d);
		*t = and ? *c : *a;
		*fl = and ? *b : *d;
		st_join(and ? fl : t, and ? d : c);
		free(a), free(b), free(c), free(d);
	} else if ((i = null_test(f, e, &to_null)) >= 0) {
		*fl = *in;
		narrow(t, i, to_null);
		narrow(fl, i, !to_null);
	} else {
		flow_expr(f, e, t);
		*fl = *t;
		if (e->kind == E_BOOL)
			(e->ival ? fl : t)->dead = true;
	}
	f->depth--;
}

/* A followed local given value at at: a reference it still holds is lost. */
static void flow_set(struct flow *f, int i, const struct expr *value, struct state *st,
		     struct ks_loc at, const char *what)
{
	if (i < 0 || st->dead)
		return;
	report_leaks(f, st, i, at, what);
	st->v[i] = value_state(f, value, st);
}

/*
 * One pass over a loop from head: the state that comes back to the head
 * (*back) and the one after the loop (*exit).
 */
static void loop_pass(struct flow *f, const struct stmt *s, const struct state *head,
		      struct state *back, struct state *exit)
{
	struct state *brk = st_copy(head), *cont = st_copy(head), *t = st_copy(head);
	struct loopctx lc = { brk, cont, f->loop };

	brk->dead = cont->dead = true;
	f->loop = &lc;
	if (s->kind == S_WHILE)
		flow_cond(f, s->value, head, t, exit);
	else
		*exit = *head;
	flow_stmts(f, s->body, t);
	st_join(t, cont);
	*back = *t;
	st_join(exit, brk);
	f->loop = lc.up;
	free(brk), free(cont), free(t);
}

/*
 * A loop: its head state is the join of the entry and every way back,
 * found by iterating without reports (the lattice is finite, so this ends;
 * the cap only guards the budget), then one pass that reports.
 */
static void flow_loop(struct flow *f, const struct stmt *s, struct state *st)
{
	struct state *head = st_copy(st), *back = st_copy(st), *exit = st_copy(st);
	bool stable = false;

	if (s->kind == S_FOR) {
		flow_expr(f, s->lhs, head);
		flow_expr(f, s->key, head);
		*st = *head;
	}
	f->quiet++;
	for (int n = 0; n < 4 * MAX_VARS + 2 && !stable && !flow_stop(f); n++) {
		loop_pass(f, s, head, back, exit);
		st_join(back, st);
		stable = st_equal(back, head);
		*head = *back;
	}
	f->quiet--;
	f->quiet += !stable;
	loop_pass(f, s, head, back, exit);
	f->quiet -= !stable;
	*st = *exit;
	free(head), free(back), free(exit);
}

static void flow_if(struct flow *f, const struct stmt *s, struct state *st)
{
	struct state *t = st_copy(st), *fl = st_copy(st);

	if (s->kind == S_IF) {
		flow_cond(f, s->value, st, t, fl);
	} else {
		flow_expr(f, s->value, t);
		*fl = *t;
	}
	flow_stmts(f, s->then, t);
	flow_stmts(f, s->els, fl);
	st_join(t, fl);
	*st = *t;
	free(t), free(fl);
}

static void flow_stmt(struct flow *f, const struct stmt *s, struct state *st)
{
	switch (s->kind) {
	case S_VAR:
		flow_expr(f, s->value, st);
		for (int i = 0; i < f->nvars; i++)
			if (f->vars[i] == s)
				flow_set(f, i, s->value, st, s->loc,
					 "the loop comes back to this declaration");
		break;
	case S_ASSIGN:
		flow_expr(f, s->value, st);
		if (var_index(f, s->lhs) < 0)
			flow_expr(f, s->lhs, st);
		else if (s->op < 0)
			flow_set(f, var_index(f, s->lhs), s->value, st, s->loc,
				 "this assignment replaces it");
		else
			st->v[var_index(f, s->lhs)].nb = NB_NONNULL;
		break;
	case S_RETURN:
		flow_expr(f, s->value, st);
		report_leaks(f, st, -1, s->loc, "this return leaves the function");
		st->dead = true;
		break;
	case S_IF:
	case S_IFVAR:
		flow_if(f, s, st);
		break;
	case S_WHILE:
	case S_FOR:
		flow_loop(f, s, st);
		break;
	case S_BREAK:
	case S_CONTINUE:
		if (f->loop)
			st_join(s->kind == S_BREAK ? f->loop->brk : f->loop->cont, st);
		st->dead = true;
		break;
	default:
		flow_expr(f, s->value, st);
		flow_expr(f, s->lhs, st);
		flow_expr(f, s->key, st);
		break;
	}
}

static void flow_stmts(struct flow *f, const struct stmt *s, struct state *st)
{
	if (f->depth > MAX_DEPTH)
		return;
	f->depth++;
	for (; s && !st->dead && !flow_stop(f); s = s->next) {
		f->budget--;
		flow_stmt(f, s, st);
	}
	f->depth--;
}

void sf_flow_check(struct safety *sf, struct decl *fn)
{
	struct flow f = { .d = sf->d, .a = sf->prog->arena, .fn = fn, .budget = FLOW_BUDGET };
	struct unsupported u = { false };
	struct state *st;

	sf_walk_stmts(fn->body, find_unsupported, &u, 0, 0);
	sf_walk_stmts(fn->body, find_vars, &f, 0, 0);
	if (u.found || !f.nvars)
		return;
	escapes_stmts(&f, fn->body, 0);
	st = calloc(1, sizeof(*st));
	if (!st)
		abort();
	for (int i = 0; i < MAX_VARS; i++)
		st->v[i] = (struct vstate){ NB_NONNULL, RB_NONE, NULL, NULL, NULL };
	flow_stmts(&f, fn->body, st);
	if (!flow_stop(&f))
		report_leaks(&f, st, -1, fn->name_loc, "the function ends");
	free(st);
}

