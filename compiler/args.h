/*
 * Command-line arguments of every command, parsed one way: getopt_long's
 * rules with argument permutation.  `--opt=value` and `--opt value`,
 * `-oVALUE` and `-o VALUE`, options before or after the operands, `--`
 * ends the options, a lone `-` and a negative number (`ksc call f -5`) are
 * operands.  -h/--help, -q and -v are every command's.  A usage error is
 * one line saying what was wrong, then the command's synopsis, exit 2.
 */
#ifndef KSC_ARGS_H
#define KSC_ARGS_H

#include <stdio.h>

/* One option: its long name (no "--"), a short letter or 0, what it takes or NULL. */
struct arg_opt {
	const char *name;
	char letter;
	const char *value;
};

struct arg_spec {
	const char *cmd;               /* "compile", "kmod build" */
	void (*help)(FILE *out);       /* the help; its usage lines are the synopsis */
	const struct arg_opt *opts;    /* ends with { 0 } */
	int min_pos, max_pos;          /* operands allowed */
	const char *operands;          /* what they are, for "missing FILE.ks" */
};

#define ARGS_MAX_OPTS 16
#define ARGS_MAX_POS 16

struct args {
	/* By the option's index in opts: its value ("" for a flag), NULL when absent; the last wins. */
	const char *val[ARGS_MAX_OPTS];
	char *pos[ARGS_MAX_POS];
	int npos;
};

/* args_parse()'s result for -h/--help: the help went to stdout, exit 0. */
#define ARGS_HELP (-1)

/* Parses argv[0..argc) (the command's own arguments); 0, ARGS_HELP or 2 (said why). */
int args_parse(const struct arg_spec *s, int argc, char **argv, struct args *a);

/* A usage error found after parsing: the message, the synopsis; returns 2. */
int args_usage(const struct arg_spec *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The usage lines of a help text (the synopsis: up to its first blank line). */
void args_synopsis(void (*help)(FILE *out), FILE *out);

#endif
