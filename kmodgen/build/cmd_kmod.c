/*
 * `ksc kmod build`: a module built against one exact kernel tree, with BTF
 * the kernel will accept, or nothing at all.
 *
 * The source is a .ks file (the kbuild tree is generated first, then built
 * in a temporary directory that replaces -o DIR only when the module is
 * complete) or a directory holding a kbuild tree ksc wrote earlier (DKMS
 * builds that way: built in place, and the .ko removed again on failure).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "btf_types.h"
#include "arena.h"
#include "kbuild_run.h"
#include "kdir.h"
#include "kmod_btf.h"
#include "kmod_sign.h"
#include "kmod_tree.h"
#include "kmodgen.h"
#include "output.h"
#include "sema.h"
#include "tree.h"

struct kmod_opts {
	const char *source;
	const char *kdir;
	const char *btf_base;
	const char *out;
	struct kmod_sign_keys sign;
};

void help_kmod(FILE *out)
{
	fprintf(out,
		"Usage: ksc kmod build (FILE.ks|DIR) --kdir KDIR [--btf-base FILE]\n"
		"                      [--sign-key KEY --sign-cert CERT] [-o DIR]\n"
		"       ksc kmod dkms (FILE.ks|DIR) [--version V] [-o DIR]\n"
		"\n"
		"Builds the kernel module of FILE.ks (its @kfunc and @private code) against\n"
		"the kernel build tree KDIR, never the running kernel's unless KDIR is it.\n"
		"From a .ks file the kbuild tree is generated into DIR/kmod (default\n"
		"./NAME/kmod); a DIR holding a tree ksc wrote (DIR/kmod or DIR itself) is\n"
		"built in place.\n"
		"\n"
		"The module always leaves with BTF and resolved kfunc id sets, or not at all.\n"
		"Where KDIR ships vmlinux and resolve_btfids, kbuild makes them; otherwise\n"
		"ksc runs pahole over a base BTF and resolves the ids itself.  The base is\n"
		"--btf-base (raw BTF, vmlinux, or the kernel's vmlinuz), else KDIR/vmlinux,\n"
		"else vmlinuz-RELEASE in $KSC_VMLINUZ_PATH (default /boot), else the running\n"
		"kernel's BTF when KDIR is its tree.  PAHOLE names the pahole to run.\n"
		"The BTF of an image is extracted once and kept in $KSC_BTF_CACHE (default\n"
		"$XDG_CACHE_HOME/ksc/btf or ~/.cache/ksc/btf; 'none' keeps nothing), named\n"
		"by the release and the image's SHA-256; removing the directory clears it.\n"
		"\n"
		"With --sign-key and --sign-cert the module is signed after its BTF is made\n"
		"and checked again, by KDIR's scripts/sign-file with the kernel's configured\n"
		"hash: a kernel that enforces signatures takes it when it trusts CERT.\n"
		"\n"
		"kmod dkms writes the DKMS source tree DIR/NAME-V (default ./NAME-V, V is\n"
		"--version, default " KMOD_DEFAULT_VERSION ") and DIR/NAME-V.dkms.tar.gz for 'dkms ldtarball'.\n"
		"Its dkms.conf builds with 'ksc kmod build', so every kernel DKMS builds\n"
		"for gets a module with BTF, or the build fails.\n");
}

enum { KB_KDIR, KB_BTF_BASE, KB_SIGN_KEY, KB_SIGN_CERT, KB_OUT };

static const struct arg_opt build_opts[] = {
	[KB_KDIR] = { "kdir", 0, "KDIR" },
	[KB_BTF_BASE] = { "btf-base", 0, "FILE" },
	[KB_SIGN_KEY] = { "sign-key", 0, "KEY" },
	[KB_SIGN_CERT] = { "sign-cert", 0, "CERT" },
	[KB_OUT] = { "output", 'o', "DIR" },
	{ 0 },
};

static const struct arg_spec build_spec = { "kmod build", help_kmod, build_opts, 1, 1, "FILE.ks or DIR" };

static int parse_build_args(int argc, char **argv, struct kmod_opts *o)
{
	struct args a;
	int status = args_parse(&build_spec, argc, argv, &a);

	if (status)
		return status;
	o->source = a.pos[0];
	o->kdir = a.val[KB_KDIR];
	o->btf_base = a.val[KB_BTF_BASE];
	o->out = a.val[KB_OUT];
	o->sign.key = a.val[KB_SIGN_KEY];
	o->sign.cert = a.val[KB_SIGN_CERT];
	if (!o->kdir)
		return args_usage(&build_spec, "give the kernel tree to build for: --kdir KDIR");
	if (!o->sign.key != !o->sign.cert)
		return args_usage(&build_spec, "give the signing key and its certificate together: --sign-key KEY --sign-cert CERT");
	return 0;
}

/*
 * Kernel versions that first gave kfuncs a hook for each program type, and
 * modules their own struct_ops types.
 */
static int check_hooks(struct program *prog, const struct kdir *k)
{
	static const struct {
		enum kf_hook hook;
		unsigned since;
		const char *what;
	} late[] = {
		{ KF_HOOK_KPROBE, KDIR_VERSION(6, 10, 0), "kprobe" },
		{ KF_HOOK_TRACEPOINT, KDIR_VERSION(6, 12, 0), "tracepoint" },
		{ KF_HOOK_PERF_EVENT, KDIR_VERSION(6, 12, 0), "perf_event" },
	};

	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (is_kmod_ops_type(d) && k->version < KDIR_VERSION(6, 9, 0)) {
			p_err("struct_ops type '%s' is defined by the module, which needs Linux 6.9 or newer (register_bpf_struct_ops); --kdir is %s",
			      d->name, k->release);
			return -EOPNOTSUPP;
		}
		if (d->kind != D_FUNC || d->role != ROLE_KFUNC)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(late); i++) {
			if (!(kmodgen_hooks(d) & (1u << late[i].hook)) || k->version >= late[i].since)
				continue;
			p_err("kfunc '%s' is called from a %s program, which kernels before %u.%u cannot do (--kdir is %s)",
			      d->name, late[i].what, late[i].since >> 16, (late[i].since >> 8) & 0xff,
			      k->release);
			return -EOPNOTSUPP;
		}
	}
	return 0;
}

char *kmod_tree_name(const char *src)
{
	char *path = xasprintf("%s/Kbuild", src), *text, *p, *name = NULL;
	size_t len;

	if (read_file(path, &text, &len)) {
		free(path);
		return NULL;
	}
	p = strstr(text, "obj-m");
	if (p) {
		p += strcspn(p, "=") + 1;
		p += strspn(p, " \t");
		len = strcspn(p, ". \t\n");
		if (len && !strncmp(p + len, ".o", 2))
			name = xstrndup(p, len);
	}
	free(text);
	free(path);
	return name;
}

bool is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

char *kmod_tree_dir(const char *dir)
{
	char *kmod = xasprintf("%s/kmod", dir);

	if (is_dir(kmod))
		return kmod;
	free(kmod);
	return xstrdup(dir);
}

/*
 * Builds the tree in src and gives the module its BTF, then signs it when
 * asked: signing comes last, and the BTF is checked again on the signed
 * file, which is the one the kernel will read.
 */
static int build_tree(const char *src, const char *name, const struct kdir *k,
		      const struct kmod_btf_base *b, const struct kmod_sign_keys *sign)
{
	int err;

	p_step("kbuild: %s.ko against %s (%s)", name, k->release, k->path);
	err = kbuild_modules(k->path, src, "modules");
	if (!err)
		err = kmod_btf_ensure(src, name, k, b);
	if (!err && sign->key) {
		err = kmod_sign(k, sign, src, name);
		if (!err)
			err = kmod_btf_verify(src, name, b);
	}
	return err;
}

/*
 * What the BTF step will need from the host, checked before kbuild runs: a
 * base BTF (found already, or not) and pahole.  A module without kfuncs (a
 * native congestion control, say) needs neither.
 */
static int prepare(const struct kdir *k, const char *src, const char *name,
		   const struct kmod_btf_base *b)
{
	if (!kmod_btf_wanted(src, name))
		return 0;
	if (!b->path)
		return kmod_btf_no_base(k);
	return kdir_builds_btf(k) ? 0 : kmod_btf_need_pahole();
}

static int build_dir(const struct kdir *k, const struct kmod_opts *o)
{
	char *src = kmod_tree_dir(o->source), *name = kmod_tree_name(src), *ko;
	struct kmod_btf_base b;
	int err;

	if (!name) {
		p_err("%s has no kbuild tree written by ksc (no Kbuild with obj-m); give a .ks file or a directory from 'ksc compile'",
		      o->source);
		free(src);
		return EXIT_USER;
	}
	ko = xasprintf("%s/%s.ko", src, name);
	memset(&b, 0, sizeof(b));
	/* A tree without kfuncs needs no base: no image is extracted for it. */
	err = kmod_btf_wanted(src, name) ? kmod_btf_find_base(k, o->btf_base, src, &b) : 0;
	if (!err)
		err = prepare(k, src, name, &b);
	if (!err)
		err = build_tree(src, name, k, &b, &o->sign);
	kmod_btf_base_release(&b);
	/* A module without registrable kfuncs must not be left for insmod. */
	if (err)
		unlink(ko);
	else
		p_step("built %s", ko);
	free(ko);
	free(name);
	free(src);
	return err ? EXIT_USER : EXIT_OK;
}

/* Whether path is free for a log: absent, or a log kept by an earlier failed build. */
static bool log_slot_free(const char *path)
{
	char head[4];
	FILE *f = fopen(path, "r");
	bool ours;

	if (!f)
		return errno == ENOENT;
	ours = fread(head, 1, sizeof(head), f) == sizeof(head) && !memcmp(head, "==> ", 4);
	fclose(f);
	return ours;
}

/*
 * The build logs of a failed build outlive its temporary tree, which goes:
 * DIR.build.log (dir is absolute, so never inside DIR) holds kbuild's and
 * pahole's output, unless a file of the user's has that name.
 */
static void keep_logs(const char *src, const char *dir)
{
	static const char *const logs[] = { "build.log", "btf.log", "sign.log" };
	char *kept = xasprintf("%s.build.log", dir);
	struct strbuf all;
	bool any = false;

	if (!log_slot_free(kept)) {
		p_warn("the build log is not kept: %s exists and is not a log ksc wrote", kept);
		free(kept);
		return;
	}

	sb_init(&all);
	for (size_t i = 0; i < ARRAY_SIZE(logs); i++) {
		char *path = xasprintf("%s/%s", src, logs[i]), *text;
		size_t len;

		if (!read_file(path, &text, &len)) {
			sb_printf(&all, "==> %s <==\n", logs[i]);
			sb_putn(&all, text, len);
			free(text);
			any = true;
		}
		free(path);
	}
	if (any && !write_file(kept, all.buf, all.len))
		p_step("build log kept in %s", kept);
	sb_free(&all);
	free(kept);
}

/*
 * Kernel types, and the prototypes @kmod methods take, come from the
 * target kernel's BTF rather than the build host's: it is looked up before
 * the program is checked (an image's BTF is extracted into a scratch
 * directory), and later serves as the base of the module's BTF.
 */
static int target_btf(const struct kdir *k, const struct kmod_opts *o, char **scratch,
		      struct kmod_btf_base *b, struct kernel *kern)
{
	const char *tmpdir = getenv("TMPDIR");
	char *dir = xasprintf("%s/ksc-btf-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
	int err;

	if (!mkdtemp(dir)) {
		err = -errno;
		p_err("cannot make a scratch directory %s: %s", dir, strerror(errno));
		free(dir);
		return err;
	}
	*scratch = dir;
	err = kmod_btf_find_base(k, o->btf_base, dir, b);
	if (!err && b->path)
		kern->btf_path = b->path;
	else if (!err)
		p_step("types: no BTF of Linux %s at hand; kernel types are checked against the running kernel's",
		       k->release);
	return err;
}

/* Generates the tree into a temporary directory, builds it there, then moves it into place. */
static int generate_and_build(const struct kdir *k, struct program *prog, const char *dir,
			      const struct kmod_btf_base *b, const struct kmod_sign_keys *sign)
{
	struct out_tree t;
	char *src;
	int err = check_hooks(prog, k);

	if (err || (err = tree_begin(&t, dir, false)))
		return err;
	src = xasprintf("%s/kmod", t.tmp);
	err = output_write(prog, t.tmp, OUT_KMOD);
	if (!err)
		err = prepare(k, src, prog->ident, b);
	if (!err)
		err = build_tree(src, prog->ident, k, b, sign);
	if (err) {
		keep_logs(src, t.dir);
		tree_abort(&t);
	} else if (!(err = output_commit(&t, prog->base, OUT_KMOD))) {
		p_step("built %s/kmod/%s.ko", dir, prog->ident);
	}
	free(src);
	return err;
}

static int build_ks(const struct kdir *k, const struct kmod_opts *o)
{
	struct arena a = { 0 };
	struct kernel kern = { 0 };
	struct program *prog = NULL;
	struct kmod_btf_base b = { 0 };
	char *scratch = NULL, *dir = NULL;
	int status = EXIT_USER;

	if (target_btf(k, o, &scratch, &b, &kern))
		goto out;
	kmodgen_load_exports(&kern, k->path, k->release);
	status = check_file(o->source, &kern, &a, &prog);
	if (status)
		goto out;
	status = EXIT_USER;
	if (!prog->has_kmod) {
		p_err("%s has no module code (@kfunc, @private functions or state): there is no module to build",
		      o->source);
		goto out;
	}
	dir = o->out ? xstrdup(o->out) : xstrdup(prog->base);
	if (!generate_and_build(k, prog, dir, &b, &o->sign))
		status = EXIT_OK;
out:
	kmod_btf_base_release(&b);
	if (scratch)
		rmdir(scratch);
	free(scratch);
	free(dir);
	arena_free(&a);
	kernel_free(&kern);
	return status;
}

static int kmod_build(int argc, char **argv)
{
	struct kmod_opts o = { 0 };
	struct kdir k;
	size_t len;
	int status = parse_build_args(argc, argv, &o);

	if (status)
		return status == ARGS_HELP ? EXIT_OK : status;
	if (kdir_open(o.kdir, &k))
		return EXIT_USER;
	len = strlen(o.source);
	if (kmod_sign_check(&k, &o.sign)) {
		status = EXIT_USER;
	} else if (is_dir(o.source)) {
		status = build_dir(&k, &o);
	} else if (len > 3 && !strcmp(o.source + len - 3, ".ks") && access(o.source, R_OK) == 0) {
		status = build_ks(&k, &o);
	} else {
		p_err("%s: not a .ks file or a directory", o.source);
		status = EXIT_USER;
	}
	kdir_close(&k);
	return status;
}

int do_kmod(int argc, char **argv)
{
	if (argc >= 1 && !strcmp(argv[0], "build"))
		return kmod_build(argc - 1, argv + 1);
	if (argc >= 1 && !strcmp(argv[0], "dkms"))
		return kmod_dkms(argc - 1, argv + 1);
	if (argc >= 1 && (!strcmp(argv[0], "-h") || !strcmp(argv[0], "--help"))) {
		help_kmod(stdout);
		return EXIT_OK;
	}
	if (argc)
		p_err("kmod: unknown command '%s': build or dkms", argv[0]);
	else
		p_err("kmod: give a command: build or dkms");
	args_synopsis(help_kmod, stderr);
	return EXIT_USAGE;
}
