/*
 * The kernel BTF's names, hashed once (btf_types.h): what names.c asks
 * before it lets a .ks name into generated C, and where vmlinux.h finds
 * the types NAME.ebpf.c spells.  Both ask per name, and the BTF has some
 * 100000 of them, so neither may walk it per question.
 */
#include "btf_types.h"

#include <bpf/btf.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/*
 * One (name, namespace) and the type it denotes there.  Open addressing
 * over pointers into the BTF's own strings, at most half full.
 */
struct slot {
	const char *name;
	__u32 id;
	__u32 ns;
};

struct btf_index {
	struct slot *slot;
	size_t cap;
};

static size_t hash_name(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

static struct slot *find_slot(struct btf_index *ix, const char *name, enum btf_ns ns)
{
	size_t i = hash_name(name) & (ix->cap - 1);

	for (; ix->slot[i].name; i = (i + 1) & (ix->cap - 1))
		if (ix->slot[i].ns == ns && !strcmp(ix->slot[i].name, name))
			break;
	return &ix->slot[i];
}

/* A forward declaration (FWD, or an enum without enumerators): a definition wins over it. */
static bool decl_only(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	return btf_is_fwd(t) || (btf_is_any_enum(t) && !btf_vlen(t));
}

/* The first type of a name in ns, by id, but a definition before a declaration. */
static void add(struct btf_index *ix, const struct btf *btf, __u32 name_off, enum btf_ns ns,
		__u32 id)
{
	const char *name = btf__name_by_offset(btf, name_off);
	struct slot *s;

	if (!name || !*name)
		return;
	s = find_slot(ix, name, ns);
	if (s->name && !(decl_only(btf, s->id) && !decl_only(btf, id)))
		return;
	*s = (struct slot){ name, id, ns };
}

/* The names type id gives: its tag or typedef name, its enumerators, a function's name. */
static unsigned add_type(struct btf_index *ix, const struct btf *btf, __u32 id,
			 bool count_only)
{
	const struct btf_type *t = btf__type_by_id(btf, id);
	unsigned n = btf_is_any_enum(t) ? btf_vlen(t) + 1 : 1;
	enum btf_ns ns;

	if (count_only)
		return n;
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		ns = btf_is_union(t) ? BTF_NS_UNION : BTF_NS_STRUCT;
		break;
	case BTF_KIND_FWD:
		ns = btf_kflag(t) ? BTF_NS_UNION : BTF_NS_STRUCT;
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		ns = BTF_NS_ENUM;
		for (unsigned i = 0; i < btf_vlen(t); i++)
			add(ix, btf, btf_is_enum(t) ? btf_enum(t)[i].name_off : btf_enum64(t)[i].name_off,
			    BTF_NS_ORDINARY, id);
		break;
	case BTF_KIND_TYPEDEF:
		ns = BTF_NS_ORDINARY;
		break;
	case BTF_KIND_FUNC:
		ns = BTF_NS_FUNC;
		break;
	default:
		return 0;
	}
	add(ix, btf, t->name_off, ns, id);
	return n;
}

/* k's BTF names, hashed on first use; NULL when k has no BTF. */
static struct btf_index *index_btf(struct kernel *k)
{
	const struct btf *btf;
	struct btf_index *ix;
	size_t names = 0;
	__u32 n;

	if (k->names)
		return k->names;
	if (!btf_available(k) || !(btf = btf_types_kernel(k)))
		return NULL;
	ix = k->names = xcalloc(1, sizeof(*ix));
	n = btf__type_cnt(btf);
	for (__u32 id = 1; id < n; id++)
		names += add_type(ix, btf, id, true);
	for (ix->cap = 1024; ix->cap < names * 2; ix->cap *= 2)
		;
	ix->slot = xcalloc(ix->cap, sizeof(*ix->slot));
	/* In id order, so that of two types of one name the first is kept, as btf__find_by_name_kind finds it. */
	for (__u32 id = 1; id < n; id++)
		add_type(ix, btf, id, false);
	return ix;
}

void btf_names_free(struct btf_index *ix)
{
	if (ix)
		free(ix->slot);
	free(ix);
}

__u32 btf_types_named(struct kernel *k, const char *name, enum btf_ns ns)
{
	struct btf_index *ix = index_btf(k);
	const struct slot *s;

	if (!ix)
		return 0;
	s = find_slot(ix, name, ns);
	return s->name ? s->id : 0;
}

unsigned btf_types_name_ns(struct kernel *k, const char *name)
{
	struct btf_index *ix = index_btf(k);
	unsigned r = 0;

	if (!ix)
		return 0;
	for (size_t i = hash_name(name) & (ix->cap - 1); ix->slot[i].name; i = (i + 1) & (ix->cap - 1))
		if (!strcmp(ix->slot[i].name, name))
			r |= 1u << ix->slot[i].ns;
	return r;
}
