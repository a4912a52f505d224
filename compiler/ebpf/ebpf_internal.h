/*
 * What the files of the eBPF backend share: its state while one
 * ebpfgen_write() runs, and what each file offers the others.
 *
 *   ebpfgen.c        the entry point: the file's layout, declarations, support code
 *   ebpf_analysis.c  analyses: once before emission, and per function (owned references)
 *   ebpf_hooks.c     the cgen hooks, dispatching to the files below
 *   ebpf_packet.c    checked accesses: packet pointers, pointers that may be NULL, run-time indexes
 *   ebpf_maps.c      map reads and writes, maps of objects, map definitions
 *   ebpf_loops.c     loops through bpf_loop
 *   ebpf_progs.c     programs, helpers, struct_ops, kfunc trampolines, the prog_array
 *   ebpf_vmlinux.c   vmlinux.h: the kernel types the C uses, dumped from BTF
 */
#ifndef KSC_EBPF_INTERNAL_H
#define KSC_EBPF_INTERNAL_H

#include "cgen.h"
#include "types.h"

struct ebpf {
	/* What eb_analyse finds before any code is emitted. */
	struct ptrvec tail_targets;  /* struct decl *, index = slot */
	struct ptrvec ksyms;         /* struct decl *: kfuncs and externs declared __ksym */
	struct ptrvec slots;         /* struct decl *: structs kept in maps through kptrs */
	bool pkt_changing;           /* some eBPF code calls a helper that moves the packet */

	/* What emitting the functions finds they need. */
	struct ptrvec consts;        /* struct enum_const * used but absent from BTF */
	struct ptrvec btf_consts;    /* struct enum_const * used and found in BTF */
	struct ptrvec raw;           /* struct expr * of packet accesses being emitted unchecked */
	struct ptrvec loops;         /* struct loop_cb *: bpf_loop callbacks being emitted */
	struct strbuf pending;       /* callbacks of the function being emitted */
	int nloops;
	int nidx;                    /* run-time index temporaries */
	bool need_streq, need_strcat, need_obj_new;
	struct ptrvec new_types;     /* struct type *: the types `new` allocates, each once */
	bool need_sdiv, need_smod;   /* a signed / or %: ksc_sdiv(), ksc_smod() */
	bool pkt_wide;               /* emitting the address inside a packet pointer cast */
	bool pkt_prog;               /* emitting an XDP or tc program: its ctx has data_end */
	bool data_used;              /* its packet pointers are made from the data local */
	bool data_end_used;          /* its checks read the data_end local */
	struct expr *pkt_ptr;        /* the ctx->data emitted as `data` in a packet pointer */
	bool uses_pinned;            /* eBPF code reads or writes pinned globals */
	struct ptrvec configs;       /* const char *: configs eBPF code reads */
	struct decl *owners_fn;      /* the function owners/guarded describe */
	struct ptrvec owners;        /* struct stmt *: locals with a separate owning copy */
	struct ptrvec guarded;       /* struct stmt *: locals that may point into a kptr map */
};

#define EB(g) ((struct ebpf *)(g)->backend)

/* t without its aliases: what the backend asks of every type it looks at. */
static inline struct type *ut(struct type *t)
{
	return type_unalias(t);
}

/* ---- ebpfgen.c ---- */

/* Whether e calls a method of a ring buffer (method, or any if NULL). */
bool eb_is_ringbuf_call(const struct expr *e, const char *method);
/*
 * The C name of a map, program or struct_ops instance, and the asm label
 * ("" if none) that gives its symbol the .ks name where C cannot spell it.
 */
const char *eb_obj_cname(struct cgen *g, const char *name);
const char *eb_asm_label(struct cgen *g, const char *name);
/* Whether p is one of v's entries. */
bool eb_in_vec(const struct ptrvec *v, const void *p);
/* What goes before '=' in an assignment s: "" for `=`, "+" for `+=`, and so on. */
const char *eb_assign_op(const struct stmt *s);

/* ---- ebpf_analysis.c ---- */

/* The analyses done before any code is emitted, into eb. */
void eb_analyse(struct program *prog, struct ebpf *eb);

/*
 * A local holding a ring buffer reservation or a `new` object owns a
 * reference the verifier wants released on every path: such locals start
 * NULL, become NULL again when submitted, discarded or deleted, and are
 * released before every return while still held.
 *
 * A local that owns a `new` object on some paths only (it is also given
 * a pointer read from a map, or it is stored into a map of objects, after
 * which it points at the stored object) keeps its reference in a second
 * variable, x_owned, NULL whenever x owns nothing: that one is what is
 * released, stored or deleted.
 */
enum owned { OWN_NONE, OWN_RINGBUF, OWN_OBJ, OWN_SPLIT };

/* What var of the function being emitted owns. */
enum owned eb_owned_kind(struct cgen *g, const struct stmt *var);
/* Whether e names a local that owns a reference, or a split owner. */
bool eb_is_owned_ref(struct cgen *g, const struct expr *e);
bool eb_is_split_owner(struct cgen *g, const struct expr *e);
/* The variable holding the reference a split owner owns. */
const char *eb_owner_name(struct cgen *g, const struct stmt *var);
/* A local whose accesses are checked against NULL: it may hold a kptr read from a map. */
bool eb_is_guarded(struct cgen *g, const struct expr *e);

/* ---- ebpf_hooks.c ---- */

extern const struct cg_hooks eb_hooks;
/* dst = src for a string: bounded by dst's size, always terminated. */
void eb_str_assign(struct cgen *g, const char *dst, struct type *dt, struct expr *src);

/* ---- ebpf_packet.c ---- */

/* e, or the statement s, if it is a checked access (false: not one). */
bool eb_access_expr(struct cgen *g, struct strbuf *sb, struct expr *e);
bool eb_access_stmt(struct cgen *g, struct stmt *s);
/* After a program's body: declares the data and data_end locals it used, if it did. */
void eb_declare_pkt_locals(struct cgen *g, struct decl *fn, size_t body);

/* ---- ebpf_maps.c ---- */

/* The struct a map of objects keeps (`*T` values), or NULL for other maps. */
struct decl *eb_kptr_struct(struct type *mt);
/* Whether e reads a map of objects. */
bool eb_is_kptr_read(const struct expr *e);
/* e, or the statement s, if it reads or writes a map (or a config) (false: not one). */
bool eb_map_expr(struct cgen *g, struct strbuf *sb, struct expr *e);
bool eb_map_stmt(struct cgen *g, struct stmt *s);
/* Definitions: a config's map and accessor, the kptr slot types, a map, the pinned globals. */
void eb_emit_config(struct cgen *g, struct decl *d);
void eb_emit_kptr_slots(struct cgen *g, struct ebpf *eb);
void eb_emit_map(struct cgen *g, struct decl *d);
void eb_emit_pinned_globals(struct cgen *g);

/* ---- ebpf_loops.c ---- */

/* s, if it is a loop run through bpf_loop or leaves one (false: not one). */
bool eb_loop_stmt(struct cgen *g, struct stmt *s);

/* ---- ebpf_progs.c ---- */

/* Every function of the object, in declaration order. */
void eb_emit_functions(struct cgen *g);
/* The tail-call table, its slots filled from a static initializer. */
void eb_emit_prog_array(struct cgen *g, struct ebpf *eb);

/* ---- ebpf_vmlinux.c ---- */

/*
 * Writes vmlinux.h to path: the kernel types the eBPF C text c (len
 * bytes) and prog's eBPF code use, with what they need; sets
 * prog->btf_anon_tags from them.  0 or a negative errno (reported).
 */
int eb_write_vmlinux_h(struct program *prog, const char *c, size_t len, const char *path);

#endif
