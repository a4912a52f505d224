/*
 * Semantic analysis: resolve names, type every expression, enforce the
 * per-context rules.  Declarations are visited in source order and only
 * what precedes a use is visible (definition before use).
 *
 * Expressions are checked by sema_expr.c, statements and function bodies by
 * sema_stmt.c; this file holds the symbol tables and the declarations.
 */
#include "sema_internal.h"

#include "btf_types.h"

#include <string.h>

/* ---- symbol tables ---- */

static unsigned hash_name(const char *s)
{
	unsigned h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % SEMA_BUCKETS;
}

struct sym *sym_lookup(struct sym **table, const char *name)
{
	for (struct sym *s = table[hash_name(name)]; s; s = s->next)
		if (!strcmp(s->name, name))
			return s;
	return NULL;
}

struct sym *sym_add(struct checker *c, struct sym **table, const char *name, enum ref_kind kind)
{
	struct sym *s = arena_alloc(c->a, sizeof(*s));
	unsigned h = hash_name(name);

	s->name = name;
	s->kind = kind;
	s->next = table[h];
	table[h] = s;
	return s;
}

static const char *ref_kind_name(const struct sym *s)
{
	switch (s->kind) {
	case REF_GLOBAL: return "global variable";
	case REF_MAP: return "map";
	case REF_CONFIG: return "config";
	case REF_FUNC: return "function";
	case REF_EXTERN: return "extern function";
	case REF_ENUMCONST: return "enum constant";
	case REF_BUILTIN: return "builtin function";
	case REF_IMPL: return "impl block";
	case REF_IMPORT: return "imported module";
	default: return "name";
	}
}

/*
 * Declares a value name.  Redefinition is an error, except that enum
 * constants may repeat across enums (the reference allows it; a match on an
 * enum picks the constant of the scrutinee's enum).
 */
struct sym *declare_value(struct checker *c, const char *name, struct ks_loc loc,
			  enum ref_kind kind, struct decl *decl)
{
	struct sym *old = sym_lookup(c->values, name);
	struct sym *s;

	/* A program's own function may take a builtin's name (the reference allows it). */
	if (old && old->kind == REF_BUILTIN && kind == REF_FUNC) {
		s = sym_add(c, c->values, name, kind);
		s->decl = decl;
		return s;
	}
	if (old && !(old->kind == REF_ENUMCONST && kind == REF_ENUMCONST) &&
	    !(old->decl && old->decl->from_header && decl && decl->from_header &&
	      old->kind == kind)) {
		diag_error(c->d, loc, "redefinition of '%s'", name);
		if (old->decl)
			diag_note(c->d, old->decl->name_loc, "previous definition of %s '%s' is here",
				  ref_kind_name(old), name);
		return NULL;
	}
	s = sym_add(c, c->values, name, kind);
	s->decl = decl;
	return s;
}

static void declare_type(struct checker *c, struct decl *d)
{
	struct sym *old = sym_lookup(c->types, d->name);

	if (old) {
		/* Headers may repeat a kernel type; a program may not. */
		if (old->decl->from_header && d->from_header)
			return;
		diag_error(c->d, d->name_loc, "redefinition of type '%s'", d->name);
		diag_note(c->d, old->decl->name_loc, "previous definition is here");
		return;
	}
	sym_add(c, c->types, d->name, REF_NONE)->decl = d;
}

/* ---- types ---- */

static void resolve_named(struct checker *c, struct type *t)
{
	struct sym *s;

	if (t->decl)
		return;
	if (!strcmp(t->name, "ProgramHandle")) {
		t->kind = TY_HANDLE;
		return;
	}
	s = sym_lookup(c->types, t->name);
	if (!s) {
		struct sym *v = sym_lookup(c->values, t->name);

		struct decl *k;

		if (v && v->kind == REF_IMPL) {
			t->kind = TY_IMPL;
			t->decl = v->decl;
			return;
		}
		k = btf_find_type(c->prog->kernel, c->a, t->name);
		if (k) {
			sym_add(c, c->types, k->name, REF_NONE)->decl = k;
			t->decl = k;
			t->kind = k->kind == D_ENUM ? TY_ENUM : TY_STRUCT;
			return;
		}
		if (btf_available(c->prog->kernel))
			diag_error(c->d, t->loc, "unknown type '%s' (not declared, and not in the kernel BTF %s)",
				   t->name, btf_types_path(c->prog->kernel));
		else
			diag_error(c->d, t->loc,
				   "unknown type '%s' (not declared; no kernel BTF at %s to look it up, use --btf FILE)",
				   t->name, btf_types_path(c->prog->kernel));
		t->kind = TY_ERROR;
		return;
	}
	t->decl = s->decl;
	if (s->decl->kind == D_STRUCT)
		t->kind = TY_STRUCT;
	else if (s->decl->kind == D_ENUM)
		t->kind = TY_ENUM;
}

static bool is_plain_value_type(const struct type *t)
{
	t = type_unalias((struct type *)t);
	switch (t->kind) {
	case TY_MAP:
	case TY_RINGBUF:
	case TY_VOID:
	case TY_FUNC:
	case TY_HANDLE:
	case TY_IMPL:
		return false;
	default:
		return true;
	}
}

void resolve_type(struct checker *c, struct type *t)
{
	if (!t)
		return;
	switch (t->kind) {
	case TY_NAMED:
		resolve_named(c, t);
		break;
	case TY_ARRAY:
		resolve_type(c, t->base);
		if (t->count <= 0)
			diag_error(c->d, t->loc, "array size must be positive");
		else if (!type_is_error(t->base) && !is_plain_value_type(t->base))
			diag_error(c->d, t->loc, "arrays of %s are not allowed",
				   type_str(c->a, t->base));
		break;
	case TY_STR:
		if (t->count <= 0)
			diag_error(c->d, t->loc, "string size must be positive");
		break;
	case TY_PTR:
		resolve_type(c, t->base);
		break;
	case TY_FUNC:
		for (int i = 0; i < t->nparams; i++)
			resolve_type(c, t->params[i]);
		resolve_type(c, t->base);
		break;
	case TY_MAP:
		resolve_type(c, t->key);
		resolve_type(c, t->base);
		if (t->count <= 0)
			diag_error(c->d, t->loc, "map size must be positive");
		if (!type_is_error(t->key) && !is_plain_value_type(t->key))
			diag_error(c->d, t->key->loc, "a map key cannot be %s",
				   type_str(c->a, t->key));
		if (!type_is_error(t->base) && !is_plain_value_type(t->base))
			diag_error(c->d, t->base->loc, "a map value cannot be %s",
				   type_str(c->a, t->base));
		break;
	case TY_RINGBUF:
		resolve_type(c, t->base);
		if (!type_is_error(t->base) && !is_plain_value_type(t->base))
			diag_error(c->d, t->base->loc, "a ring buffer cannot carry %s",
				   type_str(c->a, t->base));
		/* The kernel wants a power-of-two multiple of the page size. */
		if (t->count < 4096 || (t->count & (t->count - 1)))
			diag_error(c->d, t->loc,
				   "ring buffer size %lld must be a power of two of at least 4096 bytes",
				   t->count);
		break;
	default:
		break;
	}
}

/* ---- attributes ---- */

static const struct attr *find_attr(const struct decl *d, const char *name)
{
	for (const struct attr *a = d->attrs; a; a = a->next)
		if (!strcmp(a->name, name))
			return a;
	return NULL;
}

/* The single string argument of an attribute, or NULL (diagnosed). */
static const char *attr_string(struct checker *c, const struct attr *a, bool required)
{
	if (!a->args) {
		if (required)
			diag_error(c->d, a->loc, "@%s needs a string argument, e.g. @%s(\"%s\")",
				   a->name, a->name,
				   !strcmp(a->name, "tc") ? "ingress" :
				   !strcmp(a->name, "tracepoint") ? "sched/sched_switch" :
				   !strcmp(a->name, "struct_ops") ? "tcp_congestion_ops" : "do_exit");
		return NULL;
	}
	if (!a->args->str || a->args->next) {
		diag_error(c->d, a->args->loc, "@%s takes one string argument", a->name);
		return NULL;
	}
	return a->args->str;
}

static void no_attr_args(struct checker *c, const struct attr *a)
{
	if (a->has_parens)
		diag_error(c->d, a->loc, "@%s takes no arguments", a->name);
}

static const char *const kfunc_flags[] = {
	"acquire", "release", "ret_null", "trusted_args", "sleepable", "destructive",
};

static void check_kfunc_attr(struct checker *c, const struct attr *a)
{
	for (const struct attr_arg *arg = a->args; arg; arg = arg->next) {
		bool ok = false;

		for (size_t i = 0; arg->name && !arg->has_ival && i < ARRAY_SIZE(kfunc_flags); i++)
			ok |= !strcmp(arg->name, kfunc_flags[i]);
		if (!ok)
			diag_error(c->d, arg->loc,
				   "unknown kfunc flag (expected acquire, release, ret_null, trusted_args, sleepable or destructive)");
	}
}

/* Program attributes and the program type each selects. */
static const struct {
	const char *name;
	enum prog_kind prog;
} prog_attrs[] = {
	{ "xdp", PROG_XDP }, { "tc", PROG_TC }, { "probe", PROG_PROBE },
	{ "tracepoint", PROG_TRACEPOINT }, { "perf_event", PROG_PERF_EVENT },
};

static bool classify_prog(struct checker *c, struct decl *fn, const struct attr *a)
{
	const char *arg;

	for (size_t i = 0; i < ARRAY_SIZE(prog_attrs); i++) {
		if (strcmp(a->name, prog_attrs[i].name))
			continue;
		fn->role = ROLE_PROG;
		fn->prog = prog_attrs[i].prog;
		switch (fn->prog) {
		case PROG_XDP:
		case PROG_PERF_EVENT:
			no_attr_args(c, a);
			break;
		case PROG_TC:
			arg = attr_string(c, a, true);
			if (arg && strcmp(arg, "ingress") && strcmp(arg, "egress"))
				diag_error(c->d, a->args->loc,
					   "@tc direction must be \"ingress\" or \"egress\", not \"%s\"", arg);
			fn->attach_target = arg;
			break;
		case PROG_PROBE:
			arg = attr_string(c, a, true);
			if (arg && !*arg)
				diag_error(c->d, a->args->loc, "@probe needs a kernel function name");
			if (arg && strchr(arg, '+'))
				fn->prog = PROG_KPROBE;
			fn->attach_target = arg;
			break;
		case PROG_TRACEPOINT:
			arg = attr_string(c, a, true);
			if (arg && (!strchr(arg, '/') || strchr(arg, '/') == arg ||
				    !strchr(arg, '/')[1] || strchr(strchr(arg, '/') + 1, '/')))
				diag_error(c->d, a->args->loc,
					   "@tracepoint target must be \"category/event\", not \"%s\"", arg);
			fn->attach_target = arg;
			break;
		default:
			break;
		}
		return true;
	}
	return false;
}

/* Sets role/prog from the attributes; reports unknown or conflicting ones. */
static void classify_function(struct checker *c, struct decl *fn)
{
	int roles = 0;

	fn->role = ROLE_USER;
	for (const struct attr *a = fn->attrs; a; a = a->next) {
		if (classify_prog(c, fn, a)) {
			roles++;
			continue;
		}
		roles++;
		if (!strcmp(a->name, "helper")) {
			fn->role = ROLE_HELPER;
			no_attr_args(c, a);
		} else if (!strcmp(a->name, "kfunc")) {
			fn->role = ROLE_KFUNC;
			check_kfunc_attr(c, a);
		} else if (!strcmp(a->name, "private")) {
			fn->role = ROLE_PRIVATE;
			no_attr_args(c, a);
		} else if (!strcmp(a->name, "test")) {
			fn->role = ROLE_TEST;
			no_attr_args(c, a);
		} else {
			roles--;
			diag_error(c->d, a->loc, "unknown function attribute '@%s'", a->name);
		}
	}
	if (roles > 1)
		diag_error(c->d, fn->attrs->next->loc,
			   "function '%s' has more than one kind attribute", fn->name);
}

/* ---- declarations ---- */

/* Asked per struct and per impl block: one walk for all of them (the first of a name wins). */
struct decl *sema_struct_ops_type(struct program *prog, const char *name)
{
	if (!prog->struct_ops_indexed) {
		for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
			if (d->kind == D_STRUCT && d->struct_ops)
				strmap_put(prog->arena, &prog->struct_ops_types, d->name, d, false);
		prog->struct_ops_indexed = true;
	}
	return strmap_get(&prog->struct_ops_types, name);
}

bool is_kmod_ops_type(const struct decl *d)
{
	return d && d->kind == D_STRUCT && d->struct_ops && d->target == TARGET_KMOD;
}

struct struct_field *struct_ops_member(const struct decl *type, const char *name)
{
	for (struct struct_field *f = type->fields; f; f = f->next)
		if (!strcmp(f->name, name) && type_unalias(f->ty)->kind == TY_FUNC)
			return f;
	return NULL;
}

/* What a BPF program receives in one u64 context slot: scalars and pointers. */
static bool fits_ctx_slot(struct type *t)
{
	struct type *u = type_unalias(t);

	return type_is_error(u) || type_is_scalar(u);
}

/*
 * @struct_ops("T") @kmod struct T { member: fn(...) -> R, ... }: a type the
 * module registers with the kernel.  The kernel finds it in module BTF by
 * its struct name, and BPF programs get each argument in a u64 slot.
 */
static void check_kmod_ops_type(struct checker *c, struct decl *d, const struct attr *kmod)
{
	if (!d->struct_ops) {
		diag_error(c->d, kmod->loc,
			   "@kmod on a struct declares a struct_ops type the module defines: add @struct_ops(\"%s\")",
			   d->name);
		return;
	}
	if (strcmp(d->struct_ops, d->name))
		diag_error(c->d, kmod->loc,
			   "a struct_ops type the module defines is registered under its own name: write @struct_ops(\"%s\")",
			   d->name);
	if (!d->fields)
		diag_error(c->d, d->name_loc, "struct_ops type '%s' has no members", d->name);
	for (struct struct_field *f = d->fields; f; f = f->next) {
		struct type *t = type_unalias(f->ty);
		bool ok = t->kind == TY_FUNC && (!t->base || type_is_void(t->base) ||
						 fits_ctx_slot(t->base));

		for (int i = 0; ok && i < t->nparams; i++)
			ok = fits_ctx_slot(t->params[i]);
		if (!ok && !type_is_error(t))
			diag_error(c->d, f->loc,
				   "member '%s' of struct_ops type '%s' must be a function taking and returning integers, bools, enums or pointers, e.g. fn(x: u32) -> u32",
				   f->name, d->name);
	}
}

static void declare_struct(struct checker *c, struct decl *d)
{
	const struct attr *kmod = NULL;

	for (const struct attr *a = d->attrs; a; a = a->next) {
		if (!strcmp(a->name, "struct_ops")) {
			d->struct_ops = attr_string(c, a, true);
		} else if (!strcmp(a->name, "kmod")) {
			/* ksc extension: the module defines and registers this struct_ops type. */
			no_attr_args(c, a);
			kmod = a;
			d->target = TARGET_KMOD;
		} else {
			diag_error(c->d, a->loc, "unknown struct attribute '@%s'", a->name);
		}
	}
	for (struct struct_field *f = d->fields; f; f = f->next) {
		resolve_type(c, f->ty);
		for (struct struct_field *g = d->fields; g != f; g = g->next)
			if (!strcmp(g->name, f->name))
				diag_error(c->d, f->loc, "duplicate field '%s' in struct '%s'",
					   f->name, d->name);
		/* Maps and ring buffers are kernel objects, not values a struct can hold. */
		if (type_is_void(f->ty) || type_unalias(f->ty)->kind == TY_MAP ||
		    type_unalias(f->ty)->kind == TY_RINGBUF)
			diag_error(c->d, f->loc, "field '%s' cannot have type %s", f->name,
				   type_str(c->a, f->ty));
	}
	if (kmod)
		check_kmod_ops_type(c, d, kmod);
}

/*
 * A program's enum constants are 32-bit (the parser let through anything
 * a kernel enum may hold).  A counted one (previous + 1) is reported once:
 * the ones after it follow from it.  A header's enums are the kernel's.
 */
static void check_enum_value(struct checker *c, struct decl *d, struct enum_const *e,
			     bool *reported)
{
	struct int_val v = int_val_of(e->value);
	bool ok = d->from_header || enum_value_fits(v, false);

	if (e->has_value)
		*reported = false;
	if (!ok && !*reported)
		enum_value_error(c->d, e->loc, v, false, !e->has_value);
	*reported |= !ok;
}

static void declare_enum(struct checker *c, struct decl *d)
{
	long long next = 0;
	bool reported = false;

	for (struct enum_const *e = d->consts; e; e = e->next) {
		struct sym *s;

		if (e->has_value)
			next = e->value;
		e->value = next;
		/* Counted on the bits: a header's values above INT64_MAX are held so. */
		next = (long long)((uint64_t)next + 1);
		check_enum_value(c, d, e, &reported);
		s = declare_value(c, e->name, e->loc, REF_ENUMCONST, d);
		if (s)
			s->ec = e;
	}
}

/* A constant initializer: literals, enum constants, arrays and struct literals of those. */
static bool is_constant(struct checker *c, const struct expr *e)
{
	switch (e->kind) {
	case E_INT: case E_STR: case E_CHAR: case E_BOOL: case E_NULL:
		return true;
	case E_UNARY:
		return e->op == UOP_NEG && is_constant(c, e->lhs);
	case E_IDENT:
		return e->ref == REF_ENUMCONST;
	case E_ARRAY:
		for (const struct expr *a = e->args; a; a = a->next)
			if (!is_constant(c, a))
				return false;
		return true;
	case E_STRUCTLIT:
		for (const struct field_init *f = e->fields; f; f = f->next)
			if (!is_constant(c, f->value))
				return false;
		return true;
	case E_BINARY:
		return e->op <= OP_MOD && is_constant(c, e->lhs) && is_constant(c, e->rhs);
	default:
		return false;
	}
}

static void declare_config(struct checker *c, struct decl *d)
{
	for (struct config_field *f = d->cfields; f; f = f->next) {
		resolve_type(c, f->ty);
		for (struct config_field *g = d->cfields; g != f; g = g->next)
			if (!strcmp(g->name, f->name))
				diag_error(c->d, f->loc, "duplicate field '%s' in config '%s'",
					   f->name, d->name);
		if (!f->value)
			continue;
		check_value(c, f->value, f->ty, "config field default");
		if (!is_constant(c, f->value))
			diag_error(c->d, f->value->loc, "a config default must be a constant");
	}
	declare_value(c, d->name, d->name_loc, REF_CONFIG, d);
}

static const struct {
	const char *name;
	bool has_arg;
} map_flag_names[] = {
	{ "no_prealloc", false }, { "no_common_lru", false }, { "rdonly", false },
	{ "wronly", false }, { "clone", false }, { "numa_node", true },
	{ "rdonly_prog", false }, { "wronly_prog", false }, { "mmapable", false },
};

static void check_map_flags(struct checker *c, struct decl *d)
{
	struct map_flag head = { 0 }, *cur = &head;

	for (const struct attr *a = d->attrs; a; a = a->next) {
		if (strcmp(a->name, "flags")) {
			diag_error(c->d, a->loc, "unknown map attribute '@%s' (only @flags is allowed)",
				   a->name);
			continue;
		}
		if (d->kind != D_MAP) {
			diag_error(c->d, a->loc, "@flags applies only to maps");
			continue;
		}
		for (const struct attr_arg *arg = a->args; arg; arg = arg->next) {
			size_t i;

			for (i = 0; i < ARRAY_SIZE(map_flag_names); i++)
				if (arg->name && !strcmp(arg->name, map_flag_names[i].name))
					break;
			if (i == ARRAY_SIZE(map_flag_names) ||
			    arg->has_ival != map_flag_names[i].has_arg) {
				diag_error(c->d, arg->loc, "unknown map flag '%s'",
					   arg->name ? arg->name : arg->str);
				continue;
			}
			cur = cur->next = arena_alloc(c->a, sizeof(*cur));
			cur->name = arg->name;
			cur->arg = arg->ival;
			cur->has_arg = arg->has_ival;
			cur->loc = arg->loc;
		}
	}
	d->flags = head.next;
}

static void declare_map(struct checker *c, struct decl *d)
{
	struct type *t = d->ty;

	resolve_type(c, t);
	check_map_flags(c, d);
	if (d->is_local)
		diag_error(c->d, d->loc, "a map cannot be 'local'");
	if (d->init)
		diag_error(c->d, d->init->loc, "a map cannot have an initializer");
	if (t->kind == TY_MAP && (t->map == MAP_ARRAY || t->map == MAP_PERCPU_ARRAY) &&
	    !type_is_error(t->key) && !type_is_int(t->key))
		diag_error(c->d, t->key->loc, "an array map's key must be an integer, not %s",
			   type_str(c->a, t->key));
	declare_value(c, d->name, d->name_loc, REF_MAP, d);
}

static void declare_global(struct checker *c, struct decl *d)
{
	bool module_state = false;

	for (const struct attr *a = d->attrs; a; a = a->next) {
		if (!strcmp(a->name, "private")) {
			module_state = true;
			no_attr_args(c, a);
		} else {
			diag_error(c->d, a->loc, "unknown attribute '@%s' on a variable", a->name);
		}
	}
	if (module_state && (d->is_local || d->is_pinned))
		diag_error(c->d, d->loc, "@private module state cannot be 'pin' or 'local'");
	if (d->ty)
		resolve_type(c, d->ty);
	c->ctx = module_state ? TARGET_KMOD : TARGET_NONE;
	if (d->init) {
		struct type *t = d->ty ? check_value(c, d->init, d->ty, "initializer")
				       : check_expr(c, d->init, NULL);

		if (!is_constant(c, d->init))
			diag_error(c->d, d->init->loc, "a global initializer must be a constant");
		if (!d->ty)
			d->ty = infer_var_type(c, t, d->init);
	}
	if (d->ty && !type_is_error(d->ty) && !is_plain_value_type(d->ty))
		diag_error(c->d, d->name_loc, "global '%s' cannot have type %s", d->name,
			   type_str(c->a, d->ty));
	d->target = module_state ? TARGET_KMOD : TARGET_EBPF;
	declare_value(c, d->name, d->name_loc, REF_GLOBAL, d);
}

static void declare_extern(struct checker *c, struct decl *d)
{
	for (struct param *p = d->params; p; p = p->next)
		resolve_type(c, p->ty);
	if (d->ret)
		resolve_type(c, d->ret);
	declare_value(c, d->name, d->name_loc, REF_EXTERN, d);
}

/* Size of the kernel struct's char array `name` member (tcp_congestion_ops: 16), or 0. */
static long long struct_ops_name_size(struct checker *c, const char *kstruct)
{
	struct decl *k = kstruct ? btf_find_type(c->prog->kernel, c->a, kstruct) : NULL;

	if (!k || k->kind != D_STRUCT)
		return 0;
	for (struct struct_field *f = k->fields; f; f = f->next)
		if (!strcmp(f->name, "name") && type_unalias(f->ty)->kind == TY_ARRAY)
			return type_unalias(f->ty)->count;
	return 0;
}

static void check_impl_name(struct checker *c, struct decl *d)
{
	long long size = struct_ops_name_size(c, d->struct_ops);

	if (!size)
		return;
	for (struct impl_field *f = d->ifields; f; f = f->next) {
		if (strcmp(f->name, "name"))
			continue;
		if (f->value->kind == E_STR && f->value->str_len >= size) {
			diag_error(c->d, f->value->loc, "%s names are at most %lld characters",
				   d->struct_ops, size - 1);
			diag_note(c->d, f->value->loc, "the kernel's %s.name is char[%lld], its "
				  "terminator included, and registration refuses a longer one",
				  d->struct_ops, size);
		}
		return;
	}
	if ((long long)strlen(d->name) >= size)
		diag_warning(c->d, d->name_loc,
			     "'%s' is registered as '%.*s' (%s names are at most %lld characters); set name: \"...\" to choose",
			     d->name, (int)(size - 1), d->name, d->struct_ops, size - 1);
}

/*
 * Whether a method's written type fits the kernel's.  *u8 and *void stand
 * for any pointer (0.1.1 programs write `sk: *u8`); integers must have the
 * kernel's size; pointers to structs must name the same struct.
 */
static bool proto_type_fits(struct type *mine, struct type *kernel)
{
	struct type *m = type_unalias(mine), *k = type_unalias(kernel);

	if (type_is_error(m) || type_is_error(k))
		return true;
	if (m->kind == TY_PTR && k->kind == TY_PTR) {
		struct type *mb = type_unalias(m->base), *kb = type_unalias(k->base);

		if (mb->kind == TY_VOID || (mb->kind == TY_INT && mb->size == 1) || kb->kind == TY_VOID)
			return true;
		return type_equal(mb, kb);
	}
	if (type_is_int(m) && type_is_int(k))
		return type_size(m) == type_size(k);
	if (m->kind == TY_BOOL || k->kind == TY_BOOL)
		return (m->kind == TY_BOOL || type_size(m) == 1) && (k->kind == TY_BOOL || type_size(k) == 1);
	return type_equal(m, k);
}

static const char *proto_str(struct checker *c, struct type *fn)
{
	struct strbuf sb;
	char *s;
	const char *r;

	sb_init(&sb);
	sb_puts(&sb, "fn(");
	for (int i = 0; i < fn->nparams; i++)
		sb_printf(&sb, "%s%s", i ? ", " : "", type_str(c->a, fn->params[i]));
	sb_printf(&sb, ") -> %s", type_str(c->a, fn->base));
	s = sb_detach(&sb);
	r = arena_strdup(c->a, s);
	free(s);
	return r;
}

/* The member's prototype from the program's declaration of the type; *why as btf_member_proto. */
static struct type *ks_member_proto(struct decl *type, const char *member, int *why)
{
	struct struct_field *f = struct_ops_member(type, member);

	if (f) {
		*why = 0;
		return type_unalias(f->ty);
	}
	*why = 2;
	for (f = type->fields; f; f = f->next)
		if (!strcmp(f->name, member))
			*why = 3;
	return NULL;
}

/*
 * A struct_ops method against the member of the same name: of the type the
 * program declares, else of the kernel struct (BTF).
 */
static void check_method_proto(struct checker *c, struct decl *impl, struct decl *m)
{
	struct decl *type = sema_struct_ops_type(c->prog, impl->struct_ops);
	int why, i = 0;
	struct type *k = type ? ks_member_proto(type, m->name, &why) :
			 btf_member_proto(c->prog->kernel, c->a, impl->struct_ops, m->name, &why);
	bool ok;

	if (why == 1)
		return; /* reported once for the impl block */
	if (why == 2 || why == 3) {
		diag_error(c->d, m->name_loc, "%s has no %s '%s'", impl->struct_ops,
			   why == 2 ? "member" : "function member", m->name);
		return;
	}
	ok = k->nparams == m->nparams;
	for (struct param *p = m->params; p && ok; p = p->next, i++)
		ok = proto_type_fits(p->ty, k->params[i]);
	if (ok && !type_is_void(k->base))
		ok = m->ret && proto_type_fits(m->ret, k->base);
	else if (ok)
		ok = !m->ret || type_is_void(m->ret);
	if (!ok) {
		diag_error(c->d, m->name_loc, "'%s' does not match %s.%s, which is %s", m->name,
			   impl->struct_ops, m->name, proto_str(c, k));
		/* KernelScript 0.1.1 takes any method; the kernel does not. */
		diag_note(c->d, m->name_loc, "the kernel calls %s through that member's prototype "
			  "(its BTF), and refuses a program whose arguments or result differ",
			  m->name);
	}
}

/* Whether the program or a header it includes declares struct name. */
static bool declared_struct(struct program *prog, const char *name)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_STRUCT && !strcmp(d->name, name))
			return true;
	return false;
}

static void check_impl(struct checker *c, struct decl *d)
{
	const struct attr *a = find_attr(d, "struct_ops");

	d->target = TARGET_EBPF;
	for (const struct attr *x = d->attrs; x; x = x->next) {
		if (!strcmp(x->name, "kmod")) {
			/* ksc extension: the methods are kernel module code, registered natively. */
			no_attr_args(c, x);
			d->target = TARGET_KMOD;
		} else if (strcmp(x->name, "struct_ops")) {
			diag_error(c->d, x->loc, "unknown impl block attribute '@%s'", x->name);
		}
	}
	if (!a)
		diag_error(c->d, d->loc, "impl block '%s' needs @struct_ops(\"kernel_struct\")",
			   d->name);
	else
		d->struct_ops = attr_string(c, a, true);
	/*
	 * Generated C defines the instance with the kernel's type: with none
	 * anywhere it cannot build.  One only a header declares (the
	 * reference's sched_ext_ops.kh) is for a kernel that has it.
	 */
	if (d->struct_ops && !sema_struct_ops_type(c->prog, d->struct_ops) &&
	    !btf_find_type(c->prog->kernel, c->a, d->struct_ops)) {
		if (!declared_struct(c->prog, d->struct_ops)) {
			diag_error(c->d, d->name_loc, "no struct_ops type '%s': the kernel BTF %s "
				   "has none", d->struct_ops, btf_types_path(c->prog->kernel));
			diag_note(c->d, d->name_loc, "give the BTF of a kernel that has it (--btf "
				  "FILE), or include a header that declares it");
		} else {
			diag_warning(c->d, d->name_loc, "the kernel BTF %s has no struct %s: its "
				     "methods are not checked against the kernel",
				     btf_types_path(c->prog->kernel), d->struct_ops);
		}
	}
	check_impl_name(c, d);
	for (struct impl_field *f = d->ifields; f; f = f->next) {
		c->ctx = d->target;
		check_expr(c, f->value, NULL);
		if (!is_constant(c, f->value))
			diag_error(c->d, f->value->loc, "an impl field value must be a constant");
	}
	for (struct decl *m = d->methods; m; m = m->next) {
		m->role = ROLE_METHOD;
		m->prog = PROG_STRUCT_OPS;
		for (struct decl *o = d->methods; o != m; o = o->next)
			if (!strcmp(o->name, m->name))
				diag_error(c->d, m->name_loc, "duplicate method '%s' in impl block '%s'",
					   m->name, d->name);
		c->impl = d;
		check_function(c, m);
		c->impl = NULL;
		if (d->struct_ops)
			check_method_proto(c, d, m);
	}
}

static void declare_func(struct checker *c, struct decl *d)
{
	classify_function(c, d);
	/* Declared before its body is checked so it may refer to itself. */
	declare_value(c, d->name, d->name_loc, REF_FUNC, d);
	check_function(c, d);
}

/*
 * Pass 1: type names, so a struct may be used before its definition (the
 * reference resolves types over the whole file).
 */
static void declare_type_names(struct checker *c, struct decl *d)
{
	switch (d->kind) {
	case D_STRUCT:
	case D_ENUM:
	case D_ALIAS:
		declare_type(c, d);
		break;
	default:
		break;
	}
}

/* Pass 2: type bodies, then the program's state: everything but functions. */
static void declare_type_bodies(struct checker *c, struct decl *d)
{
	switch (d->kind) {
	case D_STRUCT:
		declare_struct(c, d);
		break;
	case D_ENUM:
		declare_enum(c, d);
		break;
	case D_ALIAS:
		resolve_type(c, d->ty);
		break;
	default:
		break;
	}
}

/* ---- types that contain themselves ---- */

/*
 * Two walks over the declared types, each giving every declaration a depth
 * (memoized, so shared parts are walked once): aliases through everything
 * they are written with, structs through what they hold by value (arrays
 * and structs).  A cycle unwinds to the declaration it returns to, which
 * reports it and cuts the field or alias leading back, and a declaration
 * deeper than TYPE_MAX_DEPTH is reported and cut the same way: afterwards
 * every walk over types (sizes, equality, C emission) ends, and soon.
 */
enum walk_mode { WALK_ALIASES, WALK_VALUES };

/* Results of a walk other than a depth; memo slots hold depths, WALK_NEW or WALK_ACTIVE. */
#define WALK_NEW -1      /* not walked yet (decl_map's initial value) */
#define WALK_ACTIVE -2   /* on the path being walked */
#define WALK_CYCLE -3    /* came back to walk->closes */
#define WALK_RESUME -4   /* path too long for the stack: walk from walk->resume first */

struct type_walk {
	struct checker *c;
	enum walk_mode mode;
	struct decl_map depth;
	struct decl *closes;
	struct decl *resume;
};

static long long decl_depth(struct type_walk *w, struct decl *d, int level);

static bool is_declared_struct(const struct type *t)
{
	return t && (t->kind == TY_STRUCT || t->kind == TY_NAMED) && t->decl &&
	       t->decl->kind == D_STRUCT && !t->decl->from_btf;
}

/* What a value of type t holds in place: arrays and structs, aliases seen through. */
static long long value_depth(struct type_walk *w, struct type *t, int level)
{
	long long x;

	t = type_unalias(t);
	if (t && t->kind == TY_ARRAY) {
		x = value_depth(w, t->base, level + 1);
		return x < 0 ? x : x + 1;
	}
	return is_declared_struct(t) ? decl_depth(w, t->decl, level + 1) : 0;
}

static long long deeper(long long best, long long x)
{
	return x < 0 || best < 0 ? (x < best ? x : best) : x > best ? x : best;
}

/* How deep t is as written, every alias in it expanded (structs are named, not expanded). */
static long long written_depth(struct type_walk *w, struct type *t, int level)
{
	long long best = 0;

	if (!t)
		return 0;
	switch (t->kind) {
	case TY_NAMED:
		return t->decl && t->decl->kind == D_ALIAS ? decl_depth(w, t->decl, level + 1) : 1;
	case TY_FUNC:
		for (int i = 0; i < t->nparams && best >= 0; i++)
			best = deeper(best, written_depth(w, t->params[i], level + 1));
		break;
	case TY_MAP:
		best = written_depth(w, t->key, level + 1);
		break;
	case TY_PTR:
	case TY_ARRAY:
	case TY_RINGBUF:
		break;
	default:
		return 1;
	}
	if (best >= 0)
		best = deeper(best, written_depth(w, t->base, level + 1));
	return best < 0 ? best : best + 1;
}

static void cut(struct type_walk *w, struct type **t)
{
	*t = ty_basic(w->c, TY_ERROR);
}

static long long fields_depth(struct type_walk *w, struct decl *d, int level)
{
	long long best = 0;
	bool deep = false;

	for (struct struct_field *f = d->fields; f && best >= 0; f = f->next) {
		long long x = value_depth(w, f->ty, level);

		if (x == WALK_CYCLE && w->closes == d) {
			diag_error(w->c->d, d->name_loc,
				   "struct '%s' contains itself by value (through field '%s'): use a pointer",
				   d->name, f->name);
			cut(w, &f->ty);
			x = 0;
		} else if (x >= TYPE_MAX_DEPTH) {
			if (!deep)
				diag_error(w->c->d, d->name_loc,
					   "struct '%s' nests too deeply (more than %d levels of structs and arrays held by value)",
					   d->name, TYPE_MAX_DEPTH);
			deep = true;
			cut(w, &f->ty);
			x = 0;
		}
		best = deeper(best, x);
	}
	return best;
}

static long long alias_depth(struct type_walk *w, struct decl *d, int level)
{
	long long x = written_depth(w, d->ty, level);

	if (x == WALK_CYCLE && w->closes == d) {
		diag_error(w->c->d, d->name_loc, "type alias '%s' refers to itself", d->name);
		cut(w, &d->ty);
		x = 1;
	} else if (x >= TYPE_MAX_DEPTH) {
		diag_error(w->c->d, d->name_loc, "type alias '%s' nests too deeply (more than %d levels)",
			   d->name, TYPE_MAX_DEPTH);
		cut(w, &d->ty);
		x = 1;
	}
	return x;
}

/* The depth of d: one more than what it is made of. */
static long long decl_depth(struct type_walk *w, struct decl *d, int level)
{
	long long *slot = decl_map_slot(&w->depth, d), x;

	if (*slot >= 0)
		return *slot;
	if (*slot == WALK_ACTIVE) {
		w->closes = d;
		return WALK_CYCLE;
	}
	if (level > TYPE_MAX_DEPTH) {
		w->resume = d;
		return WALK_RESUME;
	}
	*slot = WALK_ACTIVE;
	x = w->mode == WALK_VALUES ? fields_depth(w, d, level) : alias_depth(w, d, level);
	if (x >= 0)
		x++;
	/* The slot again: the walk may have grown the map.  A failed walk is redone later. */
	*decl_map_slot(&w->depth, d) = x >= 0 ? x : WALK_NEW;
	return x;
}

/* A path too long to follow is walked from its far end first, then again from d. */
static void walk_root(struct type_walk *w, struct decl *d)
{
	struct decl *x;

	do {
		x = d;
		while (decl_depth(w, x, 0) == WALK_RESUME)
			x = w->resume;
	} while (x != d);
}

static void check_type_depths(struct checker *c)
{
	struct type_walk w = { .c = c, .mode = WALK_ALIASES };

	for (struct decl *d = c->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_ALIAS)
			walk_root(&w, d);
	decl_map_free(&w.depth);
	w.mode = WALK_VALUES;
	for (struct decl *d = c->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_STRUCT && !d->from_btf)
			walk_root(&w, d);
	decl_map_free(&w.depth);
}

static void declare_state(struct checker *c, struct decl *d)
{
	switch (d->kind) {
	case D_IMPORT:
		declare_value(c, d->name, d->name_loc, REF_IMPORT, d);
		break;
	case D_CONFIG:
		declare_config(c, d);
		break;
	case D_EXTERN:
		declare_extern(c, d);
		break;
	case D_MAP:
		declare_map(c, d);
		break;
	case D_GLOBAL:
		declare_global(c, d);
		break;
	case D_IMPL:
		declare_value(c, d->name, d->name_loc, REF_IMPL, d);
		break;
	default:
		break;
	}
	if (d->kind != D_GLOBAL && d->kind != D_MAP && d->kind != D_FUNC && d->kind != D_STRUCT &&
	    d->kind != D_IMPL && d->attrs)
		diag_error(c->d, d->attrs->loc, "attributes are not allowed here");
}

/* Pass 3: functions, in order: a function is visible only after its definition. */
static void check_code(struct checker *c, struct decl *d)
{
	if (d->kind == D_FUNC)
		declare_func(c, d);
	else if (d->kind == D_IMPL)
		check_impl(c, d);
}

static void declare_builtins(struct checker *c)
{
	for (int b = 1; b < BI_COUNT; b++)
		sym_add(c, c->values, builtin_name((enum builtin)b), REF_BUILTIN)->bi = (enum builtin)b;
}

int sema_check(struct program *prog, struct diag *d)
{
	struct checker c = { .a = prog->arena, .d = d, .prog = prog };

	declare_builtins(&c);
	for (struct decl *x = prog->decls; decl_visit(x); x = x->next)
		declare_type_names(&c, x);
	for (struct decl *x = prog->decls; decl_visit(x) && !diag_too_many(d); x = x->next)
		declare_type_bodies(&c, x);
	check_type_depths(&c);
	for (struct decl *x = prog->decls; decl_visit(x) && !diag_too_many(d); x = x->next)
		declare_state(&c, x);
	for (struct decl *x = prog->decls; decl_visit(x) && !diag_too_many(d); x = x->next)
		check_code(&c, x);
	free(c.locals);
	decl_map_free(&c.sizes);
	return diag_errors(d) ? -1 : 0;
}
