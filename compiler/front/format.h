/* print() format strings: the printf conversions KernelScript programs use. */
#ifndef KSC_FORMAT_H
#define KSC_FORMAT_H

#include <stdbool.h>

enum fmt_arg { FMT_INT, FMT_UINT, FMT_CHAR, FMT_STR, FMT_PTR };

/* C's flags, as bits of fmt_conv.flagbits. */
enum {
	FMT_F_MINUS = 1 << 0,
	FMT_F_PLUS = 1 << 1,
	FMT_F_SPACE = 1 << 2,
	FMT_F_HASH = 1 << 3,
	FMT_F_ZERO = 1 << 4,
};

struct fmt_conv {
	int start, end;            /* byte range of the conversion in the format */
	enum fmt_arg kind;
	char conv;                 /* d i u x X o c s p */
	char flags[8];             /* flags, width and precision as written (e.g. "08") */
	unsigned flagbits;         /* FMT_F_* */
	char repeated;             /* a flag given twice, or 0 */
	bool precision;            /* a '.' was written */
};

/*
 * Parses the conversions of fmt[0..len): '%', C's flags, width and
 * precision (at most 7 characters together), length modifiers (dropped:
 * ksc casts every argument itself), then d i u x X o c s p.  Returns their
 * number (up to max stored in convs), or -1 with *bad set to the offset of
 * a conversion that is not of that shape.  "%%" is not a conversion.
 */
int fmt_parse(const char *fmt, int len, struct fmt_conv *convs, int max, int *bad);

/*
 * Why a conversion of that shape cannot be printed as written, or NULL:
 * a flag C compilers warn is meaningless with it (the module and the
 * loader build with -Werror), or, in eBPF (ebpf true), what the kernel's
 * bpf_trace_printk() refuses at run time by printing nothing: '#', a
 * precision and %o.
 */
const char *fmt_refused(const struct fmt_conv *c, bool ebpf);

#endif
