#include "format.h"

#include <string.h>

int fmt_parse(const char *fmt, int len, struct fmt_conv *convs, int max, int *bad)
{
	int n = 0;

	for (int i = 0; i < len; i++) {
		struct fmt_conv c = { .start = i };
		int fl = 0;

		if (fmt[i] != '%')
			continue;
		if (i + 1 < len && fmt[i + 1] == '%') {
			i++;
			continue;
		}
		i++;
		/* flags, width, precision: kept as written */
		while (i < len && strchr("-+ #0123456789.", fmt[i])) {
			if (fl < (int)sizeof(c.flags) - 1)
				c.flags[fl++] = fmt[i];
			i++;
		}
		/* length modifiers are dropped: ksc casts every argument itself */
		while (i < len && strchr("hlzjt", fmt[i]))
			i++;
		if (i >= len) {
			*bad = c.start;
			return -1;
		}
		c.conv = fmt[i];
		c.end = i + 1;
		switch (fmt[i]) {
		case 'd':
		case 'i':
			c.kind = FMT_INT;
			break;
		case 'u':
		case 'x':
		case 'X':
		case 'o':
			c.kind = FMT_UINT;
			break;
		case 'c':
			c.kind = FMT_CHAR;
			break;
		case 's':
			c.kind = FMT_STR;
			break;
		case 'p':
			c.kind = FMT_PTR;
			break;
		default:
			*bad = c.start;
			return -1;
		}
		if (n < max)
			convs[n] = c;
		n++;
	}
	return n;
}
