/*
 * Kfuncs as BTF describes them, for `ksc kfuncs` and `ksc call`: which
 * FUNCs of a BTF are kfuncs, their C prototypes and KernelScript `extern`
 * lines.  Errors are 0/negative errno after one p_err line.
 */
#ifndef KSC_KFUNC_INFO_H
#define KSC_KFUNC_INFO_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

struct btf;

#define KFUNC_VMLINUX "/sys/kernel/btf/vmlinux"

/* One BTF to list: the whole of a base BTF, or a split BTF's own types. */
struct kfunc_btf {
	struct btf *btf;  /* the types to list */
	struct btf *base; /* its base when split, else NULL */
	__u32 first;      /* first id of its own types */
	char *path;       /* where it came from, for messages */
	bool guessed;     /* split on the running kernel's BTF, not a given base */
};

/*
 * Opens the BTF of a module as the kernel has it (/sys/kernel/btf/MODULE,
 * split on vmlinux and already relocated there when the module came with a
 * distilled base), or of FILE (raw BTF or ELF with .BTF; a module's is split
 * on its own .BTF.base when it has one, else on `base` or vmlinux), or the
 * running kernel's.
 */
int kfunc_btf_open_module(struct kfunc_btf *kb, const char *module);
int kfunc_btf_open_file(struct kfunc_btf *kb, const char *file, const char *base);
void kfunc_btf_close(struct kfunc_btf *kb);

/*
 * The kfuncs among kb's own types, sorted by name: FUNCs carrying the
 * bpf_kfunc DECL_TAG, else (BTF from before 6.3 or an older pahole) the
 * BTF_SET8 entries of `elf` when it is given.  *tagged says which.
 * Returns -ENOENT when neither source names any kfunc.
 */
int kfunc_list(const struct kfunc_btf *kb, const char *elf, __u32 **ids, size_t *n,
	       bool *tagged);

/* Sorts FUNC ids by name, dropping repeats. */
void kfunc_sort_unique(const struct btf *btf, __u32 *ids, size_t *n);

/* FUNC ids named `name` among kb's own types, 0 if none. */
__u32 kfunc_find(const struct kfunc_btf *kb, const char *name);
/* Whether kb's own types carry any bpf_kfunc tag. */
bool kfunc_btf_has_tags(const struct kfunc_btf *kb);
bool kfunc_is_tagged(const struct kfunc_btf *kb, __u32 func_id);

/* "u64 name(u32 len, struct task_struct *p)" of FUNC `id`; NULL on failure. */
char *kfunc_c_proto(const struct kfunc_btf *kb, __u32 id);

/*
 * "extern name(len: u32, p: *task_struct) -> u64", or NULL with *why set
 * (static text) when a type has no KernelScript spelling.
 */
char *kfunc_ks_extern(const struct kfunc_btf *kb, __u32 id, const char **why);

/* Just the parameters of that line: "len: u32, p: *task_struct". */
char *kfunc_ks_params(const struct kfunc_btf *kb, __u32 id, const char **why);

/* An integer-like BTF type after modifiers and typedefs: its size and sign. */
struct kfunc_scalar {
	unsigned size; /* 0 for void */
	bool is_signed, is_bool;
};

/*
 * The scalar shape of FUNC `id`'s parameter `i` (i < 0: its return type).
 * Returns -EINVAL for a pointer, struct or other non-integer type.
 */
int kfunc_scalar_of(const struct kfunc_btf *kb, __u32 id, int i, struct kfunc_scalar *s);

#endif
