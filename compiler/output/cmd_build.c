/*
 * `ksc build`: compile, then build what the output tree holds: the eBPF
 * object and loader through the tree's own Makefile, and the module through
 * `ksc kmod build` when a kernel tree is given.  Each step is the command a
 * user could run by hand on the tree, so a built tree and a hand-built one
 * are the same.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "kbuild_run.h"
#include "util.h"
#include "verify.h"

void help_build(FILE *out)
{
	fprintf(out,
		"Usage: ksc build FILE.ks [-o DIR] [--btf FILE] [--kdir KDIR [--btf-base FILE]] [--verify]\n"
		"\n"
		"Runs 'ksc compile' into DIR (default ./NAME), then 'make' there, which builds\n"
		"NAME.ebpf.o, its skeleton and the loader NAME.  With --kdir, a program with\n"
		"module code also gets kmod/NAME.ko, built as 'ksc kmod build DIR --kdir KDIR'\n"
		"does (module BTF included).  The module is never built against the running\n"
		"kernel unless KDIR names its tree.  --verify then loads the eBPF programs\n"
		"without attaching and unloads them, as 'ksc verify DIR' does (root).\n");
}

enum { B_OUT, B_BTF, B_KDIR, B_BTF_BASE, B_VERIFY };

static const struct arg_opt build_opts[] = {
	[B_OUT] = { "output", 'o', "DIR" },
	[B_BTF] = { "btf", 0, "FILE" },
	[B_KDIR] = { "kdir", 0, "KDIR" },
	[B_BTF_BASE] = { "btf-base", 0, "FILE" },
	[B_VERIFY] = { "verify", 0, NULL },
	{ 0 },
};

static const struct arg_spec build_spec = { "build", help_build, build_opts, 1, 1, "FILE.ks" };

/* NAME of NAME.ks, the default output directory as for ksc compile. */
static char *default_dir(const char *file)
{
	const char *base = strrchr(file, '/');
	size_t len;

	base = base ? base + 1 : file;
	len = strlen(base);
	if (len > 3 && !strcmp(base + len - 3, ".ks"))
		len -= 3;
	return xstrndup(base, len);
}

static int run_make(const char *dir)
{
	char *log = xasprintf("%s/build.log", dir);
	struct strbuf cmd;
	int err;

	p_step("make: eBPF object, skeleton and loader in %s", dir);
	sb_init(&cmd);
	sb_puts(&cmd, "make -C ");
	sh_quote(&cmd, dir);
	err = run_logged(cmd.buf, log, "make");
	if (err == -ECHILD)
		p_err("building %s failed; its log is %s", dir, log);
	sb_free(&cmd);
	free(log);
	return err;
}

int compile_and_make(const char *file, const char *dir, const char *btf)
{
	const char *cargv[] = { "-o", dir, "--", file, NULL, NULL };
	int status;

	if (btf) {
		cargv[2] = "--btf";
		cargv[3] = btf;
		cargv[4] = "--";
		cargv[5] = file;
	}
	status = do_compile(btf ? 6 : 4, (char **)cargv);
	if (!status && run_make(dir))
		status = EXIT_USER;
	return status;
}

int do_build(int argc, char **argv)
{
	struct args a;
	const char *file, *kdir, *btf_base;
	char *dir, *kmod;
	int status = args_parse(&build_spec, argc, argv, &a);

	if (status)
		return status == ARGS_HELP ? EXIT_OK : status;
	file = a.pos[0];
	kdir = a.val[B_KDIR];
	btf_base = a.val[B_BTF_BASE];
	if (btf_base && !kdir)
		return args_usage(&build_spec, "--btf-base is for the module build: give --kdir too");
	dir = a.val[B_OUT] ? xstrdup(a.val[B_OUT]) : default_dir(file);
	status = compile_and_make(file, dir, a.val[B_BTF]);
	kmod = xasprintf("%s/kmod", dir);
	if (!status && access(kmod, F_OK) == 0) {
		if (kdir) {
			const char *kargv[] = { "build", "--kdir", kdir, "--", dir, NULL, NULL };

			if (btf_base) {
				kargv[3] = "--btf-base";
				kargv[4] = btf_base;
				kargv[5] = "--";
				kargv[6] = dir;
			}
			status = do_kmod(btf_base ? 7 : 5, (char **)kargv);
		} else {
			p_step("%s not built: give --kdir with the kernel tree to build it for", kmod);
		}
	}
	if (!status && a.val[B_VERIFY])
		status = verify_tree(dir, file);
	free(kmod);
	free(dir);
	return status;
}
