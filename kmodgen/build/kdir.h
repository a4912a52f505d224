/* A kernel build tree given with --kdir: what it is and what it can do. */
#ifndef KSC_KDIR_H
#define KSC_KDIR_H

#include <stdbool.h>

struct kdir {
	char *path;            /* absolute */
	char *release;         /* include/config/kernel.release, e.g. 6.1.0-56-amd64 */
	unsigned version;      /* LINUX_VERSION_CODE */
	bool has_vmlinux;      /* KDIR/vmlinux: a BTF base for module BTF */
	bool has_resolve_btfids;
	bool btf_modules;      /* CONFIG_DEBUG_INFO_BTF_MODULES=y */
};

/*
 * Inspects a kernel build tree.  Returns 0, or a negative errno after one
 * p_err line saying what is wrong and what to do.
 */
int kdir_open(const char *path, struct kdir *k);
void kdir_close(struct kdir *k);

/* Whether kbuild itself gives modules BTF with resolved ids in this tree. */
static inline bool kdir_builds_btf(const struct kdir *k)
{
	return k->has_vmlinux && k->has_resolve_btfids;
}

#define KDIR_VERSION(a, b, c) (((a) << 16) + ((b) << 8) + (c))

#endif
