/* Parser: expressions (see parser.c). */
#include "parser_internal.h"

#include <string.h>

/* ---- expressions ---- */

static struct expr *new_expr(struct parser *p, enum expr_kind k, struct ks_loc loc)
{
	struct expr *e = arena_alloc(p->a, sizeof(*e));

	e->kind = k;
	e->loc = loc;
	e->param_index = -1;
	return e;
}

static struct expr *error_expr(struct parser *p)
{
	struct expr *e = new_expr(p, E_INT, p->tok->loc);

	return e;
}

/* args = [ expr { "," expr } ] */
static struct expr *parse_args(struct parser *p, enum tok_kind close, struct token *open)
{
	struct expr head = { 0 }, *cur = &head;

	while (!at(p, close) && !at(p, TK_EOF) && !p->dead) {
		cur = cur->next = parse_expr(p);
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, close, open);
	return head.next;
}

/* structlit = IDENT "{" [ field ":" expr { "," field ":" expr } [","] ] "}" */
static struct expr *parse_struct_lit(struct parser *p)
{
	struct token *name = advance(p), *open = advance(p);
	struct expr *e = new_expr(p, E_STRUCTLIT, name->loc);
	struct field_init head = { 0 }, *cur = &head;

	e->str = name->text;
	while (!at(p, TK_RBRACE) && !at(p, TK_EOF) && !p->dead) {
		struct field_init *f = arena_alloc(p->a, sizeof(*f));

		f->loc = p->tok->loc;
		if (accept(p, TK_TYPE))
			f->name = "type";
		else if (!(f->name = expect_ident(p, "a field name")))
			break;
		expect(p, TK_COLON);
		f->value = parse_expr(p);
		cur = cur->next = f;
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RBRACE, open);
	e->fields = head.next;
	e->loc = span(name->loc, prev(p));
	return e;
}

static bool starts_struct_lit(struct parser *p)
{
	struct token *t1 = peek(p, 1), *t2 = peek(p, 2), *t3 = peek(p, 3);

	if (t1->kind != TK_LBRACE)
		return false;
	return t2->kind == TK_RBRACE ||
	       ((t2->kind == TK_IDENT || t2->kind == TK_TYPE) && t3->kind == TK_COLON);
}

/* pattern = ["-"] INT | STRING | CHAR | "true" | "false" | IDENT | "default" */
static bool parse_pattern(struct parser *p, struct match_arm *arm)
{
	if (at(p, TK_MINUS) && peek(p, 1)->kind == TK_INT) {
		advance(p);
		arm->pat_neg = true;
	}
	arm->pat_tok = p->tok;
	arm->loc = p->tok->loc;
	switch (p->tok->kind) {
	case TK_INT:
		arm->pat = PAT_INT;
		break;
	case TK_STRING:
		arm->pat = PAT_STR;
		break;
	case TK_CHARLIT:
		arm->pat = PAT_CHAR;
		break;
	case TK_TRUE:
	case TK_FALSE:
		arm->pat = PAT_BOOL;
		break;
	case TK_IDENT:
		arm->pat = PAT_IDENT;
		break;
	case TK_DEFAULT:
		arm->pat = PAT_DEFAULT;
		break;
	default:
		error_expected(p, "a match pattern (literal, enum constant or 'default')");
		return false;
	}
	advance(p);
	return true;
}

/* match = "match" "(" expr ")" "{" arm { "," arm } [","] "}"
 * arm   = pattern ":" ( expr | "{" stmts "}" ) */
static struct expr *parse_match(struct parser *p)
{
	struct token *kw = advance(p), *open = p->tok;
	struct expr *e = new_expr(p, E_MATCH, kw->loc);
	struct match_arm head = { 0 }, *cur = &head;

	expect(p, TK_LPAREN);
	e->lhs = parse_expr(p);
	expect_close(p, TK_RPAREN, open);
	open = p->tok;
	if (!expect(p, TK_LBRACE))
		return e;
	while (!at(p, TK_RBRACE) && !at(p, TK_EOF) && !p->dead) {
		struct match_arm *arm = arena_alloc(p->a, sizeof(*arm));

		if (!parse_pattern(p, arm))
			break;
		expect(p, TK_COLON);
		if (at(p, TK_LBRACE)) {
			arm->is_block = true;
			arm->body = parse_block(p);
		} else {
			arm->value = parse_expr(p);
		}
		cur = cur->next = arm;
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RBRACE, open);
	e->arms = head.next;
	if (!e->arms && !p->dead)
		diag_error(p->d, kw->loc, "match needs at least one arm");
	return e;
}

/* array literal = "[" [ expr { "," expr } ] "]" */
static struct expr *parse_array_lit(struct parser *p)
{
	struct token *open = advance(p);
	struct expr *e = new_expr(p, E_ARRAY, open->loc);

	e->args = parse_args(p, TK_RBRACKET, open);
	e->loc = span(open->loc, prev(p));
	return e;
}

/*
 * primary = INT | STRING | CHAR | "true" | "false" | "null" | arraylit
 *         | structlit | IDENT | "(" expr ")" | match
 *         | "new" type "(" [expr] ")"
 */
static struct expr *parse_primary(struct parser *p)
{
	struct token *t = p->tok;
	struct expr *e;

	switch (t->kind) {
	case TK_INT:
		advance(p);
		e = new_expr(p, E_INT, t->loc);
		e->ival = t->ival;
		e->is_unsigned = t->is_unsigned;
		e->hex = t->hex;
		return e;
	case TK_STRING:
		advance(p);
		e = new_expr(p, E_STR, t->loc);
		e->str = t->text;
		e->str_len = t->text_len;
		return e;
	case TK_CHARLIT:
		advance(p);
		e = new_expr(p, E_CHAR, t->loc);
		e->ival = t->ival;
		return e;
	case TK_TRUE:
	case TK_FALSE:
		advance(p);
		e = new_expr(p, E_BOOL, t->loc);
		e->ival = t->kind == TK_TRUE;
		return e;
	case TK_NULL:
		advance(p);
		return new_expr(p, E_NULL, t->loc);
	case TK_LBRACKET:
		return parse_array_lit(p);
	case TK_IDENT:
		if (starts_struct_lit(p))
			return parse_struct_lit(p);
		advance(p);
		e = new_expr(p, E_IDENT, t->loc);
		e->str = t->text;
		return e;
	case TK_LPAREN:
		advance(p);
		e = parse_expr(p);
		expect_close(p, TK_RPAREN, t);
		e->paren = true;
		return e;
	case TK_MATCH:
		return parse_match(p);
	case TK_NEW: {
		struct token *open;

		advance(p);
		e = new_expr(p, E_NEW, t->loc);
		e->ty = parse_type(p);
		open = p->tok;
		if (expect(p, TK_LPAREN)) {
			if (!at(p, TK_RPAREN))
				e->lhs = parse_expr(p);
			expect_close(p, TK_RPAREN, open);
		}
		e->loc = span(t->loc, prev(p));
		return e;
	}
	default:
		error_expected(p, "an expression");
		if (!at(p, TK_EOF) && !at(p, TK_RBRACE))
			advance(p);
		return error_expr(p);
	}
}

const char *parse_field_name(struct parser *p)
{
	if (accept(p, TK_TYPE))
		return "type";
	return expect_ident(p, "a field name");
}

/* postfix = primary { "." field | "->" field | "(" args ")" | "[" expr "]" } */
static struct expr *parse_postfix(struct parser *p)
{
	struct expr *e = parse_primary(p);

	/* Once dead, the tokens left are noise: 60,000 '(' are not 60,000 calls. */
	while (!p->dead) {
		struct token *t = p->tok;
		struct expr *n;

		if (t->kind == TK_DOT || t->kind == TK_ARROW) {
			advance(p);
			n = new_expr(p, t->kind == TK_DOT ? E_FIELD : E_ARROW, t->loc);
			n->lhs = e;
			n->str = parse_field_name(p);
			if (!n->str)
				return e;
			n->loc = span(e->loc, prev(p));
		} else if (t->kind == TK_LPAREN) {
			advance(p);
			n = new_expr(p, E_CALL, e->loc);
			n->lhs = e;
			n->args = parse_args(p, TK_RPAREN, t);
			n->loc = span(e->loc, prev(p));
		} else if (t->kind == TK_LBRACKET) {
			advance(p);
			n = new_expr(p, E_INDEX, e->loc);
			n->lhs = e;
			n->rhs = parse_expr(p);
			expect_close(p, TK_RBRACKET, t);
			n->loc = span(e->loc, prev(p));
		} else {
			return e;
		}
		e = n;
	}
	return e;
}

/*
 * `as` is not a 0.1.1 keyword, so a cast is recognised only as `e as T`
 * on one line with a type after it; `as` stays usable as a name.
 */
static bool at_cast(struct parser *p)
{
	struct token *t = p->tok, *n = peek(p, 1);

	if (t->kind != TK_IDENT || strcmp(t->text, "as") || t->nl_before)
		return false;
	if (n->nl_before)
		return false;
	switch (n->kind) {
	case TK_STAR: case TK_IDENT: case TK_U8: case TK_U16: case TK_U32: case TK_U64:
	case TK_I8: case TK_I16: case TK_I32: case TK_I64: case TK_BOOL: case TK_CHAR:
		return true;
	default:
		return false;
	}
}

/* unary = ("!" | "-" | "*" | "&") unary | postfix ["as" type] */
static struct expr *parse_unary(struct parser *p)
{
	struct token *t = p->tok;
	struct expr *e;
	int op = -1;

	switch (t->kind) {
	case TK_NOT:
		op = UOP_NOT;
		break;
	case TK_MINUS:
		op = UOP_NEG;
		break;
	case TK_STAR:
		op = UOP_DEREF;
		break;
	case TK_AMP:
		op = UOP_ADDR;
		break;
	default:
		break;
	}
	if (!enter(p))
		return error_expr(p);
	if (op >= 0) {
		advance(p);
		e = new_expr(p, E_UNARY, t->loc);
		e->op = op;
		e->lhs = parse_unary(p);
		e->loc = span(t->loc, prev(p));
		leave(p);
		return e;
	}
	e = parse_postfix(p);
	while (at_cast(p)) {
		struct expr *c = new_expr(p, E_CAST, e->loc);

		advance(p);
		c->lhs = e;
		c->ty = parse_type(p);
		c->loc = span(e->loc, prev(p));
		e = c;
	}
	leave(p);
	return e;
}

/* Binary operator levels, lowest first. */
static const struct {
	enum tok_kind tok;
	enum binop op;
	int level;
} binops[] = {
	{ TK_OROR, OP_OR, 0 },
	{ TK_ANDAND, OP_AND, 1 },
	{ TK_EQ, OP_EQ, 2 }, { TK_NE, OP_NE, 2 },
	{ TK_LT, OP_LT, 3 }, { TK_LE, OP_LE, 3 }, { TK_GT, OP_GT, 3 }, { TK_GE, OP_GE, 3 },
	{ TK_PLUS, OP_ADD, 4 }, { TK_MINUS, OP_SUB, 4 },
	{ TK_STAR, OP_MUL, 5 }, { TK_SLASH, OP_DIV, 5 }, { TK_PERCENT, OP_MOD, 5 },
};

#define BINOP_LEVELS 6

static int binop_at(struct parser *p, int level)
{
	for (size_t i = 0; i < ARRAY_SIZE(binops); i++)
		if (binops[i].tok == p->tok->kind && binops[i].level == level)
			return (int)i;
	return -1;
}

/*
 * or  = and { "||" and }        and = eq { "&&" eq }
 * eq  = rel { ("=="|"!=") rel } rel = add { ("<"|"<="|">"|">=") add }
 * add = mul { ("+"|"-") mul }   mul = unary { ("*"|"/"|"%") unary }
 * All levels are left-associative.
 */
struct expr *parse_binary(struct parser *p, int level)
{
	struct expr *e;
	int i;

	if (level == BINOP_LEVELS)
		return parse_unary(p);
	e = parse_binary(p, level + 1);
	while ((i = binop_at(p, level)) >= 0 && !p->dead) {
		struct token *t = advance(p);
		struct expr *b = new_expr(p, E_BINARY, t->loc);

		b->op = binops[i].op;
		b->lhs = e;
		b->rhs = parse_binary(p, level + 1);
		e = b;
	}
	return e;
}

struct expr *parse_expr(struct parser *p)
{
	struct expr *e;

	if (!enter(p))
		return error_expr(p);
	e = parse_binary(p, 0);
	leave(p);
	return e;
}

bool starts_expr(enum tok_kind k)
{
	switch (k) {
	case TK_INT: case TK_STRING: case TK_CHARLIT: case TK_TRUE: case TK_FALSE:
	case TK_NULL: case TK_LBRACKET: case TK_IDENT: case TK_LPAREN: case TK_MATCH:
	case TK_NEW: case TK_NOT: case TK_MINUS: case TK_STAR: case TK_AMP:
		return true;
	default:
		return false;
	}
}
