/* Lexer: KernelScript source text to a token array. */
#ifndef KSC_LEXER_H
#define KSC_LEXER_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"

/* ORDER TOKENS: keywords first (their spelling is the name). */
#define KS_KEYWORDS(X) \
	X(FN, "fn") X(EXTERN, "extern") X(INCLUDE, "include") X(PIN, "pin") \
	X(TYPE, "type") X(STRUCT, "struct") X(ENUM, "enum") X(IMPL, "impl") \
	X(U8, "u8") X(U16, "u16") X(U32, "u32") X(U64, "u64") \
	X(I8, "i8") X(I16, "i16") X(I32, "i32") X(I64, "i64") \
	X(BOOL, "bool") X(CHAR, "char") X(VOID, "void") X(STR, "str") \
	X(IF, "if") X(ELSE, "else") X(FOR, "for") X(WHILE, "while") \
	X(RETURN, "return") X(BREAK, "break") X(CONTINUE, "continue") \
	X(VAR, "var") X(CONST, "const") X(CONFIG, "config") X(LOCAL, "local") \
	X(IN, "in") X(NEW, "new") X(DELETE, "delete") X(TRY, "try") \
	X(CATCH, "catch") X(THROW, "throw") X(DEFER, "defer") X(MATCH, "match") \
	X(DEFAULT, "default") X(IMPORT, "import") X(FROM, "from") \
	X(TRUE, "true") X(FALSE, "false") X(NULL, "null")

#define KS_PUNCTS(X) \
	X(ARROW, "->") X(EQ, "==") X(NE, "!=") X(LE, "<=") X(GE, ">=") \
	X(ANDAND, "&&") X(OROR, "||") X(PLUSEQ, "+=") X(MINUSEQ, "-=") \
	X(STAREQ, "*=") X(SLASHEQ, "/=") X(PERCENTEQ, "%=") X(DOTDOT, "..") \
	X(ASSIGN, "=") X(PLUS, "+") X(MINUS, "-") X(STAR, "*") X(SLASH, "/") \
	X(PERCENT, "%") X(LT, "<") X(GT, ">") X(NOT, "!") X(AMP, "&") \
	X(AT, "@") X(PIPE, "|") X(LBRACE, "{") X(RBRACE, "}") X(LPAREN, "(") \
	X(RPAREN, ")") X(LBRACKET, "[") X(RBRACKET, "]") X(COMMA, ",") \
	X(DOT, ".") X(COLON, ":")

/* Names become C and BTF symbols; the kernel's symbol limit is far above this. */
#define KS_MAX_IDENT 255

enum tok_kind {
	TK_EOF,
	TK_IDENT,
	TK_INT,
	TK_STRING,
	TK_CHARLIT,
#define X(name, text) TK_##name,
	KS_KEYWORDS(X)
	KS_PUNCTS(X)
#undef X
	TK_COUNT
};

struct token {
	enum tok_kind kind;
	struct ks_loc loc;
	const char *text;      /* identifier name, or decoded string contents */
	int text_len;          /* decoded length (strings may hold NUL) */
	uint64_t ival;         /* integer or char value */
	bool is_unsigned;      /* integer literal above INT64_MAX */
	bool hex;              /* written in hex or binary */
	bool nl_before;        /* first token on its line */
};

/*
 * Tokenizes src into an arena array ending with TK_EOF.  Errors go to d;
 * the array is always usable (bad characters are skipped).
 */
struct token *lex_source(struct arena *a, struct diag *d, const struct ks_src *src, int *ntok);

const char *tok_name(enum tok_kind k);

#endif
