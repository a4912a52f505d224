/*
 * The userspace backend: NAME.c.  The file holds, in order: the program's
 * own types, the config blocks as structs written to their maps after
 * load, typed map accessors, ring buffer handlers, kfunc call wrappers,
 * the userspace functions, the object's setup (pins, autoload, tc
 * direction) and a C main that parses main(args) options and runs the
 * KernelScript main, or the @test functions with --test.
 *
 * The object is opened at start and loaded on first need (load(), a map
 * access, register()...), so pins and config set before are in place.
 */
#include "usergen.h"

#include <stdlib.h>
#include <string.h>

#include "ebpf_abi.h"
#include "types.h"
#include "usergen_internal.h"

static struct type *ut(struct type *t)
{
	return type_unalias(t);
}

/* Linear, for what userspace code names (its programs, kfuncs, throwers): counted (ksc_stats). */
static bool contains(const struct ptrvec *v, const void *p)
{
	for (int i = 0; i < v->n; i++) {
		ksc_stats.vec_scans++;
		if (v->v[i] == p)
			return true;
	}
	return false;
}

static void push_once(struct arena *a, struct ptrvec *v, void *p)
{
	if (!contains(v, p))
		ptrvec_push(a, v, p);
}

struct map_use *user_map_use(struct cgen *g, struct decl *map)
{
	struct user *u = UG(g);
	struct map_use *mu;

	for (int i = 0; i < u->maps.n; i++) {
		mu = u->maps.v[i];
		if (mu->map == map)
			return mu;
	}
	mu = arena_alloc(g->a, sizeof(*mu));
	memset(mu, 0, sizeof(*mu));
	mu->map = map;
	ptrvec_push(g->a, &u->maps, mu);
	return mu;
}

bool user_zero_init(const struct expr *e)
{
	if (!e)
		return true;
	switch (e->kind) {
	case E_INT:
	case E_BOOL:
	case E_CHAR:
		return e->ival == 0;
	case E_NULL:
		return true;
	case E_STR:
		return e->str_len == 0;
	case E_ARRAY:
		for (const struct expr *a = e->args; a; a = a->next)
			if (!user_zero_init(a))
				return false;
		return true;
	default:
		return false;
	}
}

static bool is_user_fn(const struct decl *d)
{
	return d->kind == D_FUNC && d->target == TARGET_USER;
}

/* ---- a walk over userspace code, before anything is emitted ---- */

struct scan {
	struct arena *a;
	struct user *u;
	struct ptrvec *progs;      /* programs userspace loads or tests */
	bool throws;               /* the function being scanned throws uncaught */
};

static void scan_stmts(struct scan *sc, struct stmt *s);

static void scan_expr(struct scan *sc, struct expr *e)
{
	for (; e; e = NULL) {
		if (e->kind == E_IDENT && e->ref == REF_FUNC && e->decl) {
			push_once(sc->a, &sc->u->referenced, e->decl);
			if (e->decl->role == ROLE_PROG)
				push_once(sc->a, sc->progs, e->decl);
		}
		if (e->kind == E_CALL && e->lhs->kind == E_IDENT && e->lhs->ref == REF_FUNC &&
		    e->lhs->decl && e->lhs->decl->role == ROLE_KFUNC)
			push_once(sc->a, &sc->u->kfuncs, e->lhs->decl);
		if (e->kind == E_CALL && e->lhs->kind == E_FIELD && e->lhs->lhs->kind == E_IDENT &&
		    e->lhs->lhs->ref == REF_IMPORT && e->lhs->lhs->decl->imported)
			push_once(sc->a, &sc->u->imports, e->lhs->lhs->decl);
		scan_expr(sc, e->lhs);
		scan_expr(sc, e->rhs);
		for (struct expr *x = e->args; x; x = x->next)
			scan_expr(sc, x);
		for (struct field_init *f = e->fields; f; f = f->next)
			scan_expr(sc, f->value);
		for (struct match_arm *m = e->arms; m; m = m->next) {
			scan_expr(sc, m->value);
			scan_stmts(sc, m->body);
		}
	}
}

static void scan_stmts(struct scan *sc, struct stmt *s)
{
	for (; s; s = s->next) {
		bool wild = false;

		if (s->kind == S_THROW)
			sc->throws = true;
		for (struct catch_clause *c = s->catches; c; c = c->next) {
			wild |= c->wildcard;
			scan_stmts(sc, c->body);
		}
		/* A catch list without `catch _` passes other codes on. */
		if (s->kind == S_TRY && !wild)
			sc->throws = true;
		scan_expr(sc, s->value);
		scan_expr(sc, s->lhs);
		scan_expr(sc, s->key);
		scan_stmts(sc, s->then);
		scan_stmts(sc, s->els);
		scan_stmts(sc, s->body);
	}
}

/* Every userspace function: of the program, then of the .ks modules it imports. */
static void user_functions(struct program *prog, struct ptrvec *out, struct arena *a)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_IMPORT && d->imported)
			for (struct decl *f = d->imported->decls; decl_visit(f); f = f->next)
				if (f->kind == D_FUNC && f->role == ROLE_USER)
					ptrvec_push(a, out, f);
	}
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (is_user_fn(d))
			ptrvec_push(a, out, d);
}

static void scan_program(struct cgen *g, struct ptrvec *progs)
{
	struct user *u = UG(g);
	struct ptrvec fns = { 0 };
	bool changed = true;

	user_functions(g->prog, &fns, g->a);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_IMPORT && d->imported)
			for (struct decl *f = d->imported->decls; decl_visit(f); f = f->next)
				if (f->kind == D_FUNC && f->role == ROLE_USER) {
					ptrvec_push(g->a, &u->import_fns, f);
					ptrvec_push(g->a, &u->import_of, d);
				}
	for (int i = 0; i < fns.n; i++) {
		struct scan sc = { g->a, u, progs, false };
		struct decl *f = fns.v[i];

		scan_stmts(&sc, f->body);
		if (sc.throws)
			push_once(g->a, &u->throwers, f);
	}
	/* A function calling one that may throw may throw too. */
	while (changed) {
		changed = false;
		for (int i = 0; i < fns.n; i++) {
			struct decl *f = fns.v[i];

			if (contains(&u->throwers, f))
				continue;
			for (int j = 0; j < f->calls.n; j++)
				if (contains(&u->throwers, f->calls.v[j])) {
					push_once(g->a, &u->throwers, f);
					changed = true;
					break;
				}
		}
	}
}

/* ---- declarations ---- */

static bool has_pinned_globals(struct program *prog);

/* A constant initializer for a config field's default. */
static const char *init_text(struct cgen *g, struct type *t, struct expr *v)
{
	struct strbuf sb;
	char *s;
	const char *r;

	if (v->kind != E_ARRAY)
		return cg_expr_str(g, v);
	sb_init(&sb);
	sb_puts(&sb, "{ ");
	if (v->args && !v->args->next && ut(t)->count > 1) {
		/* [x]: every element is x */
		for (long long i = 0; i < ut(t)->count; i++)
			sb_printf(&sb, "%s%s", i ? ", " : "", cg_expr_str(g, v->args));
	} else {
		for (struct expr *a = v->args; a; a = a->next)
			sb_printf(&sb, "%s%s", a == v->args ? "" : ", ", cg_expr_str(g, a));
	}
	sb_puts(&sb, " }");
	s = sb_detach(&sb);
	r = arena_strdup(g->a, s);
	free(s);
	return r;
}

static void emit_config(struct cgen *g, struct decl *d)
{
	const char *s = arena_printf(g->a, "%s%s", d->name, KSC_CONFIG_STRUCT_SUFFIX);

	cg_line(g, "/* Written to %s%s when the object is loaded and at every change. */",
		d->name, KSC_CONFIG_MAP_SUFFIX);
	cg_open(g, "static struct %s %s = {", s, s);
	for (struct config_field *f = d->cfields; f; f = f->next)
		if (f->value)
			cg_line(g, ".%s = %s,", f->name, init_text(g, f->ty, f->value));
	cg_close(g, "};");
	cg_block(g, "\
		\n\
		static void %s_sync(void)\n\
		{\n\
			__u32 key = 0;\n\
			\n\
			if (ksc_loaded())\n\
				ksc_map_set(" SKEL "->maps.%s%s, &key, &%s);\n\
		}\n\
		\n", s, d->name, KSC_CONFIG_MAP_SUFFIX, s);
}

/* Whether a pinned global starts other than zero. */
static bool pinned_first(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_GLOBAL && d->is_pinned && d->target == TARGET_EBPF &&
		    !user_zero_init(d->init))
			return true;
	return false;
}

static void emit_pinned_struct(struct cgen *g)
{
	cg_emit_pinned_struct(g);
	if (!pinned_first(g->prog))
		return;
	cg_line(g, "/* What the pinned globals start as when their pin is created. */");
	cg_open(g, "static const struct %s %s_first = {", KSC_PINNED_GLOBALS, KSC_PINNED_GLOBALS);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_GLOBAL && d->is_pinned && d->target == TARGET_EBPF &&
		    !user_zero_init(d->init))
			cg_line(g, ".%s = %s,", d->name, cg_expr_str(g, d->init));
	cg_close(g, "};");
	cg_blank(g);
}

static void emit_pinned_globals(struct cgen *g)
{
	const char *n = KSC_PINNED_GLOBALS;

	cg_block(g, "\
		/* Pinned globals live in the one entry of a pinned map, shared across runs. */\n\
		static struct %s %s;\n\
		\n\
		static struct %s *%s_fetch(void)\n\
		{\n\
			__u32 key = 0;\n\
			\n\
			ksc_map_get(" SKEL "->maps.%s, &key, &%s, NULL);\n\
			return &%s;\n\
		}\n\
		\n\
		static void %s_store(void)\n\
		{\n\
			__u32 key = 0;\n\
			\n\
			ksc_map_set(" SKEL "->maps.%s, &key, &%s);\n\
		}\n\
		\n", n, n, n, n, n, n, n, n, n, n);
}

static bool is_percpu(const struct type *mt)
{
	return mt->map == MAP_PERCPU_HASH || mt->map == MAP_PERCPU_ARRAY;
}

/* Per-CPU values read from userspace are summed (integers) over the CPUs. */
static void emit_percpu_add(struct cgen *g, struct decl *m)
{
	struct type *v = ut(ut(m->ty)->base);
	const char *t = cg_type(g, v);

	cg_line(g, "static void %s(void *acc, const void *cpu_value)", user_accessor(g, m, "add"));
	cg_open(g, "{");
	if (v->kind == TY_STRUCT) {
		cg_block(g, "\
			%s *sum = acc;\n\
			const %s *v = cpu_value;\n\
			\n", t, t);
		for (struct struct_field *f = v->decl->fields; f; f = f->next)
			if (type_is_int(f->ty))
				cg_line(g, "sum->%s += v->%s;", f->name, f->name);
			else if (ut(f->ty)->kind == TY_BOOL)
				cg_line(g, "sum->%s |= v->%s;", f->name, f->name);
	} else if (type_is_int(v)) {
		cg_line(g, "*(%s *)acc += *(const %s *)cpu_value;", t, t);
	} else {
		cg_block(g, "\
			(void)acc;\n\
			(void)cpu_value;\n");
	}
	cg_close(g, "}");
	cg_blank(g);
}

static void emit_map_accessors(struct cgen *g, struct map_use *mu)
{
	struct decl *m = mu->map;
	struct type *mt = ut(m->ty);
	const char *key, *vt, *add, *lookup_fn;
	bool lookup = mu->lookup || mu->get || mu->has;

	if (mt->kind == TY_RINGBUF)
		return;
	key = cg_decl(g, mt->key, "key");
	vt = cg_type(g, mt->base);
	add = is_percpu(mt) ? user_accessor(g, m, "add") : "NULL";
	lookup_fn = user_accessor(g, m, "lookup");
	if (lookup && is_percpu(mt))
		emit_percpu_add(g, m);
	if (lookup)
		cg_block(g, "\
			/* %s[key] into *value (zero when absent); whether it was there. */\n\
			static bool %s(%s, %s *value)\n\
			{\n\
				return ksc_map_get(" SKEL "->maps.%s, &key, value, %s) == 0;\n\
			}\n\
			\n", m->name, lookup_fn, key, vt, m->name, add);
	if (mu->get)
		cg_block(g, "\
			static %s\n\
			{\n\
				%s;\n\
				\n\
				%s(key, &value);\n\
				return value;\n\
			}\n\
			\n", cg_decl(g, mt->base, arena_printf(g->a, "%s(%s)", user_accessor(g, m, "get"), key)),
			 cg_decl(g, mt->base, "value"), lookup_fn);
	if (mu->has)
		cg_block(g, "\
			static bool %s(%s)\n\
			{\n\
				%s;\n\
				\n\
				return %s(key, &value);\n\
			}\n\
			\n", user_accessor(g, m, "has"), key, cg_decl(g, mt->base, "value"), lookup_fn);
	if (mu->set)
		cg_block(g, "\
			static void %s(%s, %s)\n\
			{\n\
				ksc_map_set(" SKEL "->maps.%s, &key, &value);\n\
			}\n\
			\n", user_accessor(g, m, "set"), key, cg_decl(g, mt->base, "value"), m->name);
	if (mu->del)
		cg_block(g, "\
			static void %s(%s)\n\
			{\n\
				ksc_map_delete(" SKEL "->maps.%s, &key);\n\
			}\n\
			\n", user_accessor(g, m, "delete"), key, m->name);
}

/* rb.on_event(fn): the handler, and the record handed to it with its type. */
static void emit_ringbuf_handler(struct cgen *g, struct decl *m)
{
	struct type *rec = type_ptr(g->a, ut(m->ty)->base);
	struct type *fn = type_new(g->a, TY_FUNC);
	const char *h = user_accessor(g, m, "handler");
	const char *record = user_accessor(g, m, "record");

	fn->base = type_int(g->a, 4, true);
	fn->nparams = 1;
	fn->params = arena_alloc(g->a, sizeof(*fn->params));
	fn->params[0] = rec;
	cg_block(g, "\
		static %s;\n\
		\n\
		static int %s(void *data)\n\
		{\n\
			return %s(data);\n\
		}\n\
		\n\
		static int %s(%s)\n\
		{\n\
			%s = fn;\n\
			ksc_on_event(" SKEL "->maps.%s, %s);\n\
			return 0;\n\
		}\n\
		\n", cg_decl(g, fn, h), record, h, user_accessor(g, m, "on_event"), cg_decl(g, fn, "fn"),
		 h, m->name, record);
}

/* A kfunc called from userspace: its arguments go through its syscall trampoline. */
static void emit_kfunc_call(struct cgen *g, struct decl *k)
{
	const char *args = cg_emit_call_args(g, k);
	bool ret = k->ret && !type_is_void(k->ret);

	cg_line(g, "static %s", cg_prototype(g, k, k->name));
	cg_open(g, "{");
	cg_open(g, "struct %s args = {", args);
	for (struct param *p = k->params; p; p = p->next)
		cg_line(g, ".%s = %s,", p->name, p->name);
	cg_close(g, "};");
	cg_blank(g);
	cg_line(g, "ksc_call(" SKEL "->progs.%s%s, &args, sizeof(args));", KSC_CALL_PREFIX, k->name);
	if (ret)
		cg_line(g, "return args.ret;");
	cg_close(g, "}");
	cg_blank(g);
}

static void emit_function(struct cgen *g, struct decl *f)
{
	const char *unused = contains(&UG(g)->referenced, f) || !strcmp(f->name, "main") ||
			     f->role == ROLE_TEST ? "" : "__attribute__((unused)) ";

	cg_line_map(g, f->name_loc);
	cg_line(g, "%sstatic %s", unused, cg_prototype_decayed(g, f, cg_global_name(g, f)));
	cg_function_body(g, f);
	cg_line_reset(g);
	cg_blank(g);
}

static void emit_functions(struct cgen *g)
{
	struct user *u = UG(g);
	struct program *own = g->prog;

	/* Imported modules first, in their own file's #line terms. */
	for (int i = 0; i < u->import_fns.n; i++) {
		struct decl *imp = u->import_of.v[i];

		g->prog = imp->imported;
		emit_function(g, u->import_fns.v[i]);
	}
	g->prog = own;
	for (struct decl *d = own->decls; decl_visit(d); d = d->next)
		if (is_user_fn(d))
			emit_function(g, d);
}

/* ---- setup and main ---- */

static bool has_pinned_globals(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_GLOBAL && d->is_pinned && d->target == TARGET_EBPF)
			return true;
	return false;
}

static bool has_tail_calls(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_PROG && ebpf_tail_slot(d) >= 0)
			return true;
	return false;
}

/* What ksc_open does to the opened object: autoload, tc direction and pins. */
static void emit_object_setup(struct cgen *g, struct ptrvec *progs)
{
	struct program *prog = g->prog;
	struct ptrvec targets;
	bool tails;

	ebpf_tail_targets(prog, &targets);
	tails = has_tail_calls(prog);
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind != D_FUNC || d->role != ROLE_PROG)
			continue;
		/* Programs userspace never loads stay out of the kernel (tail-call targets stay in). */
		if (!contains(progs, d) && !(tails && ebpf_tail_slot(d) >= 0))
			cg_line(g, "bpf_program__set_autoload(" SKEL "->progs.%s, false);", d->name);
		if (d->prog == PROG_TC)
			cg_line(g, "ksc_set_tc_egress(" SKEL "->progs.%s, %s);", d->name,
				d->attach_target && !strcmp(d->attach_target, "egress") ? "true" :
											 "false");
	}
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_KFUNC && d->called_from_user &&
		    !contains(&UG(g)->kfuncs, d))
			cg_line(g, "bpf_program__set_autoload(" SKEL "->progs.%s%s, false);",
				KSC_CALL_PREFIX, d->name);
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_MAP && d->is_pinned)
			cg_block(g, "\
				if (ksc_pin(" SKEL "->maps.%s, \"maps/%s\"))\n\
					return -1;\n", d->name, d->name);
	if (pinned_first(prog))
		cg_block(g, "\
			if (ksc_pin_first(" SKEL "->maps.%s, \"globals\", &%s_first))\n\
				return -1;\n", KSC_PINNED_GLOBALS, KSC_PINNED_GLOBALS);
	else if (has_pinned_globals(prog))
		cg_block(g, "\
			if (ksc_pin(" SKEL "->maps.%s, \"globals\"))\n\
				return -1;\n", KSC_PINNED_GLOBALS);
}

static void emit_setup(struct cgen *g, struct ptrvec *progs)
{
	struct program *prog = g->prog;
	bool configs = false;

	cg_block(g, "\
		static int ksc_load_object(void)\n\
		{\n\
			return %s_ebpf__load(" SKEL ");\n\
		}\n\
		\n", prog->ident);
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		configs |= d->kind == D_CONFIG;
	if (configs) {
		cg_line(g, "/* The eBPF programs read their config from maps: fill them before any runs. */");
		cg_line(g, "static void ksc_after_load(void)");
		cg_open(g, "{");
		for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
			if (d->kind == D_CONFIG)
				cg_line(g, "%s%s_sync();", d->name, KSC_CONFIG_STRUCT_SUFFIX);
		cg_close(g, "}");
		cg_blank(g);
	}
	cg_block(g, "\
		/* Opens the object; it is loaded on first need, with the pins set here. */\n\
		static int ksc_open(void)\n");
	cg_open(g, "{");
	cg_block(g, "\
		" SKEL " = %s_ebpf__open();\n\
		if (!" SKEL ") {\n\
			fprintf(stderr, \"%s: cannot open %s.ebpf.o: %%s\\n\", strerror(errno));\n\
			return -1;\n\
		}\n", prog->ident, prog->base, prog->base);
	cg_open(g, "ksc_setup(&(struct ksc_object){");
	cg_block(g, "\
		.name = \"%s\",\n\
		.obj = " SKEL "->obj,\n\
		.load = ksc_load_object,\n", prog->base);
	if (configs)
		cg_line(g, ".after_load = ksc_after_load,");
	cg_close(g, "});");
	emit_object_setup(g, progs);
	cg_line(g, "return 0;");
	cg_close(g, "}");
	cg_blank(g);
}

static void emit_tests(struct cgen *g)
{
	cg_block(g, "\
		/* One \"ok NAME\" or \"not ok NAME\" line per test; 1 when it failed. */\n\
		static int ksc_report(const char *name, bool passed)\n\
		{\n\
			printf(\"%%s %%s\\n\", passed ? \"ok\" : \"not ok\", name);\n\
			fflush(stdout);\n\
			return !passed;\n\
		}\n\
		\n\
		/* NAME --test [TEST]: runs every @test function, or the one named TEST. */\n\
		static int ksc_run_tests(const char *only)\n");
	cg_open(g, "{");
	cg_line(g, "int failed = 0;");
	cg_blank(g);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		if (!is_user_fn(d) || d->role != ROLE_TEST)
			continue;
		cg_block(g, "\
			if (!only || !strcmp(only, \"%s\"))\n\
				failed += ksc_report(\"%s\", %s() == 0);\n", d->name, d->name,
			 cg_global_name(g, d));
	}
	cg_line(g, "return failed ? 1 : 0;");
	cg_close(g, "}");
	cg_blank(g);
}

static void emit_usage(struct cgen *g, struct decl *s)
{
	cg_line(g, "static void ksc_usage(FILE *out, const char *argv0)");
	cg_open(g, "{");
	cg_line(g, "fprintf(out, \"Usage: %%s [--test [TEST]]\\n\", argv0);");
	for (struct struct_field *f = s->fields; f; f = f->next) {
		struct type *t = ut(f->ty);

		cg_line(g, "fprintf(out, \"  --%s%s\\n\");", f->name,
			t->kind == TY_BOOL ? "[=BOOL]" : t->kind == TY_STR ? "=STRING" : "=NUMBER");
	}
	cg_close(g, "}");
	cg_blank(g);
}

/* The getopt_long table: each field as --field, and --fi-eld when it has '_'. */
static void emit_option_table(struct cgen *g, struct decl *s)
{
	int id = 256;

	cg_open(g, "static const struct option options[] = {");
	for (struct struct_field *f = s->fields; f; f = f->next, id++) {
		const char *has = ut(f->ty)->kind == TY_BOOL ? "optional_argument" : "required_argument";
		char *dash = xstrdup(f->name);

		cg_line(g, "{ \"%s\", %s, NULL, %d },", f->name, has, id);
		for (char *p = dash; *p; p++)
			if (*p == '_')
				*p = '-';
		if (strcmp(dash, f->name))
			cg_line(g, "{ \"%s\", %s, NULL, %d },", dash, has, id);
		free(dash);
	}
	cg_block(g, "\
		{ \"help\", no_argument, NULL, 'h' },\n\
		{ 0 },\n");
	cg_close(g, "};");
}

/* The case of option id: the field's value parsed and range-checked, or refused. */
static void emit_option_case(struct cgen *g, struct struct_field *f, int id)
{
	struct type *t = ut(f->ty);

	if (t->kind == TY_BOOL) {
		cg_block(g, "\
			case %d:\n\
				if (ksc_parse_bool(optarg, &args->%s))\n\
					goto bad;\n\
				break;\n", id, f->name);
	} else if (t->kind == TY_STR) {
		cg_block(g, "\
			case %d:\n\
				ksc_str_copy(args->%s, sizeof(args->%s), optarg);\n\
				break;\n", id, f->name, f->name);
	} else if (t->kind == TY_INT || t->kind == TY_CHAR || t->kind == TY_ENUM) {
		bool sgn = t->kind != TY_INT || t->is_signed;
		int bits = t->kind == TY_INT ? t->size * 8 : t->kind == TY_CHAR ? 8 : 32;

		cg_block(g, "\
			case %d:\n\
				if (ksc_parse_int(optarg, %s, %s, &v))\n\
					goto bad;\n\
				args->%s = (%s)v;\n\
				break;\n", id,
			 sgn ? arena_printf(g->a, "-%lldLL - 1", (1LL << (bits - 2)) * 2 - 1) : "0",
			 bits == 64 ? (sgn ? "0x7fffffffffffffffULL" : "~0ULL") :
			 arena_printf(g->a, "0x%llxULL", sgn ? (1ULL << (bits - 1)) - 1 :
						       (1ULL << bits) - 1),
			 f->name, cg_type(g, f->ty));
	} else {
		cg_block(g, "\
			case %d:\n\
				fprintf(stderr, \"%%s: --%s cannot be set from the command line\\n\", argv[0]);\n\
				return -1;\n", id, f->name);
	}
}

/* main(args: S): each field of S is an option --field=VALUE (bools: --field). */
static void emit_options(struct cgen *g, struct decl *s)
{
	int id = 256;

	emit_usage(g, s);
	cg_line(g, "static int ksc_parse_options(int argc, char **argv, struct %s *args)", s->name);
	cg_open(g, "{");
	emit_option_table(g, s);
	cg_block(g, "\
		long long v;\n\
		int c;\n\
		\n\
		(void)v;\n");
	cg_open(g, "while ((c = getopt_long(argc, argv, \"h\", options, NULL)) != -1) {");
	/* Case labels stand at the switch's own indentation. */
	cg_line(g, "switch (c) {");
	for (struct struct_field *f = s->fields; f; f = f->next, id++)
		emit_option_case(g, f, id);
	cg_block(g, "\
		case 'h':\n\
			ksc_usage(stdout, argv[0]);\n\
			exit(0);\n\
		default:\n\
			ksc_usage(stderr, argv[0]);\n\
			return -1;\n\
		}\n");
	cg_close(g, "}");
	cg_block(g, "\
		if (optind < argc)\n\
			goto bad;\n\
		return 0;\n");
	sb_puts(g->out, "bad:\n");
	cg_block(g, "\
		fprintf(stderr, \"%%s: bad option value or argument '%%s'\\n\", argv[0], argv[optind - 1]);\n\
		return -1;\n");
	cg_close(g, "}");
	cg_blank(g);
}

static struct decl *find_main(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (is_user_fn(d) && d->role == ROLE_USER && !strcmp(d->name, "main"))
			return d;
	return NULL;
}

static bool has_tests(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (is_user_fn(d) && d->role == ROLE_TEST)
			return true;
	return false;
}

/* The tail of main: run ksc_main, or just load the object when there is none. */
static void emit_main_call(struct cgen *g, struct decl *m, bool opts, bool ret)
{
	if (!m) {
		cg_block(g, "\
			/* No main(): load the object, which checks it against the kernel. */\n\
			return ksc_load() ? 1 : 0;\n");
		return;
	}
	cg_line(g, ret ? "ret = ksc_main(%s);" : "ksc_main(%s);", opts ? "args" : "");
	if (user_is_thrower(g, m))
		cg_block(g, "\
			if (ksc_thrown()) {\n\
				fprintf(stderr, \"%s: uncaught exception %%d\\n\", ksc_catch());\n\
				return 1;\n\
			}\n", g->prog->base);
	cg_line(g, "return %s;", ret ? "ret" : "0");
}

static void emit_main(struct cgen *g)
{
	struct decl *m = find_main(g->prog);
	struct decl *opts = m && m->params && ut(m->params->ty)->kind == TY_STRUCT ?
			    ut(m->params->ty)->decl : NULL;
	bool ret = m && m->ret && !type_is_void(m->ret);
	bool tests = has_tests(g->prog);

	if (opts)
		emit_options(g, opts);
	cg_line(g, "int main(int argc, char **argv)");
	cg_open(g, "{");
	if (opts)
		cg_line(g, "struct %s args = { 0 };", opts->name);
	if (ret)
		cg_line(g, "int ret;");
	if (opts || ret)
		cg_blank(g);
	cg_block(g, "\
		if (ksc_open())\n\
			return 1;\n");
	if (tests)
		cg_block(g, "\
			if ((argc == 2 || argc == 3) && !strcmp(argv[1], \"--test\"))\n\
				return ksc_run_tests(argc == 3 ? argv[2] : NULL);\n");
	if (opts)
		cg_block(g, "\
			if (ksc_parse_options(argc, argv, &args))\n\
				return 2;\n");
	else
		cg_block(g, "\
			if (argc > %d) {\n\
				fprintf(stderr, \"Usage: %%s%s\\n\", argv[0]);\n\
				return 2;\n\
			}\n", tests ? 2 : 1, tests ? " [--test]" : "");
	emit_main_call(g, m, opts, ret);
	cg_close(g, "}");
}

/* ---- the file ---- */

static void emit_head(struct cgen *g)
{
	cg_block(g, "\
		/* Generated by ksc from %s.ks: edit that file, not this one. */\n\
		#include <errno.h>\n\
		#include <getopt.h>\n\
		#include <stdbool.h>\n\
		#include <stdio.h>\n\
		#include <stdlib.h>\n\
		#include <string.h>\n\
		\n\
		#include \"ksc_loader.h\"\n\
		\n", g->prog->base);
}

/* The skeleton's globals name the program's types: it comes after them. */
static void emit_skeleton(struct cgen *g)
{
	cg_block(g, "\
		#include \"%s.skel.h\"\n\
		\n\
		static struct %s_ebpf *" SKEL ";\n\
		\n", g->prog->base, g->prog->ident);
}

static void emit_declarations(struct cgen *g)
{
	struct user *u = UG(g);

	cg_emit_user_types(g);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_CONFIG)
			cg_emit_config_struct(g, d);
	if (has_pinned_globals(g->prog))
		emit_pinned_struct(g);
	emit_skeleton(g);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_CONFIG)
			emit_config(g, d);
	if (u->pinned_globals)
		emit_pinned_globals(g);
	for (int i = 0; i < u->maps.n; i++)
		emit_map_accessors(g, u->maps.v[i]);
	for (int i = 0; i < u->maps.n; i++)
		if (((struct map_use *)u->maps.v[i])->on_event)
			emit_ringbuf_handler(g, ((struct map_use *)u->maps.v[i])->map);
	for (int i = 0; i < u->kfuncs.n; i++)
		emit_kfunc_call(g, u->kfuncs.v[i]);
}

int usergen_write(struct program *prog, const char *dir)
{
	struct strbuf out, body;
	struct cgen g;
	struct user u = { 0 };
	struct ptrvec progs = { 0 };
	char *path = xasprintf("%s/%s.c", dir, prog->base);
	int err;

	sb_init(&body);
	cg_init(&g, prog->arena, prog, &body, &user_hooks);
	g.backend = &u;
	scan_program(&g, &progs);
	/* Functions first: they decide which accessors the file needs. */
	emit_functions(&g);
	if (has_tests(prog))
		emit_tests(&g);
	emit_setup(&g, &progs);
	emit_main(&g);

	sb_init(&out);
	g.out = &out;
	emit_head(&g);
	emit_declarations(&g);
	sb_putn(&out, body.buf ? body.buf : "", body.len);
	cg_fix_line_resets(&out, arena_printf(prog->arena, "%s.c", prog->base));
	err = write_file_reported(path, out.buf, out.len);
	sb_free(&out);
	sb_free(&body);
	free(path);
	return err;
}
