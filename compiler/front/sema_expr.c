/* Expression checking: every expression gets a type and its names a meaning. */
#include "btf_types.h"
#include "lexer.h"
#include "sema.h"
#include "sema_internal.h"

#include <string.h>

const char *ctx_name(enum target t)
{
	switch (t) {
	case TARGET_EBPF:
		return "eBPF code";
	case TARGET_KMOD:
		return "kernel module code";
	case TARGET_USER:
		return "userspace code";
	default:
		return "a global initializer";
	}
}

struct type *ty_basic(struct checker *c, enum type_kind k)
{
	return type_new(c->a, k);
}

struct type *ty_error(struct checker *c)
{
	return ty_basic(c, TY_ERROR);
}

static struct type *ty_bool(struct checker *c)
{
	return ty_basic(c, TY_BOOL);
}

/* An integer constant gets the narrowest of i32, i64, u64 that holds it. */
static struct type *ty_int_literal(struct checker *c, uint64_t v, bool is_unsigned)
{
	struct type *t;

	if (is_unsigned)
		t = type_int(c->a, 8, false);
	else if (v > 0x7fffffffULL)
		t = type_int(c->a, 8, true);
	else
		t = type_int(c->a, 4, true);
	t->int_literal = true;
	return t;
}

bool const_eval(const struct expr *e, long long *v)
{
	long long a, b;

	switch (e->kind) {
	case E_INT:
	case E_CHAR:
	case E_BOOL:
		*v = (long long)e->ival;
		return true;
	case E_IDENT:
		if (e->ref != REF_ENUMCONST)
			return false;
		*v = e->enum_value;
		return true;
	case E_UNARY:
		if (e->op != UOP_NEG || !const_eval(e->lhs, &a))
			return false;
		*v = (long long)(0ULL - (unsigned long long)a);
		return true;
	case E_BINARY:
		if (!const_eval(e->lhs, &a) || !const_eval(e->rhs, &b))
			return false;
		switch (e->op) {
		case OP_ADD: *v = (long long)((unsigned long long)a + (unsigned long long)b); return true;
		case OP_SUB: *v = (long long)((unsigned long long)a - (unsigned long long)b); return true;
		case OP_MUL: *v = (long long)((unsigned long long)a * (unsigned long long)b); return true;
		case OP_DIV:
		case OP_MOD:
			if (b == 0 || (a == INT64_MIN && b == -1))
				return false;
			*v = e->op == OP_DIV ? a / b : a % b;
			return true;
		default:
			return false;
		}
	default:
		return false;
	}
}

struct type *infer_var_type(struct checker *c, struct type *t, struct expr *e)
{
	struct type *u = type_unalias(t);

	if (!u)
		return ty_error(c);
	if (u->kind == TY_INT && u->int_literal)
		return type_int(c->a, u->size, u->is_signed);
	/* The language's rule (SPEC.md 3.3.2): `var p = null` is a *u8. */
	if (u->kind == TY_NULL)
		return type_ptr(c->a, type_int(c->a, 1, false));
	if (u->kind == TY_VOID) {
		diag_error(c->d, e->loc, "expression has no value");
		return ty_error(c);
	}
	return t;
}

struct type *check_value(struct checker *c, struct expr *e, struct type *to, const char *what)
{
	struct type *t = check_expr(c, e, to);

	if (!type_assignable(to, t)) {
		diag_error(c->d, e->loc, "%s has type %s, but %s is expected", what,
			   type_str(c->a, t), type_str(c->a, to));
		return to;
	}
	if (type_unalias(t)->kind == TY_STR && type_unalias(to)->kind == TY_STR &&
	    type_unalias(t)->count > type_unalias(to)->count)
		diag_warning(c->d, e->loc, "%s does not fit in %s and will be truncated",
			     type_str(c->a, t), type_str(c->a, to));
	else
		check_const_fits(c, e, to);
	return t;
}

struct type *check_cond(struct checker *c, struct expr *e)
{
	struct type *t = check_expr(c, e, NULL);

	if (!type_is_error(t) && !type_is_scalar(t))
		diag_error(c->d, e->loc, "a condition must be a boolean, integer or pointer, not %s",
			   type_str(c->a, t));
	return t;
}

/* ---- names ---- */

static struct type *enum_type(struct checker *c, struct decl *d)
{
	struct type *t = type_new(c->a, TY_ENUM);

	t->decl = d;
	return t;
}

struct type *func_type(struct checker *c, struct decl *d)
{
	struct type *t = type_new(c->a, TY_FUNC);
	int i = 0;

	t->nparams = d->nparams;
	t->params = arena_alloc(c->a, sizeof(*t->params) * (size_t)(d->nparams + 1));
	for (struct param *p = d->params; p; p = p->next)
		t->params[i++] = p->ty;
	t->base = d->ret ? d->ret : ty_basic(c, TY_VOID);
	t->decl = d;
	return t;
}

void record_call(struct checker *c, struct decl *callee)
{
	if (c->fn && callee)
		ptrvec_push(c->a, &c->fn->calls, callee);
}

/*
 * A note naming the local, global, function or constant closest to an
 * unknown name, at its declaration (the use when it has none: a builtin).
 */
static void suggest_value(struct checker *c, const char *name, struct ks_loc use)
{
	struct ks_loc at = use;
	struct suggest s;

	suggest_init(&s, name);
	for (int i = 0; i < c->nlocals; i++)
		if (suggest_consider(&s, c->locals[i].name))
			at = c->locals[i].decl ? c->locals[i].decl->name_loc : use;
	for (size_t b = 0; b < SEMA_BUCKETS; b++)
		for (struct sym *y = c->values[b]; y; y = y->next)
			if (suggest_consider(&s, y->name))
				at = y->decl && y->decl->name_loc.src ? y->decl->name_loc : use;
	if (suggest_best(&s))
		diag_note(c->d, at, "did you mean '%s'?", suggest_best(&s));
}

/* A name no scope has: a kernel enum constant, a function used too early, or an error. */
static struct type *unknown_ident(struct checker *c, struct expr *e)
{
	long long v;
	struct decl *k = btf_find_enum_const(c->prog->kernel, c->a, e->str, &v);

	if (k) {
		e->ref = REF_ENUMCONST;
		e->decl = k;
		e->enum_value = e->cval = v;
		e->const_known = true;
		return enum_type(c, k);
	}
	for (struct decl *d = c->prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_FUNC && !strcmp(d->name, e->str)) {
			diag_error(c->d, e->loc,
				   "'%s' is used before its definition at line %d (functions must be defined before use)",
				   e->str, d->name_loc.line);
			return ty_error(c);
		}
	}
	diag_error(c->d, e->loc, "'%s' is not defined%s", e->str,
		   sym_lookup(c->types, e->str) ? " as a value (it is a type)" : "");
	if (!sym_lookup(c->types, e->str))
		suggest_value(c, e->str, e->loc);
	return ty_error(c);
}

/* A global, where the code that reads it may see it: module state only in module code. */
static struct type *global_ident(struct checker *c, struct expr *e, struct decl *g)
{
	if (g->target == TARGET_KMOD && c->ctx != TARGET_KMOD) {
		diag_error(c->d, e->loc,
			   "'%s' is @private module state and is only visible to @kfunc and @private functions",
			   e->str);
	} else if (g->target == TARGET_EBPF && c->ctx == TARGET_KMOD) {
		diag_error(c->d, e->loc, "eBPF global '%s' cannot be used in kernel module code",
			   e->str);
	} else if (g->is_local && c->ctx == TARGET_USER) {
		diag_error(c->d, e->loc, "'%s' is a 'local' global, visible only to eBPF code",
			   e->str);
	}
	return g->ty ? g->ty : ty_error(c);
}

static struct type *check_ident(struct checker *c, struct expr *e)
{
	struct local *l = find_local(c, e->str);
	struct sym *s;

	if (l) {
		e->ref = REF_LOCAL;
		e->local = l->decl;
		e->param_index = l->param;
		return l->ty ? l->ty : ty_error(c);
	}
	if (c->impl) {
		for (struct decl *m = c->impl->methods; m; m = m->next) {
			if (!strcmp(m->name, e->str)) {
				e->ref = REF_FUNC;
				e->decl = m;
				return func_type(c, m);
			}
		}
	}
	s = sym_lookup(c->values, e->str);
	if (!s)
		return unknown_ident(c, e);
	e->ref = s->kind;
	e->decl = s->decl;
	switch (s->kind) {
	case REF_ENUMCONST:
		e->enum_value = s->ec->value;
		e->const_known = true;
		e->cval = s->ec->value;
		return enum_type(c, s->decl);
	case REF_GLOBAL:
		return global_ident(c, e, s->decl);
	case REF_MAP:
		if (c->ctx == TARGET_KMOD)
			diag_error(c->d, e->loc, "map '%s' cannot be used in kernel module code", e->str);
		return s->decl->ty;
	case REF_FUNC:
	case REF_EXTERN:
		return func_type(c, s->decl);
	case REF_IMPL: {
		struct type *t = type_new(c->a, TY_IMPL);

		t->decl = s->decl;
		return t;
	}
	case REF_CONFIG: {
		struct type *t = type_new(c->a, TY_STRUCT);

		t->decl = s->decl;
		return t;
	}
	case REF_BUILTIN:
		diag_error(c->d, e->loc, "builtin '%s' can only be called", e->str);
		return ty_error(c);
	case REF_IMPORT:
		diag_error(c->d, e->loc, "module '%s' can only be used as '%s.function()'", e->str, e->str);
		return ty_error(c);
	default:
		return ty_error(c);
	}
}

/* ---- fields ---- */

static struct type *struct_field_type(struct checker *c, struct decl *d, const char *name)
{
	if (d->kind == D_CONFIG) {
		for (struct config_field *f = d->cfields; f; f = f->next)
			if (!strcmp(f->name, name))
				return f->ty;
		return NULL;
	}
	for (struct struct_field *f = d->fields; f; f = f->next)
		if (!strcmp(f->name, name))
			return f->ty;
	return NULL;
}

/* A note naming the field of d closest to an unknown one, at that field. */
static void suggest_field(struct checker *c, const struct decl *d, const char *name, struct ks_loc use)
{
	struct ks_loc at = use;
	struct suggest s;

	suggest_init(&s, name);
	if (d->kind == D_CONFIG) {
		for (struct config_field *f = d->cfields; f; f = f->next)
			if (suggest_consider(&s, f->name))
				at = f->loc;
	} else {
		for (struct struct_field *f = d->fields; f; f = f->next)
			if (suggest_consider(&s, f->name))
				at = f->loc;
	}
	if (suggest_best(&s))
		diag_note(c->d, at.src ? at : use, "did you mean '%s'?", suggest_best(&s));
}

static struct type *field_of(struct checker *c, struct expr *e, struct type *st)
{
	struct type *ft;

	ft = struct_field_type(c, st->decl, e->str);
	if (!ft) {
		diag_error(c->d, e->loc, "%s '%s' has no field '%s'",
			   st->decl->kind == D_CONFIG ? "config" : "struct", st->decl->name, e->str);
		suggest_field(c, st->decl, e->str, e->loc);
		return ty_error(c);
	}
	return ft;
}

static struct type *check_field(struct checker *c, struct expr *e)
{
	struct type *t = type_unalias(check_expr(c, e->lhs, NULL));

	if (type_is_error(t))
		return ty_error(c);
	/* Map value pointers and other struct pointers read fields with '.' too. */
	if (e->kind == E_FIELD && t->kind == TY_PTR && type_unalias(t->base)->kind == TY_STRUCT)
		t = type_unalias(t->base);
	if (e->kind == E_ARROW) {
		if (t->kind != TY_PTR || type_unalias(t->base)->kind != TY_STRUCT) {
			diag_error(c->d, e->loc, "'->' needs a pointer to a struct, but the operand is %s",
				   type_str(c->a, t));
			return ty_error(c);
		}
		t = type_unalias(t->base);
	}
	if (t->kind != TY_STRUCT) {
		diag_error(c->d, e->loc, "'.%s' needs a struct, but the operand is %s", e->str,
			   type_str(c->a, t));
		return ty_error(c);
	}
	return field_of(c, e, t);
}

/* ---- operators ---- */

static struct type *wider_int(struct checker *c, struct type *a, struct type *b)
{
	struct type *ua = type_unalias(a), *ub = type_unalias(b);

	if (ua->kind != TY_INT)
		return ub->kind == TY_INT ? b : type_int(c->a, 4, true);
	if (ub->kind != TY_INT)
		return a;
	if (ua->int_literal && !ub->int_literal)
		return b;
	if (ub->int_literal && !ua->int_literal)
		return a;
	if (ua->size != ub->size)
		return ua->size > ub->size ? a : b;
	return ua->is_signed ? b : a;
}

static bool is_null_or_ptr(const struct type *t)
{
	t = type_unalias((struct type *)t);
	return t->kind == TY_PTR || t->kind == TY_NULL;
}

/*
 * What may be compared with null: pointers, program handles, and map
 * lookups (directly or through a variable they initialized), whose null
 * means "no such entry".
 */
static bool is_nullable(struct checker *c, const struct expr *e)
{
	const struct type *t = type_unalias(e->type);

	if (t->kind == TY_PTR || t->kind == TY_NULL || t->kind == TY_HANDLE)
		return true;
	if (e->kind == E_INDEX && e->map_lookup)
		return true;
	if (e->kind == E_IDENT && e->ref == REF_LOCAL && e->local && e->local->from_lookup) {
		e->local->null_checked = true;
		return true;
	}
	return false;
}

static struct type *check_binary(struct checker *c, struct expr *e)
{
	struct type *a = check_expr(c, e->lhs, NULL);
	struct type *b = check_expr(c, e->rhs, type_is_int(a) ? a : NULL);
	struct type *ua = type_unalias(a), *ub = type_unalias(b);

	if (type_is_error(a) || type_is_error(b))
		return e->op >= OP_EQ ? ty_bool(c) : ty_error(c);
	switch (e->op) {
	case OP_AND:
	case OP_OR:
		if (!type_is_scalar(a) || !type_is_scalar(b))
			break;
		return ty_bool(c);
	case OP_EQ:
	case OP_NE:
		if ((type_is_int(a) || ua->kind == TY_BOOL) && (type_is_int(b) || ub->kind == TY_BOOL))
			return ty_bool(c);
		if (is_null_or_ptr(a) && is_null_or_ptr(b))
			return ty_bool(c);
		if ((ua->kind == TY_NULL && is_nullable(c, e->rhs)) ||
		    (ub->kind == TY_NULL && is_nullable(c, e->lhs)))
			return ty_bool(c);
		if (ua->kind == TY_STR && ub->kind == TY_STR)
			return ty_bool(c);
		break;
	case OP_LT: case OP_LE: case OP_GT: case OP_GE:
		if (type_is_int(a) && type_is_int(b))
			return ty_bool(c);
		if (ua->kind == TY_PTR && ub->kind == TY_PTR)
			return ty_bool(c);
		break;
	case OP_ADD:
		if (ua->kind == TY_STR && ub->kind == TY_STR) {
			struct type *t = type_new(c->a, TY_STR);

			t->count = ua->count + ub->count;
			return t;
		}
		/* fall through */
	default:
		if (type_is_int(a) && type_is_int(b)) {
			if ((e->op == OP_DIV || e->op == OP_MOD) && e->rhs->const_known &&
			    e->rhs->cval == 0)
				diag_error(c->d, e->rhs->loc, "division by zero");
			return wider_int(c, a, b);
		}
		if (ua->kind == TY_PTR || ub->kind == TY_PTR) {
			diag_error(c->d, e->loc, "pointer arithmetic is not allowed in KernelScript");
			return ty_error(c);
		}
		break;
	}
	diag_error(c->d, e->loc, "invalid operands to '%s': %s and %s", binop_text[e->op],
		   type_str(c->a, a), type_str(c->a, b));
	/* docs/reference-tests.md: why an integer is never compared with null. */
	if ((e->op == OP_EQ || e->op == OP_NE) &&
	    ((ua->kind == TY_NULL && type_is_int(b)) || (ub->kind == TY_NULL && type_is_int(a))))
		diag_note(c->d, e->loc, "null is the absence of a value: pointers and map lookups "
			  "can be null; an integer always holds one");
	return e->op >= OP_EQ ? ty_bool(c) : ty_error(c);
}

/*
 * ctx->data and friends are declared as u32 in the context structs (the
 * UAPI layout) but hold packet addresses: '*ctx->data' reads a packet byte.
 */
bool is_packet_field(const struct expr *e)
{
	const struct type *t;

	if (e->kind != E_ARROW && e->kind != E_FIELD)
		return false;
	t = type_unalias(e->lhs->type);
	if (t && t->kind == TY_PTR)
		t = type_unalias(t->base);
	if (!t || t->kind != TY_STRUCT || !t->decl)
		return false;
	if (!strcmp(t->decl->name, "xdp_md"))
		return !strcmp(e->str, "data") || !strcmp(e->str, "data_end") ||
		       !strcmp(e->str, "data_meta");
	if (!strcmp(t->decl->name, "__sk_buff"))
		return !strcmp(e->str, "data") || !strcmp(e->str, "data_end") ||
		       !strcmp(e->str, "data_meta");
	return false;
}

static bool is_lvalue(struct checker *c, const struct expr *e)
{
	switch (e->kind) {
	case E_IDENT:
		return e->ref == REF_LOCAL || e->ref == REF_GLOBAL;
	case E_FIELD:
	case E_ARROW:
	case E_INDEX:
		return true;
	case E_UNARY:
		return e->op == UOP_DEREF;
	default:
		return false;
	}
}

static struct type *check_unary(struct checker *c, struct expr *e)
{
	struct type *t = check_expr(c, e->lhs, NULL), *u = type_unalias(t);

	if (type_is_error(t))
		return e->op == UOP_NOT ? ty_bool(c) : ty_error(c);
	switch (e->op) {
	case UOP_NOT:
		if (!type_is_scalar(t))
			break;
		return ty_bool(c);
	case UOP_NEG:
		if (!type_is_int(t))
			break;
		/* As in C, -N has N's type; but -N of a u64 literal is an i64 (-2^63 is one). */
		if (u->int_literal) {
			struct type *n = type_int(c->a, u->size, true);

			n->int_literal = true;
			return n;
		}
		return t;
	case UOP_DEREF:
		if (is_packet_field(e->lhs))
			return type_int(c->a, 1, false);
		if (u->kind != TY_PTR)
			break;
		if (type_is_void(u->base)) {
			diag_error(c->d, e->loc, "cannot dereference a *void pointer");
			return ty_error(c);
		}
		return u->base;
	case UOP_ADDR:
		if (!is_lvalue(c, e->lhs)) {
			diag_error(c->d, e->loc, "'&' needs a variable, field or element");
			return ty_error(c);
		}
		return type_ptr(c->a, t);
	}
	diag_error(c->d, e->loc, "invalid operand to '%s': %s",
		   e->op == UOP_NOT ? "!" : e->op == UOP_NEG ? "-" : "*", type_str(c->a, t));
	return ty_error(c);
}

static struct type *check_index(struct checker *c, struct expr *e)
{
	struct type *t = type_unalias(check_expr(c, e->lhs, NULL)), *k;
	long long v;

	if (type_is_error(t)) {
		check_expr(c, e->rhs, NULL);
		return ty_error(c);
	}
	if (t->kind == TY_MAP) {
		check_value(c, e->rhs, t->key, "map key");
		e->map_lookup = true;
		check_user_value(c, t->base, e->loc);
		return t->base;
	}
	k = check_expr(c, e->rhs, NULL);
	if (!type_is_error(k) && !type_is_int(k))
		diag_error(c->d, e->rhs->loc, "an index must be an integer, not %s", type_str(c->a, k));
	if ((t->kind == TY_ARRAY || t->kind == TY_STR) && const_eval(e->rhs, &v) &&
	    (v < 0 || v >= t->count))
		diag_error(c->d, e->rhs->loc, "index %lld is out of bounds for %s", v,
			   type_str(c->a, t));
	switch (t->kind) {
	case TY_ARRAY:
	case TY_PTR:
		return t->base;
	case TY_STR:
		return ty_basic(c, TY_CHAR);
	default:
		diag_error(c->d, e->loc, "%s cannot be indexed", type_str(c->a, t));
		return ty_error(c);
	}
}

/*
 * A string literal initialises a byte-array field (u8[N], char[N]) as in C:
 * `Event { name: "eth0" }` fills name[] and zeroes the rest; N characters
 * fill u8[N] with no terminator, as C allows.  Only in an initializer: the
 * C written for it is `.name = "eth0"`, which is not valid as an
 * assignment.  False when F is not such a case (check it as a value).
 */
static bool string_field_init(struct checker *c, struct expr *v, struct type *ft)
{
	struct type *u = type_unalias(ft), *b;

	if (v->kind != E_STR || u->kind != TY_ARRAY)
		return false;
	b = type_unalias(u->base);
	if (b->kind != TY_INT || b->size != 1)
		return false;
	check_expr(c, v, NULL);
	if (v->str_len > u->count)
		diag_error(c->d, v->loc, "string of %d characters does not fit in %s", v->str_len,
			   type_str(c->a, ft));
	return true;
}

static struct type *check_struct_lit(struct checker *c, struct expr *e)
{
	struct sym *s = sym_lookup(c->types, e->str);
	struct type *t;
	struct decl *d;

	if (!s || s->decl->kind != D_STRUCT) {
		diag_error(c->d, e->loc, "'%s' is not a struct type", e->str);
		for (struct field_init *f = e->fields; f; f = f->next)
			check_expr(c, f->value, NULL);
		return ty_error(c);
	}
	d = s->decl;
	t = type_new(c->a, TY_STRUCT);
	t->decl = d;
	for (struct field_init *f = e->fields; f; f = f->next) {
		struct type *ft = struct_field_type(c, d, f->name);

		for (struct field_init *g = e->fields; g != f; g = g->next)
			if (!strcmp(g->name, f->name))
				diag_error(c->d, f->loc, "field '%s' is initialized twice", f->name);
		if (!ft) {
			diag_error(c->d, f->loc, "struct '%s' has no field '%s'", d->name, f->name);
			suggest_field(c, d, f->name, f->loc);
			check_expr(c, f->value, NULL);
			continue;
		}
		if (!string_field_init(c, f->value, ft))
			check_value(c, f->value, ft, "field value");
	}
	/* perf_options has defaults for everything but its type and config. */
	for (struct struct_field *sf = d->fields; sf; sf = sf->next) {
		bool given = false;

		for (struct field_init *f = e->fields; f; f = f->next)
			given |= !strcmp(f->name, sf->name);
		if (given || (!strcmp(d->name, "perf_options") && strcmp(sf->name, "perf_type") &&
			      strcmp(sf->name, "perf_config")))
			continue;
		diag_error(c->d, e->loc, "missing field '%s' in initializer of struct '%s'",
			   sf->name, d->name);
	}
	return t;
}

/* ---- match ---- */

static struct enum_const *find_enum_const(struct decl *d, const char *name)
{
	for (struct enum_const *ec = d->consts; ec; ec = ec->next)
		if (!strcmp(ec->name, name))
			return ec;
	return NULL;
}

/* An integer pattern that no value of the matched type equals is a mistake. */
static void check_pattern_fits(struct checker *c, struct match_arm *arm, struct type *st)
{
	struct int_val v = { .mag = arm->pat_tok->ival, .neg = arm->pat_neg && arm->pat_tok->ival };

	if (!int_val_fits(v, st))
		range_error(c, arm->loc, v, st);
}

static void check_pattern(struct checker *c, struct match_arm *arm, struct type *st)
{
	struct type *u = type_unalias(st);
	struct token *t = arm->pat_tok;

	switch (arm->pat) {
	case PAT_DEFAULT:
		return;
	case PAT_INT:
	case PAT_CHAR:
		if (!type_is_error(u) && !type_is_int(u))
			break;
		if (arm->pat == PAT_INT)
			check_pattern_fits(c, arm, st);
		return;
	case PAT_BOOL:
		if (!type_is_error(u) && u->kind != TY_BOOL)
			break;
		return;
	case PAT_STR:
		if (!type_is_error(u) && u->kind != TY_STR)
			break;
		return;
	case PAT_IDENT: {
		struct sym *s;

		/* The scrutinee's own enum wins when constants repeat across enums. */
		if (u->kind == TY_ENUM && find_enum_const(u->decl, t->text))
			return;
		s = sym_lookup(c->values, t->text);
		if (!s || s->kind != REF_ENUMCONST) {
			diag_error(c->d, arm->loc, "match pattern '%s' is not an enum constant", t->text);
			return;
		}
		if (!type_is_error(u) && !type_is_int(u))
			break;
		return;
	}
	}
	diag_error(c->d, arm->loc, "pattern does not match the type of the matched value (%s)",
		   type_str(c->a, st));
}

static struct type *unify_arm(struct checker *c, struct type *have, struct type *t,
			      struct ks_loc loc)
{
	struct type *uh, *ut;

	if (!t || type_is_error(t))
		return have;
	if (!have)
		return t;
	uh = type_unalias(have);
	ut = type_unalias(t);
	if (type_is_int(uh) && type_is_int(ut))
		return uh->int_literal ? t : (ut->kind == TY_ENUM && uh->kind == TY_ENUM) ? have :
		       uh->kind == TY_INT && ut->kind == TY_INT ? wider_int(c, have, t) : have;
	if (uh->kind == TY_STR && ut->kind == TY_STR)
		return uh->count >= ut->count ? have : t;
	if (is_null_or_ptr(uh) && is_null_or_ptr(ut))
		return uh->kind == TY_NULL ? t : have;
	if (!type_assignable(have, t)) {
		diag_error(c->d, loc, "match arm has type %s, but earlier arms have type %s",
			   type_str(c->a, t), type_str(c->a, have));
		return have;
	}
	return have;
}

static struct type *check_match(struct checker *c, struct expr *e, struct type *want, bool tail)
{
	struct type *st = check_expr(c, e->lhs, NULL), *result = NULL;
	bool seen_default = false;

	for (struct match_arm *arm = e->arms; arm; arm = arm->next) {
		struct type *t;

		if (seen_default)
			diag_error(c->d, arm->loc, "match arm after 'default' is never reached");
		seen_default |= arm->pat == PAT_DEFAULT;
		check_pattern(c, arm, st);
		if (arm->is_block) {
			t = check_block_value(c, arm->body, want, arm->loc);
		} else {
			c->tail_pos = tail;
			t = check_expr(c, arm->value, want);
		}
		result = unify_arm(c, result, t, arm->is_block ? arm->loc : arm->value->loc);
	}
	return result ? result : ty_basic(c, TY_VOID);
}

/* ---- new / cast ---- */

static struct type *check_new(struct checker *c, struct expr *e)
{
	struct type *u;

	resolve_type(c, e->ty);
	u = type_unalias(e->ty);
	if (!type_is_error(u) && !is_null_or_ptr(u) && (u->kind == TY_VOID || u->kind == TY_MAP ||
							u->kind == TY_RINGBUF || u->kind == TY_FUNC))
		diag_error(c->d, e->loc, "cannot allocate a value of type %s", type_str(c->a, e->ty));
	if (e->lhs) {
		struct type *ft = check_expr(c, e->lhs, NULL);

		if (c->ctx != TARGET_KMOD)
			diag_error(c->d, e->lhs->loc,
				   "an allocation flag is only allowed in kernel module code (@kfunc, @private)");
		else if (!type_is_error(ft) && !(type_unalias(ft)->kind == TY_ENUM &&
						 !strcmp(type_unalias(ft)->decl->name, "gfp_flag")))
			diag_error(c->d, e->lhs->loc, "allocation flag must be GFP_KERNEL or GFP_ATOMIC");
	}
	return type_ptr(c->a, e->ty);
}

/*
 * ctx->data (plus or minus offsets) is a packet address held in a u32
 * field: `ctx->data as *EthHdr` makes a packet pointer, which the eBPF
 * backend bounds-checks against data_end on every access.
 */
static bool is_packet_address(const struct expr *e)
{
	switch (e->kind) {
	case E_ARROW:
	case E_FIELD:
		return is_packet_field(e) && !strcmp(e->str, "data");
	case E_BINARY:
		if (e->op == OP_ADD)
			return is_packet_address(e->lhs) || is_packet_address(e->rhs);
		return e->op == OP_SUB && is_packet_address(e->lhs);
	default:
		return false;
	}
}

static struct type *check_cast(struct checker *c, struct expr *e)
{
	struct type *from = check_expr(c, e->lhs, NULL), *to;

	resolve_type(c, e->ty);
	to = e->ty;
	if (type_is_error(from) || type_is_error(to))
		return to;
	if (!type_is_scalar(from) || !type_is_scalar(to) ||
	    (type_unalias(to)->kind == TY_PTR) != is_null_or_ptr(from)) {
		if (!(type_unalias(to)->kind == TY_PTR && type_is_int(from) &&
		      (type_unalias(from)->size == 8 || is_packet_address(e->lhs))))
			diag_error(c->d, e->loc, "cannot cast %s to %s", type_str(c->a, from),
				   type_str(c->a, to));
	}
	return to;
}

static struct type *check_array_lit(struct checker *c, struct expr *e, struct type *want)
{
	struct type *u = want ? type_unalias(want) : NULL, *elem = NULL, *t;
	int n = 0;

	if (u && u->kind == TY_ARRAY)
		elem = u->base;
	for (struct expr *a = e->args; a; a = a->next, n++) {
		struct type *at = elem ? check_value(c, a, elem, "array element") : check_expr(c, a, NULL);

		if (!elem)
			elem = infer_var_type(c, at, a);
	}
	if (u && u->kind == TY_ARRAY) {
		if (n > u->count)
			diag_error(c->d, e->loc, "array literal has %d elements, but %s holds %lld", n,
				   type_str(c->a, want), u->count);
		return want;
	}
	if (!n) {
		diag_error(c->d, e->loc, "cannot infer the type of '[]'; declare the variable's type");
		return ty_error(c);
	}
	t = type_new(c->a, TY_ARRAY);
	t->base = elem;
	t->count = n;
	return t;
}

struct type *check_expr(struct checker *c, struct expr *e, struct type *want)
{
	bool tail = c->tail_pos;
	struct type *t;

	c->tail_pos = false;
	switch (e->kind) {
	case E_INT:
		t = ty_int_literal(c, e->ival, e->is_unsigned);
		break;
	case E_STR:
		t = type_new(c->a, TY_STR);
		t->count = e->str_len;
		break;
	case E_CHAR:
		t = ty_basic(c, TY_CHAR);
		break;
	case E_BOOL:
		t = ty_bool(c);
		break;
	case E_NULL:
		t = ty_basic(c, TY_NULL);
		break;
	case E_ARRAY:
		t = check_array_lit(c, e, want);
		break;
	case E_IDENT:
		t = check_ident(c, e);
		break;
	case E_BINARY:
		t = check_binary(c, e);
		break;
	case E_UNARY:
		t = check_unary(c, e);
		break;
	case E_FIELD:
	case E_ARROW:
		t = check_field(c, e);
		break;
	case E_INDEX:
		t = check_index(c, e);
		break;
	case E_CALL:
		t = check_call(c, e, tail);
		break;
	case E_STRUCTLIT:
		t = check_struct_lit(c, e);
		break;
	case E_MATCH:
		t = check_match(c, e, want, tail);
		break;
	case E_NEW:
		t = check_new(c, e);
		break;
	case E_CAST:
		t = check_cast(c, e);
		break;
	default:
		t = ty_error(c);
		break;
	}
	e->type = t;
	fold_const(c, e);
	return t;
}

void check_lvalue(struct checker *c, struct expr *e, bool compound)
{
	if (e->kind == E_IDENT && e->ref == REF_LOCAL) {
		struct local *l = find_local(c, e->str);

		if (l && l->is_const)
			diag_error(c->d, e->loc, "cannot assign to constant '%s'", e->str);
		return;
	}
	if (e->kind == E_IDENT && e->ref == REF_GLOBAL) {
		if (c->ctx == TARGET_NONE)
			diag_error(c->d, e->loc, "cannot assign at top level");
		return;
	}
	if ((e->kind == E_FIELD) && e->lhs->kind == E_IDENT && e->lhs->ref == REF_CONFIG) {
		if (c->ctx == TARGET_EBPF)
			diag_error(c->d, e->loc,
				   "config field '%s.%s' is read-only in eBPF code; set it from userspace",
				   e->lhs->str, e->str);
		return;
	}
	if (!is_lvalue(c, e)) {
		diag_error(c->d, e->loc, "cannot assign to this expression");
		return;
	}
	if (e->kind == E_INDEX && type_unalias(e->lhs->type)->kind == TY_STR && compound)
		diag_error(c->d, e->loc, "compound assignment to a string character is not allowed");
}
