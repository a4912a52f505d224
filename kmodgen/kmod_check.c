/* What the module backend needs beyond the front end's rules. */
#include <string.h>

#include "kmodgen.h"
#include "types.h"

static bool has_flag(const struct decl *fn, const char *flag, struct ks_loc *loc)
{
	for (const struct attr *a = fn->attrs; a; a = a->next)
		if (!strcmp(a->name, "kfunc"))
			for (const struct attr_arg *arg = a->args; arg; arg = arg->next)
				if (arg->name && !strcmp(arg->name, flag)) {
					*loc = arg->loc;
					return true;
				}
	return false;
}

static bool returns_pointer(const struct decl *fn)
{
	return fn->ret && type_unalias(fn->ret)->kind == TY_PTR;
}

/* The verifier's rules for KF_ACQUIRE / KF_RELEASE / KF_RET_NULL, checked early. */
static void check_flags(struct diag *d, struct decl *fn)
{
	struct ks_loc loc;

	if (has_flag(fn, "acquire", &loc) && !returns_pointer(fn))
		diag_error(d, loc, "an 'acquire' kfunc must return a pointer");
	if (has_flag(fn, "ret_null", &loc) && !returns_pointer(fn))
		diag_error(d, loc, "a 'ret_null' kfunc must return a pointer");
	if (has_flag(fn, "release", &loc) &&
	    (!fn->params || type_unalias(fn->params->ty)->kind != TY_PTR))
		diag_error(d, loc, "a 'release' kfunc must take the released pointer as its first parameter");
	if (has_flag(fn, "acquire", &loc) && has_flag(fn, "release", &loc))
		diag_error(d, loc, "a kfunc cannot both acquire and release");
}

int kmodgen_check(struct program *prog, struct diag *d)
{
	int before = diag_errors(d);

	for (struct decl *fn = prog->decls; fn; fn = fn->next)
		if (fn->kind == D_FUNC && fn->role == ROLE_KFUNC)
			check_flags(d, fn);
	return diag_errors(d) != before ? -1 : 0;
}
