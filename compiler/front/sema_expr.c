/* Expression checking: every expression gets a type and its names a meaning. */
#include "btf_types.h"
#include "format.h"
#include "lexer.h"
#include "sema.h"
#include "sema_internal.h"

#include <string.h>

static const char *ctx_name(enum target t)
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

static struct type *ty_error(struct checker *c)
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
	if (u->kind == TY_NULL) {
		diag_error(c->d, e->loc, "cannot infer a type from 'null'; declare the variable's type");
		return ty_error(c);
	}
	if (u->kind == TY_VOID) {
		diag_error(c->d, e->loc, "expression has no value");
		return ty_error(c);
	}
	return t;
}

/* ---- integer constants ---- */

/*
 * Constants are folded as they are checked: an expression of integer
 * type whose value is known gets const_known and its bits in cval, read
 * through its type (const_value).  Each folded value is one of its type,
 * so the bits are never ambiguous.
 */

static const char *const binop_text[] = {
	"+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||",
};

static struct int_val const_value(const struct expr *e)
{
	const struct type *u = type_unalias(e->type);

	if (u && u->kind == TY_INT && u->size == 8 && !u->is_signed)
		return (struct int_val){ .mag = (uint64_t)e->cval };
	return int_val_of(e->cval);
}

static void set_const(struct expr *e, struct int_val v)
{
	e->const_known = true;
	e->cval = (long long)(v.neg ? 0 - v.mag : v.mag);
}

static struct int_val val_neg(struct int_val v)
{
	v.neg = !v.neg && v.mag;
	return v;
}

/* a + b; false when the magnitude needs more than 64 bits (no type holds it). */
static bool val_add(struct int_val a, struct int_val b, struct int_val *r)
{
	if (a.neg == b.neg) {
		r->mag = a.mag + b.mag;
		r->neg = a.neg;
		return r->mag >= a.mag;
	}
	r->mag = a.mag >= b.mag ? a.mag - b.mag : b.mag - a.mag;
	r->neg = r->mag && (a.mag >= b.mag ? a.neg : b.neg);
	return true;
}

static bool val_mul(struct int_val a, struct int_val b, struct int_val *r)
{
	if (a.mag && b.mag > UINT64_MAX / a.mag)
		return false;
	r->mag = a.mag * b.mag;
	r->neg = r->mag && a.neg != b.neg;
	return true;
}

/*
 * a / b or a % b (b not 0), truncated toward zero as in C.  The quotient
 * must fit t for % too: C computes it, and INT64_MIN % -1 traps.
 */
static bool val_div(int op, struct int_val a, struct int_val b, const struct type *t,
		    struct int_val *r)
{
	struct int_val q = { .mag = a.mag / b.mag };

	q.neg = q.mag && a.neg != b.neg;
	if (!int_val_fits(q, t))
		return false;
	if (op == OP_DIV) {
		*r = q;
	} else {
		r->mag = a.mag % b.mag;
		r->neg = r->mag && a.neg;
	}
	return true;
}

/*
 * a OP b in t, the operation's type (wider_int), as the C the backends
 * write computes it: the operands and the result must be values of t.
 * An operand outside t (-1 in a u64 operation) would wrap when converted.
 */
static bool fold_arith(int op, struct int_val a, struct int_val b, const struct type *t,
		       struct int_val *r)
{
	bool ok;

	if (!int_val_fits(a, t) || !int_val_fits(b, t))
		return false;
	switch (op) {
	case OP_ADD:
		ok = val_add(a, b, r);
		break;
	case OP_SUB:
		ok = val_add(a, val_neg(b), r);
		break;
	case OP_MUL:
		ok = val_mul(a, b, r);
		break;
	default:
		ok = val_div(op, a, b, t, r);
		break;
	}
	return ok && int_val_fits(*r, t);
}

/* v converted to integer type t by an explicit cast: wrapped to its bits, as in C. */
static struct int_val val_wrap(struct int_val v, const struct type *t)
{
	int bits = t->size * 8;
	uint64_t b = v.neg ? 0 - v.mag : v.mag;
	uint64_t mask = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1;

	b &= mask;
	if (!t->is_signed)
		return (struct int_val){ .mag = b };
	if (b >> (bits - 1))
		b |= ~mask;
	return int_val_of((long long)b);
}

/* A type's name in messages: a literal's type is named by its C type. */
static const char *range_type_name(struct checker *c, const struct type *t)
{
	const struct type *u = type_unalias((struct type *)t);

	if (u && u->kind == TY_INT && u->int_literal)
		return arena_printf(c->a, "%c%d", u->is_signed ? 'i' : 'u', u->size * 8);
	return type_str(c->a, t);
}

/* A literal as written in the source (0x, 0b and char forms kept). */
static void put_written(struct strbuf *sb, const struct expr *e)
{
	const struct ks_loc *l = &e->loc;
	const struct ks_src *s = l->src;

	if (s && l->line >= 1 && l->line <= s->nlines && l->col >= 1 && l->len >= 1 &&
	    (size_t)s->line_start[l->line - 1] + (size_t)(l->col - 1 + l->len) <= s->len) {
		sb_putn(sb, s->text + s->line_start[l->line - 1] + l->col - 1, (size_t)l->len);
		return;
	}
	sb_printf(sb, "%llu", (unsigned long long)e->ival);
}

/* Past this many bytes the text of a constant expression in a message is cut short. */
#define CONST_TEXT_MAX 80

static void const_text(struct checker *c, struct strbuf *sb, const struct expr *e);

/* A constant expression as written, spaced evenly, without its own parentheses. */
static void const_body(struct checker *c, struct strbuf *sb, const struct expr *e)
{
	switch (e->kind) {
	case E_BINARY:
		const_text(c, sb, e->lhs);
		sb_printf(sb, " %s ", binop_text[e->op]);
		const_text(c, sb, e->rhs);
		break;
	case E_UNARY:
		/* "- -1", not "--1" */
		sb_puts(sb, e->lhs->kind == E_UNARY && !e->lhs->paren ? "- " : "-");
		const_text(c, sb, e->lhs);
		break;
	case E_CAST:
		const_text(c, sb, e->lhs);
		sb_printf(sb, " as %s", type_str(c->a, e->ty));
		break;
	case E_IDENT:
		sb_puts(sb, e->str);
		break;
	default:
		put_written(sb, e);
		break;
	}
}

/* const_body with the parentheses it was written in; nothing once the text is long enough. */
static void const_text(struct checker *c, struct strbuf *sb, const struct expr *e)
{
	if (sb->len > CONST_TEXT_MAX)
		return;
	if (e->paren)
		sb_putc(sb, '(');
	const_body(c, sb, e);
	if (e->paren)
		sb_putc(sb, ')');
}

/* Parentheses around the whole expression say nothing in the message. */
static void overflow_error(struct checker *c, const struct expr *e)
{
	struct strbuf sb;

	sb_init(&sb);
	const_body(c, &sb, e);
	if (sb.len > CONST_TEXT_MAX) {
		sb.len = CONST_TEXT_MAX;
		sb_puts(&sb, "...");
	}
	diag_error(c->d, e->loc, "constant expression overflows %s: %s", range_type_name(c, e->type),
		   sb.buf ? sb.buf : "");
	sb_free(&sb);
}

/* The one message for an integer constant that is not a value of the type t it must be. */
static void range_error(struct checker *c, struct ks_loc loc, struct int_val v,
			const struct type *t)
{
	struct int_val lo, hi;

	type_int_range(t, &lo, &hi);
	diag_error(c->d, loc, "integer constant %s does not fit in %s (%s..%s)", int_val_str(c->a, v),
		   range_type_name(c, t), int_val_str(c->a, lo), int_val_str(c->a, hi));
}

/* A constant stored into (passed as, returned as, ...) a value of type to must be one. */
static void check_const_fits(struct checker *c, const struct expr *e, const struct type *to)
{
	struct int_val v;

	/* A match is its arms' values. */
	if (e->kind == E_MATCH) {
		for (const struct match_arm *arm = e->arms; arm; arm = arm->next)
			if (!arm->is_block)
				check_const_fits(c, arm->value, to);
		return;
	}
	if (!e->const_known || !type_is_int(e->type))
		return;
	v = const_value(e);
	if (!int_val_fits(v, to))
		range_error(c, e->loc, v, to);
}

static void fold_binary(struct checker *c, struct expr *e)
{
	struct int_val r;

	if (e->op > OP_MOD || !e->lhs->const_known || !e->rhs->const_known)
		return;
	/* check_binary reported it. */
	if ((e->op == OP_DIV || e->op == OP_MOD) && e->rhs->cval == 0)
		return;
	if (fold_arith(e->op, const_value(e->lhs), const_value(e->rhs), e->type, &r))
		set_const(e, r);
	else
		overflow_error(c, e);
}

static bool is_unsigned_int(struct type *t)
{
	t = type_unalias(t);
	return t && t->kind == TY_INT && !t->is_signed && t->size >= 1 && t->size <= 8;
}

static void fold_unary(struct checker *c, struct expr *e)
{
	struct int_val v;

	if (e->op != UOP_NEG || !e->lhs->const_known)
		return;
	v = val_neg(const_value(e->lhs));
	/*
	 * -x of an unsigned x wraps, as in C.  Such an x is an explicit cast
	 * (a literal is signed, and -N of a u64 literal is an i64), and
	 * `-1 as u32` reads -(1 as u32): the all-ones it means.
	 */
	if (is_unsigned_int(e->type))
		v = val_wrap(v, type_unalias(e->type));
	if (int_val_fits(v, e->type))
		set_const(e, v);
	else if (e->lhs->kind == E_INT)
		range_error(c, e->loc, v, e->type); /* -N is a literal below any type */
	else
		overflow_error(c, e);
}

/* An explicit cast converts, and may truncate: that is what it is for. */
static void fold_cast(struct expr *e)
{
	const struct type *to = type_unalias(e->ty);

	if (e->lhs->const_known && type_is_int(e->lhs->type) && to && to->kind == TY_INT &&
	    to->size >= 1 && to->size <= 8)
		set_const(e, val_wrap(const_value(e->lhs), to));
}

/* Called once e has its type: its children are folded already. */
static void fold_const(struct checker *c, struct expr *e)
{
	if (!type_is_int(e->type))
		return;
	switch (e->kind) {
	case E_INT:
		e->const_known = true;
		e->cval = (long long)e->ival;
		break;
	case E_CHAR:
		set_const(e, (struct int_val){ .mag = e->ival });
		break;
	case E_IDENT:
		/*
		 * A kernel enum's constant above INT64_MAX (BTF enum64, a
		 * header's) is held as a negative long long, its sign lost:
		 * no range check can trust it.
		 */
		if (e->ref == REF_ENUMCONST && e->decl && (e->decl->from_btf || e->decl->from_header) &&
		    e->cval < 0)
			e->const_known = false;
		break;
	case E_BINARY:
		fold_binary(c, e);
		break;
	case E_UNARY:
		fold_unary(c, e);
		break;
	case E_CAST:
		fold_cast(e);
		break;
	default:
		break;
	}
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

static struct type *func_type(struct checker *c, struct decl *d)
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

static void record_call(struct checker *c, struct decl *callee)
{
	if (c->fn && callee)
		ptrvec_push(c->a, &c->fn->calls, callee);
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
	if (!s) {
		long long v;
		struct decl *k = btf_find_enum_const(c->a, e->str, &v);

		if (k) {
			e->ref = REF_ENUMCONST;
			e->decl = k;
			e->enum_value = e->cval = v;
			e->const_known = true;
			return enum_type(c, k);
		}
		for (struct decl *d = c->prog->decls; d; d = d->next) {
			if (d->kind == D_FUNC && !strcmp(d->name, e->str)) {
				diag_error(c->d, e->loc,
					   "'%s' is used before its definition at line %d (functions must be defined before use)",
					   e->str, d->name_loc.line);
				return ty_error(c);
			}
		}
		diag_error(c->d, e->loc, "'%s' is not defined%s", e->str,
			   sym_lookup(c->types, e->str) ? " as a value (it is a type)" : "");
		return ty_error(c);
	}
	e->ref = s->kind;
	e->decl = s->decl;
	switch (s->kind) {
	case REF_ENUMCONST:
		e->enum_value = s->ec->value;
		e->const_known = true;
		e->cval = s->ec->value;
		return enum_type(c, s->decl);
	case REF_GLOBAL:
		if (s->decl->target == TARGET_KMOD && c->ctx != TARGET_KMOD) {
			diag_error(c->d, e->loc,
				   "'%s' is @private module state and is only visible to @kfunc and @private functions",
				   e->str);
		} else if (s->decl->target == TARGET_EBPF && c->ctx == TARGET_KMOD) {
			diag_error(c->d, e->loc, "eBPF global '%s' cannot be used in kernel module code",
				   e->str);
		} else if (s->decl->is_local && c->ctx == TARGET_USER) {
			diag_error(c->d, e->loc, "'%s' is a 'local' global, visible only to eBPF code",
				   e->str);
		}
		return s->decl->ty ? s->decl->ty : ty_error(c);
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

static struct type *field_of(struct checker *c, struct expr *e, struct type *st)
{
	struct type *ft;

	ft = struct_field_type(c, st->decl, e->str);
	if (!ft) {
		diag_error(c->d, e->loc, "%s '%s' has no field '%s'",
			   st->decl->kind == D_CONFIG ? "config" : "struct", st->decl->name, e->str);
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
			check_expr(c, f->value, NULL);
			continue;
		}
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

/* ---- calls ---- */

static void check_args(struct checker *c, struct expr *call, struct type **params, int n,
		       const char *name)
{
	int i = 0;

	for (struct expr *a = call->args; a; a = a->next, i++) {
		if (i < n)
			check_value(c, a, params[i], "argument");
		else
			check_expr(c, a, NULL);
	}
	if (i != n)
		diag_error(c->d, call->loc, "'%s' takes %d argument%s, but %d %s given", name, n,
			   n == 1 ? "" : "s", i, i == 1 ? "was" : "were");
}

static int count_args(const struct expr *call)
{
	int n = 0;

	for (const struct expr *a = call->args; a; a = a->next)
		n++;
	return n;
}

static bool is_prog_ref(const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_FUNC && e->decl && e->decl->role == ROLE_PROG;
}

static struct type *named_builtin_type(struct checker *c, const char *name)
{
	struct sym *s = sym_lookup(c->types, name);
	struct type *t;

	if (!s)
		return ty_error(c);
	t = type_new(c->a, s->decl->kind == D_ENUM ? TY_ENUM : TY_STRUCT);
	t->decl = s->decl;
	return t;
}

static bool is_struct_named(const struct type *t, const char *name)
{
	t = type_unalias((struct type *)t);
	return t && t->kind == TY_STRUCT && t->decl && !strcmp(t->decl->name, name);
}

/* print(FORMAT, args...): printf conversions, each matched with its argument. */
static void check_print_format(struct checker *c, struct expr *e)
{
	struct expr *f = e->args, *a;
	struct fmt_conv conv[64];
	int n, bad, i = 0;

	if (!f)
		return;
	if (f->kind != E_STR) {
		if (f->next || (!type_is_error(f->type) && type_unalias(f->type)->kind != TY_STR))
			diag_error(c->d, f->loc, "print() needs a format string literal first");
		return;
	}
	n = fmt_parse(f->str, f->str_len, conv, 64, &bad);
	if (n < 0) {
		struct ks_loc loc = f->loc;

		if (loc.line == f->loc.line) {
			loc.col += bad + 1;
			loc.len = 2;
		}
		diag_error(c->d, loc, "unsupported conversion in print() format (use %%d %%i %%u %%x %%o %%c %%s %%p)");
		return;
	}
	if (n > 64) {
		diag_error(c->d, f->loc, "print() format has more than 64 conversions");
		return;
	}
	for (a = f->next; a && i < n; a = a->next, i++) {
		struct type *t = type_unalias(a->type);
		bool ok;

		if (type_is_error(t))
			continue;
		switch (conv[i].kind) {
		case FMT_STR:
			ok = t->kind == TY_STR;
			break;
		case FMT_PTR:
			ok = t->kind == TY_PTR || t->kind == TY_NULL;
			break;
		default:
			ok = type_is_int(t) || t->kind == TY_BOOL;
			break;
		}
		if (!ok)
			diag_error(c->d, a->loc, "'%%%c' in the print() format does not take %s",
				   conv[i].conv, type_str(c->a, t));
	}
	if (i < n)
		diag_error(c->d, e->loc, "print() format has %d conversion%s but %d argument%s follow%s",
			   n, n == 1 ? "" : "s", i, i == 1 ? "" : "s", i == 1 ? "s" : "");
	else if (a && n > 0)
		diag_warning(c->d, a->loc, "print() has more arguments than its format uses; the rest are not printed");
}

static struct type *check_builtin_call(struct checker *c, struct expr *e, enum builtin bi)
{
	int n = count_args(e);
	struct expr *a = e->args;
	const char *name = builtin_name(bi);
	struct type *t;

	e->builtin = bi;
	if (builtin_user_only(bi) && c->ctx != TARGET_USER) {
		diag_error(c->d, e->loc, "'%s' is only available in userspace code, not in %s", name,
			   ctx_name(c->ctx));
		for (; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	switch (bi) {
	case BI_PRINT:
		for (; a; a = a->next) {
			t = check_expr(c, a, NULL);
			if (!type_is_error(t) && !type_is_scalar(t) && type_unalias(t)->kind != TY_STR)
				diag_error(c->d, a->loc, "print() cannot format a value of type %s",
					   type_str(c->a, t));
		}
		check_print_format(c, e);
		return type_int(c->a, 4, false);
	case BI_LOAD:
		if (n != 1) {
			diag_error(c->d, e->loc, "load() takes one program function");
			break;
		}
		check_expr(c, a, NULL);
		if (!is_prog_ref(a) && !type_is_error(a->type))
			diag_error(c->d, a->loc,
				   "load() needs an eBPF program function (@xdp, @tc, @probe, @tracepoint or @perf_event)");
		return ty_basic(c, TY_HANDLE);
	case BI_ATTACH: {
		struct type *h, *target;

		if (n != 3) {
			diag_error(c->d, e->loc, "attach() takes (handle, target, flags)");
			break;
		}
		h = check_expr(c, a, NULL);
		if (!type_is_error(h) && type_unalias(h)->kind != TY_HANDLE)
			diag_error(c->d, a->loc, "attach() needs a program handle from load(), not %s",
				   type_str(c->a, h));
		target = check_expr(c, a->next, NULL);
		t = check_expr(c, a->next->next, NULL);
		if (!type_is_error(t) && !type_is_int(t))
			diag_error(c->d, a->next->next->loc, "attach() flags must be an integer");
		if (is_struct_named(target, "perf_options")) {
			long long v;

			if (const_eval(a->next->next, &v) && v != 0)
				diag_error(c->d, a->next->next->loc, "perf event attach flags must be 0");
			return named_builtin_type(c, "PerfAttachment");
		}
		if (!type_is_error(target) && type_unalias(target)->kind != TY_STR)
			diag_error(c->d, a->next->loc,
				   "attach() target must be a string or perf_options { ... }, not %s",
				   type_str(c->a, target));
		return type_int(c->a, 4, false);
	}
	case BI_DETACH:
		if (n != 1) {
			diag_error(c->d, e->loc, "detach() takes one argument");
			break;
		}
		t = check_expr(c, a, NULL);
		if (!type_is_error(t) && type_unalias(t)->kind != TY_HANDLE &&
		    !is_struct_named(t, "PerfAttachment"))
			diag_error(c->d, a->loc, "detach() needs a ProgramHandle or PerfAttachment, not %s",
				   type_str(c->a, t));
		return ty_basic(c, TY_VOID);
	case BI_READ:
		if (n != 1) {
			diag_error(c->d, e->loc, "read() takes one PerfAttachment");
			break;
		}
		t = check_expr(c, a, NULL);
		if (!type_is_error(t) && !is_struct_named(t, "PerfAttachment"))
			diag_error(c->d, a->loc, "read() needs a PerfAttachment, not %s",
				   type_str(c->a, t));
		return type_int(c->a, 8, true);
	case BI_REGISTER:
		if (n != 1) {
			diag_error(c->d, e->loc, "register() takes one impl block");
			break;
		}
		t = check_expr(c, a, NULL);
		if (!type_is_error(t) && type_unalias(t)->kind != TY_IMPL)
			diag_error(c->d, a->loc, "register() needs a @struct_ops impl block, not %s",
				   type_str(c->a, t));
		else if (!type_is_error(t) && type_unalias(t)->decl->target == TARGET_KMOD)
			diag_error(c->d, a->loc,
				   "'%s' is a @kmod impl block: its kernel module registers it when loaded",
				   type_unalias(t)->decl->name);
		return type_int(c->a, 4, false);
	case BI_TEST:
		if (!c->fn || c->fn->role != ROLE_TEST)
			diag_error(c->d, e->loc, "test() can only be used inside @test functions");
		if (n != 2) {
			diag_error(c->d, e->loc, "test() takes (program, context)");
			break;
		}
		check_expr(c, a, NULL);
		if (!is_prog_ref(a) && !type_is_error(a->type))
			diag_error(c->d, a->loc, "test() needs an eBPF program function");
		check_expr(c, a->next, NULL);
		return type_int(c->a, 4, false);
	case BI_DISPATCH:
		if (n == 0)
			diag_error(c->d, e->loc, "dispatch() needs at least one ring buffer");
		for (; a; a = a->next) {
			t = check_expr(c, a, NULL);
			if (!type_is_error(t) && type_unalias(t)->kind != TY_RINGBUF)
				diag_error(c->d, a->loc, "dispatch() only takes ring buffers, not %s",
					   type_str(c->a, t));
		}
		return type_int(c->a, 4, true);
	case BI_DAEMON:
		if (n != 0)
			diag_error(c->d, e->loc, "daemon() takes no arguments");
		return ty_basic(c, TY_VOID);
	case BI_EXEC:
		if (n != 1) {
			diag_error(c->d, e->loc, "exec() takes one Python script path");
			break;
		}
		t = check_expr(c, a, NULL);
		if (!type_is_error(t) && type_unalias(t)->kind != TY_STR)
			diag_error(c->d, a->loc, "exec() needs a string, not %s", type_str(c->a, t));
		else if (a->kind == E_STR && (a->str_len < 3 || strcmp(a->str + a->str_len - 3, ".py")))
			diag_error(c->d, a->loc, "exec() runs a Python script: the path must end in .py");
		return ty_basic(c, TY_VOID);
	default:
		break;
	}
	for (a = e->args; a; a = a->next)
		if (!a->type)
			check_expr(c, a, NULL);
	return ty_error(c);
}

static struct type *check_rb_method(struct checker *c, struct expr *e, struct type *rb)
{
	const char *m = e->lhs->str;
	struct expr *a = e->args;
	int n = count_args(e);

	if (!strcmp(m, "reserve")) {
		if (c->ctx != TARGET_EBPF)
			diag_error(c->d, e->loc, "reserve() is only available in eBPF code");
		if (n)
			diag_error(c->d, e->loc, "reserve() takes no arguments");
		return type_ptr(c->a, rb->base);
	}
	if (!strcmp(m, "submit") || !strcmp(m, "discard")) {
		if (c->ctx != TARGET_EBPF)
			diag_error(c->d, e->loc, "%s() is only available in eBPF code", m);
		if (n != 1) {
			diag_error(c->d, e->loc, "%s() takes the reserved pointer", m);
			return type_int(c->a, 4, true);
		}
		check_value(c, a, type_ptr(c->a, rb->base), "argument");
		return type_int(c->a, 4, true);
	}
	if (!strcmp(m, "on_event")) {
		struct type *t;

		if (c->ctx != TARGET_USER)
			diag_error(c->d, e->loc, "on_event() is only available in userspace code");
		if (n != 1) {
			diag_error(c->d, e->loc, "on_event() takes a callback function");
			return type_int(c->a, 4, true);
		}
		t = type_unalias(check_expr(c, a, NULL));
		if (!type_is_error(t) &&
		    (t->kind != TY_FUNC || t->nparams != 1 ||
		     type_unalias(t->params[0])->kind != TY_PTR ||
		     !type_equal(type_unalias(t->params[0])->base, rb->base)))
			diag_error(c->d, a->loc, "on_event() needs a function taking *%s",
				   type_str(c->a, rb->base));
		else if (a->kind == E_IDENT && a->decl && a->decl->role != ROLE_USER)
			diag_error(c->d, a->loc, "the on_event() callback must be a userspace function");
		return type_int(c->a, 4, true);
	}
	diag_error(c->d, e->lhs->loc,
		   "ring buffers have reserve(), submit(), discard() and on_event(), not %s()", m);
	for (; a; a = a->next)
		check_expr(c, a, NULL);
	return ty_error(c);
}

/* m.fn(...) on an imported .ks module: its userspace functions. */
static struct type *check_import_call(struct checker *c, struct expr *e, struct decl *imp)
{
	const char *fname = e->lhs->str;
	struct decl *f = NULL;
	struct type *ft;

	if (c->ctx != TARGET_USER)
		diag_error(c->d, e->loc, "imported module functions can only be called from userspace");
	if (imp->imported) {
		for (struct decl *d = imp->imported->decls; d; d = d->next)
			if (d->kind == D_FUNC && d->role == ROLE_USER && !strcmp(d->name, fname))
				f = d;
	} else {
		/* Python modules are dynamic: any call goes, with any arguments. */
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return type_int(c->a, 8, true);
	}
	if (!f) {
		diag_error(c->d, e->lhs->loc, "module '%s' has no userspace function '%s'", imp->name,
			   fname);
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	ft = func_type(c, f);
	check_args(c, e, ft->params, ft->nparams, fname);
	return ft->base;
}

static void check_call_target(struct checker *c, struct expr *e, struct decl *f, bool tail)
{
	const char *n = f->name;

	switch (f->role) {
	case ROLE_PROG:
		if (c->ctx == TARGET_EBPF && tail && c->fn && c->fn->role == ROLE_PROG &&
		    c->fn->prog == f->prog) {
			e->is_tail_call = true;
			return;
		}
		diag_error(c->d, e->loc,
			   c->ctx == TARGET_USER ?
			   "program '%s' cannot be called directly; use load() and attach()" :
			   "program '%s' can only be tail-called as 'return %s(ctx)' from a program of the same type",
			   n, n);
		return;
	case ROLE_HELPER:
		if (c->ctx != TARGET_EBPF)
			diag_error(c->d, e->loc, "@helper function '%s' can only be called from eBPF code, not from %s",
				   n, ctx_name(c->ctx));
		return;
	case ROLE_KFUNC:
		if (c->ctx == TARGET_USER)
			f->called_from_user = true;
		return;
	case ROLE_PRIVATE:
		if (c->ctx != TARGET_KMOD)
			diag_error(c->d, e->loc,
				   "@private function '%s' can only be called from @kfunc and @private functions", n);
		return;
	case ROLE_TEST:
		diag_error(c->d, e->loc, "@test function '%s' cannot be called; the test runner calls it", n);
		return;
	case ROLE_METHOD:
		if (c->impl != f->impl)
			diag_error(c->d, e->loc, "struct_ops method '%s' cannot be called from outside its impl block", n);
		return;
	case ROLE_USER:
		if (c->ctx != TARGET_USER)
			diag_error(c->d, e->loc, "userspace function '%s' cannot be called from %s", n,
				   ctx_name(c->ctx));
		return;
	}
}

/*
 * TYPE.member(args) in module code, TYPE a struct_ops type the module
 * defines: calls the implementation attached from BPF, else the module's
 * default.  The call node's callee carries the type (decl) for codegen.
 */
static struct type *check_ops_call(struct checker *c, struct expr *e, struct decl *type)
{
	struct expr *callee = e->lhs;
	struct struct_field *f = struct_ops_member(type, callee->str);
	struct type *ft;

	if (c->ctx != TARGET_KMOD) {
		diag_error(c->d, e->loc,
			   "'%s.%s' calls the implementation attached to a module-defined struct_ops type: only module code (@kfunc, @private functions) can",
			   type->name, callee->str);
	} else if (!f) {
		diag_error(c->d, callee->loc, "struct_ops type '%s' has no function member '%s'",
			   type->name, callee->str);
	}
	if (c->ctx != TARGET_KMOD || !f) {
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	f->called = true;
	callee->decl = type;
	ft = type_unalias(f->ty);
	callee->type = ft;
	check_args(c, e, ft->params, ft->nparams, arena_printf(c->a, "%s.%s", type->name, f->name));
	return ft->base ? ft->base : ty_basic(c, TY_VOID);
}

static struct type *check_call(struct checker *c, struct expr *e, bool tail)
{
	struct expr *callee = e->lhs;
	struct type *ft;

	if (callee->kind == E_IDENT && !find_local(c, callee->str)) {
		struct sym *s = sym_lookup(c->values, callee->str);

		if (s && s->kind == REF_BUILTIN) {
			callee->ref = REF_BUILTIN;
			return check_builtin_call(c, e, s->bi);
		}
	}
	if (callee->kind == E_FIELD) {
		struct expr *obj = callee->lhs;
		struct sym *s = obj->kind == E_IDENT && !find_local(c, obj->str) ?
				sym_lookup(c->values, obj->str) : NULL;

		if (s && s->kind == REF_IMPORT) {
			obj->ref = REF_IMPORT;
			obj->decl = s->decl;
			return check_import_call(c, e, s->decl);
		}
		if (!s && obj->kind == E_IDENT && !find_local(c, obj->str)) {
			struct sym *t = sym_lookup(c->types, obj->str);

			if (t && is_kmod_ops_type(t->decl))
				return check_ops_call(c, e, t->decl);
		}
		ft = type_unalias(check_expr(c, obj, NULL));
		if (ft->kind == TY_RINGBUF)
			return check_rb_method(c, e, ft);
		if (type_is_error(ft)) {
			for (struct expr *a = e->args; a; a = a->next)
				check_expr(c, a, NULL);
			return ty_error(c);
		}
	}
	ft = type_unalias(check_expr(c, callee, NULL));
	if (type_is_error(ft)) {
		for (struct expr *a = e->args; a; a = a->next)
			check_expr(c, a, NULL);
		return ty_error(c);
	}
	if (ft->kind != TY_FUNC) {
		diag_error(c->d, callee->loc, "%s is not a function", type_str(c->a, ft));
		return ty_error(c);
	}
	if (callee->kind == E_IDENT && callee->ref == REF_FUNC) {
		check_call_target(c, e, callee->decl, tail);
		record_call(c, callee->decl);
	} else if (callee->kind == E_IDENT && callee->ref == REF_EXTERN) {
		if (c->ctx == TARGET_USER)
			diag_error(c->d, e->loc, "extern kernel function '%s' cannot be called from userspace",
				   callee->str);
		/* A module links against exported kernel functions, never BPF-only ones. */
		else if (c->ctx == TARGET_KMOD && !strncmp(callee->str, "bpf_", 4))
			diag_error(c->d, e->loc,
				   "'%s' is a BPF helper or kfunc: kernel module code cannot call it",
				   callee->str);
		record_call(c, callee->decl);
	} else if (c->ctx == TARGET_EBPF) {
		diag_error(c->d, e->loc, "calls through function pointers are not possible in eBPF code");
	}
	check_args(c, e, ft->params, ft->nparams,
		   callee->kind == E_IDENT ? callee->str : "function");
	return ft->base ? ft->base : ty_basic(c, TY_VOID);
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
