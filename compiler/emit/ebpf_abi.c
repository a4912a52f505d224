/*
 * The part of the eBPF object's layout both backends compute: which
 * programs are tail-call targets and in which prog_array slot.  The eBPF
 * backend fills the slots, the loader keeps the targets loadable; both
 * must agree, so the walk lives here rather than in either backend.
 */
#include "ebpf_abi.h"

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

void ebpf_tail_targets(const struct program *prog, struct ptrvec *targets)
{
	*targets = (struct ptrvec){ 0 };
	for (struct decl *d = prog->decls; d; d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_PROG)
			find_tail_calls_stmts(targets, prog->arena, d->body);
}

int ebpf_tail_slot(const struct ptrvec *targets, const struct decl *fn)
{
	for (int i = 0; i < targets->n; i++)
		if (targets->v[i] == fn)
			return i;
	return -1;
}
