/*
 * What the eBPF backend works out rather than emits.  Before any code is
 * emitted, once: the tail-call slots, the kernel symbols the object
 * declares, the slot types of maps of objects.  Per function, once, on
 * first need: which locals own a reference the verifier wants released
 * and which may point at an object read from a map.
 */
#include "ebpf_internal.h"

#include <string.h>

#include "ebpf_abi.h"
#include "names.h"

/*
 * BPF helpers are called through libbpf's declarations (bpf_helper_defs.h,
 * the NAME_EBPF_DECL list), not as kfuncs: a `__ksym` of the same name is
 * "a redefinition as a different kind of symbol" to clang.
 */
static bool is_legacy_helper(struct program *prog, const char *name)
{
	return !strncmp(name, "bpf_", 4) && (names_taken(prog->kernel, name) & NAME_EBPF_DECL);
}

/* ---- analyses, done once before any code is emitted ---- */

/*
 * Functions and externs some eBPF function or struct_ops method calls, in
 * order, and as a set (in): asked once per kfunc and extern.
 */
static void find_ebpf_callees(struct program *prog, struct ptrvec *callees, struct ptrmap *in)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		struct decl *fns = d->kind == D_IMPL ? d->methods : d->kind == D_FUNC ? d : NULL;

		for (struct decl *f = fns; f; f = d->kind == D_IMPL ? f->next : NULL) {
			if (f->target != TARGET_EBPF)
				continue;
			for (int i = 0; i < f->calls.n; i++)
				if (!ptrmap_has(in, f->calls.v[i])) {
					ptrmap_put(prog->arena, in, f->calls.v[i], NULL);
					ptrvec_push(prog->arena, callees, f->calls.v[i]);
				}
		}
	}
}

/*
 * The kfuncs and externs the object declares as kernel symbols: those
 * eBPF code calls, and kfuncs userspace calls (through a trampoline), but
 * not the BPF helpers libbpf declares.
 */
static void find_ksyms(struct program *prog, struct ebpf *eb)
{
	struct ptrvec callees = { 0 };
	struct ptrmap called = { 0 };

	find_ebpf_callees(prog, &callees, &called);
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		bool kf = d->kind == D_FUNC && d->role == ROLE_KFUNC;

		if (!(kf || d->kind == D_EXTERN) || is_legacy_helper(prog, d->name))
			continue;
		if (ptrmap_has(&called, d) || (kf && d->called_from_user))
			ptrvec_push(prog->arena, &eb->ksyms, d);
	}
}

/* The structs kept in maps of objects, each once: each has its slot type. */
static void find_kptr_slots(struct program *prog, struct ebpf *eb)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		struct decl *obj = d->kind == D_MAP ? eb_kptr_struct(d->ty) : NULL;

		if (obj && !eb_in_vec(&eb->slots, obj))
			ptrvec_push(prog->arena, &eb->slots, obj);
	}
	/* Storing into such a map drops the object it replaces. */
	if (eb->slots.n)
		eb->need_obj_new = true;
}

/*
 * Whether eBPF code calls a helper that may move the packet (the kernel's
 * bpf_helper_changes_pkt_data): the verifier forgets every packet pointer
 * after one, data_end included, so programs then read data_end afresh.
 */
static bool calls_pkt_changing(struct program *prog)
{
	static const char *const prefixes[] = {
		"bpf_xdp_adjust_", "bpf_skb_", "bpf_l3_csum_", "bpf_l4_csum_",
		"bpf_clone_redirect", "bpf_lwt_", "bpf_msg_", "bpf_sk_",
	};
	struct ptrvec callees = { 0 };
	struct ptrmap called = { 0 };

	find_ebpf_callees(prog, &callees, &called);
	for (int i = 0; i < callees.n; i++) {
		struct decl *d = callees.v[i];

		for (size_t j = 0; d->kind == D_EXTERN && j < ARRAY_SIZE(prefixes); j++)
			if (!strncmp(d->name, prefixes[j], strlen(prefixes[j])))
				return true;
	}
	return false;
}

void eb_analyse(struct program *prog, struct ebpf *eb)
{
	ebpf_tail_targets(prog, &eb->tail_targets);
	find_ksyms(prog, eb);
	find_kptr_slots(prog, eb);
	eb->pkt_changing = calls_pkt_changing(prog);
}

/* ---- owned pointers (enum owned, ebpf_internal.h) ---- */

struct var_use {
	bool init_new, assigned, assigned_new, kptr_read, stored;
};

static void scan_var_stmts(const struct stmt *s, const struct stmt *var, struct var_use *u);

static bool is_local(const struct expr *e, const struct stmt *var)
{
	return e && e->kind == E_IDENT && e->ref == REF_LOCAL && e->local == var;
}

static void scan_var_expr(const struct expr *e, const struct stmt *var, struct var_use *u)
{
	if (!e)
		return;
	scan_var_expr(e->lhs, var, u);
	scan_var_expr(e->rhs, var, u);
	for (const struct expr *a = e->args; a; a = a->next)
		scan_var_expr(a, var, u);
	for (const struct match_arm *m = e->arms; m; m = m->next) {
		scan_var_expr(m->value, var, u);
		scan_var_stmts(m->body, var, u);
	}
}

static void scan_var_stmts(const struct stmt *s, const struct stmt *var, struct var_use *u)
{
	for (; s; s = s->next) {
		if (s == var && s->value) {
			u->init_new = s->value->kind == E_NEW;
			u->kptr_read |= eb_is_kptr_read(s->value);
		}
		if (s->kind == S_ASSIGN && is_local(s->lhs, var)) {
			u->assigned = true;
			u->assigned_new |= s->value->kind == E_NEW;
			u->kptr_read |= eb_is_kptr_read(s->value);
		}
		if (s->kind == S_ASSIGN && s->op < 0 && eb_is_kptr_read(s->lhs) &&
		    is_local(s->value, var))
			u->stored = true;
		scan_var_expr(s->value, var, u);
		scan_var_stmts(s->then, var, u);
		scan_var_stmts(s->els, var, u);
		scan_var_stmts(s->body, var, u);
		for (const struct catch_clause *c = s->catches; c; c = c->next)
			scan_var_stmts(c->body, var, u);
	}
}

/* Sorts the current function's locals into split owners and guarded pointers. */
static void scan_owners(struct cgen *g)
{
	struct ebpf *eb = EB(g);

	if (eb->owners_fn == g->fn)
		return;
	eb->owners_fn = g->fn;
	eb->owners = (struct ptrvec){ 0 };
	eb->guarded = (struct ptrvec){ 0 };
	for (int i = 0; i < g->hoisted.n; i++) {
		struct stmt *v = g->hoisted.v[i];
		struct var_use u = { 0 };

		if (v->kind != S_VAR)
			continue;
		scan_var_stmts(g->fn->body, v, &u);
		if ((u.init_new || u.assigned_new) && (!u.init_new || u.assigned || u.stored)) {
			ptrvec_push(g->a, &eb->owners, v);
			ptrvec_push(g->a, &eb->guarded, v);
		} else if (u.kptr_read) {
			ptrvec_push(g->a, &eb->guarded, v);
		}
	}
}

enum owned eb_owned_kind(struct cgen *g, const struct stmt *var)
{
	const struct expr *v = var->value;

	scan_owners(g);
	if (eb_in_vec(&EB(g)->owners, var))
		return OWN_SPLIT;
	if ((var->kind != S_VAR && var->kind != S_IFVAR) || !v)
		return OWN_NONE;
	if (eb_is_ringbuf_call(v, "reserve"))
		return OWN_RINGBUF;
	if (v->kind == E_NEW)
		return OWN_OBJ;
	return OWN_NONE;
}

bool eb_is_owned_ref(struct cgen *g, const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_LOCAL && e->local && eb_owned_kind(g, e->local);
}

/* The variable holding the reference a split owner owns. */
const char *eb_owner_name(struct cgen *g, const struct stmt *var)
{
	return arena_printf(g->a, "%s_owned", cg_local_name((struct stmt *)var));
}

bool eb_is_split_owner(struct cgen *g, const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_LOCAL && e->local &&
	       eb_owned_kind(g, e->local) == OWN_SPLIT;
}

/* A local whose accesses are checked against NULL: it may hold a kptr read from a map. */
bool eb_is_guarded(struct cgen *g, const struct expr *e)
{
	if (e->kind != E_IDENT || e->ref != REF_LOCAL || !e->local)
		return false;
	scan_owners(g);
	return eb_in_vec(&EB(g)->guarded, e->local);
}
