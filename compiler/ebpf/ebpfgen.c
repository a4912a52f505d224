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
#include "names.h"
#include "sema.h"
#include "types.h"

struct ebpf {
	/* What ebpf_analyse finds before any code is emitted. */
	struct ptrvec tail_targets;  /* struct decl *, index = slot */
	struct ptrvec ksyms;         /* struct decl *: kfuncs and externs declared __ksym */
	struct ptrvec slots;         /* struct decl *: structs kept in maps through kptrs */

	/* What emitting the functions finds they need. */
	struct ptrvec consts;        /* struct enum_const * used but absent from BTF */
	struct ptrvec raw;           /* struct expr * of packet accesses being emitted unchecked */
	struct ptrvec loops;         /* struct loop_cb *: bpf_loop callbacks being emitted */
	struct strbuf pending;       /* callbacks of the function being emitted */
	int nloops;
	int nidx;                    /* run-time index temporaries */
	bool need_streq, need_strcat, need_obj_new;
	bool pkt_wide;               /* emitting the address inside a packet pointer cast */
	bool uses_pinned;            /* eBPF code reads or writes pinned globals */
	struct ptrvec configs;       /* const char *: configs eBPF code reads */
	struct decl *owners_fn;      /* the function owners/guarded describe */
	struct ptrvec owners;        /* struct stmt *: locals with a separate owning copy */
	struct ptrvec guarded;       /* struct stmt *: locals that may point into a kptr map */
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

/*
 * Maps, programs and struct_ops instances keep their .ks names in the
 * object; where eBPF C cannot spell one (names.h), its C name differs and
 * an asm label gives the symbol the .ks name.
 */
static const char *obj_cname(struct cgen *g, const char *name)
{
	const char *alias = names_ebpf_alias(g->prog, name);

	return alias ? alias : name;
}

static const char *asm_label(struct cgen *g, const char *name)
{
	return names_ebpf_alias(g->prog, name) ? arena_printf(g->a, " __asm__(\"%s\")", name) : "";
}

static const char *map_cname(struct cgen *g, struct decl *m)
{
	return obj_cname(g, m->name);
}

/* ---- maps of objects (kptrs) ---- */

/*
 * A map whose values are `*T`, T a struct of the program, keeps `new T()`
 * objects: each value is a struct holding one referenced kptr
 * (struct ksc_kptr_T).  Storing moves the object in with bpf_kptr_xchg;
 * reading loads the kptr, which in a non-sleepable program is an RCU
 * protected pointer the program may read and write through; deleting the
 * entry frees the object.
 */
static struct decl *kptr_struct(struct type *mt)
{
	struct type *v;

	mt = ut(mt);
	if (mt->kind != TY_MAP)
		return NULL;
	v = ut(mt->base);
	if (v->kind != TY_PTR || ut(v->base)->kind != TY_STRUCT)
		return NULL;
	v = ut(v->base);
	return v->decl && !v->decl->from_header && !v->decl->from_btf ? v->decl : NULL;
}

static bool is_kptr_read(const struct expr *e)
{
	return e && is_map_read(e) && map_of(e) && kptr_struct(map_of(e)->ty);
}

static const char *slot_type(struct cgen *g, struct decl *d)
{
	return arena_printf(g->a, "struct ksc_kptr_%s", d->name);
}

/* ---- owned pointers ---- */

/*
 * A local holding a ring buffer reservation or a `new` object owns a
 * reference the verifier wants released on every path: such locals start
 * NULL, become NULL again when submitted, discarded or deleted, and are
 * released before every return while still held.
 *
 * A local that owns a `new` object on some paths only (it is also given
 * a pointer read from a map, or it is stored into a map of objects, after
 * which it points at the stored object) keeps its reference in a second
 * variable, x_owned, NULL whenever x owns nothing: that one is what is
 * released, stored or deleted.
 */
enum owned { OWN_NONE, OWN_RINGBUF, OWN_OBJ, OWN_SPLIT };

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
			u->kptr_read |= is_kptr_read(s->value);
		}
		if (s->kind == S_ASSIGN && is_local(s->lhs, var)) {
			u->assigned = true;
			u->assigned_new |= s->value->kind == E_NEW;
			u->kptr_read |= is_kptr_read(s->value);
		}
		if (s->kind == S_ASSIGN && s->op < 0 && is_kptr_read(s->lhs) && is_local(s->value, var))
			u->stored = true;
		scan_var_expr(s->value, var, u);
		scan_var_stmts(s->then, var, u);
		scan_var_stmts(s->els, var, u);
		scan_var_stmts(s->body, var, u);
		for (const struct catch_clause *c = s->catches; c; c = c->next)
			scan_var_stmts(c->body, var, u);
	}
}

static bool in_vec(const struct ptrvec *v, const void *p)
{
	for (int i = 0; i < v->n; i++)
		if (v->v[i] == p)
			return true;
	return false;
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

static enum owned owned_kind(struct cgen *g, const struct stmt *var)
{
	const struct expr *v = var->value;

	scan_owners(g);
	if (in_vec(&EB(g)->owners, var))
		return OWN_SPLIT;
	if ((var->kind != S_VAR && var->kind != S_IFVAR) || !v)
		return OWN_NONE;
	if (is_ringbuf_call(v, "reserve"))
		return OWN_RINGBUF;
	if (v->kind == E_NEW)
		return OWN_OBJ;
	return OWN_NONE;
}

static bool is_owned_ref(struct cgen *g, const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_LOCAL && e->local && owned_kind(g, e->local);
}

/* The variable holding the reference a split owner owns. */
static const char *owner_name(struct cgen *g, const struct stmt *var)
{
	return arena_printf(g->a, "%s_owned", cg_local_name((struct stmt *)var));
}

static bool is_split_owner(struct cgen *g, const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_LOCAL && e->local &&
	       owned_kind(g, e->local) == OWN_SPLIT;
}

/* A local whose accesses are checked against NULL: it may hold a kptr read from a map. */
static bool is_guarded(struct cgen *g, const struct expr *e)
{
	if (e->kind != E_IDENT || e->ref != REF_LOCAL || !e->local)
		return false;
	scan_owners(g);
	return in_vec(&EB(g)->guarded, e->local);
}

static void release_owned(struct cgen *g)
{
	for (int i = 0; i < g->hoisted.n; i++) {
		struct stmt *v = g->hoisted.v[i];
		const char *x = cg_local_name(v);

		switch (owned_kind(g, v)) {
		case OWN_RINGBUF:
			cg_line(g, "if (%s)", x);
			cg_line(g, "\tbpf_ringbuf_discard(%s, 0);", x);
			break;
		case OWN_OBJ:
			cg_line(g, "if (%s)", x);
			cg_line(g, "\tbpf_obj_drop(%s);", x);
			break;
		case OWN_SPLIT:
			cg_line(g, "if (%s)", owner_name(g, v));
			cg_line(g, "\tbpf_obj_drop(%s);", owner_name(g, v));
			break;
		case OWN_NONE:
			break;
		}
	}
}

static const char *owned_init(struct cgen *g, struct stmt *var)
{
	return owned_kind(g, var) ? " = NULL" : NULL;
}

/* ---- cgen hooks ---- */

static void bpf_print(struct cgen *g, struct strbuf *sb, struct expr *call)
{
	cg_print_call(g, sb, "bpf_printk", call, CG_NL_NEVER);
}

static void bpf_new(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	EB(g)->need_obj_new = true;
	sb_printf(sb, "bpf_obj_new(%s)", cg_type(g, e->ty));
}

static void bpf_delete(struct cgen *g, struct stmt *s)
{
	const char *p = cg_expr_str(g, s->lhs);

	if (is_split_owner(g, s->lhs)) {
		const char *o = owner_name(g, s->lhs->local);

		cg_line(g, "if (%s) {", o);
		cg_line(g, "\tbpf_obj_drop(%s);", o);
		cg_line(g, "\t%s = NULL;", o);
		cg_line(g, "}");
		cg_line(g, "%s = NULL;", p);
		return;
	}

	cg_line(g, "if (%s) {", p);
	cg_line(g, "\tbpf_obj_drop(%s);", p);
	if (is_owned_ref(g, s->lhs))
		cg_line(g, "\t%s = NULL;", p);
	cg_line(g, "}");
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
static void bpf_str_assign(struct cgen *g, const char *dst, struct type *dt, struct expr *src)
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

/* A map read as a value: a copy of the entry, or zero when there is none. */
static void map_read(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct decl *m = map_of(e);
	struct type *mt = ut(m->ty);
	struct decl *obj = kptr_struct(mt);

	sb_printf(sb, "({ %s = ", cg_decl(g, mt->key, "__k"));
	cg_expr(g, sb, e->rhs);
	if (obj) {
		/* The stored object, or NULL: the program reads and writes it in place. */
		sb_printf(sb, "; %s *__p = bpf_map_lookup_elem(&%s, &__k); __p ? __p->obj : NULL; })",
			  slot_type(g, obj), map_cname(g, m));
		return;
	}
	sb_printf(sb, "; %s = bpf_map_lookup_elem(&%s, &__k); ",
		  cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
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

/* "(void *)(ELEM + 1) <= (void *)(long)ctx->data_end" for an access. */
static const char *pkt_bound(struct cgen *g, const struct pkt_access *pa)
{
	const char *ctx = cg_expr_str(g, pa->field->lhs);
	const char *sep = ut(pa->field->lhs->type)->kind == TY_PTR ? "->" : ".";
	const char *base = cg_expr_str(g, pa->base);

	if (pa->index)
		return arena_printf(g->a, "(void *)(&(%s)[%s] + 1) <= (void *)(long)%s%sdata_end", base,
				    cg_expr_str(g, pa->index), ctx, sep);
	return arena_printf(g->a, "(void *)(%s + 1) <= (void *)(long)%s%sdata_end", base, ctx, sep);
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
	static const char *const ops[] = { "+", "-", "*", "/", "%" };

	if (!pkt_access(s->lhs, &pa))
		return false;
	cg_line(g, "if (%s)", pkt_bound(g, &pa));
	cg_line(g, "\t%s %s= %s;", pkt_path(g, s->lhs, &pa), s->op < 0 ? "" : ops[s->op],
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
			return is_guarded(g, e->lhs) ? e->lhs : NULL;
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
	static const char *const ops[] = { "+", "-", "*", "/", "%" };
	struct expr *base = guarded_base(g, s->lhs);
	const char *lhs;

	if (!base)
		return false;
	lhs = guarded_path(g, s->lhs, base);
	cg_line(g, "if (%s)", cg_expr_str(g, base));
	g->indent++;
	if (ut(s->lhs->type)->kind == TY_STR && s->op < 0)
		bpf_str_assign(g, lhs, s->lhs->type, s->value);
	else
		cg_line(g, "%s %s= %s;", lhs, s->op < 0 ? "" : ops[s->op], cg_expr_str(g, s->value));
	g->indent--;
	return true;
}

/* x = new T() for a split owner: the owning copy takes the object, x points at it. */
static void split_new(struct cgen *g, struct stmt *var, struct expr *value)
{
	const char *o = owner_name(g, var);

	cg_line(g, "if (%s)", o);
	cg_line(g, "\tbpf_obj_drop(%s);", o);
	cg_line(g, "%s = %s;", o, cg_expr_str(g, value));
	cg_line(g, "%s = %s;", cg_local_name(var), o);
}

/*
 * m[k] = p for a map of objects: the entry is made if absent, the object
 * moves into it (bpf_kptr_xchg) and the one it held is dropped.  p then
 * points at the stored object without owning it (NULL if no entry could be
 * made).  A p that owns nothing (it was read from a map) stores nothing.
 */
static void kptr_store(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	const char *slot = slot_type(g, kptr_struct(mt));
	bool fresh = s->value->kind == E_NEW;
	const char *o = fresh ? "__obj" : owner_name(g, s->value->local);

	cg_line(g, "{");
	g->indent++;
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	if (fresh)
		cg_line(g, "%s = %s;", cg_decl(g, mt->base, "__obj"), cg_expr_str(g, s->value));
	cg_line(g, "%s *__p = bpf_map_lookup_elem(&%s, &__k);", slot, map_cname(g, m));
	cg_blank(g);
	cg_line(g, "if (!__p) {");
	g->indent++;
	cg_line(g, "%s __v = {};", slot);
	cg_blank(g);
	cg_line(g, "bpf_map_update_elem(&%s, &__k, &__v, BPF_NOEXIST);", map_cname(g, m));
	cg_line(g, "__p = bpf_map_lookup_elem(&%s, &__k);", map_cname(g, m));
	g->indent--;
	cg_line(g, "}");
	if (fresh) {
		/* Whatever is left, the old object or the new one that found no entry, is dropped. */
		cg_line(g, "if (__p && __obj)");
		cg_line(g, "\t__obj = bpf_kptr_xchg(&__p->obj, __obj);");
		cg_line(g, "if (__obj)");
		cg_line(g, "\tbpf_obj_drop(__obj);");
	} else {
		cg_line(g, "if (__p && %s) {", o);
		g->indent++;
		cg_line(g, "%s = bpf_kptr_xchg(&__p->obj, %s);", cg_decl(g, mt->base, "__old"), o);
		cg_blank(g);
		cg_line(g, "%s = NULL;", o);
		cg_line(g, "%s = __p->obj;", cg_local_name(s->value->local));
		cg_line(g, "if (__old)");
		cg_line(g, "\tbpf_obj_drop(__old);");
		g->indent--;
		/*
		 * With no entry to hold it (the map is full) the object is
		 * dropped: p would otherwise be an owned pointer on this path
		 * and a stored one on others, and the verifier refuses one
		 * instruction writing through both.
		 */
		cg_line(g, "} else if (%s) {", o);
		g->indent++;
		cg_line(g, "bpf_obj_drop(%s);", o);
		cg_line(g, "%s = NULL;", o);
		cg_line(g, "%s = NULL;", cg_local_name(s->value->local));
		g->indent--;
		cg_line(g, "}");
	}
	g->indent--;
	cg_line(g, "}");
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
	static const char *const ops[] = { "+", "-", "*", "/", "%" };
	struct strbuf guards;
	const char *lhs;

	if (!has_var_index(s->lhs))
		return false;
	sb_init(&guards);
	cg_line(g, "{");
	g->indent++;
	lhs = index_lvalue(g, s->lhs, &guards);
	cg_line(g, "if (%s)", guards.buf);
	cg_line(g, "\t%s %s= %s;", lhs, s->op < 0 ? "" : ops[s->op], cg_expr_str(g, s->value));
	g->indent--;
	cg_line(g, "}");
	sb_free(&guards);
	return true;
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

static void note_config(struct cgen *g, const char *name)
{
	struct ptrvec *v = &EB(g)->configs;

	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], name))
			return;
	ptrvec_push(g->a, v, (void *)name);
}

static bool config_used(struct cgen *g, const char *name)
{
	struct ptrvec *v = &EB(g)->configs;

	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], name))
			return true;
	return false;
}

static bool bpf_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct pkt_access pa;
	struct expr *base;

	if (e->kind == E_IDENT && e->ref == REF_ENUMCONST)
		note_const(g, e);
	if (e->kind == E_IDENT && e->ref == REF_MAP) {
		sb_puts(sb, obj_cname(g, e->str));
		return true;
	}
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
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
	    ((e->rhs->kind == E_NULL && is_map_read(e->lhs) && !is_kptr_read(e->lhs)) ||
	     (e->lhs->kind == E_NULL && is_map_read(e->rhs) && !is_kptr_read(e->rhs)))) {
		struct expr *m = e->lhs->kind == E_NULL ? e->rhs : e->lhs;
		struct type *mt = ut(map_of(m)->ty);

		sb_printf(sb, "({ %s = ", cg_decl(g, mt->key, "__k"));
		cg_expr(g, sb, m->rhs);
		sb_printf(sb, "; bpf_map_lookup_elem(&%s, &__k) %s NULL; })", map_cname(g, map_of(m)),
			  e->op == OP_EQ ? "==" : "!=");
		return true;
	}
	if (is_map_read(e)) {
		map_read(g, sb, e);
		return true;
	}
	if (is_config_field(e)) {
		note_config(g, e->lhs->str);
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
	if (is_ringbuf_call(e, "reserve")) {
		struct type *rb = ut(e->lhs->lhs->type);

		sb_printf(sb, "bpf_ringbuf_reserve(&%s, sizeof(%s), 0)", cg_expr_str(g, e->lhs->lhs),
			  cg_type(g, rb->base));
		return true;
	}
	if (is_ringbuf_call(e, NULL)) {
		const char *p = cg_expr_str(g, e->args);

		if (is_owned_ref(g, e->args))
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
		ebpf_tail_slot(&EB(g)->tail_targets, v->lhs->decl));
	cg_line(g, "return %s;", tail_fallback(g->fn->prog));
	return true;
}

/*
 * *__p op= v on a map value.  += and -= are atomic where BPF has atomics
 * for the value's size (32 and 64 bits; -= as the add of the negation,
 * since an atomic sub needs -mcpu=v3); other sizes and operators are a
 * plain read-modify-write, which the comment says.
 */
static void map_rmw(struct cgen *g, struct stmt *s, struct type *vt)
{
	static const char *const ops[] = { "+", "-", "*", "/", "%" };
	long long size = type_is_int(vt) ? type_size(vt) : 0;
	bool atomic = (s->op == OP_ADD || s->op == OP_SUB) && (size == 4 || size == 8);

	if (atomic && s->op == OP_ADD) {
		cg_line(g, "__sync_fetch_and_add(__p, %s);", cg_expr_str(g, s->value));
	} else if (atomic) {
		cg_line(g, "__sync_fetch_and_add(__p, -(%s)(%s));", cg_type(g, vt),
			cg_expr_str(g, s->value));
	} else {
		if (s->op == OP_ADD || s->op == OP_SUB)
			cg_line(g, "/* No BPF atomics for %lld-byte values: not atomic across CPUs. */",
				size);
		cg_line(g, "*__p %s= %s;", ops[s->op], cg_expr_str(g, s->value));
	}
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
		cg_line(g, "bpf_map_update_elem(&%s, &__k, &__v, BPF_ANY);", map_cname(g, m));
	} else {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
			cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
		cg_line(g, "if (__p) {");
		g->indent++;
		map_rmw(g, s, mt->base);
		g->indent--;
		cg_line(g, "} else {");
		g->indent++;
		cg_line(g, "%s = 0;", cg_decl(g, mt->base, "__v"));
		cg_line(g, "__v %s= %s;", ops[s->op], cg_expr_str(g, s->value));
		cg_line(g, "bpf_map_update_elem(&%s, &__k, &__v, BPF_ANY);", map_cname(g, m));
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
		cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
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
	if (kptr_struct(mt)) {
		cg_line(g, "%s *__p = bpf_map_lookup_elem(&%s, &__k);", slot_type(g, kptr_struct(mt)),
			map_cname(g, m));
		cg_blank(g);
		cg_line(g, "%s = __p ? __p->obj : NULL;", x);
		cg_line(g, "if (%s) {", x);
	} else if (s->binds_pointer) {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);", x, map_cname(g, m));
		cg_line(g, "if (%s) {", x);
	} else {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
			cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
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
		cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
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
	if (owned_kind(g, var) == OWN_SPLIT)
		cg_line(g, "%s = NULL;", cg_decl(g, var->var_type, owner_name(g, var)));
}

static bool loop_exit(struct cgen *g, struct stmt *s);
static bool emit_bpf_loop(struct cgen *g, struct stmt *s);

static bool bpf_stmt(struct cgen *g, struct stmt *s)
{
	if (s->kind == S_ASSIGN && pkt_write(g, s))
		return true;
	if (s->kind == S_ASSIGN && guarded_write(g, s))
		return true;
	if (s->kind == S_ASSIGN && index_write(g, s))
		return true;
	if (s->kind == S_VAR && s->value && s->value->kind == E_NEW &&
	    owned_kind(g, s) == OWN_SPLIT) {
		split_new(g, s, s->value);
		return true;
	}
	if (s->kind == S_ASSIGN && s->op < 0 && s->value->kind == E_NEW &&
	    is_split_owner(g, s->lhs)) {
		split_new(g, s->lhs->local, s->value);
		return true;
	}
	if (s->kind == S_ASSIGN && s->op < 0 && is_kptr_read(s->lhs)) {
		kptr_store(g, s);
		return true;
	}
	if ((s->kind == S_RETURN || s->kind == S_BREAK || s->kind == S_CONTINUE) && loop_exit(g, s))
		return true;
	if ((s->kind == S_FOR || s->kind == S_WHILE) && emit_bpf_loop(g, s))
		return true;
	if (s->kind == S_ASSIGN && (s->lhs->kind == E_ARROW || s->lhs->kind == E_FIELD) &&
	    is_owned_ref(g, s->lhs->lhs)) {
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
	    !is_ringbuf_call(s->value, "reserve") && is_owned_ref(g, s->value->args)) {
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

/* ---- loops the verifier cannot unroll ---- */

/*
 * A `for` with a bound known only at run time, and any `while`, run
 * through bpf_loop (kernel 5.17+): the verifier checks the body once
 * instead of walking every iteration.  The body becomes a callback; the
 * locals it uses travel in a context struct, copied in before and out
 * after the loop.  break and continue return 1 and 0 from the callback, a
 * return records its value and ends the loop, and the function returns it
 * after bpf_loop.  bpf_loop runs at most 1 << 23 iterations (the kernel's
 * limit), so a loop longer than that stops there.
 */
struct loop_cb {
	struct stmt *loop;
	struct ptrvec vars;          /* struct stmt *: locals the body uses */
	struct ptrvec exits;         /* S_BREAK/S_CONTINUE of this loop */
	bool returns;
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
			if (owned_kind(g, s))
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

/* The callback, into the pending buffer, with the body's locals renamed to context fields. */
static void emit_loop_callback(struct cgen *g, struct loop_cb *l, int id)
{
	struct ebpf *eb = EB(g);
	struct stmt *s = l->loop;
	struct strbuf cb, *out = g->out;
	const char **saved = arena_alloc(g->a, sizeof(char *) * (size_t)(l->vars.n + 1));
	const char *loop_name = s->cname;
	int indent = g->indent;

	sb_init(&cb);
	g->out = &cb;
	g->indent = 0;
	cg_line(g, "struct __ksc_loop%d {", id);
	g->indent++;
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
	g->indent--;
	cg_line(g, "};");
	cg_blank(g);
	cg_line(g, "static int __ksc_loop%d_body(__u64 __index, void *__ctx)", id);
	cg_line(g, "{");
	g->indent++;
	cg_line(g, "struct __ksc_loop%d *__c = __ctx;", id);
	if (s->kind == S_FOR) {
		cg_line(g, "%s;", cg_decl(g, s->var_type, "__ksc_i"));
		cg_blank(g);
		cg_line(g, "if (__c->lo >= __c->hi || __index >= (__u64)__c->hi - (__u64)__c->lo)");
		cg_line(g, "\treturn 1;");
		cg_line(g, "__ksc_i = __c->lo + __index;");
	}
	cg_blank(g);
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
	cg_line(g, "return 0;");
	eb->loops.n--;
	for (int i = 0; i < l->vars.n; i++)
		((struct stmt *)l->vars.v[i])->cname = saved[i];
	s->cname = loop_name;
	g->indent--;
	cg_line(g, "}");
	cg_line_reset(g);
	cg_blank(g);
	g->out = out;
	g->indent = indent;
	sb_putn(&eb->pending, cb.buf ? cb.buf : "", cb.len);
	sb_free(&cb);
}

static bool emit_bpf_loop(struct cgen *g, struct stmt *s)
{
	struct ebpf *eb = EB(g);
	struct loop_cb *l = arena_alloc(g->a, sizeof(*l));
	long long c;
	int id;

	if (s->kind == S_FOR && const_eval(s->lhs, &c) && const_eval(s->key, &c))
		return false;
	memset(l, 0, sizeof(*l));
	l->loop = s;
	if (g->fn->ret_name || !scan_stmts(g, l, s->body, false) || !scan_expr(g, l, s->value))
		return false;
	if (s->kind == S_FOR && (!scan_expr(g, l, s->lhs) || !scan_expr(g, l, s->key)))
		return false;
	id = ++eb->nloops;
	emit_loop_callback(g, l, id);

	cg_line(g, "{");
	g->indent++;
	cg_line(g, "struct __ksc_loop%d __l%d;", id, id);
	cg_blank(g);
	if (s->kind == S_FOR)
		cg_line(g, "(void)%s; /* the callback has its own */", cg_local_name(s));
	cg_line(g, "__builtin_memset(&__l%d, 0, sizeof(__l%d));", id, id);
	for (int i = 0; i < l->vars.n; i++) {
		struct stmt *v = l->vars.v[i];
		const char *x = cg_local_name(v);

		cg_line(g, "__builtin_memcpy(&__l%d.v%d, &%s, sizeof(__l%d.v%d));", id, i, x, id, i);
		if (has_found_flag(v))
			cg_line(g, "__l%d.v%d_found = %s_found;", id, i, x);
	}
	if (s->kind == S_FOR) {
		/* Bounds evaluated once, lower first; the callback ends the loop at hi. */
		cg_line(g, "__l%d.lo = %s;", id, cg_expr_str(g, s->lhs));
		cg_line(g, "__l%d.hi = %s;", id, cg_expr_str(g, s->key));
	}
	/* A constant count: the verifier learns nothing about the bounds from it. */
	cg_line(g, "bpf_loop(%s, __ksc_loop%d_body, &__l%d, 0);", KSC_MAX_LOOPS, id, id);
	for (int i = 0; i < l->vars.n; i++) {
		struct stmt *v = l->vars.v[i];
		const char *x = cg_local_name(v);

		cg_line(g, "__builtin_memcpy(&%s, &__l%d.v%d, sizeof(__l%d.v%d));", x, id, i, id, i);
		if (has_found_flag(v))
			cg_line(g, "%s_found = __l%d.v%d_found;", x, id, i);
	}
	if (l->returns) {
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
		cg_line(g, "if (__l%d.returned) {", id);
		g->indent++;
		cg_emit_stmts(g, ret);
		g->indent--;
		cg_line(g, "}");
	}
	g->indent--;
	cg_line(g, "}");
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

static const char *bpf_global_name(struct cgen *g, struct decl *d)
{
	if (d->kind == D_FUNC && d->role == ROLE_PROG)
		return obj_cname(g, d->name);
	/* Pinned globals live in the one entry of the pinned_globals map. */
	if (d->kind == D_GLOBAL && d->is_pinned) {
		EB(g)->uses_pinned = true;
		return arena_printf(g->a, "ksc_%s()->%s", KSC_PINNED_GLOBALS, d->name);
	}
	return d->name;
}

static const struct cg_hooks bpf_hooks = {
	.int_name = cg_uapi_int,
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
	.global_name = bpf_global_name,
	.line_directives = true,
	.builtin_mem = true,
};

/* ---- analyses, done once before any code is emitted ---- */

/* Functions and externs some eBPF function or struct_ops method calls. */
static void find_ebpf_callees(struct program *prog, struct ptrvec *callees)
{
	for (struct decl *d = prog->decls; d; d = d->next) {
		struct decl *fns = d->kind == D_IMPL ? d->methods : d->kind == D_FUNC ? d : NULL;

		for (struct decl *f = fns; f; f = d->kind == D_IMPL ? f->next : NULL) {
			if (f->target != TARGET_EBPF)
				continue;
			for (int i = 0; i < f->calls.n; i++)
				if (!in_vec(callees, f->calls.v[i]))
					ptrvec_push(prog->arena, callees, f->calls.v[i]);
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

	find_ebpf_callees(prog, &callees);
	for (struct decl *d = prog->decls; d; d = d->next) {
		bool kf = d->kind == D_FUNC && d->role == ROLE_KFUNC;

		if (!(kf || d->kind == D_EXTERN) || is_legacy_helper(d->name))
			continue;
		if (in_vec(&callees, d) || (kf && d->called_from_user))
			ptrvec_push(prog->arena, &eb->ksyms, d);
	}
}

/* The structs kept in maps of objects, each once: each has its slot type. */
static void find_kptr_slots(struct program *prog, struct ebpf *eb)
{
	for (struct decl *d = prog->decls; d; d = d->next) {
		struct decl *obj = d->kind == D_MAP ? kptr_struct(d->ty) : NULL;

		if (obj && !in_vec(&eb->slots, obj))
			ptrvec_push(prog->arena, &eb->slots, obj);
	}
	/* Storing into such a map drops the object it replaces. */
	if (eb->slots.n)
		eb->need_obj_new = true;
}

static void ebpf_analyse(struct program *prog, struct ebpf *eb)
{
	ebpf_tail_targets(prog, &eb->tail_targets);
	find_ksyms(prog, eb);
	find_kptr_slots(prog, eb);
}

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
		if (kptr_struct(t))
			cg_line(g, "__type(value, %s);", slot_type(g, kptr_struct(t)));
		else
			cg_line(g, "__type(value, %s);", cg_type(g, t->base));
	}
	if (flags)
		cg_line(g, "__uint(map_flags, %s);", flags);
	for (struct map_flag *f = d->flags; f; f = f->next)
		if (f->has_arg)
			cg_line(g, "__uint(numa_node, %lld);", f->arg);
	g->indent--;
	cg_line(g, "} %s%s SEC(\".maps\");", obj_cname(g, d->name), asm_label(g, d->name));
	cg_blank(g);
}

/* The value types of maps of objects: one referenced kptr each. */
static void emit_kptr_slots(struct cgen *g, struct ebpf *eb)
{
	if (!eb->slots.n)
		return;
	/* clang 14 drops the btf_type_tag the kernel finds kptrs by: the map would not load. */
	cg_line(g, "#if defined(__clang_major__) && __clang_major__ < 15");
	cg_line(g, "#error \"maps of objects need clang 15 or newer (BTF type tags for __kptr)\"");
	cg_line(g, "#endif");
	cg_line(g, "#ifndef __kptr");
	cg_line(g, "#define __kptr __attribute__((btf_type_tag(\"kptr\")))");
	cg_line(g, "#endif");
	cg_blank(g);
	for (int i = 0; i < eb->slots.n; i++) {
		struct decl *obj = eb->slots.v[i];

		cg_line(g, "%s {", slot_type(g, obj));
		cg_line(g, "\tstruct %s __kptr *obj;", obj->name);
		cg_line(g, "};");
		cg_blank(g);
	}
}

static void emit_config(struct cgen *g, struct decl *d)
{
	cg_emit_config_struct(g, d);
	cg_line(g, "struct {");
	g->indent++;
	cg_line(g, "__uint(type, BPF_MAP_TYPE_ARRAY);");
	cg_line(g, "__uint(max_entries, 1);");
	cg_line(g, "__type(key, __u32);");
	cg_line(g, "__type(value, struct %s%s);", d->name, KSC_CONFIG_STRUCT_SUFFIX);
	g->indent--;
	cg_line(g, "} %s%s SEC(\".maps\");", d->name, KSC_CONFIG_MAP_SUFFIX);
	cg_blank(g);
	if (!config_used(g, d->name))
		return;
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
	cg_emit_pinned_struct(g);
	cg_line(g, "struct {");
	g->indent++;
	cg_line(g, "__uint(type, BPF_MAP_TYPE_ARRAY);");
	cg_line(g, "__uint(max_entries, 1);");
	cg_line(g, "__type(key, __u32);");
	cg_line(g, "__type(value, struct %s);", KSC_PINNED_GLOBALS);
	g->indent--;
	cg_line(g, "} %s SEC(\".maps\");", KSC_PINNED_GLOBALS);
	cg_blank(g);
	if (!EB(g)->uses_pinned)
		return;
	/* The entry always exists; the fallback only satisfies the verifier. */
	cg_line(g, "__hidden struct %s %s_unset;", KSC_PINNED_GLOBALS, KSC_PINNED_GLOBALS);
	cg_blank(g);
	cg_line(g, "static __always_inline struct %s *ksc_%s(void)", KSC_PINNED_GLOBALS,
		KSC_PINNED_GLOBALS);
	cg_line(g, "{");
	g->indent++;
	cg_line(g, "__u32 key = 0;");
	cg_line(g, "struct %s *p = bpf_map_lookup_elem(&%s, &key);", KSC_PINNED_GLOBALS,
		KSC_PINNED_GLOBALS);
	cg_blank(g);
	cg_line(g, "return p ? p : &%s_unset;", KSC_PINNED_GLOBALS);
	g->indent--;
	cg_line(g, "}");
	cg_blank(g);
}

/* A kfunc or extern called from eBPF code, declared as a kernel symbol. */
static void emit_ksym(struct cgen *g, struct decl *d)
{
	cg_line(g, "extern %s __ksym;", cg_prototype(g, d, d->name));
}

static void emit_externs(struct cgen *g, struct ebpf *eb)
{
	for (int i = 0; i < eb->ksyms.n; i++)
		emit_ksym(g, eb->ksyms.v[i]);
	if (eb->ksyms.n)
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

/*
 * Functions are emitted one after the other; the bpf_loop callbacks a
 * function needs go right before it.
 */
static size_t fn_begin(struct cgen *g)
{
	return g->out->len;
}

static void fn_end(struct cgen *g, size_t start)
{
	struct ebpf *eb = EB(g);
	char *fn;
	size_t n;

	if (!eb->pending.len)
		return;
	n = g->out->len - start;
	fn = malloc(n + 1);
	if (!fn)
		abort();
	memcpy(fn, g->out->buf + start, n);
	g->out->len = start;
	sb_putn(g->out, eb->pending.buf, eb->pending.len);
	sb_putn(g->out, fn, n);
	free(fn);
	sb_free(&eb->pending);
	sb_init(&eb->pending);
}

static const char *prog_prototype(struct cgen *g, struct decl *fn);

static void emit_program(struct cgen *g, struct decl *fn)
{
	const char *ret = fn->ret && !type_is_void(fn->ret) ? "int" : "void";
	const char *name = obj_cname(g, fn->name);
	size_t start = fn_begin(g);

	/* The label goes on a declaration: C takes none on a definition. */
	if (*asm_label(g, fn->name))
		cg_line(g, "%s%s;", prog_prototype(g, fn), asm_label(g, fn->name));
	cg_line(g, "SEC(\"%s\")", prog_section(g, fn));
	cg_line_map(g, fn->name_loc);
	switch (fn->prog) {
	case PROG_PROBE:
		cg_line(g, "int BPF_PROG(%s%s)", name, param_list(g, fn, true));
		break;
	case PROG_KPROBE:
		cg_line(g, "int BPF_KPROBE(%s%s)", name, param_list(g, fn, true));
		break;
	default:
		cg_line(g, "%s %s(%s)", ret, name, cg_decl(g, fn->params->ty, fn->params->name));
		break;
	}
	cg_function_body(g, fn);
	cg_line_reset(g);
	cg_blank(g);
	fn_end(g, start);
}

/*
 * A struct_ops method: its body as a plain inline function (so other
 * methods can call it), and the program itself unpacking its arguments
 * from the context with BPF_PROG.
 */
static void emit_method(struct cgen *g, struct decl *impl, struct decl *m)
{
	/*
	 * Both C names carry the impl's name, so a member named like a C
	 * library function (sched_ext_ops.exit) needs no renaming, and the
	 * section keeps the member's own name.
	 */
	const char *body = arena_printf(g->a, "%s_%s_body", impl->name, m->name);
	const char *ret = m->ret && !type_is_void(m->ret) ? cg_type(g, m->ret) : "void";
	const char *args = param_list(g, m, false);
	size_t start = fn_begin(g);

	cg_line_map(g, m->name_loc);
	cg_line(g, "static __always_inline %s", cg_prototype(g, m, body));
	cg_function_body(g, m);
	cg_line_reset(g);
	cg_blank(g);
	fn_end(g, start);
	cg_line(g, "SEC(\"struct_ops/%s\")", m->name);
	cg_line(g, "%s BPF_PROG(%s_%s%s)", ret, impl->name, m->name, param_list(g, m, true));
	cg_line(g, "{");
	g->indent++;
	cg_line(g, "%s%s(%s);", strcmp(ret, "void") ? "return " : "", body, args[0] ? args + 2 : "");
	g->indent--;
	cg_line(g, "}");
	cg_blank(g);
}

static bool struct_has_field(const struct decl *k, const char *name)
{
	for (const struct struct_field *f = k->fields; f; f = f->next)
		if (!strcmp(f->name, name))
			return true;
	return false;
}

static void emit_struct_ops_var(struct cgen *g, struct decl *impl)
{
	bool has_name = false;
	struct decl *k;

	cg_line(g, "SEC(\".struct_ops\")");
	cg_line(g, "struct %s %s%s = {", impl->struct_ops, obj_cname(g, impl->name),
		asm_label(g, impl->name));
	g->indent++;
	for (struct decl *m = impl->methods; m; m = m->next)
		cg_line(g, ".%s = (void *)%s_%s,", m->name, impl->name, m->name);
	for (struct impl_field *f = impl->ifields; f; f = f->next) {
		has_name |= !strcmp(f->name, "name");
		cg_line(g, ".%s = %s,", f->name, cg_expr_str(g, f->value));
	}
	/* A type the program declares (one a module defines, say) has a name only if declared. */
	k = sema_struct_ops_type(g->prog, impl->struct_ops);
	if (!k)
		k = btf_find_type(g->a, impl->struct_ops);
	else
		has_name |= !struct_has_field(k, "name");
	if (!has_name) {
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
	size_t start = fn_begin(g);

	/* Inlined: the verifier then sees map values and ctx pointers as the caller does. */
	cg_line_map(g, fn->name_loc);
	cg_line(g, "static __always_inline %s", cg_prototype(g, fn, fn->name));
	cg_function_body(g, fn);
	cg_line_reset(g);
	cg_blank(g);
	fn_end(g, start);
}

/*
 * A kfunc called from userspace: a syscall program calling it with the
 * arguments of its context, run by the loader with BPF_PROG_TEST_RUN.
 */
static void emit_call_trampoline(struct cgen *g, struct decl *k)
{
	const char *args = cg_emit_call_args(g, k);
	bool ret = k->ret && !type_is_void(k->ret);
	struct strbuf call;

	sb_init(&call);
	sb_printf(&call, "%s%s(", ret ? "args->ret = " : "", k->name);
	for (struct param *p = k->params; p; p = p->next)
		sb_printf(&call, "%sargs->%s", p == k->params ? "" : ", ", p->name);
	sb_puts(&call, ");");
	cg_line(g, "SEC(\"syscall\")");
	cg_line(g, "int %s%s(struct %s *args)", KSC_CALL_PREFIX, k->name, args);
	cg_line(g, "{");
	cg_line(g, "\t%s", call.buf);
	cg_line(g, "\treturn 0;");
	cg_line(g, "}");
	cg_blank(g);
	sb_free(&call);
}

static void emit_functions(struct cgen *g)
{
	for (struct decl *d = g->prog->decls; d; d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_KFUNC && d->called_from_user)
			emit_call_trampoline(g, d);
	for (struct decl *d = g->prog->decls; d; d = d->next) {
		/* A helper no program reaches is dead code clang would warn about. */
		if (d->kind == D_FUNC && d->role == ROLE_HELPER && d->prog_users)
			emit_helper(g, d);
		else if (d->kind == D_FUNC && d->role == ROLE_PROG)
			emit_program(g, d);
		else if (d->kind == D_IMPL && d->target != TARGET_KMOD) {
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
	if (eb->need_obj_new && btf_has_func("bpf_obj_new")) {
		/* 7.1+ (KF_IMPLICIT_ARGS): the kfuncs take no meta argument; parentheses keep the macros out. */
		cg_line(g, "extern void *(bpf_obj_new)(__u64 local_type_id) __ksym;");
		cg_line(g, "extern void (bpf_obj_drop)(void *kptr) __ksym;");
		cg_line(g, "#define bpf_obj_new(type) ((type *)(bpf_obj_new)(bpf_core_type_id_local(type)))");
		cg_line(g, "#define bpf_obj_drop(kptr) (bpf_obj_drop)(kptr)");
		cg_blank(g);
	} else if (eb->need_obj_new) {
		cg_line(g, "extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;");
		cg_line(g, "extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;");
		cg_line(g, "#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))");
		cg_line(g, "#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)");
		cg_blank(g);
	}
}

/* The C prototype of a program function, as its SEC definition has it. */
static const char *prog_prototype(struct cgen *g, struct decl *fn)
{
	switch (fn->prog) {
	case PROG_PROBE:
		return arena_printf(g->a, "int %s(unsigned long long *ctx)", obj_cname(g, fn->name));
	case PROG_KPROBE:
		return arena_printf(g->a, "int %s(struct pt_regs *ctx)", obj_cname(g, fn->name));
	default:
		return arena_printf(g->a, "int %s(%s)", obj_cname(g, fn->name),
				    cg_decl(g, fn->params->ty, fn->params->name));
	}
}

/*
 * The tail-call table, its slots filled from a static initializer: libbpf
 * stores each target's fd at load time, so tail calls work whoever loads
 * the object (the generated loader, bpftool, a test tool).
 */
static void emit_prog_array(struct cgen *g, struct ebpf *eb)
{
	for (int i = 0; i < eb->tail_targets.n; i++)
		cg_line(g, "%s;", prog_prototype(g, eb->tail_targets.v[i]));
	cg_blank(g);
	cg_line(g, "struct {");
	g->indent++;
	cg_line(g, "__uint(type, BPF_MAP_TYPE_PROG_ARRAY);");
	cg_line(g, "__uint(max_entries, %d);", eb->tail_targets.n);
	cg_line(g, "__uint(key_size, sizeof(__u32));");
	cg_line(g, "__array(values, int (void *));");
	g->indent--;
	cg_line(g, "} %s SEC(\".maps\") = {", KSC_PROG_ARRAY);
	g->indent++;
	cg_line(g, ".values = {");
	g->indent++;
	for (int i = 0; i < eb->tail_targets.n; i++)
		cg_line(g, "[%d] = (void *)&%s,", i,
			obj_cname(g, ((struct decl *)eb->tail_targets.v[i])->name));
	g->indent--;
	cg_line(g, "},");
	g->indent--;
	cg_line(g, "};");
	cg_blank(g);
}

static void emit_declarations(struct cgen *g, struct ebpf *eb)
{
	bool globals = false;

	cg_emit_user_types(g);
	emit_externs(g, eb);
	for (struct decl *d = g->prog->decls; d; d = d->next)
		if (d->kind == D_CONFIG)
			emit_config(g, d);
	emit_kptr_slots(g, eb);
	for (struct decl *d = g->prog->decls; d; d = d->next)
		if (d->kind == D_MAP)
			emit_map(g, d);
	if (eb->tail_targets.n)
		emit_prog_array(g, eb);
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

	ebpf_analyse(prog, &eb);
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
	/* '_': no .ks map takes the name (names.c refuses '_' names for maps). */
	cg_line(&g, "char _license[] SEC(\"license\") = \"GPL\";");
	cg_blank(&g);
	emit_declarations(&g, &eb);
	emit_support(&g, &eb);
	sb_putn(&out, body.buf ? body.buf : "", body.len);
	cg_fix_line_resets(&out, arena_printf(prog->arena, "%s.ebpf.c", prog->base));
	err = write_file_reported(path, out.buf, out.len);
	sb_free(&out);
	sb_free(&body);
	return err;
}

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	sb_vprintf(ctx, fmt, args);
}

/*
 * Whether a struct or union of btf has a member without a name whose type
 * has one (`struct freelist_counters;`, a typedef'd struct): C11 allows only
 * unnamed struct/union types there, so clang needs -fms-extensions, as the
 * kernel itself does since 7.0.
 */
static bool has_anon_tags(const struct btf *btf)
{
	__u32 n = btf__type_cnt(btf);

	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_member *m;

		if (!btf_is_composite(t))
			continue;
		m = btf_members(t);
		for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
			const struct btf_type *mt = btf__type_by_id(btf, m->type);

			while (mt && (btf_is_const(mt) || btf_is_volatile(mt)))
				mt = btf__type_by_id(btf, mt->type);
			if (!m->name_off && mt && mt->name_off &&
			    (btf_is_composite(mt) || btf_is_typedef(mt)))
				return true;
		}
	}
	return false;
}

const char *ebpfgen_clang_flags(const struct program *prog)
{
	return prog->btf_anon_tags ? "-fms-extensions -Wno-microsoft-anon-tag" : "";
}

/* Says, where a hand-written build would fail obscurely, which flag this BTF needs. */
static const char anon_tags_guard[] =
	"/*\n"
	" * This kernel's types have anonymous members of tagged struct types, as\n"
	" * Linux 7.0+ is built with -fms-extensions: so must this file be.\n"
	" */\n"
	"#if !__has_builtin(__noop)\n"
	"#error \"compile with clang -fms-extensions -Wno-microsoft-anon-tag: this kernel's types need them\"\n"
	"#endif\n\n";

int ebpfgen_write_vmlinux_h(struct program *prog, const char *path)
{
	const struct btf *btf = btf_types_kernel();
	struct btf_dump *d;
	struct strbuf sb;
	int err = 0;
	__u32 n;

	if (!btf)
		return -EINVAL;
	sb_init(&sb);
	sb_printf(&sb, "/* Generated by ksc from the kernel BTF %s. */\n", btf_types_path());
	sb_puts(&sb, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	prog->btf_anon_tags = has_anon_tags(btf);
	if (prog->btf_anon_tags)
		sb_puts(&sb, anon_tags_guard);
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
	err = write_file_reported(path, sb.buf, sb.len);
out:
	sb_free(&sb);
	return err;
}
