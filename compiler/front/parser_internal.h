/* Shared between the parts of the parser (parser.c, parse_*.c); not a public interface. */
#ifndef KSC_PARSER_INTERNAL_H
#define KSC_PARSER_INTERNAL_H

#include "lexer.h"
#include "parser.h"
#include "types.h"

struct parser {
	struct arena *a;
	struct diag *d;
	struct token *tok;     /* current token */
	struct token *toks;
	int depth;
	bool dead;             /* stop: nesting limit hit, everything after is noise */
	struct ptrvec wide_enums; /* enum constants written above INT64_MAX */
};

/* ---- token helpers ---- */

static inline struct token *peek(struct parser *p, int n)
{
	struct token *t = p->tok;

	while (n-- > 0 && t->kind != TK_EOF)
		t++;
	return t;
}

static inline bool at(struct parser *p, enum tok_kind k)
{
	return p->tok->kind == k;
}

static inline struct token *advance(struct parser *p)
{
	struct token *t = p->tok;

	if (t->kind != TK_EOF)
		p->tok++;
	return t;
}

static inline bool accept(struct parser *p, enum tok_kind k)
{
	if (!at(p, k))
		return false;
	advance(p);
	return true;
}

static inline void leave(struct parser *p)
{
	p->depth--;
}

static inline struct ks_loc span(struct ks_loc from, const struct token *last)
{
	if (last->loc.line == from.line && last->loc.col >= from.col)
		from.len = last->loc.col + last->loc.len - from.col;
	return from;
}

static inline struct token *prev(struct parser *p)
{
	return p->tok > p->toks ? p->tok - 1 : p->tok;
}

/* parser.c: token helpers that report errors */
void error_expected(struct parser *p, const char *what);
bool expect(struct parser *p, enum tok_kind k);
/* Expects a closing token; names the opener when it is on another line. */
bool expect_close(struct parser *p, enum tok_kind k, const struct token *open);
const char *expect_ident(struct parser *p, const char *what);
bool enter(struct parser *p);

/* parser.c */
struct type *parse_type(struct parser *p);

/* parse_expr.c */
struct expr *parse_expr(struct parser *p);
struct expr *parse_binary(struct parser *p, int level);
const char *parse_field_name(struct parser *p);
bool starts_expr(enum tok_kind k);

/* parse_stmt.c */
struct stmt *parse_block(struct parser *p);

#endif
