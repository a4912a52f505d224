/* `ksc check` and `ksc compile`: the front end's commands. */
#include <string.h>

#include "cli.h"
#include "btf_types.h"
#include "program.h"

void help_check(FILE *out)
{
	fprintf(out,
		"Usage: ksc check FILE.ks [--btf FILE]\n"
		"\n"
		"Parses and type-checks FILE.ks with everything it includes and imports.\n"
		"Prints diagnostics as 'file:line:col: error: message' with the source line;\n"
		"exits 0 when the program is valid, 1 when it is not.\n"
		"Kernel types the program does not declare are looked up in the BTF of\n"
		"--btf FILE, else /sys/kernel/btf/vmlinux.\n");
}

/* Loads and checks one file; prints its diagnostics.  Returns the exit status. */
static int check_file(const char *path, struct arena *a, struct program **out)
{
	struct diag d = { 0 };
	struct program *prog;
	int err, status;

	prog = program_load(path, a, &d, &err);
	diag_flush(&d, stderr);
	status = prog ? EXIT_OK : EXIT_USER;
	diag_free(&d);
	if (out)
		*out = prog;
	return status;
}

int do_check(int argc, char **argv)
{
	struct arena a = { 0 };
	const char *file = NULL;
	int status;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--btf")) {
			if (++i == argc) {
				p_err("'--btf' needs a file");
				return EXIT_USAGE;
			}
			btf_types_set_path(argv[i]);
		} else if (argv[i][0] == '-' && argv[i][1]) {
			p_err("unknown option '%s'", argv[i]);
			help_check(stderr);
			return EXIT_USAGE;
		} else if (file) {
			p_err("'check' takes one file");
			return EXIT_USAGE;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		help_check(stderr);
		return EXIT_USAGE;
	}
	status = check_file(file, &a, NULL);
	arena_free(&a);
	return status;
}

void help_compile(FILE *out)
{
	fprintf(out,
		"Usage: ksc compile FILE.ks [-o DIR] [--btf FILE]\n"
		"\n"
		"Generates the output tree for FILE.ks in DIR (default ./NAME):\n"
		"NAME.ebpf.c, NAME.c, Makefile, and kmod/ when the file has module code.\n");
}

int do_compile(int argc, char **argv)
{
	struct arena a = { 0 };
	const char *file = NULL;
	int status;

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--btf")) {
			if (++i == argc) {
				p_err("'%s' needs an argument", argv[i - 1]);
				return EXIT_USAGE;
			}
			if (!strcmp(argv[i - 1], "--btf"))
				btf_types_set_path(argv[i]);
		} else if (argv[i][0] == '-' || file) {
			p_err("unexpected argument '%s'", argv[i]);
			help_compile(stderr);
			return EXIT_USAGE;
		} else {
			file = argv[i];
		}
	}
	if (!file) {
		help_compile(stderr);
		return EXIT_USAGE;
	}
	status = check_file(file, &a, NULL);
	arena_free(&a);
	if (status)
		return status;
	p_err("no code generator is available yet: 'ksc compile' only checks %s", file);
	return EXIT_USER;
}
