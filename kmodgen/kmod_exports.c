/*
 * What module code may call: the kernel functions the target kernel
 * exports to modules, as listed in its build tree's Module.symvers.  An
 * `extern` called from module code that is not there would only fail at
 * modpost, in kbuild's words; checked here it is a diagnostic at the
 * `extern` line.  Without a kernel tree (plain `ksc compile`) nothing is
 * known and nothing is checked.
 */
#include <stdlib.h>
#include <string.h>

#include "kmodgen.h"
#include "target.h"
#include "util.h"

void kmodgen_load_exports(struct kernel *k, const char *kdir, const char *release)
{
	char *path = xasprintf("%s/Module.symvers", kdir);
	size_t len;

	free(k->symvers);
	free(k->symvers_what);
	k->symvers = k->symvers_what = NULL;
	/* A tree without it cannot link modules either; kbuild will say so. */
	if (!read_file(path, &k->symvers, &len))
		k->symvers_what = xasprintf("Linux %s", release);
	free(path);
}

/* Lines are "CRC<TAB>SYMBOL<TAB>MODULE<TAB>EXPORT_TYPE<TAB>NAMESPACE". */
static bool exported(const char *symvers, const char *name)
{
	size_t n = strlen(name);

	for (const char *line = symvers; *line; line++) {
		const char *sym = strchr(line, '\t'), *eol = strchr(line, '\n');

		if (!eol)
			eol = line + strlen(line);
		if (sym && sym < eol && !strncmp(sym + 1, name, n) && sym[1 + n] == '\t')
			return true;
		line = eol;
		if (!*line)
			break;
	}
	return false;
}

void kmodgen_check_exports(struct program *prog, struct diag *d)
{
	const char *symvers = prog->kernel->symvers;

	if (!symvers)
		return;
	for (struct decl *e = prog->decls; decl_visit(e); e = e->next)
		if (e->kind == D_EXTERN && target_calls(prog, e, TARGET_KMOD) && !exported(symvers, e->name))
			diag_error(d, e->name_loc.src ? e->name_loc : e->loc,
				   "module code calls '%s', which %s does not export to modules (it is not in the tree's Module.symvers)",
				   e->name, prog->kernel->symvers_what);
}
