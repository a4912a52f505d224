/* `ksc check` and `ksc compile`: the front end's commands. */
#include <stdlib.h>
#include <string.h>

#include "args.h"
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

int check_file(const char *path, struct kernel *k, struct arena *a, struct program **out)
{
	struct diag d = { 0 };
	struct program *prog;
	int err, status;

	prog = program_load(path, k, a, &d, &err);
	if (prog && prog->has_kmod && kmodgen_check(prog, &d))
		prog = NULL;
	diag_flush(&d, stderr);
	status = prog ? EXIT_OK : EXIT_USER;
	diag_free(&d);
	if (out)
		*out = prog;
	return status;
}

static const struct arg_opt check_opts[] = {
	{ "btf", 0, "FILE" },
	{ 0 },
};

static const struct arg_spec check_spec = { "check", help_check, check_opts, 1, 1, "FILE.ks" };

int do_check(int argc, char **argv)
{
	struct arena a = { 0 };
	struct kernel k = { 0 };
	struct args args;
	int status = args_parse(&check_spec, argc, argv, &args);

	if (status)
		return status == ARGS_HELP ? EXIT_OK : status;
	k.btf_path = args.val[0];
	status = check_file(args.pos[0], &k, &a, NULL);
	arena_free(&a);
	kernel_free(&k);
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

enum { C_OUT, C_BTF, C_ONLY };

static const struct arg_opt compile_opts[] = {
	[C_OUT] = { "output", 'o', "DIR" },
	[C_BTF] = { "btf", 0, "FILE" },
	[C_ONLY] = { "only", 0, "PART" },
	{ 0 },
};

static const struct arg_spec compile_spec = { "compile", help_compile, compile_opts, 1, 1, "FILE.ks" };

int do_compile(int argc, char **argv)
{
	struct arena a = { 0 };
	struct kernel k = { 0 };
	struct program *prog;
	const char *file, *dir;
	unsigned parts = OUT_ALL;
	struct out_tree t;
	char *defdir = NULL;
	struct args args;
	int status = args_parse(&compile_spec, argc, argv, &args);

	if (status)
		return status == ARGS_HELP ? EXIT_OK : status;
	file = args.pos[0];
	dir = args.val[C_OUT];
	if (args.val[C_ONLY] && parse_only(args.val[C_ONLY], &parts))
		return args_usage(&compile_spec, "--only takes ebpf, user or kmod, not '%s'",
				  args.val[C_ONLY]);
	k.btf_path = args.val[C_BTF];
	status = check_file(file, &k, &a, &prog);
	if (!status && parts == OUT_KMOD && !prog->has_kmod) {
		p_err("%s has no module code (@kfunc, @private): there is no kmod/ to write", file);
		status = EXIT_USER;
	}
	if (!status && !dir)
		dir = defdir = xstrdup(prog->base);
	if (status) {
		/* Said why; nothing is written. */
	} else if (tree_begin(&t, dir, false)) {
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
	kernel_free(&k);
	return status;
}
