/* Shared between the parts of the userspace backend. */
#ifndef KSC_USERGEN_INTERNAL_H
#define KSC_USERGEN_INTERNAL_H

#include "cgen.h"

/* The skeleton the loader's code reaches the object through. */
#define SKEL "ksc_skel"

/* What userspace code does with one map: decides the accessors emitted. */
struct map_use {
	struct decl *map;
	bool get, lookup, has, set, del, on_event;
};

struct user {
	struct ptrvec maps;        /* struct map_use * */
	struct ptrvec throwers;    /* struct decl *: userspace functions a throw may leave */
	struct ptrvec referenced;  /* struct decl *: functions named in userspace code */
	struct ptrvec kfuncs;      /* struct decl *: kfuncs called from userspace */
	struct ptrvec imports;     /* struct decl * (D_IMPORT of a .ks) whose functions are used */
	struct ptrvec import_fns;  /* struct decl *: functions of imported .ks modules */
	struct ptrvec import_of;   /* the D_IMPORT each import_fns entry belongs to */
	bool pinned_globals;       /* reads or writes pinned globals */
	struct ptrvec writebacks;  /* struct writeback *: the pointer-bound if (var x = m[k])
				      being emitted, outermost first */
};

/* An if (var x = m[k]) whose branch changes a copy of the entry, written back on leaving. */
struct writeback {
	struct stmt *ifvar;
	struct ptrvec exits;       /* struct stmt *: break/continue that leave the branch */
};

#define UG(g) ((struct user *)(g)->backend)

extern const struct cg_hooks user_hooks;

struct map_use *user_map_use(struct cgen *g, struct decl *map);
bool user_is_thrower(struct cgen *g, struct decl *fn);
/* The C name of a map accessor, e.g. "flows_get". */
const char *user_accessor(struct cgen *g, struct decl *map, const char *op);
/* The value a function returns when an exception leaves it. */
void user_propagate(struct cgen *g);
/* Whether a global lives in .bss (zero) rather than .data. */
bool user_zero_init(const struct expr *e);

#endif
