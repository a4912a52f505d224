/*
 * vmlinux.h: the kernel's types NAME.ebpf.c uses, with what they depend
 * on, dumped from BTF (the --btf file or the running kernel's).  The whole
 * BTF would be some 3 MB and most of a compile's time; a program uses a
 * few hundred types of it.
 *
 * The types used are found from three sides, since none sees them all:
 *   - the C itself: every name it spells that is a struct, union or enum
 *     tag, a typedef or an enumerator of the kernel's (the ones ksc writes
 *     by itself, like struct xdp_md or BPF_ANY, included);
 *   - the eBPF code's expressions: `sk->sk_socket->file` needs struct
 *     socket complete, though the C never names it;
 *   - libbpf's headers: the types their declarations use, and those their
 *     macros reach (PT_REGS_* read struct pt_regs).
 * libbpf's btf_dump then emits each with what it depends on, in order.
 */
#include "ebpf_internal.h"

#include <bpf/btf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "btf_types.h"

/* BTF type ids to dump, in no order until sorted. */
struct roots {
	struct kernel *kernel;
	__u32 *v;
	size_t n, cap;
};

static void add_root(struct roots *r, __u32 id)
{
	if (!id)
		return;
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 64;
		r->v = xrealloc(r->v, r->cap * sizeof(*r->v));
	}
	r->v[r->n++] = id;
}

static void add_name(struct roots *r, const char *name, size_t len, enum btf_ns ns)
{
	char buf[128], *s = len < sizeof(buf) ? buf : xmalloc(len + 1);

	memcpy(s, name, len);
	s[len] = 0;
	add_root(r, btf_types_named(r->kernel, s, ns));
	if (s != buf)
		free(s);
}

/* ---- what libbpf's headers need ---- */

/*
 * bpf_helper_defs.h declares the helpers with these typedefs, which it
 * takes from vmlinux.h (or linux/types.h); the structs it names it
 * declares itself.
 */
static const char *const helper_typedefs[] = {
	"__u8", "__u16", "__u32", "__u64", "__s8", "__s16", "__s32", "__s64",
	"__be16", "__be32", "__wsum",
};

/*
 * libbpf macros (a prefix of their names) whose expansion reaches into
 * kernel types the C does not spell: the kprobe macros read the registers
 * of struct pt_regs (user_pt_regs on arm64 and s390), bpf_for and
 * bpf_repeat keep a struct bpf_iter_num.
 */
static const struct {
	const char *prefix;
	const char *type;
	enum btf_ns ns;
} macro_types[] = {
	{ "PT_REGS_", "pt_regs", BTF_NS_STRUCT },
	{ "PT_REGS_", "user_pt_regs", BTF_NS_STRUCT },
	{ "PT_REGS_", "user_pt_regs", BTF_NS_ORDINARY },
	{ "BPF_K", "pt_regs", BTF_NS_STRUCT },      /* BPF_KPROBE, BPF_KRETPROBE, BPF_KSYSCALL */
	{ "BPF_K", "user_pt_regs", BTF_NS_STRUCT },
	{ "BPF_K", "user_pt_regs", BTF_NS_ORDINARY },
	{ "BPF_U", "pt_regs", BTF_NS_STRUCT },      /* BPF_UPROBE, BPF_URETPROBE, BPF_USDT */
	{ "BPF_U", "user_pt_regs", BTF_NS_STRUCT },
	{ "BPF_U", "user_pt_regs", BTF_NS_ORDINARY },
	{ "bpf_for", "bpf_iter_num", BTF_NS_STRUCT },
	{ "bpf_repeat", "bpf_iter_num", BTF_NS_STRUCT },
};

static void add_macro_types(struct roots *r, const char *word, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(macro_types); i++) {
		size_t n = strlen(macro_types[i].prefix);

		if (len >= n && !memcmp(word, macro_types[i].prefix, n))
			add_name(r, macro_types[i].type, strlen(macro_types[i].type),
				 macro_types[i].ns);
	}
}

static void add_helper_types(struct roots *r)
{
	for (size_t i = 0; i < ARRAY_SIZE(helper_typedefs); i++)
		add_name(r, helper_typedefs[i], strlen(helper_typedefs[i]), BTF_NS_ORDINARY);
}

/* ---- the names the C spells ---- */

/* What the token before an identifier makes of it. */
enum prev {
	PREV_OTHER,
	PREV_MEMBER,   /* after . or ->: a member, no kernel name */
	PREV_STRUCT,
	PREV_UNION,
	PREV_ENUM,
};

static bool is_word_start(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool is_word_char(char c)
{
	return is_word_start(c) || (c >= '0' && c <= '9');
}

/* The end of the comment, literal or preprocessing number at s[i], or i when there is none. */
static size_t skip_nonword(const char *s, size_t n, size_t i)
{
	char q = s[i];

	if (q == '/' && i + 1 < n && s[i + 1] == '/') {
		while (i < n && s[i] != '\n')
			i++;
	} else if (q == '/' && i + 1 < n && s[i + 1] == '*') {
		for (i += 2; i < n && !(s[i] == '*' && i + 1 < n && s[i + 1] == '/'); i++)
			;
		i = i < n ? i + 2 : n;
	} else if (q == '"' || q == '\'') {
		for (i++; i < n && s[i] != q; i++)
			if (s[i] == '\\')
				i++;
		i = i < n ? i + 1 : n;
	} else if (q >= '0' && q <= '9') {
		/* 0x1fULL: no identifier inside. */
		while (i < n && (is_word_char(s[i]) || s[i] == '.'))
			i++;
	}
	return i;
}

/*
 * An identifier: a tag after struct/union/enum, else a typedef or
 * enumerator.  btf_dump defines an anonymous enum another type holds only
 * inside that type, so its enumerators alone would dump nothing; the C
 * spells none (a kernel enumerator a program uses is written as its
 * number, the .kh headers' come from named enums, and those ksc writes,
 * BPF_ANY and the map flags, are in enums nothing holds).
 */
static enum prev scan_word(struct roots *r, const char *w, size_t len, enum prev prev)
{
	static const char *const tags[] = { "struct", "union", "enum" };
	static const enum btf_ns tag_ns[] = { BTF_NS_STRUCT, BTF_NS_UNION, BTF_NS_ENUM };

	if (prev == PREV_MEMBER)
		return PREV_OTHER;
	for (size_t i = 0; i < ARRAY_SIZE(tags); i++)
		if (len == strlen(tags[i]) && !memcmp(w, tags[i], len))
			return (enum prev)(PREV_STRUCT + i);
	if (prev >= PREV_STRUCT)
		add_name(r, w, len, tag_ns[prev - PREV_STRUCT]);
	else
		add_name(r, w, len, BTF_NS_ORDINARY);
	add_macro_types(r, w, len);
	return PREV_OTHER;
}

/*
 * Every kernel name the C text spells.  Comments, strings and #include
 * lines name nothing; other directives (#define bodies) are scanned as
 * code, since they expand into it.
 */
static void scan_c(struct roots *r, const char *s, size_t n)
{
	enum prev prev = PREV_OTHER;
	bool bol = true;

	for (size_t i = 0, j; i < n; i = j) {
		j = i + 1;
		if (s[i] == '\n' || s[i] == ' ' || s[i] == '\t') {
			bol |= s[i] == '\n';
			continue;
		}
		if (bol && s[i] == '#' && i + 8 <= n && !memcmp(s + i + 1, "include", 7)) {
			while (j < n && s[j] != '\n')
				j++;
			continue;
		}
		bol = false;
		if ((j = skip_nonword(s, n, i)) != i) {
			prev = PREV_OTHER;
		} else if (is_word_start(s[i])) {
			for (j = i + 1; j < n && is_word_char(s[j]); j++)
				;
			prev = scan_word(r, s + i, j - i, prev);
		} else {
			j = i + (s[i] == '-' && i + 1 < n && s[i + 1] == '>' ? 2 : 1);
			prev = s[i] == '.' || j == i + 2 ? PREV_MEMBER : PREV_OTHER;
		}
	}
}

/* ---- the types the eBPF code's expressions have ---- */

/* A kernel struct, union or enum t is, points to or holds an array of. */
static void note_type(struct roots *r, struct type *t)
{
	for (int guard = 0; (t = type_unalias(t)) && guard < 64; guard++) {
		if (t->kind != TY_PTR && t->kind != TY_ARRAY)
			break;
		t = t->base;
	}
	/* A written type stays TY_NAMED, bound to its declaration. */
	if (!t || (t->kind != TY_STRUCT && t->kind != TY_ENUM && t->kind != TY_NAMED) ||
	    !t->decl || !(t->decl->from_btf || t->decl->from_header))
		return;
	if (t->decl->kind == D_STRUCT)
		add_root(r, btf_types_named(r->kernel, t->decl->name,
					     t->decl->is_union ? BTF_NS_UNION : BTF_NS_STRUCT));
	else if (t->decl->kind == D_ENUM)
		add_root(r, btf_types_named(r->kernel, t->decl->name, BTF_NS_ENUM));
}

static void walk_stmts(struct roots *r, struct stmt *s);

static void walk_expr(struct roots *r, struct expr *e)
{
	for (; e; e = e->next) {
		note_type(r, e->type);
		note_type(r, e->ty);
		for (struct field_init *f = e->fields; f; f = f->next)
			walk_expr(r, f->value);
		for (struct match_arm *m = e->arms; m; m = m->next) {
			walk_expr(r, m->value);
			walk_stmts(r, m->body);
		}
		walk_expr(r, e->lhs);
		walk_expr(r, e->rhs);
		walk_expr(r, e->args);
	}
}

static void walk_stmts(struct roots *r, struct stmt *s)
{
	for (; s; s = s->next) {
		note_type(r, s->ty);
		note_type(r, s->var_type);
		walk_expr(r, s->value);
		walk_expr(r, s->lhs);
		walk_expr(r, s->key);
		walk_stmts(r, s->then);
		walk_stmts(r, s->els);
		walk_stmts(r, s->body);
		for (struct catch_clause *c = s->catches; c; c = c->next)
			walk_stmts(r, c->body);
	}
}

static void walk_func(struct roots *r, struct decl *f)
{
	for (struct param *p = f->params; p; p = p->next)
		note_type(r, p->ty);
	note_type(r, f->ret);
	walk_stmts(r, f->body);
}

/* The functions, struct_ops methods and globals that go into NAME.ebpf.c. */
static void walk_program(struct roots *r, struct program *prog)
{
	for (struct decl *d = prog->decls; decl_visit(d); d = d->next) {
		if (d->kind == D_FUNC && d->target == TARGET_EBPF)
			walk_func(r, d);
		else if (d->kind == D_IMPL && d->target != TARGET_KMOD)
			for (struct decl *m = d->methods; m; m = m->next)
				walk_func(r, m);
		else if (d->kind == D_GLOBAL && d->target == TARGET_EBPF)
			walk_expr(r, d->init);
	}
}

static int cmp_id(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;

	return x < y ? -1 : x > y;
}

/* The roots, in id order and each once: the same program gives the same file. */
static void find_roots(struct roots *r, struct program *prog, const char *c, size_t len)
{
	size_t n = 0;

	add_helper_types(r);
	scan_c(r, c, len);
	walk_program(r, prog);
	if (!r->n)
		return;
	qsort(r->v, r->n, sizeof(*r->v), cmp_id);
	for (size_t i = 0; i < r->n; i++)
		if (!n || r->v[i] != r->v[n - 1])
			r->v[n++] = r->v[i];
	r->n = n;
}

/* ---- what btf_dump emits ---- */

/*
 * Whether composite t has a member without a name whose type has one
 * (`struct freelist_counters;`, a typedef'd struct): C11 allows only
 * unnamed struct/union types there, so clang needs -fms-extensions, as the
 * kernel itself does since 7.0.
 */
static bool has_anon_tag(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);

	for (__u16 i = 0; i < btf_vlen(t); i++, m++) {
		const struct btf_type *mt = btf__type_by_id(btf, m->type);

		while (mt && (btf_is_const(mt) || btf_is_volatile(mt)))
			mt = btf__type_by_id(btf, mt->type);
		if (!m->name_off && mt && mt->name_off && (btf_is_composite(mt) || btf_is_typedef(mt)))
			return true;
	}
	return false;
}

/* A type to visit, and whether through a pointer (a named struct then is only declared). */
struct visit {
	__u32 id;
	bool through_ptr;
};

/* What the dump of the roots defines, found as btf_dump_order_type() orders it. */
struct walk {
	const struct btf *btf;
	struct visit *stack;
	size_t n, cap;
	unsigned char *seen;   /* 1 reached through a pointer, 2 reached as a definition */
	bool records;          /* some struct or union is defined */
	bool anon_tags;        /* ... and one has an anonymous tagged member */
};

static void push(struct walk *w, __u32 id, bool through_ptr)
{
	if (!id || (w->seen[id] & (through_ptr ? 3 : 2)))
		return;
	w->seen[id] |= through_ptr ? 1 : 2;
	if (w->n == w->cap) {
		w->cap = w->cap ? w->cap * 2 : 256;
		w->stack = xrealloc(w->stack, w->cap * sizeof(*w->stack));
	}
	w->stack[w->n++] = (struct visit){ id, through_ptr };
}

static void visit_record(struct walk *w, const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);

	for (__u16 i = 0; i < btf_vlen(t); i++)
		push(w, m[i].type, false);
	w->records = true;
	w->anon_tags |= has_anon_tag(w->btf, t);
}

/*
 * One type's edges as btf_dump follows them: a named struct or union
 * reached through a pointer is forward-declared, not defined; everything
 * else is defined with what it needs.
 */
static void visit(struct walk *w, struct visit v)
{
	const struct btf_type *t = btf__type_by_id(w->btf, v.id);
	const struct btf_param *p;

	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
		push(w, t->type, true);
		break;
	case BTF_KIND_ARRAY:
		push(w, btf_array(t)->type, false);
		break;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		if (!v.through_ptr || !t->name_off)
			visit_record(w, t);
		break;
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_CONST:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		push(w, t->type, v.through_ptr);
		break;
	case BTF_KIND_FUNC_PROTO:
		push(w, t->type, v.through_ptr);
		p = btf_params(t);
		for (__u16 i = 0; i < btf_vlen(t); i++)
			push(w, p[i].type, v.through_ptr);
		break;
	default:
		break;
	}
}

/* Walks what the dump of r defines, into w's records and anon_tags. */
static void walk_dump(struct walk *w, const struct roots *r)
{
	w->seen = xcalloc(btf__type_cnt(w->btf), 1);
	for (size_t i = 0; i < r->n; i++)
		push(w, r->v[i], false);
	while (w->n)
		visit(w, w->stack[--w->n]);
	free(w->stack);
	free(w->seen);
}

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	sb_vprintf(ctx, fmt, args);
}

/* Says, where a hand-written build would fail obscurely, which flag this BTF needs. */
static const char anon_tags_guard[] =
	"/*\n"
	" * This kernel's types have anonymous members of tagged struct types, as\n"
	" * Linux 7.0+ is built with -fms-extensions: so must this file be.\n"
	" */\n"
	"#if !__has_builtin(__noop)\n"
	"#error \"compile with clang -fms-extensions -Wno-microsoft-anon-tag: this kernel's types need them\"\n"
	"#endif\n\n";

/* The roots and what they need, each once, in C order. */
static int dump_roots(const struct btf *btf, const struct roots *r, struct strbuf *sb)
{
	struct btf_dump *d = btf_dump__new(btf, dump_printf, sb, NULL);
	int err = 0;

	if (!d) {
		err = -errno;
		p_err("cannot dump kernel BTF: %s", strerror(-err));
		return err;
	}
	for (size_t i = 0; i < r->n && !err; i++)
		err = btf_dump__dump_type(d, r->v[i]);
	btf_dump__free(d);
	if (err)
		p_err("cannot dump kernel BTF: %s", strerror(-err));
	return err;
}

int eb_write_vmlinux_h(struct program *prog, const char *c, size_t len, const char *path)
{
	const struct btf *btf = btf_types_kernel(prog->kernel);
	struct walk w = { .btf = btf };
	struct roots r = { .kernel = prog->kernel };
	struct strbuf sb;
	int err;

	if (!btf)
		return -EINVAL;
	find_roots(&r, prog, c, len);
	walk_dump(&w, &r);
	prog->btf_anon_tags = w.anon_tags;
	sb_init(&sb);
	sb_printf(&sb, "/* Generated by ksc from the kernel BTF %s. */\n", btf_types_path(prog->kernel));
	sb_printf(&sb, "/* Only the kernel types %s.ebpf.c uses, with what they need. */\n",
		  prog->base);
	sb_puts(&sb, "#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n");
	if (prog->btf_anon_tags)
		sb_puts(&sb, anon_tags_guard);
	/* CO-RE relocates every access to a kernel record; clang warns of a region without one. */
	if (w.records)
		sb_puts(&sb, "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
			     "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
			     "#endif\n\n");
	err = dump_roots(btf, &r, &sb);
	if (w.records)
		sb_puts(&sb, "\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n");
	sb_puts(&sb, "\n#endif /* __VMLINUX_H__ */\n");
	if (!err)
		err = write_file_reported(path, sb.buf, sb.len);
	sb_free(&sb);
	free(r.v);
	return err;
}
