/* The C emitter's statements (cgen.c): locals hoisting, statements, match and try lowering. */
#include "cgen.h"
#include "cgen_internal.h"

#include <stdlib.h>
#include <string.h>

#include "lexer.h"
#include "names.h"
#include "types.h"

static void emit_stmts(struct cgen *g, struct stmt *s);
static void emit_stmt(struct cgen *g, struct stmt *s);

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

/* Whether a line is a declaration without initializer: a ";" line with no value or jump. */
static bool bare_declaration(const char *p, size_t len)
{
	static const char *const jumps[] = { "goto", "return", "break", "continue" };

	if (p[len - 1] != ';')
		return false;
	for (size_t i = 0; i < len; i++)
		if (strchr("=(+-", p[i]))
			return false;
	for (size_t i = 0; i < sizeof(jumps) / sizeof(jumps[0]); i++)
		if (!strncmp(p, jumps[i], strlen(jumps[i])))
			return false;
	return true;
}

/*
 * Whether a line of generated C has no code of its own (blank, a brace, an
 * else, a label, a bare declaration), so the line number C gives it does
 * not matter.  A closing brace in column 0 ends a function: clang puts the
 * shared exit there.
 */
static bool codeless(const char *p, size_t len)
{
	static const char *const forms[] = { "{", "}", "} else {", "else", "};" };

	if (len && p[len - 1] == '\n')
		len--;
	if (len == 1 && p[0] == '}')
		return false;
	while (len && (*p == '\t' || *p == ' '))
		p++, len--;
	if (!len || (p[len - 1] == ':' && !memchr(p, ' ', len)) || bare_declaration(p, len))
		return true;
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
		if (len == strlen(forms[i]) && !memcmp(p, forms[i], len))
			return true;
	return false;
}

/*
 * The finished file: a reset names the generated file's own next line, and
 * the .ks line of a directive holds for every line of code up to the next
 * one.  One .ks statement often becomes several lines of C (a map update
 * with its fallback, a loop's bounds check); without the repeat C would
 * number them N+1, N+2... and the BTF line info of their instructions (what
 * the verifier reports) would name the .ks lines below the statement.
 */
void cg_fix_line_resets(struct strbuf *out, const char *file)
{
	struct strbuf fixed;
	const char *p = out->buf ? out->buf : "", *held = NULL;
	size_t n = strlen(LINE_RESET), held_len = 0;
	int line = 1, since = 0;
	bool continued = false;

	sb_init(&fixed);
	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) + 1 : strlen(p);

		if (len == n && !memcmp(p, LINE_RESET, n)) {
			sb_printf(&fixed, "#line %d \"%s\"\n", line + 1, file);
			held = NULL;
		} else if (!strncmp(p, "#line ", 6)) {
			held = p, held_len = len, since = 0;
			sb_putn(&fixed, p, len);
		} else {
			if (held && since++ && !continued && !codeless(p, len)) {
				sb_putn(&fixed, held, held_len);
				line++;
			}
			sb_putn(&fixed, p, len);
		}
		continued = len > 1 && p[len - 2] == '\\';
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

		cg_emit_match(g, v, sink);
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
			const char *idx = cg_tmp_name(g, "i");

			cg_line(g, "for (int %s = 0; %s < %lld; %s++)", idx, idx, u->count, idx);
			g->indent++;
			cg_line(g, "%s[%s] = %s;", dst, idx, cg_expr_str(g, v->args));
			g->indent--;
			return;
		}
		cg_line(g, "%smemset(%s, 0, sizeof(%s));", mem_prefix(g), dst, dst);
		for (struct expr *a = v->args; a; a = a->next, i++) {
			if (const_eval(a, &c) && c == 0 && !a->next && i == 0)
				continue;
			/* A row of a nested literal is stored element by element too: C has no array assignment. */
			if (a->kind == E_ARRAY)
				emit_store(g, arena_printf(g->a, "%s[%d]", dst, i), u->base, a);
			else
				cg_line(g, "%s[%d] = %s;", dst, i, cg_expr_str(g, a));
		}
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
			cg_emit_match(g, v, sink);
		else if (v->kind == E_CALL)
			cg_line(g, "%s;", cg_expr_str(g, v));
		else
			cg_line(g, "(void)(%s);", cg_expr_str(g, v));
		break;
	case SINK_RETURN:
		if (v->kind == E_MATCH)
			cg_emit_match(g, v, sink);
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

void cg_emit_match(struct cgen *g, struct expr *e, struct cg_sink sink)
{
	const char *v;
	bool first = true, has_default = false;
	struct type *st = type_unalias(e->lhs->type);

	if (e->lhs->kind == E_IDENT) {
		v = cg_expr_str(g, e->lhs);
	} else if (st->kind == TY_STR) {
		v = cg_expr_str(g, e->lhs);
	} else {
		v = cg_tmp_name(g, "key");
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
			line_directive(g, a->loc);
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
	struct ptrvec conds = { 0 }, bodies = { 0 }, ifs = { 0 };
	bool braces = false;
	struct stmt *cur = s;

	for (;;) {
		ptrvec_push(g->a, &ifs, cur);
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
		else if (cond && braces) {
			/* An else-if's test is its own line's; a directive may not sit inside "} else". */
			line_directive(g, ((struct stmt *)ifs.v[i])->loc);
			cg_line(g, "} else if (%s) {", cond);
		} else if (cond) {
			line_directive(g, ((struct stmt *)ifs.v[i])->loc);
			cg_line(g, "else if (%s)", cond);
		}
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
		const char *end = cg_tmp_name(g, "end");

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

/* x = v, x op= v. */
static void emit_assign(struct cgen *g, struct stmt *s)
{
	const char *lhs = cg_expr_str(g, s->lhs);

	if (s->op < 0)
		emit_store(g, lhs, s->lhs->type, s->value);
	else if ((s->op == OP_DIV || s->op == OP_MOD) && s->lhs->kind == E_IDENT)
		/* x = x / y: a backend's expression hook sees the division (eBPF's signed one). */
		emit_store(g, lhs, s->lhs->type,
			   &(struct expr){ .kind = E_BINARY, .op = s->op, .lhs = s->lhs,
					   .rhs = s->value, .type = s->lhs->type, .loc = s->loc });
	else if (cg_is_str(s->lhs->type))
		g->h->str_assign(g, lhs, s->lhs->type,
				 &(struct expr){ .kind = E_BINARY, .op = OP_ADD, .lhs = s->lhs,
						 .rhs = s->value, .type = s->lhs->type });
	else
		cg_line(g, "%s %s= %s;", lhs, cg_binop_text[s->op], cg_expr_str(g, s->value));
}

/* if (var x = v): x is hoisted, the branch taken when it is non-zero. */
static void emit_ifvar(struct cgen *g, struct stmt *s)
{
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
	case S_ASSIGN:
		emit_assign(g, s);
		break;
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
		emit_ifvar(g, s);
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

			line_directive(g, d->loc);
			cg_line(g, "if (defer%d)", i + 1);
			g->indent++;
			cg_line(g, "%s;", cg_expr_str(g, d->value));
			g->indent--;
		}
		/* The common exit is the function's, not its last statement's. */
		line_directive(g, fn->name_loc);
		if (g->h->before_return)
			g->h->before_return(g);
		if (fn->ret_name)
			cg_line(g, "return %s;", fn->ret_name);
		else if (fn->ret && !type_is_void(fn->ret))
			cg_line(g, "return ret;");
	} else if (fn->ret_name) {
		line_directive(g, fn->name_loc);
		cg_line(g, "return %s;", fn->ret_name);
	}
	g->indent--;
	line_directive(g, fn->name_loc);
	cg_line(g, "}");
}
