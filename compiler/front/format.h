/* print() format strings: the printf conversions KernelScript programs use. */
#ifndef KSC_FORMAT_H
#define KSC_FORMAT_H

#include <stdbool.h>

enum fmt_arg { FMT_INT, FMT_UINT, FMT_CHAR, FMT_STR, FMT_PTR };

struct fmt_conv {
	int start, end;            /* byte range of the conversion in the format */
	enum fmt_arg kind;
	char conv;                 /* d i u x X o c s p */
	char flags[8];             /* flags, width and precision as written (e.g. "08") */
};

/*
 * Parses the conversions of fmt[0..len).  Returns their number (up to max
 * stored in convs), or -1 with *bad set to the offset of an unsupported
 * conversion.  "%%" is not a conversion.
 */
int fmt_parse(const char *fmt, int len, struct fmt_conv *convs, int max, int *bad);

#endif
