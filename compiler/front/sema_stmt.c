/* Statement and function checking: scopes, control flow, signatures, stack. */
#include "sema_internal.h"
#include "target.h"

#include <string.h>

static void check_stmts(struct checker *c, struct stmt *s);

/* ---- locals ---- */

struct local *find_local(struct checker *c, const char *name)
{
	for (int i = c->nlocals - 1; i >= 0; i--)
		if (!strcmp(c->locals[i].name, name))
			return &c->locals[i];
	return NULL;
}

/* The kernel struct a value of t holds by value, through user structs and pointers to them. */
static struct decl *kernel_value(struct type *t, int depth)
{
	struct decl *k = NULL;

	t = type_unalias(t);
	if (!t || depth > 16)
		return NULL;
	if (t->kind == TY_ARRAY)
		return kernel_value(t->base, depth + 1);
	if (t->kind == TY_PTR) {
		struct type *b = type_unalias(t->base);

		/* A pointer to a kernel struct is an opaque handle in userspace. */
		return b && b->kind == TY_STRUCT && !b->decl->from_header && !b->decl->from_btf ?
			       kernel_value(b, depth + 1) : NULL;
	}
	if (t->kind != TY_STRUCT)
		return NULL;
	if (t->decl->from_header || t->decl->from_btf)
		return strcmp(t->decl->name, "perf_options") && strcmp(t->decl->name, "PerfAttachment") ?
			       t->decl : NULL;
	for (struct struct_field *f = t->decl->fields; f && !k; f = f->next)
		k = kernel_value(f->ty, depth + 1);
	return k;
}

void check_user_value(struct checker *c, struct type *t, struct ks_loc loc)
{
	struct decl *k = c->ctx == TARGET_USER ? kernel_value(t, 0) : NULL;
	struct type *u = type_unalias(t);

	if (!k)
		return;
	while (u->kind == TY_PTR || u->kind == TY_ARRAY)
		u = type_unalias(u->base);
	if (u->kind == TY_STRUCT && u->decl != k)
		diag_error(c->d, loc, "'%s' holds kernel struct '%s' by value, which userspace code cannot "
			   "hold: use it in eBPF code only", u->decl->name, k->name);
	else
		diag_error(c->d, loc, "userspace code cannot hold kernel struct '%s' by value: "
			   "use a pointer, or eBPF code", k->name);
}

static struct local *add_local(struct checker *c, const char *name, struct ks_loc loc,
			       struct type *ty, struct stmt *decl)
{
	struct local *l;

	/* A map lookup's value was reported where the map is read. */
	if (!(decl && decl->value && decl->value->kind == E_INDEX && decl->value->map_lookup))
		check_user_value(c, ty, loc);

	for (int i = c->nlocals - 1; i >= 0 && c->locals[i].depth == c->depth; i--) {
		if (!strcmp(c->locals[i].name, name)) {
			diag_error(c->d, loc, "redefinition of '%s' in the same scope", name);
			break;
		}
	}
	if (c->nlocals == c->caplocals) {
		c->caplocals = c->caplocals ? c->caplocals * 2 : 32;
		c->locals = xrealloc(c->locals, sizeof(*c->locals) * (size_t)c->caplocals);
	}
	l = &c->locals[c->nlocals++];
	memset(l, 0, sizeof(*l));
	l->name = name;
	l->ty = ty;
	l->decl = decl;
	l->param = -1;
	l->depth = c->depth;
	return l;
}

static void enter_scope(struct checker *c)
{
	c->depth++;
}

static void leave_scope(struct checker *c)
{
	while (c->nlocals && c->locals[c->nlocals - 1].depth == c->depth)
		c->nlocals--;
	c->depth--;
}

static void check_scoped(struct checker *c, struct stmt *s)
{
	enter_scope(c);
	check_stmts(c, s);
	leave_scope(c);
}

/* ---- eBPF stack ---- */

/* Every local occupies a stack slot of at least 8 bytes in eBPF. */
static void account_stack(struct checker *c, struct type *t, const char *name, struct ks_loc loc)
{
	long long sz;

	/* Once over the limit (reported), the total no longer matters. */
	if (c->ctx != TARGET_EBPF || !t || type_is_error(t) || c->stack_reported)
		return;
	sz = type_size_memo(&c->sizes, t);
	if (sz < 0)
		return;
	sz = (sz + 7) / 8 * 8;
	c->stack += sz;
	if (c->stack > KS_EBPF_STACK_LIMIT && !c->stack_reported) {
		c->stack_reported = true;
		diag_error(c->d, loc,
			   "'%s' (%s, %lld bytes) brings the stack of '%s' to %lld bytes, over the eBPF limit of %d",
			   name, type_str(c->a, t), sz, c->fn->name, c->stack, KS_EBPF_STACK_LIMIT);
	}
}

/* ---- statements ---- */

static void check_var(struct checker *c, struct stmt *s)
{
	struct type *t;
	struct local *l;

	if (s->ty) {
		resolve_type(c, s->ty);
		t = s->ty;
		if (type_is_void(t) || type_unalias(t)->kind == TY_MAP ||
		    type_unalias(t)->kind == TY_RINGBUF) {
			diag_error(c->d, s->name_loc, "local '%s' cannot have type %s", s->name,
				   type_str(c->a, t));
			t = ty_basic(c, TY_ERROR);
		}
		if (s->value)
			check_value(c, s->value, t, "initializer");
	} else {
		t = infer_var_type(c, check_expr(c, s->value, NULL), s->value);
	}
	s->var_type = t;
	/* The language's consts are named integer values (KernelScript 0.1.1 checks both). */
	if (s->is_const && !type_is_error(t) && !type_is_int(t))
		diag_error(c->d, s->name_loc, "const '%s' has type %s: a const is an integer",
			   s->name, type_str(c->a, t));
	else if (s->is_const && s->value && !type_is_error(t) && !s->value->const_known)
		diag_error(c->d, s->value->loc, "const '%s' needs a constant value, not one "
			   "computed at run time", s->name);
	s->from_lookup = s->value && s->value->kind == E_INDEX && s->value->map_lookup;
	account_stack(c, t, s->name, s->name_loc);
	l = add_local(c, s->name, s->name_loc, t, s);
	l->is_const = s->is_const;
}

/* Whether local var is given a `new` object anywhere in stmts. */
static bool gets_new(const struct stmt *s, const struct stmt *var)
{
	for (; s; s = s->next) {
		if (s == var && s->value && s->value->kind == E_NEW)
			return true;
		if (s->kind == S_ASSIGN && s->lhs->kind == E_IDENT && s->lhs->ref == REF_LOCAL &&
		    s->lhs->local == var && s->value->kind == E_NEW)
			return true;
		if (gets_new(s->then, var) || gets_new(s->els, var) || gets_new(s->body, var))
			return true;
		for (const struct catch_clause *k = s->catches; k; k = k->next)
			if (gets_new(k->body, var))
				return true;
	}
	return false;
}

/* A map whose values are pointers to the program's structs keeps `new` objects (eBPF). */
static bool is_object_map(const struct type *t)
{
	t = type_unalias((struct type *)t);
	if (t->kind != TY_MAP)
		return false;
	t = type_unalias(t->base);
	if (t->kind != TY_PTR)
		return false;
	t = type_unalias(t->base);
	return t->kind == TY_STRUCT && t->decl && !t->decl->from_header && !t->decl->from_btf;
}

/*
 * eBPF: m[k] = p moves an object the function owns into the map, so p
 * must be `new T()` or a local given one.
 */
static void check_object_store(struct checker *c, struct stmt *s)
{
	struct expr *v = s->value;

	if (c->ctx != TARGET_EBPF || s->lhs->kind != E_INDEX || !s->lhs->map_lookup ||
	    !s->lhs->lhs->type || !is_object_map(s->lhs->lhs->type) || v->kind == E_NEW)
		return;
	if (v->kind == E_IDENT && v->ref == REF_LOCAL && v->local && gets_new(c->fn->body, v->local))
		return;
	diag_error(c->d, v->loc,
		   "only an object made with 'new' can be stored in a map of objects: "
		   "store 'new T()' or a local given one");
}

static void check_assign(struct checker *c, struct stmt *s)
{
	struct type *t = check_expr(c, s->lhs, NULL), *u = type_unalias(t);

	check_lvalue(c, s->lhs, s->op >= 0);
	if (s->op < 0) {
		check_value(c, s->value, t, "assigned value");
		check_object_store(c, s);
		return;
	}
	if (!type_is_error(t) && !type_is_int(u) && !(u->kind == TY_STR && s->op == OP_ADD)) {
		diag_error(c->d, s->loc, "compound assignment needs an integer, not %s",
			   type_str(c->a, t));
		check_expr(c, s->value, NULL);
		return;
	}
	check_value(c, s->value, t, "operand");
	if ((s->op == OP_DIV || s->op == OP_MOD) && s->value->const_known && s->value->cval == 0)
		diag_error(c->d, s->value->loc, "division by zero");
}

static void check_return(struct checker *c, struct stmt *s)
{
	struct decl *fn = c->fn;
	struct type *want = fn->ret;

	c->returns_seen++;
	if (!s->value) {
		if (want && !type_is_void(want) && !fn->ret_name)
			diag_error(c->d, s->loc, "'%s' must return a value of type %s", fn->name,
				   type_str(c->a, want));
		return;
	}
	if (!want || type_is_void(want)) {
		diag_error(c->d, s->value->loc, "'%s' returns nothing, but a value is returned",
			   fn->name);
		check_expr(c, s->value, NULL);
		return;
	}
	c->tail_pos = true;
	check_value(c, s->value, want, "returned value");
	c->tail_pos = false;
	/*
	 * 0.1.1 accepts this (its examples do it).  A local's storage ends with
	 * its call, so the backends keep such a local in static storage: the
	 * pointer stays valid, and the next call reuses the same object.
	 */
	if (s->value->kind == E_UNARY && s->value->op == UOP_ADDR &&
	    s->value->lhs->kind == E_IDENT && s->value->lhs->ref == REF_LOCAL) {
		struct stmt *local = s->value->lhs->local;

		if (local && local->kind == S_VAR)
			local->addr_returned = true;
		diag_warning(c->d, s->value->loc,
			     local && local->kind == S_VAR ?
			     "returning the address of local '%s': it is kept in static storage, so each call of '%s' reuses it" :
			     "returning the address of local '%s', which is gone once '%s' returns",
			     s->value->lhs->str, fn->name);
	}
}

/* if (var x = e): e must be a map lookup or a pointer; x is bound in the then-branch only. */
static void check_ifvar(struct checker *c, struct stmt *s)
{
	struct type *t = check_expr(c, s->value, NULL), *u = type_unalias(t);

	if (!type_is_error(t) && !(s->value->kind == E_INDEX && s->value->map_lookup) &&
	    u->kind != TY_PTR) {
		diag_error(c->d, s->value->loc,
			   "'if (var ...)' needs a map lookup or a pointer, not %s", type_str(c->a, t));
	}
	/* A struct map value binds the lookup pointer: updates go to the map. */
	s->binds_pointer = u->kind == TY_STRUCT && s->value->kind == E_INDEX;
	if (s->binds_pointer)
		t = type_ptr(c->a, t);
	s->var_type = t;
	enter_scope(c);
	add_local(c, s->name, s->name_loc, t, s);
	check_stmts(c, s->then);
	leave_scope(c);
	if (s->els)
		check_scoped(c, s->els);
}

static void check_for(struct checker *c, struct stmt *s)
{
	struct type *lo = check_expr(c, s->lhs, NULL), *hi = check_expr(c, s->key, NULL), *t;

	if (!type_is_error(lo) && !type_is_int(lo))
		diag_error(c->d, s->lhs->loc, "a loop bound must be an integer, not %s",
			   type_str(c->a, lo));
	if (!type_is_error(hi) && !type_is_int(hi))
		diag_error(c->d, s->key->loc, "a loop bound must be an integer, not %s",
			   type_str(c->a, hi));
	t = infer_var_type(c, type_is_int(lo) && !type_unalias(lo)->int_literal ? lo :
			   type_is_int(hi) ? hi : lo, s->lhs);
	s->var_type = t;
	enter_scope(c);
	add_local(c, s->name, s->name_loc, t, s);
	c->loops++;
	check_stmts(c, s->body);
	c->loops--;
	leave_scope(c);
}

static void check_delete(struct checker *c, struct stmt *s)
{
	struct type *t = check_expr(c, s->lhs, NULL), *u = type_unalias(t);

	if (s->key) {
		if (type_is_error(t))
			return;
		if (u->kind != TY_MAP) {
			diag_error(c->d, s->lhs->loc, "'delete x[k]' needs a map, not %s", type_str(c->a, t));
			return;
		}
		if (u->map == MAP_ARRAY || u->map == MAP_PERCPU_ARRAY)
			diag_error(c->d, s->loc, "entries of array maps cannot be deleted");
		check_value(c, s->key, u->key, "map key");
		return;
	}
	if (!type_is_error(t) && u->kind != TY_PTR)
		diag_error(c->d, s->lhs->loc, "'delete' needs a pointer from 'new' or a map entry, not %s",
			   type_str(c->a, t));
	/* An object a map of objects holds is freed by deleting its entry. */
	if (c->ctx == TARGET_EBPF && s->lhs->kind == E_IDENT && s->lhs->ref == REF_LOCAL &&
	    s->lhs->local && s->lhs->local->kind == S_VAR && s->lhs->local->value &&
	    s->lhs->local->value->kind == E_INDEX && s->lhs->local->value->map_lookup &&
	    s->lhs->local->value->lhs->type && is_object_map(s->lhs->local->value->lhs->type) &&
	    !gets_new(c->fn->body, s->lhs->local))
		diag_error(c->d, s->lhs->loc,
			   "'%s' points to an object a map holds: delete the map entry instead",
			   s->lhs->str);
}

static void check_try(struct checker *c, struct stmt *s)
{
	c->tries++;
	check_scoped(c, s->body);
	c->tries--;
	for (struct catch_clause *k = s->catches; k; k = k->next) {
		for (struct catch_clause *o = s->catches; o != k; o = o->next) {
			if (o->wildcard)
				diag_error(c->d, k->loc, "catch clause after 'catch _' is never reached");
			else if (!k->wildcard && o->code == k->code)
				diag_error(c->d, k->loc, "error code %lld is caught twice", k->code);
		}
		check_scoped(c, k->body);
	}
	if (!s->catches)
		diag_error(c->d, s->loc, "'try' needs at least one 'catch'");
}

static void check_stmt(struct checker *c, struct stmt *s)
{
	struct type *t;

	switch (s->kind) {
	case S_VAR:
		check_var(c, s);
		break;
	case S_ASSIGN:
		check_assign(c, s);
		break;
	case S_EXPR:
		check_expr(c, s->value, NULL);
		break;
	case S_RETURN:
		check_return(c, s);
		break;
	case S_IF:
		check_cond(c, s->value);
		check_scoped(c, s->then);
		if (s->els)
			check_scoped(c, s->els);
		break;
	case S_IFVAR:
		check_ifvar(c, s);
		break;
	case S_WHILE:
		check_cond(c, s->value);
		c->loops++;
		check_scoped(c, s->body);
		c->loops--;
		break;
	case S_FOR:
		check_for(c, s);
		break;
	case S_DELETE:
		check_delete(c, s);
		break;
	case S_BREAK:
	case S_CONTINUE:
		if (!c->loops)
			diag_error(c->d, s->loc, "'%s' outside of a loop",
				   s->kind == S_BREAK ? "break" : "continue");
		break;
	case S_TRY:
		check_try(c, s);
		break;
	case S_THROW:
		/* eBPF and module code cannot unwind: a throw is caught by a try around it. */
		if (!c->tries && c->ctx != TARGET_USER)
			diag_error(c->d, s->loc, "'throw' outside 'try' cannot be caught in %s",
				   c->ctx == TARGET_EBPF ? "eBPF code" : "kernel module code");
		t = check_expr(c, s->value, NULL);
		if (!type_is_error(t) && !type_is_int(t))
			diag_error(c->d, s->value->loc, "'throw' needs an integer error code, not %s",
				   type_str(c->a, t));
		break;
	case S_DEFER:
		check_expr(c, s->value, NULL);
		if (s->value->kind != E_CALL)
			diag_error(c->d, s->value->loc, "'defer' needs a function call");
		break;
	}
}

static void check_stmts(struct checker *c, struct stmt *s)
{
	for (; s && !diag_too_many(c->d); s = s->next)
		check_stmt(c, s);
}

static struct stmt *last_stmt(struct stmt *s)
{
	while (s && s->next)
		s = s->next;
	return s;
}

/*
 * A block used as a match arm's value: its last statement gives the value,
 * either an expression or an if/else whose branches both end in one.  A
 * branch ending in return has no value and needs none (*diverges).
 */
static struct type *tail_value(struct stmt *last, bool *diverges)
{
	struct type *a, *b;
	bool da = false, db = false;

	*diverges = false;
	if (!last)
		return NULL;
	switch (last->kind) {
	case S_EXPR:
		return last->value->type;
	case S_RETURN:
	case S_THROW:
		*diverges = true;
		return NULL;
	case S_IF:
	case S_IFVAR:
		if (!last->els)
			return NULL;
		a = tail_value(last_stmt(last->then), &da);
		b = tail_value(last_stmt(last->els), &db);
		*diverges = da && db;
		if ((!a && !da) || (!b && !db))
			return NULL;
		return a ? a : b;
	default:
		return NULL;
	}
}

struct type *check_block_value(struct checker *c, struct stmt *body, struct type *want,
			       struct ks_loc at)
{
	struct type *t;
	bool diverges;

	(void)want;
	check_scoped(c, body);
	t = tail_value(last_stmt(body), &diverges);
	if (!t && !diverges)
		diag_error(c->d, at, "a block match arm must end in a value");
	return t;
}

/* ---- functions ---- */

static bool is_ptr_to(const struct type *t, const char *name)
{
	t = type_unalias((struct type *)t);
	if (!t || t->kind != TY_PTR)
		return false;
	t = type_unalias(t->base);
	return t && (t->kind == TY_STRUCT || t->kind == TY_NAMED) && t->decl &&
	       !strcmp(t->decl->name, name);
}

static bool is_enum_named(const struct type *t, const char *name)
{
	t = type_unalias((struct type *)t);
	return t && t->kind == TY_ENUM && !strcmp(t->decl->name, name);
}

static const char *const prog_attr_name[] = {
	[PROG_XDP] = "@xdp", [PROG_TC] = "@tc", [PROG_PROBE] = "@probe",
	[PROG_KPROBE] = "@probe", [PROG_TRACEPOINT] = "@tracepoint",
	[PROG_PERF_EVENT] = "@perf_event",
};

/*
 * A tracepoint record type that no BTF has (0.1.1 programs name made-up
 * ones, such as trace_event_raw_context): the unknown-type error said so;
 * say what the kernel has instead.
 */
static void note_tracepoint_record(struct checker *c, const struct param *p)
{
	const struct type *b = type_unalias(p->ty)->base;

	if (!b || b->kind != TY_ERROR || !b->name)
		return;
	diag_note(c->d, b->loc, "a tracepoint's record is the kernel's struct trace_event_raw_EVENT "
		  "(its fields: /sys/kernel/tracing/events/CATEGORY/EVENT/format), and this "
		  "kernel's BTF has no '%s'", b->name);
}

/* The context parameter and return type each program type requires. */
static void check_prog_signature(struct checker *c, struct decl *fn)
{
	const char *attr = prog_attr_name[fn->prog];
	const struct type *ret = fn->ret;
	const struct type *p0 = fn->params ? fn->params->ty : NULL;
	bool ret_int = ret && type_is_int(ret) && !type_unalias((struct type *)ret)->int_literal;

	switch (fn->prog) {
	case PROG_XDP:
		if (fn->nparams != 1 || !is_ptr_to(p0, "xdp_md"))
			diag_error(c->d, fn->name_loc, "%s function '%s' must take one parameter of type *xdp_md",
				   attr, fn->name);
		if (!ret || !(is_enum_named(ret, "xdp_action") || ret_int))
			diag_error(c->d, fn->name_loc, "%s function '%s' must return xdp_action", attr,
				   fn->name);
		break;
	case PROG_TC:
		if (fn->nparams != 1 || !is_ptr_to(p0, "__sk_buff"))
			diag_error(c->d, fn->name_loc, "%s function '%s' must take one parameter of type *__sk_buff",
				   attr, fn->name);
		if (!ret || !ret_int)
			diag_error(c->d, fn->name_loc, "%s function '%s' must return i32", attr, fn->name);
		break;
	case PROG_PROBE:
	case PROG_KPROBE:
		if (fn->nparams > 6)
			diag_error(c->d, fn->name_loc,
				   "%s function '%s' takes at most 6 parameters (the probed function's arguments)",
				   attr, fn->name);
		for (struct param *p = fn->params; p; p = p->next)
			if (is_ptr_to(p->ty, "pt_regs"))
				diag_error(c->d, p->loc,
					   "%s functions take the probed function's parameters, not *pt_regs",
					   attr);
		if (!ret || !ret_int)
			diag_error(c->d, fn->name_loc, "%s function '%s' must return i32", attr, fn->name);
		break;
	case PROG_TRACEPOINT:
		if (fn->nparams != 1 || type_unalias((struct type *)p0)->kind != TY_PTR)
			diag_error(c->d, fn->name_loc,
				   "%s function '%s' must take one pointer to the tracepoint's record (e.g. *trace_event_raw_sched_switch)",
				   attr, fn->name);
		else
			note_tracepoint_record(c, fn->params);
		if (!ret || !ret_int)
			diag_error(c->d, fn->name_loc, "%s function '%s' must return i32", attr, fn->name);
		break;
	case PROG_PERF_EVENT:
		if (fn->nparams != 1 || !is_ptr_to(p0, "bpf_perf_event_data"))
			diag_error(c->d, fn->name_loc,
				   "%s function '%s' must take one parameter of type *bpf_perf_event_data",
				   attr, fn->name);
		if (!ret || !ret_int)
			diag_error(c->d, fn->name_loc, "%s function '%s' must return i32", attr, fn->name);
		break;
	default:
		break;
	}
}

/* kfuncs cross the BPF/kernel boundary: only scalars and pointers fit in registers. */
static void check_kfunc_signature(struct checker *c, struct decl *fn)
{
	if (fn->nparams > 5)
		diag_error(c->d, fn->name_loc, "@kfunc '%s' takes at most 5 parameters", fn->name);
	for (struct param *p = fn->params; p; p = p->next)
		if (!type_is_error(p->ty) && !type_is_scalar(p->ty))
			diag_error(c->d, p->loc,
				   "@kfunc parameter '%s' has type %s; kfuncs take integers, bools and pointers",
				   p->name, type_str(c->a, p->ty));
	if (fn->ret && !type_is_error(fn->ret) && !type_is_void(fn->ret) && !type_is_scalar(fn->ret))
		diag_error(c->d, fn->ret->loc,
			   "@kfunc '%s' returns %s; kfuncs return integers, bools, pointers or nothing",
			   fn->name, type_str(c->a, fn->ret));
}

static void check_main_signature(struct checker *c, struct decl *fn)
{
	if (fn->ret && !type_is_error(fn->ret) && !type_is_int(fn->ret))
		diag_error(c->d, fn->ret->loc, "'main' must return an integer");
	if (fn->nparams > 1) {
		diag_error(c->d, fn->name_loc, "'main' takes no parameters or one options struct");
		return;
	}
	if (fn->nparams == 1) {
		struct type *t = type_unalias(fn->params->ty);

		if (type_is_error(t))
			return;
		if (t->kind != TY_STRUCT) {
			diag_error(c->d, fn->params->loc,
				   "the parameter of 'main' must be a struct of command-line options");
			return;
		}
		for (struct struct_field *f = t->decl->fields; f; f = f->next) {
			struct type *ft = type_unalias(f->ty);

			if (!type_is_error(ft) && !type_is_int(ft) && ft->kind != TY_BOOL &&
			    ft->kind != TY_STR)
				diag_error(c->d, f->loc,
					   "command-line option '%s' must be an integer, bool or string, not %s",
					   f->name, type_str(c->a, f->ty));
		}
	}
}

static void check_params(struct checker *c, struct decl *fn)
{
	int i = 0;

	for (struct param *p = fn->params; p; p = p->next, i++) {
		struct stmt *slot = arena_alloc(c->a, sizeof(*slot));
		struct local *l;

		resolve_type(c, p->ty);
		if (type_is_void(p->ty))
			diag_error(c->d, p->loc, "parameter '%s' cannot be void", p->name);
		slot->kind = S_VAR;
		slot->name = p->name;
		slot->loc = slot->name_loc = p->loc;
		slot->var_type = p->ty;
		p->slot = slot;
		l = add_local(c, p->name, p->loc, p->ty, slot);
		l->param = i;
	}
}

/*
 * A function with a return type whose last statement is an expression
 * returns that expression (the reference compiles `match` bodies this way).
 */
static void implicit_return(struct decl *fn)
{
	struct stmt *last = last_stmt(fn->body);

	if (last && last->kind == S_EXPR && fn->ret && !type_is_void(fn->ret) && !fn->ret_name)
		last->kind = S_RETURN;
}

void check_function(struct checker *c, struct decl *fn)
{
	c->fn = fn;
	c->ctx = target_of(fn);
	fn->target = c->ctx;
	c->nlocals = 0;
	c->depth = 1;
	c->loops = 0;
	c->tries = 0;
	c->stack = 0;
	c->stack_reported = false;
	c->returns_seen = 0;
	check_params(c, fn);
	if (fn->ret) {
		resolve_type(c, fn->ret);
		check_user_value(c, fn->ret, fn->ret->loc);
	}
	if (fn->role == ROLE_PROG)
		check_prog_signature(c, fn);
	else if (fn->role == ROLE_KFUNC)
		check_kfunc_signature(c, fn);
	else if (fn->role == ROLE_USER && !strcmp(fn->name, "main") && !fn->impl)
		check_main_signature(c, fn);
	if ((fn->role == ROLE_HELPER || fn->role == ROLE_PRIVATE) && fn->nparams > 5)
		diag_error(c->d, fn->name_loc, "'%s' takes at most 5 parameters (an eBPF/kernel call limit)",
			   fn->name);
	if (fn->ret_name) {
		struct stmt *slot = arena_alloc(c->a, sizeof(*slot));

		slot->kind = S_VAR;
		slot->name = fn->ret_name;
		slot->loc = slot->name_loc = fn->ret->loc;
		slot->var_type = fn->ret;
		enter_scope(c);
		add_local(c, fn->ret_name, fn->ret->loc, fn->ret, slot);
		account_stack(c, fn->ret, fn->ret_name, fn->ret->loc);
	}
	implicit_return(fn);
	check_scoped(c, fn->body);
	check_returns(c, fn);
	fn->stack_bytes = (int)c->stack;
	c->fn = NULL;
	c->ctx = TARGET_NONE;
	c->nlocals = 0;
	c->depth = 0;
}
