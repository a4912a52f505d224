/*
 * `ksc kfuncs`: the kfuncs a kernel or module offers, as C prototypes or as
 * KernelScript `extern` lines to paste into a .ks file.
 */
#include <bpf/btf.h>
#include <stdlib.h>
#include <string.h>

#include "args.h"
#include "cli.h"
#include "json.h"
#include "kfunc_info.h"
#include "util.h"

void help_kfuncs(FILE *out)
{
	fprintf(out,
		"Usage: ksc kfuncs [--btf FILE [--base FILE] | --module NAME] [--kh | --json]\n"
		"\n"
		"Lists the kfuncs of the running kernel (" KFUNC_VMLINUX "), of a loaded\n"
		"module (/sys/kernel/btf/NAME), or of FILE: raw BTF, a vmlinux, or a module\n"
		".ko, whose split BTF is read on its own distilled base (.BTF.base, kbuild of\n"
		"6.12+ with pahole 1.26+) when it has one, else on --base (raw BTF, ELF or\n"
		"vmlinuz; default the running kernel's).  Kfuncs are the FUNCs tagged\n"
		"bpf_kfunc (pahole 1.27+ on Linux 6.3+); for other BTF, the entries of\n"
		"FILE's BTF_SET8s.  One C prototype per line, sorted by name; with --kh,\n"
		"KernelScript lines 'extern name(a: T, ...) -> R' (a comment for kfuncs it\n"
		"cannot spell).  --json writes one JSON object: source (the BTF read),\n"
		"from (\"bpf_kfunc tags\", \"BTF_SET8s\" or \"functions\": a module's BTF\n"
		"without tags), and kfuncs, each with name, prototype (C), and extern (the\n"
		"KernelScript line) or null and why.\n");
}

struct kfuncs_opts {
	const char *btf, *base, *module;
	bool kh, json;
};

enum { K_BTF, K_BASE, K_MODULE, K_KH, K_JSON };

static const struct arg_opt kfuncs_opts[] = {
	[K_BTF] = { "btf", 0, "FILE" },
	[K_BASE] = { "base", 0, "FILE" },
	[K_MODULE] = { "module", 0, "NAME" },
	[K_KH] = { "kh", 0, NULL },
	[K_JSON] = { "json", 0, NULL },
	{ 0 },
};

static const struct arg_spec kfuncs_spec = { "kfuncs", help_kfuncs, kfuncs_opts, 0, 0, NULL };

static int parse_args(int argc, char **argv, struct kfuncs_opts *o)
{
	struct args a;
	int status = args_parse(&kfuncs_spec, argc, argv, &a);

	if (status)
		return status;
	o->btf = a.val[K_BTF];
	o->base = a.val[K_BASE];
	o->module = a.val[K_MODULE];
	o->kh = a.val[K_KH];
	o->json = a.val[K_JSON];
	if (o->kh && o->json)
		return args_usage(&kfuncs_spec, "give --kh or --json, not both");
	if (o->btf && o->module)
		return args_usage(&kfuncs_spec, "give --btf FILE or --module NAME, not both");
	if (o->base && !o->btf)
		return args_usage(&kfuncs_spec, "--base is the base of a split BTF: give --btf FILE too");
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

/* One kfunc as a JSON object: name, C prototype, extern line or why not. */
static void json_one(struct json *j, const struct kfunc_btf *kb, __u32 id)
{
	const char *name = btf__name_by_offset(kb->btf, btf__type_by_id(kb->btf, id)->name_off);
	char *proto = kfunc_c_proto(kb, id);
	const char *why = NULL;
	char *ext = kfunc_ks_extern(kb, id, &why);

	json_begin_object(j);
	json_kv_string(j, "name", name);
	json_kv_string(j, "prototype", proto);
	json_kv_string(j, "extern", ext);
	if (!ext)
		json_kv_string(j, "why", why);
	json_end_object(j);
	free(ext);
	free(proto);
}

static void print_json(const struct kfunc_btf *kb, const char *from, const __u32 *ids, size_t n)
{
	struct json j;

	json_init(&j, stdout);
	json_begin_object(&j);
	json_kv_string(&j, "source", kb->path);
	json_kv_string(&j, "from", from);
	json_key(&j, "kfuncs");
	json_begin_array(&j);
	for (size_t i = 0; i < n; i++)
		json_one(&j, kb, ids[i]);
	json_end_array(&j);
	json_end_object(&j);
	json_finish(&j);
}

static int list(const struct kfuncs_opts *o, const struct kfunc_btf *kb)
{
	__u32 *ids = NULL;
	size_t n = 0;
	bool tagged = false, untagged_module = o->module && !kfunc_btf_has_tags(kb);
	const char *from;
	int err;

	if (untagged_module)
		err = module_funcs(kb, &ids, &n);
	else
		err = kfunc_list(kb, o->btf, &ids, &n, &tagged);
	if (err)
		return err;
	from = untagged_module ? "functions" : tagged ? "bpf_kfunc tags" : "BTF_SET8s";
	p_debug("%zu kfuncs in %s (%s)", n, kb->path, from);
	if (o->json)
		print_json(kb, from, ids, n);
	if (o->kh)
		printf("// kfuncs of %s (ksc kfuncs --kh)\n", kb->path);
	for (size_t i = 0; !o->json && i < n; i++)
		print_one(kb, ids[i], o->kh);
	free(ids);
	return 0;
}

int do_kfuncs(int argc, char **argv)
{
	struct kfuncs_opts o = { 0 };
	struct kfunc_btf kb = { 0 };
	int err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	err = o.btf ? kfunc_btf_open_file(&kb, o.btf, o.base) : kfunc_btf_open_module(&kb, o.module);
	if (!err)
		err = list(&o, &kb);
	kfunc_btf_close(&kb);
	return err ? EXIT_USER : EXIT_OK;
}
