/*
 * Kernel types from BTF: a type name the program does not declare is looked
 * up in the kernel's BTF and turned into a KernelScript declaration, so
 * `*task_struct` or `*tcp_sock` type-check against the real layout.  The
 * BTF is the kernel object's (kernel.h: --btf FILE, else
 * /sys/kernel/btf/vmlinux), loaded on its first use.
 */
#ifndef KSC_BTF_TYPES_H
#define KSC_BTF_TYPES_H

#include <bpf/btf.h>

#include "ast.h"
#include "kernel.h"

/* The BTF file k's facts come from, for messages. */
const char *btf_types_path(const struct kernel *k);

/*
 * Forgets the declarations made from BTF so far (they live in the arena of
 * the program that asked for them): call it after freeing that arena and
 * before loading another program in the same process.  The BTF itself stays
 * loaded.
 */
void btf_types_forget(struct kernel *k);

/* A struct, union, enum or typedef'd struct of that name, or NULL. */
struct decl *btf_find_type(struct kernel *k, struct arena *a, const char *name);

/* An enumerator of a kernel enum (e.g. TCP_CA_Loss): its enum decl, or NULL. */
struct decl *btf_find_enum_const(struct kernel *k, struct arena *a, const char *name,
				 long long *value);

/*
 * The prototype of function-pointer member `member` of kernel struct
 * `kstruct`, as a TY_FUNC.  *why is set when there is none: 1 no such
 * struct, 2 no such member, 3 the member is not a function pointer.
 */
struct type *btf_member_proto(struct kernel *k, struct arena *a, const char *kstruct,
			      const char *member, int *why);

/*
 * Parameter `index` of function-pointer member `member` of kernel struct
 * `kstruct` as a C declaration named `name`, spelled as the kernel's
 * headers spell it ("const struct rate_sample *rs"); index -1 is the return
 * type (name unused).  Allocated; NULL when BTF has no such prototype.
 */
char *btf_member_param_c(struct kernel *k, const char *kstruct, const char *member, int index,
			 const char *name);

/* Whether the kernel's BTF has a function (a kfunc, say) of that name. */
bool btf_has_func(struct kernel *k, const char *name);

/*
 * The kernel's BTF, loaded once (vmlinux.h is dumped from it), or NULL
 * after one error line (said once however often it is asked for).
 */
const struct btf *btf_types_kernel(struct kernel *k);

/* Whether BTF could be loaded (for messages); loads it on first call. */
bool btf_available(struct kernel *k);

/* C's namespaces in the kernel's types (vmlinux.h), and its functions. */
enum btf_ns {
	BTF_NS_STRUCT,    /* struct tags (and their FWDs) */
	BTF_NS_UNION,     /* union tags */
	BTF_NS_ENUM,      /* enum tags */
	BTF_NS_ORDINARY,  /* typedef names and enumerators */
	BTF_NS_FUNC,      /* the kernel's functions */
};

/*
 * The type name denotes in ns: the first of that name by id, a definition
 * before a forward declaration; for an enumerator, its enum.  0 when none
 * (or no BTF).  The names are indexed once, on first use (btf_names.c).
 */
__u32 btf_types_named(struct kernel *k, const char *name, enum btf_ns ns);

/* The namespaces name is in, as bits 1 << BTF_NS_*; 0 when none. */
unsigned btf_types_name_ns(struct kernel *k, const char *name);

/*
 * The first type of that kind and name by id, as libbpf's
 * btf__find_by_name_kind() finds it, but from the index: kind is one of
 * the kinds whose names are indexed (struct, union, fwd, enum, enum64,
 * typedef, func; others are asked of libbpf).  <= 0 when none.
 */
int btf_types_find(struct kernel *k, const char *name, __u32 kind);

/*
 * The first named 32-bit enum by id with an enumerator called name, and
 * in *index the first such enumerator's; 0 when none.
 */
__u32 btf_types_enum_const(struct kernel *k, const char *name, unsigned *index);

/* Frees k's name index (kernel_free() calls it). */
void btf_names_free(struct btf_index *ix);

#endif
