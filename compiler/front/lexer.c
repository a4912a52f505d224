#include "lexer.h"

#include <ctype.h>
#include <string.h>

struct lexer {
	struct arena *a;
	struct diag *d;
	const struct ks_src *src;
	const char *p, *end;
	int line;
	const char *line_begin;
	bool nl;
	struct token *toks;
	int n, cap;
};

static const char *const tok_names[TK_COUNT] = {
	[TK_EOF] = "end of file",
	[TK_IDENT] = "identifier",
	[TK_INT] = "integer literal",
	[TK_STRING] = "string literal",
	[TK_CHARLIT] = "character literal",
#define X(name, text) [TK_##name] = text,
	KS_KEYWORDS(X)
	KS_PUNCTS(X)
#undef X
};

const char *tok_name(enum tok_kind k)
{
	return k < TK_COUNT ? tok_names[k] : "?";
}

static struct ks_loc loc_at(struct lexer *l, const char *at, int len)
{
	struct ks_loc loc = {
		.src = l->src,
		.line = l->line,
		.col = (int)(at - l->line_begin) + 1,
		.len = len > 0 ? len : 1,
	};
	return loc;
}

static struct token *push(struct lexer *l, enum tok_kind k, const char *start)
{
	struct token *t;

	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 256;
		struct token *v = arena_alloc(l->a, sizeof(*v) * (size_t)cap);

		if (l->n)
			memcpy(v, l->toks, sizeof(*v) * (size_t)l->n);
		l->toks = v;
		l->cap = cap;
	}
	t = &l->toks[l->n++];
	memset(t, 0, sizeof(*t));
	t->kind = k;
	t->loc = loc_at(l, start, (int)(l->p - start));
	t->nl_before = l->nl;
	l->nl = false;
	return t;
}

static void newline(struct lexer *l, const char *after)
{
	l->line++;
	l->line_begin = after;
	l->nl = true;
}

static bool is_ident_start(int c)
{
	return isalpha(c) || c == '_';
}

static bool is_ident_char(int c)
{
	return isalnum(c) || c == '_';
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* integer = digit+ | "0x" hexdigit+ | "0b" bindigit+ */
static void lex_number(struct lexer *l)
{
	const char *start = l->p;
	uint64_t v = 0;
	bool overflow = false, hex = false;
	int base = 10, ndigits = 0;
	struct token *t;

	if (l->p[0] == '0' && (l->p[1] == 'x' || l->p[1] == 'X')) {
		base = 16;
		l->p += 2;
	} else if (l->p[0] == '0' && (l->p[1] == 'b' || l->p[1] == 'B')) {
		base = 2;
		l->p += 2;
	}
	hex = base != 10;
	for (; l->p < l->end; l->p++) {
		int dv = hexval((unsigned char)*l->p);

		if (dv < 0 || dv >= base)
			break;
		if (v > (UINT64_MAX - (uint64_t)dv) / (uint64_t)base)
			overflow = true;
		v = v * (uint64_t)base + (uint64_t)dv;
		ndigits++;
	}
	while (l->p < l->end && is_ident_char((unsigned char)*l->p))
		l->p++;
	t = push(l, TK_INT, start);
	t->hex = hex;
	if (ndigits == 0) {
		diag_error(l->d, t->loc, "%s literal has no digits",
			   base == 16 ? "hexadecimal" : "binary");
	} else if (t->loc.len > (int)(ndigits + (hex ? 2 : 0))) {
		diag_error(l->d, t->loc, "invalid character in integer literal '%.*s'",
			   t->loc.len > 64 ? 64 : t->loc.len, start);
	} else if (overflow) {
		diag_error(l->d, t->loc, "integer literal is too large for 64 bits");
		v = 0;
	}
	t->ival = v;
	t->is_unsigned = v > (uint64_t)INT64_MAX;
}

/*
 * One character of a string or char literal at l->p, escapes decoded.
 * Returns the byte; unknown escapes keep the backslash, as the reference does.
 */
static int lex_char_in_literal(struct lexer *l, bool *bad_escape)
{
	const char *p = l->p;

	if (*p != '\\' || p + 1 >= l->end) {
		l->p++;
		return (unsigned char)*p;
	}
	switch (p[1]) {
	case 'n': l->p += 2; return '\n';
	case 't': l->p += 2; return '\t';
	case 'r': l->p += 2; return '\r';
	case '\\': l->p += 2; return '\\';
	case '\'': l->p += 2; return '\'';
	case '"': l->p += 2; return '"';
	case '0': l->p += 2; return '\0';
	case 'x':
		if (p + 3 < l->end && hexval((unsigned char)p[2]) >= 0 &&
		    hexval((unsigned char)p[3]) >= 0) {
			l->p += 4;
			return hexval((unsigned char)p[2]) * 16 + hexval((unsigned char)p[3]);
		}
		break;
	}
	*bad_escape = true;
	l->p++;
	return '\\';
}

static void lex_string(struct lexer *l)
{
	const char *start = l->p;
	int start_line = l->line;
	const char *start_line_begin = l->line_begin;
	bool start_nl = l->nl;
	struct strbuf sb;
	struct token *t;

	sb_init(&sb);
	l->p++;
	while (l->p < l->end && *l->p != '"') {
		bool bad = false;
		const char *at = l->p;
		int c;

		if (*l->p == '\n') {
			newline(l, l->p + 1);
			l->nl = false;
		}
		c = lex_char_in_literal(l, &bad);
		if (bad)
			diag_warning(l->d, loc_at(l, at, 2),
				     "unknown escape sequence '\\%c' is kept as a backslash",
				     at[1] >= 0x20 && at[1] < 0x7f ? at[1] : '?');
		sb_putc(&sb, (char)c);
	}
	if (l->p >= l->end) {
		struct ks_loc loc = { l->src, start_line, (int)(start - start_line_begin) + 1, 1 };

		diag_error(l->d, loc, "unterminated string literal");
		sb_free(&sb);
		return;
	}
	l->p++;
	/* The token belongs to the line it started on. */
	{
		int line = l->line;
		const char *lb = l->line_begin;
		bool nl = l->nl;

		l->line = start_line;
		l->line_begin = start_line_begin;
		l->nl = start_nl;
		t = push(l, TK_STRING, start);
		if (line != start_line)
			t->loc.len = 1;
		l->line = line;
		l->line_begin = lb;
		l->nl = nl;
	}
	t->text_len = (int)sb.len;
	t->text = arena_strndup(l->a, sb.buf ? sb.buf : "", sb.len);
	sb_free(&sb);
}

static void lex_charlit(struct lexer *l)
{
	const char *start = l->p;
	bool bad = false;
	struct token *t;
	int c;

	l->p++;
	if (l->p >= l->end || *l->p == '\n') {
		diag_error(l->d, loc_at(l, start, 1), "unterminated character literal");
		push(l, TK_CHARLIT, start);
		return;
	}
	if (*l->p == '\'') {
		l->p++;
		diag_error(l->d, loc_at(l, start, 2), "empty character literal");
		push(l, TK_CHARLIT, start);
		return;
	}
	c = lex_char_in_literal(l, &bad);
	if (bad || l->p >= l->end || *l->p != '\'') {
		while (l->p < l->end && *l->p != '\'' && *l->p != '\n')
			l->p++;
		if (l->p < l->end && *l->p == '\'')
			l->p++;
		diag_error(l->d, loc_at(l, start, (int)(l->p - start)), "invalid character literal");
		/* A stand-in token keeps one bad literal from derailing the parse. */
		push(l, TK_CHARLIT, start);
		return;
	}
	l->p++;
	t = push(l, TK_CHARLIT, start);
	t->ival = (uint64_t)c;
}

static void lex_ident(struct lexer *l)
{
	static const struct { const char *s; enum tok_kind k; } kw[] = {
#define X(name, text) { text, TK_##name },
		KS_KEYWORDS(X)
#undef X
	};
	const char *start = l->p;
	struct token *t;
	size_t n;

	while (l->p < l->end && is_ident_char((unsigned char)*l->p))
		l->p++;
	n = (size_t)(l->p - start);
	if (n > KS_MAX_IDENT) {
		diag_error(l->d, loc_at(l, start, 1), "identifier is %zu characters long; the limit is %d",
			   n, KS_MAX_IDENT);
		n = KS_MAX_IDENT;
	}
	for (size_t i = 0; i < ARRAY_SIZE(kw); i++) {
		if (strlen(kw[i].s) == n && !memcmp(kw[i].s, start, n)) {
			push(l, kw[i].k, start);
			return;
		}
	}
	t = push(l, TK_IDENT, start);
	t->text = arena_strndup(l->a, start, n);
	t->text_len = (int)n;
}

static bool lex_punct(struct lexer *l)
{
	static const struct { const char *s; enum tok_kind k; } pk[] = {
#define X(name, text) { text, TK_##name },
		KS_PUNCTS(X)
#undef X
	};
	/* KS_PUNCTS lists two-character operators first, so the longest wins. */
	for (size_t i = 0; i < ARRAY_SIZE(pk); i++) {
		size_t n = strlen(pk[i].s);

		if ((size_t)(l->end - l->p) >= n && !memcmp(pk[i].s, l->p, n)) {
			const char *start = l->p;

			l->p += n;
			push(l, pk[i].k, start);
			return true;
		}
	}
	return false;
}

static void lex_bad_char(struct lexer *l)
{
	unsigned char c = (unsigned char)*l->p;
	struct ks_loc loc = loc_at(l, l->p, 1);

	if (c == ';')
		diag_error(l->d, loc, "unexpected ';': KernelScript statements have no terminator");
	else if (c == '/' && l->p + 1 < l->end && l->p[1] == '*')
		diag_error(l->d, loc, "block comments are not supported; use '//'");
	else if (c >= 0x20 && c < 0x7f)
		diag_error(l->d, loc, "unexpected character '%c'", c);
	else
		diag_error(l->d, loc, "unexpected byte 0x%02x", c);
	l->p++;
}

struct token *lex_source(struct arena *a, struct diag *d, const struct ks_src *src, int *ntok)
{
	struct lexer l = {
		.a = a, .d = d, .src = src,
		.p = src->text, .end = src->text + src->len,
		.line = 1, .line_begin = src->text, .nl = true,
	};

	if (memchr(src->text, '\0', src->len)) {
		struct ks_loc loc = { src, 1, 1, 1 };

		diag_error(d, loc, "file is not text (it contains NUL bytes)");
		l.p = l.end;
	}
	while (l.p < l.end && !diag_too_many(d)) {
		unsigned char c = (unsigned char)*l.p;

		if (c == '\n') {
			newline(&l, ++l.p);
		} else if (c == ' ' || c == '\t' || c == '\r') {
			l.p++;
		} else if (c == '/' && l.p + 1 < l.end && l.p[1] == '/') {
			while (l.p < l.end && *l.p != '\n')
				l.p++;
		} else if (isdigit(c)) {
			lex_number(&l);
		} else if (is_ident_start(c)) {
			lex_ident(&l);
		} else if (c == '"') {
			lex_string(&l);
		} else if (c == '\'') {
			lex_charlit(&l);
		} else if (c == '/' && l.p + 1 < l.end && l.p[1] == '*') {
			lex_bad_char(&l);
		} else if (!lex_punct(&l)) {
			lex_bad_char(&l);
		}
	}
	l.p = l.end;
	push(&l, TK_EOF, l.end);
	*ntok = l.n;
	return l.toks;
}
