/*
 * The kernel-module backend: a kbuild tree for a program's module side
 * (@kfunc and @private functions, @private state), registering each kfunc
 * with BTF for exactly the program types that call it.
 */
#ifndef KSC_KMODGEN_H
#define KSC_KMODGEN_H

#include "ast.h"
#include "diag.h"
#include "kernel.h"

/* BPF program types a module registers kfunc sets for (one set per kernel hook). */
enum kf_hook {
	KF_HOOK_XDP,
	KF_HOOK_TC,
	KF_HOOK_TRACING,      /* fentry; on 6.12 also tracepoint and perf_event */
	KF_HOOK_KPROBE,
	KF_HOOK_TRACEPOINT,   /* shares TRACING where the kernel maps it there */
	KF_HOOK_PERF_EVENT,   /* likewise */
	KF_HOOK_STRUCT_OPS,
	KF_HOOK_SYSCALL,
	KF_HOOK_COUNT
};

/*
 * Checks what the module backend needs beyond the front end (e.g. kfunc
 * flag combinations).  Diagnostics go to d; returns 0 when fine.
 */
int kmodgen_check(struct program *prog, struct diag *d);

/*
 * Writes NAME.c, ksc_compat.h, Kbuild, Makefile and dkms.conf into dir
 * (which exists).  Returns 0 or a negative errno (reported).
 */
int kmodgen_write(struct program *prog, const char *dir);

/*
 * Records in k what the kernel tree a module is being built for exports
 * (ksc kmod build): kmodgen_check() of a program for k then also refuses
 * externs called from module code that the tree's Module.symvers does not
 * export.  A tree without Module.symvers records nothing.
 */
void kmodgen_load_exports(struct kernel *k, const char *kdir, const char *release);
void kmodgen_check_exports(struct program *prog, struct diag *d);

/* The package version of dkms.conf when none is given (ksc kmod dkms --version). */
#define KMOD_DEFAULT_VERSION "0.1.0"

/*
 * (Re)writes dir/dkms.conf for module `base` at package `version`.  With
 * btf_cache, the build keeps the base BTF it extracts there
 * (KSC_BTF_CACHE), not in the home of whoever runs DKMS.
 */
int kmod_write_dkms_conf(const char *dir, const char *base, const char *version,
			 const char *btf_cache);

/* The BPF program types whose sets hold kfunc `fn`, as a bitmask of enum kf_hook. */
unsigned kmodgen_hooks(const struct decl *fn);

#endif
