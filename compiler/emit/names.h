/*
 * Names in generated C.  A .ks name goes into the C of all three backends
 * as written, unless C, a header the generated file includes, the target
 * kernel's vmlinux.h or ksc itself already uses it.  Then a name only C
 * sees is renamed, the same way in every backend (ks_NAME); a name the
 * user sees outside C (a map, a program, a kfunc, a struct_ops type) keeps
 * its spelling in the object, through an asm label where C needs another
 * name, or is refused with a diagnostic where it cannot be kept.  The
 * rule, and why each name falls where it does: docs/design.md, "Names in
 * generated C".
 */
#ifndef KSC_NAMES_H
#define KSC_NAMES_H

#include <stdbool.h>
#include <stddef.h>

struct kernel;

struct program;
struct diag;
struct arena;

/* A sorted list of compiler/emit/names/ (made by scripts/gen-names), embedded. */
struct names_list {
	const char *name;              /* "kernel-macros" */
	const char *s;                 /* the names, each NUL-terminated */
	const unsigned *off;           /* name i is s + off[i] */
	size_t n;
};
extern const struct names_list names_lists[];

/* Where a name is taken already: bits of names_taken(). */
enum {
	NAME_KEYWORD = 1 << 0,         /* a C keyword (C17, GNU) */
	NAME_RESERVED = 1 << 1,        /* begins with '_': the C implementation's, and ksc's */
	NAME_CC_BUILTIN = 1 << 2,      /* a library function clang knows without a header */
	NAME_USER_MACRO = 1 << 3,      /* a macro of the loader's headers */
	NAME_USER_DECL = 1 << 4,       /* declared by the loader's headers */
	NAME_EBPF_MACRO = 1 << 5,      /* a macro of the eBPF headers (bpf_helpers.h...) */
	NAME_EBPF_DECL = 1 << 6,       /* declared by them */
	NAME_KERNEL_MACRO = 1 << 7,    /* a macro of the module's kernel headers */
	NAME_KERNEL_DECL = 1 << 8,     /* declared by them */
	NAME_BTF_TYPE = 1 << 9,        /* a type, tag or enumerator of the target's BTF */
	NAME_BTF_FUNC = 1 << 10,       /* a function of the target kernel */
};
#define NAME_MACROS (NAME_USER_MACRO | NAME_EBPF_MACRO | NAME_KERNEL_MACRO)

/* The NAME_* bits of what already uses NAME in generated C; 0 when nothing does. */
unsigned names_taken(struct kernel *k, const char *name);

/*
 * Gives every name of PROG (and of the files it imports) that generated C
 * cannot spell as written its C name, in place, and reports the names the
 * user sees that cannot be kept.  Runs after the checker; returns the
 * number of errors reported.
 */
int names_assign(struct program *prog, struct diag *d);

/* The C name of a local: its own, or a renamed one when generated C uses that (arena a). */
const char *names_local(struct program *prog, struct arena *a, const char *name);

/* A map's or program's name in eBPF C when it must differ from the object's name, or NULL. */
const char *names_ebpf_alias(struct program *prog, const char *name);

#endif
