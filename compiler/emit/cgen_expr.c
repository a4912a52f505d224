/* The C emitter's expressions (cgen.c): C for checked expressions, and print formats. */
#include "cgen.h"
#include "cgen_internal.h"

#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "types.h"

/* ---- expressions ---- */

void cg_string_lit(struct strbuf *sb, const char *s, int len)
{
	sb_putc(sb, '"');
	for (int i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '\n': sb_puts(sb, "\\n"); break;
		case '\t': sb_puts(sb, "\\t"); break;
		case '\r': sb_puts(sb, "\\r"); break;
		case '\\': sb_puts(sb, "\\\\"); break;
		case '"': sb_puts(sb, "\\\""); break;
		default:
			if (c < 0x20 || c >= 0x7f) {
				/* Octal keeps the next character from joining the escape. */
				sb_printf(sb, "\\%03o", c);
			} else {
				sb_putc(sb, (char)c);
			}
		}
	}
	sb_putc(sb, '"');
}

static int binop_prec(int op)
{
	switch (op) {
	case OP_MUL: case OP_DIV: case OP_MOD: return 13;
	case OP_ADD: case OP_SUB: return 12;
	case OP_LT: case OP_LE: case OP_GT: case OP_GE: return 10;
	case OP_EQ: case OP_NE: return 9;
	case OP_AND: return 5;
	case OP_OR: return 4;
	}
	return 0;
}

static int expr_prec(const struct expr *e)
{
	switch (e->kind) {
	case E_BINARY:
		return binop_prec(e->op);
	case E_UNARY:
	case E_CAST:
		return 14;
	default:
		return 16;
	}
}

const char *const cg_binop_text[] = {
	"+", "-", "*", "/", "%", "==", "!=", "<", "<=", ">", ">=", "&&", "||",
};

/* Emits e, parenthesized if it binds looser than `min` requires. */
static void sub_expr(struct cgen *g, struct strbuf *sb, struct expr *e, int min)
{
	bool paren = expr_prec(e) < min;

	if (paren)
		sb_putc(sb, '(');
	cg_expr(g, sb, e);
	if (paren)
		sb_putc(sb, ')');
}

static void int_lit(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	/* The checker's type of the literal (i32, i64, u64 above INT64_MAX), spelt in C. */
	const char *suffix = e->ival > 0x7fffffffULL ? (e->is_unsigned ? "ULL" : "LL") : "";

	if (e->hex)
		sb_printf(sb, "0x%llx%s", (unsigned long long)e->ival, suffix);
	else
		sb_printf(sb, "%llu%s", (unsigned long long)e->ival, suffix);
}

bool cg_is_str(const struct type *t)
{
	t = type_unalias((struct type *)t);
	return t && t->kind == TY_STR;
}

void cg_call_args(struct cgen *g, struct strbuf *sb, struct expr *args)
{
	sb_putc(sb, '(');
	for (struct expr *a = args; a; a = a->next) {
		cg_expr(g, sb, a);
		if (a->next)
			sb_puts(sb, ", ");
	}
	sb_putc(sb, ')');
}

/* A match nested inside an expression becomes a GNU statement expression. */
static void match_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct strbuf *saved = g->out, inner;
	const char *tmp = cg_tmp_name(g, "match");
	struct cg_sink sink = { SINK_ASSIGN, tmp, e->type };
	int indent = g->indent;

	sb_init(&inner);
	g->out = &inner;
	g->indent = indent + 1;
	cg_line(g, "%s;", cg_decl(g, e->type, tmp));
	cg_emit_match(g, e, sink);
	cg_line(g, "%s;", tmp);
	g->indent = indent;
	g->out = saved;
	sb_puts(sb, "({\n");
	sb_puts(sb, inner.buf);
	for (int i = 0; i < indent; i++)
		sb_putc(sb, '\t');
	sb_puts(sb, "})");
	sb_free(&inner);
}

static void char_lit(struct strbuf *sb, struct expr *e)
{
	if (e->ival >= 0x20 && e->ival < 0x7f && e->ival != '\'' && e->ival != '\\')
		sb_printf(sb, "'%c'", (int)e->ival);
	else
		sb_printf(sb, "%llu", (unsigned long long)e->ival);
}

static void ident(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (e->ref == REF_LOCAL)
		sb_puts(sb, cg_local_name(e->local));
	else if ((e->ref == REF_GLOBAL || e->ref == REF_FUNC) && e->decl)
		sb_puts(sb, cg_global_name(g, e->decl));
	else if (e->ref == REF_ENUMCONST && e->decl && e->decl->from_btf)
		sb_printf(sb, "%lld", e->enum_value);
	else
		sb_puts(sb, e->str);
}

static void binary(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	int p = binop_prec(e->op);

	/* gcc wants && inside || parenthesized. */
	sub_expr(g, sb, e->lhs, e->op == OP_OR && e->lhs->kind == E_BINARY &&
		 e->lhs->op == OP_AND ? 17 : p);
	sb_printf(sb, " %s ", cg_binop_text[e->op]);
	sub_expr(g, sb, e->rhs, e->op == OP_OR && e->rhs->kind == E_BINARY &&
		 e->rhs->op == OP_AND ? 17 : p + 1);
}

static void struct_lit(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	sb_printf(sb, "(%s){ ", cg_type(g, e->type));
	for (struct field_init *f = e->fields; f; f = f->next) {
		sb_printf(sb, ".%s = ", f->name);
		cg_expr(g, sb, f->value);
		sb_puts(sb, f->next ? ", " : " ");
	}
	sb_putc(sb, '}');
}

static void array_lit(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	sb_puts(sb, "{ ");
	for (struct expr *a = e->args; a; a = a->next) {
		cg_expr(g, sb, a);
		if (a->next)
			sb_puts(sb, ", ");
	}
	sb_puts(sb, " }");
}

void cg_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (g->h->expr && g->h->expr(g, sb, e))
		return;
	switch (e->kind) {
	case E_INT:
		int_lit(g, sb, e);
		break;
	case E_STR:
		cg_string_lit(sb, e->str, e->str_len);
		break;
	case E_CHAR:
		char_lit(sb, e);
		break;
	case E_BOOL:
		sb_puts(sb, e->ival ? "true" : "false");
		break;
	case E_NULL:
		sb_puts(sb, "NULL");
		break;
	case E_IDENT:
		ident(g, sb, e);
		break;
	case E_BINARY:
		binary(g, sb, e);
		break;
	case E_UNARY:
		sb_puts(sb, e->op == UOP_NOT ? "!" : e->op == UOP_NEG ? "-" :
			e->op == UOP_DEREF ? "*" : "&");
		sub_expr(g, sb, e->lhs, 14);
		break;
	case E_FIELD:
	case E_ARROW: {
		struct type *lt = type_unalias(e->lhs->type);

		sub_expr(g, sb, e->lhs, 16);
		sb_printf(sb, "%s%s", lt && lt->kind == TY_PTR ? "->" : ".", e->str);
		break;
	}
	case E_INDEX:
		sub_expr(g, sb, e->lhs, 16);
		sb_putc(sb, '[');
		cg_expr(g, sb, e->rhs);
		sb_putc(sb, ']');
		break;
	case E_CALL:
		if (g->h->call && g->h->call(g, sb, e))
			break;
		sub_expr(g, sb, e->lhs, 16);
		cg_call_args(g, sb, e->args);
		break;
	case E_STRUCTLIT:
		struct_lit(g, sb, e);
		break;
	case E_MATCH:
		match_expr(g, sb, e);
		break;
	case E_NEW:
		g->h->new_obj(g, sb, e);
		break;
	case E_CAST:
		sb_printf(sb, "(%s)", cg_type(g, e->ty));
		sub_expr(g, sb, e->lhs, 14);
		break;
	case E_ARRAY:
		array_lit(g, sb, e);
		break;
	}
}

const char *cg_expr_str(struct cgen *g, struct expr *e)
{
	struct strbuf sb;
	const char *r;
	char *s;

	sb_init(&sb);
	cg_expr(g, &sb, e);
	s = sb_detach(&sb);
	r = arena_strdup(g->a, s);
	free(s);
	return r;
}

/* ---- print formats ---- */

int cg_print_args(struct cgen *g, struct expr *call, struct strbuf *fmt, const char ***casts)
{
	struct expr *f = call->args, *a;
	struct fmt_conv conv[64];
	int n, bad, nargs = 0, i = 0, pos = 0;
	const char **cs;

	for (a = f ? f->next : NULL; a; a = a->next)
		nargs++;
	cs = arena_alloc(g->a, sizeof(*cs) * (size_t)(nargs + 1));
	*casts = cs;
	if (!f || f->kind != E_STR) {
		/* print(s) of a string value */
		sb_puts(fmt, "%s");
		return nargs;
	}
	n = fmt_parse(f->str, f->str_len, conv, 64, &bad);
	if (n < 0)
		n = 0;
	for (i = 0; i < n && i < 64 && i < nargs; i++) {
		struct fmt_conv *c = &conv[i];
		bool sgn = c->kind == FMT_INT;

		sb_putn(fmt, f->str + pos, (size_t)(c->start - pos));
		pos = c->end;
		switch (c->kind) {
		case FMT_INT:
		case FMT_UINT:
			sb_printf(fmt, "%%%sll%c", c->flags, c->conv);
			cs[i] = sgn ? "long long" : "unsigned long long";
			break;
		case FMT_CHAR:
			sb_printf(fmt, "%%%sc", c->flags);
			cs[i] = "char";
			break;
		case FMT_STR:
			sb_printf(fmt, "%%%ss", c->flags);
			cs[i] = NULL;
			break;
		case FMT_PTR:
			sb_puts(fmt, "%p");
			cs[i] = NULL;
			break;
		}
	}
	sb_putn(fmt, f->str + pos, (size_t)(f->str_len - pos));
	if (n == 0) {
		/* No conversions: the extra arguments follow the text, space-separated. */
		for (a = f->next, i = 0; a; a = a->next, i++) {
			struct type *t = type_unalias(a->type);

			if (cg_is_str(t)) {
				sb_puts(fmt, " %s");
				cs[i] = NULL;
			} else if (t->kind == TY_PTR) {
				sb_puts(fmt, " %p");
				cs[i] = NULL;
			} else if (t->kind == TY_INT && !t->is_signed) {
				sb_puts(fmt, " %llu");
				cs[i] = "unsigned long long";
			} else {
				sb_puts(fmt, " %lld");
				cs[i] = "long long";
			}
		}
		return nargs;
	}
	return n < nargs ? n : nargs;
}

void cg_print_call(struct cgen *g, struct strbuf *sb, const char *fn, struct expr *call,
		   enum cg_newline nl)
{
	struct strbuf fmt;
	const char **casts = NULL;
	struct expr *a = call->args ? call->args->next : NULL;
	int n = 0;

	sb_init(&fmt);
	if (call->args)
		n = cg_print_args(g, call, &fmt, &casts);
	/* print(x) of a value: cg_print_args made its format, x is the argument. */
	if (call->args && call->args->kind != E_STR)
		a = call->args;
	if (nl == CG_NL_ALWAYS || (nl == CG_NL_IF_MISSING && (!fmt.len || fmt.buf[fmt.len - 1] != '\n')))
		sb_putc(&fmt, '\n');
	sb_printf(sb, "%s(", fn);
	cg_string_lit(sb, fmt.buf ? fmt.buf : "", (int)fmt.len);
	for (int i = 0; a && i < n; a = a->next, i++) {
		sb_puts(sb, ", ");
		if (casts[i])
			sb_printf(sb, "(%s)", casts[i]);
		cg_expr(g, sb, a);
	}
	sb_putc(sb, ')');
	sb_free(&fmt);
}

const char *cg_global_name(struct cgen *g, struct decl *d)
{
	return g->h->global_name ? g->h->global_name(g, d) : d->name;
}
