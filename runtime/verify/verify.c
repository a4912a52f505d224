/*
 * Loading with the verifier's verdict reported at the .ks line (verify.h),
 * and `ksc verify FILE.ks|DIR`: build (or take a built tree), load every
 * program without attaching, report, close.  Closing the object unloads
 * all of it: nothing stays in the kernel, whatever the verdict.
 */
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <glob.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "diag.h"
#include "verify.h"

#define LOG_SIZE (16u << 20)   /* a rejected path's trace at log level 1 fits */
#define MAX_PROGS 128

void help_verify(FILE *out)
{
	fprintf(out,
		"Usage: ksc verify FILE.ks|DIR... [--kernel SERIES|VMLINUZ [--kdir KDIR]]\n"
		"\n"
		"Loads every eBPF program of each FILE.ks (built first, in a temporary tree)\n"
		"or built output tree DIR into the running kernel without attaching any, and\n"
		"says whether the kernel's verifier accepts them; then unloads them: nothing\n"
		"stays loaded.  A rejection is reported at the .ks line of the instruction the\n"
		"verifier refused, with its reason in words, a note with that instruction and\n"
		"the register state it met, and with -v the verifier's whole log.  A tree with\n"
		"a kernel module needs that module loaded (ksc install loads it).  Needs root.\n"
		"\n"
		"--kernel asks another kernel's verifier, in a VM: SERIES is a series\n"
		"scripts/kernels serves (6.1, 6.12, 6.12-trixie, 7), VMLINUZ a kernel image.\n"
		"Each FILE.ks is built here, its eBPF object against that kernel's BTF and its\n"
		"module, if it has module code, against the kernel's tree (--kdir KDIR; for a\n"
		"SERIES its own by default); a DIR must be built for that kernel.  Then one\n"
		"boot of the kernel (scripts/vmtest, software emulation: some 30 s) inserts\n"
		"each tree's module and verifies it; the report reads as it would here.  The\n"
		"scripts are found in $KSC_SCRIPTS, or in scripts/ beside ksc.\n"
		"Exit status: 0 all accepted, 1 a rejection or build failure, 2 usage error.\n");
}

/* libbpf's messages while loading: kept, and shown only when no report explains the failure. */
static struct strbuf libbpf_lines;

static int keep_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && ksc_verbose < 1)
		return 0;
	sb_vprintf(&libbpf_lines, fmt, ap);
	return 0;
}

/*
 * A line-info path as it names a file here.  clang joins a relative
 * `#line` path to the directory it compiled in, the tree (ksc's Makefile
 * runs there), so "TREE/examples/x.ks" is "examples/x.ks" of the
 * directory ksc compiled from: taken as relative to this one when the
 * joined path does not exist.  Frees path.
 */
static char *here_path(char *path, const char *obj_path)
{
	char *tree = realpath(obj_path, NULL), *slash;
	size_t n;

	if (access(path, F_OK) && tree && (slash = strrchr(tree, '/'))) {
		*slash = '\0';
		n = strlen(tree);
		if (!strncmp(path, tree, n) && path[n] == '/' && !access(path + n + 1, F_OK)) {
			char *rel = xstrdup(path + n + 1);

			free(path);
			path = rel;
		}
	}
	free(tree);
	return path;
}

/* The object's BTF string naming the source file `base` (the log names it without directories). */
static char *source_path(const char *obj_path, const char *base)
{
	struct btf *btf = btf__parse_elf(obj_path, NULL);
	const struct btf_header *h;
	const char *raw, *s, *end;
	char *found = NULL;
	uint32_t size;

	if (!btf)
		return NULL;
	raw = btf__raw_data(btf, &size);
	h = (const struct btf_header *)raw;
	s = raw + h->hdr_len + h->str_off;
	for (end = s + h->str_len; s < end && !found; s += strlen(s) + 1) {
		size_t n = strlen(s), b = strlen(base);

		if (n >= b && !strcmp(s + n - b, base) && (n == b || s[n - b - 1] == '/'))
			found = xstrdup(s);
	}
	btf__free(btf);
	return found ? here_path(found, obj_path) : NULL;
}

/* The path to show: relative to the working directory when under it. */
static char *shown_path(char *path)
{
	char cwd[4096];
	size_t n;

	if (path && getcwd(cwd, sizeof(cwd)) && (n = strlen(cwd)) && !strncmp(path, cwd, n) &&
	    path[n] == '/') {
		char *rel = xstrdup(path + n + 1);

		free(path);
		return rel;
	}
	return path;
}

/* The .ks position for file (as the log names it) and line: the whole line's code underlined. */
static struct ks_loc position(struct diag *d, const char *obj_path, const char *source,
			      const char *file, int line)
{
	struct ks_loc loc = { 0 };
	const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
	const char *sbase = source && strrchr(source, '/') ? strrchr(source, '/') + 1 : source;
	char *path = source && sbase && !strcmp(sbase, base) ? xstrdup(source) :
							      shown_path(source_path(obj_path, base));
	const struct ks_src *src;
	int err;

	if (!path || line <= 0)
		goto out;
	src = diag_load_source(d, path, &err);
	if (!src || line > src->nlines)
		goto out;
	{
		const char *p = src->text + src->line_start[line - 1], *q = p;

		while (*q == ' ' || *q == '\t')
			q++;
		loc = (struct ks_loc){ src, line, (int)(q - p) + 1, 1 };
		while (q[loc.len] && q[loc.len] != '\n')
			loc.len++;
		while (loc.len > 1 && (q[loc.len - 1] == ' ' || q[loc.len - 1] == '{'))
			loc.len--;
	}
out:
	free(path);
	return loc;
}

/* A program's own fn line in source, for a rejection the log ties to no instruction. */
static int fn_line(const char *source, const char *prog)
{
	struct diag d = { 0 };
	const struct ks_src *src;
	char *want = xasprintf("fn %s(", prog);
	int err, line = 0;

	src = source ? diag_load_source(&d, source, &err) : NULL;
	for (int i = 0; src && i < src->nlines && !line; i++) {
		const char *p = src->text + src->line_start[i];
		const char *nl = strchr(p, '\n');
		const char *hit = strstr(p, want);

		if (hit && (!nl || hit < nl))
			line = i + 1;
	}
	diag_free(&d);
	free(want);
	return line;
}

/* The line of source whose code is text (6.1's annotations), the first after line from. */
static int text_line(const char *source, const char *text, int from)
{
	struct diag d = { 0 };
	const struct ks_src *src;
	size_t n = strlen(text);
	int err, line = 0;

	src = source && n ? diag_load_source(&d, source, &err) : NULL;
	for (int i = from > 0 ? from - 1 : 0; src && i < src->nlines && !line; i++) {
		const char *p = src->text + src->line_start[i];

		while (*p == ' ' || *p == '\t')
			p++;
		if (!strncmp(p, text, n) && (p[n] == '\n' || p[n] == 0 || p[n] == ' '))
			line = i + 1;
	}
	diag_free(&d);
	return line;
}

/*
 * The lines the log leaves out taken from the object's line info: 6.1's
 * annotations name none.  KSC_VERIFY_IGNORE_LOG_LINES (for
 * tests/verify/t-verify.sh, not documented for users) drops the log's own,
 * so a host whose kernel names every line still tests this way.
 */
static void object_lines(struct verify_log *l, const char *obj_path, const char *prog)
{
	if (getenv("KSC_VERIFY_IGNORE_LOG_LINES")) {
		l->file[0] = l->src_text[0] = l->ref_file[0] = 0;
		l->line = l->ref_line = 0;
	}
	if (l->line <= 0)
		verify_insn_line(obj_path, prog, l->insn, l->file, sizeof(l->file), &l->line);
	if (l->ref_insn >= 0 && l->ref_line <= 0)
		verify_insn_line(obj_path, prog, l->ref_insn, l->ref_file, sizeof(l->ref_file), &l->ref_line);
}

static void report(const char *obj_path, const char *source, const char *prog, const char *log)
{
	struct verify_log l;
	struct diag d = { 0 };
	struct ks_loc loc, none = { 0 };
	char words[400];

	verify_parse_log(log, &l);
	object_lines(&l, obj_path, prog);
	loc = position(&d, obj_path, source, l.file, l.line);
	if (!loc.src && l.src_text[0])
		loc = position(&d, obj_path, source, source ? source : "",
			       text_line(source, l.src_text, fn_line(source, prog)));
	if (!loc.src)
		loc = position(&d, obj_path, source, source ? source : "", fn_line(source, prog));
	diag_error(&d, loc, "the kernel's verifier rejects this: %s", verify_words(&l, words, sizeof(words)));
	if (l.insn >= 0)
		diag_note(&d, none, "program %s, instruction %s%s%s", prog,
			  l.insn_text[0] ? l.insn_text : xasprintf("%d", l.insn),
			  l.regs[0] ? "; registers: " : "", l.regs);
	else
		diag_note(&d, none, "program %s", prog);
	if (l.ref_insn >= 0 && l.ref_line) {
		struct ks_loc at = position(&d, obj_path, source, l.ref_file, l.ref_line);

		diag_note(&d, at, "the reference is taken here (instruction %d)", l.ref_insn);
	}
	diag_note(&d, none, "the verifier says: %s%s%s", l.reason, l.detail[0] ? "; " : "", l.detail);
	if (l.suggestion[0])
		diag_note(&d, none, "the verifier suggests: %s", l.suggestion);
	diag_flush(&d, stderr);
	diag_free(&d);
	if (ksc_verbose > 0)
		fprintf(stderr, "-- the verifier's log of %s --\n%s-- end of the log --\n", prog, log);
}

/* Whether a program's log ends in a verdict against it (an accepted one's has no message). */
static bool rejected(const char *log)
{
	struct verify_log l;

	verify_parse_log(log, &l);
	return l.reason[0] != 0;
}

/* libbpf's own errors (-4000 and below) have no strerror text. */
static const char *bpf_err(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

int verify_load(struct bpf_object *obj, const char *obj_path, const char *source)
{
	struct bpf_program *prog, *failed = NULL;
	char *logs[MAX_PROGS] = { 0 };
	libbpf_print_fn_t saved;
	int err, n = 0, i = 0;

	bpf_object__for_each_program(prog, obj) {
		if (n == MAX_PROGS)
			break;
		/* Untouched pages cost nothing: only the programs loaded write their log. */
		logs[n] = xcalloc(1, LOG_SIZE);
		bpf_program__set_log_buf(prog, logs[n], LOG_SIZE);
		bpf_program__set_log_level(prog, 1);
		n++;
	}
	sb_init(&libbpf_lines);
	saved = libbpf_set_print(keep_libbpf);
	err = bpf_object__load(obj);
	libbpf_set_print(saved);
	/* Programs load in order and loading stops at a failure: the last with a log failed. */
	n = 0;
	bpf_object__for_each_program(prog, obj) {
		if (n < MAX_PROGS && logs[n][0])
			failed = prog, i = n;
		n++;
	}
	if (err && failed && rejected(logs[i])) {
		if (ksc_verbose > 0 && libbpf_lines.len)
			fputs(libbpf_lines.buf, stderr);
		report(obj_path, source, bpf_program__name(failed), logs[i]);
	} else if (err) {
		/* Not the verifier (a map, a missing kfunc, a refused program type): libbpf knows. */
		if (libbpf_lines.len)
			fputs(libbpf_lines.buf, stderr);
		p_err("cannot load %s: %s (libbpf says why above)", obj_path, bpf_err(err));
	}
	sb_free(&libbpf_lines);
	for (int i = 0; i < MAX_PROGS; i++)
		free(logs[i]);
	return err;
}

/* The built tree's eBPF object: DIR/NAME.ebpf.o, the one there is (malloc'd), or NULL said why. */
static char *tree_object(const char *dir)
{
	char *pat = xasprintf("%s/*.ebpf.o", dir), *obj = NULL;
	glob_t g;

	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1)
		obj = xstrdup(g.gl_pathv[0]);
	else if (g.gl_pathc > 1)
		p_err("'%s' holds more than one eBPF object", dir);
	else
		p_err("'%s' holds no eBPF object (*.ebpf.o): build it first ('ksc build' or make)", dir);
	globfree(&g);
	free(pat);
	return obj;
}

int verify_tree(const char *dir, const char *source)
{
	char *path = tree_object(dir);
	struct bpf_object *obj;
	int err, n = 0;
	struct bpf_program *prog;

	if (!path)
		return EXIT_USER;
	obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		p_err("cannot open %s: %s", path, bpf_err(-errno));
		free(path);
		return EXIT_USER;
	}
	err = verify_load(obj, path, source);
	bpf_object__for_each_program(prog, obj)
		n++;
	/* Closing unloads every program and map the load made. */
	bpf_object__close(obj);
	if (!err)
		p_step("the kernel's verifier accepts %s: %d program%s loaded and unloaded",
		       source ? source : path, n, n == 1 ? "" : "s");
	free(path);
	return err ? EXIT_USER : EXIT_OK;
}

void verify_remove_tmp(const char *dir)
{
	remove_tree(dir);
}

enum { V_KERNEL, V_KDIR, V_SOURCE };

static const struct arg_opt verify_opts[] = {
	[V_KERNEL] = { "kernel", 0, "SERIES|VMLINUZ" },
	[V_KDIR] = { "kdir", 0, "KDIR" },
	/* Not in the help: the guest's ksc of --kernel, told which .ks a DIR came from. */
	[V_SOURCE] = { "source", 0, "FILE.ks" },
	{ 0 },
};

static const struct arg_spec verify_spec = { "verify", help_verify, verify_opts, 1, ARGS_MAX_POS,
					     "FILE.ks|DIR" };

static bool build_log_exists(const char *dir)
{
	char *log = xasprintf("%s/build.log", dir);
	bool yes = access(log, F_OK) == 0;

	free(log);
	return yes;
}

/* FILE.ks built into a temporary tree, quietly unless -v, then verified; the tree removed. */
static int verify_file(const char *file)
{
	char tmp[] = "/tmp/ksc-verify-XXXXXX";
	char *dir;
	int saved = ksc_verbose, status;

	if (!mkdtemp(tmp)) {
		p_err("cannot make a temporary directory: %s", strerror(errno));
		return EXIT_USER;
	}
	dir = xasprintf("%s/tree", tmp);
	if (ksc_verbose < 1)
		ksc_verbose = -1;
	status = compile_and_make(file, dir, NULL);
	ksc_verbose = saved;
	if (!status) {
		status = verify_tree(dir, file);
	} else if (build_log_exists(dir)) {
		/* The message above names the log: the tree stays for the user to read it. */
		p_step("the temporary tree %s is kept; remove it when done", tmp);
		free(dir);
		return status;
	}
	verify_remove_tmp(tmp);
	free(dir);
	return status;
}

/*
 * The .ks file a built tree came from, as its object's line info names it
 * (NAME.ks for NAME.ebpf.o), when that file is here: the guest gets it at
 * the same path, so that its report shows the source line.  NULL if not.
 */
static char *tree_source(const char *dir)
{
	char *pat = xasprintf("%s/*.ebpf.o", dir), *src = NULL;
	glob_t g;

	if (glob(pat, 0, NULL, &g) == 0 && g.gl_pathc == 1) {
		const char *obj = g.gl_pathv[0], *b = strrchr(obj, '/') + 1;
		char *base = xasprintf("%.*s.ks", (int)(strlen(b) - strlen(".ebpf.o")), b);

		src = source_path(obj, base);
		if (src && access(src, R_OK)) {
			free(src);
			src = NULL;
		}
		free(base);
	}
	globfree(&g);
	free(pat);
	return src;
}

/* Every operand built here for the kernel of --kernel, all verified in one boot of it. */
static int verify_in_vm(char **what, int n, const char *kernel, const char *kdir)
{
	struct verify_vm vm;
	struct verify_vm_tree trees[ARGS_MAX_POS];
	char *built[ARGS_MAX_POS] = { 0 }, *sources[ARGS_MAX_POS] = { 0 };
	int status = verify_vm_open(&vm, kernel, kdir), worst = EXIT_OK, m = 0;

	if (status == EXIT_USAGE) {
		verify_vm_close(&vm);
		return args_usage(&verify_spec, "--kernel wants a series (6.1, 6.12, 6.12-trixie, 7) or a vmlinuz file, not '%s'",
				  kernel);
	}
	for (int i = 0; !status && i < n; i++) {
		struct stat st;

		if (stat(what[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			sources[i] = tree_source(what[i]);
			trees[m++] = (struct verify_vm_tree){ .dir = what[i], .source = sources[i] };
			continue;
		}
		built[i] = xasprintf("%s/t%d", vm.tmp, i);
		if (verify_vm_build(&vm, what[i], built[i]))
			worst = EXIT_USER;
		else
			trees[m++] = (struct verify_vm_tree){ .dir = built[i], .source = what[i] };
	}
	if (!status && m)
		status = verify_vm_run(&vm, trees, m);
	verify_vm_close(&vm);
	for (int i = 0; i < n; i++) {
		free(built[i]);
		free(sources[i]);
	}
	return status ? status : worst;
}

/* An operand is a .ks file or a directory: 0, or the usage error's status. */
static int check_operand(const char *what)
{
	struct stat st;

	if (stat(what, &st))
		return args_usage(&verify_spec, "no file or directory '%s'", what);
	if (!S_ISDIR(st.st_mode) && (strlen(what) < 3 || strcmp(what + strlen(what) - 3, ".ks")))
		return args_usage(&verify_spec, "'%s' is neither a .ks file nor a built tree", what);
	return 0;
}

int do_verify(int argc, char **argv)
{
	struct args a;
	struct stat st;
	int status = args_parse(&verify_spec, argc, argv, &a), worst = EXIT_OK;

	if (status)
		return status == ARGS_HELP ? EXIT_OK : status;
	for (int i = 0; i < a.npos; i++)
		if ((status = check_operand(a.pos[i])))
			return status;
	if (a.val[V_KDIR] && !a.val[V_KERNEL])
		return args_usage(&verify_spec, "--kdir is for the module build of --kernel: give --kernel too");
	if (a.val[V_SOURCE] && (a.npos != 1 || stat(a.pos[0], &st) || !S_ISDIR(st.st_mode)))
		return args_usage(&verify_spec, "--source names the .ks file of one DIR");
	if (a.val[V_KERNEL])
		return verify_in_vm(a.pos, a.npos, a.val[V_KERNEL], a.val[V_KDIR]);
	if (geteuid() != 0) {
		p_err("ksc verify loads programs into the kernel: it needs root");
		return EXIT_USER;
	}
	for (int i = 0; i < a.npos; i++) {
		status = stat(a.pos[i], &st) == 0 && S_ISDIR(st.st_mode) ? verify_tree(a.pos[i], a.val[V_SOURCE])
									  : verify_file(a.pos[i]);
		if (status > worst)
			worst = status;
	}
	return worst;
}
