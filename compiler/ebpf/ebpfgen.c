/*
 * The eBPF backend.  What the verifier needs is generated here rather than
 * asked of the programmer: map reads with a zero default, packet reads
 * behind a data_end check, struct_ops arguments through BPF_PROG, tail
 * calls with a fallback return.
 *
 * This file is its entry point: the layout of NAME.ebpf.c (declarations,
 * support code, then the functions), then vmlinux.h from that C.
 * ebpf_internal.h says which file does the rest.
 */
#include "ebpfgen.h"

#include <string.h>

#include "btf_types.h"
#include "ebpf_internal.h"
#include "names.h"

/* ---- small queries and names ---- */

bool eb_is_ringbuf_call(const struct expr *e, const char *method)
{
	return e->kind == E_CALL && e->lhs->kind == E_FIELD &&
	       e->lhs->lhs->type && ut(e->lhs->lhs->type)->kind == TY_RINGBUF &&
	       (!method || !strcmp(e->lhs->str, method));
}

/*
 * Maps, programs and struct_ops instances keep their .ks names in the
 * object; where eBPF C cannot spell one (names.h), its C name differs and
 * an asm label gives the symbol the .ks name.
 */
const char *eb_obj_cname(struct cgen *g, const char *name)
{
	const char *alias = names_ebpf_alias(g->prog, name);

	return alias ? alias : name;
}

const char *eb_asm_label(struct cgen *g, const char *name)
{
	return names_ebpf_alias(g->prog, name) ? arena_printf(g->a, " __asm__(\"%s\")", name) : "";
}

/* For short vectors only (a function's locals, a header's constants): counted (ksc_stats). */
bool eb_in_vec(const struct ptrvec *v, const void *p)
{
	for (int i = 0; i < v->n; i++) {
		ksc_stats.vec_scans++;
		if (v->v[i] == p)
			return true;
	}
	return false;
}

const char *eb_assign_op(const struct stmt *s)
{
	static const char *const ops[] = { "+", "-", "*", "/", "%" };

	return s->op < 0 ? "" : ops[s->op];
}

/* ---- declarations ---- */

static void emit_global(struct cgen *g, struct decl *d)
{
	const char *decl = cg_decl(g, d->ty, d->name);

	if (d->is_pinned)
		return;
	if (d->init && !(d->init->kind == E_INT && d->init->ival == 0))
		cg_line(g, "%s%s = %s;", d->is_local ? "__hidden " : "", decl,
			cg_expr_str(g, d->init));
	else
		cg_line(g, "%s%s;", d->is_local ? "__hidden " : "", decl);
}

/* A kfunc or extern called from eBPF code, declared as a kernel symbol. */
static void emit_ksym(struct cgen *g, struct decl *d)
{
	cg_line(g, "extern %s __ksym;", cg_prototype(g, d, d->name));
}

static void emit_externs(struct cgen *g, struct ebpf *eb)
{
	for (int i = 0; i < eb->ksyms.n; i++)
		emit_ksym(g, eb->ksyms.v[i]);
	if (eb->ksyms.n)
		cg_blank(g);
}

/* String comparison and concatenation, each bounded by both arrays' sizes. */
static void emit_string_support(struct cgen *g, struct ebpf *eb)
{
	if (eb->need_streq)
		cg_block(g, "\
			static __always_inline bool ksc_streq(const char *a, __u32 na, const char *b, __u32 nb)\n\
			{\n\
				for (__u32 i = 0; i < na && i < nb; i++) {\n\
					if (a[i] != b[i])\n\
						return false;\n\
					if (!a[i])\n\
						return true;\n\
				}\n\
				return (na >= nb || !b[na]) && (nb >= na || !a[nb]);\n\
			}\n\
			\n");
	if (eb->need_strcat)
		cg_block(g, "\
			/* dst = a + b, truncated to dst's size and always terminated. */\n\
			static __always_inline void ksc_strcat(char *dst, __u32 nd, const char *a, __u32 na,\n\
								      const char *b, __u32 nb)\n\
			{\n\
				__u32 i = 0, j = 0;\n\
			\n\
				for (; i < na && i + 1 < nd && a[i]; i++)\n\
					dst[i] = a[i];\n\
				for (; j < nb && i + 1 < nd && b[j]; i++, j++)\n\
					dst[i] = b[j];\n\
				if (i < nd)\n\
					dst[i] = 0;\n\
			}\n\
			\n");
}

/* Signed division from unsigned: the quotient and remainder of the magnitudes, signed as C signs them. */
static void emit_sdiv_support(struct cgen *g, struct ebpf *eb)
{
	cg_block(g, "\
		static __always_inline __u64 ksc_abs(__s64 v)\n\
		{\n\
			return v < 0 ? -(__u64)v : (__u64)v;\n\
		}\n\
		\n");
	if (eb->need_sdiv)
		cg_block(g, "\
			static __always_inline __s64 ksc_sdiv(__s64 n, __s64 d)\n\
			{\n\
				__u64 q = ksc_abs(n) / ksc_abs(d);\n\
			\n\
				return (n < 0) != (d < 0) ? -(__s64)q : (__s64)q;\n\
			}\n\
			\n");
	if (eb->need_smod)
		cg_block(g, "\
			static __always_inline __s64 ksc_smod(__s64 n, __s64 d)\n\
			{\n\
				__u64 r = ksc_abs(n) %% ksc_abs(d);\n\
			\n\
				return n < 0 ? -(__s64)r : (__s64)r;\n\
			}\n\
			\n");
}

/*
 * One member of a new object to zero: a scalar by assignment, an array or
 * struct by memset, a KiB at a time past 1024 bytes (the most clang's BPF
 * backend expands in one memset).  clang merges a memset with the stores
 * and memsets beside it, past that limit, so a compiler barrier parts a
 * memset from whatever comes before it; *wide says the last was one.
 */
static void zero_member(struct cgen *g, const struct struct_field *f, bool first, bool *wide)
{
	struct type *t = type_unalias(f->ty);
	long long size = type_size(t);

	if (t->kind != TY_ARRAY && t->kind != TY_STRUCT && t->kind != TY_STR) {
		if (*wide)
			cg_line(g, "asm volatile(\"\" ::: \"memory\");");
		cg_line(g, "o->%s = 0;", f->name);
		*wide = false;
		return;
	}
	if (size <= 1024) {
		if (!first)
			cg_line(g, "asm volatile(\"\" ::: \"memory\");");
		cg_line(g, "__builtin_memset(&o->%s, 0, sizeof(o->%s));", f->name, f->name);
		*wide = true;
		return;
	}
	for (long long off = 0; off < size; off += 1024) {
		if (!first || off)
			cg_line(g, "asm volatile(\"\" ::: \"memory\");");
		cg_line(g, "__builtin_memset((char *)&o->%s + %lld, 0, %lld);", f->name, off,
			size - off < 1024 ? size - off : 1024);
	}
	*wide = true;
}

/*
 * ksc_new_T(): bpf_obj_new hands back memory as an earlier object left it
 * (the allocator reuses freed objects and zeroes only BTF special fields),
 * and new T() promises zeroes, as calloc() gives userspace.  Member by
 * member: the verifier refuses a write to an object's padding.
 */
static void emit_new_function(struct cgen *g, struct type *t)
{
	const char *ty = cg_type(g, t);
	bool wide = false;

	cg_line(g, "static __always_inline %s *ksc_new_%s(void)", ty, t->decl->name);
	cg_open(g, "{");
	cg_line(g, "%s *o = bpf_obj_new(%s);", ty, ty);
	cg_blank(g);
	cg_open(g, "if (o) {");
	for (const struct struct_field *f = t->decl->fields; f; f = f->next)
		zero_member(g, f, f == t->decl->fields, &wide);
	cg_close(g, "}");
	cg_line(g, "return o;");
	cg_close(g, "}");
	cg_blank(g);
}

/* bpf_obj_new and bpf_obj_drop, as this kernel's kfuncs take them. */
static void emit_obj_support(struct cgen *g)
{
	if (btf_has_func(g->prog->kernel, "bpf_obj_new"))
		/* 7.1+ (KF_IMPLICIT_ARGS): the kfuncs take no meta argument; parentheses keep the macros out. */
		cg_block(g, "\
			extern void *(bpf_obj_new)(__u64 local_type_id) __ksym;\n\
			extern void (bpf_obj_drop)(void *kptr) __ksym;\n\
			#define bpf_obj_new(type) ((type *)(bpf_obj_new)(bpf_core_type_id_local(type)))\n\
			#define bpf_obj_drop(kptr) (bpf_obj_drop)(kptr)\n\
			\n");
	else
		cg_block(g, "\
			extern void *bpf_obj_new_impl(__u64 local_type_id, void *meta) __ksym;\n\
			extern void bpf_obj_drop_impl(void *kptr, void *meta) __ksym;\n\
			#define bpf_obj_new(type) ((type *)bpf_obj_new_impl(bpf_core_type_id_local(type), NULL))\n\
			#define bpf_obj_drop(kptr) bpf_obj_drop_impl(kptr, NULL)\n\
			\n");
	for (int i = 0; i < EB(g)->new_types.n; i++)
		emit_new_function(g, EB(g)->new_types.v[i]);
}

/* Support code emitted only when the program needs it. */
static void emit_support(struct cgen *g, struct ebpf *eb)
{
	for (int i = 0; i < eb->consts.n; i++) {
		struct enum_const *c = eb->consts.v[i];

		cg_line(g, "#define %s %lld", c->name, c->value);
	}
	if (eb->consts.n)
		cg_blank(g);
	emit_string_support(g, eb);
	if (eb->need_sdiv || eb->need_smod)
		emit_sdiv_support(g, eb);
	if (eb->need_obj_new)
		emit_obj_support(g);
}

static void emit_declarations(struct cgen *g, struct ebpf *eb)
{
	bool globals = false;

	cg_emit_user_types(g);
	emit_externs(g, eb);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_CONFIG)
			eb_emit_config(g, d);
	eb_emit_kptr_slots(g, eb);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next)
		if (d->kind == D_MAP)
			eb_emit_map(g, d);
	if (eb->tail_targets.n)
		eb_emit_prog_array(g, eb);
	eb_emit_pinned_globals(g);
	for (struct decl *d = g->prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_GLOBAL && d->target == TARGET_EBPF) {
			emit_global(g, d);
			globals |= !d->is_pinned;
		}
	}
	if (globals)
		cg_blank(g);
}

int ebpfgen_write(struct program *prog, const char *path, const char *vmlinux_path)
{
	struct strbuf out, body;
	struct cgen g;
	struct ebpf eb = { 0 };
	int err;

	eb_analyse(prog, &eb);
	/* Functions first, into their own buffer: they decide what support code is needed. */
	sb_init(&body);
	cg_init(&g, prog->arena, prog, &body, &eb_hooks);
	g.backend = &eb;
	eb_emit_functions(&g);

	sb_init(&out);
	g.out = &out;
	/* _license: '_', since no .ks map takes the name (names.c refuses '_' names for maps). */
	cg_block(&g, "\
		// SPDX-License-Identifier: GPL-2.0\n\
		/* Generated by ksc from %s.ks: edit that file, not this one. */\n\
		#include \"vmlinux.h\"\n\
		#include <bpf/bpf_helpers.h>\n\
		#include <bpf/bpf_tracing.h>\n\
		#include <bpf/bpf_core_read.h>\n\
		\n\
		char _license[] SEC(\"license\") = \"GPL\";\n\
		\n", prog->base);
	emit_declarations(&g, &eb);
	emit_support(&g, &eb);
	sb_putn(&out, body.buf ? body.buf : "", body.len);
	cg_fix_line_resets(&out, arena_printf(prog->arena, "%s.ebpf.c", prog->base));
	err = write_file_reported(path, out.buf, out.len);
	/* vmlinux.h after the C: it holds the kernel types the C uses. */
	if (!err)
		err = eb_write_vmlinux_h(prog, out.buf, out.len, vmlinux_path);
	sb_free(&out);
	sb_free(&body);
	return err;
}

/* ---- vmlinux.h ---- */

const char *ebpfgen_clang_flags(const struct program *prog)
{
	return prog->btf_anon_tags ? "-fms-extensions -Wno-microsoft-anon-tag" : "";
}
