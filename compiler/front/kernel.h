/*
 * What ksc knows of the kernel a program is built for.  A command fills one
 * in from its options (--btf FILE, the module build tree of `ksc kmod
 * build`) and hands it to program_load(); every stage after reads it as
 * prog->kernel.  Nothing about the target kernel is process-wide, so one
 * process can check programs for two kernels (the fuzzer, a test) and no
 * stage depends on what a command happened to set before it.
 */
#ifndef KSC_KERNEL_H
#define KSC_KERNEL_H

struct kernel_btf;   /* btf_types.c: the loaded BTF and the types made from it */
struct btf_index;    /* btf_names.c: its names, hashed */

struct kernel {
	/* The kernel's BTF: --btf FILE; NULL is the running kernel's. */
	const char *btf_path;
	/*
	 * The text of the build tree's Module.symvers and "Linux RELEASE" (set
	 * by kmodgen_load_exports()); NULL: no tree, exports are not checked.
	 */
	char *symvers;
	char *symvers_what;
	/* Loaded on first use, freed by kernel_free(). */
	struct kernel_btf *btf;
	struct btf_index *names;
};

/* Frees what the kernel's facts hold (not k itself); k reads as empty after. */
void kernel_free(struct kernel *k);

#endif
