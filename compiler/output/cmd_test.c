/*
 * `ksc test`: builds a file as `ksc build` does, then runs its @test
 * functions through the loader it built (`NAME --test [TEST]`, which runs
 * each through BPF_PROG_TEST_RUN) and reports each one with its .ks line,
 * as a unit-test runner does.  On the running kernel (--kernel host, the
 * default) a file with module code is refused: this host cannot load its
 * module.  Any other kernel is booted in a VM by verify_vm.c's machinery,
 * the one of `ksc verify --kernel`: the file is built here for that kernel
 * (eBPF against its BTF, the module against its tree), the guest inserts
 * the module, runs the same loader, removes the module; its output comes
 * back here line by line and is reported exactly as a host run's.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "args.h"
#include "arena.h"
#include "btf_types.h"
#include "cli.h"
#include "kbuild_run.h"
#include "program.h"
#include "util.h"
#include "verify.h"

void help_test(FILE *out)
{
	fprintf(out,
		"Usage: ksc test FILE.ks [-o DIR] [--btf FILE] [--filter TEST]\n"
		"       ksc test FILE.ks --kernel KERNEL[,...] [--kdir KDIR] [--filter TEST]\n"
		"\n"
		"Builds FILE.ks as 'ksc build' does, then runs its @test functions and prints\n"
		"one line per test: 'ok' or 'FAIL', its name and FILE.ks:LINE, then\n"
		"'N passed, N failed'.  A test passes when it returns 0.  --filter runs only\n"
		"the test of that name.  Exit status 1 when a test fails or nothing ran.\n"
		"\n"
		"--kernel says which kernel runs them.  'host', the default, is the running\n"
		"one: the build goes into DIR (default ./NAME; --btf FILE as for 'ksc build')\n"
		"and the tests run here (root: BPF_PROG_TEST_RUN).  A file with module code\n"
		"(@kfunc, @private) needs its module loaded, which only a VM run does: a\n"
		"SERIES that scripts/kernels serves (6.1, 6.12, 6.12-trixie, 7) or a VMLINUZ\n"
		"image.  Then FILE.ks is built here in a temporary tree, its eBPF object\n"
		"against that kernel's BTF and its module against the kernel's tree (--kdir\n"
		"KDIR; for a SERIES its own by default), and one boot of the kernel\n"
		"(scripts/vmtest, software emulation: some 30 s) inserts the module, runs the\n"
		"tests, reported as here, and removes the module; nothing stays.  No root\n"
		"needed.  Several kernels, comma-separated, run in turn: each one's lines\n"
		"follow a 'kernel KERNEL:' line and a last line totals them all.  The\n"
		"scripts are found in $KSC_SCRIPTS, or in scripts/ beside ksc.\n"
		"Exit status: 0 all passed, 1 a test failed, nothing ran or a build or boot\n"
		"failed, 2 usage error.\n");
}

enum { T_OUT, T_BTF, T_FILTER, T_KERNEL, T_KDIR };

static const struct arg_opt test_opts[] = {
	[T_OUT] = { "output", 'o', "DIR" },
	[T_BTF] = { "btf", 0, "FILE" },
	[T_FILTER] = { "filter", 0, "TEST" },
	[T_KERNEL] = { "kernel", 0, "KERNEL[,...]" },
	[T_KDIR] = { "kdir", 0, "KDIR" },
	{ 0 },
};

static const struct arg_spec test_spec = { "test", help_test, test_opts, 1, 1, "FILE.ks" };

/* One kernel's run: the program its lines are about, and the count so far. */
struct tally {
	struct program *prog;
	int passed, failed;
	int exit;     /* in a VM, the loader's exit status, -1 until its line came */
};

/*
 * The guest's last line after the loader, with its exit status: without
 * it the tests never ran (no boot, no module), which the VM's run said.
 */
#define EXIT_LINE "ksc-test-exit "

/* One kernel of --kernel: the running one, or one to boot (vm opened). */
struct test_kernel {
	char *name;
	bool host;
	struct verify_vm vm;
};

static struct decl *find_test(struct program *prog, const char *name, size_t len)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_TEST && strlen(d->name) == len &&
		    !strncmp(d->name, name, len))
			return d;
	return NULL;
}

/* The @test functions of prog that --filter selects; 0 when there are none. */
static int count_tests(struct program *prog, const char *filter)
{
	int n = 0;

	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		n += d->kind == D_FUNC && d->role == ROLE_TEST &&
		     (!filter || !strcmp(d->name, filter));
	return n;
}

/* The longest test name, so that the .ks lines line up. */
static int width(struct program *prog)
{
	int w = 0;

	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_TEST && (int)strlen(d->name) > w)
			w = (int)strlen(d->name);
	return w;
}

/*
 * One line of the loader's output (no newline): a report line per
 * "ok NAME" / "not ok NAME"; other output (a test's print()) passes
 * through.  The VM's relay calls it too.
 */
static void report(void *ctx, const char *line)
{
	struct tally *t = ctx;
	bool ok = !strncmp(line, "ok ", 3), bad = !strncmp(line, "not ok ", 7);
	const char *name = ok ? line + 3 : bad ? line + 7 : NULL;
	struct decl *d = name ? find_test(t->prog, name, strlen(name)) : NULL;

	if (!strncmp(line, EXIT_LINE, strlen(EXIT_LINE))) {
		t->exit = atoi(line + strlen(EXIT_LINE));
		return;
	}
	if (!d) {
		printf("%s\n", line);
		return;
	}
	/* The diagnostics' sources are gone with check_file(): the path is the program's. */
	printf("%-4s %-*s  %s:%d\n", ok ? "ok" : "FAIL", width(t->prog), name, t->prog->path,
	       d->name_loc.line);
	*(ok ? &t->passed : &t->failed) += 1;
	fflush(stdout);
}

/* The loader's test run as a sh command: DIR (already quoted) /NAME --test [TEST] 2>&1 (malloc'd). */
static char *loader_command(const char *dir, const struct program *prog, const char *filter)
{
	struct strbuf cmd;

	sb_init(&cmd);
	sb_printf(&cmd, "%s/", dir);
	sh_quote(&cmd, prog->base);
	sb_puts(&cmd, " --test");
	if (filter) {
		sb_putc(&cmd, ' ');
		sh_quote(&cmd, filter);
	}
	sb_puts(&cmd, " 2>&1");
	return sb_detach(&cmd);
}

/* The run's last line, and its verdict: 1 when a test failed, none ran or the loader failed. */
static int summary(const struct tally *t, int st, const char *where)
{
	printf("%d passed, %d failed\n", t->passed, t->failed);
	fflush(stdout);
	if (!t->failed && st)
		p_err("the tests of %s did not run to their end %s", t->prog->path, where);
	else if (!t->passed && !t->failed)
		p_err("the tests of %s printed no result %s", t->prog->path, where);
	return t->failed || st || !t->passed ? EXIT_USER : EXIT_OK;
}

/* The built loader run here, each output line reported. */
static int run_here(struct tally *t, const char *dir, const char *filter)
{
	struct strbuf q;
	char *cmd, *line = NULL, *where;
	size_t cap = 0;
	ssize_t n;
	int st;
	FILE *p;

	sb_init(&q);
	sh_quote(&q, dir);
	cmd = loader_command(q.buf, t->prog, filter);
	sb_free(&q);
	p = popen(cmd, "r");
	free(cmd);
	if (!p) {
		p_err("cannot run %s/%s: %s", dir, t->prog->base, strerror(errno));
		return EXIT_USER;
	}
	while ((n = getline(&line, &cap, p)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = 0;
		report(t, line);
	}
	free(line);
	st = pclose(p);
	where = xasprintf("(%s/%s --test exited with status %d)", dir, t->prog->base,
			  WIFEXITED(st) ? WEXITSTATUS(st) : st);
	st = summary(t, st, where);
	free(where);
	return st;
}

/*
 * check_file() against k, and the tests --filter selects there: 0, or 1
 * said why.  Module code is refused on the running kernel (host).
 */
static int check_tests(const char *file, struct kernel *k, struct arena *a, const char *filter,
		       bool host, struct program **prog)
{
	int status = check_file(file, k, a, prog);

	if (!status && host && (*prog)->has_kmod) {
		p_err("%s has module code: its tests need the module loaded, which this host "
		      "does not do: run them in a VM, --kernel SERIES (6.1, 7...)", file);
		status = EXIT_USER;
	} else if (!status && !count_tests(*prog, filter)) {
		p_err(filter ? "%s has no @test function named '%s'" : "%s has no @test functions",
		      file, filter);
		status = EXIT_USER;
	}
	return status;
}

/* The tests on the running kernel: built into DIR (default ./NAME), run here. */
static int test_host(const char *file, const struct args *args, struct tally *t)
{
	struct arena a = { 0 };
	struct kernel k = { .btf_path = args->val[T_BTF] };
	const char *filter = args->val[T_FILTER];
	int status = check_tests(file, &k, &a, filter, true, &t->prog);
	char *dir;

	if (!status) {
		dir = xstrdup(args->val[T_OUT] ? args->val[T_OUT] : t->prog->base);
		status = compile_and_make(file, dir, args->val[T_BTF]);
		if (!status)
			status = run_here(t, dir, filter);
		free(dir);
	}
	arena_free(&a);
	kernel_free(&k);
	return status;
}

/* The built tree TREE's tests in one boot of vm's kernel, module inserted first. */
static int run_in_vm(struct verify_vm *vm, const char *tree, struct tally *t, const char *filter)
{
	char *loader = loader_command("\"$TREE\"", t->prog, filter), *where;
	char *run = xasprintf("%s; echo \"" EXIT_LINE "$?\"", loader);
	struct verify_vm_tree vt = { .dir = tree, .run = run };
	int st;

	t->exit = -1;
	vm->out = report;
	vm->out_ctx = t;
	st = verify_vm_run(vm, &vt, 1);
	vm->out = NULL;
	free(run);
	free(loader);
	if (t->exit < 0) {
		if (!st)
			p_err("the VM of %s ran no tests", vm->vmlinuz);
		return EXIT_USER;
	}
	where = xasprintf("in the VM of %s (%s --test exited with status %d)", vm->vmlinuz,
			  t->prog->base, t->exit);
	st = summary(t, t->exit, where);
	free(where);
	return st;
}

/* The tests on a booted kernel: checked against its BTF, built for it, run in its VM. */
static int test_vm(struct verify_vm *vm, const char *file, const char *filter, struct tally *t)
{
	struct arena a = { 0 };
	struct kernel k = { .btf_path = verify_vm_btf(vm) };
	char *tree = xasprintf("%s/tree", vm->tmp);
	int status = k.btf_path ? check_tests(file, &k, &a, filter, false, &t->prog) : EXIT_USER;

	if (!status)
		status = verify_vm_build(vm, file, tree);
	if (!status)
		status = run_in_vm(vm, tree, t, filter);
	arena_free(&a);
	kernel_free(&k);
	free(tree);
	return status;
}

/* --kernel's list split at its commas into n targets (malloc'd); NULL after a usage error. */
static struct test_kernel *parse_kernels(const char *list, int *n, int *status)
{
	char *copy = xstrdup(list), *save = NULL;
	struct test_kernel *ts = xcalloc(strlen(list) / 2 + 1, sizeof(*ts));
	bool empty = !*list || *list == ',' || list[strlen(list) - 1] == ',' || strstr(list, ",,");

	*n = 0;
	for (char *k = strtok_r(copy, ",", &save); k && !empty; k = strtok_r(NULL, ",", &save)) {
		ts[*n].name = xstrdup(k);
		ts[(*n)++].host = !strcmp(k, "host");
	}
	free(copy);
	if (!empty)
		return ts;
	*status = args_usage(&test_spec, "--kernel wants a comma-separated list of kernels, not '%s'", list);
	free(ts);
	return NULL;
}

/* Opens every kernel to boot, so that a wrong one is said before any runs: 0 or the status. */
static int open_kernels(struct test_kernel *ts, int n, const char *kdir)
{
	for (int i = 0; i < n; i++) {
		int status = ts[i].host ? EXIT_OK : verify_vm_open(&ts[i].vm, ts[i].name, kdir);

		if (status == EXIT_USAGE)
			return args_usage(&test_spec, "--kernel wants host, a series (6.1, 6.12, 6.12-trixie, 7) "
					  "or a vmlinuz file, not '%s'", ts[i].name);
		if (status)
			return status;
	}
	return EXIT_OK;
}

static void close_kernels(struct test_kernel *ts, int n)
{
	for (int i = 0; i < n; i++) {
		if (!ts[i].host)
			verify_vm_close(&ts[i].vm);
		free(ts[i].name);
	}
	free(ts);
}

/* The options that only some kernels take, against the list: 0 or the usage error's status. */
static int check_options(const struct args *args, const struct test_kernel *ts, int n)
{
	bool host = false, vm = false;

	for (int i = 0; i < n; i++)
		*(ts[i].host ? &host : &vm) = true;
	if (!host && (args->val[T_OUT] || args->val[T_BTF]))
		return args_usage(&test_spec, "%s is for the running kernel's build: --kernel %s has no 'host'",
				  args->val[T_OUT] ? "-o" : "--btf", args->val[T_KERNEL]);
	if (!vm && args->val[T_KDIR])
		return args_usage(&test_spec, "--kdir is for the module build of a VM's kernel: give --kernel SERIES|VMLINUZ");
	return EXIT_OK;
}

/* Each kernel in turn, its block labelled when there are several, then the totals. */
static int test_all(const char *file, const struct args *args, struct test_kernel *ts, int n)
{
	int worst = EXIT_OK, passed = 0, failed = 0;

	for (int i = 0; i < n; i++) {
		struct tally t = { 0 };
		int status;

		if (n > 1)
			printf("kernel %s:\n", ts[i].name);
		fflush(stdout);
		status = ts[i].host ? test_host(file, args, &t)
				    : test_vm(&ts[i].vm, file, args->val[T_FILTER], &t);
		passed += t.passed;
		failed += t.failed;
		if (status > worst)
			worst = status;
	}
	if (n > 1)
		printf("%d passed, %d failed on %d kernels\n", passed, failed, n);
	return worst;
}

int do_test(int argc, char **argv)
{
	struct test_kernel *ts;
	struct args args;
	int n, status = args_parse(&test_spec, argc, argv, &args);

	if (status)
		return status == ARGS_HELP ? EXIT_OK : status;
	ts = parse_kernels(args.val[T_KERNEL] ? args.val[T_KERNEL] : "host", &n, &status);
	if (!ts)
		return status;
	status = check_options(&args, ts, n);
	if (!status)
		status = open_kernels(ts, n, args.val[T_KDIR]);
	if (!status)
		status = test_all(args.pos[0], &args, ts, n);
	close_kernels(ts, n);
	return status;
}
