#include "types.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct type *type_new(struct arena *a, enum type_kind k)
{
	struct type *t = arena_alloc(a, sizeof(*t));

	t->kind = k;
	return t;
}

struct type *type_int(struct arena *a, int size, bool is_signed)
{
	struct type *t = type_new(a, TY_INT);

	t->size = size;
	t->is_signed = is_signed;
	return t;
}

struct type *type_ptr(struct arena *a, struct type *base)
{
	struct type *t = type_new(a, TY_PTR);

	t->base = base;
	return t;
}

struct type *type_unalias(struct type *t)
{
	int guard = 0;

	/* The checker rejects alias cycles and chains longer than TYPE_MAX_DEPTH. */
	while (t && t->kind == TY_NAMED && t->decl && t->decl->kind == D_ALIAS &&
	       guard++ < TYPE_MAX_DEPTH)
		t = t->decl->ty;
	return t;
}

bool type_is_error(const struct type *t)
{
	t = type_unalias((struct type *)t);
	return !t || t->kind == TY_ERROR || (t->kind == TY_NAMED && !t->decl);
}

bool type_is_void(const struct type *t)
{
	t = type_unalias((struct type *)t);
	return t && t->kind == TY_VOID;
}

bool type_is_int(const struct type *t)
{
	t = type_unalias((struct type *)t);
	return t && (t->kind == TY_INT || t->kind == TY_CHAR || t->kind == TY_ENUM);
}

bool type_is_scalar(const struct type *t)
{
	t = type_unalias((struct type *)t);
	return t && (type_is_int(t) || t->kind == TY_BOOL || t->kind == TY_PTR ||
		     t->kind == TY_NULL);
}

static void type_spell(struct strbuf *sb, const struct type *t)
{
	static const char *const map_names[] = {
		"hash", "array", "percpu_hash", "percpu_array", "lru_hash",
	};

	if (!t) {
		sb_puts(sb, "void");
		return;
	}
	switch (t->kind) {
	case TY_ERROR:
		sb_puts(sb, "<error>");
		break;
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
		if (t->int_literal)
			sb_puts(sb, "integer literal");
		else
			sb_printf(sb, "%c%d", t->is_signed ? 'i' : 'u', t->size * 8);
		break;
	case TY_STR:
		sb_printf(sb, "str(%lld)", t->count);
		break;
	case TY_ARRAY:
		type_spell(sb, t->base);
		sb_printf(sb, "[%lld]", t->count);
		break;
	case TY_PTR:
		sb_putc(sb, '*');
		type_spell(sb, t->base);
		break;
	case TY_FUNC:
		sb_puts(sb, "fn(");
		for (int i = 0; i < t->nparams; i++) {
			if (i)
				sb_puts(sb, ", ");
			type_spell(sb, t->params[i]);
		}
		sb_puts(sb, ") -> ");
		type_spell(sb, t->base);
		break;
	case TY_MAP:
		sb_printf(sb, "%s<", map_names[t->map]);
		type_spell(sb, t->key);
		sb_puts(sb, ", ");
		type_spell(sb, t->base);
		sb_printf(sb, ">(%lld)", t->count);
		break;
	case TY_RINGBUF:
		sb_puts(sb, "ringbuf<");
		type_spell(sb, t->base);
		sb_printf(sb, ">(%lld)", t->count);
		break;
	case TY_NAMED:
		sb_puts(sb, t->name ? t->name : "?");
		break;
	case TY_STRUCT:
	case TY_ENUM:
	case TY_IMPL:
		sb_puts(sb, t->decl ? t->decl->name : "?");
		break;
	case TY_NULL:
		sb_puts(sb, "null");
		break;
	case TY_HANDLE:
		sb_puts(sb, "ProgramHandle");
		break;
	}
}

const char *type_str(struct arena *a, const struct type *t)
{
	struct strbuf sb;
	char *s, *r;

	sb_init(&sb);
	type_spell(&sb, t);
	s = sb_detach(&sb);
	r = arena_strdup(a, s);
	free(s);
	return r;
}

/* Resolves a TY_NAMED that sema bound to a struct/enum/impl to its kind. */
static const struct type *canon(const struct type *t)
{
	return type_unalias((struct type *)t);
}

static enum type_kind named_kind(const struct type *t)
{
	if (t->kind != TY_NAMED || !t->decl)
		return t->kind;
	switch (t->decl->kind) {
	case D_STRUCT:
		return TY_STRUCT;
	case D_ENUM:
		return TY_ENUM;
	case D_IMPL:
		return TY_IMPL;
	default:
		return t->kind;
	}
}

bool type_equal(const struct type *a, const struct type *b)
{
	a = canon(a);
	b = canon(b);
	if (!a || !b)
		return a == b;
	if (type_is_error(a) || type_is_error(b))
		return true;
	if (named_kind(a) != named_kind(b))
		return false;
	switch (named_kind(a)) {
	case TY_INT:
		return a->size == b->size && a->is_signed == b->is_signed;
	case TY_STR:
		return a->count == b->count;
	case TY_ARRAY:
		return a->count == b->count && type_equal(a->base, b->base);
	case TY_PTR:
		return type_equal(a->base, b->base);
	case TY_FUNC:
		if (a->nparams != b->nparams || !type_equal(a->base, b->base))
			return false;
		for (int i = 0; i < a->nparams; i++)
			if (!type_equal(a->params[i], b->params[i]))
				return false;
		return true;
	case TY_MAP:
		return a->map == b->map && type_equal(a->key, b->key) && type_equal(a->base, b->base);
	case TY_RINGBUF:
		return type_equal(a->base, b->base);
	case TY_STRUCT:
	case TY_ENUM:
	case TY_IMPL:
		return a->decl == b->decl;
	default:
		return true;
	}
}

bool type_assignable(const struct type *to, const struct type *from)
{
	to = canon(to);
	from = canon(from);
	if (type_is_error(to) || type_is_error(from))
		return true;
	/*
	 * Integers, chars and enums convert to one another implicitly, as in C;
	 * bool and the integers only through `as` (the language's rule: `var b:
	 * bool = 42` and `var x: u32 = true` are errors).
	 */
	if (type_is_int(to) && type_is_int(from))
		return true;
	if (to->kind == TY_BOOL && from->kind == TY_BOOL)
		return true;
	if (to->kind == TY_PTR && from->kind == TY_NULL)
		return true;
	if (to->kind == TY_PTR && from->kind == TY_PTR) {
		const struct type *tb = canon(to->base), *fb = canon(from->base);

		/* *void and *u8 take any pointer, like void * and char * in C. */
		if (tb->kind == TY_VOID || fb->kind == TY_VOID)
			return true;
		if (tb->kind == TY_INT && tb->size == 1)
			return true;
		return type_equal(tb, fb);
	}
	/* Strings convert between sizes; a longer one is truncated (checker warns). */
	if (to->kind == TY_STR && from->kind == TY_STR)
		return true;
	if (to->kind == TY_ARRAY && from->kind == TY_ARRAY)
		return from->count <= to->count && type_assignable(to->base, from->base);
	return type_equal(to, from);
}

/* ---- integer values and ranges ---- */

struct int_val int_val_of(long long x)
{
	/* Negated as unsigned: -LLONG_MIN does not exist as a long long. */
	return (struct int_val){ .mag = x < 0 ? 0 - (uint64_t)x : (uint64_t)x, .neg = x < 0 };
}

int int_val_cmp(struct int_val a, struct int_val b)
{
	int m = a.mag < b.mag ? -1 : a.mag > b.mag;

	if (a.neg != b.neg)
		return a.neg ? -1 : 1;
	return a.neg ? -m : m;
}

const char *int_val_str(struct arena *a, struct int_val v)
{
	return arena_printf(a, "%s%llu", v.neg ? "-" : "", (unsigned long long)v.mag);
}

/* Values from -2^(neg_bits - 1) (from 0 if neg_bits is 0) to 2^bits - 1. */
static void bit_range(int neg_bits, int bits, struct int_val *lo, struct int_val *hi)
{
	*lo = (struct int_val){ .mag = neg_bits ? 1ULL << (neg_bits - 1) : 0, .neg = neg_bits > 0 };
	*hi = (struct int_val){ .mag = bits == 64 ? UINT64_MAX : (1ULL << bits) - 1 };
}

static bool in_range(struct int_val v, struct int_val lo, struct int_val hi)
{
	return int_val_cmp(v, lo) >= 0 && int_val_cmp(v, hi) <= 0;
}

/* A program's enums, not the kernel's (headers, BTF): those are 64-bit and trusted. */
static bool is_program_enum(const struct type *t)
{
	return named_kind(t) == TY_ENUM && t->decl && !t->decl->from_header && !t->decl->from_btf;
}

bool type_int_range(const struct type *t, struct int_val *lo, struct int_val *hi)
{
	t = canon(t);
	if (t && t->kind == TY_CHAR) {
		bit_range(0, 8, lo, hi);
		return true;
	}
	if (t && is_program_enum(t)) {
		bit_range(32, 32, lo, hi);
		return true;
	}
	/* BTF may describe integers wider than 64 bits; they have no constants to check. */
	if (!t || t->kind != TY_INT || t->size < 1 || t->size > 8)
		return false;
	if (t->is_signed)
		bit_range(t->size * 8, t->size * 8 - 1, lo, hi);
	else
		bit_range(0, t->size * 8, lo, hi);
	return true;
}

bool int_val_fits(struct int_val v, const struct type *t)
{
	struct int_val lo, hi;

	return !type_int_range(t, &lo, &hi) || in_range(v, lo, hi);
}

bool enum_value_fits(struct int_val v, bool kernel)
{
	struct int_val lo, hi;

	bit_range(kernel ? 64 : 32, kernel ? 64 : 32, &lo, &hi);
	return in_range(v, lo, hi);
}

/* Here rather than in the checker: the parser reports values no enum holds, sema the rest. */
void enum_value_error(struct diag *d, struct ks_loc loc, struct int_val v, bool kernel,
		      bool implicit)
{
	diag_error(d, loc, "enum value %s%llu%s does not fit in %s", v.neg ? "-" : "",
		   (unsigned long long)v.mag, implicit ? " (the previous value + 1)" : "",
		   kernel ? "64 bits (-9223372036854775808..18446744073709551615)" :
			    "32 bits (-2147483648..4294967295)");
}

/* ---- declaration maps ---- */

static size_t decl_hash(const struct decl *d, size_t cap)
{
	return (size_t)(((uintptr_t)d >> 4) * 0x9e3779b97f4a7c15ull) & (cap - 1);
}

static void decl_map_grow(struct decl_map *m)
{
	struct decl_map bigger = { .cap = m->cap ? m->cap * 2 : 64 };

	bigger.keys = xcalloc(bigger.cap, sizeof(*bigger.keys));
	bigger.vals = xmalloc(sizeof(*bigger.vals) * bigger.cap);
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			*decl_map_slot(&bigger, m->keys[i]) = m->vals[i];
	decl_map_free(m);
	*m = bigger;
}

long long *decl_map_slot(struct decl_map *m, const struct decl *d)
{
	size_t i;

	if (2 * (m->n + 1) > m->cap)
		decl_map_grow(m);
	for (i = decl_hash(d, m->cap); m->keys[i]; i = (i + 1) & (m->cap - 1))
		if (m->keys[i] == d)
			return &m->vals[i];
	m->keys[i] = d;
	m->vals[i] = -1;
	m->n++;
	return &m->vals[i];
}

void decl_map_free(struct decl_map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct decl_map){ 0 };
}

/* ---- sizes ---- */

/* Beyond any real type; keeps sums and products of sizes far from overflow. */
#define SIZE_CAP (1LL << 40)

static long long size_at(struct decl_map *memo, const struct type *t, int depth);

static long long struct_size(struct decl_map *memo, const struct decl *d, int depth)
{
	long long sz = 0, align = 1;

	for (struct struct_field *f = d->fields; f; f = f->next) {
		long long fs = size_at(memo, f->ty, depth + 1);
		long long fa = fs >= 8 ? 8 : fs >= 4 ? 4 : fs >= 2 ? 2 : 1;

		if (fs < 0)
			return -1;
		if (canon(f->ty)->kind == TY_ARRAY || canon(f->ty)->kind == TY_STR)
			fa = 1;
		sz = (sz + fa - 1) / fa * fa + fs;
		if (sz > SIZE_CAP)
			sz = SIZE_CAP;
		if (fa > align)
			align = fa;
	}
	return (sz + align - 1) / align * align;
}

/*
 * Recursion is bounded by depth: the checker rejects types nested deeper
 * than TYPE_MAX_DEPTH and structs that contain themselves, and anything
 * else that reaches here (a hostile BTF file) is merely of unknown size.
 */
static long long size_at(struct decl_map *memo, const struct type *t, int depth)
{
	t = canon(t);
	if (!t)
		return 0;
	if (depth > TYPE_MAX_DEPTH)
		return -1;
	switch (named_kind(t)) {
	case TY_BOOL:
	case TY_CHAR:
		return 1;
	case TY_INT:
		return t->size;
	case TY_ENUM:
		return 4;
	case TY_PTR:
	case TY_FUNC:
	case TY_HANDLE:
		return 8;
	case TY_STR:
		/* str(N) is a length-prefixed buffer of N + 1 bytes on the eBPF side. */
		return t->count + 1 + 2;
	case TY_ARRAY: {
		long long e = size_at(memo, t->base, depth + 1);

		if (e < 0)
			return -1;
		return e && t->count > SIZE_CAP / e ? SIZE_CAP : e * t->count;
	}
	case TY_STRUCT: {
		long long sz;

		if (memo && *decl_map_slot(memo, t->decl) >= 0)
			return *decl_map_slot(memo, t->decl);
		sz = struct_size(memo, t->decl, depth);
		/* Looked up again: sizing the fields may have grown the map. */
		if (memo && sz >= 0)
			*decl_map_slot(memo, t->decl) = sz;
		return sz;
	}
	default:
		return -1;
	}
}

long long type_size(const struct type *t)
{
	return size_at(NULL, t, 0);
}

long long type_size_memo(struct decl_map *memo, const struct type *t)
{
	return size_at(memo, t, 0);
}
