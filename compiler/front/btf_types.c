#include "btf_types.h"

#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kfunc_btf.h"
#include "util.h"

/*
 * The kernel's BTF as one kernel object holds it: loaded on first use, and
 * the declarations made from it so far, by type id, so each type is built
 * once (they live in the arena of the program that asked for them).
 */
struct kernel_btf {
	struct btf *btf;
	int load_err;              /* why btf is NULL */
	bool load_reported;        /* ... and whether that was said */
	struct decl **made;
	unsigned nmade;
};

/* Types are made in a program's arena from one kernel's BTF. */
struct maker {
	struct kernel_btf *kb;
	const struct btf *btf;
	struct arena *a;
};

const char *btf_types_path(const struct kernel *k)
{
	return k->btf_path ? k->btf_path : "/sys/kernel/btf/vmlinux";
}

void btf_types_forget(struct kernel *k)
{
	if (k->btf && k->btf->made)
		memset(k->btf->made, 0, k->btf->nmade * sizeof(*k->btf->made));
}

void kernel_free(struct kernel *k)
{
	if (k->btf) {
		btf__free(k->btf->btf);
		free(k->btf->made);
		free(k->btf);
	}
	btf_names_free(k->names);
	free(k->symvers);
	free(k->symvers_what);
	*k = (struct kernel){ .btf_path = k->btf_path };
}

/*
 * Raw BTF (what /sys/kernel/btf/vmlinux holds) from a mapping of the file,
 * or NULL to leave the file to btf__parse.  btf__parse would read the 5 MB
 * into a buffer of its own and then copy it: with the file mapped (sysfs
 * maps the kernel's own bytes, 6.16+) only the copy btf__new keeps touches
 * new pages, and page faults are most of what loading costs.
 */
static struct btf *parse_raw_mapped(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct btf *btf = NULL;
	struct stat st;
	void *m;

	if (fd < 0)
		return NULL;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size < (off_t)sizeof(struct btf_header) ||
	    (unsigned long long)st.st_size > UINT32_MAX ||
	    (m = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0)) ==
		    MAP_FAILED) {
		close(fd);
		return NULL;
	}
	/* Anything but raw BTF of either byte order (ELF, say) is btf__parse's, errors and all. */
	if (((const struct btf_header *)m)->magic == BTF_MAGIC ||
	    ((const struct btf_header *)m)->magic == __builtin_bswap16(BTF_MAGIC))
		btf = btf__new(m, (__u32)st.st_size);
	munmap(m, (size_t)st.st_size);
	close(fd);
	return btf;
}

static struct btf *parse_btf(const char *path)
{
	struct btf *btf = parse_raw_mapped(path);

	return btf ? btf : btf__parse(path, NULL);
}

/* The loaded BTF, loading it on first use; NULL when it cannot be. */
static struct kernel_btf *kernel_btf(struct kernel *k)
{
	struct kernel_btf *kb = k->btf;

	if (!kb) {
		kb = k->btf = xcalloc(1, sizeof(*kb));
		/* libbpf 1.1.2 crashes on an ELF .BTF of type NOBITS: refused first (and said). */
		kb->load_err = kfunc_btf_elf_check(btf_types_path(k));
		kb->load_reported = kb->load_err != 0;
		kb->btf = kb->load_err ? NULL : parse_btf(btf_types_path(k));
		if (!kb->btf) {
			kb->load_err = kb->load_err ? kb->load_err : -errno;
		} else {
			kb->nmade = btf__type_cnt(kb->btf);
			kb->made = xcalloc(kb->nmade, sizeof(*kb->made));
		}
	}
	return kb->btf ? kb : NULL;
}

bool btf_available(struct kernel *k)
{
	return kernel_btf(k) != NULL;
}

const struct btf *btf_types_kernel(struct kernel *k)
{
	struct kernel_btf *kb = kernel_btf(k);

	if (kb)
		return kb->btf;
	kb = k->btf;
	if (!kb->load_reported)
		p_err("cannot read kernel BTF '%s': %s (use --btf FILE)", btf_types_path(k),
		      strerror(-kb->load_err));
	kb->load_reported = true;
	return NULL;
}

/* A maker for types in a, or false when the kernel has no BTF. */
static bool maker(struct maker *m, struct kernel *k, struct arena *a)
{
	m->kb = kernel_btf(k);
	m->btf = m->kb ? m->kb->btf : NULL;
	m->a = a;
	return m->kb != NULL;
}

static struct decl *make_decl(struct maker *m, __u32 id);

/* Skips modifiers and typedefs that do not name a struct. */
static __u32 skip_mods(const struct btf *btf, __u32 id)
{
	const struct btf_type *t;

	for (int guard = 0; guard < 32; guard++) {
		t = btf__type_by_id(btf, id);
		if (!t)
			return 0;
		switch (btf_kind(t)) {
		case BTF_KIND_VOLATILE:
		case BTF_KIND_CONST:
		case BTF_KIND_RESTRICT:
		case BTF_KIND_TYPE_TAG:
		case BTF_KIND_TYPEDEF:
			id = t->type;
			break;
		default:
			return id;
		}
	}
	return id;
}

/* KernelScript type of a BTF type; NULL when KernelScript cannot express it. */
static struct type *conv(struct maker *m, __u32 id, int depth)
{
	const struct btf_type *t;
	struct type *ty;

	id = skip_mods(m->btf, id);
	if (!id)
		return type_new(m->a, TY_VOID);
	t = btf__type_by_id(m->btf, id);
	if (!t || depth > 8)
		return NULL;
	switch (btf_kind(t)) {
	case BTF_KIND_INT: {
		__u32 enc = btf_int_encoding(t);

		if (enc & BTF_INT_BOOL)
			return type_new(m->a, TY_BOOL);
		if (t->size > 8)
			return NULL;
		return type_int(m->a, (int)t->size, enc & BTF_INT_SIGNED);
	}
	case BTF_KIND_PTR: {
		__u32 tid = skip_mods(m->btf, t->type);
		const struct btf_type *pt = btf__type_by_id(m->btf, tid);
		struct type *base;

		/* Function pointers and other inexpressible targets read as *void. */
		base = pt && (btf_is_func_proto(pt)) ? NULL : conv(m, t->type, depth + 1);
		return type_ptr(m->a, base ? base : type_new(m->a, TY_VOID));
	}
	case BTF_KIND_ARRAY: {
		const struct btf_array *arr = btf_array(t);
		struct type *elem;

		if (!arr->nelems)
			return NULL;
		elem = conv(m, arr->type, depth + 1);
		if (!elem)
			return NULL;
		ty = type_new(m->a, TY_ARRAY);
		ty->base = elem;
		ty->count = arr->nelems;
		return ty;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64: {
		struct decl *d = make_decl(m, id);

		if (!d) {
			/* An anonymous enum is just its integer. */
			if (btf_is_any_enum(t))
				return type_int(m->a, (int)t->size, false);
			return NULL;
		}
		ty = type_new(m->a, d->kind == D_ENUM ? TY_ENUM : TY_STRUCT);
		ty->decl = d;
		ty->name = d->name;
		return ty;
	}
	default:
		return NULL;
	}
}

static void add_members(struct maker *mk, struct decl *d, struct struct_field ***tail,
			__u32 id, int depth)
{
	const struct btf_type *t = btf__type_by_id(mk->btf, id);
	const struct btf_member *m = btf_members(t);

	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		const char *name = btf__name_by_offset(mk->btf, m->name_off);
		struct struct_field *f;
		struct type *ft;

		if (!name || !*name) {
			/* Members of anonymous structs and unions read as the parent's. */
			__u32 mid = skip_mods(mk->btf, m->type);
			const struct btf_type *mt = btf__type_by_id(mk->btf, mid);

			if (mt && btf_is_composite(mt) && depth < 8)
				add_members(mk, d, tail, mid, depth + 1);
			continue;
		}
		ft = conv(mk, m->type, 0);
		if (!ft)
			continue;
		f = arena_alloc(mk->a, sizeof(*f));
		f->name = arena_strdup(mk->a, name);
		f->ty = ft;
		**tail = f;
		*tail = &f->next;
	}
}

static struct decl *make_decl(struct maker *m, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(m->btf, id);
	const char *name;
	struct decl *d;

	if (id < m->kb->nmade && m->kb->made[id])
		return m->kb->made[id];
	name = btf__name_by_offset(m->btf, t->name_off);
	if (!name || !*name)
		return NULL;
	d = arena_alloc(m->a, sizeof(*d));
	d->name = arena_strdup(m->a, name);
	d->from_header = true;
	d->from_btf = true;
	m->kb->made[id] = d;
	if (btf_is_composite(t)) {
		struct struct_field *head = NULL, **tail = &head;

		d->kind = D_STRUCT;
		d->is_union = btf_is_union(t);
		add_members(m, d, &tail, id, 0);
		d->fields = head;
	} else {
		struct enum_const *head = NULL, **tail = &head;
		unsigned n = btf_vlen(t);

		d->kind = D_ENUM;
		for (unsigned i = 0; i < n; i++) {
			struct enum_const *ec = arena_alloc(m->a, sizeof(*ec));

			if (btf_is_enum(t)) {
				const struct btf_enum *e = btf_enum(t) + i;

				ec->name = arena_strdup(m->a, btf__name_by_offset(m->btf, e->name_off));
				ec->value = btf_kflag(t) ? (long long)e->val : (long long)(__u32)e->val;
			} else {
				const struct btf_enum64 *e = btf_enum64(t) + i;

				ec->name = arena_strdup(m->a, btf__name_by_offset(m->btf, e->name_off));
				ec->value = (long long)btf_enum64_value(e);
			}
			ec->has_value = true;
			*tail = ec;
			tail = &ec->next;
		}
		d->consts = head;
	}
	return d;
}

struct decl *btf_find_type(struct kernel *k, struct arena *a, const char *name)
{
	static const __u32 kinds[] = { BTF_KIND_STRUCT, BTF_KIND_UNION, BTF_KIND_ENUM,
				       BTF_KIND_ENUM64, BTF_KIND_TYPEDEF };
	struct maker m;
	int id = -1;

	if (!maker(&m, k, a))
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(kinds) && id < 0; i++)
		id = btf_types_find(k, name, kinds[i]);
	if (id <= 0)
		return NULL;
	id = (int)skip_mods(m.btf, (__u32)id);
	if (!id || (!btf_is_composite(btf__type_by_id(m.btf, (__u32)id)) &&
		    !btf_is_any_enum(btf__type_by_id(m.btf, (__u32)id))))
		return NULL;
	return make_decl(&m, (__u32)id);
}

struct decl *btf_find_enum_const(struct kernel *k, struct arena *a, const char *name,
				 long long *value)
{
	struct maker m;
	const struct btf_enum *e;
	unsigned i;
	__u32 id;

	if (!maker(&m, k, a) || !(id = btf_types_enum_const(k, name, &i)))
		return NULL;
	e = btf_enum(btf__type_by_id(m.btf, id)) + i;
	*value = btf_kflag(btf__type_by_id(m.btf, id)) ? (long long)e->val : (long long)(__u32)e->val;
	return make_decl(&m, id);
}

/*
 * The FUNC_PROTO behind function-pointer member `member` of struct
 * `kstruct`.  *why, when given, says what is missing: 1 no BTF or no such
 * struct, 2 no such member, 3 a member that is no function pointer.
 */
static const struct btf_type *member_proto(struct kernel *k, const char *kstruct,
					   const char *member, int *why)
{
	struct kernel_btf *kb = kernel_btf(k);
	const struct btf *btf = kb ? kb->btf : NULL;
	const struct btf_type *t, *pt;
	const struct btf_member *m;
	int id, dummy;

	if (!why)
		why = &dummy;
	*why = 1;
	if (!btf)
		return NULL;
	id = btf_types_find(k, kstruct, BTF_KIND_STRUCT);
	if (id <= 0)
		return NULL;
	t = btf__type_by_id(btf, (__u32)id);
	m = btf_members(t);
	*why = 2;
	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		if (strcmp(btf__name_by_offset(btf, m->name_off), member))
			continue;
		*why = 3;
		pt = btf__type_by_id(btf, skip_mods(btf, m->type));
		if (!pt || !btf_is_ptr(pt))
			return NULL;
		pt = btf__type_by_id(btf, skip_mods(btf, pt->type));
		if (!pt || !btf_is_func_proto(pt))
			return NULL;
		*why = 0;
		return pt;
	}
	return NULL;
}

struct type *btf_member_proto(struct kernel *k, struct arena *a, const char *kstruct,
			      const char *member, int *why)
{
	struct maker m;
	const struct btf_type *pt;
	const struct btf_param *pp;
	struct type *fn;

	maker(&m, k, a);
	pt = member_proto(k, kstruct, member, why);
	if (!pt)
		return NULL;
	fn = type_new(a, TY_FUNC);
	fn->nparams = (int)btf_vlen(pt);
	fn->params = arena_alloc(a, sizeof(*fn->params) * (size_t)(fn->nparams + 1));
	pp = btf_params(pt);
	for (int i = 0; i < fn->nparams; i++, pp++) {
		fn->params[i] = conv(&m, pp->type, 0);
		if (!fn->params[i])
			fn->params[i] = type_new(a, TY_ERROR);
	}
	fn->base = conv(&m, pt->type, 0);
	if (!fn->base)
		fn->base = type_new(a, TY_ERROR);
	return fn;
}

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	sb_vprintf(ctx, fmt, args);
}

char *btf_member_param_c(struct kernel *k, const char *kstruct, const char *member, int index,
			 const char *name)
{
	struct kernel_btf *kb = kernel_btf(k);
	const struct btf_type *pt = member_proto(k, kstruct, member, NULL);
	LIBBPF_OPTS(btf_dump_emit_type_decl_opts, opts);
	struct btf_dump *dump;
	struct strbuf sb;
	__u32 id;
	int err;

	if (!pt || index >= (int)btf_vlen(pt))
		return NULL;
	id = index < 0 ? pt->type : btf_params(pt)[index].type;
	if (!id)
		return xstrdup(index < 0 ? "void" : name);
	sb_init(&sb);
	dump = btf_dump__new(kb->btf, dump_printf, &sb, NULL);
	if (!dump) {
		sb_free(&sb);
		return NULL;
	}
	opts.field_name = index < 0 ? "" : name;
	err = btf_dump__emit_type_decl(dump, id, &opts);
	btf_dump__free(dump);
	if (err) {
		sb_free(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

bool btf_has_func(struct kernel *k, const char *name)
{
	struct kernel_btf *kb = kernel_btf(k);

	return kb && btf_types_find(k, name, BTF_KIND_FUNC) > 0;
}
