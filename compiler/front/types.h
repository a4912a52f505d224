/* Type helpers: construction, naming for messages, compatibility, sizes. */
#ifndef KSC_TYPES_H
#define KSC_TYPES_H

#include "ast.h"

/* Follows aliases (TY_NAMED resolved to an alias) to the underlying type. */
struct type *type_unalias(struct type *t);

bool type_is_int(const struct type *t);      /* TY_INT, TY_CHAR, TY_ENUM */
bool type_is_scalar(const struct type *t);   /* int-like, bool, pointer */
bool type_is_error(const struct type *t);
bool type_is_void(const struct type *t);

/* Human-readable spelling in KernelScript syntax, e.g. "*xdp_md", "str(16)". */
const char *type_str(struct arena *a, const struct type *t);

bool type_equal(const struct type *a, const struct type *b);

/*
 * Whether a value of type `from` may be stored where `to` is expected.
 * `from_const` says the value is an integer constant (checked for range by
 * the caller).
 */
bool type_assignable(const struct type *to, const struct type *from);

/* Value of an integer constant expression (literals, enum constants, + - * / %). */
bool const_eval(const struct expr *e, long long *v);

/*
 * An integer constant's exact value, as sign and magnitude: constants run
 * from -(2^64 - 1) to 2^64 - 1, more than any one C integer type holds, and
 * a range check must see the value before any conversion wraps it.
 */
struct int_val {
	uint64_t mag;
	bool neg;              /* never set with mag 0 */
};

struct int_val int_val_of(long long x);
int int_val_cmp(struct int_val a, struct int_val b);
/* Decimal, with a leading '-' when negative. */
const char *int_val_str(struct arena *a, struct int_val v);

/*
 * The values of t: TY_INT by size and sign, char as a byte (0..255), a
 * program's enum as its 32 bits (enum_value_fits).  False for any other
 * type (a kernel enum, bool, ...), which has no range to check.
 */
bool type_int_range(const struct type *t, struct int_val *lo, struct int_val *hi);
/* v is a value of t; true when t has no range (type_int_range). */
bool int_val_fits(struct int_val v, const struct type *t);

/*
 * The values of a program's enum constants: 32 bits, signed or unsigned
 * (the reference's enums are u32; ksc allows negative ones), -2^31 ..
 * 2^32 - 1.  Kernel enums (headers, BTF) may be 64-bit: -2^63 .. 2^64 - 1,
 * held as their bits in a long long.
 */
bool enum_value_fits(struct int_val v, bool kernel);
/* The error for an enum constant outside that range; implicit: previous + 1. */
void enum_value_error(struct diag *d, struct ks_loc loc, struct int_val v, bool kernel,
		      bool implicit);

/*
 * ctx->data, ->data_end, ->data_meta of xdp_md and __sk_buff: declared u32
 * (the UAPI layout) but holding packet addresses.
 */
bool is_packet_field(const struct expr *e);

/*
 * The deepest a type may be, counting each *, [N], fn, map and alias level,
 * and each struct and array held by value.  The checker rejects deeper
 * types, alias cycles and structs that contain themselves, so every walk
 * over types recurses at most this far.
 */
#define TYPE_MAX_DEPTH 256

/*
 * Size in bytes on the eBPF side, for the stack limit; -1 if unknown.
 * Sizes saturate at 2^40 bytes.
 */
long long type_size(const struct type *t);

/* A value (initially -1) for each declaration, e.g. a struct's size. */
struct decl_map {
	const struct decl **keys;
	long long *vals;
	size_t cap, n;
};
/* The value's slot, added as -1 if new; valid until the next call. */
long long *decl_map_slot(struct decl_map *m, const struct decl *d);
void decl_map_free(struct decl_map *m);

/*
 * type_size() that remembers each struct's size in memo: without it, a
 * struct holding two of a struct holding two of ... is sized in
 * exponential time.
 */
long long type_size_memo(struct decl_map *memo, const struct type *t);

#endif
