/* Parser: statements (see parser.c). */
#include "parser_internal.h"

#include <string.h>

/* ---- statements ---- */

static struct stmt *parse_stmt(struct parser *p);

static struct stmt *new_stmt(struct parser *p, enum stmt_kind k, struct ks_loc loc)
{
	struct stmt *s = arena_alloc(p->a, sizeof(*s));

	s->kind = k;
	s->loc = loc;
	s->op = -1;
	return s;
}

static bool starts_stmt(enum tok_kind k)
{
	switch (k) {
	case TK_VAR: case TK_CONST: case TK_RETURN: case TK_IF: case TK_WHILE:
	case TK_FOR: case TK_DELETE: case TK_BREAK: case TK_CONTINUE: case TK_TRY:
	case TK_THROW: case TK_DEFER:
		return true;
	default:
		return starts_expr(k);
	}
}

/*
 * Tokens that only start a top-level declaration.  Seen at the start of a
 * line inside a block, they mean the block's '}' is missing.
 */
static bool starts_toplevel(const struct token *t)
{
	switch (t->kind) {
	case TK_FN: case TK_EXTERN: case TK_INCLUDE: case TK_IMPORT: case TK_CONFIG:
	case TK_STRUCT: case TK_ENUM: case TK_TYPE: case TK_PIN: case TK_LOCAL: case TK_AT:
	case TK_IMPL:
		return t->nl_before;
	default:
		return false;
	}
}

/* After an error, skips to a token that can start the next statement on a new line. */
static void sync_stmt(struct parser *p, struct token *err_at)
{
	while (!at(p, TK_EOF) && !at(p, TK_RBRACE) && !starts_toplevel(p->tok)) {
		if (p->tok != err_at && p->tok->nl_before && starts_stmt(p->tok->kind))
			return;
		advance(p);
	}
}

/* block = "{" { stmt } "}" */
struct stmt *parse_block(struct parser *p)
{
	struct token *open = p->tok;
	struct stmt head = { 0 }, *cur = &head;

	if (!expect(p, TK_LBRACE))
		return NULL;
	if (!enter(p))
		return NULL;
	while (!at(p, TK_RBRACE) && !at(p, TK_EOF) && !p->dead && !starts_toplevel(p->tok)) {
		struct token *start = p->tok;
		int errs = diag_errors(p->d);
		struct stmt *s = parse_stmt(p);

		if (s)
			cur = cur->next = s;
		if (diag_errors(p->d) != errs)
			sync_stmt(p, start);
		else if (p->tok == start)
			advance(p);
	}
	leave(p);
	expect_close(p, TK_RBRACE, open);
	return head.next;
}

/* vardecl = ("var" | "const") IDENT [":" type] ["=" expr] */
static struct stmt *parse_var(struct parser *p)
{
	struct token *kw = advance(p);
	struct stmt *s = new_stmt(p, S_VAR, kw->loc);

	s->is_const = kw->kind == TK_CONST;
	s->name_loc = p->tok->loc;
	if (!(s->name = expect_ident(p, "a variable name")))
		return s;
	if (accept(p, TK_COLON))
		s->ty = parse_type(p);
	if (accept(p, TK_ASSIGN))
		s->value = parse_expr(p);
	else if (!s->ty)
		error_expected(p, "':' or '='");
	else if (s->is_const)
		diag_error(p->d, s->name_loc, "constant '%s' needs a value", s->name);
	return s;
}

/* if = "if" "(" ( expr | "var" IDENT "=" expr ) ")" block
 *      [ "else" ( if | block ) ] */
static struct stmt *parse_if(struct parser *p)
{
	struct token *kw = advance(p), *open = p->tok;
	struct stmt *s = new_stmt(p, S_IF, kw->loc);

	expect(p, TK_LPAREN);
	if (accept(p, TK_VAR)) {
		s->kind = S_IFVAR;
		s->name_loc = p->tok->loc;
		s->name = expect_ident(p, "a variable name");
		expect(p, TK_ASSIGN);
	}
	s->value = parse_expr(p);
	expect_close(p, TK_RPAREN, open);
	s->then = parse_block(p);
	if (accept(p, TK_ELSE)) {
		if (at(p, TK_IF)) {
			if (enter(p)) {
				s->els = parse_if(p);
				leave(p);
			}
		} else {
			s->els = parse_block(p);
		}
	}
	return s;
}

/* for = "for" "(" IDENT "in" expr ".." expr ")" block */
static struct stmt *parse_for(struct parser *p)
{
	struct token *kw = advance(p), *open = p->tok;
	struct stmt *s = new_stmt(p, S_FOR, kw->loc);

	expect(p, TK_LPAREN);
	s->name_loc = p->tok->loc;
	s->name = expect_ident(p, "a loop variable");
	expect(p, TK_IN);
	s->lhs = parse_binary(p, 4);
	expect(p, TK_DOTDOT);
	s->key = parse_binary(p, 4);
	expect_close(p, TK_RPAREN, open);
	s->body = parse_block(p);
	return s;
}

/* try = "try" block { "catch" ( INT | "_" ) block } */
static struct stmt *parse_try(struct parser *p)
{
	struct token *kw = advance(p);
	struct stmt *s = new_stmt(p, S_TRY, kw->loc);
	struct catch_clause head = { 0 }, *cur = &head;

	s->body = parse_block(p);
	while (at(p, TK_CATCH)) {
		struct catch_clause *c = arena_alloc(p->a, sizeof(*c));

		c->loc = advance(p)->loc;
		if (at(p, TK_INT)) {
			struct token *t = advance(p);

			if (t->ival > 0x7fffffffULL)
				diag_error(p->d, t->loc, "catch code is too large");
			c->code = (long long)t->ival;
		} else if (at(p, TK_IDENT) && !strcmp(p->tok->text, "_")) {
			advance(p);
			c->wildcard = true;
		} else {
			error_expected(p, "an error code or '_' after 'catch'");
			return s;
		}
		c->body = parse_block(p);
		cur = cur->next = c;
	}
	s->catches = head.next;
	return s;
}

static int assign_op(enum tok_kind k)
{
	switch (k) {
	case TK_ASSIGN: return -1;
	case TK_PLUSEQ: return OP_ADD;
	case TK_MINUSEQ: return OP_SUB;
	case TK_STAREQ: return OP_MUL;
	case TK_SLASHEQ: return OP_DIV;
	case TK_PERCENTEQ: return OP_MOD;
	default: return -2;
	}
}

/* simple = expr [ ("=" | "+=" | "-=" | "*=" | "/=" | "%=") expr ] */
static struct stmt *parse_simple(struct parser *p)
{
	struct token *start = p->tok;
	struct expr *e = parse_expr(p);
	int op = assign_op(p->tok->kind);
	struct stmt *s;

	if (op == -2) {
		s = new_stmt(p, S_EXPR, start->loc);
		s->value = e;
		return s;
	}
	s = new_stmt(p, S_ASSIGN, p->tok->loc);
	advance(p);
	s->op = op;
	s->lhs = e;
	s->value = parse_expr(p);
	return s;
}

static struct stmt *parse_stmt(struct parser *p)
{
	struct token *t = p->tok;
	struct stmt *s;

	switch (t->kind) {
	case TK_VAR:
	case TK_CONST:
		return parse_var(p);
	case TK_IF:
		return parse_if(p);
	case TK_WHILE: {
		struct token *open;

		advance(p);
		s = new_stmt(p, S_WHILE, t->loc);
		open = p->tok;
		expect(p, TK_LPAREN);
		s->value = parse_expr(p);
		expect_close(p, TK_RPAREN, open);
		s->body = parse_block(p);
		return s;
	}
	case TK_FOR:
		return parse_for(p);
	case TK_RETURN:
		advance(p);
		s = new_stmt(p, S_RETURN, t->loc);
		if (starts_expr(p->tok->kind))
			s->value = parse_expr(p);
		return s;
	case TK_BREAK:
	case TK_CONTINUE:
		advance(p);
		return new_stmt(p, t->kind == TK_BREAK ? S_BREAK : S_CONTINUE, t->loc);
	case TK_DELETE:
		advance(p);
		s = new_stmt(p, S_DELETE, t->loc);
		s->lhs = parse_expr(p);
		/* `delete m[k]` removes a map entry; the index parsed as E_INDEX. */
		if (s->lhs->kind == E_INDEX && !s->lhs->paren) {
			s->key = s->lhs->rhs;
			s->lhs = s->lhs->lhs;
		}
		return s;
	case TK_TRY:
		return parse_try(p);
	case TK_THROW:
	case TK_DEFER:
		advance(p);
		s = new_stmt(p, t->kind == TK_THROW ? S_THROW : S_DEFER, t->loc);
		s->value = parse_expr(p);
		return s;
	case TK_LBRACE:
		diag_error(p->d, t->loc, "a block must follow 'if', 'else', 'while', 'for', 'try' or 'catch'");
		advance(p);
		return NULL;
	default:
		if (!starts_expr(t->kind)) {
			error_expected(p, "a statement");
			return NULL;
		}
		return parse_simple(p);
	}
}
