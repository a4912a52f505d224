/*
 * Module BTF: the step after kbuild that makes a kfunc module's sets
 * registrable.  Without .BTF and resolved .BTF_ids the kernel loads the
 * module and silently registers nothing, so this either produces both or
 * fails.
 */
#ifndef KSC_KMOD_BTF_H
#define KSC_KMOD_BTF_H

#include <stdbool.h>

#include "kdir.h"

/* The base BTF a module's split BTF is built over and checked against. */
struct kmod_btf_base {
	char *path;      /* raw BTF or an ELF with .BTF */
	char *origin;    /* where it came from, for messages */
	bool temporary;  /* extracted by us: removed by kmod_btf_base_release() */
};

/*
 * Finds the base for kernel tree k: `given` (--btf-base: raw BTF, an ELF
 * vmlinux, or a vmlinuz image of the same release), else KDIR/vmlinux, else
 * vmlinuz-RELEASE in $KSC_VMLINUZ_PATH (default /boot), else the running
 * kernel's /sys/kernel/btf/vmlinux when k is its tree.  An image is
 * extracted into `workdir`.  Finding nothing leaves b->path NULL and is not
 * an error (kmod_btf_no_base() says so when a base is needed); a given
 * file that is unusable, or an image of another kernel, is: a negative
 * errno after one line saying what to give instead.
 */
int kmod_btf_find_base(const struct kdir *k, const char *given, const char *workdir,
		       struct kmod_btf_base *b);
/* Reports that kernel k has no base BTF at hand, and what to do; returns -ENOENT. */
int kmod_btf_no_base(const struct kdir *k);
void kmod_btf_base_release(struct kmod_btf_base *b);

/*
 * Makes sure src/NAME.ko carries BTF with every kfunc id resolved, running
 * pahole and ksc's own id resolution where kbuild could not, then verifies
 * it.  The kfuncs are the BTF_ID_FLAGS(func, ...) entries of src/NAME.c.
 * Returns 0, or a negative errno after one error line saying what to do.
 */
int kmod_btf_ensure(const char *src, const char *name, const struct kdir *k,
		    const struct kmod_btf_base *b);

/*
 * Verifies src/NAME.ko's BTF and id sets again, without changing the file:
 * after signing, which must leave them as they were.
 */
int kmod_btf_verify(const char *src, const char *name, const struct kmod_btf_base *b);

/* Whether src/NAME.c registers kfuncs, and so needs module BTF. */
bool kmod_btf_wanted(const char *src, const char *name);

/* Fails with a message when pahole cannot be run (checked before building). */
int kmod_btf_need_pahole(void);

#endif
