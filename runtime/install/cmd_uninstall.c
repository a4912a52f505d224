/*
 * `ksc uninstall NAME` takes down what `ksc install` put up, newest first:
 * links (detached), programs, maps, the pin directory, then the module.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "installer.h"

void help_uninstall(FILE *out)
{
	fprintf(out,
		"Usage: ksc uninstall NAME\n"
		"\n"
		"Undoes 'ksc install' of NAME, in reverse: detaches and unpins the links\n"
		"under " INSTALL_ROOT "/NAME, unpins its programs and maps, removes that\n"
		"directory, then removes module NAME through libkmod.  The module stays\n"
		"(exit status 1) while programs ksc did not install still use it.\n");
}

static const struct arg_opt no_opts[] = { { 0 } };
static const struct arg_spec uninstall_spec = { "uninstall", help_uninstall, no_opts, 1, 1, "NAME" };

/* NAME, the operand of uninstall: 0 and *name, ARGS_HELP or EXIT_USAGE. */
static int name_arg(const struct arg_spec *s, int argc, char **argv, const char **name)
{
	struct args a;
	int status = args_parse(s, argc, argv, &a);

	if (status)
		return status;
	*name = a.npos ? a.pos[0] : NULL;
	if (*name && !install_valid_name(*name))
		return args_usage(s, "'%s' is not an installed program's name", *name);
	return 0;
}

int do_uninstall(int argc, char **argv)
{
	const char *name = NULL;
	char *dir;
	bool pinned;
	int err = name_arg(&uninstall_spec, argc, argv, &name);

	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	if (install_preflight("ksc uninstall"))
		return EXIT_USER;
	dir = install_path(name, NULL);
	pinned = access(dir, F_OK) == 0;
	if (!pinned && !module_loaded(name)) {
		p_err("%s is not installed (no %s, no module %s)", name, dir, name);
		free(dir);
		return EXIT_USER;
	}
	if (pinned) {
		p_step("unpinning %s", dir);
		err = install_remove_tree(dir);
	}
	if (!err && module_loaded(name)) {
		p_step("module: removing %s", name);
		err = module_remove(name);
	}
	if (!err)
		p_step("uninstalled %s", name);
	free(dir);
	return err ? EXIT_USER : EXIT_OK;
}
