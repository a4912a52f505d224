/*
 * `ksc init TYPE NAME`: a new project NAME/ holding NAME.ks from a template
 * and a README saying how to build it.  Every template passes `ksc check`
 * and `ksc compile` (tests/cli/t-kfuncs.sh proves it), so a project starts
 * from something that builds.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "args.h"
#include "cli.h"
#include "kfunc_info.h"
#include "lexer.h"
#include "tree.h"
#include "util.h"

void help_init(FILE *out)
{
	fprintf(out,
		"Usage: ksc init TYPE NAME\n"
		"\n"
		"Creates the directory NAME with NAME.ks, a small working program of TYPE,\n"
		"and a README on how to build it.  TYPE is one of\n"
		"  xdp  tc/ingress  tc/egress  probe/FN  tracepoint/CAT/EV  perf_event\n"
		"  tcp_congestion_ops  kfunc\n"
		"probe/FN takes FN's parameters from the running kernel's BTF when it has\n"
		"them.  NAME is an identifier (letters, digits, _); NAME must not exist.\n");
}

/*
 * Templates: "@N@" is NAME, "@A@" the argument of the TYPE (probe FN or
 * tracepoint CAT/EV), "@P@" a probe's parameters, "@C@" a tracepoint's
 * context struct, "@S@" NAME cut to the 15 characters of a congestion
 * control's name.
 */
static const char tpl_xdp[] =
	"// @N@: an XDP program that counts the packets of an interface.\n"
	"include \"xdp.kh\"\n"
	"\n"
	"var packets : array<u32, u64>(1)\n"
	"\n"
	"@xdp\n"
	"fn @N@_xdp(ctx: *xdp_md) -> xdp_action {\n"
	"    packets[0] += 1\n"
	"    return XDP_PASS\n"
	"}\n"
	"\n"
	"fn main() -> i32 {\n"
	"    var prog = load(@N@_xdp)\n"
	"    if (attach(prog, \"lo\", 0) != 0) {\n"
	"        print(\"cannot attach to lo\")\n"
	"        return 1\n"
	"    }\n"
	"    var seen = packets[0]\n"
	"    print(\"packets so far: %llu\", seen)\n"
	"    detach(prog)\n"
	"    return 0\n"
	"}\n";

static const char tpl_tc[] =
	"// @N@: a TC @A@ program that counts the packets of an interface.\n"
	"include \"tc.kh\"\n"
	"\n"
	"var packets : array<u32, u64>(1)\n"
	"\n"
	"@tc(\"@A@\")\n"
	"fn @N@_tc(ctx: *__sk_buff) -> i32 {\n"
	"    packets[0] += 1\n"
	"    return TC_ACT_OK\n"
	"}\n"
	"\n"
	"fn main() -> i32 {\n"
	"    var prog = load(@N@_tc)\n"
	"    if (attach(prog, \"lo\", 0) != 0) {\n"
	"        print(\"cannot attach to lo\")\n"
	"        return 1\n"
	"    }\n"
	"    var seen = packets[0]\n"
	"    print(\"packets so far: %llu\", seen)\n"
	"    detach(prog)\n"
	"    return 0\n"
	"}\n";

static const char tpl_probe[] =
	"// @N@: counts the calls of the kernel function @A@.\n"
	"include \"probe.kh\"\n"
	"\n"
	"var calls : array<u32, u64>(1)\n"
	"\n"
	"@probe(\"@A@\")\n"
	"fn @N@_probe(@P@) -> i32 {\n"
	"    calls[0] += 1\n"
	"    return 0\n"
	"}\n"
	"\n"
	"fn main() -> i32 {\n"
	"    var prog = load(@N@_probe)\n"
	"    attach(prog, \"@A@\", 0)\n"
	"    var seen = calls[0]\n"
	"    print(\"@A@ calls so far: %llu\", seen)\n"
	"    detach(prog)\n"
	"    return 0\n"
	"}\n";

static const char tpl_tracepoint[] =
	"// @N@: counts the hits of the tracepoint @A@.\n"
	"include \"tracepoint.kh\"\n"
	"\n"
	"var hits : array<u32, u64>(1)\n"
	"\n"
	"@tracepoint(\"@A@\")\n"
	"fn @N@_tp(ctx: *@C@) -> i32 {\n"
	"    hits[0] += 1\n"
	"    return 0\n"
	"}\n"
	"\n"
	"fn main() -> i32 {\n"
	"    var prog = load(@N@_tp)\n"
	"    attach(prog, \"@A@\", 0)\n"
	"    var seen = hits[0]\n"
	"    print(\"@A@ hits so far: %llu\", seen)\n"
	"    detach(prog)\n"
	"    return 0\n"
	"}\n";

static const char tpl_perf[] =
	"// @N@: samples this process's minor page faults with a perf event.\n"
	"include \"perf_event.kh\"\n"
	"\n"
	"var samples : percpu_array<u32, u64>(1)\n"
	"\n"
	"@perf_event\n"
	"fn @N@_perf(ctx: *bpf_perf_event_data) -> i32 {\n"
	"    samples[0] += 1\n"
	"    return 0\n"
	"}\n"
	"\n"
	"fn main() -> i32 {\n"
	"    var prog = load(@N@_perf)\n"
	"    var faults = attach(prog, perf_options {\n"
	"        perf_type: perf_type_software,\n"
	"        perf_config: page_faults_min,\n"
	"        period: 1,\n"
	"        pid: 0,\n"
	"    }, 0)\n"
	"    var count: i64 = read(faults)\n"
	"    print(\"minor faults: %lld\", count)\n"
	"    detach(faults)\n"
	"    detach(prog)\n"
	"    return 0\n"
	"}\n";

static const char tpl_tcp_cc[] =
	"// @N@: a TCP congestion control with a fixed window, as eBPF struct_ops.\n"
	"include \"tcp_congestion_ops.kh\"\n"
	"\n"
	"@struct_ops(\"tcp_congestion_ops\")\n"
	"impl @N@ {\n"
	"    fn ssthresh(sk: *sock) -> u32 {\n"
	"        return TCP_INIT_CWND * 4\n"
	"    }\n"
	"\n"
	"    fn undo_cwnd(sk: *sock) -> u32 {\n"
	"        return ssthresh(sk)\n"
	"    }\n"
	"\n"
	"    fn cong_avoid(sk: *sock, ack: u32, acked: u32) {\n"
	"    }\n"
	"\n"
	"    name: \"@S@\",\n"
	"    flags: TCP_CONG_NON_RESTRICTED,\n"
	"}\n"
	"\n"
	"fn main() -> i32 {\n"
	"    return register(@N@)\n"
	"}\n";

static const char tpl_kfunc[] =
	"// @N@: a kernel module with a kfunc.  main() calls it from userspace\n"
	"// (through a syscall program), so does 'ksc call @N@_add 5', and so\n"
	"// does the @test, which 'ksc test' runs.\n"
	"@private\n"
	"var total: u64 = 0\n"
	"\n"
	"@kfunc\n"
	"fn @N@_add(n: u64) -> u64 {\n"
	"    total = total + n\n"
	"    return total\n"
	"}\n"
	"\n"
	"@test\n"
	"fn adds_up() -> i32 {\n"
	"    var before = @N@_add(0)\n"
	"    if (@N@_add(5) != before + 5) {\n"
	"        return 1\n"
	"    }\n"
	"    return 0\n"
	"}\n"
	"\n"
	"fn main() -> i32 {\n"
	"    var t = @N@_add(1)\n"
	"    print(\"total: %llu\", t)\n"
	"    return 0\n"
	"}\n";

static const char build_ebpf[] =
	"Build with 'ksc build @N@.ks' (eBPF object and loader in @N@/), then run\n"
	"'sudo @N@/@N@' or install with 'sudo ksc install @N@'.\n";

static const char build_kmod[] =
	"Build with 'ksc build @N@.ks --kdir /lib/modules/$(uname -r)/build' (module,\n"
	"eBPF object and loader in @N@/), install with 'sudo ksc install @N@', then\n"
	"call the kfunc from the shell: 'sudo ksc call @N@_add 5'.\n"
	"Run its @test functions in a VM of Debian's 6.1 (no root; the module is built\n"
	"for that kernel, inserted there, then removed; '--kernel 6.1,7' runs them on\n"
	"each kernel in turn):\n"
	"\n"
	"    ksc test @N@.ks --kernel 6.1\n";

struct project {
	const char *name, *arg;
	char *params, *ctx; /* owned; NULL reads as "" */
	char short_name[16];
};

static char *expand(const char *tpl, const struct project *p)
{
	struct strbuf sb;

	sb_init(&sb);
	for (const char *s = tpl; *s; s++) {
		if (s[0] == '@' && s[1] && s[2] == '@' && strchr("NAPCS", s[1])) {
			const char *v = s[1] == 'N' ? p->name : s[1] == 'A' ? p->arg :
					s[1] == 'P' ? p->params : s[1] == 'C' ? p->ctx :
					p->short_name;

			sb_puts(&sb, v ? v : "");
			s += 2;
		} else {
			sb_putc(&sb, *s);
		}
	}
	return sb_detach(&sb);
}

static bool is_ident(const char *s)
{
	static const char *const kw[] = {
#define X(name, text) text,
		KS_KEYWORDS(X)
#undef X
	};

	if (!*s || (*s >= '0' && *s <= '9') || strlen(s) > 40)
		return false;
	for (const char *c = s; *c; c++)
		if (!(*c == '_' || (*c >= '0' && *c <= '9') || ((*c | 0x20) >= 'a' && (*c | 0x20) <= 'z')))
			return false;
	for (size_t i = 0; i < ARRAY_SIZE(kw); i++)
		if (!strcmp(kw[i], s))
			return false;
	return strcmp(s, "main") != 0;
}

/* A probed function's parameters, from the running kernel's BTF if it has it. */
static char *probe_params(const char *fn)
{
	struct kfunc_btf kb = { 0 };
	const char *why;
	char *params = NULL;
	__u32 id;

	if (kfunc_btf_open_module(&kb, NULL))
		return NULL;
	id = kfunc_find(&kb, fn);
	if (id)
		params = kfunc_ks_params(&kb, id, &why);
	if (!id)
		p_warn("'%s' is not a function of this kernel's BTF: the probe takes no parameters",
		       fn);
	else if (!params)
		p_warn("'%s' has %s: the probe takes no parameters", fn, why);
	kfunc_btf_close(&kb);
	return params;
}

/* "syscalls/sys_enter_X" programs read the generic sys_enter record. */
static char *tracepoint_ctx(const char *arg)
{
	const char *ev = strchr(arg, '/') + 1;

	if (!strncmp(arg, "syscalls/", 9) && !strncmp(ev, "sys_enter_", 10))
		return xstrdup("trace_event_raw_sys_enter");
	if (!strncmp(arg, "syscalls/", 9) && !strncmp(ev, "sys_exit_", 9))
		return xstrdup("trace_event_raw_sys_exit");
	return xasprintf("trace_event_raw_%s", ev);
}

/* The template of TYPE, with p's fields set; NULL after an error. */
static const char *pick(const char *type, struct project *p, const char **how)
{
	const char *slash = strchr(type, '/');

	*how = build_ebpf;
	if (!strcmp(type, "xdp"))
		return tpl_xdp;
	if (!strcmp(type, "tc/ingress") || !strcmp(type, "tc/egress")) {
		p->arg = slash + 1;
		return tpl_tc;
	}
	if (!strncmp(type, "probe/", 6) && type[6]) {
		p->arg = slash + 1;
		p->params = probe_params(p->arg);
		return tpl_probe;
	}
	if (!strncmp(type, "tracepoint/", 11) && strchr(type + 11, '/') &&
	    strchr(type + 11, '/')[1] && strchr(type + 11, '/') > type + 11) {
		p->arg = slash + 1;
		p->ctx = tracepoint_ctx(p->arg);
		return tpl_tracepoint;
	}
	if (!strcmp(type, "perf_event"))
		return tpl_perf;
	if (!strcmp(type, "tcp_congestion_ops"))
		return tpl_tcp_cc;
	if (!strcmp(type, "kfunc")) {
		*how = build_kmod;
		return tpl_kfunc;
	}
	p_err("unknown project type '%s' (see 'ksc init --help')", type);
	return NULL;
}

static int write_in(const char *dir, const char *file, const char *text)
{
	char *path = xasprintf("%s/%s", dir, file);
	int err = write_file_reported(path, text, strlen(text));

	free(path);
	return err;
}

/* The project is written whole into a temporary directory, then moved into place. */
static int create(const char *tpl, const char *how, const struct project *p)
{
	char *ks = expand(tpl, p), *readme = expand(how, p);
	char *file = xasprintf("%s.ks", p->name);
	struct out_tree t;
	int err = tree_begin(&t, p->name, true);

	if (!err) {
		err = write_in(t.tmp, file, ks);
		if (!err)
			err = write_in(t.tmp, "README", readme);
		if (err)
			tree_abort(&t);
		else
			err = tree_commit(&t, NULL);
	}
	if (!err)
		p_step("created %s/%s and %s/README", p->name, file, p->name);
	free(file);
	free(readme);
	free(ks);
	return err;
}

static const struct arg_opt init_opts[] = { { 0 } };
static const struct arg_spec init_spec = { "init", help_init, init_opts, 2, 2, "TYPE and NAME" };

int do_init(int argc, char **argv)
{
	struct project p = { 0 };
	const char *tpl, *how;
	struct args a;
	int err = args_parse(&init_spec, argc, argv, &a);

	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	p.name = a.pos[1];
	snprintf(p.short_name, sizeof(p.short_name), "%s", p.name);
	if (!is_ident(p.name))
		return args_usage(&init_spec, "project name '%s' is not an identifier (letters, "
				  "digits, _; not a keyword)", p.name);
	tpl = pick(a.pos[0], &p, &how);
	err = tpl ? create(tpl, how, &p) : -EINVAL;
	free(p.params);
	free(p.ctx);
	if (!tpl)
		return EXIT_USAGE;
	return err ? EXIT_USER : EXIT_OK;
}
