/*
 * Module BTF without kbuild's help: the base BTF of a kernel image, BTF id
 * resolution for a module's .BTF_ids section, and the check that every
 * kfunc of a module is really registrable.
 *
 * Debian's 6.1 headers ship neither vmlinux nor resolve_btfids, so kbuild
 * builds kfunc modules whose id sets are all zero: the kernel loads them
 * and registers nothing.  These functions close that gap.
 *
 * `base` arguments are raw BTF or an ELF file with .BTF (what btf__parse()
 * reads); a bzImage goes through kfunc_base_btf_write() first.
 *
 * A module's own BTF is read the way resolve_btfids read it when it wrote
 * .BTF_ids: split over the module's .BTF.base section when it has one (the
 * distilled base that kbuild of 6.12+ with pahole >= 1.26 gives out-of-tree
 * modules; the kernel relocates module types and kfunc ids onto vmlinux at
 * load; `base` is then not used), else split over `base`.
 * The sections are read with libelf: the base built with btf__new(), the
 * split with btf__parse_raw_split() from a temporary copy of its bytes
 * (libbpf 1.1.2 does not export btf__new_split(), and 1.5's
 * btf__parse_split() of the ELF file would relocate it onto `base`).
 *
 * Every function returns 0 or a negative errno, after printing one p_err
 * line that says what is wrong; nothing is printed on success, nor for
 * kfunc_resolve_btf_ids()'s -EALREADY, which callers treat as success.
 * Implemented in vmlinuz.c (images) and btf_ids.c (modules).
 */
#ifndef KSC_KFUNC_BTF_H
#define KSC_KFUNC_BTF_H

#include <linux/types.h>
#include <stddef.h>

struct btf;

/*
 * Extracts the .BTF section of the vmlinux inside a bzImage (vmlinuz) and
 * writes it to `out` as raw BTF.  The payload may be gzip, xz, zstd, lz4
 * (legacy frames); bzip2, lzma and lzo are refused with a message.  The
 * decompressed size must match the one the build appends to the payload.
 */
int kfunc_vmlinuz_extract_btf(const char *vmlinuz, const char *out);

/*
 * The kernel release string a bzImage carries (from its setup header's
 * kernel_version field, e.g. "6.1.0-57-amd64"), into buf.
 */
int kfunc_vmlinuz_release(const char *vmlinuz, char *buf, size_t len);

/*
 * Writes raw BTF for a base given as raw BTF, an ELF vmlinux with .BTF, or a
 * bzImage, to `out`.  Used to hand pahole a plain file.
 */
int kfunc_base_btf_write(const char *base, const char *out);

/*
 * Fills the .BTF_ids section of a module the way the kernel's
 * resolve_btfids does: every __BTF_ID__{func,struct,union,typedef}__NAME__N
 * symbol gets the id of NAME in the module's split BTF (on `base`), each
 * BTF_SET gets its count, each BTF_SET8 its count with the entries sorted
 * by id (flags kept with their id).  A name with no BTF type is an error
 * naming it.  Returns -EALREADY when the ids are already resolved (kbuild
 * did it), leaving the file untouched.  A section with some slots set and
 * others 0 is an error (running resolve_btfids twice misplaces flags, so
 * this never resolves over earlier work); a module without .BTF_ids is left
 * as it is, returning 0.  Only the bytes of .BTF_ids change.
 */
int kfunc_resolve_btf_ids(const char *ko, const char *base);

/*
 * Checks a built module: it has .BTF (split on its .BTF.base or `base`), and each of the n
 * kfunc names has a BTF FUNC and appears in a non-empty BTF_SET8 of
 * .BTF_ids with exactly that FUNC's id, and that set is sorted by id (6.1
 * bsearches it).  The error names the first kfunc that is missing and
 * where ("module has no BTF", "ids not resolved", "no BTF FUNC", ...).
 */
int kfunc_verify_module(const char *ko, const char *base, const char *const *names, size_t n);

/*
 * The BTF ids in every BTF_SET8 of a module's .BTF_ids (its kfunc sets), in
 * set order, into *ids (the caller frees) and *n.  A module without
 * .BTF_ids gives none; unresolved sets (count 0) give none either.  The ids
 * are relative to the module's .BTF.base when it has one: read its BTF with
 * kfunc_btf_open_distilled() first.
 */
int kfunc_module_set8_ids(const char *ko, __u32 **ids, size_t *n);

/*
 * A module with a distilled base: when ELF file `path` has .BTF.base,
 * *base_btf is that base, *btf the module's .BTF split over it (both
 * checked with kfunc_btf_validate()), and the result is 1; the module's own
 * types start at btf__type_cnt(*base_btf).  0 with both NULL when `path` is
 * no ELF file or has no .BTF.base; a negative errno when its sections do not
 * parse.
 */
int kfunc_btf_open_distilled(const char *path, struct btf **base_btf, struct btf **btf);

/*
 * Checks an ELF file before it goes to btf__parse(): libbpf 1.1.2's ELF
 * reader copies a .BTF of type SHT_NOBITS from a NULL buffer.  0 when
 * `path` is no ELF file, has no .BTF, or its .BTF is a plain data section;
 * else a negative errno after one p_err line.
 */
int kfunc_btf_elf_check(const char *path);

/*
 * Checks what libbpf 1.1.2 does not before a BTF is walked: every type from
 * id `first` on refers only to types and names that exist, each FUNC to a
 * FUNC_PROTO, and no pointer/modifier/array chain loops.  `what` names the
 * BTF in the error ("'PATH': WHAT is corrupt: ...").
 */
int kfunc_btf_validate(const struct btf *btf, __u32 first, const char *path, const char *what);

#endif
