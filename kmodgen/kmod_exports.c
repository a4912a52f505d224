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

static char *symvers;        /* the file's text, NUL-terminated */
static char *symvers_what;   /* "Linux RELEASE", for messages */

int kmodgen_set_exports(const char *kdir, const char *release)
{
	char *path = xasprintf("%s/Module.symvers", kdir);
	size_t len;
	int err = read_file(path, &symvers, &len);

	free(path);
	if (err) {
		/* A tree without it cannot link modules either; kbuild will say so. */
		symvers = NULL;
		return 0;
	}
	free(symvers_what);
	symvers_what = xasprintf("Linux %s", release);
	return 0;
}

/* Lines are "CRC<TAB>SYMBOL<TAB>MODULE<TAB>EXPORT_TYPE<TAB>NAMESPACE". */
static bool exported(const char *name)
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
	if (!symvers)
		return;
	for (struct decl *e = prog->decls; e; e = e->next)
		if (e->kind == D_EXTERN && target_calls(prog, e, TARGET_KMOD) && !exported(e->name))
			diag_error(d, e->name_loc.src ? e->name_loc : e->loc,
				   "module code calls '%s', which %s does not export to modules (it is not in the tree's Module.symvers)",
				   e->name, symvers_what);
}
