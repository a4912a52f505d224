/*
 * The eBPF backend: NAME.ebpf.c, compiled with clang -target bpf, holding
 * the program's maps, globals, programs, helpers, struct_ops and kfunc
 * externs, named as ebpf_abi.h says.
 */
#ifndef KSC_EBPFGEN_H
#define KSC_EBPFGEN_H

#include "ast.h"

/*
 * Writes the eBPF C source to path, then to vmlinux_path the header it
 * includes: the kernel types from BTF (the --btf file or the running
 * kernel's) that the C uses, with what they need.  Sets
 * prog->btf_anon_tags.  Returns 0 or a negative errno (reported).
 */
int ebpfgen_write(struct program *prog, const char *path, const char *vmlinux_path);

/* clang flags the eBPF C needs beyond the usual ones ("" for most kernels). */
const char *ebpfgen_clang_flags(const struct program *prog);

#endif
