/* Shared between the parts of the checker (sema*.c); not a public interface. */
#ifndef KSC_SEMA_INTERNAL_H
#define KSC_SEMA_INTERNAL_H

#include <stdlib.h>

#include "builtins.h"
#include "sema.h"
#include "types.h"

#define SEMA_BUCKETS 4096

struct sym {
	const char *name;
	enum ref_kind kind;
	struct decl *decl;
	struct enum_const *ec;     /* REF_ENUMCONST */
	enum builtin bi;           /* REF_BUILTIN */
	struct sym *next;
};

struct local {
	const char *name;
	struct type *ty;
	struct stmt *decl;
	int param;                 /* parameter index or -1 */
	bool is_const;
	int depth;                 /* block depth it was declared at */
};

struct checker {
	struct arena *a;
	struct diag *d;
	struct program *prog;
	struct sym *values[SEMA_BUCKETS];
	struct sym *types[SEMA_BUCKETS];
	struct local *locals;
	int nlocals, caplocals;
	int depth;                 /* block nesting in the current function */
	struct decl *fn;           /* function being checked, NULL at top level */
	struct decl *impl;         /* impl block whose method is being checked */
	enum target ctx;           /* where the current code runs */
	int loops;
	int tries;                 /* enclosing try blocks */
	struct decl_map sizes;     /* struct sizes, for the stack accounting */
	long long stack;           /* eBPF stack bytes of the current function */
	bool stack_reported;
	int returns_seen;
	bool tail_pos;             /* the expression is the value of a return */
};

struct sym *sym_lookup(struct sym **table, const char *name);
struct sym *sym_add(struct checker *c, struct sym **table, const char *name, enum ref_kind kind);
struct sym *declare_value(struct checker *c, const char *name, struct ks_loc loc,
			  enum ref_kind kind, struct decl *decl);
void resolve_type(struct checker *c, struct type *t);

/* sema_stmt.c: in userspace code, an error for a type holding a kernel struct by value. */
void check_user_value(struct checker *c, struct type *t, struct ks_loc loc);

/* sema_expr.c */
const char *ctx_name(enum target t);
struct type *ty_error(struct checker *c);
struct type *func_type(struct checker *c, struct decl *d);
void record_call(struct checker *c, struct decl *callee);
struct type *check_expr(struct checker *c, struct expr *e, struct type *want);
/* Checks e against the type it is stored into; `what` names the place. */
struct type *check_value(struct checker *c, struct expr *e, struct type *to, const char *what);
struct type *check_cond(struct checker *c, struct expr *e);
/* The type a `var x = e` gets. */
struct type *infer_var_type(struct checker *c, struct type *t, struct expr *e);
struct type *ty_basic(struct checker *c, enum type_kind k);
void check_lvalue(struct checker *c, struct expr *e, bool compound);

/* sema_const.c */
/* The text of each binary operator, by enum binop. */
extern const char *const binop_text[];
/* The one message for an integer constant that is not a value of the type t it must be. */
void range_error(struct checker *c, struct ks_loc loc, struct int_val v, const struct type *t);
/* A constant stored into (passed as, returned as, ...) a value of type to must be one. */
void check_const_fits(struct checker *c, const struct expr *e, const struct type *to);
/* Called once e has its type: its children are folded already. */
void fold_const(struct checker *c, struct expr *e);

/* sema_call.c */
struct type *check_call(struct checker *c, struct expr *e, bool tail);

/* sema_stmt.c */
void check_function(struct checker *c, struct decl *fn);
/* A value-returning fn whose body can reach its end (sema_return.c). */
void check_returns(struct checker *c, struct decl *fn);
struct local *find_local(struct checker *c, const char *name);
/* Type of a block used as a value (match arm); NULL if it has none. */
struct type *check_block_value(struct checker *c, struct stmt *body, struct type *want,
			       struct ks_loc at);

#endif
