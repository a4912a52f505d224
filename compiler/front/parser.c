/*
 * Recursive-descent parser for KernelScript 0.1.1.
 *
 * The grammar is the one the reference parser accepts (no statement
 * terminators, attributes before declarations, match as an expression).
 * Where ksc is more permissive (assignment to any lvalue, `e as T`,
 * attribute identifier lists) it only accepts programs the reference
 * rejects, so no valid 0.1.1 program changes meaning.
 */
#include "parser_internal.h"

#include <stdlib.h>
#include <string.h>

/* Deeper nesting than this is not a program but an attack on our stack. */
#define MAX_DEPTH 200

/*
 * MAX_DEPTH bounds the parser's own recursion, but a chain of binary
 * operators, field accesses, calls, indexes or casts is parsed by a loop
 * and still builds a tree one level deeper per operator, which the checker,
 * constant folding and the backends recurse over.  So every declaration's
 * tree, statements and expressions alike, is at most this deep: five times
 * what the nesting limit lets through, far beyond any program written by
 * hand, and small enough for every recursive walk, even under ASan.
 */
#define MAX_TREE_DEPTH 1000

/* ---- token helpers ---- */

static const char *describe(const struct token *t)
{
	switch (t->kind) {
	case TK_EOF:
		return "end of file";
	case TK_IDENT:
		return "identifier";
	case TK_INT:
		return "integer literal";
	case TK_STRING:
		return "string literal";
	case TK_CHARLIT:
		return "character literal";
	default:
		return NULL;
	}
}

void error_expected(struct parser *p, const char *what)
{
	const char *d = describe(p->tok);

	if (p->dead)
		return;
	if (p->tok->kind == TK_IDENT)
		diag_error(p->d, p->tok->loc, "expected %s, found '%s'", what, p->tok->text);
	else if (d)
		diag_error(p->d, p->tok->loc, "expected %s, found %s", what, d);
	else
		diag_error(p->d, p->tok->loc, "expected %s, found '%s'", what, tok_name(p->tok->kind));
}

bool expect(struct parser *p, enum tok_kind k)
{
	char what[32];

	if (accept(p, k))
		return true;
	snprintf(what, sizeof(what), "'%s'", tok_name(k));
	error_expected(p, what);
	return false;
}

/* Expects a closing token; names the opener when it is on another line. */
bool expect_close(struct parser *p, enum tok_kind k, const struct token *open)
{
	if (accept(p, k))
		return true;
	if (p->dead)
		return false;
	if (open->loc.line != p->tok->loc.line) {
		char what[64];

		snprintf(what, sizeof(what), "'%s' to close '%s' at line %d", tok_name(k),
			 tok_name(open->kind), open->loc.line);
		error_expected(p, what);
	} else {
		char what[32];

		snprintf(what, sizeof(what), "'%s'", tok_name(k));
		error_expected(p, what);
	}
	return false;
}

const char *expect_ident(struct parser *p, const char *what)
{
	if (at(p, TK_IDENT))
		return advance(p)->text;
	error_expected(p, what);
	return NULL;
}

bool enter(struct parser *p)
{
	if (p->dead)
		return false;
	if (++p->depth > MAX_DEPTH) {
		diag_error(p->d, p->tok->loc, "nesting is too deep (more than %d levels)", MAX_DEPTH);
		p->dead = true;
		return false;
	}
	return true;
}

/* ---- types ---- */

static const struct {
	enum tok_kind tok;
	int size;
	bool is_signed;
} int_types[] = {
	{ TK_U8, 1, false }, { TK_U16, 2, false }, { TK_U32, 4, false }, { TK_U64, 8, false },
	{ TK_I8, 1, true }, { TK_I16, 2, true }, { TK_I32, 4, true }, { TK_I64, 8, true },
};

static bool is_map_kind(const char *s, enum map_kind *k)
{
	static const char *const names[MAP_KIND_COUNT] = {
		[MAP_HASH] = "hash", [MAP_ARRAY] = "array", [MAP_PERCPU_HASH] = "percpu_hash",
		[MAP_PERCPU_ARRAY] = "percpu_array", [MAP_LRU_HASH] = "lru_hash",
	};

	for (int i = 0; i < MAP_KIND_COUNT; i++) {
		if (!strcmp(s, names[i])) {
			*k = (enum map_kind)i;
			return true;
		}
	}
	return false;
}

static long long parse_size(struct parser *p, const char *what)
{
	struct token *t = p->tok;

	if (!expect(p, TK_INT))
		return 0;
	if (t->is_unsigned || t->ival > 0x7fffffffULL) {
		diag_error(p->d, t->loc, "%s is too large", what);
		return 0;
	}
	return (long long)t->ival;
}

/* generic = IDENT "<" type ["," type] ">" ["(" INT ")"] */
static struct type *parse_generic(struct parser *p, struct token *name)
{
	struct type *ty;
	enum map_kind mk = MAP_HASH;
	struct token *open;

	advance(p); /* < */
	if (!strcmp(name->text, "ringbuf")) {
		ty = type_new(p->a, TY_RINGBUF);
		ty->base = parse_type(p);
		expect(p, TK_GT);
		open = p->tok;
		if (expect(p, TK_LPAREN)) {
			ty->count = parse_size(p, "ring buffer size");
			expect_close(p, TK_RPAREN, open);
		}
	} else {
		if (!is_map_kind(name->text, &mk))
			diag_error(p->d, name->loc,
				   "unknown map type '%s' (expected hash, array, percpu_hash, percpu_array, lru_hash or ringbuf)",
				   name->text);
		ty = type_new(p->a, TY_MAP);
		ty->map = mk;
		ty->key = parse_type(p);
		expect(p, TK_COMMA);
		ty->base = parse_type(p);
		expect(p, TK_GT);
		open = p->tok;
		if (accept(p, TK_LPAREN)) {
			ty->count = parse_size(p, "map size");
			expect_close(p, TK_RPAREN, open);
		} else {
			ty->count = 1024;
			ty->map_default_size = true;
		}
	}
	ty->loc = span(name->loc, prev(p));
	return ty;
}

/* fntype = "fn" "(" [ [IDENT ":"] type { "," [IDENT ":"] type } ] ")" "->" type */
static struct type *parse_fn_type(struct parser *p)
{
	struct token *fn = advance(p), *open = p->tok;
	struct type *ty = type_new(p->a, TY_FUNC);
	struct ptrvec params = { 0 }, names = { 0 };

	expect(p, TK_LPAREN);
	while (!at(p, TK_RPAREN) && !at(p, TK_EOF) && !p->dead) {
		const char *name = NULL;

		/* Names are kept for the C the module backend writes (struct_ops members). */
		if (at(p, TK_IDENT) && peek(p, 1)->kind == TK_COLON) {
			name = p->tok->text;
			p->tok += 2;
		}
		ptrvec_push(p->a, &names, (void *)name);
		ptrvec_push(p->a, &params, parse_type(p));
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RPAREN, open);
	expect(p, TK_ARROW);
	ty->base = parse_type(p);
	ty->params = (struct type **)params.v;
	ty->param_names = (const char **)names.v;
	ty->nparams = params.n;
	ty->loc = span(fn->loc, prev(p));
	return ty;
}

/*
 * type = "*" type | prim ["[" INT "]"] | "str" "(" INT ")" | fntype
 *      | IDENT ["[" INT "]"] | generic
 */
struct type *parse_type(struct parser *p)
{
	struct token *t = p->tok;
	struct type *ty = NULL;

	if (!enter(p))
		return type_new(p->a, TY_ERROR);
	if (accept(p, TK_STAR)) {
		ty = type_ptr(p->a, parse_type(p));
		ty->loc = span(t->loc, prev(p));
		leave(p);
		return ty;
	}
	for (size_t i = 0; i < ARRAY_SIZE(int_types); i++)
		if (t->kind == int_types[i].tok)
			ty = type_int(p->a, int_types[i].size, int_types[i].is_signed);
	switch (t->kind) {
	case TK_BOOL:
		ty = type_new(p->a, TY_BOOL);
		break;
	case TK_CHAR:
		ty = type_new(p->a, TY_CHAR);
		break;
	case TK_VOID:
		ty = type_new(p->a, TY_VOID);
		break;
	case TK_STR: {
		struct token *open;

		advance(p);
		ty = type_new(p->a, TY_STR);
		open = p->tok;
		if (expect(p, TK_LPAREN)) {
			ty->count = parse_size(p, "string size");
			expect_close(p, TK_RPAREN, open);
		}
		ty->loc = span(t->loc, prev(p));
		leave(p);
		return ty;
	}
	case TK_FN:
		ty = parse_fn_type(p);
		leave(p);
		return ty;
	case TK_IDENT:
		if (peek(p, 1)->kind == TK_LT) {
			advance(p);
			ty = parse_generic(p, t);
			leave(p);
			return ty;
		}
		ty = type_new(p->a, TY_NAMED);
		ty->name = t->text;
		break;
	default:
		break;
	}
	if (!ty) {
		error_expected(p, "a type");
		leave(p);
		return type_new(p->a, TY_ERROR);
	}
	advance(p);
	ty->loc = t->loc;
	if (at(p, TK_LBRACKET) && peek(p, 1)->kind == TK_INT &&
	    peek(p, 2)->kind == TK_RBRACKET) {
		struct type *arr = type_new(p->a, TY_ARRAY);

		advance(p);
		arr->count = parse_size(p, "array size");
		advance(p);
		arr->base = ty;
		arr->loc = span(t->loc, prev(p));
		ty = arr;
	}
	leave(p);
	return ty;
}

/* ---- declarations ---- */

static struct decl *new_decl(struct parser *p, enum decl_kind k, struct ks_loc loc)
{
	struct decl *d = arena_alloc(p->a, sizeof(*d));

	d->kind = k;
	d->loc = loc;
	return d;
}

/* attr = "@" IDENT [ "(" ( STRING | flagitem { ("|" | ",") flagitem } ) ")" ] */
static struct attr *parse_attr(struct parser *p)
{
	struct token *at_tok = advance(p), *open;
	struct attr *a = arena_alloc(p->a, sizeof(*a));
	struct attr_arg head = { 0 }, *cur = &head;

	a->loc = at_tok->loc;
	if (!(a->name = expect_ident(p, "an attribute name")))
		return NULL;
	a->loc = span(at_tok->loc, prev(p));
	open = p->tok;
	if (!accept(p, TK_LPAREN))
		return a;
	a->has_parens = true;
	while (!at(p, TK_RPAREN) && !at(p, TK_EOF)) {
		struct attr_arg *arg = arena_alloc(p->a, sizeof(*arg));

		arg->loc = p->tok->loc;
		if (at(p, TK_STRING)) {
			arg->str = advance(p)->text;
		} else if (at(p, TK_IDENT)) {
			arg->name = advance(p)->text;
			if (at(p, TK_LPAREN)) {
				struct token *o2 = advance(p);

				if (at(p, TK_INT)) {
					arg->ival = (long long)(advance(p)->ival & 0x7fffffff);
					arg->has_ival = true;
				} else {
					error_expected(p, "an integer");
				}
				expect_close(p, TK_RPAREN, o2);
			}
		} else {
			error_expected(p, "an attribute argument");
			break;
		}
		arg->loc = span(arg->loc, prev(p));
		cur = cur->next = arg;
		if (!accept(p, TK_PIPE) && !accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RPAREN, open);
	a->args = head.next;
	return a;
}

/* params = [ IDENT ":" type { "," IDENT ":" type } ] */
static struct param *parse_params(struct parser *p, int *count)
{
	struct token *open = p->tok;
	struct param head = { 0 }, *cur = &head;

	*count = 0;
	if (!expect(p, TK_LPAREN))
		return NULL;
	while (!at(p, TK_RPAREN) && !at(p, TK_EOF) && !p->dead) {
		struct param *prm = arena_alloc(p->a, sizeof(*prm));

		prm->loc = p->tok->loc;
		if (!(prm->name = expect_ident(p, "a parameter name")))
			break;
		expect(p, TK_COLON);
		prm->ty = parse_type(p);
		cur = cur->next = prm;
		(*count)++;
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RPAREN, open);
	return head.next;
}

/* fn = "fn" IDENT params [ "->" [IDENT ":"] type ] block */
static struct decl *parse_fn(struct parser *p, struct attr *attrs)
{
	struct token *kw = advance(p);
	struct decl *d = new_decl(p, D_FUNC, kw->loc);

	d->attrs = attrs;
	d->name_loc = p->tok->loc;
	if (!(d->name = expect_ident(p, "a function name")))
		return NULL;
	d->params = parse_params(p, &d->nparams);
	if (accept(p, TK_ARROW)) {
		if (at(p, TK_IDENT) && peek(p, 1)->kind == TK_COLON) {
			d->ret_name = advance(p)->text;
			advance(p);
		}
		d->ret = parse_type(p);
	}
	d->body = parse_block(p);
	return d;
}

/* extern = "extern" IDENT params [ "->" type ] */
static struct decl *parse_extern(struct parser *p)
{
	struct token *kw = advance(p);
	struct decl *d = new_decl(p, D_EXTERN, kw->loc);

	d->name_loc = p->tok->loc;
	if (!(d->name = expect_ident(p, "a function name")))
		return NULL;
	d->params = parse_params(p, &d->nparams);
	if (accept(p, TK_ARROW))
		d->ret = parse_type(p);
	return d;
}

/* struct = "struct" IDENT "{" [ field ":" type { "," field ":" type } [","] ] "}" */
static struct decl *parse_struct(struct parser *p, struct attr *attrs)
{
	struct token *kw = advance(p), *open;
	struct decl *d = new_decl(p, D_STRUCT, kw->loc);
	struct struct_field head = { 0 }, *cur = &head;

	d->attrs = attrs;
	d->name_loc = p->tok->loc;
	if (!(d->name = expect_ident(p, "a struct name")))
		return NULL;
	open = p->tok;
	if (!expect(p, TK_LBRACE))
		return d;
	while (!at(p, TK_RBRACE) && !at(p, TK_EOF) && !p->dead) {
		struct struct_field *f = arena_alloc(p->a, sizeof(*f));

		f->loc = p->tok->loc;
		if (!(f->name = parse_field_name(p)))
			break;
		expect(p, TK_COLON);
		f->ty = parse_type(p);
		cur = cur->next = f;
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RBRACE, open);
	d->fields = head.next;
	return d;
}

/*
 * The value written for an enum constant, "-" folded in.  Kernel enums
 * may be 64-bit (sched_ext's are), so a value above INT64_MAX is kept as
 * its bits, as the BTF reader keeps enum64 values, and remembered: only
 * here is it known to be positive (wide_enum_errors).  A value below
 * -2^63 fits no enum at all.  The checker tells a program's enums, which
 * are 32-bit, from a header's.  A value out of range counts as 0.
 */
static void enum_value(struct parser *p, struct enum_const *c, bool neg, uint64_t mag)
{
	struct int_val v = { .mag = mag, .neg = neg && mag };

	c->has_value = true;
	if (!enum_value_fits(v, true)) {
		enum_value_error(p->d, c->loc, v, true, false);
		return;
	}
	c->value = (long long)(neg ? 0 - mag : mag);
	if (!neg && mag > INT64_MAX)
		ptrvec_push(p->a, &p->wide_enums, c);
}

/* Declarations only a program has: a header holds types, enums and externs. */
static bool has_code(const struct decl *d)
{
	for (; d; d = d->next)
		if (d->kind != D_STRUCT && d->kind != D_ENUM && d->kind != D_ALIAS &&
		    d->kind != D_EXTERN && d->kind != D_INCLUDE)
			return true;
	return false;
}

/*
 * In a program (a file with code), an enum constant written above
 * INT64_MAX is out of its 32 bits; the checker, seeing it held as a
 * negative long long, could not tell it from a negative one.
 */
static void wide_enum_errors(struct parser *p, const struct decl *decls)
{
	if (!has_code(decls))
		return;
	for (int i = 0; i < p->wide_enums.n; i++) {
		struct enum_const *c = p->wide_enums.v[i];

		enum_value_error(p->d, c->loc, (struct int_val){ .mag = (uint64_t)c->value }, false,
				 false);
		c->value = 0;
	}
}

/* enum = "enum" IDENT "{" [ IDENT ["=" ["-"] INT] { "," ... } [","] ] "}" */
static struct decl *parse_enum(struct parser *p)
{
	struct token *kw = advance(p), *open;
	struct decl *d = new_decl(p, D_ENUM, kw->loc);
	struct enum_const head = { 0 }, *cur = &head;

	d->name_loc = p->tok->loc;
	if (!(d->name = expect_ident(p, "an enum name")))
		return NULL;
	open = p->tok;
	if (!expect(p, TK_LBRACE))
		return d;
	while (!at(p, TK_RBRACE) && !at(p, TK_EOF)) {
		struct enum_const *c = arena_alloc(p->a, sizeof(*c));

		c->loc = p->tok->loc;
		if (!(c->name = expect_ident(p, "an enum constant")))
			break;
		if (accept(p, TK_ASSIGN)) {
			bool neg = accept(p, TK_MINUS);
			struct token *v = p->tok;

			if (expect(p, TK_INT))
				enum_value(p, c, neg, v->ival);
		}
		cur = cur->next = c;
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RBRACE, open);
	d->consts = head.next;
	return d;
}

/* config = "config" IDENT "{" [ IDENT ":" type ["=" expr] { "," ... } [","] ] "}" */
static struct decl *parse_config(struct parser *p)
{
	struct token *kw = advance(p), *open;
	struct decl *d = new_decl(p, D_CONFIG, kw->loc);
	struct config_field head = { 0 }, *cur = &head;

	d->name_loc = p->tok->loc;
	if (!(d->name = expect_ident(p, "a config name")))
		return NULL;
	open = p->tok;
	if (!expect(p, TK_LBRACE))
		return d;
	while (!at(p, TK_RBRACE) && !at(p, TK_EOF) && !p->dead) {
		struct config_field *f = arena_alloc(p->a, sizeof(*f));

		f->loc = p->tok->loc;
		if (!(f->name = expect_ident(p, "a config field name")))
			break;
		expect(p, TK_COLON);
		f->ty = parse_type(p);
		if (accept(p, TK_ASSIGN))
			f->value = parse_expr(p);
		cur = cur->next = f;
		if (!accept(p, TK_COMMA))
			break;
	}
	expect_close(p, TK_RBRACE, open);
	d->cfields = head.next;
	return d;
}

/*
 * global = ["pin"] ["local"] "var" IDENT [":" type] ["=" expr]
 * A global whose type is a map or ring buffer declares a map.
 */
static struct decl *parse_global(struct parser *p, struct attr *attrs)
{
	struct token *start = p->tok;
	struct decl *d = new_decl(p, D_GLOBAL, start->loc);

	d->attrs = attrs;
	d->is_pinned = accept(p, TK_PIN);
	d->is_local = accept(p, TK_LOCAL);
	if (!expect(p, TK_VAR))
		return NULL;
	d->name_loc = p->tok->loc;
	if (!(d->name = expect_ident(p, "a variable name")))
		return NULL;
	if (accept(p, TK_COLON))
		d->ty = parse_type(p);
	if (accept(p, TK_ASSIGN))
		d->init = parse_expr(p);
	else if (!d->ty)
		error_expected(p, "':' or '='");
	if (d->ty && (d->ty->kind == TY_MAP || d->ty->kind == TY_RINGBUF))
		d->kind = D_MAP;
	return d;
}

/* impl = attrs "impl" IDENT "{" { fn | IDENT ":" expr "," } "}" */
static struct decl *parse_impl(struct parser *p, struct attr *attrs)
{
	struct token *kw = advance(p), *open;
	struct decl *d = new_decl(p, D_IMPL, kw->loc);
	struct decl mhead = { 0 }, *mcur = &mhead;
	struct impl_field fhead = { 0 }, *fcur = &fhead;

	d->attrs = attrs;
	d->name_loc = p->tok->loc;
	if (!(d->name = expect_ident(p, "an impl block name")))
		return NULL;
	open = p->tok;
	if (!expect(p, TK_LBRACE))
		return d;
	while (!at(p, TK_RBRACE) && !at(p, TK_EOF) && !p->dead) {
		if (at(p, TK_FN)) {
			struct decl *m = parse_fn(p, NULL);

			if (!m)
				break;
			m->impl = d;
			mcur = mcur->next = m;
		} else if (at(p, TK_IDENT) && peek(p, 1)->kind == TK_COLON) {
			struct impl_field *f = arena_alloc(p->a, sizeof(*f));

			f->loc = p->tok->loc;
			f->name = advance(p)->text;
			advance(p);
			f->value = parse_expr(p);
			fcur = fcur->next = f;
			if (!at(p, TK_RBRACE))
				expect(p, TK_COMMA);
		} else {
			error_expected(p, "'fn' or 'field: value,' in impl block");
			break;
		}
	}
	expect_close(p, TK_RBRACE, open);
	d->methods = mhead.next;
	d->ifields = fhead.next;
	return d;
}

static bool starts_decl(enum tok_kind k)
{
	switch (k) {
	case TK_FN: case TK_EXTERN: case TK_INCLUDE: case TK_IMPORT: case TK_CONFIG:
	case TK_STRUCT: case TK_ENUM: case TK_TYPE: case TK_VAR: case TK_PIN:
	case TK_LOCAL: case TK_AT:
		return true;
	default:
		return false;
	}
}

static void sync_decl(struct parser *p, struct token *err_at)
{
	int depth = 0;

	while (!at(p, TK_EOF)) {
		if (p->tok != err_at && depth <= 0 && p->tok->nl_before && starts_decl(p->tok->kind))
			return;
		if (at(p, TK_LBRACE))
			depth++;
		else if (at(p, TK_RBRACE))
			depth--;
		advance(p);
	}
}

static struct decl *parse_decl(struct parser *p)
{
	struct token *t = p->tok;
	struct attr head = { 0 }, *cur = &head;
	struct decl *d;

	while (at(p, TK_AT)) {
		struct attr *a = parse_attr(p);

		if (!a)
			return NULL;
		cur = cur->next = a;
	}
	switch (p->tok->kind) {
	case TK_FN:
		return parse_fn(p, head.next);
	case TK_STRUCT:
		return parse_struct(p, head.next);
	case TK_IMPL:
		return parse_impl(p, head.next);
	case TK_VAR:
	case TK_PIN:
	case TK_LOCAL:
		return parse_global(p, head.next);
	default:
		break;
	}
	if (head.next) {
		error_expected(p, "'fn', 'struct', 'impl' or 'var' after attributes");
		return NULL;
	}
	switch (t->kind) {
	case TK_INCLUDE:
	case TK_IMPORT:
		advance(p);
		d = new_decl(p, t->kind == TK_INCLUDE ? D_INCLUDE : D_IMPORT, t->loc);
		if (t->kind == TK_IMPORT) {
			d->name_loc = p->tok->loc;
			d->name = expect_ident(p, "a module name");
			if (!d->name || !expect(p, TK_FROM))
				return NULL;
		}
		if (!at(p, TK_STRING)) {
			error_expected(p, "a file name in quotes");
			return NULL;
		}
		d->import_path = p->tok->text;
		d->loc = span(t->loc, advance(p));
		return d;
	case TK_CONFIG:
		return parse_config(p);
	case TK_EXTERN:
		return parse_extern(p);
	case TK_ENUM:
		return parse_enum(p);
	case TK_TYPE:
		advance(p);
		d = new_decl(p, D_ALIAS, t->loc);
		d->name_loc = p->tok->loc;
		if (!(d->name = expect_ident(p, "a type name")) || !expect(p, TK_ASSIGN))
			return NULL;
		d->ty = parse_type(p);
		return d;
	default:
		error_expected(p, "a declaration");
		return NULL;
	}
}

/* ---- tree depth ---- */

/*
 * A node still to visit: an expression or a statement, with its depth.
 * Visiting it also visits the rest of its list (args, statements) at the
 * same depth, after its own children: a depth-first walk in source order.
 */
struct tree_node {
	struct expr *e;
	struct stmt *s;
	int depth;
	struct ks_loc at;      /* innermost statement or declaration, named in the message */
};

/* An explicit stack, so that measuring a deep tree does not recurse itself. */
struct tree_walk {
	struct tree_node *v;
	size_t n, cap;
};

static void walk_push(struct tree_walk *w, struct expr *e, struct stmt *s, int depth,
		      struct ks_loc at)
{
	if (!e && !s)
		return;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 64;
		w->v = xrealloc(w->v, sizeof(*w->v) * w->cap);
	}
	w->v[w->n++] = (struct tree_node){ e, s, depth, at };
}

static void walk_stmts(struct tree_walk *w, struct stmt *list, int depth)
{
	if (list)
		walk_push(w, NULL, list, depth, list->loc);
}

/* Children are pushed last first, so that they are visited in source order. */
static void walk_expr_children(struct tree_walk *w, const struct tree_node *n)
{
	struct expr *e = n->e;
	int d = n->depth + 1;

	walk_push(w, e->next, NULL, n->depth, n->at);
	for (struct match_arm *m = e->arms; m; m = m->next) {
		walk_stmts(w, m->body, d);
		walk_push(w, m->value, NULL, d, n->at);
	}
	for (struct field_init *f = e->fields; f; f = f->next)
		walk_push(w, f->value, NULL, d, n->at);
	walk_push(w, e->args, NULL, d, n->at);
	walk_push(w, e->rhs, NULL, d, n->at);
	walk_push(w, e->lhs, NULL, d, n->at);
}

static void walk_stmt_children(struct tree_walk *w, const struct tree_node *n)
{
	struct stmt *s = n->s;
	int d = n->depth + 1;

	walk_stmts(w, s->next, n->depth);
	for (struct catch_clause *c = s->catches; c; c = c->next)
		walk_stmts(w, c->body, d);
	walk_stmts(w, s->els, d);
	walk_stmts(w, s->then, d);
	walk_stmts(w, s->body, d);
	walk_push(w, s->key, NULL, d, s->loc);
	walk_push(w, s->value, NULL, d, s->loc);
	walk_push(w, s->lhs, NULL, d, s->loc);
}

/* Walks one tree; reports (and returns true) when it is deeper than MAX_TREE_DEPTH. */
static bool too_deep(struct parser *p, struct expr *e, struct stmt *s, struct ks_loc at)
{
	struct tree_walk w = { 0 };
	bool deep = false;

	walk_push(&w, e, s, 1, s ? s->loc : at);
	while (w.n && !deep) {
		struct tree_node n = w.v[--w.n];

		if (n.depth > MAX_TREE_DEPTH) {
			diag_error(p->d, n.at,
				   "expression is too long or too deeply nested (more than %d levels of operators)",
				   MAX_TREE_DEPTH);
			deep = true;
		} else if (n.e) {
			walk_expr_children(&w, &n);
		} else {
			walk_stmt_children(&w, &n);
		}
	}
	free(w.v);
	return deep;
}

/* Reports the first statement (or initializer) of d whose tree is too deep. */
static void check_tree_depth(struct parser *p, struct decl *d)
{
	switch (d->kind) {
	case D_FUNC:
		too_deep(p, NULL, d->body, d->loc);
		break;
	case D_IMPL:
		for (struct decl *m = d->methods; m; m = m->next)
			if (too_deep(p, NULL, m->body, m->loc))
				return;
		for (struct impl_field *f = d->ifields; f; f = f->next)
			if (too_deep(p, f->value, NULL, f->loc))
				return;
		break;
	case D_CONFIG:
		for (struct config_field *f = d->cfields; f; f = f->next)
			if (too_deep(p, f->value, NULL, f->loc))
				return;
		break;
	case D_GLOBAL:
	case D_MAP:
		too_deep(p, d->init, NULL, d->loc);
		break;
	default:
		break;
	}
}

struct decl *parse_source(struct arena *a, struct diag *d, const struct ks_src *src)
{
	int ntok;
	struct parser p = { .a = a, .d = d };
	struct decl head = { 0 }, *cur = &head;

	p.toks = p.tok = lex_source(a, d, src, &ntok);
	while (!at(&p, TK_EOF) && !p.dead && !diag_too_many(d)) {
		struct token *start = p.tok;
		int errs = diag_errors(d);
		struct decl *decl = parse_decl(&p);

		if (decl)
			cur = cur->next = decl;
		if (diag_errors(d) != errs)
			sync_decl(&p, start);
		else if (p.tok == start)
			advance(&p);
		/* A parse that hit the nesting limit is reported already. */
		if (decl && !p.dead)
			check_tree_depth(&p, decl);
	}
	wide_enum_errors(&p, head.next);
	return head.next;
}
