#include "cgen.h"
#include "ebpf_abi.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "format.h"
#include "lexer.h"
#include "names.h"
#include "types.h"

void cg_init(struct cgen *g, struct arena *a, struct program *prog, struct strbuf *out,
	     const struct cg_hooks *h)
{
	memset(g, 0, sizeof(*g));
	g->a = a;
	g->prog = prog;
	g->out = out;
	g->h = h;
}

void cg_line(struct cgen *g, const char *fmt, ...)
{
	va_list ap;

	for (int i = 0; i < g->indent; i++)
		sb_putc(g->out, '\t');
	va_start(ap, fmt);
	sb_vprintf(g->out, fmt, ap);
	va_end(ap);
	sb_putc(g->out, '\n');
}

void cg_blank(struct cgen *g)
{
	sb_putc(g->out, '\n');
}

/* cg_block's template with its baseline tabs replaced by the current indentation. */
static char *reindent(struct cgen *g, const char *tmpl)
{
	struct strbuf sb;
	const char *p = tmpl;
	size_t base = strspn(tmpl, "\t");

	sb_init(&sb);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		size_t tabs = strspn(p, "\t");

		if (tabs >= len) {
			/* Blank lines carry no indentation, as cg_blank's. */
			if (nl)
				sb_putc(&sb, '\n');
		} else {
			/* Left of the baseline: the template is miswritten, which no input can cause. */
			if (tabs < base)
				abort();
			for (int i = 0; i < g->indent; i++)
				sb_putc(&sb, '\t');
			sb_putn(&sb, p + base, len - base);
			sb_putc(&sb, '\n');
		}
		p += nl ? len + 1 : len;
	}
	return sb_detach(&sb);
}

void cg_block(struct cgen *g, const char *fmt, ...)
{
	char *f = reindent(g, fmt);
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(g->out, f, ap);
	va_end(ap);
	free(f);
}

static void vline(struct cgen *g, const char *fmt, va_list ap)
{
	for (int i = 0; i < g->indent; i++)
		sb_putc(g->out, '\t');
	sb_vprintf(g->out, fmt, ap);
	sb_putc(g->out, '\n');
}

void cg_open(struct cgen *g, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vline(g, fmt, ap);
	va_end(ap);
	g->indent++;
}

void cg_reopen(struct cgen *g, const char *fmt, ...)
{
	va_list ap;

	g->indent--;
	va_start(ap, fmt);
	vline(g, fmt, ap);
	va_end(ap);
	g->indent++;
}

void cg_close(struct cgen *g, const char *fmt, ...)
{
	va_list ap;

	g->indent--;
	va_start(ap, fmt);
	vline(g, fmt, ap);
	va_end(ap);
}

static char *tmp_name(struct cgen *g, const char *stem)
{
	return arena_printf(g->a, "%s%d", stem, ++g->ntmp);
}

/* ---- types ---- */

static void type_prefix(struct cgen *g, struct strbuf *sb, struct type *t);
static const char *func_decl(struct cgen *g, struct type *t, const char *name);

static void base_name(struct cgen *g, struct strbuf *sb, struct type *t)
{
	const char *name;

	t = type_unalias(t);
	if ((t->kind == TY_STRUCT || t->kind == TY_ENUM) && g->h->type_name &&
	    (name = g->h->type_name(g, t))) {
		sb_puts(sb, name);
		return;
	}
	switch (t->kind) {
	case TY_VOID:
		sb_puts(sb, "void");
		break;
	case TY_BOOL:
		sb_puts(sb, "bool");
		break;
	case TY_CHAR:
		sb_puts(sb, "char");
		break;
	case TY_INT:
		sb_puts(sb, g->h->int_name(t->size, t->is_signed));
		break;
	case TY_STR:
		sb_puts(sb, "char");
		break;
	case TY_STRUCT:
		sb_printf(sb, "%s %s", t->decl->is_union ? "union" : "struct", t->decl->name);
		break;
	case TY_ENUM:
		sb_printf(sb, "enum %s", t->decl->name);
		break;
	case TY_NULL:
	case TY_HANDLE:
	case TY_FUNC:
		sb_puts(sb, "void *");
		break;
	default:
		sb_puts(sb, g->h->int_name(8, false));
		break;
	}
}

/* Everything before the declarator name; arrays are handled by cg_decl. */
static void type_prefix(struct cgen *g, struct strbuf *sb, struct type *t)
{
	t = type_unalias(t);
	if (t->kind == TY_PTR) {
		struct type *b = type_unalias(t->base);

		if (b->kind == TY_ARRAY || b->kind == TY_STR) {
			type_prefix(g, sb, b->kind == TY_STR ? b : b->base);
			sb_puts(sb, " *");
			return;
		}
		type_prefix(g, sb, t->base);
		if (sb->len && sb->buf[sb->len - 1] != '*')
			sb_putc(sb, ' ');
		sb_putc(sb, '*');
		return;
	}
	if (t->kind == TY_ARRAY) {
		type_prefix(g, sb, t->base);
		return;
	}
	base_name(g, sb, t);
}

const char *cg_type(struct cgen *g, struct type *t)
{
	struct strbuf sb;
	const char *r;
	char *s;

	if (type_unalias(t)->kind == TY_FUNC)
		return func_decl(g, type_unalias(t), "");
	sb_init(&sb);
	if (type_unalias(t)->kind == TY_STR || type_unalias(t)->kind == TY_ARRAY) {
		type_prefix(g, &sb, t);
		sb_puts(&sb, " *");
	} else {
		type_prefix(g, &sb, t);
	}
	s = sb_detach(&sb);
	r = arena_strdup(g->a, s);
	free(s);
	return r;
}

/* Array dimensions for a declarator: "[16]", or "[17]" for str(16). */
static void dims(struct strbuf *sb, struct type *t)
{
	t = type_unalias(t);
	if (t->kind == TY_STR)
		sb_printf(sb, "[%lld]", t->count + 1);
	else if (t->kind == TY_ARRAY) {
		sb_printf(sb, "[%lld]", t->count);
		dims(sb, t->base);
	}
}

/* "R (*name)(P1, P2)": a function value is a pointer to the function. */
static const char *func_decl(struct cgen *g, struct type *t, const char *name)
{
	struct strbuf sb;
	const char *r;
	char *s;

	sb_init(&sb);
	sb_puts(&sb, t->base && !type_is_void(t->base) ? cg_type(g, t->base) : "void");
	sb_printf(&sb, " (*%s)(", name);
	if (!t->nparams)
		sb_puts(&sb, "void");
	for (int i = 0; i < t->nparams; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", cg_type(g, t->params[i]));
	sb_putc(&sb, ')');
	s = sb_detach(&sb);
	r = arena_strdup(g->a, s);
	free(s);
	return r;
}

const char *cg_decl(struct cgen *g, struct type *t, const char *name)
{
	struct strbuf sb;
	const char *r;
	char *s;

	if (type_unalias(t)->kind == TY_FUNC)
		return func_decl(g, type_unalias(t), name);
	sb_init(&sb);
	type_prefix(g, &sb, t);
	if (sb.len && sb.buf[sb.len - 1] != '*')
		sb_putc(&sb, ' ');
	sb_puts(&sb, name);
	dims(&sb, t);
	s = sb_detach(&sb);
	r = arena_strdup(g->a, s);
	free(s);
	return r;
}

void cg_emit_pinned_struct(struct cgen *g)
{
	cg_line(g, "struct %s {", KSC_PINNED_GLOBALS);
	g->indent++;
	for (struct decl *d = g->prog->decls; d; d = d->next)
		if (d->kind == D_GLOBAL && d->is_pinned && d->target == TARGET_EBPF)
			cg_line(g, "%s;", cg_decl(g, d->ty, d->name));
	g->indent--;
	cg_line(g, "};");
	cg_blank(g);
}

void cg_emit_config_struct(struct cgen *g, struct decl *d)
{
	cg_line(g, "struct %s%s {", d->name, KSC_CONFIG_STRUCT_SUFFIX);
	g->indent++;
	for (struct config_field *f = d->cfields; f; f = f->next)
		cg_line(g, "%s;", cg_decl(g, f->ty, f->name));
	g->indent--;
	cg_line(g, "};");
	cg_blank(g);
}

const char *cg_emit_call_args(struct cgen *g, struct decl *k)
{
	const char *args = arena_printf(g->a, "%s%s_args", KSC_CALL_PREFIX, k->name);

	cg_line(g, "struct %s {", args);
	for (struct param *p = k->params; p; p = p->next)
		cg_line(g, "\t%s;", cg_decl(g, p->ty, p->name));
	if (k->ret && !type_is_void(k->ret))
		cg_line(g, "\t%s;", cg_decl(g, k->ret, "ret"));
	cg_line(g, "};");
	cg_blank(g);
	return args;
}

const char *cg_uapi_int(int size, bool is_signed)
{
	static const char *const u[] = { "__u8", "__u16", "__u32", "__u64" };
	static const char *const s[] = { "__s8", "__s16", "__s32", "__s64" };
	int i = size == 1 ? 0 : size == 2 ? 1 : size == 4 ? 2 : 3;

	return is_signed ? s[i] : u[i];
}

static const char *prototype(struct cgen *g, struct decl *fn, const char *name, bool decay)
{
	struct strbuf sb;
	const char *r;
	char *s;
	int i = 0;

	sb_init(&sb);
	sb_puts(&sb, fn->ret && !type_is_void(fn->ret) ? cg_decl(g, fn->ret, name) :
		arena_printf(g->a, "void %s", name));
	sb_putc(&sb, '(');
	if (!fn->params)
		sb_puts(&sb, "void");
	for (struct param *p = fn->params; p; p = p->next) {
		enum type_kind k = type_unalias(p->ty)->kind;

		if (decay && (k == TY_STR || k == TY_ARRAY))
			sb_printf(&sb, "%s%s", cg_type(g, p->ty), p->name);
		else
			sb_puts(&sb, cg_decl(g, p->ty, p->name));
		/* Callbacks (on_event) need not read what they are given; -Wextra would warn. */
		if (decay && fn->body && !cg_reads_param(fn->body, i))
			sb_puts(&sb, " __attribute__((unused))");
		i++;
		if (p->next)
			sb_puts(&sb, ", ");
	}
	sb_putc(&sb, ')');
	s = sb_detach(&sb);
	r = arena_strdup(g->a, s);
	free(s);
	return r;
}

const char *cg_prototype(struct cgen *g, struct decl *fn, const char *name)
{
	return prototype(g, fn, name, false);
}

const char *cg_prototype_decayed(struct cgen *g, struct decl *fn, const char *name)
{
	return prototype(g, fn, name, true);
}

/* Program-declared structs and enums, dependencies (by-value members) first. */
static void emit_type(struct cgen *g, struct decl *d, struct ptrvec *done);

static void emit_type_deps(struct cgen *g, struct type *t, struct ptrvec *done)
{
	t = type_unalias(t);
	if (t->kind == TY_ARRAY)
		emit_type_deps(g, t->base, done);
	else if ((t->kind == TY_STRUCT || t->kind == TY_ENUM) && !t->decl->from_header)
		emit_type(g, t->decl, done);
}

static void emit_type(struct cgen *g, struct decl *d, struct ptrvec *done)
{
	for (int i = 0; i < done->n; i++)
		if (done->v[i] == d)
			return;
	ptrvec_push(g->a, done, d);
	if (d->kind == D_STRUCT) {
		for (struct struct_field *f = d->fields; f; f = f->next)
			emit_type_deps(g, f->ty, done);
		cg_line(g, "struct %s {", d->name);
		g->indent++;
		for (struct struct_field *f = d->fields; f; f = f->next)
			cg_line(g, "%s;", cg_decl(g, f->ty, f->name));
		g->indent--;
		cg_line(g, "};");
	} else {
		cg_line(g, "enum %s {", d->name);
		g->indent++;
		for (struct enum_const *c = d->consts; c; c = c->next)
			cg_line(g, "%s = %lld,", c->name, c->value);
		g->indent--;
		cg_line(g, "};");
	}
	cg_blank(g);
}

void cg_emit_user_types(struct cgen *g)
{
	struct ptrvec done = { 0 };

	for (struct decl *d = g->prog->decls; d; d = d->next)
		if ((d->kind == D_STRUCT || d->kind == D_ENUM) && !d->from_header &&
		    (!g->h->want_type || g->h->want_type(g, d)))
			emit_type(g, d, &done);
}

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

static const char *const binop_text[] = {
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

static bool is_str(const struct type *t)
{
	t = type_unalias((struct type *)t);
	return t && t->kind == TY_STR;
}

static void call_args(struct cgen *g, struct strbuf *sb, struct expr *args)
{
	sb_putc(sb, '(');
	for (struct expr *a = args; a; a = a->next) {
		cg_expr(g, sb, a);
		if (a->next)
			sb_puts(sb, ", ");
	}
	sb_putc(sb, ')');
}

static void emit_stmts(struct cgen *g, struct stmt *s);
static void emit_stmt(struct cgen *g, struct stmt *s);
static void emit_match(struct cgen *g, struct expr *e, struct cg_sink sink);

/* A match nested inside an expression becomes a GNU statement expression. */
static void match_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct strbuf *saved = g->out, inner;
	const char *tmp = tmp_name(g, "match");
	struct cg_sink sink = { SINK_ASSIGN, tmp, e->type };
	int indent = g->indent;

	sb_init(&inner);
	g->out = &inner;
	g->indent = indent + 1;
	cg_line(g, "%s;", cg_decl(g, e->type, tmp));
	emit_match(g, e, sink);
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
		if (e->ival >= 0x20 && e->ival < 0x7f && e->ival != '\'' && e->ival != '\\')
			sb_printf(sb, "'%c'", (int)e->ival);
		else
			sb_printf(sb, "%llu", (unsigned long long)e->ival);
		break;
	case E_BOOL:
		sb_puts(sb, e->ival ? "true" : "false");
		break;
	case E_NULL:
		sb_puts(sb, "NULL");
		break;
	case E_IDENT:
		if (e->ref == REF_LOCAL)
			sb_puts(sb, cg_local_name(e->local));
		else if ((e->ref == REF_GLOBAL || e->ref == REF_FUNC) && e->decl)
			sb_puts(sb, cg_global_name(g, e->decl));
		else if (e->ref == REF_ENUMCONST && e->decl && e->decl->from_btf)
			sb_printf(sb, "%lld", e->enum_value);
		else
			sb_puts(sb, e->str);
		break;
	case E_BINARY: {
		int p = binop_prec(e->op);

		/* gcc wants && inside || parenthesized. */
		sub_expr(g, sb, e->lhs, e->op == OP_OR && e->lhs->kind == E_BINARY &&
			 e->lhs->op == OP_AND ? 17 : p);
		sb_printf(sb, " %s ", binop_text[e->op]);
		sub_expr(g, sb, e->rhs, e->op == OP_OR && e->rhs->kind == E_BINARY &&
			 e->rhs->op == OP_AND ? 17 : p + 1);
		break;
	}
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
		call_args(g, sb, e->args);
		break;
	case E_STRUCTLIT:
		sb_printf(sb, "(%s){ ", cg_type(g, e->type));
		for (struct field_init *f = e->fields; f; f = f->next) {
			sb_printf(sb, ".%s = ", f->name);
			cg_expr(g, sb, f->value);
			sb_puts(sb, f->next ? ", " : " ");
		}
		sb_putc(sb, '}');
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
		sb_puts(sb, "{ ");
		for (struct expr *a = e->args; a; a = a->next) {
			cg_expr(g, sb, a);
			if (a->next)
				sb_puts(sb, ", ");
		}
		sb_puts(sb, " }");
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

			if (is_str(t)) {
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

/* ---- locals ---- */

const char *cg_local_name(struct stmt *decl)
{
	return decl->cname ? decl->cname : decl->name;
}

static bool name_taken(struct cgen *g, const char *name)
{
	for (int i = 0; i < g->hoisted.n; i++)
		if (!strcmp(cg_local_name(g->hoisted.v[i]), name))
			return true;
	for (struct param *p = g->fn->params; p; p = p->next)
		if (!strcmp(p->name, name))
			return true;
	return false;
}

static void hoist(struct cgen *g, struct stmt *s)
{
	/* `var short`, `var errno`, `var bpf_map_update_elem` are valid .ks locals. */
	const char *base = names_local(g->prog, g->a, s->name), *name = base;

	for (int n = 1; name_taken(g, name); n++)
		name = arena_printf(g->a, "%s_%d", base, n);
	s->cname = name;
	ptrvec_push(g->a, &g->hoisted, s);
}

static void collect_expr(struct cgen *g, struct expr *e);

static void collect_stmts(struct cgen *g, struct stmt *s)
{
	for (; s; s = s->next) {
		switch (s->kind) {
		case S_VAR:
		case S_IFVAR:
		case S_FOR:
			hoist(g, s);
			break;
		case S_TRY:
			g->uses_err = true;
			break;
		case S_DEFER:
			ptrvec_push(g->a, &g->defers, s);
			g->uses_out = true;
			break;
		default:
			break;
		}
		if (s->value)
			collect_expr(g, s->value);
		collect_stmts(g, s->then);
		collect_stmts(g, s->els);
		collect_stmts(g, s->body);
		for (struct catch_clause *c = s->catches; c; c = c->next)
			collect_stmts(g, c->body);
	}
}

/* Block arms of a match inside an expression declare locals too. */
static void collect_expr(struct cgen *g, struct expr *e)
{
	if (!e)
		return;
	if (e->kind == E_MATCH)
		for (struct match_arm *a = e->arms; a; a = a->next) {
			collect_stmts(g, a->body);
			collect_expr(g, a->value);
		}
	collect_expr(g, e->lhs);
	collect_expr(g, e->rhs);
	for (struct expr *a = e->args; a; a = a->next)
		collect_expr(g, a);
	for (struct field_init *f = e->fields; f; f = f->next)
		collect_expr(g, f->value);
}

/* ---- statements ---- */

static void line_directive(struct cgen *g, struct ks_loc loc)
{
	if (g->h->line_directives && loc.src)
		sb_printf(g->out, "#line %d \"%s\"\n", loc.line, g->prog->path);
}

void cg_line_map(struct cgen *g, struct ks_loc loc)
{
	line_directive(g, loc);
}

#define LINE_RESET "#line 1 \"@ksc-generated@\"\n"

void cg_line_reset(struct cgen *g)
{
	if (g->h->line_directives)
		sb_puts(g->out, LINE_RESET);
}

void cg_fix_line_resets(struct strbuf *out, const char *file)
{
	struct strbuf fixed;
	const char *p = out->buf ? out->buf : "";
	size_t n = strlen(LINE_RESET);
	int line = 1;

	sb_init(&fixed);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (len == n && !memcmp(p, LINE_RESET, n))
			sb_printf(&fixed, "#line %d \"%s\"\n", line + 1, file);
		else
			sb_putn(&fixed, p, len);
		p += len;
		line++;
	}
	sb_free(out);
	*out = fixed;
}

/*
 * Whether a local (var) or, with var NULL, parameter `param` is ever read:
 * an assignment's target alone is no read.
 */
static bool reads_expr(const struct expr *e, const struct stmt *var, int param);

static bool reads_stmts(const struct stmt *s, const struct stmt *var, int param)
{
	for (; s; s = s->next) {
		if (s->kind == S_ASSIGN && s->lhs->kind == E_IDENT && s->op < 0) {
			if (reads_expr(s->value, var, param))
				return true;
		} else if (reads_expr(s->lhs, var, param) || reads_expr(s->value, var, param)) {
			return true;
		}
		if (reads_expr(s->key, var, param) || reads_stmts(s->then, var, param) ||
		    reads_stmts(s->els, var, param) || reads_stmts(s->body, var, param))
			return true;
		for (const struct catch_clause *c = s->catches; c; c = c->next)
			if (reads_stmts(c->body, var, param))
				return true;
	}
	return false;
}

static bool reads_expr(const struct expr *e, const struct stmt *var, int param)
{
	if (!e)
		return false;
	if (e->kind == E_IDENT && e->ref == REF_LOCAL &&
	    (var ? e->local == var : !e->local && e->param_index == param))
		return true;
	if (reads_expr(e->lhs, var, param) || reads_expr(e->rhs, var, param))
		return true;
	for (const struct expr *a = e->args; a; a = a->next)
		if (reads_expr(a, var, param))
			return true;
	for (const struct field_init *f = e->fields; f; f = f->next)
		if (reads_expr(f->value, var, param))
			return true;
	for (const struct match_arm *m = e->arms; m; m = m->next)
		if (reads_expr(m->value, var, param) || reads_stmts(m->body, var, param))
			return true;
	return false;
}

bool cg_reads_local(const struct stmt *body, const struct stmt *var)
{
	return reads_stmts(body, var, -1);
}

bool cg_reads_param(const struct stmt *body, int index)
{
	return reads_stmts(body, NULL, index);
}

static const char *mem_prefix(const struct cgen *g)
{
	return g->h->builtin_mem ? "__builtin_" : "";
}

/* Zero value assignment for any type. */
static void emit_zero(struct cgen *g, const char *dst, struct type *t)
{
	struct type *u = type_unalias(t);

	if (u->kind == TY_ARRAY || u->kind == TY_STR || u->kind == TY_STRUCT)
		cg_line(g, "%smemset(&%s, 0, sizeof(%s));", mem_prefix(g), dst, dst);
	else if (u->kind == TY_PTR)
		cg_line(g, "%s = NULL;", dst);
	else if (u->kind == TY_BOOL)
		cg_line(g, "%s = false;", dst);
	else
		cg_line(g, "%s = 0;", dst);
}

/* dst = value, for any type and value form. */
static void emit_store(struct cgen *g, const char *dst, struct type *t, struct expr *v)
{
	struct type *u = type_unalias(t);

	if (v->kind == E_MATCH) {
		struct cg_sink sink = { SINK_ASSIGN, dst, t };

		emit_match(g, v, sink);
		return;
	}
	if (u->kind == TY_STR) {
		g->h->str_assign(g, dst, t, v);
		return;
	}
	if (u->kind == TY_ARRAY && v->kind == E_ARRAY) {
		int i = 0;
		long long c;

		if (v->args && !v->args->next && u->count > 1 &&
		    !(const_eval(v->args, &c) && c == 0)) {
			/* [x]: every element is x */
			const char *idx = tmp_name(g, "i");

			cg_line(g, "for (int %s = 0; %s < %lld; %s++)", idx, idx, u->count, idx);
			g->indent++;
			cg_line(g, "%s[%s] = %s;", dst, idx, cg_expr_str(g, v->args));
			g->indent--;
			return;
		}
		cg_line(g, "%smemset(%s, 0, sizeof(%s));", mem_prefix(g), dst, dst);
		for (struct expr *a = v->args; a; a = a->next, i++)
			if (!(const_eval(a, &c) && c == 0 && !a->next && i == 0))
				cg_line(g, "%s[%d] = %s;", dst, i, cg_expr_str(g, a));
		return;
	}
	if (u->kind == TY_ARRAY) {
		cg_line(g, "%smemcpy(%s, %s, sizeof(%s));", mem_prefix(g), dst, cg_expr_str(g, v), dst);
		return;
	}
	cg_line(g, "%s = %s;", dst, cg_expr_str(g, v));
}

/* Function exit: through the label when defers must run. */
static void emit_return(struct cgen *g, struct expr *v)
{
	if (g->uses_out) {
		if (v)
			emit_store(g, "ret", g->fn->ret, v);
		cg_line(g, "goto out;");
		return;
	}
	if (v && g->h->return_value && g->h->return_value(g, v))
		return;
	if (g->h->before_return)
		g->h->before_return(g);
	if (v)
		cg_line(g, "return %s;", cg_expr_str(g, v));
	else if (g->fn->ret_name)
		cg_line(g, "return %s;", g->fn->ret_name);
	else
		cg_line(g, "return;");
}

static void sink_value(struct cgen *g, struct expr *v, struct cg_sink sink)
{
	switch (sink.kind) {
	case SINK_DISCARD:
		/* A value computed for nothing (`1 + 2`): said so, or -Wunused-value fails the build. */
		if (v->kind == E_MATCH)
			emit_match(g, v, sink);
		else if (v->kind == E_CALL)
			cg_line(g, "%s;", cg_expr_str(g, v));
		else
			cg_line(g, "(void)(%s);", cg_expr_str(g, v));
		break;
	case SINK_RETURN:
		if (v->kind == E_MATCH)
			emit_match(g, v, sink);
		else
			emit_return(g, v);
		break;
	case SINK_ASSIGN:
		emit_store(g, sink.target, sink.type, v);
		break;
	}
}

static struct stmt *last_of(struct stmt *s)
{
	while (s && s->next)
		s = s->next;
	return s;
}

static void emit_block_value(struct cgen *g, struct stmt *body, struct cg_sink sink);

/* The tail of a valued block: an expression, or an if/else of valued blocks. */
static void emit_tail(struct cgen *g, struct stmt *last, struct cg_sink sink)
{
	if (last->kind == S_EXPR) {
		sink_value(g, last->value, sink);
	} else if (last->kind == S_IF && last->els) {
		cg_line(g, "if (%s) {", cg_expr_str(g, last->value));
		g->indent++;
		emit_block_value(g, last->then, sink);
		g->indent--;
		cg_line(g, "} else {");
		g->indent++;
		emit_block_value(g, last->els, sink);
		g->indent--;
		cg_line(g, "}");
	} else {
		emit_stmt(g, last);
	}
}

static void emit_block_value(struct cgen *g, struct stmt *body, struct cg_sink sink)
{
	struct stmt *last = last_of(body);

	for (struct stmt *s = body; s && s != last; s = s->next)
		emit_stmt(g, s);
	if (last)
		emit_tail(g, last, sink);
}

static bool pattern_is_default(const struct match_arm *a)
{
	return a->pat == PAT_DEFAULT;
}

/* The C condition for one pattern against the scrutinee `v`. */
static const char *pattern_cond(struct cgen *g, const char *v, struct expr *m,
				struct match_arm *arm)
{
	struct token *t = arm->pat_tok;

	switch (arm->pat) {
	case PAT_INT:
		return arena_printf(g->a, "%s == %s%llu", v, arm->pat_neg ? "-" : "",
				    (unsigned long long)t->ival);
	case PAT_CHAR:
		return arena_printf(g->a, "%s == %llu", v, (unsigned long long)t->ival);
	case PAT_BOOL:
		return arena_printf(g->a, "%s == %s", v, t->kind == TK_TRUE ? "true" : "false");
	case PAT_STR: {
		struct strbuf sb;
		char *s;
		const char *r;

		sb_init(&sb);
		sb_printf(&sb, "!strcmp(%s, ", v);
		cg_string_lit(&sb, t->text, t->text_len);
		sb_putc(&sb, ')');
		s = sb_detach(&sb);
		r = arena_strdup(g->a, s);
		free(s);
		return r;
	}
	case PAT_IDENT: {
		struct type *st = type_unalias(m->lhs->type);

		/* Constants of the scrutinee's own enum first, as the checker resolved them. */
		if (st->kind == TY_ENUM && st->decl->from_btf)
			for (struct enum_const *ec = st->decl->consts; ec; ec = ec->next)
				if (!strcmp(ec->name, t->text))
					return arena_printf(g->a, "%s == %lld", v, ec->value);
		return arena_printf(g->a, "%s == %s", v, t->text);
	}
	case PAT_DEFAULT:
		break;
	}
	return "1";
}

static void emit_match(struct cgen *g, struct expr *e, struct cg_sink sink)
{
	const char *v;
	bool first = true, has_default = false;
	struct type *st = type_unalias(e->lhs->type);

	if (e->lhs->kind == E_IDENT) {
		v = cg_expr_str(g, e->lhs);
	} else if (st->kind == TY_STR) {
		v = cg_expr_str(g, e->lhs);
	} else {
		v = tmp_name(g, "key");
		cg_line(g, "%s = %s;", cg_decl(g, e->lhs->type, v), cg_expr_str(g, e->lhs));
	}
	for (struct match_arm *a = e->arms; a; a = a->next) {
		if (pattern_is_default(a)) {
			has_default = true;
			if (first)
				cg_line(g, "{");
			else
				cg_line(g, "} else {");
		} else {
			cg_line(g, "%sif (%s) {", first ? "" : "} else ", pattern_cond(g, v, e, a));
		}
		first = false;
		g->indent++;
		if (a->is_block)
			emit_block_value(g, a->body, sink);
		else
			sink_value(g, a->value, sink);
		g->indent--;
	}
	if (!has_default && sink.kind != SINK_DISCARD) {
		/* No arm matched: the value is zero, never indeterminate. */
		cg_line(g, "} else {");
		g->indent++;
		if (sink.kind == SINK_ASSIGN)
			emit_zero(g, sink.target, sink.type);
		else
			emit_return(g, &(struct expr){ .kind = E_INT });
		g->indent--;
	}
	cg_line(g, "}");
}

/* A block's statements emitted one level deeper, into their own buffer. */
static char *block_text(struct cgen *g, struct stmt *body)
{
	struct strbuf *saved = g->out, sb;

	sb_init(&sb);
	g->out = &sb;
	g->indent++;
	emit_stmts(g, body);
	g->indent--;
	g->out = saved;
	return sb_detach(&sb);
}

/* Kernel style: no braces around a body that is one simple line. */
static bool one_line(const char *text)
{
	const char *nl = strchr(text, '\n');

	return nl && !nl[1] && !strchr(text, ':') && text[0] == '\t' &&
	       !strstr(text, "#line");
}

static void put_block(struct cgen *g, const char *text)
{
	sb_puts(g->out, text);
}

/* if / else if / else, braces on every branch or on none (checkpatch's rule). */
static void emit_if_chain(struct cgen *g, struct stmt *s)
{
	struct ptrvec conds = { 0 }, bodies = { 0 };
	bool braces = false;
	struct stmt *cur = s;

	for (;;) {
		ptrvec_push(g->a, &conds, (void *)cg_expr_str(g, cur->value));
		ptrvec_push(g->a, &bodies, block_text(g, cur->then));
		if (cur->els && cur->els->kind == S_IF && !cur->els->next) {
			cur = cur->els;
			continue;
		}
		if (cur->els) {
			ptrvec_push(g->a, &conds, NULL);
			ptrvec_push(g->a, &bodies, block_text(g, cur->els));
		}
		break;
	}
	for (int i = 0; i < bodies.n; i++)
		braces |= !one_line(bodies.v[i]);
	for (int i = 0; i < bodies.n; i++) {
		const char *cond = conds.v[i];

		if (i == 0)
			cg_line(g, "if (%s)%s", cond, braces ? " {" : "");
		else if (cond)
			cg_line(g, "%selse if (%s)%s", braces ? "} " : "", cond, braces ? " {" : "");
		else
			cg_line(g, "%selse%s", braces ? "} " : "", braces ? " {" : "");
		put_block(g, bodies.v[i]);
		free(bodies.v[i]);
	}
	if (braces)
		cg_line(g, "}");
}

/* A loop header followed by its body, braces only when needed. */
static void emit_loop(struct cgen *g, const char *head, struct stmt *body)
{
	char *text = block_text(g, body);

	if (one_line(text)) {
		cg_line(g, "%s", head);
		put_block(g, text);
	} else {
		cg_line(g, "%s {", head);
		put_block(g, text);
		cg_line(g, "}");
	}
	free(text);
}

static void emit_for(struct cgen *g, struct stmt *s)
{
	const char *i = cg_local_name(s);
	const char *hi = cg_expr_str(g, s->key);
	long long c;

	/* The upper bound is evaluated once and is exclusive, on every target. */
	if (!const_eval(s->key, &c) && s->key->kind != E_IDENT) {
		const char *end = tmp_name(g, "end");

		cg_line(g, "%s = %s;", cg_decl(g, s->var_type, end), hi);
		hi = end;
	}
	emit_loop(g, arena_printf(g->a, "for (%s = %s; %s < %s; %s++)", i, cg_expr_str(g, s->lhs),
				  i, hi, i), s->body);
}

/* A code no try of this function catches: the backend's rule, or the function returns it. */
static void uncaught(struct cgen *g)
{
	if (g->h->uncaught) {
		g->h->uncaught(g);
		return;
	}
	emit_return(g, g->fn->ret && !type_is_void(g->fn->ret) ?
		    &(struct expr){ .kind = E_IDENT, .str = "err", .type = g->fn->ret } : NULL);
}

static void emit_try(struct cgen *g, struct stmt *s)
{
	int id = ++g->ntry;
	bool has_wild = false, first = true;

	if (g->try_depth == 0)
		g->try_stack = arena_alloc(g->a, sizeof(int) * 64);
	if (g->try_depth < 64)
		g->try_stack[g->try_depth] = id;
	g->try_depth++;
	cg_line(g, "err = 0;");
	emit_stmts(g, s->body);
	g->try_depth--;
	cg_line(g, "goto try%d_end;", id);
	sb_printf(g->out, "catch%d:\n", id);
	for (struct catch_clause *c = s->catches; c; c = c->next) {
		if (c->wildcard) {
			cg_line(g, first ? "{" : "} else {");
			has_wild = true;
		} else {
			cg_line(g, "%sif (err == %lld) {", first ? "" : "} else ", c->code);
		}
		first = false;
		g->indent++;
		emit_stmts(g, c->body);
		g->indent--;
	}
	if (!has_wild) {
		/* An uncaught code goes to the enclosing try, or ends the function. */
		cg_line(g, "} else {");
		g->indent++;
		if (g->try_depth > 0)
			cg_line(g, "goto catch%d;", g->try_stack[g->try_depth - 1]);
		else
			uncaught(g);
		g->indent--;
	}
	cg_line(g, "}");
	sb_printf(g->out, "try%d_end:\n", id);
	cg_line(g, ";");
}

static void emit_stmt(struct cgen *g, struct stmt *s)
{
	line_directive(g, s->loc);
	if (g->h->stmt && g->h->stmt(g, s))
		return;
	switch (s->kind) {
	case S_VAR:
		if (s->value)
			emit_store(g, cg_local_name(s), s->var_type, s->value);
		else
			emit_zero(g, cg_local_name(s), s->var_type);
		break;
	case S_ASSIGN: {
		const char *lhs = cg_expr_str(g, s->lhs);

		if (s->op < 0)
			emit_store(g, lhs, s->lhs->type, s->value);
		else if (is_str(s->lhs->type))
			g->h->str_assign(g, lhs, s->lhs->type,
					 &(struct expr){ .kind = E_BINARY, .op = OP_ADD, .lhs = s->lhs,
							 .rhs = s->value, .type = s->lhs->type });
		else
			cg_line(g, "%s %s= %s;", lhs, binop_text[s->op], cg_expr_str(g, s->value));
		break;
	}
	case S_EXPR:
		sink_value(g, s->value, (struct cg_sink){ SINK_DISCARD, NULL, NULL });
		break;
	case S_RETURN:
		if (s->value)
			sink_value(g, s->value, (struct cg_sink){ SINK_RETURN, NULL, NULL });
		else
			emit_return(g, NULL);
		break;
	case S_IF:
		emit_if_chain(g, s);
		break;
	case S_IFVAR:
		cg_line(g, "%s = %s;", cg_local_name(s), cg_expr_str(g, s->value));
		cg_line(g, "if (%s) {", cg_local_name(s));
		g->indent++;
		emit_stmts(g, s->then);
		g->indent--;
		if (s->els) {
			cg_line(g, "} else {");
			g->indent++;
			emit_stmts(g, s->els);
			g->indent--;
		}
		cg_line(g, "}");
		break;
	case S_WHILE:
		emit_loop(g, arena_printf(g->a, "while (%s)", cg_expr_str(g, s->value)), s->body);
		break;
	case S_FOR:
		emit_for(g, s);
		break;
	case S_DELETE:
		g->h->delete_ptr(g, s);
		break;
	case S_BREAK:
		cg_line(g, "break;");
		break;
	case S_CONTINUE:
		cg_line(g, "continue;");
		break;
	case S_TRY:
		emit_try(g, s);
		break;
	case S_THROW:
		cg_line(g, "err = %s;", cg_expr_str(g, s->value));
		if (g->try_depth > 0)
			cg_line(g, "goto catch%d;", g->try_stack[g->try_depth - 1]);
		else
			uncaught(g);
		break;
	case S_DEFER:
		for (int i = 0; i < g->defers.n; i++)
			if (g->defers.v[i] == s)
				cg_line(g, "defer%d = true;", i + 1);
		break;
	}
}

static void emit_stmts(struct cgen *g, struct stmt *s)
{
	for (; s; s = s->next)
		emit_stmt(g, s);
}

void cg_emit_stmts(struct cgen *g, struct stmt *s)
{
	emit_stmts(g, s);
}

void cg_function_body(struct cgen *g, struct decl *fn)
{
	g->fn = fn;
	g->ntmp = g->ndefer = g->ntry = g->try_depth = 0;
	g->uses_err = g->uses_out = false;
	g->hoisted = (struct ptrvec){ 0 };
	g->defers = (struct ptrvec){ 0 };
	collect_stmts(g, fn->body);
	cg_line(g, "{");
	g->indent++;
	if (fn->ret_name)
		cg_line(g, "%s;", cg_decl(g, fn->ret, fn->ret_name));
	if (g->uses_out && fn->ret && !type_is_void(fn->ret) && !fn->ret_name) {
		/* The backend may want it initialized: an exception can leave before it is set. */
		struct stmt ret = { .kind = S_FOR, .name = "ret", .var_type = fn->ret };
		const char *init = g->h->decl_init ? g->h->decl_init(g, &ret) : NULL;

		cg_line(g, "%s%s;", cg_decl(g, fn->ret, "ret"), init ? init : "");
	}
	for (int i = 0; i < g->hoisted.n; i++) {
		struct stmt *s = g->hoisted.v[i];
		const char *init = g->h->decl_init ? g->h->decl_init(g, s) : NULL;

		/* The .ks source may keep a value it never reads; C would warn. */
		const char *unused = (s->kind == S_VAR || s->kind == S_IFVAR) &&
						     !cg_reads_local(fn->body, s) ?
					     (g->h->maybe_unused ? g->h->maybe_unused :
								   " __attribute__((unused))") :
					     "";

		cg_line(g, "%s%s%s%s;", s->addr_returned ? "static " : "",
			cg_decl(g, s->var_type, cg_local_name(s)), unused, init ? init : "");
		if (g->h->extra_decls)
			g->h->extra_decls(g, s);
	}
	for (int i = 0; i < g->defers.n; i++)
		cg_line(g, "bool defer%d = false;", i + 1);
	if (g->uses_err)
		cg_line(g, "int err = 0;");
	if (g->hoisted.n || g->defers.n || g->uses_err || fn->ret_name ||
	    (g->uses_out && fn->ret && !type_is_void(fn->ret)))
		cg_blank(g);
	if (fn->ret_name)
		emit_zero(g, fn->ret_name, fn->ret);
	emit_stmts(g, fn->body);
	if (g->uses_out) {
		sb_puts(g->out, "out:\n");
		for (int i = g->defers.n - 1; i >= 0; i--) {
			struct stmt *d = g->defers.v[i];

			cg_line(g, "if (defer%d)", i + 1);
			g->indent++;
			cg_line(g, "%s;", cg_expr_str(g, d->value));
			g->indent--;
		}
		if (g->h->before_return)
			g->h->before_return(g);
		if (fn->ret_name)
			cg_line(g, "return %s;", fn->ret_name);
		else if (fn->ret && !type_is_void(fn->ret))
			cg_line(g, "return ret;");
	} else if (fn->ret_name) {
		cg_line(g, "return %s;", fn->ret_name);
	}
	g->indent--;
	cg_line(g, "}");
}
