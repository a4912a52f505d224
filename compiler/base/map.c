/* Open addressing, at most half full, linear probing (map.h). */
#include "map.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

struct strmap_slot {
	const char *key;
	void *val;
};

struct ptrmap_slot {
	const void *key;
	void *val;
};

struct ksc_stats ksc_stats;

#define MAP_MIN 64

static size_t hash_str(const char *s)
{
	size_t h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h;
}

/* Pointers are aligned: fold the high bits in so the low ones vary. */
static size_t hash_ptr(const void *p)
{
	uint64_t x = (uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

static struct strmap_slot *str_find(struct strmap_slot *slot, size_t cap, const char *key)
{
	size_t i = hash_str(key) & (cap - 1);

	while (slot[i].key && strcmp(slot[i].key, key))
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static void str_grow(struct arena *a, struct strmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : MAP_MIN;
	struct strmap_slot *slot = arena_alloc(a, cap * sizeof(*slot));

	for (size_t i = 0; i < m->cap; i++)
		if (m->slot[i].key)
			*str_find(slot, cap, m->slot[i].key) = m->slot[i];
	m->slot = slot;
	m->cap = cap;
}

void strmap_put(struct arena *a, struct strmap *m, const char *key, void *val, bool replace)
{
	struct strmap_slot *s;

	if (2 * (m->n + 1) > m->cap)
		str_grow(a, m);
	s = str_find(m->slot, m->cap, key);
	if (s->key && !replace)
		return;
	if (!s->key)
		m->n++;
	*s = (struct strmap_slot){ key, val };
}

void *strmap_get(const struct strmap *m, const char *key)
{
	return m->cap ? str_find(m->slot, m->cap, key)->val : NULL;
}

bool strmap_has(const struct strmap *m, const char *key)
{
	return m->cap && str_find(m->slot, m->cap, key)->key;
}

static struct ptrmap_slot *ptr_find(struct ptrmap_slot *slot, size_t cap, const void *key)
{
	size_t i = hash_ptr(key) & (cap - 1);

	while (slot[i].key && slot[i].key != key)
		i = (i + 1) & (cap - 1);
	return &slot[i];
}

static void ptr_grow(struct arena *a, struct ptrmap *m)
{
	size_t cap = m->cap ? m->cap * 2 : MAP_MIN;
	struct ptrmap_slot *slot = arena_alloc(a, cap * sizeof(*slot));

	for (size_t i = 0; i < m->cap; i++)
		if (m->slot[i].key)
			*ptr_find(slot, cap, m->slot[i].key) = m->slot[i];
	m->slot = slot;
	m->cap = cap;
}

void ptrmap_put(struct arena *a, struct ptrmap *m, const void *key, void *val)
{
	struct ptrmap_slot *s;

	if (2 * (m->n + 1) > m->cap)
		ptr_grow(a, m);
	s = ptr_find(m->slot, m->cap, key);
	if (!s->key)
		m->n++;
	*s = (struct ptrmap_slot){ key, val };
}

void *ptrmap_get(const struct ptrmap *m, const void *key)
{
	return m->cap ? ptr_find(m->slot, m->cap, key)->val : NULL;
}

bool ptrmap_has(const struct ptrmap *m, const void *key)
{
	return m->cap && ptr_find(m->slot, m->cap, key)->key;
}

void ksc_stats_report(void)
{
	if (!getenv("KSC_STATS"))
		return;
	fprintf(stderr, "ksc-stats: decl-visits %llu vec-scans %llu\n", ksc_stats.decl_visits,
		ksc_stats.vec_scans);
	fprintf(stderr, "ksc-stats: btf-names-hashed %llu btf-name-compares %llu\n",
		ksc_stats.btf_names_hashed, ksc_stats.btf_name_compares);
}
