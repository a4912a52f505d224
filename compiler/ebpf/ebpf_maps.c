/*
 * Maps in eBPF code: reads with a zero default, writes that insert,
 * atomic updates, maps of objects (kptrs), config and pinned-globals maps,
 * and the map definitions themselves.
 */
#include "ebpf_internal.h"

#include <stdlib.h>
#include <string.h>

#include "ebpf_abi.h"

static bool is_map_read(const struct expr *e)
{
	return e->kind == E_INDEX && e->map_lookup;
}

static struct decl *map_of(const struct expr *e)
{
	return e->lhs->kind == E_IDENT ? e->lhs->decl : NULL;
}

static bool is_config_field(const struct expr *e)
{
	return e->kind == E_FIELD && e->lhs->kind == E_IDENT && e->lhs->ref == REF_CONFIG;
}

static const char *map_cname(struct cgen *g, struct decl *m)
{
	return eb_obj_cname(g, m->name);
}

/* ---- maps of objects (kptrs) ---- */

/*
 * A map whose values are `*T`, T a struct of the program, keeps `new T()`
 * objects: each value is a struct holding one referenced kptr
 * (struct ksc_kptr_T).  Storing moves the object in with bpf_kptr_xchg;
 * reading loads the kptr, which in a non-sleepable program is an RCU
 * protected pointer the program may read and write through; deleting the
 * entry frees the object.
 */
struct decl *eb_kptr_struct(struct type *mt)
{
	struct type *v;

	mt = ut(mt);
	if (mt->kind != TY_MAP)
		return NULL;
	v = ut(mt->base);
	if (v->kind != TY_PTR || ut(v->base)->kind != TY_STRUCT)
		return NULL;
	v = ut(v->base);
	return v->decl && !v->decl->from_header && !v->decl->from_btf ? v->decl : NULL;
}

bool eb_is_kptr_read(const struct expr *e)
{
	return e && is_map_read(e) && map_of(e) && eb_kptr_struct(map_of(e)->ty);
}

static const char *slot_type(struct cgen *g, struct decl *d)
{
	return arena_printf(g->a, "struct ksc_kptr_%s", d->name);
}

/* ---- reads and writes ---- */

/* A map read as a value: a copy of the entry, or zero when there is none. */
static void map_read(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct decl *m = map_of(e);
	struct type *mt = ut(m->ty);
	struct decl *obj = eb_kptr_struct(mt);

	sb_printf(sb, "({ %s = ", cg_decl(g, mt->key, "__k"));
	cg_expr(g, sb, e->rhs);
	if (obj) {
		/* The stored object, or NULL: the program reads and writes it in place. */
		sb_printf(sb, "; %s *__p = bpf_map_lookup_elem(&%s, &__k); __p ? __p->obj : NULL; })",
			  slot_type(g, obj), map_cname(g, m));
		return;
	}
	sb_printf(sb, "; %s = bpf_map_lookup_elem(&%s, &__k); ",
		  cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
	if (ut(mt->base)->kind == TY_STRUCT || ut(mt->base)->kind == TY_ARRAY ||
	    ut(mt->base)->kind == TY_STR)
		sb_printf(sb, "%s = {}; if (__p) __builtin_memcpy(&__v, __p, sizeof(__v)); __v; })",
			  cg_decl(g, mt->base, "__v"));
	else
		sb_printf(sb, "__p ? *__p : 0; })");
}

static void note_config(struct cgen *g, const char *name)
{
	struct ptrvec *v = &EB(g)->configs;

	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], name))
			return;
	ptrvec_push(g->a, v, (void *)name);
}

static bool config_used(struct cgen *g, const char *name)
{
	struct ptrvec *v = &EB(g)->configs;

	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->v[i], name))
			return true;
	return false;
}

/* m[k] == null, m[k] != null: whether the entry exists. */
static bool map_null_test(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	struct expr *m;
	struct type *mt;

	if (!(e->kind == E_BINARY && (e->op == OP_EQ || e->op == OP_NE) &&
	      ((e->rhs->kind == E_NULL && is_map_read(e->lhs) && !eb_is_kptr_read(e->lhs)) ||
	       (e->lhs->kind == E_NULL && is_map_read(e->rhs) && !eb_is_kptr_read(e->rhs)))))
		return false;
	m = e->lhs->kind == E_NULL ? e->rhs : e->lhs;
	mt = ut(map_of(m)->ty);
	sb_printf(sb, "({ %s = ", cg_decl(g, mt->key, "__k"));
	cg_expr(g, sb, m->rhs);
	sb_printf(sb, "; bpf_map_lookup_elem(&%s, &__k) %s NULL; })", map_cname(g, map_of(m)),
		  e->op == OP_EQ ? "==" : "!=");
	return true;
}

bool eb_map_expr(struct cgen *g, struct strbuf *sb, struct expr *e)
{
	if (map_null_test(g, sb, e))
		return true;
	if (is_map_read(e)) {
		map_read(g, sb, e);
		return true;
	}
	if (is_config_field(e)) {
		note_config(g, e->lhs->str);
		sb_printf(sb, "%s%s()->%s", e->lhs->str, KSC_CONFIG_STRUCT_SUFFIX, e->str);
		return true;
	}
	return false;
}

/*
 * *__p op= v on a map value.  += and -= are atomic where BPF has atomics
 * for the value's size (32 and 64 bits; -= as the add of the negation,
 * since an atomic sub needs -mcpu=v3); other sizes and operators are a
 * plain read-modify-write, which the comment says.
 */
static bool rmw_is_atomic(const struct stmt *s, struct type *vt)
{
	long long size = type_is_int(vt) ? type_size(vt) : 0;

	return (s->op == OP_ADD || s->op == OP_SUB) && (size == 4 || size == 8);
}

static void map_rmw(struct cgen *g, struct stmt *s, struct type *vt)
{
	long long size = type_is_int(vt) ? type_size(vt) : 0;
	bool atomic = rmw_is_atomic(s, vt);

	if (atomic && s->op == OP_ADD) {
		cg_line(g, "__sync_fetch_and_add(__p, %s);", cg_expr_str(g, s->value));
	} else if (atomic) {
		cg_line(g, "__sync_fetch_and_add(__p, -(%s)(%s));", cg_type(g, vt),
			cg_expr_str(g, s->value));
	} else {
		if (s->op == OP_ADD || s->op == OP_SUB)
			cg_line(g, "/* No BPF atomics for %lld-byte values: not atomic across CPUs. */",
				size);
		cg_line(g, "*__p %s= %s;", eb_assign_op(s), cg_expr_str(g, s->value));
	}
}

/*
 * m[k] op= v on an array: an array has an entry for every key in range,
 * and one out of range has no entry to insert, so a missing entry is
 * left alone rather than given an update that could never store.
 */
static void array_rmw(struct cgen *g, struct stmt *s, struct type *mt)
{
	/* One line, unless map_rmw has to say it is not atomic. */
	if (rmw_is_atomic(s, mt->base) || (s->op != OP_ADD && s->op != OP_SUB)) {
		cg_line(g, "if (__p)");
		g->indent++;
		map_rmw(g, s, mt->base);
		g->indent--;
		return;
	}
	cg_open(g, "if (__p) {");
	map_rmw(g, s, mt->base);
	cg_close(g, "}");
}

static bool is_array_map(const struct type *mt)
{
	return mt->map == MAP_ARRAY || mt->map == MAP_PERCPU_ARRAY;
}

/* m[k] = v and m[k] op= v: update in place when present, insert otherwise. */
static void map_assign(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);

	cg_open(g, "{");
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	if (s->op >= 0 && is_array_map(mt)) {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
			cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
		array_rmw(g, s, mt);
	} else if (s->op < 0) {
		cg_line(g, "%s = %s;", cg_decl(g, mt->base, "__v"), cg_expr_str(g, s->value));
		cg_line(g, "bpf_map_update_elem(&%s, &__k, &__v, BPF_ANY);", map_cname(g, m));
	} else {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
			cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
		cg_open(g, "if (__p) {");
		map_rmw(g, s, mt->base);
		cg_reopen(g, "} else {");
		cg_line(g, "%s = 0;", cg_decl(g, mt->base, "__v"));
		cg_line(g, "__v %s= %s;", eb_assign_op(s), cg_expr_str(g, s->value));
		cg_line(g, "bpf_map_update_elem(&%s, &__k, &__v, BPF_ANY);", map_cname(g, m));
		cg_close(g, "}");
	}
	cg_close(g, "}");
}

/* m[k].f = v and m[k].f op= v: in place, only when the entry exists. */
static void map_field_assign(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs->lhs;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);

	cg_open(g, "{");
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
		cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
	cg_line(g, "if (__p)");
	cg_line(g, "\t__p->%s %s= %s;", s->lhs->str, eb_assign_op(s), cg_expr_str(g, s->value));
	cg_close(g, "}");
}

/*
 * if (var x = m[k]) { ... } else { ... }: x is the stored object, the
 * entry itself (binds_pointer) or a copy of it, and the branch is taken
 * when the entry exists.
 */
static void map_ifvar(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->value;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	struct decl *obj = eb_kptr_struct(mt);
	const char *x = cg_local_name(s);

	cg_open(g, "{");
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	if (obj) {
		cg_block(g, "\
			%s *__p = bpf_map_lookup_elem(&%s, &__k);\n\
			\n\
			%s = __p ? __p->obj : NULL;\n", slot_type(g, obj), map_cname(g, m), x);
		cg_open(g, "if (%s) {", x);
	} else if (s->binds_pointer) {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);", x, map_cname(g, m));
		cg_open(g, "if (%s) {", x);
	} else {
		cg_line(g, "%s = bpf_map_lookup_elem(&%s, &__k);",
			cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m));
		cg_open(g, "if (__p) {");
		cg_line(g, "%s = *__p;", x);
	}
	cg_emit_stmts(g, s->then);
	if (s->els) {
		cg_reopen(g, "} else {");
		cg_emit_stmts(g, s->els);
	}
	cg_close(g, "}");
	cg_close(g, "}");
}

/*
 * var x = m[k]: x is a copy (zero if absent) and x_found remembers whether
 * the entry existed, which is what `x == null` asks.
 */
static void lookup_var(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->value;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	const char *x = cg_local_name(s);

	cg_open(g, "{");
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	cg_block(g, "\
		%s = bpf_map_lookup_elem(&%s, &__k);\n\
		\n\
		%s_found = __p != NULL;\n\
		if (__p)\n\
			__builtin_memcpy(&%s, __p, sizeof(%s));\n\
		else\n\
			__builtin_memset(&%s, 0, sizeof(%s));\n",
		 cg_decl(g, type_ptr(g->a, mt->base), "__p"), map_cname(g, m), x, x, x, x, x);
	cg_close(g, "}");
}

/*
 * The store of a local that owns its object: the object moves into the
 * entry, and the local points at it, owning nothing.
 *
 * With no entry to hold it (the map is full) the object is dropped: p
 * would otherwise be an owned pointer on this path and a stored one on
 * others, and the verifier refuses one instruction writing through both.
 */
static void kptr_move(struct cgen *g, struct stmt *var, struct type *vt)
{
	const char *o = eb_owner_name(g, var);
	const char *x = cg_local_name(var);

	cg_block(g, "\
		if (__p && %s) {\n\
			%s = bpf_kptr_xchg(&__p->obj, %s);\n\
			\n\
			%s = NULL;\n\
			%s = __p->obj;\n\
			if (__old)\n\
				bpf_obj_drop(__old);\n\
		} else if (%s) {\n\
			bpf_obj_drop(%s);\n\
			%s = NULL;\n\
			%s = NULL;\n\
		}\n", o, cg_decl(g, vt, "__old"), o, o, x, o, o, o, x);
}

/*
 * m[k] = p for a map of objects: the entry is made if absent, the object
 * moves into it (bpf_kptr_xchg) and the one it held is dropped.  p then
 * points at the stored object without owning it (NULL if no entry could be
 * made).  A p that owns nothing (it was read from a map) stores nothing.
 */
static void kptr_store(struct cgen *g, struct stmt *s)
{
	struct expr *idx = s->lhs;
	struct decl *m = map_of(idx);
	struct type *mt = ut(m->ty);
	const char *slot = slot_type(g, eb_kptr_struct(mt));
	const char *map = map_cname(g, m);
	bool fresh = s->value->kind == E_NEW;

	cg_open(g, "{");
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, idx->rhs));
	if (fresh)
		cg_line(g, "%s = %s;", cg_decl(g, mt->base, "__obj"), cg_expr_str(g, s->value));
	cg_block(g, "\
		%s *__p = bpf_map_lookup_elem(&%s, &__k);\n\
		\n\
		if (!__p) {\n\
			%s __v = {};\n\
			\n\
			bpf_map_update_elem(&%s, &__k, &__v, BPF_NOEXIST);\n\
			__p = bpf_map_lookup_elem(&%s, &__k);\n\
		}\n", slot, map, slot, map, map);
	if (fresh)
		/* Whatever is left, the old object or the new one that found no entry, is dropped. */
		cg_block(g, "\
			if (__p && __obj)\n\
				__obj = bpf_kptr_xchg(&__p->obj, __obj);\n\
			if (__obj)\n\
				bpf_obj_drop(__obj);\n");
	else
		kptr_move(g, s->value->local, mt->base);
	cg_close(g, "}");
}

static void map_delete(struct cgen *g, struct stmt *s)
{
	struct type *mt = ut(s->lhs->type);

	cg_open(g, "{");
	cg_line(g, "%s = %s;", cg_decl(g, mt->key, "__k"), cg_expr_str(g, s->key));
	cg_line(g, "bpf_map_delete_elem(&%s, &__k);", cg_expr_str(g, s->lhs));
	cg_close(g, "}");
}

bool eb_map_stmt(struct cgen *g, struct stmt *s)
{
	if (s->kind == S_ASSIGN && s->op < 0 && eb_is_kptr_read(s->lhs)) {
		kptr_store(g, s);
		return true;
	}
	if (s->kind == S_VAR && s->from_lookup && s->null_checked) {
		lookup_var(g, s);
		return true;
	}
	if (s->kind == S_ASSIGN && is_map_read(s->lhs)) {
		map_assign(g, s);
		return true;
	}
	if (s->kind == S_ASSIGN && s->lhs->kind == E_FIELD && is_map_read(s->lhs->lhs)) {
		map_field_assign(g, s);
		return true;
	}
	if (s->kind == S_DELETE && s->key) {
		map_delete(g, s);
		return true;
	}
	if (s->kind == S_IFVAR && is_map_read(s->value)) {
		map_ifvar(g, s);
		return true;
	}
	return false;
}

/* ---- definitions ---- */

static const char *map_type_name(enum map_kind k)
{
	static const char *const names[] = {
		"BPF_MAP_TYPE_HASH", "BPF_MAP_TYPE_ARRAY", "BPF_MAP_TYPE_PERCPU_HASH",
		"BPF_MAP_TYPE_PERCPU_ARRAY", "BPF_MAP_TYPE_LRU_HASH",
	};

	return names[k];
}

static const char *map_flags(struct cgen *g, struct decl *d)
{
	static const struct { const char *name, *flag; } flags[] = {
		{ "no_prealloc", "BPF_F_NO_PREALLOC" }, { "no_common_lru", "BPF_F_NO_COMMON_LRU" },
		{ "rdonly", "BPF_F_RDONLY" }, { "wronly", "BPF_F_WRONLY" },
		{ "clone", "BPF_F_CLONE" }, { "numa_node", "BPF_F_NUMA_NODE" },
		{ "rdonly_prog", "BPF_F_RDONLY_PROG" }, { "wronly_prog", "BPF_F_WRONLY_PROG" },
		{ "mmapable", "BPF_F_MMAPABLE" },
	};
	struct strbuf sb;
	char *s;
	const char *r;

	sb_init(&sb);
	for (struct map_flag *f = d->flags; f; f = f->next)
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
			if (!strcmp(f->name, flags[i].name))
				sb_printf(&sb, "%s%s", sb.len ? " | " : "", flags[i].flag);
	s = sb_detach(&sb);
	r = *s ? arena_strdup(g->a, s) : NULL;
	free(s);
	return r;
}

void eb_emit_map(struct cgen *g, struct decl *d)
{
	struct type *t = ut(d->ty);
	struct decl *obj = eb_kptr_struct(t);
	const char *flags = map_flags(g, d);

	cg_open(g, "struct {");
	if (t->kind == TY_RINGBUF) {
		cg_line(g, "__uint(type, BPF_MAP_TYPE_RINGBUF);");
		cg_line(g, "__uint(max_entries, %lld);", t->count);
	} else {
		cg_line(g, "__uint(type, %s);", map_type_name(t->map));
		cg_line(g, "__uint(max_entries, %lld);", t->count);
		cg_line(g, "__type(key, %s);", cg_type(g, t->key));
		cg_line(g, "__type(value, %s);", obj ? slot_type(g, obj) : cg_type(g, t->base));
	}
	if (flags)
		cg_line(g, "__uint(map_flags, %s);", flags);
	for (struct map_flag *f = d->flags; f; f = f->next)
		if (f->has_arg)
			cg_line(g, "__uint(numa_node, %lld);", f->arg);
	cg_close(g, "} %s%s SEC(\".maps\");", eb_obj_cname(g, d->name), eb_asm_label(g, d->name));
	cg_blank(g);
}

/* The value types of maps of objects: one referenced kptr each. */
void eb_emit_kptr_slots(struct cgen *g, struct ebpf *eb)
{
	if (!eb->slots.n)
		return;
	/* clang 14 drops the btf_type_tag the kernel finds kptrs by: the map would not load. */
	cg_block(g, "\
		#if defined(__clang_major__) && __clang_major__ < 15\n\
		#error \"maps of objects need clang 15 or newer (BTF type tags for __kptr)\"\n\
		#endif\n\
		#ifndef __kptr\n\
		#define __kptr __attribute__((btf_type_tag(\"kptr\")))\n\
		#endif\n\
		\n");
	for (int i = 0; i < eb->slots.n; i++) {
		struct decl *obj = eb->slots.v[i];

		cg_block(g, "\
			%s {\n\
				struct %s __kptr *obj;\n\
			};\n\
			\n", slot_type(g, obj), obj->name);
	}
}

/* An ARRAY map of one entry of struct st: a config block's, the pinned globals'. */
static void emit_one_entry_map(struct cgen *g, const char *st, const char *map)
{
	cg_block(g, "\
		struct {\n\
			__uint(type, BPF_MAP_TYPE_ARRAY);\n\
			__uint(max_entries, 1);\n\
			__type(key, __u32);\n\
			__type(value, struct %s);\n\
		} %s SEC(\".maps\");\n\
		\n", st, map);
}

/*
 * fn(): the entry of such a map, or `unset` (zero) where the lookup finds
 * none, so that readers never see NULL.  `var` names the entry inside.
 */
static void emit_entry_accessor(struct cgen *g, const char *st, const char *fn, const char *map,
				const char *unset, const char *var)
{
	/* Global, not static: clang would fold a never-written static into a constant. */
	cg_block(g, "\
		__hidden struct %s %s;\n\
		\n\
		static __always_inline struct %s *%s(void)\n\
		{\n\
			__u32 key = 0;\n\
			struct %s *%s = bpf_map_lookup_elem(&%s, &key);\n\
			\n\
			return %s ? %s : &%s;\n\
		}\n\
		\n", st, unset, st, fn, st, var, map, var, var, unset);
}

void eb_emit_config(struct cgen *g, struct decl *d)
{
	const char *st = arena_printf(g->a, "%s%s", d->name, KSC_CONFIG_STRUCT_SUFFIX);
	const char *map = arena_printf(g->a, "%s%s", d->name, KSC_CONFIG_MAP_SUFFIX);

	cg_emit_config_struct(g, d);
	emit_one_entry_map(g, st, map);
	if (!config_used(g, d->name))
		return;
	/* Reads never see NULL: before userspace writes the config, fields read zero. */
	emit_entry_accessor(g, st, st, map, arena_printf(g->a, "%s_unset", d->name), "c");
}

void eb_emit_pinned_globals(struct cgen *g)
{
	bool any = false;

	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		any |= d->kind == D_GLOBAL && d->is_pinned && d->target == TARGET_EBPF;
	if (!any)
		return;
	cg_emit_pinned_struct(g);
	emit_one_entry_map(g, KSC_PINNED_GLOBALS, KSC_PINNED_GLOBALS);
	if (!EB(g)->uses_pinned)
		return;
	/* The entry always exists; the fallback only satisfies the verifier. */
	emit_entry_accessor(g, KSC_PINNED_GLOBALS, "ksc_" KSC_PINNED_GLOBALS, KSC_PINNED_GLOBALS,
			    KSC_PINNED_GLOBALS "_unset", "p");
}
