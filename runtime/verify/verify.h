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

struct bpf_object;

/* What a verifier log says about a rejection. */
struct verify_log {
	int insn;               /* the failing instruction, -1 when none is named */
	char insn_text[160];    /* its trace line, "3: (61) r7 = *(u32 *)(r0 +108)" */
	char regs[320];         /* the register state it met */
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

#endif
