/*
 * The one argument parser (args.h).  Written out rather than on getopt_long
 * itself for one rule getopt cannot express: a negative number is an
 * operand (kfunc arguments of `ksc call`), so `-5` is never an option.
 */
#include "args.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "util.h"

void args_synopsis(void (*help)(FILE *out), FILE *out)
{
	char *text = NULL, *end;
	size_t len = 0;
	FILE *m = open_memstream(&text, &len);

	if (!m)
		return;
	help(m);
	fclose(m);
	/* The usage lines: up to the first blank line (kmod has two). */
	end = strstr(text, "\n\n");
	fprintf(out, "%.*s\n", (int)(end ? end - text : (long)strcspn(text, "\0")), text);
	free(text);
}

int args_usage(const struct arg_spec *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	p_err("%s: %s", s->cmd, msg ? msg : fmt);
	free(msg);
	args_synopsis(s->help, stderr);
	return EXIT_USAGE;
}

static const struct arg_opt *find_long(const struct arg_spec *s, const char *name, size_t n)
{
	for (const struct arg_opt *o = s->opts; o->name || o->letter; o++)
		if (o->name && strlen(o->name) == n && !strncmp(o->name, name, n))
			return o;
	return NULL;
}

static const struct arg_opt *find_short(const struct arg_spec *s, char c)
{
	for (const struct arg_opt *o = s->opts; o->name || o->letter; o++)
		if (o->letter == c)
			return o;
	return NULL;
}

static bool is_number(const char *s)
{
	return s[0] == '-' && s[1] >= '0' && s[1] <= '9';
}

/* The options every command has; true when arg was one of them. */
static bool common(const char *arg, int *help)
{
	if (!strcmp(arg, "-h") || !strcmp(arg, "--help"))
		*help = 1;
	else if (!strcmp(arg, "-q") || !strcmp(arg, "--quiet"))
		ksc_verbose = -1;
	else if (!strcmp(arg, "-v") || !strcmp(arg, "--verbose"))
		ksc_verbose = 1;
	else
		return false;
	return true;
}

/*
 * --color=WHEN or --color WHEN, every command's (and ksc's own, before the
 * command): how many argv it took, 0 when arg is not --color, -1.
 */
static int take_color(const struct arg_spec *s, int argc, char **argv, int i)
{
	const char *arg = argv[i], *when;

	if (strncmp(arg, "--color", 7) || (arg[7] && arg[7] != '='))
		return 0;
	if (!arg[7] && i + 1 == argc)
		return args_usage(s, "'--color' needs WHEN"), -1;
	when = arg[7] ? arg + 8 : argv[i + 1];
	if (!ksc_set_color(when))
		return args_usage(s, "--color takes auto, always or never, not '%s'", when), -1;
	return arg[7] ? 1 : 2;
}

/* --name, --name=value or --name value: stores it; returns how many argv it took, or -1. */
static int take_long(const struct arg_spec *s, struct args *a, int argc, char **argv, int i)
{
	const char *arg = argv[i] + 2, *eq = strchr(arg, '=');
	const struct arg_opt *o = find_long(s, arg, eq ? (size_t)(eq - arg) : strlen(arg));

	if (!o)
		return args_usage(s, "unknown option '--%.*s'",
				  (int)(eq ? eq - arg : (long)strlen(arg)), arg), -1;
	if (!o->value && eq)
		return args_usage(s, "'--%s' takes no value", o->name), -1;
	if (o->value && !eq && i + 1 == argc)
		return args_usage(s, "'--%s' needs %s", o->name, o->value), -1;
	a->val[o - s->opts] = !o->value ? "" : eq ? eq + 1 : argv[i + 1];
	return o->value && !eq ? 2 : 1;
}

/* -x, -xVALUE or -x VALUE. */
static int take_short(const struct arg_spec *s, struct args *a, int argc, char **argv, int i)
{
	const char *arg = argv[i];
	const struct arg_opt *o = find_short(s, arg[1]);

	if (!o)
		return args_usage(s, "unknown option '%s'", arg), -1;
	if (!o->value && arg[2])
		return args_usage(s, "unknown option '%s'", arg), -1;
	if (o->value && !arg[2] && i + 1 == argc)
		return args_usage(s, "'-%c' needs %s", o->letter, o->value), -1;
	a->val[o - s->opts] = !o->value ? "" : arg[2] ? arg + 2 : argv[i + 1];
	return o->value && !arg[2] ? 2 : 1;
}

static int add_pos(const struct arg_spec *s, struct args *a, char *arg)
{
	if (a->npos == s->max_pos || a->npos == ARGS_MAX_POS)
		return args_usage(s, "unexpected argument '%s'", arg);
	a->pos[a->npos++] = arg;
	return 0;
}

int args_parse(const struct arg_spec *s, int argc, char **argv, struct args *a)
{
	bool options = true;
	int help = 0;

	memset(a, 0, sizeof(*a));
	for (int i = 0, n; i < argc; i += n) {
		char *arg = argv[i];

		n = 1;
		if (options && !strcmp(arg, "--")) {
			options = false;
		} else if (!options || arg[0] != '-' || !arg[1] || is_number(arg)) {
			if (add_pos(s, a, arg))
				return EXIT_USAGE;
		} else if ((n = take_color(s, argc, argv, i)) < 0) {
			return EXIT_USAGE;
		} else if (!n && !common(arg, &help)) {
			n = arg[1] == '-' ? take_long(s, a, argc, argv, i) :
					    take_short(s, a, argc, argv, i);
			if (n < 0)
				return EXIT_USAGE;
		} else if (!n) {
			n = 1;
		}
	}
	if (help) {
		s->help(stdout);
		return ARGS_HELP;
	}
	if (a->npos < s->min_pos)
		return args_usage(s, "missing %s", s->operands);
	return 0;
}
