/* ksc command line: a table of commands, each with its own help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef KSC_VERSION
#define KSC_VERSION "0.1.0"
#endif

static const struct cmd cmds[] = {
	{ "check", do_check, help_check, "parse and type-check a .ks file" },
	{ "compile", do_compile, help_compile, "generate the eBPF, userspace and module sources" },
	{ "build", do_build, help_build, "compile, then build the eBPF object, loader and module" },
	{ "kmod", do_kmod, help_kmod, "build the kernel module against a kernel tree (kmod build|dkms)" },
	{ "install", do_install, help_install, "load a built tree: module, BTF, eBPF object, attach, pin" },
	{ "uninstall", do_uninstall, help_uninstall, "undo 'ksc install NAME' in reverse, module last" },
	{ "status", do_status, help_status, "show installed programs: module, BTF, links, maps" },
	{ "kfuncs", do_kfuncs, help_kfuncs, "list kfuncs with C prototypes, or as extern lines (--kh)" },
	{ "call", do_call, help_call, "call a kfunc registered for syscall programs, print its result" },
	{ "init", do_init, help_init, "new project directory from a template (xdp, tc/ingress, ...)" },
	{ 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksc [-q|-v] COMMAND [ARGS...]\n"
		"       ksc --help | --version\n"
		"\n"
		"ksc compiles KernelScript (.ks) into eBPF C, a libbpf loader and a kernel module.\n"
		"\nCommands:\n");
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'ksc COMMAND --help' for a command's options.\n"
		     "Exit status: 0 success, 1 error in the input or build, 2 usage error.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-q")) {
			ksc_verbose = -1;
		} else if (!strcmp(argv[i], "-v")) {
			ksc_verbose = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "--version")) {
			printf("ksc %s (KernelScript 0.1.1)\n", KSC_VERSION);
			return 0;
		} else {
			p_err("unknown option '%s'", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i == argc) {
		usage(stderr);
		return 2;
	}
	for (const struct cmd *c = cmds; c->name; c++) {
		if (strcmp(c->name, argv[i]))
			continue;
		if (argc > i + 1 && (!strcmp(argv[i + 1], "--help") || !strcmp(argv[i + 1], "-h"))) {
			c->help(stdout);
			return 0;
		}
		return c->run(argc - i - 1, argv + i + 1);
	}
	p_err("unknown command '%s'", argv[i]);
	usage(stderr);
	return 2;
}
