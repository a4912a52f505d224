/*
 * Native struct_ops: a @kmod impl block becomes module C.  Its methods get
 * the kernel's own prototypes (from BTF, spelled as the headers spell
 * them), its instance is a static struct with .owner and .name, and module
 * init registers it with the kernel (tcp_register_congestion_control),
 * unwinding the instances already registered when a later one fails.
 *
 * The @kmod impl block of a struct_ops type the module defines itself is
 * instead that type's default implementation (kmod_ops_type.c).
 */
#include <stdlib.h>
#include <string.h>

#include "btf_types.h"
#include "kmodgen_internal.h"
#include "sema.h"
#include "types.h"

/* A @kmod impl of a kernel struct_ops type (tcp_congestion_ops): registered natively. */
static bool is_kmod_impl(struct program *prog, const struct decl *d)
{
	return d->kind == D_IMPL && d->target == TARGET_KMOD &&
	       !(d->struct_ops && sema_struct_ops_type(prog, d->struct_ops));
}

bool kmod_has_struct_ops(struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next)
		if (is_kmod_impl(prog, d))
			return true;
	return false;
}

/* "static RET NAME(PARAMS)" with the kernel's types and the program's parameter names. */
static const char *method_prototype(struct cgen *g, struct decl *impl, struct decl *m)
{
	char *ret = btf_member_param_c(g->prog->kernel, impl->struct_ops, m->name, -1, "");
	struct strbuf sb;
	const char *r = NULL;
	int i = 0;

	if (!ret)
		return NULL;
	sb_init(&sb);
	/* "struct sock *name", "u32 name" */
	sb_printf(&sb, "static %s%s%s(", ret, *ret && ret[strlen(ret) - 1] == '*' ? "" : " ",
		  kmod_method_name(g, m));
	free(ret);
	for (struct param *p = m->params; p; p = p->next, i++) {
		char *decl = btf_member_param_c(g->prog->kernel, impl->struct_ops, m->name, i,
						 p->name);

		if (!decl)
			goto out;
		sb_printf(&sb, "%s%s", i ? ", " : "", decl);
		free(decl);
	}
	sb_puts(&sb, m->params ? ")" : "void)");
	r = arena_strdup(g->a, sb.buf);
out:
	sb_free(&sb);
	return r;
}

/* The registered name: `name: "..."`, else the impl's name cut to the kernel's size. */
static const char *ops_name(struct cgen *g, struct decl *impl)
{
	struct decl *k;
	int size = 0;

	for (struct impl_field *f = impl->ifields; f; f = f->next)
		if (!strcmp(f->name, "name"))
			return cg_expr_str(g, f->value);
	k = btf_find_type(g->prog->kernel, g->a, impl->struct_ops);
	for (struct struct_field *f = k ? k->fields : NULL; f; f = f->next)
		if (!strcmp(f->name, "name") && type_unalias(f->ty)->kind == TY_ARRAY)
			size = (int)type_unalias(f->ty)->count;
	/* The checker warned when the impl name does not fit. */
	return arena_printf(g->a, "\"%.*s\"", size ? size - 1 : (int)strlen(impl->name),
			    impl->name);
}

static int emit_instance(struct cgen *g, struct decl *impl)
{
	for (struct decl *m = impl->methods; m; m = m->next) {
		const char *proto = method_prototype(g, impl, m);

		if (!proto) {
			p_err("no prototype for %s.%s in the kernel BTF %s", impl->struct_ops,
			      m->name, btf_types_path(g->prog->kernel));
			return -1;
		}
		cg_line(g, "%s", proto);
		cg_function_body(g, m);
		cg_blank(g);
	}
	cg_open(g, "static struct %s %s __read_mostly = {", impl->struct_ops,
		kmod_ops_name(g, impl));
	for (struct decl *m = impl->methods; m; m = m->next)
		cg_line(g, ".%s = %s,", m->name, kmod_method_name(g, m));
	for (struct impl_field *f = impl->ifields; f; f = f->next)
		if (strcmp(f->name, "name"))
			cg_line(g, ".%s = %s,", f->name, cg_expr_str(g, f->value));
	cg_block(g, "\
		.owner = THIS_MODULE,\n\
		.name = %s,\n", ops_name(g, impl));
	cg_close(g, "};");
	cg_blank(g);
	return 0;
}

int kmod_emit_struct_ops(struct cgen *g)
{
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (is_kmod_impl(g->prog, d) && emit_instance(g, d))
			return -1;
	kmod_emit_ops_types(g);
	return 0;
}

/* The @kmod impl blocks in registration order. */
static int kmod_impls(struct cgen *g, struct ptrvec *v)
{
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (is_kmod_impl(g->prog, d))
			ptrvec_push(g->a, v, d);
	return v->n;
}

void kmod_emit_struct_ops_register(struct cgen *g)
{
	struct ptrvec v = { 0 };
	int n = kmod_impls(g, &v);

	for (int i = 0; i < n; i++) {
		const char *name = kmod_ops_name(g, v.v[i]);
		/* A later failure unwinds the instances registered before it. */
		const char *fail = i ? arena_printf(g->a, "goto err_unregister_%s;",
						    kmod_ops_name(g, v.v[i - 1])) : "return err;";

		cg_block(g, "\
			err = tcp_register_congestion_control(&%s);\n\
			if (err) {\n\
				pr_err(\"cannot register congestion control %%s: %%d\\n\", %s.name, err);\n\
				%s\n\
			}\n", name, name, fail);
	}
	cg_line(g, "return 0;");
	if (n < 2)
		return;
	/* Each label unregisters its instance and falls through to the earlier ones. */
	cg_blank(g);
	for (int i = n - 2; i >= 0; i--) {
		const char *name = kmod_ops_name(g, v.v[i]);

		sb_printf(g->out, "err_unregister_%s:\n", name);
		cg_line(g, "tcp_unregister_congestion_control(&%s);", name);
	}
	cg_line(g, "return err;");
}

void kmod_emit_struct_ops_unregister(struct cgen *g)
{
	struct ptrvec v = { 0 };

	for (int i = kmod_impls(g, &v) - 1; i >= 0; i--)
		cg_line(g, "tcp_unregister_congestion_control(&%s);", kmod_ops_name(g, v.v[i]));
}
