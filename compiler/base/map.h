/*
 * Hash maps for the questions a pass asks per name or per node ("is this
 * name declared?", "which slot is this function's?"): answered in constant
 * time, so that no pass walks the whole program once per declaration.
 * Storage lives in an arena, like struct ptrvec, and is abandoned on growth.
 */
#ifndef KSC_MAP_H
#define KSC_MAP_H

#include <stdbool.h>
#include <stddef.h>

struct arena;

/* Strings (compared by content) to pointers; keys are not copied. */
struct strmap {
	struct strmap_slot *slot;
	size_t cap, n;
};
/* Sets key to val; an existing key keeps its first value unless replace. */
void strmap_put(struct arena *a, struct strmap *m, const char *key, void *val, bool replace);
/* key's value, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
bool strmap_has(const struct strmap *m, const char *key);

/* Pointers (compared by address) to pointers. */
struct ptrmap {
	struct ptrmap_slot *slot;
	size_t cap, n;
};
void ptrmap_put(struct arena *a, struct ptrmap *m, const void *key, void *val);
/* key's value, or NULL (also for a key put with value NULL: use ptrmap_has). */
void *ptrmap_get(const struct ptrmap *m, const void *key);
bool ptrmap_has(const struct ptrmap *m, const void *key);

/*
 * What ksc's passes did, counted for KSC_STATS=1 (printed at exit): the
 * tests pin that each count grows linearly with the program.  decl_visits
 * is every step of every walk of a declaration list (decl_visit, ast.h).
 */
struct ksc_stats {
	unsigned long long decl_visits;
	unsigned long long vec_scans;  /* elements looked at by linear searches of vectors */
	unsigned long long btf_names_hashed;   /* names of the kernel's BTF put in its index */
	unsigned long long btf_name_compares;  /* BTF names compared with one asked for */
};
extern struct ksc_stats ksc_stats;
/* Prints the counts to stderr when KSC_STATS is set in the environment. */
void ksc_stats_report(void);

#endif
