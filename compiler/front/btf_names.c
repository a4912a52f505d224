/*
 * The kernel BTF's names, indexed once (btf_types.h): what names.c asks
 * before it lets a .ks name into generated C, where vmlinux.h finds the
 * types NAME.ebpf.c spells, and the type and enumerator lookups of
 * btf_types.c.  All ask per name, and the BTF has some 100000 of them, so
 * none may walk it per question (libbpf's btf__find_by_name_kind does).
 *
 * The index is a counting sort of the names by hash, built in two passes
 * over the types, and is small (some 9 bytes a name, buckets included), since
 * every compile pays for it and fresh pages are what costs most: a name's
 * hash picks a bucket, a bucket holds type ids in id order (the sort is
 * stable), and a question compares the few names of its bucket.
 */
#include "btf_types.h"

#include <bpf/btf.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "util.h"

/* A name: type id's own (sub 0), or its enumerator sub - 1's. */
struct entry {
	__u32 id;
	__u32 sub;
};

struct btf_index {
	const struct btf *btf;
	__u32 *start;      /* bucket b's entries: entry[start[b]] to entry[start[b + 1]] */
	struct entry *entry;
	unsigned shift;    /* a hash's bucket is hash >> shift */
};

static __u32 hash_name(const char *s)
{
	__u32 h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

/* Whether kind's own name is indexed: tags, typedefs, functions (what the lookups ask for). */
static bool named_kind(__u32 kind)
{
	switch (kind) {
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
	case BTF_KIND_FWD:
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
	case BTF_KIND_TYPEDEF:
	case BTF_KIND_FUNC:
		return true;
	default:
		return false;
	}
}

static const char *enumerator_name(const struct btf *btf, const struct btf_type *t, unsigned i)
{
	return btf__name_by_offset(btf, btf_is_enum(t) ? btf_enum(t)[i].name_off
						       : btf_enum64(t)[i].name_off);
}

/*
 * Every indexed name of the BTF, each type's enumerators before its own
 * name, handed to f in id order.  Walked twice (to count, then to place)
 * rather than kept: hashing a name again costs less than the pages a
 * list of 100000 would take.
 */
static void each_name(const struct btf *btf,
		      void (*f)(struct btf_index *, const char *, struct entry), struct btf_index *ix)
{
	__u32 n = btf__type_cnt(btf);

	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_any_enum(t))
			for (unsigned i = 0; i < btf_vlen(t); i++)
				f(ix, enumerator_name(btf, t, i), (struct entry){ id, i + 1 });
		if (named_kind(btf_kind(t)))
			f(ix, btf__name_by_offset(btf, t->name_off), (struct entry){ id, 0 });
	}
}

/* Counts name in its bucket (start[b + 1], as the prefix sums will want it). */
static void count_name(struct btf_index *ix, const char *name, struct entry e)
{
	if (name && *name)
		ix->start[(hash_name(name) >> ix->shift) + 1]++;
}

/* Puts entry in its bucket, start[b] serving as the bucket's cursor. */
static void place_name(struct btf_index *ix, const char *name, struct entry e)
{
	if (!name || !*name)
		return;
	ix->entry[ix->start[hash_name(name) >> ix->shift]++] = e;
	ksc_stats.btf_names_hashed++;
}

/* How many names the BTF has, about: its types and enumerators, for the table's size. */
static size_t names_about(const struct btf *btf)
{
	__u32 n = btf__type_cnt(btf);
	size_t r = n;

	for (__u32 id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (btf_is_any_enum(t))
			r += btf_vlen(t);
	}
	return r;
}

/*
 * ix's buckets, in id order within each (a stable counting sort), some four
 * names a bucket: a question compares that many names, which is nothing.
 */
static void bucket(struct btf_index *ix)
{
	size_t want = names_about(ix->btf) / 4, nb, total;
	unsigned bits = 8;

	while (bits < 30 && ((size_t)1 << bits) < want)
		bits++;
	nb = (size_t)1 << bits;
	ix->shift = 32 - bits;
	ix->start = xcalloc(nb + 1, sizeof(*ix->start));
	each_name(ix->btf, count_name, ix);
	for (size_t b = 0; b < nb; b++)
		ix->start[b + 1] += ix->start[b];
	total = ix->start[nb];
	ix->entry = xmalloc((total ? total : 1) * sizeof(*ix->entry));
	each_name(ix->btf, place_name, ix);
	/* Each cursor ended at the next bucket's start: shifted back by one, they are the starts. */
	memmove(ix->start + 1, ix->start, nb * sizeof(*ix->start));
	ix->start[0] = 0;
}

/* k's BTF names, indexed on first use; NULL when k has no BTF. */
static struct btf_index *index_btf(struct kernel *k)
{
	struct btf_index *ix;

	if (k->names)
		return k->names;
	if (!btf_available(k))
		return NULL;
	ix = k->names = xcalloc(1, sizeof(*ix));
	ix->btf = btf_types_kernel(k);
	bucket(ix);
	return ix;
}

void btf_names_free(struct btf_index *ix)
{
	if (ix) {
		free(ix->start);
		free(ix->entry);
	}
	free(ix);
}

/* The entries that may hold name, in id order: *n of them. */
static const struct entry *candidates(const struct btf_index *ix, const char *name, size_t *n)
{
	__u32 b = hash_name(name) >> ix->shift;

	*n = ix->start[b + 1] - ix->start[b];
	return ix->entry + ix->start[b];
}

/* Whether entry e's name is name. */
static bool entry_is(const struct btf_index *ix, struct entry e, const char *name)
{
	const struct btf_type *t = btf__type_by_id(ix->btf, e.id);

	ksc_stats.btf_name_compares++;
	return !strcmp(e.sub ? enumerator_name(ix->btf, t, e.sub - 1)
			     : btf__name_by_offset(ix->btf, t->name_off), name);
}

/* The namespace of entry e's name. */
static enum btf_ns entry_ns(const struct btf *btf, struct entry e)
{
	const struct btf_type *t = btf__type_by_id(btf, e.id);

	if (e.sub)
		return BTF_NS_ORDINARY;
	switch (btf_kind(t)) {
	case BTF_KIND_STRUCT:
		return BTF_NS_STRUCT;
	case BTF_KIND_UNION:
		return BTF_NS_UNION;
	case BTF_KIND_FWD:
		return btf_kflag(t) ? BTF_NS_UNION : BTF_NS_STRUCT;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return BTF_NS_ENUM;
	case BTF_KIND_FUNC:
		return BTF_NS_FUNC;
	default:
		return BTF_NS_ORDINARY;
	}
}

/* A forward declaration (FWD, or an enum without enumerators): a definition wins over it. */
static bool decl_only(const struct btf *btf, __u32 id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	return btf_is_fwd(t) || (btf_is_any_enum(t) && !btf_vlen(t));
}

__u32 btf_types_named(struct kernel *k, const char *name, enum btf_ns ns)
{
	struct btf_index *ix = index_btf(k);
	const struct entry *e;
	__u32 best = 0;
	size_t n;

	if (!ix || !*name)
		return 0;
	e = candidates(ix, name, &n);
	/* The first by id, unless a declaration and a definition follows. */
	for (size_t i = 0; i < n; i++) {
		__u32 id = e[i].id;

		if (entry_ns(ix->btf, e[i]) != ns || !entry_is(ix, e[i], name))
			continue;
		if (!best || (decl_only(ix->btf, best) && !decl_only(ix->btf, id)))
			best = id;
		if (!decl_only(ix->btf, best))
			break;
	}
	return best;
}

unsigned btf_types_name_ns(struct kernel *k, const char *name)
{
	struct btf_index *ix = index_btf(k);
	const struct entry *e;
	unsigned r = 0;
	size_t n;

	if (!ix || !*name)
		return 0;
	e = candidates(ix, name, &n);
	for (size_t i = 0; i < n; i++)
		if (!(r & 1u << entry_ns(ix->btf, e[i])) && entry_is(ix, e[i], name))
			r |= 1u << entry_ns(ix->btf, e[i]);
	return r;
}

int btf_types_find(struct kernel *k, const char *name, __u32 kind)
{
	struct btf_index *ix = index_btf(k);
	const struct entry *e;
	size_t n;

	if (!ix)
		return -1;
	/* libbpf's answers for the names the index leaves out. */
	if (!*name || !strcmp(name, "void") || !named_kind(kind))
		return btf__find_by_name_kind(ix->btf, name, kind);
	e = candidates(ix, name, &n);
	for (size_t i = 0; i < n; i++)
		if (!e[i].sub && btf_kind(btf__type_by_id(ix->btf, e[i].id)) == kind &&
		    entry_is(ix, e[i], name))
			return (int)e[i].id;
	return -1;
}

__u32 btf_types_enum_const(struct kernel *k, const char *name, unsigned *index)
{
	struct btf_index *ix = index_btf(k);
	const struct entry *e;
	size_t n;

	if (!ix || !*name)
		return 0;
	e = candidates(ix, name, &n);
	/* In id order, and one enum's enumerators in theirs: the first found is the first. */
	for (size_t i = 0; i < n; i++) {
		const struct btf_type *t = btf__type_by_id(ix->btf, e[i].id);

		if (e[i].sub && btf_is_enum(t) && t->name_off && entry_is(ix, e[i], name)) {
			*index = e[i].sub - 1;
			return e[i].id;
		}
	}
	return 0;
}
