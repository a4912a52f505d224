/*
 * `ksc kfuncs`: the kfuncs a kernel or module offers, as C prototypes or as
 * KernelScript `extern` lines to paste into a .ks file.
 */
#include <bpf/btf.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "kfunc_info.h"
#include "util.h"

void help_kfuncs(FILE *out)
{
	fprintf(out,
		"Usage: ksc kfuncs [--btf FILE [--base FILE] | --module NAME] [--kh]\n"
		"\n"
		"Lists the kfuncs of the running kernel (" KFUNC_VMLINUX "), of a loaded\n"
		"module (/sys/kernel/btf/NAME), or of FILE: raw BTF, a vmlinux, or a module\n"
		".ko, whose split BTF is read on its own distilled base (.BTF.base, kbuild of\n"
		"6.12+ with pahole 1.26+) when it has one, else on --base (raw BTF, ELF or\n"
		"vmlinuz; default the running kernel's).  Kfuncs are the FUNCs tagged\n"
		"bpf_kfunc (pahole 1.27+ on Linux 6.3+); for other BTF, the entries of\n"
		"FILE's BTF_SET8s.  One C prototype per line, sorted by name; with --kh,\n"
		"KernelScript lines 'extern name(a: T, ...) -> R' (a comment for kfuncs it\n"
		"cannot spell).\n");
}

struct kfuncs_opts {
	const char *btf, *base, *module;
	bool kh;
};

static int parse_args(int argc, char **argv, struct kfuncs_opts *o)
{
	for (int i = 0; i < argc; i++) {
		const char *opt = argv[i];
		const char **slot = !strcmp(opt, "--btf")    ? &o->btf :
				    !strcmp(opt, "--base")   ? &o->base :
				    !strcmp(opt, "--module") ? &o->module :
							       NULL;

		if (!strcmp(opt, "--kh")) {
			o->kh = true;
		} else if (!slot) {
			p_err("unexpected argument '%s'", opt);
			return -1;
		} else if (++i == argc) {
			p_err("'%s' needs an argument", opt);
			return -1;
		} else {
			*slot = argv[i];
		}
	}
	if (o->btf && o->module) {
		p_err("give --btf FILE or --module NAME, not both");
		return -1;
	}
	if (o->base && !o->btf) {
		p_err("--base is the base of a split BTF: give --btf FILE too");
		return -1;
	}
	return 0;
}

/*
 * A loaded module's BTF in /sys/kernel/btf has no .BTF_ids to fall back on:
 * without tags, every function of the module is listed, with a warning.
 */
static int module_funcs(const struct kfunc_btf *kb, __u32 **ids, size_t *n)
{
	__u32 cnt = btf__type_cnt(kb->btf);

	p_warn("no bpf_kfunc tags in %s (Linux before 6.3, or pahole before 1.27): "
	       "listing every function of the module; '--btf MODULE.ko' reads its kfunc sets",
	       kb->path);
	*ids = NULL;
	*n = 0;
	for (__u32 id = kb->first; id < cnt; id++)
		if (btf_is_func(btf__type_by_id(kb->btf, id))) {
			*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
			(*ids)[(*n)++] = id;
		}
	kfunc_sort_unique(kb->btf, *ids, n);
	return 0;
}

static void print_one(const struct kfunc_btf *kb, __u32 id, bool kh)
{
	const char *name = btf__name_by_offset(kb->btf, btf__type_by_id(kb->btf, id)->name_off);
	char *proto = kfunc_c_proto(kb, id);
	const char *why = NULL;
	char *ext = kh ? kfunc_ks_extern(kb, id, &why) : NULL;

	if (!kh)
		printf("%s\n", proto ? proto : name);
	else if (ext)
		printf("%s\n", ext);
	else
		printf("// %s: %s: %s\n", name, why, proto ? proto : "?");
	free(ext);
	free(proto);
}

static int list(const struct kfuncs_opts *o, const struct kfunc_btf *kb)
{
	__u32 *ids = NULL;
	size_t n = 0;
	bool tagged = false;
	int err;

	if (o->module && !kfunc_btf_has_tags(kb))
		err = module_funcs(kb, &ids, &n);
	else
		err = kfunc_list(kb, o->btf, &ids, &n, &tagged);
	if (err)
		return err;
	p_debug("%zu kfuncs in %s (%s)", n, kb->path, tagged ? "bpf_kfunc tags" : "BTF_SET8s");
	if (o->kh)
		printf("// kfuncs of %s (ksc kfuncs --kh)\n", kb->path);
	for (size_t i = 0; i < n; i++)
		print_one(kb, ids[i], o->kh);
	free(ids);
	return 0;
}

int do_kfuncs(int argc, char **argv)
{
	struct kfuncs_opts o = { 0 };
	struct kfunc_btf kb = { 0 };
	int err;

	if (parse_args(argc, argv, &o))
		return EXIT_USAGE;
	err = o.btf ? kfunc_btf_open_file(&kb, o.btf, o.base) : kfunc_btf_open_module(&kb, o.module);
	if (!err)
		err = list(&o, &kb);
	kfunc_btf_close(&kb);
	return err ? EXIT_USER : EXIT_OK;
}
