/*
 * `ksc test`: builds a file as `ksc build` does, then runs its @test
 * functions through the loader it built (`NAME --test [TEST]`, which runs
 * each on the running kernel through BPF_PROG_TEST_RUN) and reports each
 * one with its .ks line, as a unit-test runner does.  Files with module
 * code need their module loaded first, which this host cannot do: they are
 * refused, saying how to run them in the VM.
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

void help_test(FILE *out)
{
	fprintf(out,
		"Usage: ksc test FILE.ks [-o DIR] [--btf FILE] [--filter TEST]\n"
		"\n"
		"Builds FILE.ks as 'ksc build' does (into DIR, default ./NAME), then runs\n"
		"its @test functions on the running kernel (root: BPF_PROG_TEST_RUN) and\n"
		"prints one line per test: 'ok' or 'FAIL', its name and FILE.ks:LINE, then\n"
		"'N passed, N failed'.  A test passes when it returns 0.  --filter runs only\n"
		"the test of that name.  Exit status 1 when a test fails or nothing ran.\n"
		"A file with module code (@kfunc, @private) needs its module loaded: build\n"
		"it with 'ksc build --kdir' and run it in a VM (scripts/vmtest).\n");
}

enum { T_OUT, T_BTF, T_FILTER };

static const struct arg_opt test_opts[] = {
	[T_OUT] = { "output", 'o', "DIR" },
	[T_BTF] = { "btf", 0, "FILE" },
	[T_FILTER] = { "filter", 0, "TEST" },
	{ 0 },
};

static const struct arg_spec test_spec = { "test", help_test, test_opts, 1, 1, "FILE.ks" };

static struct decl *find_test(struct program *prog, const char *name, size_t len)
{
	for (struct decl *d = prog->decls; d; d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_TEST && strlen(d->name) == len &&
		    !strncmp(d->name, name, len))
			return d;
	return NULL;
}

/* The @test functions of prog that --filter selects; 0 when there are none. */
static int count_tests(struct program *prog, const char *filter)
{
	int n = 0;

	for (struct decl *d = prog->decls; d; d = d->next)
		n += d->kind == D_FUNC && d->role == ROLE_TEST &&
		     (!filter || !strcmp(d->name, filter));
	return n;
}

/* The longest test name, so that the .ks lines line up. */
static int width(struct program *prog)
{
	int w = 0;

	for (struct decl *d = prog->decls; d; d = d->next)
		if (d->kind == D_FUNC && d->role == ROLE_TEST && (int)strlen(d->name) > w)
			w = (int)strlen(d->name);
	return w;
}

/* One report line per "ok NAME" / "not ok NAME" the loader prints; other output passes through. */
static void report(struct program *prog, const char *line, int *passed, int *failed)
{
	bool ok = !strncmp(line, "ok ", 3), bad = !strncmp(line, "not ok ", 7);
	const char *name = ok ? line + 3 : bad ? line + 7 : NULL;
	size_t len = name ? strcspn(name, "\n") : 0;
	struct decl *t = name ? find_test(prog, name, len) : NULL;

	if (!t) {
		fputs(line, stdout);
		return;
	}
	/* The diagnostics' sources are gone with check_file(): the path is the program's. */
	printf("%-4s %-*.*s  %s:%d\n", ok ? "ok" : "FAIL", width(prog), (int)len, name, prog->path,
	       t->name_loc.line);
	*(ok ? passed : failed) += 1;
}

static int run_tests(struct program *prog, const char *dir, const char *filter)
{
	struct strbuf cmd;
	char line[4096];
	int passed = 0, failed = 0, st;
	FILE *p;

	sb_init(&cmd);
	sh_quote(&cmd, dir);
	sb_printf(&cmd, "/%s --test", prog->base);
	if (filter) {
		sb_putc(&cmd, ' ');
		sh_quote(&cmd, filter);
	}
	sb_puts(&cmd, " 2>&1");
	p = popen(cmd.buf, "r");
	sb_free(&cmd);
	if (!p) {
		p_err("cannot run %s/%s: %s", dir, prog->base, strerror(errno));
		return EXIT_USER;
	}
	while (fgets(line, sizeof(line), p))
		report(prog, line, &passed, &failed);
	st = pclose(p);
	printf("%d passed, %d failed\n", passed, failed);
	if (!failed && st)
		p_err("%s/%s --test exited with status %d", dir, prog->base, WEXITSTATUS(st));
	return failed || st || !passed ? EXIT_USER : EXIT_OK;
}

int do_test(int argc, char **argv)
{
	struct arena a = { 0 };
	struct kernel k = { 0 };
	struct program *prog;
	struct args args;
	const char *filter;
	char *dir;
	int status = args_parse(&test_spec, argc, argv, &args);

	if (status)
		return status == ARGS_HELP ? EXIT_OK : status;
	filter = args.val[T_FILTER];
	k.btf_path = args.val[T_BTF];
	status = check_file(args.pos[0], &k, &a, &prog);
	if (!status && prog->has_kmod) {
		p_err("%s has module code: its tests need the module loaded (ksc build --kdir, "
		      "then run them in a VM: scripts/vmtest)", args.pos[0]);
		status = EXIT_USER;
	} else if (!status && !count_tests(prog, filter)) {
		p_err(filter ? "%s has no @test function named '%s'" : "%s has no @test functions",
		      args.pos[0], filter);
		status = EXIT_USER;
	}
	if (!status) {
		dir = xstrdup(args.val[T_OUT] ? args.val[T_OUT] : prog->base);
		status = compile_and_make(args.pos[0], dir, args.val[T_BTF]);
		if (!status)
			status = run_tests(prog, dir, filter);
		free(dir);
	}
	arena_free(&a);
	kernel_free(&k);
	return status;
}
