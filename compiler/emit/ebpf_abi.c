/*
 * The part of the eBPF object's layout both backends compute: which
 * programs are tail-call targets and in which prog_array slot.  The eBPF
 * backend fills the slots, the loader keeps the targets loadable; both
 * must agree, so the walk lives here rather than in either backend.
 */
#include "ebpf_abi.h"

static void find_tail_calls_expr(struct ptrvec *v, struct arena *a, struct expr *e);

/*
 * The slot is marked on the target, for the questions asked per program
 * and per tail call, so nothing searches the vector.  A mark counts only
 * where the vector agrees, so one left by an earlier walk hides no target.
 */
static void add_target(struct ptrvec *v, struct arena *a, struct decl *d)
{
	if (d->tail_slot > 0 && d->tail_slot <= v->n && v->v[d->tail_slot - 1] == d)
		return;
	ptrvec_push(a, v, d);
	d->tail_slot = v->n;
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

void ebpf_tail_targets(const struct program *prog, struct ptrvec *targets)
{
	*targets = (struct ptrvec){ 0 };
	/* Each backend walks again: the same slots, from fresh marks (ebpf_tail_slot reads them). */
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		d->tail_slot = 0;
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_PROG)
			find_tail_calls_stmts(targets, prog->arena, d->body);
}

int ebpf_tail_slot(const struct decl *fn)
{
	return fn->tail_slot - 1;
}
