/*
 * The eBPF backend: NAME.ebpf.c, compiled with clang -target bpf, holding
 * the program's maps, globals, programs, helpers, struct_ops and kfunc
 * externs, named as ebpf_abi.h says.
 */
#ifndef KSC_EBPFGEN_H
#define KSC_EBPFGEN_H

#include "ast.h"

/* Writes the eBPF C source to path.  Returns 0 or a negative errno (reported). */
int ebpfgen_write(struct program *prog, const char *path);

/*
 * Writes vmlinux.h, the kernel's types from BTF (the --btf file or the
 * running kernel's), which NAME.ebpf.c includes.
 */
int ebpfgen_write_vmlinux_h(const char *path);

#endif
