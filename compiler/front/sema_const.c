/* Expression checking: integer constants, folded as they are checked (see sema_expr.c). */
#include "sema_internal.h"

/* ---- integer constants ---- */

/*
 * Constants are folded as they are checked: an expression of integer
 * type whose value is known gets const_known and its bits in cval, read
 * through its type (const_value).  Each folded value is one of its type,
 * so the bits are never ambiguous.
 */

const char *const binop_text[] = {
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
void range_error(struct checker *c, struct ks_loc loc, struct int_val v,
		 const struct type *t)
{
	struct int_val lo, hi;

	type_int_range(t, &lo, &hi);
	diag_error(c->d, loc, "integer constant %s does not fit in %s (%s..%s)", int_val_str(c->a, v),
		   range_type_name(c, t), int_val_str(c->a, lo), int_val_str(c->a, hi));
}

/* A constant stored into (passed as, returned as, ...) a value of type to must be one. */
void check_const_fits(struct checker *c, const struct expr *e, const struct type *to)
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
void fold_const(struct checker *c, struct expr *e)
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
