/*
 * Names in generated C (names.h).  What a name may clash with comes from
 * four places: C itself (keywords, the '_' names the implementation
 * keeps), the headers generated C includes (compiler/emit/names/, made from
 * the headers by scripts/gen-names), the target kernel's BTF (every type
 * of it, though vmlinux.h holds only those the program uses: which those
 * are is known only once the C is written, and a name must not change
 * with it) and ksc's own names in the objects it writes.
 */
#include "names.h"

#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "btf_types.h"
#include "diag.h"
#include "ebpf_abi.h"
#include "lexer.h"
#include "sema.h"
#include "types.h"
#include "util.h"

/*
 * The prefix a renamed name gets, KS_ for a name in capitals (an
 * enumerator stays one to the eye); a name that still clashes gets it again.
 */
#define RENAME_PREFIX "ks_"
#define RENAME_PREFIX_CAPS "KS_"

/* ---- what clashes ---- */

static bool in_words(const char *const *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i], name))
			return true;
	return false;
}

/* C17 and GNU keywords, and C23's, which newer compilers take in any mode. */
static bool is_keyword(const char *name)
{
	static const char *const words[] = {
		"auto", "break", "case", "char", "const", "continue", "default", "do", "double",
		"else", "enum", "extern", "float", "for", "goto", "if", "inline", "int", "long",
		"register", "restrict", "return", "short", "signed", "sizeof", "static",
		"struct", "switch", "typedef", "union", "unsigned", "void", "volatile", "while",
		"asm", "typeof", "alignas", "alignof", "bool", "constexpr", "false", "nullptr",
		"static_assert", "thread_local", "true", "typeof_unqual",
	};

	return in_words(words, ARRAY_SIZE(words), name);
}

/*
 * Library functions clang treats as builtins even where no header declares
 * them: a global of such a name is an error in eBPF C, which has no libc.
 */
static bool is_cc_builtin(const char *name)
{
	static const char *const names[] = {
		"abs", "labs", "llabs", "div", "exit", "abort", "malloc", "calloc", "realloc",
		"free", "alloca", "printf", "sprintf", "snprintf", "fprintf", "vprintf", "scanf",
		"sscanf", "puts", "putchar", "strlen", "strnlen", "strcpy", "strncpy", "strcat",
		"strncat", "strcmp", "strncmp", "strchr", "strrchr", "strstr", "strdup", "strndup",
		"strspn", "strcspn", "strpbrk", "strtok", "memcpy", "memmove", "memset", "memcmp",
		"memchr", "index", "rindex", "main", "bzero", "bcmp", "bcopy", "log", "log2", "log10",
		"log1p", "logb", "exp", "exp2", "expm1", "pow", "sqrt", "cbrt", "sin", "cos", "tan",
		"asin", "acos", "atan", "atan2", "sinh", "cosh", "tanh", "floor", "ceil", "round",
		"rint", "trunc", "fabs", "fmod", "fmin", "fmax", "ldexp", "frexp", "modf", "hypot",
		"erf", "gamma", "lgamma", "tgamma", "nan", "isalpha", "isdigit", "isspace", "isupper",
		"islower", "isalnum", "isprint", "ispunct", "isxdigit", "iscntrl", "isgraph",
		"isblank", "toupper", "tolower", "atoi", "atol", "atoll", "strtol", "strtoul",
		"strtoll", "strtoull", "qsort", "bsearch", "setjmp", "longjmp", "fopen", "fclose",
		"fread", "fwrite", "fputs", "fgets", "fputc", "fgetc", "getc", "putc", "getchar",
		"vsprintf", "vsnprintf", "vfprintf", "stpcpy", "stpncpy", "strerror", "strlcpy",
		"strlcat", "ffs", "ffsl", "ffsll", "_exit", "signal", "raise", "fma", "copysign",
		"nearbyint", "lround", "llround", "lrint", "llrint", "remainder", "remquo", "scalbn",
		"scalbln", "ilogb", "nextafter", "nexttoward", "fdim", "erfc", "significand",
	};

	return in_words(names, ARRAY_SIZE(names), name);
}

/* Whether sorted list l holds name: a binary search. */
static bool in_list(const struct names_list *l, const char *name)
{
	size_t lo = 0, hi = l->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(name, l->s + l->off[mid]);

		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* The NAME_* bit of each embedded list, matched by its name once: lookups are on every name. */
static unsigned list_bit(const char *list)
{
	static const struct {
		const char *list;
		unsigned bit;
	} bits[] = {
		{ "user-macros", NAME_USER_MACRO },     { "user-decls", NAME_USER_DECL },
		{ "ebpf-macros", NAME_EBPF_MACRO },     { "ebpf-decls", NAME_EBPF_DECL },
		{ "kernel-macros", NAME_KERNEL_MACRO }, { "kernel-decls", NAME_KERNEL_DECL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(bits); i++)
		if (!strcmp(list, bits[i].list))
			return bits[i].bit;
	return 0;
}

/* The bits of the header lists (compiler/emit/names/) that hold name. */
static unsigned in_lists(const char *name)
{
	static unsigned bit[16];
	static bool known;
	unsigned r = 0;
	int i = 0;

	if (!known) {
		for (const struct names_list *l = names_lists; l->name && i < 16; l++, i++)
			bit[i] = list_bit(l->name);
		known = true;
	}
	i = 0;
	for (const struct names_list *l = names_lists; l->name && i < 16; l++, i++)
		if (bit[i] && in_list(l, name))
			r |= bit[i];
	return r;
}

/* What the target BTF's vmlinux.h could declare (types, tags, enumerators), and its functions. */
static unsigned in_btf(struct kernel *k, const char *name)
{
	unsigned ns = btf_types_name_ns(k, name);
	unsigned types = 1u << BTF_NS_STRUCT | 1u << BTF_NS_UNION | 1u << BTF_NS_ENUM |
			 1u << BTF_NS_ORDINARY;

	return (ns & types ? NAME_BTF_TYPE : 0) | (ns & 1u << BTF_NS_FUNC ? NAME_BTF_FUNC : 0);
}

unsigned names_taken(struct kernel *k, const char *name)
{
	unsigned r = in_lists(name) | in_btf(k, name);

	if (is_keyword(name))
		r |= NAME_KEYWORD;
	if (name[0] == '_')
		r |= NAME_RESERVED;
	if (is_cc_builtin(name))
		r |= NAME_CC_BUILTIN;
	return r;
}

/* ---- the program's own names ---- */

/*
 * The names the program (not its imports) declares at file scope, as they
 * stand: indexed on the first question, again after names_assign renames.
 */
static void index_own_names(struct program *prog)
{
	prog->own_names = (struct strmap){ 0 };
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->from_header || d->from_btf)
			continue;
		if (d->name)
			strmap_put(prog->arena, &prog->own_names, d->name, d, false);
		if (d->kind == D_ENUM)
			for (struct enum_const *c = d->consts; c; c = c->next)
				strmap_put(prog->arena, &prog->own_names, c->name, d, false);
	}
	prog->own_names_indexed = true;
}

/* Whether the program (not its imports) declares name at file scope, as written or given. */
static bool declares(struct program *prog, const char *name)
{
	if (!prog->own_names_indexed)
		index_own_names(prog);
	return strmap_has(&prog->own_names, name);
}

static bool has_lower(const char *s)
{
	for (; *s; s++)
		if (*s >= 'a' && *s <= 'z')
			return true;
	return false;
}

/* ks_NAME (KS_NAME), again until nothing uses it. */
static const char *renamed(struct program *prog, struct arena *a, const char *name)
{
	const char *prefix = has_lower(name) ? RENAME_PREFIX : RENAME_PREFIX_CAPS;
	const char *r = arena_printf(a, "%s%s", prefix, name);

	while (names_taken(prog->kernel, r) || declares(prog, r))
		r = arena_printf(a, "%s%s", prefix, r);
	return r;
}

const char *names_local(struct program *prog, struct arena *a, const char *name)
{
	return names_taken(prog->kernel, name) ? renamed(prog, a, name) : name;
}

/* eBPF C cannot spell these as written, or would take them for something else. */
#define EBPF_CLASH (NAME_KEYWORD | NAME_RESERVED | NAME_CC_BUILTIN | NAME_EBPF_MACRO | \
		    NAME_EBPF_DECL | NAME_BTF_TYPE)

const char *names_ebpf_alias(struct program *prog, const char *name)
{
	return names_taken(prog->kernel, name) & EBPF_CLASH ? renamed(prog, prog->arena, name) : NULL;
}

/* ---- names the user sees ---- */

struct pass {
	struct program *prog;
	struct diag *d;
	struct arena *a;
	int errors;
	struct ptrvec done;        /* programs already assigned (imports) */
	struct ptrvec from, to;    /* const char **slot, new name: renames planned */
	struct ptrmap planned;     /* the same, by slot, for the references' lookups */
	struct ptrmap import_fns;  /* imported program: struct strmap of its functions */
};

static const char *what_clashes(unsigned bits)
{
	if (bits & NAME_KEYWORD)
		return "a C keyword";
	if (bits & NAME_RESERVED)
		return "reserved to C and ksc (it begins with '_')";
	if (bits & NAME_USER_MACRO)
		return "a macro of the loader's C headers";
	if (bits & NAME_KERNEL_MACRO)
		return "a macro of the kernel's headers";
	if (bits & NAME_EBPF_MACRO)
		return "a macro of libbpf's eBPF headers";
	if (bits & NAME_BTF_FUNC)
		return "a function of the target kernel";
	if (bits & NAME_KERNEL_DECL)
		return "declared by the kernel's headers";
	if (bits & NAME_EBPF_DECL)
		return "declared by libbpf's eBPF headers";
	if (bits & NAME_BTF_TYPE)
		return "a type or constant of the target kernel's BTF";
	return "a name C already uses";
}

static void refuse(struct pass *p, struct decl *d, const char *what, const char *name,
		   const char *why, const char *note)
{
	diag_error(p->d, d->name_loc.line ? d->name_loc : d->loc, "%s name '%s' is %s", what, name,
		   why);
	if (note)
		diag_note(p->d, d->name_loc.line ? d->name_loc : d->loc, "%s", note);
	p->errors++;
}

/* ksc's own object names (ebpf_abi.h), which a map or program may not take. */
static const char *ksc_own(struct program *prog, const char *name)
{
	size_t n = strlen(name), sn = strlen(KSC_CONFIG_MAP_SUFFIX);

	if (!strcmp(name, KSC_PROG_ARRAY))
		return "the tail-call map ksc makes";
	if (!strcmp(name, KSC_PINNED_GLOBALS))
		return "the map of pinned globals ksc makes";
	if (n > sn && !strcmp(name + n - sn, KSC_CONFIG_MAP_SUFFIX))
		for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
			if (d->kind == D_CONFIG && strlen(d->name) == n - sn &&
			    !strncmp(d->name, name, n - sn))
				return "the map ksc makes for a config block";
	return NULL;
}

/*
 * Maps, programs, config blocks and struct_ops instances keep their names
 * in the object (pins, bpftool, the skeleton's fields): one the skeleton
 * cannot have as a C field is refused; eBPF C spells the rest through an
 * asm label (names_ebpf_alias).
 */
static void check_object_name(struct pass *p, struct program *prog, struct decl *d,
			      const char *what)
{
	unsigned bits = names_taken(prog->kernel, d->name);
	const char *own = ksc_own(prog, d->name);

	if (bits & (NAME_KEYWORD | NAME_RESERVED | NAME_USER_MACRO))
		refuse(p, d, what, d->name, what_clashes(bits),
		       "the loader's skeleton names it as a C field; choose another name");
	else if (own)
		refuse(p, d, what, d->name, own, NULL);
}

/*
 * A kfunc's name is its BTF name and the symbol the module exports: it
 * cannot be renamed, so one the kernel (or C) already has is refused.
 */
#define KFUNC_CLASH (NAME_KEYWORD | NAME_CC_BUILTIN | NAME_KERNEL_MACRO | NAME_KERNEL_DECL | \
		     NAME_EBPF_MACRO | NAME_EBPF_DECL | NAME_BTF_TYPE | NAME_BTF_FUNC)

static bool module_own(const char *name);

static void check_kfunc_name(struct pass *p, struct program *prog, struct decl *d)
{
	unsigned bits = names_taken(prog->kernel, d->name) & KFUNC_CLASH;
	size_t n = strlen(prog->ident);

	if (!strncmp(d->name, prog->ident, n) && d->name[n] == '_' &&
	    (module_own(d->name + n + 1) || !strcmp(d->name + n + 1, "register")))
		refuse(p, d, "kfunc", d->name, "one the module's own code has (ksc names its "
		       "init, exit and kfunc sets after the module)", NULL);
	else if (bits)
		refuse(p, d, "kfunc", d->name, what_clashes(bits),
		       arena_printf(p->a, "a kfunc keeps its name in BTF, so it needs one the "
				    "kernel does not have, such as '%s_%s'", prog->ident, d->name));
}

/* Config fields are the loader's option names too: kept, or refused. */
static void check_config_fields(struct pass *p, struct decl *d)
{
	for (struct config_field *f = d->cfields; f; f = f->next) {
		unsigned bits = names_taken(p->prog->kernel, f->name) & (NAME_KEYWORD | NAME_MACROS);

		if (!bits)
			continue;
		diag_error(p->d, f->loc, "config field name '%s' is %s", f->name,
			   what_clashes(bits));
		p->errors++;
	}
}

/* ---- renames ---- */

static void plan(struct pass *p, const char **slot, const char *to)
{
	ptrvec_push(p->a, &p->from, (void *)slot);
	ptrvec_push(p->a, &p->to, (void *)to);
	if (!ptrmap_has(&p->planned, slot))
		ptrmap_put(p->a, &p->planned, slot, (void *)to);
}

/* Asked for every field and enumerator reference: a lookup, not a search of every rename. */
static const char *planned(struct pass *p, const char *const *slot)
{
	return ptrmap_get(&p->planned, slot);
}

/* Names only C sees: renamed on any clash. */
static void rename_any(struct pass *p, struct program *prog, const char **slot)
{
	if (names_taken(prog->kernel, *slot))
		plan(p, slot, renamed(prog, p->a, *slot));
}

/* Names BTF shows too (struct fields, kfunc parameters): renamed only where C needs it. */
static void rename_c_only(struct pass *p, struct program *prog, const char **slot)
{
	if (names_taken(prog->kernel, *slot) & (NAME_KEYWORD | NAME_MACROS))
		plan(p, slot, renamed(prog, p->a, *slot));
}

static void rename_params(struct pass *p, struct program *prog, struct decl *fn, bool visible)
{
	for (struct param *pa = fn->params; pa; pa = pa->next)
		(visible ? rename_c_only : rename_any)(p, prog, &pa->name);
}

/* Module code names its own things MOD_init, MOD_exit, MOD_HOOK_kfunc_ids/_set. */
static bool module_own(const char *name)
{
	size_t n = strlen(name);

	static const char *const suffixes[] = { "_kfunc_ids", "_kfunc_set" };

	if (!strcmp(name, "init") || !strcmp(name, "exit") || !strcmp(name, "unregister"))
		return true;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++)
		if (n >= strlen(suffixes[i]) && !strcmp(name + n - strlen(suffixes[i]), suffixes[i]))
			return true;
	return false;
}

/*
 * Module-private state and functions are MOD_NAME in C (kmod_c.c), which a
 * kfunc of the file may be called already: `@private var calls` beside
 * `@kfunc fn MOD_calls`.  The private one gives way (ks_calls, and so on
 * until free): a kfunc's name is its API.
 */
static const char *kmod_private_name(struct program *prog, struct arena *a, const char *name)
{
	const char *r = name;

	while (declares(prog, arena_printf(a, "%s_%s", prog->ident, r)))
		r = arena_printf(a, "%s%s", RENAME_PREFIX, r);
	return r;
}

static void plan_kmod_private(struct pass *p, struct program *prog, struct decl *d)
{
	const char *r = kmod_private_name(prog, p->a, d->name);

	if (r != d->name)
		plan(p, &d->name, r);
}

static void plan_decl(struct pass *p, struct program *prog, struct decl *d)
{
	switch (d->kind) {
	case D_STRUCT:
		if (!is_kmod_ops_type(d) && !sema_struct_ops_type(prog, d->name))
			rename_any(p, prog, &d->name);
		for (struct struct_field *f = d->fields; f; f = f->next)
			rename_c_only(p, prog, &f->name);
		break;
	case D_ENUM:
		rename_any(p, prog, &d->name);
		for (struct enum_const *c = d->consts; c; c = c->next)
			rename_any(p, prog, &c->name);
		break;
	case D_GLOBAL:
		/* Module state is MOD_NAME in C already (kmod_c.c): only ksc's own MOD_ names clash. */
		if (d->target == TARGET_KMOD && !module_own(d->name)) {
			plan_kmod_private(p, prog, d);
			break;
		}
		if (module_own(d->name))
			plan(p, &d->name, renamed(prog, p->a, d->name));
		else
			rename_any(p, prog, &d->name);
		break;
	case D_FUNC:
		if (d->role == ROLE_KFUNC) {
			check_kfunc_name(p, prog, d);
			rename_params(p, prog, d, true);
			break;
		}
		rename_params(p, prog, d, false);
		if (d->target == TARGET_KMOD && !module_own(d->name)) {
			if (d->role != ROLE_METHOD)
				plan_kmod_private(p, prog, d);
			break;
		}
		if (d->role == ROLE_PROG)
			check_object_name(p, prog, d, "program");
		else if (module_own(d->name))
			plan(p, &d->name, renamed(prog, p->a, d->name));
		else if (strcmp(d->name, "main"))
			rename_any(p, prog, &d->name);
		break;
	case D_MAP:
		check_object_name(p, prog, d, "map");
		break;
	case D_CONFIG:
		check_object_name(p, prog, d, "config");
		check_config_fields(p, d);
		break;
	case D_IMPL:
		check_object_name(p, prog, d, "struct_ops");
		for (struct decl *m = d->methods; m; m = m->next)
			rename_params(p, prog, m, false);
		break;
	default:
		break;
	}
}

/* ---- references to renamed fields and enumerators ---- */

static struct decl *user_struct_of(struct type *t)
{
	t = t ? type_unalias(t) : NULL;
	if (t && t->kind == TY_PTR)
		t = type_unalias(t->base);
	if (!t || t->kind != TY_STRUCT || !t->decl || t->decl->from_btf || t->decl->from_header)
		return NULL;
	return t->decl;
}

static const char *field_rename(struct pass *p, struct decl *s, const char *name)
{
	for (struct struct_field *f = s ? s->fields : NULL; f; f = f->next)
		if (!strcmp(f->name, name))
			return planned(p, (const char *const *)&f->name);
	return NULL;
}

/* The new name of enumerator name of a program's own enum, or NULL. */
static const char *const_rename(struct pass *p, struct decl *e, const char *name)
{
	if (!e || e->kind != D_ENUM || e->from_btf || e->from_header)
		return NULL;
	for (struct enum_const *c = e->consts; c; c = c->next)
		if (!strcmp(c->name, name))
			return planned(p, (const char *const *)&c->name);
	return NULL;
}

/* The new name of function name of an imported .ks file (`utils.get_status()`), or NULL. */
static const char *import_rename(struct pass *p, struct expr *e, const char *name)
{
	struct program *imp;
	struct strmap *fns;
	struct decl *d;

	if (e->kind != E_IDENT || e->ref != REF_IMPORT || !e->decl || !e->decl->imported)
		return NULL;
	imp = e->decl->imported;
	/* The file's functions by name, once per file rather than per reference. */
	if (!(fns = ptrmap_get(&p->import_fns, imp))) {
		fns = arena_alloc(p->a, sizeof(*fns));
		for (d = imp->decls; decl_visit(d); d = d->next)
			if (d->kind == D_FUNC)
				strmap_put(p->a, fns, d->name, d, false);
		ptrmap_put(p->a, &p->import_fns, imp, fns);
	}
	d = strmap_get(fns, name);
	return d ? planned(p, (const char *const *)&d->name) : NULL;
}

static void fix_stmts(struct pass *p, struct stmt *s);

static void fix_expr(struct pass *p, struct expr *e)
{
	const char *to;

	for (; e; e = e->next) {
		if (e->kind == E_FIELD && (to = import_rename(p, e->lhs, e->str)))
			e->str = to;
		if ((e->kind == E_FIELD || e->kind == E_ARROW) &&
		    (to = field_rename(p, user_struct_of(e->lhs->type), e->str)))
			e->str = to;
		if (e->kind == E_IDENT && e->ref == REF_ENUMCONST &&
		    (to = const_rename(p, e->decl, e->str)))
			e->str = to;
		if (e->kind == E_STRUCTLIT)
			for (struct field_init *f = e->fields; f; f = f->next) {
				if ((to = field_rename(p, user_struct_of(e->type), f->name)))
					f->name = to;
				fix_expr(p, f->value);
			}
		for (struct match_arm *m = e->arms; m; m = m->next) {
			struct type *st = e->lhs ? type_unalias(e->lhs->type) : NULL;

			if (m->pat == PAT_IDENT && st && st->kind == TY_ENUM &&
			    (to = const_rename(p, st->decl, m->pat_tok->text))) {
				struct token *t = arena_alloc(p->a, sizeof(*t));

				*t = *m->pat_tok;
				t->text = to;
				m->pat_tok = t;
			}
			fix_expr(p, m->value);
			fix_stmts(p, m->body);
		}
		fix_expr(p, e->lhs);
		fix_expr(p, e->rhs);
		fix_expr(p, e->args);
	}
}

static void fix_stmts(struct pass *p, struct stmt *s)
{
	for (; s; s = s->next) {
		fix_expr(p, s->value);
		fix_expr(p, s->lhs);
		fix_expr(p, s->key);
		fix_stmts(p, s->then);
		fix_stmts(p, s->els);
		fix_stmts(p, s->body);
		for (struct catch_clause *c = s->catches; c; c = c->next)
			fix_stmts(p, c->body);
	}
}

static void fix_decl(struct pass *p, struct decl *d)
{
	fix_expr(p, d->init);
	fix_stmts(p, d->body);
	for (struct decl *m = d->methods; m; m = m->next)
		fix_stmts(p, m->body);
	for (struct impl_field *f = d->ifields; f; f = f->next)
		fix_expr(p, f->value);
	for (struct config_field *f = d->cfields; f; f = f->next)
		fix_expr(p, f->value);
}

static void assign(struct pass *p, struct program *prog)
{
	for (int i = 0; i < p->done.n; i++)
		if (p->done.v[i] == prog)
			return;
	ptrvec_push(p->a, &p->done, prog);
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_IMPORT && d->imported)
			assign(p, d->imported);
		else if (!d->from_header && !d->from_btf)
			plan_decl(p, prog, d);
	}
}

static void apply(struct pass *p)
{
	for (int i = 0; i < p->from.n; i++) {
		const char **slot = p->from.v[i];

		*slot = p->to.v[i];
	}
}

/* A parameter's references go through its pseudo declaration: it follows. */
static void follow_params(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		for (struct param *pa = d->params; pa; pa = pa->next)
			if (pa->slot)
				pa->slot->name = pa->name;
		for (struct decl *m = d->methods; m; m = m->next)
			for (struct param *pa = m->params; pa; pa = pa->next)
				if (pa->slot)
					pa->slot->name = pa->name;
	}
}

int names_assign(struct program *prog, struct diag *d)
{
	struct pass p = { .prog = prog, .d = d, .a = prog->arena };

	assign(&p, prog);
	for (int i = 0; i < p.done.n; i++)
		for (struct decl *dd = ((struct program *)p.done.v[i])->decls; decl_visit(dd); dd = dd->next)
			if (!dd->from_header && !dd->from_btf)
				fix_decl(&p, dd);
	apply(&p);
	for (int i = 0; i < p.done.n; i++) {
		follow_params(p.done.v[i]);
		((struct program *)p.done.v[i])->own_names_indexed = false;
	}
	return p.errors;
}
