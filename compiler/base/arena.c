#include "arena.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define ARENA_BLOCK 65536

struct arena_block {
	struct arena_block *next;
	size_t used, size;
	_Alignas(max_align_t) unsigned char data[];
};

void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *b = a->head;
	size_t align = _Alignof(max_align_t);

	size = (size + align - 1) & ~(align - 1);
	if (!b || b->size - b->used < size) {
		size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;

		b = xmalloc(sizeof(*b) + cap);
		b->size = cap;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	void *p = b->data + b->used;

	b->used += size;
	memset(p, 0, size);
	return p;
}

char *arena_strndup(struct arena *a, const char *s, size_t n)
{
	char *p = arena_alloc(a, n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *arena_strdup(struct arena *a, const char *s)
{
	return arena_strndup(a, s, strlen(s));
}

char *arena_printf(struct arena *a, const char *fmt, ...)
{
	va_list ap;
	char *tmp, *p;
	struct strbuf sb;

	sb_init(&sb);
	va_start(ap, fmt);
	sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	tmp = sb_detach(&sb);
	p = arena_strdup(a, tmp);
	free(tmp);
	return p;
}

void arena_free(struct arena *a)
{
	struct arena_block *b = a->head;

	while (b) {
		struct arena_block *next = b->next;

		free(b);
		b = next;
	}
	a->head = NULL;
}

void ptrvec_push(struct arena *a, struct ptrvec *pv, void *p)
{
	if (pv->n == pv->cap) {
		int cap = pv->cap ? pv->cap * 2 : 8;
		void **v = arena_alloc(a, sizeof(void *) * (size_t)cap);

		if (pv->n)
			memcpy(v, pv->v, sizeof(void *) * (size_t)pv->n);
		pv->v = v;
		pv->cap = cap;
	}
	pv->v[pv->n++] = p;
}
