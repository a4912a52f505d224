/*
 * Userspace function bodies: the cgen hooks of the userspace backend.
 * Maps are reached through typed accessors (flows_get, flows_set...)
 * emitted once for the whole file, builtins through ksc_loader, and an
 * exception leaves a function as a pending code its caller checks.
 */
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "ebpf_abi.h"
#include "types.h"
#include "usergen_internal.h"

static struct type *ut(struct type *t)
{
	return type_unalias(t);
}

static bool is_map_read(const struct expr *e)
{
	return e->kind == E_INDEX && e->map_lookup && e->lhs->kind == E_IDENT && e->lhs->decl;
}

static bool is_kernel_type(const struct decl *d)
{
	return d->from_header || d->from_btf;
}

static bool is_struct_named(struct type *t, const char *name)
{
	t = ut(t);
	return t && t->kind == TY_STRUCT && !strcmp(t->decl->name, name);
}

/* The root variable of an lvalue path: x in x.a[i].b */
static struct expr *lvalue_root(struct expr *e)
{
	while (e->kind == E_FIELD || (e->kind == E_INDEX && !e->map_lookup))
		e = e->lhs;
	return e;
}

static bool is_config_ref(const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_CONFIG && e->decl;
}

static bool is_pinned_ref(const struct expr *e)
{
	return e->kind == E_IDENT && e->ref == REF_GLOBAL && e->decl && e->decl->is_pinned;
}

static const char *opstr(int op)
{
	static const char *const ops[] = { "+", "-", "*", "/", "%" };

	return op < 0 ? "" : ops[op];
}

/* ---- names ---- */

const char *user_accessor(struct cgen *g, struct decl *map, const char *op)
{
	const char *name = arena_printf(g->a, "%s_%s", map->name, op);

	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->name && !strcmp(d->name, name))
			return arena_printf(g->a, "ksc_%s", name);
	return name;
}

static const char *fn_name(struct cgen *g, struct decl *d)
{
	struct user *u = UG(g);

	for (int i = 0; i < u->import_fns.n; i++)
		if (u->import_fns.v[i] == d)
			return arena_printf(g->a, "%s_%s",
					    ((struct decl *)u->import_of.v[i])->name, d->name);
	/* The loader's own main() runs the .ks main; names.c renamed every other clash. */
	if (!strcmp(d->name, "main"))
		return "ksc_main";
	return d->name;
}

static const char *u_global_name(struct cgen *g, struct decl *d)
{
	if (d->kind == D_FUNC)
		return fn_name(g, d);
	if (d->kind == D_GLOBAL && d->is_pinned) {
		UG(g)->pinned_globals = true;
		return arena_printf(g->a, "%s_fetch()->%s", KSC_PINNED_GLOBALS, d->name);
	}
	if (d->kind == D_GLOBAL)
		return arena_printf(g->a, SKEL "->%s->%s", user_zero_init(d->init) ? "bss" : "data",
				    d->name);
	return d->name;
}

/* Kernel enums are plain integers here: their C names would clash with libbpf's UAPI headers. */
static const char *u_type_name(struct cgen *g, struct type *t)
{
	(void)g;
	if (t->kind == TY_ENUM && is_kernel_type(t->decl))
		return "int";
	return NULL;
}

/* A struct userspace can hold: no kernel struct inside by value. */
static bool has_kernel_value(struct type *t, int depth)
{
	t = ut(t);
	if (depth > 16)
		return false;
	if (t->kind == TY_ARRAY)
		return has_kernel_value(t->base, depth + 1);
	if (t->kind != TY_STRUCT)
		return false;
	if (is_kernel_type(t->decl))
		return !is_struct_named(t, "perf_options") && !is_struct_named(t, "PerfAttachment");
	for (struct struct_field *f = t->decl->fields; f; f = f->next)
		if (has_kernel_value(f->ty, depth + 1))
			return true;
	return false;
}

static bool u_want_type(struct cgen *g, struct decl *d)
{
	(void)g;
	if (d->kind != D_STRUCT)
		return true;
	for (struct struct_field *f = d->fields; f; f = f->next)
		if (has_kernel_value(f->ty, 0))
			return false;
	return true;
}

/* ---- simple hooks ---- */

static void u_print(struct cgen *g, struct strbuf *sb, struct expr *call)
{
	if (call->args && call->args->kind != E_STR) {
		/* print(s) of a string value */
		sb_puts(sb, "printf(\"%s\\n\", ");
		cg_expr(g, sb, call->args);
		sb_putc(sb, ')');
		return;
	}
	cg_print_call(g, sb, "printf", call, CG_NL_ALWAYS);
}

static void u_new(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	sb_printf(sb, "calloc(1, sizeof(%s))", cg_type(g, e->ty));
}

static void u_delete(struct cgen *g, struct stmt *s)
{
	cg_line(g, "free(%s);", cg_expr_str(g, s->lhs));
}

static bool is_concat(const struct expr *e)
{
	return e->kind == E_BINARY && e->op == OP_ADD && e->type && ut(e->type)->kind == TY_STR;
}

/* The size of a string lvalue: its declared str(N), as parameters decay to pointers. */
static void u_str_assign(struct cgen *g, const char *dst, struct type *dt, struct expr *src)
{
	long long size = ut(dt)->count + 1;

	if (is_concat(src)) {
		if (is_concat(src->lhs)) {
			u_str_assign(g, dst, dt, src->lhs);
			cg_line(g, "ksc_str_concat(%s, %lld, %s, %s);", dst, size, dst,
				cg_expr_str(g, src->rhs));
		} else {
			cg_line(g, "ksc_str_concat(%s, %lld, %s, %s);", dst, size,
				cg_expr_str(g, src->lhs), cg_expr_str(g, src->rhs));
		}
		return;
	}
	cg_line(g, "ksc_str_copy(%s, %lld, %s);", dst, size, cg_expr_str(g, src));
}

static const char *u_decl_init(struct cgen *g, struct stmt *var)
{
	struct type *t = ut(var->var_type);
	const char *init;

	switch (t->kind) {
	case TY_ARRAY:
	case TY_STR:
	case TY_STRUCT:
		init = " = { 0 }";
		break;
	case TY_PTR:
	case TY_FUNC:
	case TY_HANDLE:
	case TY_NULL:
		init = " = NULL";
		break;
	case TY_BOOL:
		init = " = false";
		break;
	default:
		init = " = 0";
		break;
	}
	/* The .ks source may keep a value it never reads; C would warn. */
	if (var->kind == S_VAR && !cg_reads_local(g->fn->body, var))
		return arena_printf(g->a, " __attribute__((unused))%s", init);
	return init;
}

static void u_extra_decls(struct cgen *g, struct stmt *var)
{
	const char *x = cg_local_name(var);

	if (var->kind == S_VAR && var->from_lookup && var->null_checked)
		cg_line(g, "bool %s_found = false;", x);
	if (var->kind == S_IFVAR && var->binds_pointer && is_map_read(var->value)) {
		cg_line(g, "%s = { 0 };", cg_decl(g, ut(var->var_type)->base,
						  arena_printf(g->a, "%s_value", x)));
		cg_line(g, "%s;", cg_decl(g, ut(var->value->lhs->decl->ty)->key,
					  arena_printf(g->a, "%s_key", x)));
	}
}

/* ---- writing if (var x = m[k]) entries back ---- */

/* The break/continue in stmts that leave them (not those of a loop inside). */
static void loop_exits(struct arena *a, struct stmt *stmts, struct ptrvec *out)
{
	for (struct stmt *s = stmts; s; s = s->next) {
		switch (s->kind) {
		case S_BREAK:
		case S_CONTINUE:
			ptrvec_push(a, out, s);
			break;
		case S_IF:
		case S_IFVAR:
			loop_exits(a, s->then, out);
			loop_exits(a, s->els, out);
			break;
		case S_TRY:
			loop_exits(a, s->body, out);
			for (struct catch_clause *c = s->catches; c; c = c->next)
				loop_exits(a, c->body, out);
			break;
		default:
			break;
		}
	}
}

/* Whether control cannot fall off the end of stmts. */
static bool ends_in_jump(const struct stmt *stmts)
{
	const struct stmt *last = stmts;

	while (last && last->next)
		last = last->next;
	return last && (last->kind == S_RETURN || last->kind == S_BREAK ||
			last->kind == S_CONTINUE || last->kind == S_THROW);
}

static void write_back(struct cgen *g, struct writeback *wb)
{
	struct stmt *s = wb->ifvar;
	const char *x = cg_local_name(s);

	cg_line(g, "%s(%s_key, *%s);", user_accessor(g, s->value->lhs->decl, "set"), x, x);
}

/*
 * Before a jump out of the branches being emitted: a return or an
 * exception (exit NULL) leaves them all, a break or continue those it is in.
 */
static void write_back_before(struct cgen *g, struct stmt *exit)
{
	struct ptrvec *v = &UG(g)->writebacks;

	for (int i = v->n - 1; i >= 0; i--) {
		struct writeback *wb = v->v[i];
		bool leaves = !exit;

		for (int j = 0; j < wb->exits.n && !leaves; j++)
			leaves = wb->exits.v[j] == exit;
		if (leaves)
			write_back(g, wb);
	}
}

/* ---- exceptions ---- */

/* Leaves the function with an exception pending: its value does not matter. */
void user_propagate(struct cgen *g)
{
	struct type *r = g->fn->ret;

	write_back_before(g, NULL);
	if (g->uses_out)
		cg_line(g, "goto out;");
	else if (g->fn->ret_name)
		cg_line(g, "return %s;", g->fn->ret_name);
	else if (!r || type_is_void(r))
		cg_line(g, "return;");
	else if (ut(r)->kind == TY_STRUCT)
		cg_line(g, "return (%s){ 0 };", cg_type(g, r));
	else if (ut(r)->kind == TY_PTR || ut(r)->kind == TY_HANDLE)
		cg_line(g, "return NULL;");
	else
		cg_line(g, "return 0;");
}

static void u_uncaught(struct cgen *g)
{
	cg_line(g, "ksc_throw(err);");
	user_propagate(g);
}

bool user_is_thrower(struct cgen *g, struct decl *fn)
{
	for (int i = 0; i < UG(g)->throwers.n; i++)
		if (UG(g)->throwers.v[i] == fn)
			return true;
	return false;
}

/* What follows a call that may throw: catch here, or leave too. */
static const char *after_throwing_call(struct cgen *g)
{
	struct strbuf *saved = g->out, sb;
	int indent = g->indent;
	const char *r;
	char *s;

	bool several;

	sb_init(&sb);
	g->out = &sb;
	g->indent = 0;
	if (g->try_depth > 0) {
		write_back_before(g, NULL);
		cg_line(g, "err = ksc_catch();");
		cg_line(g, "goto catch%d;", g->try_stack[g->try_depth - 1]);
	} else {
		user_propagate(g);
	}
	g->out = saved;
	g->indent = indent;
	s = sb_detach(&sb);
	s[strlen(s) - 1] = '\0';
	/* One line: "stmt;" or "{ stmt; stmt; }" */
	several = strchr(s, '\n') != NULL;
	for (char *p = s; (p = strchr(p, '\n')); )
		*p = ' ';
	r = several ? arena_printf(g->a, "{ %s }", s) : arena_strdup(g->a, s);
	free(s);
	return r;
}

/* f(x) where f may throw: the call, then the check, as one expression. */
static void throwing_call(struct cgen *g, struct strbuf *sb, struct expr *e, const char *name)
{
	struct type *r = e->type;

	if (!r || type_is_void(r)) {
		sb_printf(sb, "({ %s", name);
		cg_call_args(g, sb, e->args);
		sb_printf(sb, "; if (ksc_thrown()) %s })", after_throwing_call(g));
		return;
	}
	sb_printf(sb, "({ %s = %s", cg_decl(g, r, "ksc_r"), name);
	cg_call_args(g, sb, e->args);
	sb_printf(sb, "; if (ksc_thrown()) %s ksc_r; })", after_throwing_call(g));
}

/* ---- builtins ---- */

static const char *prog_ref(struct cgen *g, struct expr *e)
{
	if (e->kind == E_IDENT && e->ref == REF_FUNC && e->decl)
		return arena_printf(g->a, SKEL "->progs.%s", e->decl->name);
	return cg_expr_str(g, e);
}

/*
 * The packet length a test context asks for: a length-like field, else 64
 * bytes (the context is still evaluated, as the .ks says).
 */
static const char *test_length(struct cgen *g, struct expr *ctx)
{
	static const char *const names[] = { "length", "len", "size", "packet_len", "data_len",
					     "packet_size", "packet_length", "pkt_len" };
	struct type *t = ut(ctx->type);
	const char *dflt = arena_printf(g->a, "((void)%s, 64)", cg_expr_str(g, ctx));

	if (t->kind == TY_PTR)
		t = ut(t->base);
	if (t->kind != TY_STRUCT || is_kernel_type(t->decl))
		return dflt;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		for (struct struct_field *f = t->decl->fields; f; f = f->next)
			if (!strcmp(f->name, names[i]) && type_is_int(f->ty))
				return arena_printf(g->a, "(%s)%s%s", cg_expr_str(g, ctx),
						    ut(ctx->type)->kind == TY_PTR ? "->" : ".",
						    f->name);
	return dflt;
}

static void builtin_call(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct expr *a = e->args;

	switch ((enum builtin)e->builtin) {
	case BI_PRINT:
		u_print(g, sb, e);
		return;
	case BI_LOAD:
		sb_printf(sb, "ksc_prog(%s)", prog_ref(g, a));
		return;
	case BI_ATTACH:
		if (is_struct_named(a->next->type, "perf_options"))
			sb_printf(sb, "ksc_attach_perf(%s, %s)", cg_expr_str(g, a),
				  cg_expr_str(g, a->next));
		else
			sb_printf(sb, "ksc_attach(%s, %s, %s)", cg_expr_str(g, a),
				  cg_expr_str(g, a->next), cg_expr_str(g, a->next->next));
		return;
	case BI_DETACH:
		sb_printf(sb, "%s(%s)", is_struct_named(a->type, "PerfAttachment") ?
			  "ksc_detach_perf" : "ksc_detach", cg_expr_str(g, a));
		return;
	case BI_READ:
		sb_printf(sb, "ksc_perf_read(%s)", cg_expr_str(g, a));
		return;
	case BI_REGISTER:
		sb_printf(sb, "ksc_register(" SKEL "->maps.%s)", a->decl ? a->decl->name : a->str);
		return;
	case BI_TEST:
		sb_printf(sb, "ksc_test_run(%s, %s)", prog_ref(g, a), test_length(g, a->next));
		return;
	case BI_DISPATCH: {
		int n = 0;

		sb_puts(sb, "ksc_dispatch((struct bpf_map *[]){ ");
		for (; a; a = a->next, n++)
			sb_printf(sb, "%s" SKEL "->maps.%s", n ? ", " : "", a->decl ? a->decl->name : a->str);
		sb_printf(sb, " }, %d)", n);
		return;
	}
	case BI_DAEMON:
		sb_puts(sb, "ksc_daemon()");
		return;
	case BI_EXEC:
		sb_printf(sb, "ksc_exec(%s)", cg_expr_str(g, a));
		return;
	default:
		sb_puts(sb, "0");
		return;
	}
}

/* m.fn(args) of an imported Python module: arguments passed as Python literals. */
static void python_call(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct strbuf fmt, args;

	sb_init(&fmt);
	sb_init(&args);
	for (struct expr *a = e->args; a; a = a->next) {
		struct type *t = ut(a->type);

		if (fmt.len)
			sb_puts(&fmt, ", ");
		if (t->kind == TY_STR) {
			sb_puts(&fmt, "'%s'");
			sb_printf(&args, ", %s", cg_expr_str(g, a));
		} else {
			sb_puts(&fmt, "%lld");
			sb_printf(&args, ", (long long)%s", cg_expr_str(g, a));
		}
	}
	sb_printf(sb, "ksc_py_call(\"%s\", \"%s\", ", e->lhs->lhs->decl->name, e->lhs->str);
	if (!fmt.len)
		sb_puts(&args, ", \"\"");
	cg_string_lit(sb, fmt.len ? fmt.buf : "%s", fmt.len ? (int)fmt.len : 2);
	sb_printf(sb, "%s)", args.buf ? args.buf : "");
	sb_free(&fmt);
	sb_free(&args);
}

static struct decl *imported_fn(struct decl *imp, const char *name)
{
	for (struct decl *d = imp->imported->decls; decl_visit(d); d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_USER && !strcmp(d->name, name))
			return d;
	return NULL;
}

static bool u_call(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct expr *f = e->lhs;

	if (f->kind == E_IDENT && f->ref == REF_BUILTIN) {
		builtin_call(g, sb, e);
		return true;
	}
	if (f->kind == E_FIELD && f->lhs->kind == E_IDENT && f->lhs->ref == REF_IMPORT) {
		struct decl *imp = f->lhs->decl, *fn;

		if (!imp->imported) {
			python_call(g, sb, e);
			return true;
		}
		fn = imported_fn(imp, f->str);
		sb_puts(sb, fn ? fn_name(g, fn) : f->str);
		cg_call_args(g, sb, e->args);
		return true;
	}
	if (f->kind == E_FIELD && f->lhs->type && ut(f->lhs->type)->kind == TY_RINGBUF) {
		/* rb.on_event(fn): the only ring buffer method userspace has. */
		user_map_use(g, f->lhs->decl)->on_event = true;
		sb_printf(sb, "%s(", user_accessor(g, f->lhs->decl, "on_event"));
		cg_expr(g, sb, e->args);
		sb_putc(sb, ')');
		return true;
	}
	if (f->kind == E_IDENT && f->ref == REF_FUNC && f->decl && user_is_thrower(g, f->decl)) {
		throwing_call(g, sb, e, fn_name(g, f->decl));
		return true;
	}
	return false;
}

/* ---- expressions ---- */

static const char *map_key(struct cgen *g, struct expr *idx)
{
	return cg_expr_str(g, idx->rhs);
}

/* perf_options { ... }: fields left out take the documented defaults. */
static void perf_options_lit(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	static const struct { const char *name, *value; } defaults[] = {
		{ "pid", "-1" }, { "cpu", "-1" }, { "period", "1000000" }, { "wakeup", "1" },
	};

	sb_puts(sb, "(struct perf_options){ ");
	for (struct field_init *f = e->fields; f; f = f->next) {
		sb_printf(sb, ".%s = ", f->name);
		cg_expr(g, sb, f->value);
		sb_puts(sb, ", ");
	}
	for (size_t i = 0; i < ARRAY_SIZE(defaults); i++) {
		bool given = false;

		for (struct field_init *f = e->fields; f; f = f->next)
			given |= !strcmp(f->name, defaults[i].name);
		if (!given)
			sb_printf(sb, ".%s = %s, ", defaults[i].name, defaults[i].value);
	}
	sb->len -= 2;
	sb_puts(sb, " }");
}

static bool is_found_var(const struct expr *x, const struct expr *other)
{
	return other->kind == E_NULL && x->kind == E_IDENT && x->ref == REF_LOCAL && x->local &&
	       x->local->kind == S_VAR && x->local->from_lookup && x->local->null_checked;
}

static bool u_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (e->kind == E_IDENT && e->ref == REF_ENUMCONST && e->decl && is_kernel_type(e->decl)) {
		sb_printf(sb, "%lld", e->enum_value);
		return true;
	}
	if (e->kind == E_IDENT && e->ref == REF_CONFIG) {
		sb_printf(sb, "%s%s", e->str, KSC_CONFIG_STRUCT_SUFFIX);
		return true;
	}
	if (e->kind == E_IDENT && e->ref == REF_FUNC && e->decl)
		ptrvec_push(g->a, &UG(g)->referenced, e->decl);
	if (is_map_read(e)) {
		user_map_use(g, e->lhs->decl)->get = true;
		sb_printf(sb, "%s(%s)", user_accessor(g, e->lhs->decl, "get"), map_key(g, e));
		return true;
	}
	if (e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE)) {
		struct expr *l = e->lhs, *r = e->rhs;

		if ((r->kind == E_NULL && is_map_read(l)) || (l->kind == E_NULL && is_map_read(r))) {
			struct expr *m = l->kind == E_NULL ? r : l;

			user_map_use(g, m->lhs->decl)->has = true;
			sb_printf(sb, "%s%s(%s)", e->op == OP_EQ ? "!" : "",
				  user_accessor(g, m->lhs->decl, "has"), map_key(g, m));
			return true;
		}
		if (is_found_var(l, r) || is_found_var(r, l)) {
			struct expr *v = l->kind == E_NULL ? r : l;

			sb_printf(sb, "%s%s_found", e->op == OP_EQ ? "!" : "", cg_local_name(v->local));
			return true;
		}
		if (l->type && ut(l->type)->kind == TY_STR) {
			sb_printf(sb, "strcmp(%s, %s) %s 0", cg_expr_str(g, l), cg_expr_str(g, r),
				  e->op == OP_EQ ? "==" : "!=");
			return true;
		}
	}
	if (e->kind == E_STRUCTLIT && is_struct_named(e->type, "perf_options")) {
		perf_options_lit(g, sb, e);
		return true;
	}
	return false;
}

/* ---- statements ---- */

static void map_assign(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs;
	struct decl *m = idx->lhs->decl;
	struct map_use *mu = user_map_use(g, m);
	struct type *mt = ut(m->ty);
	const char *key;

	mu->set = true;
	if (s->op < 0 && ut(mt->base)->kind != TY_ARRAY && ut(mt->base)->kind != TY_STR) {
		cg_line(g, "%s(%s, %s);", user_accessor(g, m, "set"), map_key(g, idx),
			cg_expr_str(g, s->value));
		return;
	}
	/* Read, modify, write: the key is evaluated once. */
	mu->get = true;
	key = map_key(g, idx);
	cg_open(g, "{");
	cg_block(g, "\
		%s = %s;\n\
		%s = %s(ksc_key);\n\
		\n\
		ksc_value %s= %s;\n\
		%s(ksc_key, ksc_value);\n", cg_decl(g, mt->key, "ksc_key"), key,
		 cg_decl(g, mt->base, "ksc_value"), user_accessor(g, m, "get"), opstr(s->op),
		 cg_expr_str(g, s->value), user_accessor(g, m, "set"));
	cg_close(g, "}");
}

/* m[k].f op= v: in place, only when the entry exists (as in eBPF). */
static void map_field_assign(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs->lhs;
	struct decl *m = idx->lhs->decl;
	struct map_use *mu = user_map_use(g, m);
	struct type *mt = ut(m->ty);
	const char *key;

	mu->lookup = mu->set = true;
	key = map_key(g, idx);
	cg_open(g, "{");
	cg_block(g, "\
		%s = %s;\n\
		%s;\n\
		\n\
		if (%s(ksc_key, &ksc_value)) {\n\
			ksc_value.%s %s= %s;\n\
			%s(ksc_key, ksc_value);\n\
		}\n", cg_decl(g, mt->key, "ksc_key"), key, cg_decl(g, mt->base, "ksc_value"),
		 user_accessor(g, m, "lookup"), s->lhs->str, opstr(s->op), cg_expr_str(g, s->value),
		 user_accessor(g, m, "set"));
	cg_close(g, "}");
}

/*
 * if (var x = m[k]): x is a copy of the entry; when the eBPF side would
 * bind a pointer, what the branch changes through it is written back.
 */
static void map_ifvar(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->value;
	struct decl *m = idx->lhs->decl;
	struct map_use *mu = user_map_use(g, m);
	struct type *mt = ut(m->ty);
	const char *x = cg_local_name(s);

	mu->lookup = true;
	if (s->binds_pointer) {
		struct writeback *wb = arena_alloc(g->a, sizeof(*wb));

		mu->set = true;
		memset(wb, 0, sizeof(*wb));
		wb->ifvar = s;
		loop_exits(g->a, s->then, &wb->exits);
		cg_block(g, "\
			%s_key = %s;\n\
			%s = &%s_value;\n", x, map_key(g, idx), x, x);
		cg_open(g, "if (%s(%s_key, %s)) {", user_accessor(g, m, "lookup"), x, x);
		ptrvec_push(g->a, &UG(g)->writebacks, wb);
		cg_emit_stmts(g, s->then);
		UG(g)->writebacks.n--;
		if (!ends_in_jump(s->then))
			write_back(g, wb);
	} else {
		/* ksc_key in a block of its own: other map accesses of the function declare theirs. */
		cg_open(g, "{");
		cg_line(g, "%s = %s;", cg_decl(g, mt->key, "ksc_key"), map_key(g, idx));
		cg_blank(g);
		cg_open(g, "if (%s(ksc_key, &%s)) {", user_accessor(g, m, "lookup"), x);
		cg_emit_stmts(g, s->then);
	}
	if (s->els) {
		cg_reopen(g, "} else {");
		cg_emit_stmts(g, s->els);
	}
	cg_close(g, "}");
	if (!s->binds_pointer)
		cg_close(g, "}");
}

/* An assignment to a config field or a pinned global, then the write to its map. */
static void synced_assign(struct cgen *g, struct stmt *s, const char *sync)
{
	const char *lhs = cg_expr_str(g, s->lhs);
	struct type *t = ut(s->lhs->type);

	if (t->kind == TY_STR && s->op < 0)
		u_str_assign(g, lhs, t, s->value);
	else if (t->kind == TY_ARRAY)
		cg_line(g, "memcpy(%s, %s, sizeof(%s));", lhs, cg_expr_str(g, s->value), lhs);
	else
		cg_line(g, "%s %s= %s;", lhs, opstr(s->op), cg_expr_str(g, s->value));
	cg_line(g, "%s();", sync);
}

/* Assignments to map entries, config fields and pinned globals go through their stores. */
static bool u_assign(struct cgen *g, struct stmt *s)
{
	struct expr *root;

	if (is_map_read(s->lhs)) {
		map_assign(g, s);
		return true;
	}
	if (s->lhs->kind == E_FIELD && is_map_read(s->lhs->lhs)) {
		map_field_assign(g, s);
		return true;
	}
	root = lvalue_root(s->lhs);
	if (is_config_ref(root)) {
		synced_assign(g, s, arena_printf(g->a, "%s%s_sync", root->decl->name,
						 KSC_CONFIG_STRUCT_SUFFIX));
		return true;
	}
	if (is_pinned_ref(root)) {
		UG(g)->pinned_globals = true;
		synced_assign(g, s, KSC_PINNED_GLOBALS "_store");
		return true;
	}
	return false;
}

/* A call of a function that may throw, as a statement: the throw goes to the try or the caller. */
static bool u_throwing_call(struct cgen *g, struct stmt *s)
{
	struct strbuf sb;

	if (s->value->kind != E_CALL || s->value->lhs->kind != E_IDENT ||
	    s->value->lhs->ref != REF_FUNC || !s->value->lhs->decl ||
	    !user_is_thrower(g, s->value->lhs->decl))
		return false;
	sb_init(&sb);
	sb_puts(&sb, fn_name(g, s->value->lhs->decl));
	cg_call_args(g, &sb, s->value->args);
	cg_line(g, "%s;", sb.buf);
	if (g->try_depth > 0)
		cg_block(g, "\
			if (ksc_thrown()) {\n\
				err = ksc_catch();\n\
				goto catch%d;\n\
			}\n", g->try_stack[g->try_depth - 1]);
	else
		cg_block(g, "\
			if (ksc_thrown())\n\
				%s\n", after_throwing_call(g));
	sb_free(&sb);
	return true;
}

static bool u_stmt(struct cgen *g, struct stmt *s)
{
	switch (s->kind) {
	case S_RETURN:
		write_back_before(g, NULL);
		return false;
	case S_BREAK:
	case S_CONTINUE:
		write_back_before(g, s);
		return false;
	case S_ASSIGN:
		return u_assign(g, s);
	case S_VAR:
		if (s->from_lookup && s->null_checked && is_map_read(s->value)) {
			user_map_use(g, s->value->lhs->decl)->lookup = true;
			cg_line(g, "%s_found = %s(%s, &%s);", cg_local_name(s),
				user_accessor(g, s->value->lhs->decl, "lookup"), map_key(g, s->value),
				cg_local_name(s));
			return true;
		}
		return false;
	case S_IFVAR:
		if (is_map_read(s->value)) {
			map_ifvar(g, s);
			return true;
		}
		return false;
	case S_EXPR:
		return u_throwing_call(g, s);
	case S_THROW:
		if (g->try_depth > 0) {
			write_back_before(g, NULL);
			return false;
		}
		/* No try here: the code travels to the caller's. */
		cg_line(g, "ksc_throw(%s);", cg_expr_str(g, s->value));
		user_propagate(g);
		return true;
	case S_DELETE:
		if (s->key && s->lhs->kind == E_IDENT && s->lhs->decl) {
			user_map_use(g, s->lhs->decl)->del = true;
			cg_line(g, "%s(%s);", user_accessor(g, s->lhs->decl, "delete"),
				cg_expr_str(g, s->key));
			return true;
		}
		return false;
	default:
		return false;
	}
}

const struct cg_hooks user_hooks = {
	.int_name = cg_uapi_int,
	.print = u_print,
	.new_obj = u_new,
	.delete_ptr = u_delete,
	.str_assign = u_str_assign,
	.call = u_call,
	.stmt = u_stmt,
	.expr = u_expr,
	.global_name = u_global_name,
	.decl_init = u_decl_init,
	.extra_decls = u_extra_decls,
	.type_name = u_type_name,
	.want_type = u_want_type,
	.uncaught = u_uncaught,
	.line_directives = true,
};
