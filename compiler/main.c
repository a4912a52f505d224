/* ksc command line: a table of commands, each with its own help. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "map.h"
#include "package.h"

#ifndef KSC_VERSION
#define KSC_VERSION "0.1.0"
#endif

static const struct cmd cmds[] = {
	{ "check", do_check, help_check, "parse and type-check a .ks file" },
	{ "compile", do_compile, help_compile, "generate the eBPF, userspace and module sources" },
	{ "build", do_build, help_build, "compile, then build the eBPF object, loader and module" },
	{ "test", do_test, help_test, "build, then run the file's @test functions here or in a VM" },
	{ "kmod", do_kmod, help_kmod, "build the kernel module against a kernel tree (kmod build|dkms)" },
	{ "verify", do_verify, help_verify, "load a file's eBPF programs without attaching: the verifier's verdict" },
	{ "install", do_install, help_install, "load a built tree: module, BTF, eBPF object, attach, pin" },
	{ "uninstall", do_uninstall, help_uninstall, "undo 'ksc install NAME' in reverse, module last" },
	{ "status", do_status, help_status, "show installed programs: module, BTF, links, maps" },
	{ "package", do_package, help_package, "one .deb for the extension: eBPF object, DKMS module, systemd unit" },
	{ "kfuncs", do_kfuncs, help_kfuncs, "list kfuncs with C prototypes, or as extern lines (--kh)" },
	{ "call", do_call, help_call, "call a kfunc registered for syscall programs, print its result" },
	{ "init", do_init, help_init, "new project directory from a template (xdp, tc/ingress, ...)" },
	{ 0 },
};

static void usage(FILE *out)
{
	fprintf(out,
		"Usage: ksc [-q|-v] [--color=WHEN] COMMAND [ARGS...]\n"
		"       ksc help [COMMAND] | -h | --help | -V | --version\n"
		"\n"
		"ksc compiles KernelScript (.ks) into eBPF C, a libbpf loader and a kernel module.\n"
		"\nCommands:\n");
	for (const struct cmd *c = cmds; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nRun 'ksc help COMMAND' or 'ksc COMMAND --help' for a command's options.\n"
		     "Options may come before or after a command's operands; '--' ends them.\n"
		     "-q, -v and --color=auto|always|never (colours like gcc's; auto: on a\n"
		     "terminal, unless NO_COLOR is set or TERM is dumb) go with any command.\n"
		     "Exit status: 0 success, 1 error in the input or build, 2 usage error.\n");
}

static const struct cmd *find_cmd(const char *name)
{
	for (const struct cmd *c = cmds; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

static int usage_error(const char *fmt, const char *arg)
{
	p_err(fmt, arg);
	fprintf(stderr, "Usage: ksc [-q|-v] [--color=WHEN] COMMAND [ARGS...] (ksc --help lists the commands)\n");
	return EXIT_USAGE;
}

/* ksc help [COMMAND] */
static int help(int argc, char **argv)
{
	const struct cmd *c;

	if (argc == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (argc > 1)
		return usage_error("help: unexpected argument '%s'", argv[1]);
	c = find_cmd(argv[0]);
	if (!c)
		return usage_error("help: unknown command '%s'", argv[0]);
	c->help(stdout);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const struct cmd *c;
	int i = 1;

	atexit(ksc_stats_report);
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "-q") || !strcmp(argv[i], "--quiet")) {
			ksc_verbose = -1;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			ksc_verbose = 1;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strncmp(argv[i], "--color=", 8)) {
			if (!ksc_set_color(argv[i] + 8))
				return usage_error("--color takes auto, always or never, not '%s'", argv[i] + 8);
		} else if (!strcmp(argv[i], "--color")) {
			if (i + 1 == argc || !ksc_set_color(argv[i + 1]))
				return usage_error("--color takes auto, always or never, not '%s'",
						   i + 1 == argc ? "" : argv[i + 1]);
			i++;
		} else if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-V")) {
			printf("ksc %s (KernelScript 0.1.1)\n", KSC_VERSION);
			return EXIT_OK;
		} else {
			return usage_error("unknown option '%s'", argv[i]);
		}
	}
	if (i == argc)
		return usage_error("%s", "give a command");
	if (!strcmp(argv[i], "help"))
		return help(argc - i - 1, argv + i + 1);
	c = find_cmd(argv[i]);
	if (!c)
		return usage_error("unknown command '%s'", argv[i]);
	return c->run(argc - i - 1, argv + i + 1);
}
