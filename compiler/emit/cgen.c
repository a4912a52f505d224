/*
 * The C emitter shared by the three backends: entry points, output lines
 * and C types and declarations.  Expressions are in cgen_expr.c, locals
 * and statements in cgen_stmt.c.
 */
#include "cgen.h"
#include "cgen_internal.h"
#include "ebpf_abi.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

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

char *cg_tmp_name(struct cgen *g, const char *stem)
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
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
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
static void emit_type(struct cgen *g, struct decl *d, struct ptrmap *done);

static void emit_type_deps(struct cgen *g, struct type *t, struct ptrmap *done)
{
	t = type_unalias(t);
	if (t->kind == TY_ARRAY)
		emit_type_deps(g, t->base, done);
	else if ((t->kind == TY_STRUCT || t->kind == TY_ENUM) && !t->decl->from_header)
		emit_type(g, t->decl, done);
}

static void emit_type(struct cgen *g, struct decl *d, struct ptrmap *done)
{
	if (ptrmap_has(done, d))
		return;
	ptrmap_put(g->a, done, d, NULL);
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
	struct ptrmap done = { 0 }; /* the types emitted, each once */

	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if ((d->kind == D_STRUCT || d->kind == D_ENUM) && !d->from_header &&
		    (!g->h->want_type || g->h->want_type(g, d)))
			emit_type(g, d, &done);
}
