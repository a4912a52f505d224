/*
 * The C emitter shared by the three backends.  It turns checked function
 * bodies into C statements; what differs per target (integer type names,
 * print, allocation, strings, map access, tail calls) comes from hooks.
 *
 * Locals are hoisted to the top of each function (kernel style, and no
 * declaration-after-statement warnings on older kernels) and given unique
 * C names when KernelScript scopes shadow each other.
 */
#ifndef KSC_CGEN_H
#define KSC_CGEN_H

#include "ast.h"
#include "util.h"

struct cgen;

enum cg_sink_kind { SINK_DISCARD, SINK_RETURN, SINK_ASSIGN };

/* Where the value of a lowered expression (match, block arm) goes. */
struct cg_sink {
	enum cg_sink_kind kind;
	const char *target;        /* SINK_ASSIGN: C lvalue */
	struct type *type;         /* SINK_ASSIGN: its type */
};

struct cg_hooks {
	/* C name of an integer type: "u32" in the kernel, "__u32" in eBPF. */
	const char *(*int_name)(int size, bool is_signed);
	/* print(...) as a statement-level C expression. */
	void (*print)(struct cgen *g, struct strbuf *sb, struct expr *call);
	/* new T / new T(flag) */
	void (*new_obj)(struct cgen *g, struct strbuf *sb, struct expr *e);
	/* delete p */
	void (*delete_ptr)(struct cgen *g, struct stmt *s);
	/* Copies a string value into a char array lvalue. */
	void (*str_assign)(struct cgen *g, const char *dst, struct type *dt, struct expr *src);
	/* Optional: a call the backend emits itself (builtins, tail calls); false: not handled. */
	bool (*call)(struct cgen *g, struct strbuf *sb, struct expr *e);
	/* Optional: map reads/writes and other target-only statements; false: not handled. */
	bool (*stmt)(struct cgen *g, struct stmt *s);
	bool (*expr)(struct cgen *g, struct strbuf *sb, struct expr *e);
	/* Optional: emits `return v` itself (e.g. tail calls); false: not handled. */
	bool (*return_value)(struct cgen *g, struct expr *v);
	/* Optional: code run before every return (e.g. releasing resources). */
	void (*before_return)(struct cgen *g);
	/* Optional: the C name of a global function or variable (default: its own). */
	const char *(*global_name)(struct cgen *g, struct decl *d);
	/* Optional: an initializer for a hoisted local's declaration (" = NULL"), or NULL. */
	const char *(*decl_init)(struct cgen *g, struct stmt *var);
	/* Optional: declarations a hoisted local needs besides itself. */
	void (*extra_decls)(struct cgen *g, struct stmt *var);
	/* Optional: the C name of a struct or enum type (kernel types in userspace), or NULL. */
	const char *(*type_name)(struct cgen *g, struct type *t);
	/* Optional: whether cg_emit_user_types emits this struct or enum. */
	bool (*want_type)(struct cgen *g, struct decl *d);
	/* Optional: a throw no try of the function catches (default: return the code). */
	void (*uncaught)(struct cgen *g);
	/* Whether #line directives are emitted before each statement. */
	bool line_directives;
	/* Whether memset/memcpy are spelled __builtin_memset/__builtin_memcpy (no libc). */
	bool builtin_mem;
	/* How a never-read local is marked so that C does not warn (default: the GCC attribute). */
	const char *maybe_unused;
};

struct cgen {
	struct arena *a;
	struct program *prog;
	struct strbuf *out;
	int indent;
	const struct cg_hooks *h;
	void *backend;             /* the backend's own state */
	struct decl *fn;           /* function being emitted */
	int ntmp;                  /* temporaries made in this function */
	int ndefer;                /* defer statements in this function */
	int *try_stack;            /* ids of the enclosing try blocks */
	int try_depth, ntry;
	bool uses_err;             /* the function needs the try/throw status */
	bool uses_out;             /* returns go through the exit label */
	struct ptrvec hoisted;     /* struct stmt * whose variables are declared on top */
	struct ptrvec defers;      /* struct stmt * (S_DEFER), in order */
};

void cg_init(struct cgen *g, struct arena *a, struct program *prog, struct strbuf *out,
	     const struct cg_hooks *h);

/* Emits one indented line. */
void cg_line(struct cgen *g, const char *fmt, ...) KSC_PRINTF(2, 3);
/* Emits a blank line. */
void cg_blank(struct cgen *g);

/*
 * Emits a fixed block of C written as it reads in the generated file: a
 * literal whose lines keep their tabs, the first line's tabs being the
 * baseline (as in bpftool's codegen()).  Each line loses the baseline and
 * gains the current indentation; a line of tabs alone is a blank line, or
 * nothing at the very end (the tabs before a closing quote), e.g.
 *
 *	cg_block(g, "\
 *		struct {\n\
 *			__uint(max_entries, %d);\n\
 *		} m SEC(\".maps\");\n\
 *		\n", n);
 *
 * Every line ends with a newline.  A line left of the baseline is a bug in
 * the template, and aborts.  Arguments are formatted after the indentation
 * is fixed, so a multi-line argument is emitted as it is.
 */
void cg_block(struct cgen *g, const char *fmt, ...) KSC_PRINTF(2, 3);

/*
 * A block's braces from one function: cg_open emits its first line
 * ("if (%s) {") and indents what follows, cg_close unindents and emits
 * its last ("}"), cg_reopen does both ("} else {").
 */
void cg_open(struct cgen *g, const char *fmt, ...) KSC_PRINTF(2, 3);
void cg_reopen(struct cgen *g, const char *fmt, ...) KSC_PRINTF(2, 3);
void cg_close(struct cgen *g, const char *fmt, ...) KSC_PRINTF(2, 3);

/* The C type for a value of t; cg_decl adds a declarator ("u8 buf[16]"). */
const char *cg_type(struct cgen *g, struct type *t);
const char *cg_decl(struct cgen *g, struct type *t, const char *name);
/* A function's C prototype without trailing ';' (storage class by the caller). */
/* struct pinned_globals: the pinned globals, one map value shared by eBPF and loader. */
void cg_emit_pinned_struct(struct cgen *g);

/* struct NAME_config: a config block's fields, as eBPF and loader share it. */
void cg_emit_config_struct(struct cgen *g, struct decl *config);

/*
 * struct __ksc_call_KFUNC_args: the context of the syscall program that
 * calls a kfunc for userspace (arguments, then the result); returns its name.
 */
const char *cg_emit_call_args(struct cgen *g, struct decl *kfunc);

/* "(a, b, ...)": a call's arguments, each emitted as an expression. */
void cg_call_args(struct cgen *g, struct strbuf *sb, struct expr *args);

/* __u8..__u64 / __s8..__s64: integer names of eBPF and userspace C (int_name hook). */
const char *cg_uapi_int(int size, bool is_signed);

const char *cg_prototype(struct cgen *g, struct decl *fn, const char *name);
/*
 * The same with array and string parameters written as the pointers C
 * makes of them anyway, so callers may pass shorter literals (userspace).
 */
const char *cg_prototype_decayed(struct cgen *g, struct decl *fn, const char *name);

/* The program's own structs and enums (not kernel ones), dependencies first. */
void cg_emit_user_types(struct cgen *g);

/* Appends the C expression for e. */
void cg_expr(struct cgen *g, struct strbuf *sb, struct expr *e);
const char *cg_expr_str(struct cgen *g, struct expr *e);
/* Whether the local var is ever read in stmts (an assignment's target alone is no read). */
bool cg_reads_local(const struct stmt *stmts, const struct stmt *var);
/* Whether parameter number `index` (from 0) is read in body. */
bool cg_reads_param(const struct stmt *body, int index);
/* A C string literal for the bytes s[0..len). */
void cg_string_lit(struct strbuf *sb, const char *s, int len);

/*
 * With line directives on: maps the next line to a .ks line, and back to
 * the generated file (cg_line_reset, fixed up by cg_fix_line_resets once
 * the output is complete).
 */
void cg_line_map(struct cgen *g, struct ks_loc loc);
void cg_line_reset(struct cgen *g);
void cg_fix_line_resets(struct strbuf *out, const char *file);

/* Emits statements at the current indentation (for backends' own blocks). */
void cg_emit_stmts(struct cgen *g, struct stmt *s);

/* Emits a function's body (the part between its braces, braces included). */
void cg_function_body(struct cgen *g, struct decl *fn);

/* The C name of a global function or variable, as the backend names it. */
const char *cg_global_name(struct cgen *g, struct decl *d);

/* The C name given to a KernelScript local (after hoisting). */
const char *cg_local_name(struct stmt *decl);

/*
 * Splits a print() format into C format text suitable for printf-style
 * functions with explicit casts per conversion, so any KernelScript
 * integer type prints without -Wformat warnings.  `cast[i]` receives the
 * C type each argument is cast to (NULL: pass as is).
 */
int cg_print_args(struct cgen *g, struct expr *call, struct strbuf *fmt, const char ***casts);

enum cg_newline { CG_NL_NEVER, CG_NL_ALWAYS, CG_NL_IF_MISSING };

/*
 * FN("FORMAT", (cast)arg, ...) for print(): format and casts from
 * cg_print_args(), a newline added to the format as `nl` says.
 */
void cg_print_call(struct cgen *g, struct strbuf *sb, const char *fn, struct expr *call,
		   enum cg_newline nl);

#endif
