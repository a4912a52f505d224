#include "format.h"

#include <string.h>

static unsigned flag_bit(char ch)
{
	switch (ch) {
	case '-': return FMT_F_MINUS;
	case '+': return FMT_F_PLUS;
	case ' ': return FMT_F_SPACE;
	case '#': return FMT_F_HASH;
	case '0': return FMT_F_ZERO;
	default: return 0;
	}
}

static enum fmt_arg conv_kind(char ch, bool *ok)
{
	*ok = true;
	switch (ch) {
	case 'd':
	case 'i':
		return FMT_INT;
	case 'u':
	case 'x':
	case 'X':
	case 'o':
		return FMT_UINT;
	case 'c':
		return FMT_CHAR;
	case 's':
		return FMT_STR;
	case 'p':
		return FMT_PTR;
	default:
		*ok = false;
		return FMT_INT;
	}
}

static void keep(struct fmt_conv *c, int *n, char ch)
{
	if (*n < (int)sizeof(c->flags) - 1)
		c->flags[*n] = ch;
	(*n)++;
}

/* Flags, width and precision from fmt[*i]; false when they do not fit in c->flags. */
static bool parse_spec(struct fmt_conv *c, const char *fmt, int len, int *i)
{
	int n = 0;
	unsigned bit;

	for (; *i < len && (bit = flag_bit(fmt[*i])); (*i)++) {
		if ((c->flagbits & bit) && !c->repeated)
			c->repeated = fmt[*i];
		c->flagbits |= bit;
		keep(c, &n, fmt[*i]);
	}
	for (; *i < len && fmt[*i] >= '0' && fmt[*i] <= '9'; (*i)++)
		keep(c, &n, fmt[*i]);
	if (*i < len && fmt[*i] == '.') {
		c->precision = true;
		for (keep(c, &n, fmt[(*i)++]); *i < len && fmt[*i] >= '0' && fmt[*i] <= '9'; (*i)++)
			keep(c, &n, fmt[*i]);
	}
	return n < (int)sizeof(c->flags);
}

int fmt_parse(const char *fmt, int len, struct fmt_conv *convs, int max, int *bad)
{
	int n = 0;

	for (int i = 0; i < len; i++) {
		struct fmt_conv c = { .start = i };
		bool ok;

		if (fmt[i] != '%')
			continue;
		if (i + 1 < len && fmt[i + 1] == '%') {
			i++;
			continue;
		}
		i++;
		ok = parse_spec(&c, fmt, len, &i);
		while (i < len && strchr("hlzjt", fmt[i]))
			i++;
		if (ok && i < len)
			c.kind = conv_kind(fmt[i], &ok);
		if (!ok || i >= len) {
			*bad = c.start;
			return -1;
		}
		c.conv = fmt[i];
		c.end = i + 1;
		if (n < max)
			convs[n] = c;
		n++;
	}
	return n;
}

const char *fmt_refused(const struct fmt_conv *c, bool ebpf)
{
	bool num = c->kind == FMT_INT || c->kind == FMT_UINT;

	if (c->repeated)
		return "a flag is given twice";
	if (ebpf && (c->flagbits & FMT_F_HASH))
		return "eBPF's bpf_printk() does not take the '#' flag (it would print nothing)";
	if (ebpf && c->precision)
		return "eBPF's bpf_printk() does not take a precision (it would print nothing)";
	if (ebpf && c->conv == 'o')
		return "eBPF's bpf_printk() has no %o (it would print nothing): use %x";
	if ((c->flagbits & (FMT_F_PLUS | FMT_F_SPACE)) && c->kind != FMT_INT)
		return "the '+' and ' ' flags are for %d and %i";
	if ((c->flagbits & FMT_F_HASH) && !strchr("xXo", c->conv))
		return "the '#' flag is for %x, %X and %o";
	if ((c->flagbits & FMT_F_ZERO) && !num)
		return "the '0' flag is for numbers";
	if (c->precision && (c->kind == FMT_CHAR || c->kind == FMT_PTR))
		return "a precision is not for %c or %p";
	if ((c->flagbits & FMT_F_ZERO) && (c->precision || (c->flagbits & FMT_F_MINUS)))
		return "the '0' flag does nothing with a precision or the '-' flag";
	if ((c->flagbits & FMT_F_SPACE) && (c->flagbits & FMT_F_PLUS))
		return "the ' ' flag does nothing with the '+' flag";
	return NULL;
}
