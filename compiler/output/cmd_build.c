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

#include "cli.h"
#include "kbuild_run.h"
#include "util.h"

void help_build(FILE *out)
{
	fprintf(out,
		"Usage: ksc build FILE.ks [-o DIR] [--btf FILE] [--kdir KDIR [--btf-base FILE]]\n"
		"\n"
		"Runs 'ksc compile' into DIR (default ./NAME), then 'make' there, which builds\n"
		"NAME.ebpf.o, its skeleton and the loader NAME.  With --kdir, a program with\n"
		"module code also gets kmod/NAME.ko, built as 'ksc kmod build DIR --kdir KDIR'\n"
		"does (module BTF included).  The module is never built against the running\n"
		"kernel unless KDIR names its tree.\n");
}

struct build_opts {
	const char *file, *dir, *btf, *kdir, *btf_base;
};

static int parse_args(int argc, char **argv, struct build_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		const char **slot = !strcmp(opt, "-o")	       ? &o->dir :
				    !strcmp(opt, "--btf")      ? &o->btf :
				    !strcmp(opt, "--kdir")     ? &o->kdir :
				    !strcmp(opt, "--btf-base") ? &o->btf_base :
								 NULL;

		if (slot) {
			if (++i == argc) {
				p_err("'%s' needs an argument", opt);
				return -1;
			}
			*slot = argv[i];
		} else if ((opt[0] == '-' && opt[1]) || o->file) {
			p_err("unexpected argument '%s'", opt);
			return -1;
		} else {
			o->file = opt;
		}
	}
	if (!o->file) {
		help_build(stderr);
		return -1;
	}
	if (o->btf_base && !o->kdir) {
		p_err("--btf-base is for the module build: give --kdir too");
		return -1;
	}
	return 0;
}

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

int do_build(int argc, char **argv)
{
	struct build_opts o = { 0 };
	char *dir, *kmod;
	const char *cargv[8];
	int cargc = 0, status;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	dir = o.dir ? xstrdup(o.dir) : default_dir(o.file);
	cargv[cargc++] = o.file;
	cargv[cargc++] = "-o";
	cargv[cargc++] = dir;
	if (o.btf) {
		cargv[cargc++] = "--btf";
		cargv[cargc++] = o.btf;
	}
	status = do_compile(cargc, (char **)cargv);
	if (!status && run_make(dir))
		status = EXIT_USER;
	kmod = xasprintf("%s/kmod", dir);
	if (!status && access(kmod, F_OK) == 0) {
		if (o.kdir) {
			const char *kargv[] = { "build", dir, "--kdir", o.kdir, "--btf-base", o.btf_base };

			status = do_kmod(o.btf_base ? 6 : 4, (char **)kargv);
		} else {
			p_step("%s not built: give --kdir with the kernel tree to build it for", kmod);
		}
	}
	free(kmod);
	free(dir);
	return status;
}
