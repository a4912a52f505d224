/*
 * `ksc kmod dkms`: a DKMS source tree NAME-V/ and a tarball for
 * `dkms ldtarball`.  The tree is the module's kbuild tree; its dkms.conf
 * builds through `ksc kmod build`, so DKMS can only produce a module that
 * carries BTF and resolved kfunc ids (or fail the build).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "arena.h"
#include "args.h"
#include "cli.h"
#include "kbuild_run.h"
#include "kmod_tree.h"
#include "kmodgen.h"
#include "output.h"
#include "tree.h"

struct dkms_opts {
	const char *source;
	const char *version;
	const char *out;
};

enum { D_VERSION, D_OUT };

static const struct arg_opt dkms_opts[] = {
	[D_VERSION] = { "version", 0, "V" },
	[D_OUT] = { "output", 'o', "DIR" },
	{ 0 },
};

static const struct arg_spec dkms_spec = { "kmod dkms", help_kmod, dkms_opts, 1, 1, "FILE.ks or DIR" };

static int parse_args(int argc, char **argv, struct dkms_opts *o)
{
	struct args a;
	int status = args_parse(&dkms_spec, argc, argv, &a);

	if (status)
		return status;
	o->source = a.pos[0];
	if (a.val[D_VERSION])
		o->version = a.val[D_VERSION];
	if (a.val[D_OUT])
		o->out = a.val[D_OUT];
	return 0;
}

/* DKMS puts the version into paths and shell commands: keep it plain. */
static bool valid_version(const char *v)
{
	if (!*v || *v == '.' || *v == '-')
		return false;
	return strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+~_-") ==
	       strlen(v);
}

static int copy_file(const char *from_dir, const char *to_dir, const char *name)
{
	char *from = xasprintf("%s/%s", from_dir, name), *to = xasprintf("%s/%s", to_dir, name);
	char *data;
	size_t len;
	int err = read_file(from, &data, &len);

	if (err) {
		p_err("cannot read %s: %s", from, strerror(-err));
	} else {
		err = write_file(to, data, len);
		if (err)
			p_err("cannot write %s: %s", to, strerror(-err));
		free(data);
	}
	free(from);
	free(to);
	return err;
}

int kmod_tree_copy(const char *src, const char *name, const char *to)
{
	char *c = xasprintf("%s.c", name);
	const char *files[] = { c, "ksc_compat.h", "Kbuild", "Makefile" };
	int err = 0;

	for (size_t i = 0; i < ARRAY_SIZE(files) && !err; i++)
		err = copy_file(src, to, files[i]);
	free(c);
	return err;
}

/*
 * dkms ldtarball wants dkms_source_tree/ (with dkms.conf) beside a
 * dkms_main_tree/ of prebuilt modules, empty here: every kernel builds its own.
 */
static int write_tarball(const char *tree, const char *tarball, char **tmp)
{
	struct strbuf cmd;
	int fd, err;

	*tmp = xasprintf("%s.ksc-tmp-XXXXXX", tarball);
	fd = mkstemp(*tmp);
	if (fd < 0) {
		p_err("cannot write the tarball %s: %s", tarball, strerror(errno));
		free(*tmp);
		*tmp = NULL;
		return -EIO;
	}
	close(fd);
	sb_init(&cmd);
	sb_puts(&cmd, "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; mkdir \"$d/dkms_main_tree\"; cp -R ");
	sh_quote(&cmd, tree);
	sb_puts(&cmd, " \"$d/dkms_source_tree\"; rm -f \"$d/dkms_source_tree/.ksc-output\"; tar -czf ");
	sh_quote(&cmd, *tmp);
	sb_puts(&cmd, " --owner=0 --group=0 -C \"$d\" dkms_main_tree dkms_source_tree");
	err = run_logged(cmd.buf, "/dev/null", "tar");
	if (!err)
		chmod(*tmp, 0644);
	if (err)
		p_err("cannot write the tarball %s", tarball);
	sb_free(&cmd);
	return err;
}

/*
 * The module of o->source: a checked program (*prog) or an existing kbuild
 * tree (*src); *name gets the module's name.
 */
static int read_source(const struct dkms_opts *o, struct kernel *k, struct arena *a,
		       struct program **prog, char **src, char **name)
{
	size_t len = strlen(o->source);

	if (is_dir(o->source)) {
		*src = kmod_tree_dir(o->source);
		*name = kmod_tree_name(*src);
		if (*name)
			return 0;
		p_err("%s has no kbuild tree written by ksc (no Kbuild with obj-m); give a .ks file or a directory from 'ksc compile'",
		      o->source);
		return -EINVAL;
	}
	if (len > 3 && !strcmp(o->source + len - 3, ".ks") && access(o->source, R_OK) == 0) {
		if (check_file(o->source, k, a, prog))
			return -EINVAL;
		if (!(*prog)->has_kmod) {
			p_err("%s has no module code (@kfunc, @private functions or state): there is no module to package",
			      o->source);
			return -EINVAL;
		}
		*name = xstrdup((*prog)->base);
		return 0;
	}
	p_err("%s: not a .ks file or a directory", o->source);
	return -ENOENT;
}

/*
 * The tarball beside the tree is replaced only together with a tree ksc
 * wrote: a file of that name next to anything else is the user's.
 */
static int check_tarball(const char *tree, const char *tarball)
{
	if (access(tarball, F_OK) || tree_is_ksc(tree, NULL))
		return 0;
	p_err("'%s' exists and ksc did not write it with '%s'; move it, or choose another -o directory",
	      tarball, tree);
	return -EEXIST;
}

int kmod_dkms(int argc, char **argv)
{
	struct dkms_opts o = { .version = KMOD_DEFAULT_VERSION, .out = "." };
	struct arena a = { 0 };
	/* Checked against the running kernel: DKMS builds for any, later. */
	struct kernel k = { 0 };
	struct program *prog = NULL;
	struct out_tree t;
	char *name = NULL, *tree = NULL, *tarball = NULL, *src = NULL, *tartmp = NULL;
	int err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	if (!valid_version(o.version)) {
		p_err("--version '%s': DKMS versions are letters, digits and . + ~ _ - only", o.version);
		return EXIT_USER;
	}
	err = read_source(&o, &k, &a, &prog, &src, &name);
	if (!err) {
		tree = xasprintf("%s/%s-%s", o.out, name, o.version);
		tarball = xasprintf("%s.dkms.tar.gz", tree);
		err = tree_begin(&t, tree, false);
	}
	if (err)
		goto out;
	err = check_tarball(tree, tarball);
	if (!err)
		err = prog ? kmodgen_write(prog, t.tmp) : kmod_tree_copy(src, name, t.tmp);
	if (!err)
		err = kmod_write_dkms_conf(t.tmp, name, o.version, NULL);
	if (!err)
		err = write_tarball(t.tmp, tarball, &tartmp);
	if (err) {
		tree_abort(&t);
	} else if (!(err = output_commit(&t, name, OUT_KBUILD)) && rename(tartmp, tarball)) {
		err = -errno;
		p_err("cannot move the tarball into %s: %s", tarball, strerror(errno));
	}
	if (err && tartmp)
		unlink(tartmp);
	if (!err)
		p_step("wrote %s (dkms add %s) and %s (dkms ldtarball %s)", tree, tree, tarball,
		       tarball);
out:
	free(tartmp);
	free(src);
	free(tree);
	free(tarball);
	free(name);
	arena_free(&a);
	kernel_free(&k);
	return err ? EXIT_USER : EXIT_OK;
}
