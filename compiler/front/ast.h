/*
 * The KernelScript AST, shared by the parser, the checker and the three
 * backends.  Nodes live in the program's arena.  Lists are linked through
 * `next`.  The checker fills the fields marked "(sema)".
 */
#ifndef KSC_AST_H
#define KSC_AST_H

#include <stdbool.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "map.h"

struct decl;
struct expr;
struct stmt;

/* ---- types ---- */

enum type_kind {
	TY_ERROR,     /* poison: already diagnosed, accepted everywhere */
	TY_VOID,
	TY_BOOL,
	TY_CHAR,
	TY_INT,       /* u8..u64, i8..i64 (size, is_signed) */
	TY_STR,       /* str(N) */
	TY_ARRAY,     /* base[N] */
	TY_PTR,       /* *base */
	TY_FUNC,      /* fn(params) -> ret */
	TY_MAP,       /* hash<K,V>(N) and friends */
	TY_RINGBUF,   /* ringbuf<T>(bytes) */
	TY_NAMED,     /* an identifier: struct, enum, alias, impl; resolved by sema */
	TY_STRUCT,
	TY_ENUM,
	TY_NULL,      /* type of `null` */
	TY_HANDLE,    /* ProgramHandle, returned by load() */
	TY_IMPL,      /* a struct_ops impl block used as a value */
};

enum map_kind {
	MAP_HASH,
	MAP_ARRAY,
	MAP_PERCPU_HASH,
	MAP_PERCPU_ARRAY,
	MAP_LRU_HASH,
	MAP_KIND_COUNT
};

struct type {
	enum type_kind kind;
	int size;              /* TY_INT: bytes */
	bool is_signed;        /* TY_INT */
	bool int_literal;      /* untyped integer constant (sema) */
	long long count;       /* TY_STR length, TY_ARRAY length, TY_MAP max entries, TY_RINGBUF bytes */
	enum map_kind map;     /* TY_MAP */
	bool map_default_size; /* TY_MAP written without (N) */
	struct type *base;     /* TY_ARRAY, TY_PTR elem; TY_MAP/TY_RINGBUF value; TY_FUNC return */
	struct type *key;      /* TY_MAP */
	struct type **params;  /* TY_FUNC */
	const char **param_names; /* TY_FUNC: as written (entries may be NULL), or NULL */
	int nparams;
	const char *name;      /* TY_NAMED: as written; alias name kept for codegen */
	struct decl *decl;     /* TY_STRUCT/TY_ENUM/TY_IMPL, TY_NAMED alias (sema) */
	struct ks_loc loc;     /* where written, for messages */
};

/* ---- attributes ---- */

struct attr_arg {
	const char *name;      /* identifier argument, or NULL */
	const char *str;       /* string argument, or NULL */
	long long ival;        /* numa_node(N) style argument */
	bool has_ival;
	struct ks_loc loc;
	struct attr_arg *next;
};

struct attr {
	const char *name;
	struct attr_arg *args;
	bool has_parens;
	struct ks_loc loc;
	struct attr *next;
};

/* ---- expressions ---- */

enum expr_kind {
	E_INT, E_STR, E_CHAR, E_BOOL, E_NULL,
	E_ARRAY,      /* [..] literal: args; empty = zero, one = fill */
	E_IDENT,
	E_BINARY, E_UNARY,
	E_FIELD,      /* lhs.name */
	E_ARROW,      /* lhs->name */
	E_INDEX,      /* lhs[rhs] */
	E_CALL,       /* lhs(args) */
	E_STRUCTLIT,  /* name { fields } */
	E_MATCH,
	E_NEW,        /* new T() / new T(flag): ty, lhs = flag */
	E_CAST,       /* lhs as ty (ksc extension) */
};

enum binop {
	OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MOD,
	OP_EQ, OP_NE, OP_LT, OP_LE, OP_GT, OP_GE,
	OP_AND, OP_OR,
};

enum unop { UOP_NOT, UOP_NEG, UOP_DEREF, UOP_ADDR };

/* What an identifier or call refers to (sema). */
enum ref_kind {
	REF_NONE,
	REF_LOCAL,    /* local variable or parameter */
	REF_GLOBAL,   /* global variable */
	REF_MAP,
	REF_CONFIG,   /* config block name */
	REF_FUNC,
	REF_EXTERN,
	REF_ENUMCONST,
	REF_BUILTIN,
	REF_IMPL,
	REF_IMPORT,   /* imported module name */
};

struct field_init {
	const char *name;
	struct expr *value;
	struct ks_loc loc;
	struct field_init *next;
};

struct match_arm {
	enum { PAT_INT, PAT_STR, PAT_CHAR, PAT_BOOL, PAT_IDENT, PAT_DEFAULT } pat;
	struct token *pat_tok;  /* the pattern token (value, text) */
	bool pat_neg;           /* -INT (ksc extension) */
	struct expr *value;     /* expression arm */
	struct stmt *body;      /* block arm (list) */
	bool is_block;
	struct ks_loc loc;
	struct match_arm *next;
};

struct expr {
	enum expr_kind kind;
	struct ks_loc loc;
	struct expr *lhs, *rhs;
	struct expr *args;         /* E_CALL args, E_ARRAY elements (linked by next) */
	struct expr *next;
	int op;                    /* enum binop / enum unop */
	uint64_t ival;             /* E_INT, E_CHAR, E_BOOL */
	bool is_unsigned;
	bool hex;
	const char *str;           /* E_STR contents, E_IDENT/E_FIELD/E_ARROW/E_STRUCTLIT name */
	int str_len;
	struct type *ty;           /* E_NEW, E_CAST written type */
	struct field_init *fields; /* E_STRUCTLIT */
	struct match_arm *arms;    /* E_MATCH */
	bool paren;                /* written in parentheses */

	/* (sema) */
	struct type *type;
	enum ref_kind ref;
	struct decl *decl;         /* REF_GLOBAL/MAP/CONFIG/FUNC/EXTERN/ENUMCONST/IMPL/IMPORT */
	struct stmt *local;        /* REF_LOCAL: declaring statement (S_VAR/S_IFVAR/S_FOR) or param */
	int param_index;           /* REF_LOCAL parameter: index, else -1 */
	long long enum_value;      /* REF_ENUMCONST */
	int builtin;               /* REF_BUILTIN: enum builtin */
	bool is_tail_call;         /* E_CALL: `return prog(ctx)` */
	bool map_lookup;           /* E_INDEX on a map */
	bool const_known;          /* constant folded value in cval */
	long long cval;
};

/* ---- statements ---- */

enum stmt_kind {
	S_VAR,        /* var/const: name, ty?, value? */
	S_ASSIGN,     /* lhs op= value (op < 0: plain) */
	S_EXPR,
	S_RETURN,
	S_IF,         /* cond, then, els */
	S_IFVAR,      /* if (var name = value) then else */
	S_WHILE,
	S_FOR,        /* for (name in lo..hi) body */
	S_DELETE,     /* delete target[key] or delete target */
	S_BREAK, S_CONTINUE,
	S_TRY,
	S_THROW,
	S_DEFER,
};

struct catch_clause {
	bool wildcard;
	long long code;
	struct stmt *body;
	struct ks_loc loc;
	struct catch_clause *next;
};

struct stmt {
	enum stmt_kind kind;
	struct ks_loc loc;
	struct stmt *next;
	const char *name;          /* S_VAR, S_IFVAR, S_FOR */
	struct ks_loc name_loc;
	bool is_const;
	struct type *ty;           /* S_VAR declared type */
	struct expr *value;        /* init, rhs, return value, throw, defer, while/if cond */
	struct expr *lhs;          /* S_ASSIGN target, S_DELETE target, S_FOR lo */
	struct expr *key;          /* S_DELETE map key, S_FOR hi */
	int op;                    /* S_ASSIGN: -1 plain, else enum binop */
	struct stmt *then, *els, *body;
	struct catch_clause *catches;

	/* (sema) */
	struct type *var_type;     /* S_VAR/S_IFVAR/S_FOR variable type */
	bool binds_pointer;        /* S_IFVAR: variable is the lookup pointer */
	bool from_lookup;          /* S_VAR: initialized by a map lookup (may be null) */
	bool null_checked;         /* S_VAR from_lookup: compared with null somewhere */
	bool addr_returned;        /* S_VAR: &var is returned, so it lives in static storage */
	const char *cname;         /* (codegen) C name of the variable */
};

/* ---- declarations ---- */

enum decl_kind {
	D_INCLUDE, D_IMPORT, D_CONFIG, D_FUNC, D_EXTERN, D_MAP, D_STRUCT,
	D_ENUM, D_ALIAS, D_GLOBAL, D_IMPL,
};

/* Which program type an attributed function is (sema). */
enum prog_kind {
	PROG_NONE,
	PROG_XDP,
	PROG_TC,
	PROG_PROBE,       /* fentry */
	PROG_KPROBE,      /* probe("fn+off") */
	PROG_TRACEPOINT,
	PROG_PERF_EVENT,
	PROG_STRUCT_OPS,  /* impl block method */
};

/* Where a function's code goes: decided once, by the target split. */
enum target {
	TARGET_NONE,
	TARGET_EBPF,
	TARGET_USER,
	TARGET_KMOD,
};

enum func_role {
	ROLE_USER,        /* unattributed */
	ROLE_PROG,        /* @xdp, @tc, @probe, @tracepoint, @perf_event */
	ROLE_HELPER,
	ROLE_KFUNC,
	ROLE_PRIVATE,
	ROLE_TEST,
	ROLE_METHOD,      /* function inside an impl block */
};

struct param {
	const char *name;
	struct type *ty;
	struct ks_loc loc;
	struct param *next;
	struct stmt *slot;         /* (sema) pseudo declaration for references */
};

struct config_field {
	const char *name;
	struct type *ty;
	struct expr *value;        /* default, may be NULL */
	struct ks_loc loc;
	struct config_field *next;
};

struct struct_field {
	const char *name;
	struct type *ty;
	struct ks_loc loc;
	bool called;               /* (sema) module code calls it through a @kmod struct_ops type */
	struct struct_field *next;
};

struct enum_const {
	const char *name;
	bool has_value;
	long long value;           /* explicit or (sema) assigned */
	struct ks_loc loc;
	struct enum_const *next;
};

struct map_flag {
	const char *name;
	long long arg;
	bool has_arg;
	struct ks_loc loc;
	struct map_flag *next;
};

struct impl_field {
	const char *name;
	struct expr *value;
	struct ks_loc loc;
	struct impl_field *next;
};

struct decl {
	enum decl_kind kind;
	struct ks_loc loc;
	struct ks_loc name_loc;
	const char *name;
	struct attr *attrs;
	struct decl *next;
	bool from_header;          /* declared in a .kh file: kernel-provided */
	bool from_btf;             /* made from the kernel's BTF */
	bool is_union;             /* D_STRUCT from a BTF union */
	const char *import_path;   /* D_INCLUDE/D_IMPORT path as written */
	struct program *imported;  /* D_IMPORT of a .ks (parsed and checked) */

	/* D_FUNC, D_EXTERN; impl methods */
	struct param *params;
	int nparams;
	struct type *ret;
	const char *ret_name;      /* named return */
	struct stmt *body;
	enum func_role role;       /* (sema) */
	enum prog_kind prog;       /* (sema) */
	const char *attach_target; /* @probe/@tracepoint/@tc argument */
	enum target target;        /* (target split) */
	struct decl *impl;         /* method: owning impl block */
	bool called_from_user;     /* (sema) kfunc called from userspace */
	unsigned prog_users;       /* (sema) bitmask of 1 << prog_kind that call this */
	int stack_bytes;           /* (sema) eBPF stack estimate */
	struct ptrvec calls;       /* (sema) functions and externs this one calls */
	struct decl *import_owner; /* function defined in an imported file */
	int tail_slot;             /* (ebpf_tail_targets) prog_array slot + 1; 0: no target */

	/* D_CONFIG */
	struct config_field *cfields;
	/* D_STRUCT */
	struct struct_field *fields;
	/* D_ENUM */
	struct enum_const *consts;
	/* D_ALIAS, D_GLOBAL, D_MAP */
	struct type *ty;
	struct expr *init;
	bool is_local, is_pinned;
	bool addr_taken;           /* (kmod) module state whose address module code takes */
	bool kmod_unused;          /* (kmod) @private function or state nothing in the module reaches */
	struct map_flag *flags;
	/* D_IMPL */
	struct decl *methods;      /* D_FUNC list */
	struct impl_field *ifields;
	const char *struct_ops;    /* @struct_ops("name") */
};

/*
 * The condition of every walk of a program's declaration list, which counts
 * the step (ksc_stats, map.h): tests/ks/t-scale.sh pins that the count
 * grows linearly, that is, that no pass walks the list per declaration.
 */
static inline bool decl_visit(const struct decl *d)
{
	return d && ++ksc_stats.decl_visits;
}

struct kernel;

/* One parsed and checked .ks file with everything it includes. */
struct program {
	const char *path;
	const char *base;          /* file name without directory and .ks */
	const char *ident;         /* base as a C identifier (module name, symbols) */
	struct decl *decls;
	struct arena *arena;
	struct kernel *kernel;     /* the target kernel's facts (kernel.h) */
	bool has_kmod;             /* (target split) any module-side code or state */
	/*
	 * Set by ebpfgen_write(): a type vmlinux.h defines has anonymous
	 * members of tagged types (Linux 7.0+ is built with -fms-extensions),
	 * so the eBPF C needs clang -fms-extensions too.
	 */
	bool btf_anon_tags;
	/*
	 * (sema_struct_ops_type) struct_ops types by name, indexed on the first
	 * question, which comes after the checker has read every struct's
	 * attributes; their names never change (names.c keeps them).
	 */
	struct strmap struct_ops_types;
	bool struct_ops_indexed;
	/* (names.c) names the program declares at file scope, for renames */
	struct strmap own_names;
	bool own_names_indexed;
};

/* Constructors shared by the parser and the checker. */
struct type *type_new(struct arena *a, enum type_kind k);
struct type *type_int(struct arena *a, int size, bool is_signed);
struct type *type_ptr(struct arena *a, struct type *base);

#endif
