/*
 * Whether a function that returns a value can reach the end of its body:
 * C compilers answer that with -Wreturn-type ("control reaches end of
 * non-void function"), an error in every tree ksc writes (clang for eBPF,
 * cc -Werror for the loader, kbuild with -Werror), so ksc answers it first,
 * at the function.  Found by the fuzzer: `fn f() -> u32 {}` was accepted.
 *
 * "Completes" below means control can leave the statement list at its end.
 * The rules are C's flow rules, with the two constant conditions a program
 * writes for an endless loop or a fixed branch (`while (true)`, `if
 * (true)`) folded as the compilers fold them.
 */
#include "sema_internal.h"
#include "types.h"

/* The parser refuses blocks nested over 200 deep; this only guards the recursion. */
#define RETURN_MAX_DEPTH 256

static bool completes(const struct stmt *s, int depth);

static bool is_true(const struct expr *e)
{
	return e && e->kind == E_BOOL && e->ival;
}

/* Whether a break in s (outside loops nested in it) leaves the loop s belongs to. */
static bool breaks(const struct stmt *s, int depth)
{
	if (depth > RETURN_MAX_DEPTH)
		return true;
	for (; s; s = s->next) {
		if (s->kind == S_BREAK)
			return true;
		if (s->kind == S_WHILE || s->kind == S_FOR)
			continue;
		if (breaks(s->then, depth + 1) || breaks(s->els, depth + 1) ||
		    breaks(s->body, depth + 1))
			return true;
		for (const struct catch_clause *c = s->catches; c; c = c->next)
			if (breaks(c->body, depth + 1))
				return true;
		if (s->value && s->value->kind == E_MATCH)
			for (const struct match_arm *a = s->value->arms; a; a = a->next)
				if (breaks(a->body, depth + 1))
					return true;
	}
	return false;
}

/* A match used as a statement: done unless every arm ends and one is the default. */
static bool match_completes(const struct expr *m, int depth)
{
	bool has_default = false;

	for (const struct match_arm *a = m->arms; a; a = a->next) {
		if (!a->is_block || completes(a->body, depth + 1))
			return true;
		has_default |= a->pat == PAT_DEFAULT;
	}
	return !has_default;
}

static bool stmt_completes(const struct stmt *s, int depth)
{
	switch (s->kind) {
	case S_RETURN:
	case S_THROW:
		return false;
	case S_IF:
		if (is_true(s->value))
			return completes(s->then, depth + 1);
		return !s->els || completes(s->then, depth + 1) || completes(s->els, depth + 1);
	case S_IFVAR:
		return !s->els || completes(s->then, depth + 1) || completes(s->els, depth + 1);
	case S_WHILE:
		return !is_true(s->value) || breaks(s->body, depth + 1);
	case S_TRY:
		if (completes(s->body, depth + 1))
			return true;
		for (const struct catch_clause *c = s->catches; c; c = c->next)
			if (completes(c->body, depth + 1))
				return true;
		return false;
	case S_EXPR:
		return !s->value || s->value->kind != E_MATCH || match_completes(s->value, depth);
	default:
		return true;
	}
}

static bool completes(const struct stmt *s, int depth)
{
	if (depth > RETURN_MAX_DEPTH)
		return false;
	for (; s; s = s->next)
		if (!stmt_completes(s, depth))
			return false;
	return true;
}

void check_returns(struct checker *c, struct decl *fn)
{
	/* A named return value is what reaching the end returns. */
	if (!fn->ret || type_is_void(fn->ret) || type_is_error(fn->ret) || fn->ret_name ||
	    !completes(fn->body, 0))
		return;
	diag_error(c->d, fn->name_loc.src ? fn->name_loc : fn->loc,
		   "'%s' returns %s, but the end of its body can be reached without a return",
		   fn->name, type_str(c->a, fn->ret));
}
