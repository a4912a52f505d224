/* Bump allocator: tokens, the AST and interned strings live here, freed once. */
#ifndef KSC_ARENA_H
#define KSC_ARENA_H

#include <stddef.h>

struct arena_block;

struct arena {
	struct arena_block *head;
};

void *arena_alloc(struct arena *a, size_t size); /* zeroed */
char *arena_strndup(struct arena *a, const char *s, size_t n);
char *arena_strdup(struct arena *a, const char *s);
char *arena_printf(struct arena *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void arena_free(struct arena *a);

/* Growable array of pointers kept in the arena (old storage is abandoned). */
struct ptrvec {
	void **v;
	int n, cap;
};
void ptrvec_push(struct arena *a, struct ptrvec *pv, void *p);

#endif
