/*
 * The kernel's verifier as a reported stage: eBPF objects loaded without
 * attaching, and a rejection told at the .ks line it is about.  `ksc
 * verify`, `ksc build --verify` and `ksc install` all load through
 * verify_load(), so a rejection reads the same from each:
 *
 *   FILE.ks:LINE:COL: error: the kernel's verifier rejects this: <in words>
 *       <the source line>
 *       ^~~~
 *   note: program NAME, instruction N: <insn>; registers: <state>
 *   note: the verifier says: <its own message>
 *
 * and the raw log after them with -v.  The log parser takes the classic
 * log (an instruction trace ending in the message, "; text @ file:line"
 * annotations where the object has BTF line info) and 7.3's reworked one
 * ("Reason", "Causal path", "Suggestion" sections).
 */
#ifndef KSC_VERIFY_H
#define KSC_VERIFY_H

#include <stddef.h>

struct bpf_object;

/* What a verifier log says about a rejection. */
struct verify_log {
	int insn;               /* the failing instruction, -1 when none is named */
	char insn_text[160];    /* its trace line, "3: (61) r7 = *(u32 *)(r0 +108)" */
	char regs[320];         /* the register state it met */
	char reg_type[32];      /* the type the register the message names had there ("pkt",
				   "map_value", "fp", "scalar"), "" when the log does not tell */
	char file[256];         /* its source position from the annotations, "" when none */
	int line;
	char src_text[256];     /* its annotation's source text (6.1 prints no file:line) */
	int ref_insn;           /* "Unreleased reference ... alloc_insn=N": N, else -1 */
	char ref_file[256];
	int ref_line;
	char reason[320];       /* the verifier's own message */
	char detail[320];       /* a second message line, or "" */
	char suggestion[320];   /* 7.3's "Suggestion", or "" */
};

/* Parses a verifier log (NUL-terminated). */
void verify_parse_log(const char *log, struct verify_log *out);

/*
 * The source line of instruction insn (as the log counts it) of program
 * prog, from the object's .BTF.ext line info (verify_lines.c): for a log
 * whose annotations name no line, as 6.1's.  0 with file (as the object
 * names it) and *line set, else -1.  Only the line: the column there is the
 * generated C's, not the .ks line's.
 */
int verify_insn_line(const char *obj_path, const char *prog, int insn, char *file, size_t size, int *line);

/* The reason of a parsed log in words for a .ks author (a static string or into buf). */
const char *verify_words(const struct verify_log *l, char *buf, unsigned size);

/*
 * bpf_object__load(obj) with every program's verifier log captured; on a
 * rejection, the report above on stderr.  obj_path is the object file,
 * source the .ks file given (NULL: the path the line info names).
 * Returns bpf_object__load's result.
 */
int verify_load(struct bpf_object *obj, const char *obj_path, const char *source);

/* Loads the built tree DIR's eBPF object, reports, unloads: 0, or 1 after the report. */
int verify_tree(const char *dir, const char *source);

/*
 * Another kernel's verifier, in a VM (verify_vm.c): a kernel to boot with
 * scripts/vmtest, found through scripts/kernels for a series.  The
 * scripts are $KSC_SCRIPTS, else scripts/ beside this executable, else
 * ../share/ksc/scripts beside it.
 */
struct verify_vm {
	char *tmp;       /* ksc's own temporary directory: trees, BTF, guest script */
	char *scripts;   /* the directory of vmtest and kernels */
	char *series;    /* the series given (6.1, 7, 6.12-trixie), NULL for an image */
	char *suite;     /* the series' Debian release (bookworm, trixie), NULL for an image */
	char *vmlinuz;   /* the image booted */
	char *btf;       /* its BTF, extracted on first need */
	char *kdir;      /* the tree modules are built against: --kdir, or the series' */
	char *why;       /* the last message of a script that failed */
	/* Where the guest's stdout lines go, without their newline (NULL: stdout); set after open. */
	void (*out)(void *ctx, const char *line);
	void *out_ctx;
};

/*
 * One tree to verify in the guest, and the .ks file its report names
 * (NULL: none).  run, when set, is what the guest does with the tree in
 * place of `ksc verify`: a sh command line, run from the working
 * directory with the tree's guest path in $TREE (ksc test --kernel).
 */
struct verify_vm_tree {
	const char *dir;
	const char *source;
	const char *run;
};

/*
 * Sets vm up for kernel (a series or a vmlinuz file; kdir may be NULL):
 * 0, 1 after saying why, 2 when kernel is neither (the caller says so).
 */
int verify_vm_open(struct verify_vm *vm, const char *kernel, const char *kdir);

/* vm's kernel's BTF, extracted from the image on first need; NULL said why. */
const char *verify_vm_btf(struct verify_vm *vm);

/* Builds file into tree for vm's kernel (eBPF against its BTF, the module against its tree). */
int verify_vm_build(struct verify_vm *vm, const char *file, const char *tree);

/*
 * Boots vm's kernel once with this ksc and the n trees; the guest inserts
 * each tree's modules and runs `ksc verify` (or the tree's run) on it,
 * from the working directory, with its source at the same path.  What the
 * guest prints goes to stdout (or vm->out) and stderr as it wrote it.
 * Returns 0 when all were accepted (each run exited 0), else 1.
 */
int verify_vm_run(struct verify_vm *vm, const struct verify_vm_tree *trees, int n);

/* Removes vm's temporary directory and frees it. */
void verify_vm_close(struct verify_vm *vm);

/* Removes a temporary directory ksc made, with everything in it (verify.c). */
void verify_remove_tmp(const char *dir);

#endif
