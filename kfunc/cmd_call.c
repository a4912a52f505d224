/*
 * `ksc call KFUNC [ARG...]`: calls a kfunc from the shell, the replacement
 * for a procfs or debugfs file.  A kfunc registered for
 * BPF_PROG_TYPE_SYSCALL can be called by a syscall program, and
 * BPF_PROG_TEST_RUN runs such a program once in the caller's context.  The
 * program is built here from raw instructions: its context is
 * u64 args[5] then u64 result.
 */
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <linux/filter.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "kfunc_info.h"
#include "util.h"

#define MAX_ARGS 5 /* r1..r5 */
#define RESULT_SLOT MAX_ARGS

void help_call(FILE *out)
{
	fprintf(out,
		"Usage: ksc call KFUNC [ARG...] [--module NAME] [-x]\n"
		"\n"
		"Calls KFUNC once through a BPF_PROG_TYPE_SYSCALL program and prints what it\n"
		"returned, in decimal (signed for a signed return type), or hex with -x.\n"
		"KFUNC is looked up in the running kernel's BTF, then in each loaded module's\n"
		"(or only in module NAME's).  It must be registered for syscall programs:\n"
		"a KernelScript @kfunc is when userspace code calls it, or nothing in eBPF\n"
		"does.  ARGs are integers (decimal, 0x hex, negative for signed types), one\n"
		"per parameter, checked against the parameter's width; pointer parameters\n"
		"cannot be given from the shell.  Needs root (CAP_BPF and CAP_SYS_ADMIN).\n");
}

struct call_opts {
	const char *kfunc, *module;
	const char *args[MAX_ARGS + 1];
	int nargs;
	bool hex;
};

enum { CALL_HEX, CALL_MODULE };

static const struct arg_opt call_opts[] = {
	[CALL_HEX] = { "hex", 'x', NULL },
	[CALL_MODULE] = { "module", 0, "NAME" },
	{ 0 },
};

/* One more operand than a kfunc takes, so that too many is said in the kfunc's terms. */
static const struct arg_spec call_spec = { "call", help_call, call_opts, 1, MAX_ARGS + 2, "KFUNC" };

static int parse_args(int argc, char **argv, struct call_opts *o)
{
	struct args a;
	int status = args_parse(&call_spec, argc, argv, &a);

	if (status)
		return status;
	o->hex = a.val[CALL_HEX];
	o->module = a.val[CALL_MODULE];
	o->kfunc = a.pos[0];
	for (int i = 1; i < a.npos; i++)
		o->args[o->nargs++] = a.pos[i];
	return 0;
}

/* A kfunc found in some BTF: the BTF, the FUNC's id and its module. */
struct target {
	struct kfunc_btf kb;
	__u32 id;
	char *module; /* NULL for vmlinux */
};

static int find_in(struct target *t, const char *module, const char *name)
{
	int err = kfunc_btf_open_module(&t->kb, module);

	if (err)
		return err;
	t->id = kfunc_find(&t->kb, name);
	if (t->id) {
		t->module = module ? xstrdup(module) : NULL;
		return 0;
	}
	kfunc_btf_close(&t->kb);
	return -ESRCH;
}

/* Every loaded module with BTF, in directory order; the first match wins. */
static int find_in_modules(struct target *t, const char *name)
{
	DIR *d = opendir("/sys/kernel/btf");
	struct dirent *e;
	int err = -ESRCH;

	if (!d)
		return -errno;
	while (err && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "vmlinux"))
			err = find_in(t, e->d_name, name);
	closedir(d);
	return err;
}

/* Keeps the closest name of kb's kfuncs in *best (a copy: kb is closed after). */
static void closest_in(struct suggest *s, const struct kfunc_btf *kb, char **best)
{
	bool tags = kfunc_btf_has_tags(kb);
	__u32 cnt = btf__type_cnt(kb->btf);

	for (__u32 id = kb->first; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(kb->btf, id);

		/* With bpf_kfunc tags, the FUNCs they tag; else every FUNC, as ksc kfuncs --module. */
		if (tags && btf_is_decl_tag(t) && btf_decl_tag(t)->component_idx == -1 &&
		    !strcmp(btf__name_by_offset(kb->btf, t->name_off), "bpf_kfunc"))
			t = btf__type_by_id(kb->btf, t->type);
		else if (tags || !btf_is_func(t))
			continue;
		if (suggest_consider(s, btf__name_by_offset(kb->btf, t->name_off))) {
			free(*best);
			*best = xstrdup(s->best);
			s->best = *best;
		}
	}
}

/* "; did you mean 'K'?" for the kfunc of the kernel or module (or of `module`) closest to name, or "". */
static char *did_you_mean(const char *module, const char *name)
{
	struct suggest s;
	struct kfunc_btf kb;
	char *best = NULL, *msg;
	DIR *d = module ? NULL : opendir("/sys/kernel/btf");
	struct dirent *e;

	suggest_init(&s, name);
	if (!kfunc_btf_open_module(&kb, module)) {
		closest_in(&s, &kb, &best);
		kfunc_btf_close(&kb);
	}
	while (d && (e = readdir(d)))
		if (e->d_name[0] != '.' && strcmp(e->d_name, "vmlinux") && !kfunc_btf_open_module(&kb, e->d_name)) {
			closest_in(&s, &kb, &best);
			kfunc_btf_close(&kb);
		}
	if (d)
		closedir(d);
	msg = suggest_best(&s) ? xasprintf("; did you mean '%s'?", suggest_best(&s)) : xstrdup("");
	free(best);
	return msg;
}

static int find_target(struct target *t, const struct call_opts *o)
{
	char *hint;
	int err;

	*t = (struct target){ 0 };
	if (o->module) {
		err = find_in(t, o->module, o->kfunc);
		if (err == -ESRCH) {
			hint = did_you_mean(o->module, o->kfunc);
			p_err("unknown kfunc '%s': no such function in the BTF of module '%s'%s",
			      o->kfunc, o->module, hint);
			free(hint);
		}
		return err;
	}
	err = find_in(t, NULL, o->kfunc);
	if (err == -ESRCH)
		err = find_in_modules(t, o->kfunc);
	if (err == -ESRCH) {
		hint = did_you_mean(NULL, o->kfunc);
		p_err("unknown kfunc '%s': no such function in the BTF of the kernel or any loaded module%s",
		      o->kfunc, hint);
		free(hint);
	}
	return err;
}

static const char *param_name(const struct target *t, int i)
{
	const struct btf_type *f = btf__type_by_id(t->kb.btf, t->id);
	const struct btf_type *fp = btf__type_by_id(t->kb.btf, f->type);

	return btf__name_by_offset(t->kb.btf, btf_params(fp)[i].name_off);
}

/* ARG as the parameter's type: in range, then zero- or sign-extended. */
static int parse_value(const char *s, const struct kfunc_scalar *k, __u64 *out)
{
	unsigned bits = k->is_bool ? 1 : k->size * 8;
	char *end;

	errno = 0;
	if (k->is_signed) {
		long long v = strtoll(s, &end, 0);
		long long lim = bits == 64 ? 0 : 1LL << (bits - 1);

		if (errno || *end || !*s || (bits < 64 && (v < -lim || v >= lim)))
			return -ERANGE;
		*out = (__u64)v;
	} else {
		unsigned long long v = strtoull(s, &end, 0);

		if (errno || *end || !*s || s[0] == '-' || (bits < 64 && v >> bits))
			return -ERANGE;
		*out = v;
	}
	return 0;
}

static int check_args(const struct target *t, const struct call_opts *o, __u64 *ctx)
{
	const struct btf_type *f = btf__type_by_id(t->kb.btf, t->id);
	int n = (int)btf_vlen(btf__type_by_id(t->kb.btf, f->type));
	struct kfunc_scalar k;

	if (n > MAX_ARGS || o->nargs != n) {
		char *proto = kfunc_c_proto(&t->kb, t->id);

		p_err("%s takes %d argument%s, not %d: %s", o->kfunc, n, n == 1 ? "" : "s", o->nargs,
		      proto ? proto : o->kfunc);
		free(proto);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		if (kfunc_scalar_of(&t->kb, t->id, i, &k)) {
			p_err("parameter %d '%s' of %s is not an integer (pointers cannot be passed from the shell)",
			      i + 1, param_name(t, i), o->kfunc);
			return -EINVAL;
		}
		if (parse_value(o->args[i], &k, &ctx[i])) {
			p_err("argument '%s' does not fit parameter '%s' of %s (%s%u)", o->args[i],
			      param_name(t, i), o->kfunc, k.is_bool ? "bool" : k.is_signed ? "i" : "u",
			      k.is_bool ? 0 : k.size * 8);
			return -ERANGE;
		}
	}
	return 0;
}

/* The module's BTF object fd, from the kernel's list of BTF objects. */
static int module_btf_fd(const char *module)
{
	__u32 id = 0;

	while (!bpf_btf_get_next_id(id, &id)) {
		char name[64] = "";
		struct bpf_btf_info info = { .name = (__u64)(unsigned long)name,
					     .name_len = sizeof(name) };
		__u32 len = sizeof(info);
		int fd = bpf_btf_get_fd_by_id(id);

		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) && info.kernel_btf &&
		    !strcmp(name, module))
			return fd;
		close(fd);
	}
	p_err("no kernel BTF object for module '%s' (bpf_btf_get_next_id: %s)", module,
	      strerror(errno));
	return -ENOENT;
}

/*
 * r6 = ctx; r1..rN = args; call kfunc; ctx[RESULT_SLOT] = r0; return 0.
 * off of the call is the fd_array index of the kfunc's module BTF (0 for
 * vmlinux).  After a void kfunc r0 is unreadable, so nothing is stored.
 */
static size_t make_prog(struct bpf_insn *insn, int nargs, __u32 id, __s16 off, bool store)
{
	size_t n = 0;

	insn[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = BPF_REG_6,
				       .src_reg = BPF_REG_1 };
	for (int i = 0; i < nargs; i++)
		insn[n++] = (struct bpf_insn){ .code = BPF_LDX | BPF_MEM | BPF_DW,
					       .dst_reg = (__u8)(BPF_REG_1 + i),
					       .src_reg = BPF_REG_6, .off = (__s16)(8 * i) };
	insn[n++] = (struct bpf_insn){ .code = BPF_JMP | BPF_CALL,
				       .src_reg = BPF_PSEUDO_KFUNC_CALL, .off = off,
				       .imm = (__s32)id };
	if (store)
		insn[n++] = (struct bpf_insn){ .code = BPF_STX | BPF_MEM | BPF_DW,
					       .dst_reg = BPF_REG_6, .src_reg = BPF_REG_0,
					       .off = 8 * RESULT_SLOT };
	insn[n++] = (struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0 };
	insn[n++] = (struct bpf_insn){ .code = BPF_JMP | BPF_EXIT };
	return n;
}

/* The verifier's reason: its last line before the statistics. */
static const char *last_line(char *log)
{
	char *end = log + strlen(log), *start;

	for (;;) {
		while (end > log && (end[-1] == '\n' || end[-1] == ' '))
			*--end = 0;
		start = strrchr(log, '\n');
		start = start ? start + 1 : log;
		if (start == log || (strncmp(start, "processed ", 10) &&
				     strncmp(start, "verification time", 17)))
			return start;
		end = start;
	}
}

static void load_error(const char *kfunc, int err, char *log)
{
	if (strstr(log, "is not allowed"))
		p_err("kfunc '%s' is not registered for syscall programs (BPF_PROG_TYPE_SYSCALL)",
		      kfunc);
	else if (*log)
		p_err("the kernel refused the program calling '%s': %s", kfunc, last_line(log));
	else
		p_err("cannot load the program calling '%s': %s", kfunc, strerror(-err));
}

static bool returns_void(const struct target *t)
{
	struct kfunc_scalar k;

	return !kfunc_scalar_of(&t->kb, t->id, -1, &k) && !k.size;
}

static int load_prog(const struct target *t, int nargs, const char *kfunc)
{
	static char log[16384];
	struct bpf_insn insn[MAX_ARGS + 6];
	int fd_array[2] = { -1, -1 };
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .log_buf = log, .log_size = sizeof(log),
		    .log_level = 1, .prog_flags = BPF_F_SLEEPABLE);
	size_t n;
	int fd;

	/* Index 0 of fd_array stands for vmlinux, so a module's BTF goes at 1. */
	if (t->module) {
		fd_array[1] = module_btf_fd(t->module);
		if (fd_array[1] < 0)
			return fd_array[1];
		opts.fd_array = fd_array;
	}
	n = make_prog(insn, nargs, t->id, t->module ? 1 : 0, !returns_void(t));
	log[0] = 0;
	fd = bpf_prog_load(BPF_PROG_TYPE_SYSCALL, "ksc_call", "GPL", insn, n, &opts);
	if (fd < 0)
		load_error(kfunc, fd, log);
	if (fd_array[1] >= 0)
		close(fd_array[1]);
	return fd;
}

static void print_result(const struct target *t, __u64 v, bool hex)
{
	struct kfunc_scalar k;

	if (kfunc_scalar_of(&t->kb, t->id, -1, &k)) {
		/* A pointer: only its bits mean anything. */
		printf("0x%" PRIx64 "\n", (uint64_t)v);
		return;
	}
	if (!k.size) /* void */
		return;
	if (k.size < 8) { /* r0 holds only size bytes of the value */
		__u64 mask = (1ULL << (8 * k.size)) - 1;

		v &= mask;
		if (k.is_signed && v >> (8 * k.size - 1))
			v |= ~mask;
	}
	if (hex)
		printf("0x%" PRIx64 "\n", (uint64_t)(k.size < 8 ? v & ((1ULL << (8 * k.size)) - 1) : v));
	else if (k.is_signed)
		printf("%" PRId64 "\n", (int64_t)v);
	else
		printf("%" PRIu64 "\n", (uint64_t)v);
}

static int run(const struct target *t, const struct call_opts *o)
{
	__u64 ctx[MAX_ARGS + 1] = { 0 };
	LIBBPF_OPTS(bpf_test_run_opts, topts, .ctx_in = ctx, .ctx_size_in = sizeof(ctx));
	int fd, err = check_args(t, o, ctx);

	if (err)
		return err;
	libbpf_set_print(NULL);
	fd = load_prog(t, o->nargs, o->kfunc);
	if (fd < 0)
		return fd;
	/* Syscall programs write their context back into ctx_in. */
	err = bpf_prog_test_run_opts(fd, &topts);
	close(fd);
	if (err) {
		p_err("running the program calling '%s' failed: %s", o->kfunc, strerror(errno));
		return err;
	}
	print_result(t, ctx[RESULT_SLOT], o->hex);
	return 0;
}

int do_call(int argc, char **argv)
{
	struct call_opts o = { 0 };
	struct target t;
	int err;

	err = parse_args(argc, argv, &o);
	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	err = find_target(&t, &o);
	if (err)
		return EXIT_USER;
	p_debug("%s: BTF id %u in %s", o.kfunc, t.id, t.kb.path);
	err = run(&t, &o);
	kfunc_btf_close(&t.kb);
	free(t.module);
	return err ? EXIT_USER : EXIT_OK;
}
