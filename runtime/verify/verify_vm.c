/*
 * `ksc verify --kernel SERIES|VMLINUZ`: the verifier of another kernel,
 * in a VM.  The host builds (the eBPF object against that kernel's BTF,
 * the module against its tree), scripts/vmtest boots the kernel with this
 * very ksc and the trees in the initramfs, and the guest inserts each
 * tree's module and runs `ksc verify DIR` on it, from the host's working
 * directory and with the source at its host path, so that its report
 * reads exactly as a host run's would.  The guest tags every line it
 * prints, so the kernel's own console messages never mix in; the host
 * relays the tagged lines to its stdout and stderr.  The guest is thrown
 * away after the run: nothing stays loaded anywhere.
 *
 * Kept apart from verify.c so that other commands (ksc test --kernel) can
 * boot a kernel the same way.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "kbuild_run.h"
#include "kfunc_btf.h"
#include "verify.h"

/* The host-side tags of the guest's lines: "TAG o LINE", "TAG e LINE", "TAG rc N". */
#define TAG_LEN 24

static bool executable(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	bool yes = access(p, X_OK) == 0;

	free(p);
	return yes;
}

static bool has_scripts(const char *dir)
{
	return executable(dir, "vmtest") && executable(dir, "kernels");
}

/* This executable (ksc, or ksc-asan: a ksc too), malloc'd, or NULL. */
static char *self_exe(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = 0;
	return xstrdup(self);
}

/* This executable's directory (malloc'd), or NULL. */
static char *self_dir(void)
{
	char *self = self_exe(), *slash = self ? strrchr(self, '/') : NULL;

	if (slash)
		*slash = 0;
	return self;
}

/*
 * The directory of scripts/vmtest and scripts/kernels: $KSC_SCRIPTS, else
 * scripts/ beside this executable (a source tree's ./ksc), else
 * ../share/ksc/scripts (an installed ksc); NULL said why.
 */
static char *find_scripts(void)
{
	const char *env = getenv("KSC_SCRIPTS");
	char *dir = self_dir(), *found = NULL;
	const char *tails[] = { "scripts", "../share/ksc/scripts" };

	if (env && *env) {
		if (has_scripts(env)) {
			free(dir);
			return xstrdup(env);
		}
		p_err("KSC_SCRIPTS=%s holds no executable vmtest and kernels (ksc's scripts/ directory)", env);
		free(dir);
		return NULL;
	}
	for (size_t i = 0; dir && !found && i < sizeof(tails) / sizeof(tails[0]); i++) {
		char *p = xasprintf("%s/%s", dir, tails[i]);

		if (has_scripts(p))
			found = p;
		else
			free(p);
	}
	if (!found)
		p_err("--kernel boots the kernel with scripts/vmtest and scripts/kernels of ksc's sources: none in %s/scripts; set KSC_SCRIPTS to that directory",
		      dir ? dir : "ksc's directory");
	free(dir);
	return found;
}

/* A command line of argv, each word quoted for sh (malloc'd). */
static char *shell_line(const char *const *argv)
{
	struct strbuf sb;

	sb_init(&sb);
	for (int i = 0; argv[i]; i++) {
		if (i)
			sb_putc(&sb, ' ');
		sh_quote(&sb, argv[i]);
	}
	return sb_detach(&sb);
}

/* The last non-empty line of a file (malloc'd; "" when none): a script's one-line error. */
static char *last_line(const char *path)
{
	char *text, *end, *start;
	size_t len;

	if (read_file(path, &text, &len))
		return xstrdup("");
	end = text + len;
	while (end > text && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	*end = 0;
	start = strrchr(text, '\n');
	start = xstrdup(start ? start + 1 : text);
	free(text);
	return start;
}

/* Runs one of the scripts (argv), its stdout's first line into out (malloc'd); stderr kept in the tmp dir. */
static int script_answer(struct verify_vm *vm, const char *const *argv, char **out)
{
	char *err = xasprintf("%s/script.err", vm->tmp), *cmd = shell_line(argv), *full;
	char line[4096] = "";
	FILE *p;
	int status;

	full = xasprintf("%s 2>'%s'", cmd, err);
	p_debug("+ %s", cmd);
	p = popen(full, "r");
	if (p && !fgets(line, sizeof(line), p))
		line[0] = 0;
	status = p ? pclose(p) : -1;
	line[strcspn(line, "\n")] = 0;
	*out = NULL;
	if (status == 0 && line[0])
		*out = xstrdup(line);
	else
		vm->why = last_line(err);
	free(full);
	free(cmd);
	free(err);
	return *out ? 0 : -1;
}

/* `scripts/kernels WHAT SERIES`: its answer, or NULL with p_err. */
static char *kernels(struct verify_vm *vm, const char *what)
{
	char *tool = xasprintf("%s/kernels", vm->scripts), *out;
	const char *argv[] = { tool, what, vm->series, NULL };

	if (script_answer(vm, argv, &out)) {
		p_err("--kernel %s: no %s for that series: %s", vm->series, what,
		      vm->why && *vm->why ? vm->why : "scripts/kernels failed");
		free(vm->why);
		vm->why = NULL;
	}
	free(tool);
	return out;
}

/* Whether s names a series the way scripts/vmtest takes one: 6.1, 7, 6.12-trixie. */
static bool series_name(const char *s)
{
	regex_t re;
	bool yes;

	if (regcomp(&re, "^[0-9]+(\\.[0-9]+)?(-[a-z]+)?$", REG_EXTENDED | REG_NOSUB))
		return false;
	yes = regexec(&re, s, 0, NULL, 0) == 0;
	regfree(&re);
	return yes;
}

int verify_vm_open(struct verify_vm *vm, const char *kernel, const char *kdir)
{
	char tmp[] = "/tmp/ksc-verify-vm-XXXXXX";
	struct stat st;

	memset(vm, 0, sizeof(*vm));
	vm->kdir = kdir ? xstrdup(kdir) : NULL;
	if (stat(kernel, &st) == 0 && S_ISREG(st.st_mode))
		vm->vmlinuz = xstrdup(kernel);
	else if (series_name(kernel))
		vm->series = xstrdup(kernel);
	else
		return EXIT_USAGE;
	if (!mkdtemp(tmp)) {
		p_err("cannot make a temporary directory: %s", strerror(errno));
		return EXIT_USER;
	}
	vm->tmp = xstrdup(tmp);
	vm->scripts = find_scripts();
	if (!vm->scripts)
		return EXIT_USER;
	if (vm->series) {
		vm->vmlinuz = kernels(vm, "vmlinuz");
		vm->suite = vm->vmlinuz ? kernels(vm, "suite") : NULL;
		if (!vm->suite)
			return EXIT_USER;
	}
	return EXIT_OK;
}

/* The kernel's BTF for compiling eBPF, extracted from the image once. */
const char *verify_vm_btf(struct verify_vm *vm)
{
	char *path;

	if (vm->btf)
		return vm->btf;
	path = xasprintf("%s/vmlinux.btf", vm->tmp);
	p_step("btf: the BTF of %s", vm->vmlinuz);
	if (kfunc_base_btf_write(vm->vmlinuz, path)) {
		free(path);
		return NULL;
	}
	vm->btf = path;
	return path;
}

/* The tree to build modules against: --kdir, else the series' (scripts/kernels kdir); NULL said why. */
static const char *vm_kdir(struct verify_vm *vm, const char *file)
{
	if (!vm->kdir && vm->series)
		vm->kdir = kernels(vm, "kdir");
	else if (!vm->kdir)
		p_err("%s has module code: give --kdir with the tree of the kernel %s", file, vm->vmlinuz);
	return vm->kdir;
}

/*
 * `ksc kmod build TREE --kdir KDIR` with the image as base BTF where the
 * tree has no vmlinux; for a Debian 13 series inside scripts/debroot's
 * trixie root (its kbuild programs need trixie's glibc), by this same
 * binary, which runs there with the root's libraries.
 */
static int build_module(struct verify_vm *vm, const char *tree, const char *kdir)
{
	char *vmlinux = xasprintf("%s/vmlinux", kdir), *self = self_exe(), *dir = self_dir();
	char *debroot = xasprintf("%s/debroot", vm->scripts), *cmd;
	bool base = access(vmlinux, R_OK) != 0;
	int status;

	free(vmlinux);
	if (!vm->suite || !strcmp(vm->suite, "bookworm")) {
		const char *argv[] = { "build", "--kdir", kdir, "--btf-base", vm->vmlinuz, "--", tree, NULL };

		free(debroot);
		free(dir);
		free(self);
		if (!base) {
			argv[3] = "--";
			argv[4] = tree;
			argv[5] = NULL;
		}
		return do_kmod(base ? 7 : 5, (char **)argv);
	}
	{
		const char *argv[] = { debroot, "run", vm->suite, "--bind", dir, "--bind", vm->tmp, "--",
				       self, ksc_verbose > 0 ? "-v" : "-q", "kmod", "build", "--kdir", kdir,
				       base ? "--btf-base" : "--", base ? vm->vmlinuz : tree,
				       base ? "--" : NULL, tree, NULL };

		cmd = shell_line(argv);
	}
	p_step("kmod: building %s/kmod in the %s root (scripts/debroot)", tree, vm->suite);
	p_debug("+ %s", cmd);
	status = system(cmd);
	free(cmd);
	free(self);
	free(debroot);
	free(dir);
	return status == 0 ? EXIT_OK : EXIT_USER;
}

int verify_vm_build(struct verify_vm *vm, const char *file, const char *tree)
{
	const char *btf = verify_vm_btf(vm), *kdir;
	char *kmod = xasprintf("%s/kmod", tree);
	int saved = ksc_verbose, status;

	if (!btf) {
		free(kmod);
		return EXIT_USER;
	}
	/* As on the host: the build is quiet unless -v; its errors still show. */
	if (ksc_verbose < 1)
		ksc_verbose = -1;
	status = compile_and_make(file, tree, btf);
	if (!status && access(kmod, F_OK) == 0)
		status = (kdir = vm_kdir(vm, file)) ? build_module(vm, tree, kdir) : EXIT_USER;
	ksc_verbose = saved;
	free(kmod);
	return status;
}

/* A source path as the guest must find it: absolute, at the host's spelling (not resolved). */
static char *absolute(const char *path, const char *cwd)
{
	return path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", cwd, path);
}

/* The modules of a built tree: the basenames of TREE/kmod/ *.ko, space-separated (malloc'd). */
static char *tree_modules(const char *tree)
{
	char *pat = xasprintf("%s/kmod/*.ko", tree);
	struct strbuf sb;
	glob_t g;

	sb_init(&sb);
	if (glob(pat, 0, NULL, &g) == 0)
		for (size_t i = 0; i < g.gl_pathc; i++)
			sb_printf(&sb, "%s%s", sb.len ? " " : "", strrchr(g.gl_pathv[i], '/') + 1);
	globfree(&g);
	free(pat);
	return sb_detach(&sb);
}

/* The guest's part for tree i: insert its modules, verify it (or run t->run), print everything tagged. */
static void guest_tree(struct strbuf *sb, const struct verify_vm_tree *t, int i)
{
	char *mods = tree_modules(t->dir);

	sb_printf(sb, "rc=0\n: >/tmp/o; : >/tmp/e\n");
	sb_printf(sb, "for m in %s; do\n"
		      "\tinsmod /ksc/t%d/kmod/$m 2>>/tmp/e ||\n"
		      "\t\t{ echo \"ksc: error: cannot insert $m into kernel $(uname -r)\" >>/tmp/e; rc=1; }\n"
		      "done\n", mods, i);
	sb_printf(sb, "TREE=/ksc/t%d\n", i);
	if (t->run) {
		/* A group of its own: a list in run is redirected whole. */
		sb_printf(sb, "[ $rc = 0 ] && { { %s\n} >>/tmp/o 2>>/tmp/e; rc=$?; }\n", t->run);
	} else {
		sb_printf(sb, "[ $rc = 0 ] && { /ksc/ksc %s %s verify ",
			  ksc_color(stderr) ? "--color=always" : "--color=never",
			  ksc_verbose > 0 ? "-v" : ksc_verbose < 0 ? "-q" : "");
		if (t->source) {
			sb_puts(sb, "--source ");
			sh_quote(sb, t->source);
		}
		sb_puts(sb, " \"$TREE\" >>/tmp/o 2>>/tmp/e; rc=$?; }\n");
	}
	sb_puts(sb, "sed \"s/^/$T o /\" /tmp/o; sed \"s/^/$T e /\" /tmp/e; echo \"$T rc $rc\"\n");
	/* Each tree meets the kernel as it was: the next one may hold a module of the same name. */
	sb_printf(sb, "for m in %s; do rmmod ${m%%.ko} 2>/dev/null; done\n", mods);
	free(mods);
}

/* The guest script: quiet console, the host's working directory, each tree in turn. */
static char *guest_script(const char *tag, const char *cwd, const struct verify_vm_tree *trees, int n)
{
	struct strbuf sb;

	sb_init(&sb);
	/* Kernel messages (a module's taint line) would land between the tagged lines. */
	sb_puts(&sb, "echo 1 >/proc/sys/kernel/printk\n");
	sb_printf(&sb, "T=%s\nmkdir -p ", tag);
	sh_quote(&sb, cwd);
	sb_puts(&sb, "\ncd ");
	sh_quote(&sb, cwd);
	sb_puts(&sb, "\n");
	for (int i = 0; i < n; i++)
		guest_tree(&sb, &trees[i], i);
	return sb_detach(&sb);
}

/* A fresh tag, so that nothing the guest's kernel prints passes for ksc's output. */
static void make_tag(char tag[TAG_LEN])
{
	snprintf(tag, TAG_LEN, "ksc%08lx%05d", (unsigned long)time(NULL) ^ (unsigned long)clock(),
		 (int)getpid() % 100000);
}

/* One console line: a tagged line goes to where the guest's ksc wrote it; the rest only with -v. */
static void relay(struct verify_vm *vm, const char *line, const char *tag, int *status)
{
	size_t n = strlen(tag);

	if (strncmp(line, tag, n) || line[n] != ' ') {
		if (ksc_verbose > 0)
			fprintf(stderr, "vm: %s\n", line);
		return;
	}
	line += n + 1;
	if (!strncmp(line, "o ", 2) && vm->out)
		vm->out(vm->out_ctx, line + 2);
	else if (!strncmp(line, "o ", 2))
		printf("%s\n", line + 2);
	else if (!strncmp(line, "e ", 2))
		fprintf(stderr, "%s\n", line + 2);
	else if (!strncmp(line, "rc ", 3) && atoi(line + 3) > *status)
		*status = atoi(line + 3);
	fflush(stdout);
}

/* scripts/vmtest's arguments: the kernel, this ksc, every tree and source (malloc'd command line). */
static char *vmtest_command(struct verify_vm *vm, const char *script, const char *cwd,
			    const struct verify_vm_tree *trees, int n)
{
	char *tool = xasprintf("%s/vmtest", vm->scripts), *self = self_exe();
	char *timeout = xasprintf("%d", 120 + 30 * n), *bin = xasprintf("%s:/ksc/ksc", self ? self : "ksc");
	char *cmd;
	const char **argv = xcalloc((size_t)(10 + 2 * 2 * n), sizeof(*argv));
	char **owned = xcalloc((size_t)(2 * n + 1), sizeof(*owned));
	int a = 0, o = 0;

	argv[a++] = tool, argv[a++] = "--kernel", argv[a++] = vm->vmlinuz;
	argv[a++] = "--timeout", argv[a++] = timeout, argv[a++] = "--bin", argv[a++] = bin;
	for (int i = 0; i < n; i++) {
		argv[a++] = "--add";
		argv[a++] = owned[o++] = xasprintf("%s:/ksc/t%d", trees[i].dir, i);
		if (trees[i].source) {
			char *abs = absolute(trees[i].source, cwd);

			argv[a++] = "--add";
			argv[a++] = owned[o++] = xasprintf("%s:%s", trees[i].source, abs);
			free(abs);
		}
	}
	argv[a++] = script;
	argv[a] = NULL;
	cmd = shell_line(argv);
	for (int i = 0; i < o; i++)
		free(owned[i]);
	free(owned);
	free(argv);
	free(bin);
	free(timeout);
	free(self);
	free(tool);
	return cmd;
}

/* Boots, relays the console; the guest's worst status, or -1 when the VM did not run to its end. */
static int boot(struct verify_vm *vm, const char *cmd, const char *err, const char *tag)
{
	char *full = xasprintf("%s 2>'%s'", cmd, err), line[16384];
	int status = 0, rc;
	FILE *p;

	p_debug("+ %s", cmd);
	p = popen(full, "r");
	free(full);
	if (!p)
		return -1;
	while (fgets(line, sizeof(line), p)) {
		line[strcspn(line, "\r\n")] = 0;
		relay(vm, line, tag, &status);
	}
	rc = pclose(p);
	return rc == 0 ? status : -1;
}

int verify_vm_run(struct verify_vm *vm, const struct verify_vm_tree *trees, int n)
{
	char cwd[PATH_MAX], tag[TAG_LEN], *script, *text, *cmd, *err;
	int status;

	if (!getcwd(cwd, sizeof(cwd))) {
		p_err("cannot read the working directory: %s", strerror(errno));
		return EXIT_USER;
	}
	make_tag(tag);
	script = xasprintf("%s/guest.sh", vm->tmp);
	err = xasprintf("%s/vmtest.err", vm->tmp);
	text = guest_script(tag, cwd, trees, n);
	if (write_file(script, text, strlen(text))) {
		free(text);
		free(script);
		free(err);
		return EXIT_USER;
	}
	cmd = vmtest_command(vm, script, cwd, trees, n);
	p_step("vm: booting %s (scripts/vmtest, software emulation: about half a minute)", vm->vmlinuz);
	status = boot(vm, cmd, err, tag);
	if (status < 0) {
		char *why = last_line(err);

		p_err("the VM with %s did not run to its end: %s", vm->vmlinuz, *why ? why : "scripts/vmtest failed");
		free(why);
		status = EXIT_USER;
	}
	free(cmd);
	free(text);
	free(script);
	free(err);
	return status > EXIT_USER ? EXIT_USER : status;
}

void verify_vm_close(struct verify_vm *vm)
{
	/* Only the temporary directory ksc made (its trees, BTF, guest script) goes. */
	if (vm->tmp)
		verify_remove_tmp(vm->tmp);
	free(vm->tmp);
	free(vm->scripts);
	free(vm->vmlinuz);
	free(vm->series);
	free(vm->suite);
	free(vm->btf);
	free(vm->kdir);
	free(vm->why);
	memset(vm, 0, sizeof(*vm));
}
