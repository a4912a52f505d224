/* `ksc check` and `ksc compile`: the front end's commands. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "btf_types.h"
#include "kmodgen.h"
#include "output.h"
#include "program.h"
#include "tree.h"

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

int check_file(const char *path, struct arena *a, struct program **out)
{
	struct diag d = { 0 };
	struct program *prog;
	int err, status;

	prog = program_load(path, a, &d, &err);
	if (prog && prog->has_kmod && kmodgen_check(prog, &d))
		prog = NULL;
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
		"Usage: ksc compile FILE.ks [-o DIR] [--btf FILE] [--only ebpf|user|kmod]\n"
		"\n"
		"Generates the output tree for FILE.ks in DIR (default ./NAME):\n"
		"  NAME.ebpf.c, vmlinux.h   the eBPF programs, maps and globals\n"
		"  NAME.c, ksc_loader.[ch]  the loader: userspace functions, libbpf runtime\n"
		"  Makefile, README.md      `make` builds NAME.ebpf.o, its skeleton and NAME\n"
		"  NAME.attach              where `ksc install` attaches each program\n"
		"  kmod/                    NAME.c, ksc_compat.h, Kbuild, Makefile, dkms.conf\n"
		"                           when the file has @kfunc/@private code or state\n"
		"--only writes just that part.  The tree is written whole or not at all.\n"
		"It replaces an earlier tree written by ksc only while that tree holds\n"
		"nothing but what ksc wrote and its Makefiles built (listed in its\n"
		".ksc-output); any other file in it makes ksc refuse.  Kernel types come\n"
		"from the BTF of --btf FILE, else /sys/kernel/btf/vmlinux.\n");
}

static int parse_only(const char *s, unsigned *parts)
{
	if (!strcmp(s, "ebpf"))
		*parts = OUT_EBPF;
	else if (!strcmp(s, "kmod"))
		*parts = OUT_KMOD;
	else if (!strcmp(s, "user"))
		*parts = OUT_USER;
	else
		return -1;
	return 0;
}

int do_compile(int argc, char **argv)
{
	struct arena a = { 0 };
	struct program *prog;
	const char *file = NULL, *dir = NULL;
	unsigned parts = OUT_ALL;
	struct out_tree t;
	char *defdir = NULL;
	int status;

	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "-o") || !strcmp(opt, "--btf") || !strcmp(opt, "--only")) {
			if (++i == argc) {
				p_err("'%s' needs an argument", opt);
				return EXIT_USAGE;
			}
			if (!strcmp(opt, "-o"))
				dir = argv[i];
			else if (!strcmp(opt, "--btf"))
				btf_types_set_path(argv[i]);
			else if (parse_only(argv[i], &parts)) {
				p_err("--only takes ebpf, user or kmod, not '%s'", argv[i]);
				return EXIT_USAGE;
			}
		} else if ((opt[0] == '-' && opt[1]) || file) {
			p_err("unexpected argument '%s'", opt);
			help_compile(stderr);
			return EXIT_USAGE;
		} else {
			file = opt;
		}
	}
	if (!file) {
		help_compile(stderr);
		return EXIT_USAGE;
	}
	status = check_file(file, &a, &prog);
	if (!status && parts == OUT_KMOD && !prog->has_kmod) {
		p_err("%s has no module code (@kfunc, @private): there is no kmod/ to write", file);
		status = EXIT_USER;
	}
	if (status) {
		arena_free(&a);
		return status;
	}
	if (!dir)
		dir = defdir = xstrdup(prog->base);
	if (tree_begin(&t, dir, false)) {
		status = EXIT_USER;
	} else if (output_write(prog, t.tmp, parts)) {
		tree_abort(&t);
		status = EXIT_USER;
	} else if (output_commit(&t, prog->base, parts)) {
		status = EXIT_USER;
	} else {
		p_step("wrote %s", dir);
	}
	free(defdir);
	arena_free(&a);
	return status;
}
