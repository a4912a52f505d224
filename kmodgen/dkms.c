/*
 * `ksc kmod dkms`: a DKMS source tree NAME-V/ and a tarball for
 * `dkms ldtarball`.  The tree is the module's kbuild tree; its dkms.conf
 * builds through `ksc kmod build`, so DKMS can only produce a module that
 * carries BTF and resolved kfunc ids (or fail the build).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arena.h"
#include "cli.h"
#include "kbuild_run.h"
#include "kmod_tree.h"
#include "kmodgen.h"
#include "output.h"

struct dkms_opts {
	const char *source;
	const char *version;
	const char *out;
};

static int parse_args(int argc, char **argv, struct dkms_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];

		if (!strcmp(opt, "--version") || !strcmp(opt, "-o")) {
			if (++i == argc) {
				p_err("'%s' needs an argument", opt);
				return -EINVAL;
			}
			if (!strcmp(opt, "-o"))
				o->out = argv[i];
			else
				o->version = argv[i];
		} else if ((opt[0] == '-' && opt[1]) || o->source) {
			p_err("unexpected argument '%s'", opt);
			return -EINVAL;
		} else {
			o->source = opt;
		}
	}
	if (!o->source) {
		p_err("kmod dkms needs a .ks file or a directory (see 'ksc kmod --help')");
		return -EINVAL;
	}
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

/* The sources of an existing tree, without its build products. */
static int copy_tree(const char *src, const char *name, const char *to)
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
static int write_tarball(const char *tree, const char *tarball)
{
	struct strbuf cmd;
	char *tmp = xasprintf("%s.tmp", tarball);
	int err;

	sb_init(&cmd);
	sb_puts(&cmd, "set -e; d=$(mktemp -d); trap 'rm -rf \"$d\"' EXIT; mkdir \"$d/dkms_main_tree\"; cp -R ");
	sh_quote(&cmd, tree);
	sb_puts(&cmd, " \"$d/dkms_source_tree\"; rm -f \"$d/dkms_source_tree/.ksc-output\"; tar -czf ");
	sh_quote(&cmd, tmp);
	sb_puts(&cmd, " --owner=0 --group=0 -C \"$d\" dkms_main_tree dkms_source_tree");
	err = run_logged(cmd.buf, "/dev/null", "tar");
	if (!err && rename(tmp, tarball))
		err = -errno;
	if (err) {
		p_err("cannot write the tarball %s", tarball);
		unlink(tmp);
	}
	sb_free(&cmd);
	free(tmp);
	return err;
}

/* Fills tmp with the module sources of o->source; *name gets the module name. */
static int fill_tree(const struct dkms_opts *o, const char *tmp, struct arena *a, char **name)
{
	size_t len = strlen(o->source);

	if (is_dir(o->source)) {
		char *src = kmod_tree_dir(o->source);
		int err;

		*name = kmod_tree_name(src);
		if (!*name) {
			p_err("%s has no kbuild tree written by ksc (no Kbuild with obj-m); give a .ks file or a directory from 'ksc compile'",
			      o->source);
			free(src);
			return -EINVAL;
		}
		err = copy_tree(src, *name, tmp);
		free(src);
		return err;
	}
	if (len > 3 && !strcmp(o->source + len - 3, ".ks") && access(o->source, R_OK) == 0) {
		struct program *prog;

		if (check_file(o->source, a, &prog))
			return -EINVAL;
		if (!prog->has_kmod) {
			p_err("%s has no module code (@kfunc, @private functions or state): there is no module to package",
			      o->source);
			return -EINVAL;
		}
		*name = xstrdup(prog->base);
		return kmodgen_write(prog, tmp);
	}
	p_err("%s: not a .ks file or a directory", o->source);
	return -ENOENT;
}

int kmod_dkms(int argc, char **argv)
{
	struct dkms_opts o = { .version = KMOD_DEFAULT_VERSION, .out = "." };
	struct arena a = { 0 };
	char *name = NULL, *tree = NULL, *tarball = NULL, *tmp = NULL;
	int err;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	if (!valid_version(o.version)) {
		p_err("--version '%s': DKMS versions are letters, digits and . + ~ _ - only", o.version);
		return EXIT_USER;
	}
	/* The tree's name is only known once the source is read: fill a scratch tree first. */
	tree = xasprintf("%s/.ksc-dkms", o.out);
	err = output_begin(tree, &tmp);
	free(tree);
	tree = NULL;
	if (!err)
		err = fill_tree(&o, tmp, &a, &name);
	if (!err)
		err = kmod_write_dkms_conf(tmp, name, o.version);
	if (!err) {
		tree = xasprintf("%s/%s-%s", o.out, name, o.version);
		tarball = xasprintf("%s.dkms.tar.gz", tree);
		err = write_tarball(tmp, tarball);
	}
	if (err) {
		if (tmp)
			output_abort(tmp);
	} else if ((err = output_commit(tmp, tree))) {
		unlink(tarball);
	} else {
		p_step("wrote %s (dkms add %s) and %s (dkms ldtarball %s)", tree, tree, tarball,
		       tarball);
	}
	free(tmp);
	free(tree);
	free(tarball);
	free(name);
	arena_free(&a);
	return err ? EXIT_USER : EXIT_OK;
}
