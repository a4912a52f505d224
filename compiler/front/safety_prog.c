/*
 * The safety pass's rules that depend on the program type and the call
 * graph: the stack of a whole call chain (ksc inlines every @helper, so a
 * program's frame holds its helpers' locals too), recursion, context fields the
 * program type may not read or write, and kernel helpers and kfuncs the
 * program type may not call.  The tables hold only what every kernel from
 * 6.1 to 7.x refuses (docs/safety.md, sections 4 to 6, gives the sources).
 */
#include "safety_internal.h"

#include <stdio.h>
#include <string.h>

#include "sema.h"
#include "types.h"

/* ---- the stack of a call chain ---- */

#define MAX_CHAIN 16          /* functions named in the note; deeper chains are summed, not named */

struct chain {
	long long bytes;              /* the heaviest chain from a function down */
	struct decl *path[MAX_CHAIN]; /* its functions, the root first */
	int n;
};

/* A helper ksc inlines into its caller: an eBPF function with a body. */
static bool inlined(const struct decl *callee)
{
	return callee->kind == D_FUNC && callee->body && callee->target == TARGET_EBPF &&
	       callee->role == ROLE_HELPER;
}

/* The heaviest chain below fn; a function already on the chain (recursion) adds nothing more. */
static struct chain heaviest(struct decl *fn, struct decl **on, int depth)
{
	struct chain best = { 0 }, c;

	for (int i = 0; i < depth; i++)
		if (on[i] == fn)
			return best;
	if (depth >= MAX_DEPTH)
		return best;
	on[depth] = fn;
	for (int i = 0; i < fn->calls.n; i++) {
		struct decl *callee = fn->calls.v[i];

		if (!inlined(callee))
			continue;
		c = heaviest(callee, on, depth + 1);
		if (c.bytes > best.bytes || !best.n)
			best = c;
	}
	best.bytes += fn->stack_bytes;
	memmove(best.path + 1, best.path, sizeof(best.path[0]) * (MAX_CHAIN - 1));
	best.path[0] = fn;
	best.n += best.n < MAX_CHAIN;
	return best;
}

struct call_site {
	const struct decl *callee;
	struct ks_loc loc;
	bool found;
};

static void find_call(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct call_site *cs = data;

	if (e && e->kind == E_CALL && !cs->found && e->lhs && e->lhs->decl == cs->callee)
		cs->loc = e->loc, cs->found = true;
}

/*
 * A program whose own locals fit (sema reports those that do not) but whose
 * chain through inlined helpers does not: clang refuses the object ("BPF
 * stack limit of 512 bytes is exceeded"), so ksc says so at the first call.
 */
static void check_chain(struct safety *sf, struct decl *fn)
{
	struct decl *on[MAX_DEPTH];
	struct call_site cs = { 0 };
	struct chain c;
	char parts[400];
	size_t len = 0;

	if (fn->role != ROLE_PROG && fn->role != ROLE_METHOD)
		return;
	if (fn->stack_bytes > KS_EBPF_STACK_LIMIT)
		return;
	c = heaviest(fn, on, 0);
	if (c.bytes <= KS_EBPF_STACK_LIMIT || c.n < 2)
		return;
	cs.callee = c.path[1];
	cs.loc = fn->name_loc;
	sf_walk_stmts(fn->body, find_call, &cs, 0, 0);
	for (int i = 0; i < c.n && len < sizeof(parts) - 1; i++)
		len += (size_t)snprintf(parts + len, sizeof(parts) - len, "%s'%s' %d", i ? ", " : "",
					c.path[i]->name, c.path[i]->stack_bytes);
	diag_error(sf->d, cs.loc,
		   "this call of '%s' brings the stack of '%s' to %lld bytes, over the eBPF limit of %d",
		   c.path[1]->name, fn->name, c.bytes, KS_EBPF_STACK_LIMIT);
	diag_note(sf->d, fn->name_loc, "@helper functions are inlined, so their locals share the "
		  "program's stack: %s; move large locals into a per-cpu array map", parts);
}

/*
 * eBPF has no recursion.  clang cannot inline a helper into itself, so it
 * emits a BPF-to-BPF call the verifier follows until 8 frames overflow
 * ("the call stack of 9 frames is too deep"), unless -O2 folds the calls
 * (constant arguments) or turns a tail call into a loop.  Those builds
 * load, so this is a warning; the mutual case cannot arise, as a function
 * is defined before it is called.
 */
static void check_recursion(struct safety *sf, struct decl *fn)
{
	struct call_site cs = { fn, fn->name_loc, false };
	int i;

	if (!inlined(fn))
		return;
	for (i = 0; i < fn->calls.n && fn->calls.v[i] != fn; i++)
		;
	if (i == fn->calls.n)
		return;
	sf_walk_stmts(fn->body, find_call, &cs, 0, 0);
	diag_warning(sf->d, cs.loc, "'%s' calls itself, and eBPF has no recursion: unless clang "
		     "folds the calls away or turns them into a loop, the verifier refuses the "
		     "program", fn->name);
}

/* ---- context fields ---- */

/* The struct a pointer expression points to, or NULL. */
static const struct decl *pointee(const struct expr *p)
{
	struct type *t = p ? type_unalias(p->type) : NULL;

	if (!t || t->kind != TY_PTR || !t->base)
		return NULL;
	t = type_unalias(t->base);
	return t && t->kind == TY_STRUCT ? t->decl : NULL;
}

/* The context struct e's field access goes through (ctx->f, (*ctx).f with a pointer), or NULL. */
static const struct decl *ctx_struct(const struct expr *e)
{
	const struct decl *s;

	if (!e || (e->kind != E_ARROW && e->kind != E_FIELD))
		return NULL;
	s = pointee(e->lhs);
	if (!s || !(s->from_btf || s->from_header))
		return NULL;
	if (!strcmp(s->name, "xdp_md") || !strcmp(s->name, "__sk_buff") || !strcmp(s->name, "pt_regs") ||
	    !strcmp(s->name, "bpf_perf_event_data") || !strncmp(s->name, "trace_event_raw_", 16))
		return s;
	return NULL;
}

static bool one_of(const char *name, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(name, *list))
			return true;
	return false;
}

/* net/core/filter.c, tc_cls_act_is_valid_access(): the fields a tc program may write. */
static const char *const skb_writable[] = {
	"mark", "tc_index", "priority", "tc_classid", "cb", "tstamp", "queue_mapping", NULL,
};

/* The same function: fields only socket programs see (family ... local_port), and flow_keys. */
static const char *const skb_unreadable[] = {
	"family", "remote_ip4", "local_ip4", "remote_ip6", "local_ip6", "remote_port", "local_port",
	"flow_keys", NULL,
};

static void ctx_write(struct safety *sf, const struct expr *f, const struct decl *s)
{
	const char *n = s->name;

	if (!strcmp(n, "__sk_buff")) {
		if (!one_of(f->str, skb_writable))
			diag_error(sf->d, f->loc, "'%s' of __sk_buff is read-only: a tc program may write "
				   "only mark, priority, tc_index, tc_classid, queue_mapping, tstamp and cb[]",
				   f->str);
		return;
	}
	if (!strcmp(n, "xdp_md")) {
		diag_error(sf->d, f->loc, "'%s' of xdp_md is read-only: the verifier refuses any write "
			   "to an XDP program's context", f->str);
		if (!strcmp(f->str, "data") || !strcmp(f->str, "data_end") || !strcmp(f->str, "data_meta"))
			diag_note(sf->d, f->loc, "move the packet's bounds with bpf_xdp_adjust_head(), "
				  "bpf_xdp_adjust_tail() or bpf_xdp_adjust_meta()");
	} else if (!strcmp(n, "pt_regs")) {
		diag_error(sf->d, f->loc, "'%s' of pt_regs is read-only: the verifier refuses writes "
			   "to a task's saved registers", f->str);
	} else {
		diag_error(sf->d, f->loc, "'%s' of %s is read-only: the verifier refuses writes to a "
			   "%s program's context", f->str, n,
			   !strcmp(n, "bpf_perf_event_data") ? "perf_event" : "tracepoint");
	}
}

static void ctx_read(struct safety *sf, const struct expr *f, const struct decl *s)
{
	if (!strcmp(s->name, "__sk_buff") && one_of(f->str, skb_unreadable))
		diag_error(sf->d, f->loc, "a tc program may not read '%s' of __sk_buff: the verifier "
			   "gives it only to socket programs", f->str);
	else if (!strcmp(s->name, "xdp_md") && !strcmp(f->str, "egress_ifindex"))
		diag_error(sf->d, f->loc, "an XDP program may not read 'egress_ifindex' of xdp_md: the "
			   "verifier gives it only to programs run from a devmap");
}

/* The field access an assignment writes: ctx->f, or ctx->f[i] (cb[0]). */
static const struct expr *written_field(const struct expr *lhs)
{
	while (lhs && lhs->kind == E_INDEX)
		lhs = lhs->lhs;
	return lhs;
}

/* ---- helpers and kfuncs by program type ---- */

/*
 * Helpers of tc_cls_act_func_proto() that no XDP, tracing or struct_ops
 * program type offers (net/core/filter.c, kernel/trace/bpf_trace.c).
 */
static const char *const tc_only[] = {
	"bpf_skb_store_bytes", "bpf_skb_load_bytes", "bpf_skb_load_bytes_relative",
	"bpf_skb_pull_data", "bpf_csum_update", "bpf_csum_level", "bpf_l3_csum_replace",
	"bpf_l4_csum_replace", "bpf_clone_redirect", "bpf_skb_vlan_push", "bpf_skb_vlan_pop",
	"bpf_skb_change_proto", "bpf_skb_change_type", "bpf_skb_adjust_room", "bpf_skb_change_tail",
	"bpf_skb_change_head", "bpf_skb_get_tunnel_key", "bpf_skb_set_tunnel_key",
	"bpf_skb_get_tunnel_opt", "bpf_skb_set_tunnel_opt", "bpf_redirect_neigh", "bpf_redirect_peer",
	"bpf_get_route_realm", "bpf_get_hash_recalc", "bpf_set_hash_invalid", "bpf_set_hash",
	"bpf_skb_under_cgroup", "bpf_skb_ecn_set_ce", "bpf_skb_set_tstamp", "bpf_skb_cgroup_classid",
	NULL,
};

/* Helpers of xdp_func_proto() alone. */
static const char *const xdp_only[] = {
	"bpf_xdp_adjust_head", "bpf_xdp_adjust_meta", "bpf_xdp_adjust_tail", "bpf_xdp_get_buff_len",
	"bpf_xdp_load_bytes", "bpf_xdp_store_bytes", NULL,
};

static const char *const perf_event_only[] = {
	"bpf_perf_prog_read_value", "bpf_read_branch_records", NULL,
};

static const char *const kprobe_only[] = { "bpf_override_return", NULL };

static const char *const prog_words[] = {
	[PROG_XDP] = "XDP", [PROG_TC] = "tc", [PROG_PROBE] = "fentry", [PROG_KPROBE] = "kprobe",
	[PROG_TRACEPOINT] = "tracepoint", [PROG_PERF_EVENT] = "perf_event",
	[PROG_STRUCT_OPS] = "struct_ops",
};

/* The one program type a helper is for, or PROG_NONE when any may call it. */
static enum prog_kind helper_home(const char *name)
{
	return one_of(name, tc_only) ? PROG_TC : one_of(name, xdp_only) ? PROG_XDP :
	       one_of(name, perf_event_only) ? PROG_PERF_EVENT :
	       one_of(name, kprobe_only) ? PROG_KPROBE : PROG_NONE;
}

/* The program types fn runs in: its own, or (a helper) those of the programs calling it. */
static unsigned fn_progs(const struct decl *fn)
{
	return fn->role == ROLE_HELPER ? fn->prog_users : fn->prog ? 1u << fn->prog : 0;
}

/* The first program type of mask other than home, or PROG_NONE. */
static enum prog_kind other_prog(unsigned mask, enum prog_kind home)
{
	for (int p = PROG_XDP; p <= PROG_STRUCT_OPS; p++)
		if ((mask & (1u << p)) && p != (int)home)
			return (enum prog_kind)p;
	return PROG_NONE;
}

static void check_extern_call(struct safety *sf, const struct expr *call)
{
	const char *name = call->lhs->decl->name;
	enum prog_kind home = helper_home(name), bad;

	if (!strncmp(name, "bpf_xdp_metadata_", 17)) {
		diag_error(sf->d, call->loc, "'%s' works only in an XDP program bound to a device, and "
			   "ksc loads no program bound to a device: the verifier refuses the call", name);
		return;
	}
	if (home == PROG_NONE)
		return;
	bad = other_prog(fn_progs(sf->fn), home);
	if (bad == PROG_NONE)
		return;
	diag_error(sf->d, call->loc, "'%s' is a helper for %s programs only: the verifier refuses it "
		   "in %s %s program", name, prog_words[home], bad == PROG_XDP ? "an" : "a",
		   prog_words[bad]);
	if (sf->fn->role == ROLE_HELPER)
		diag_note(sf->d, sf->fn->name_loc, "'%s' is a @helper that %s %s program calls",
			  sf->fn->name, bad == PROG_XDP ? "an" : "a", prog_words[bad]);
}

/* ---- the walk ---- */

struct prog_walk {
	struct safety *sf;
	const struct expr *written;   /* the field the statement being walked assigns */
};

static void prog_one(void *data, const struct stmt *s, const struct expr *e, int loops)
{
	struct prog_walk *w = data;
	const struct decl *cs;

	if (s) {
		w->written = s->kind == S_ASSIGN ? written_field(s->lhs) : NULL;
		if (w->written && (cs = ctx_struct(w->written)))
			ctx_write(w->sf, w->written, cs);
		return;
	}
	if (e != w->written && (cs = ctx_struct(e)))
		ctx_read(w->sf, e, cs);
	if (e->kind == E_CALL && e->lhs && e->lhs->kind == E_IDENT && e->lhs->ref == REF_EXTERN &&
	    e->lhs->decl)
		check_extern_call(w->sf, e);
}

void sf_prog_check(struct safety *sf, struct decl *fn)
{
	struct prog_walk w = { sf, NULL };

	check_chain(sf, fn);
	check_recursion(sf, fn);
	sf_walk_stmts(fn->body, prog_one, &w, 0, 0);
}
