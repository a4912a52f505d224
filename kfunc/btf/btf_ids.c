/*
 * BTF ids of a kernel module: what the kernel's resolve_btfids does to a
 * freshly linked .ko (fill the .BTF_ids section from the module's split
 * BTF), and the check that each kfunc of a module is really registrable.
 *
 * .BTF_ids holds u32 slots labelled by local symbols:
 *   __BTF_ID__<kind>__<name>__<uniq>  one id (kind func/struct/union/typedef)
 *   __BTF_ID__set__<set>              u32 cnt, then cnt u32 ids
 *   __BTF_ID__set8__<set>             u32 cnt, u32 flags, then cnt {id, flags}
 * The build leaves every id and count 0.  Slots are host-endian here: a
 * module for another byte order is refused rather than half-converted.
 */
#include "kfunc_btf.h"
#include "util.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BTF_ID_PREFIX "__BTF_ID__"

#if __BYTE_ORDER == __LITTLE_ENDIAN
#define HOST_ELFDATA ELFDATA2LSB
#else
#define HOST_ELFDATA ELFDATA2MSB
#endif

enum sym_kind { SK_FUNC, SK_STRUCT, SK_UNION, SK_TYPEDEF, SK_SET, SK_SET8 };

static const struct {
	const char *prefix; /* after __BTF_ID__ */
	const char *word;   /* for messages */
	int btf_kind;
} sym_kinds[] = {
	[SK_FUNC] = { "func__", "func", BTF_KIND_FUNC },
	[SK_STRUCT] = { "struct__", "struct", BTF_KIND_STRUCT },
	[SK_UNION] = { "union__", "union", BTF_KIND_UNION },
	[SK_TYPEDEF] = { "typedef__", "typedef", BTF_KIND_TYPEDEF },
	[SK_SET] = { "set__", "set", 0 },
	[SK_SET8] = { "set8__", "set8", 0 },
};

struct id_sym {
	enum sym_kind kind;
	char *name;  /* type or set name, without the __<uniq> suffix */
	size_t off;  /* of the slot (a set's: its count) in .BTF_ids */
	size_t size; /* st_size: a set's extent */
	__u32 id;    /* what the slot gets: type id, or a set's count */
};

struct module {
	const char *path;
	int fd;
	Elf *elf;
	Elf_Data *ids;     /* .BTF_ids, NULL when absent */
	Elf_Scn *btf;      /* .BTF, NULL when absent */
	Elf_Scn *btf_base; /* .BTF.base: the distilled base .BTF is split over */
	struct id_sym *syms;
	size_t nsyms;
};

static bool is_set(const struct id_sym *s)
{
	return s->kind == SK_SET || s->kind == SK_SET8;
}

/* Bytes before a set's first entry, and per entry. */
static size_t set_head(const struct id_sym *s)
{
	return s->kind == SK_SET8 ? 8 : 4;
}

static __u32 slot_get(const struct module *m, size_t off)
{
	__u32 v;

	memcpy(&v, (const char *)m->ids->d_buf + off, sizeof(v));
	return v;
}

static void slot_put(struct module *m, size_t off, __u32 v)
{
	memcpy((char *)m->ids->d_buf + off, &v, sizeof(v));
}

static void module_close(struct module *m)
{
	for (size_t i = 0; i < m->nsyms; i++)
		free(m->syms[i].name);
	free(m->syms);
	elf_end(m->elf);
	if (m->fd >= 0)
		close(m->fd);
}

static int elf_fail(const struct module *m, const char *what)
{
	p_err("'%s': %s: %s", m->path, what, elf_errmsg(-1));
	return -EINVAL;
}

/* Splits __BTF_ID__<kind>__<rest> into kind and name; 0 if not one of ours. */
static int parse_sym(const struct module *m, const char *sym, struct id_sym *out)
{
	const char *rest = sym + strlen(BTF_ID_PREFIX);
	const char *p, *end = NULL;
	size_t k;

	for (k = 0; k < ARRAY_SIZE(sym_kinds); k++)
		if (!strncmp(rest, sym_kinds[k].prefix, strlen(sym_kinds[k].prefix)))
			break;
	if (k == ARRAY_SIZE(sym_kinds)) {
		p_err("'%s': unsupported BTF id symbol %s", m->path, sym);
		return -EINVAL;
	}
	rest += strlen(sym_kinds[k].prefix);
	out->kind = (enum sym_kind)k;
	if (is_set(out)) {
		out->name = xstrdup(rest);
		return 0;
	}
	/* The name runs up to the last "__": names may contain "__" too. */
	for (p = rest; (p = strstr(p, "__")); p++)
		end = p;
	if (!end || end == rest) {
		p_err("'%s': malformed BTF id symbol %s", m->path, sym);
		return -EINVAL;
	}
	out->name = xstrndup(rest, (size_t)(end - rest));
	return 0;
}

/* Slot bounds and set shapes, so that later reads and writes stay inside. */
static int check_sym(const struct module *m, const struct id_sym *s, const char *sym)
{
	size_t len = m->ids->d_size;
	size_t need = is_set(s) ? s->size : 4;

	if (s->off > len || need > len - s->off) {
		p_err("'%s': %s lies outside .BTF_ids", m->path, sym);
		return -EINVAL;
	}
	if (is_set(s) && (s->size < set_head(s) || s->size % set_head(s))) {
		p_err("'%s': set %s has a size of %zu bytes, not a whole number of entries", m->path,
		      sym, s->size);
		return -EINVAL;
	}
	return 0;
}

static int collect_syms(struct module *m, size_t ids_ndx, const GElf_Shdr *ids_shdr,
			Elf_Scn *symtab)
{
	GElf_Ehdr eh;
	GElf_Shdr sh;
	Elf_Data *d = elf_getdata(symtab, NULL);
	size_t n, cap = 0;
	/* In a .ko (ET_REL) st_value is already the offset in the section. */
	size_t base = gelf_getehdr(m->elf, &eh) && eh.e_type != ET_REL ? ids_shdr->sh_addr : 0;

	if (!d || !gelf_getshdr(symtab, &sh) || !sh.sh_entsize)
		return elf_fail(m, "cannot read the symbol table");
	n = sh.sh_size / sh.sh_entsize;
	for (size_t i = 1; i < n; i++) {
		GElf_Sym sym;
		const char *name;
		struct id_sym s = { 0 };
		int err;

		if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx != ids_ndx)
			continue;
		name = elf_strptr(m->elf, sh.sh_link, sym.st_name);
		if (!name || strncmp(name, BTF_ID_PREFIX, strlen(BTF_ID_PREFIX)))
			continue;
		err = parse_sym(m, name, &s);
		s.off = sym.st_value - base;
		s.size = sym.st_size;
		if (!err)
			err = check_sym(m, &s, name);
		if (err) {
			free(s.name);
			return err;
		}
		if (m->nsyms == cap) {
			cap = cap ? 2 * cap : 16;
			m->syms = xrealloc(m->syms, cap * sizeof(*m->syms));
		}
		m->syms[m->nsyms++] = s;
	}
	return 0;
}

static int find_sections(struct module *m, Elf_Scn **ids, GElf_Shdr *ids_shdr, Elf_Scn **symtab)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(m->elf, &shstrndx))
		return elf_fail(m, "cannot read the section headers");
	while ((scn = elf_nextscn(m->elf, scn))) {
		GElf_Shdr sh;
		const char *name;

		if (!gelf_getshdr(scn, &sh))
			return elf_fail(m, "cannot read the section headers");
		name = elf_strptr(m->elf, shstrndx, sh.sh_name);
		if (sh.sh_type == SHT_SYMTAB)
			*symtab = scn;
		if (!name)
			continue;
		if (!strcmp(name, ".BTF"))
			m->btf = scn;
		if (!strcmp(name, ".BTF.base"))
			m->btf_base = scn;
		if (!strcmp(name, ".BTF_ids")) {
			*ids = scn;
			*ids_shdr = sh;
		}
	}
	return 0;
}

/* Opens an ELF file of this machine's byte order and finds its BTF sections. */
static int elf_open(struct module *m, const char *path, bool rdwr, Elf_Scn **ids,
		    GElf_Shdr *ids_shdr, Elf_Scn **symtab)
{
	GElf_Ehdr eh;
	int err;

	*m = (struct module){ .path = path, .fd = -1 };
	if (elf_version(EV_CURRENT) == EV_NONE)
		return elf_fail(m, "libelf is unusable");
	m->fd = open(path, (rdwr ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (m->fd < 0) {
		err = -errno;
		p_err("cannot open '%s': %s", path, strerror(-err));
		return err;
	}
	m->elf = elf_begin(m->fd, rdwr ? ELF_C_RDWR : ELF_C_READ, NULL);
	if (!m->elf || elf_kind(m->elf) != ELF_K_ELF || !gelf_getehdr(m->elf, &eh)) {
		p_err("'%s' is not an ELF file", path);
		return -EINVAL;
	}
	if (eh.e_ident[EI_DATA] != HOST_ELFDATA) {
		p_err("'%s' is not of this machine's byte order", path);
		return -ENOTSUP;
	}
	return find_sections(m, ids, ids_shdr, symtab);
}

static int module_open(struct module *m, const char *path, bool rdwr)
{
	Elf_Scn *ids = NULL, *symtab = NULL;
	GElf_Shdr ids_shdr = { 0 };
	int err = elf_open(m, path, rdwr, &ids, &ids_shdr, &symtab);

	if (err || !ids)
		return err;
	if (ids_shdr.sh_type != SHT_PROGBITS || (ids_shdr.sh_flags & SHF_COMPRESSED)) {
		p_err("'%s': .BTF_ids is not a plain data section", path);
		return -EINVAL;
	}
	m->ids = elf_getdata(ids, NULL);
	if (!m->ids || (m->ids->d_size && !m->ids->d_buf))
		return elf_fail(m, "cannot read .BTF_ids");
	if (!symtab) {
		p_err("'%s' has .BTF_ids but no symbol table (stripped?)", path);
		return -EINVAL;
	}
	return collect_syms(m, elf_ndxscn(ids), &ids_shdr, symtab);
}

/* ---- trusting a BTF: libbpf 1.1.2 checks sizes, not references ---- */

static bool name_ok(const struct btf *btf, __u32 off)
{
	return btf__str_by_offset(btf, off) != NULL;
}

static bool members_ok(const struct btf *btf, const struct btf_type *t, __u32 cnt)
{
	const struct btf_member *mb = btf_members(t);

	for (unsigned i = 0; i < btf_vlen(t); i++, mb++)
		if (!name_ok(btf, mb->name_off) || mb->type >= cnt)
			return false;
	return true;
}

static bool params_ok(const struct btf *btf, const struct btf_type *t, __u32 cnt)
{
	const struct btf_param *p = btf_params(t);

	for (unsigned i = 0; i < btf_vlen(t); i++, p++)
		if (!name_ok(btf, p->name_off) || p->type >= cnt)
			return false;
	return t->type < cnt;
}

static bool enum_ok(const struct btf *btf, const struct btf_type *t)
{
	for (unsigned i = 0; i < btf_vlen(t); i++)
		if (!name_ok(btf, btf_is_enum(t) ? btf_enum(t)[i].name_off :
						   btf_enum64(t)[i].name_off))
			return false;
	return true;
}

static bool datasec_ok(const struct btf_type *t, __u32 cnt)
{
	const struct btf_var_secinfo *v = btf_var_secinfos(t);

	for (unsigned i = 0; i < btf_vlen(t); i++, v++)
		if (v->type >= cnt)
			return false;
	return true;
}

/* Whether every id and name type t refers to exists (FUNCs need a FUNC_PROTO). */
static bool type_ok(const struct btf *btf, const struct btf_type *t, __u32 cnt)
{
	const struct btf_type *proto;

	if (!name_ok(btf, t->name_off))
		return false;
	switch (btf_kind(t)) {
	case BTF_KIND_INT:
	case BTF_KIND_FWD:
	case BTF_KIND_FLOAT:
		return true;
	case BTF_KIND_ARRAY:
		return btf_array(t)->type < cnt && btf_array(t)->index_type < cnt;
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION:
		return members_ok(btf, t, cnt);
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		return enum_ok(btf, t);
	case BTF_KIND_FUNC:
		proto = t->type && t->type < cnt ? btf__type_by_id(btf, t->type) : NULL;
		return proto && btf_is_func_proto(proto);
	case BTF_KIND_FUNC_PROTO:
		return params_ok(btf, t, cnt);
	case BTF_KIND_DATASEC:
		return datasec_ok(t, cnt);
	case BTF_KIND_DECL_TAG:
		return t->type && t->type < cnt;
	default: /* PTR, TYPEDEF, VOLATILE, CONST, RESTRICT, VAR, TYPE_TAG */
		return t->type < cnt;
	}
}

/* Where a modifier, pointer or array leads; 0 (void) ends the chain. */
static __u32 chain_next(const struct btf_type *t)
{
	if (btf_is_array(t))
		return btf_array(t)->type;
	if (btf_is_mod(t) || btf_is_ptr(t) || btf_is_typedef(t))
		return t->type;
	return 0;
}

/*
 * A PTR/CONST/TYPEDEF/ARRAY chain that comes back to itself would send
 * btf_dump and every type walk into endless recursion.  Chains are linear,
 * so marking each walk (1) and what it has cleared (2) finds cycles in O(n).
 */
static bool chains_ok(const struct btf *btf, __u32 first, __u32 cnt)
{
	unsigned char *state = xcalloc(cnt, 1);
	bool ok = true;

	for (__u32 id = first; id < cnt && ok; id++) {
		__u32 at = id;

		while (at >= first && !state[at]) {
			state[at] = 1;
			at = chain_next(btf__type_by_id(btf, at));
		}
		ok = at < first || state[at] == 2;
		for (at = id; at >= first && state[at] == 1; at = chain_next(btf__type_by_id(btf, at)))
			state[at] = 2;
	}
	free(state);
	return ok;
}

/*
 * Printing a type as C (btf_dump, for `ksc kfuncs`) writes an anonymous
 * struct, union or enum out in full where it is used, with a line per 8
 * bytes of padding: a 700 MB anonymous struct, or anonymous types holding
 * each other twice over 30 levels, is a billion lines (fuzz_btf found the
 * first).  The lines a use of each type costs, capped at DUMP_LIMIT; real
 * kernels' BTF stays far below (Linux 6.12: 12 KB of padding at most).
 */
#define DUMP_LIMIT (1u << 20)
#define DUMP_DEPTH 64

static __u64 dump_cost(const struct btf *btf, __u32 id, __u32 cnt, __u64 *memo, int depth);

static __u64 padding_cost(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_member *m = btf_members(t);
	__u64 pos = 0, c = 0, end = (__u64)t->size * 8;

	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		__u64 off = btf_member_bit_offset(t, i), bits = btf_member_bitfield_size(t, i);
		__s64 sz;

		if (!bits) {
			sz = btf__resolve_size(btf, m->type);
			bits = sz > 0 ? (__u64)sz * 8 : 0;
		}
		if (!btf_is_union(t) && off > pos)
			c += (off - pos) / 64 + 1;
		if (off + bits > pos)
			pos = off + bits;
	}
	if (end > pos)
		c += (end - pos) / 64 + 1;
	return c;
}

static __u64 dump_cost(const struct btf *btf, __u32 id, __u32 cnt, __u64 *memo, int depth)
{
	const struct btf_type *t;
	__u64 c = 1;

	if (!id || id >= cnt)
		return 1;
	if (memo[id])
		return memo[id];
	if (depth > DUMP_DEPTH)
		return DUMP_LIMIT;
	t = btf__type_by_id(btf, id);
	if (!t)
		return 1;
	switch (btf_kind(t)) {
	case BTF_KIND_PTR:
	case BTF_KIND_CONST:
	case BTF_KIND_VOLATILE:
	case BTF_KIND_RESTRICT:
	case BTF_KIND_TYPE_TAG:
		c += dump_cost(btf, t->type, cnt, memo, depth + 1);
		break;
	case BTF_KIND_ARRAY:
		c += dump_cost(btf, btf_array(t)->type, cnt, memo, depth + 1);
		break;
	case BTF_KIND_FUNC_PROTO: {
		const struct btf_param *p = btf_params(t);

		c += dump_cost(btf, t->type, cnt, memo, depth + 1);
		for (unsigned i = 0; i < btf_vlen(t) && c < DUMP_LIMIT; i++)
			c += dump_cost(btf, p[i].type, cnt, memo, depth + 1);
		break;
	}
	case BTF_KIND_STRUCT:
	case BTF_KIND_UNION: {
		const struct btf_member *m = btf_members(t);

		if (t->name_off)
			break;
		c += padding_cost(btf, t);
		for (unsigned i = 0; i < btf_vlen(t) && c < DUMP_LIMIT; i++)
			c += dump_cost(btf, m[i].type, cnt, memo, depth + 1);
		break;
	}
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		if (!t->name_off)
			c += btf_vlen(t);
		break;
	default:
		break;
	}
	if (c > DUMP_LIMIT)
		c = DUMP_LIMIT;
	memo[id] = c;
	return c;
}

/*
 * Sizes the kernel itself checks when it loads BTF, and btf_dump's
 * arithmetic relies on: an INT is 1, 2, 4, 8 or 16 bytes, and every member
 * of a struct or union ends within it (a 117 MB int made btf_dump print 8
 * million lines of padding; fuzz_btf found it).
 */
static bool sizes_ok(const struct btf *btf, const struct btf_type *t)
{
	const struct btf_member *m;

	if (btf_is_int(t))
		return t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8 ||
		       t->size == 16;
	if (!btf_is_composite(t))
		return true;
	m = btf_members(t);
	for (unsigned i = 0; i < btf_vlen(t); i++, m++) {
		__u64 bits = btf_member_bitfield_size(t, i);

		if (!bits) {
			__s64 sz = btf__resolve_size(btf, m->type);

			if (sz < 0)
				continue;
			bits = (__u64)sz * 8;
		}
		if ((__u64)btf_member_bit_offset(t, i) + bits > (__u64)t->size * 8)
			return false;
	}
	return true;
}

/* The first type from `first` on that prints as more than DUMP_LIMIT lines, or 0. */
static __u32 dump_too_big(const struct btf *btf, __u32 first, __u32 cnt)
{
	__u64 *memo = xcalloc(cnt, sizeof(*memo));
	__u32 bad = 0;

	for (__u32 id = first; id < cnt && !bad; id++)
		if (dump_cost(btf, id, cnt, memo, 0) >= DUMP_LIMIT)
			bad = id;
	free(memo);
	return bad;
}

int kfunc_btf_validate(const struct btf *btf, __u32 first, const char *path, const char *what)
{
	__u32 big;
	__u32 cnt = btf__type_cnt(btf);

	for (__u32 id = first; id < cnt; id++) {
		if (!type_ok(btf, btf__type_by_id(btf, id), cnt)) {
			p_err("'%s': %s is corrupt: type [%u] refers to a type or name it does not have",
			      path, what, id);
			return -EINVAL;
		}
	}
	if (!chains_ok(btf, first, cnt)) {
		p_err("'%s': %s is corrupt: a chain of pointers, modifiers or arrays loops", path,
		      what);
		return -EINVAL;
	}
	for (__u32 id = first; id < cnt; id++) {
		if (!sizes_ok(btf, btf__type_by_id(btf, id))) {
			p_err("'%s': %s is corrupt: type [%u] is an integer of a size no integer has, "
			      "or a struct or union with a member beyond its end",
			      path, what, id);
			return -EINVAL;
		}
	}
	big = dump_too_big(btf, first, cnt);
	if (big) {
		p_err("'%s': %s is corrupt: type [%u] would print as more than %u lines of C "
		      "(an anonymous struct that is huge, refers to itself or nests too deeply)",
		      path, what, big, DUMP_LIMIT);
		return -EINVAL;
	}
	return 0;
}

static bool looks_elf(const char *path);

static int no_btf(const struct module *m)
{
	p_err("module has no BTF: '%s' has no .BTF section (pahole -J was not run on it)", m->path);
	return -ENODATA;
}

/* libbpf's errors beyond errno (LIBBPF_ERRNO__*) have their own texts. */
static const char *btf_strerror(int err, char *buf, size_t len)
{
	/* What btf__parse*() says of an ELF file without .BTF. */
	if (err == -ENOENT && len)
		snprintf(buf, len, "no .BTF section, or no such file");
	else if (libbpf_strerror(err, buf, len))
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

/* For the hint that a kernel image must go through kfunc_base_btf_write(). */
static bool is_bzimage(const char *path)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = fd >= 0 && pread(fd, magic, 4, 0x202) == 4 && !memcmp(magic, "HdrS", 4);

	if (fd >= 0)
		close(fd);
	return yes;
}

/* The bytes of a BTF section as libelf has them; btf__new*() copies them. */
static int section_bytes(const struct module *m, Elf_Scn *scn, const char *name, Elf_Data **d)
{
	GElf_Shdr sh;

	if (!gelf_getshdr(scn, &sh))
		return elf_fail(m, "cannot read the section headers");
	if (sh.sh_type == SHT_NOBITS || (sh.sh_flags & SHF_COMPRESSED)) {
		p_err("'%s': %s is not a plain data section", m->path, name);
		return -EINVAL;
	}
	*d = elf_getdata(scn, NULL);
	if (!*d) {
		p_err("'%s': cannot read %s: %s", m->path, name, elf_errmsg(-1));
		return -EINVAL;
	}
	if (!(*d)->d_size || !(*d)->d_buf || (*d)->d_size > UINT32_MAX) {
		p_err("'%s': %s is empty or too large to be BTF", m->path, name);
		return -EINVAL;
	}
	return 0;
}

/*
 * The callers hand an ELF file without .BTF.base to btf__parse(), whose ELF
 * reader (libbpf 1.1.2) copies .BTF from a NULL buffer when the section is
 * SHT_NOBITS: such a .BTF is refused here first (fuzz_btf found it).
 */
static int btf_section_ok(const struct module *m)
{
	Elf_Data *d;

	return section_bytes(m, m->btf, ".BTF", &d);
}

/*
 * Opens path read-only with its BTF sections found, when it is an ELF file
 * of this byte order: 0 (the caller closes m), 1 when it is no such file,
 * or a negative errno (reported; m closed).
 */
static int peek_elf(const char *path, struct module *m)
{
	Elf_Scn *ids = NULL, *symtab = NULL;
	GElf_Shdr ids_shdr;
	int err;

	if (!looks_elf(path))
		return 1;
	err = elf_open(m, path, false, &ids, &ids_shdr, &symtab);
	if (err)
		module_close(m);
	return err;
}

int kfunc_btf_elf_check(const char *path)
{
	struct module m;
	int err = peek_elf(path, &m);

	if (err)
		return err < 0 ? err : 0;
	if (m.btf)
		err = btf_section_ok(&m);
	module_close(&m);
	return err;
}

static int base_from_file(const char *base, struct btf **base_btf)
{
	char msg[128];
	int err;

	*base_btf = NULL;
	err = kfunc_btf_elf_check(base);
	if (err)
		return err;
	*base_btf = btf__parse(base, NULL);
	if (*base_btf)
		return 0;
	err = -errno;
	if (is_bzimage(base))
		p_err("base '%s' is a kernel image: extract its BTF first", base);
	else
		p_err("cannot load base BTF '%s' (raw BTF or an ELF file with .BTF): %s", base,
		      btf_strerror(err, msg, sizeof(msg)));
	return err;
}

/*
 * The distilled base of a module built by 6.12+ kbuild with pahole >= 1.26:
 * only the named base types its .BTF refers to, by name and size.  It is
 * read from the section bytes on purpose: libbpf 1.5's btf__parse_split()
 * would relocate the module onto the given base, renumbering its types,
 * while .BTF_ids holds ids relative to this base (resolve_btfids uses it
 * when present, and the kernel relocates those ids at load).
 */
static int base_from_section(const struct module *m, struct btf **base_btf)
{
	Elf_Data *d;
	char msg[128];
	int err = section_bytes(m, m->btf_base, ".BTF.base", &d);

	if (err)
		return err;
	*base_btf = btf__new(d->d_buf, (__u32)d->d_size);
	if (!*base_btf) {
		err = -errno;
		p_err("'%s': .BTF.base (its distilled base BTF) is corrupt: %s", m->path,
		      btf_strerror(err, msg, sizeof(msg)));
		return err;
	}
	return kfunc_btf_validate(*base_btf, 1, m->path, ".BTF.base");
}

/*
 * Split BTF from section bytes.  libbpf 1.1.2 declares btf__new_split() but
 * does not export it (1.2 does), and btf__parse_split() on the ELF file
 * would relocate a distilled module in 1.5; btf__parse_raw_split() does
 * neither on any version, so the bytes go through a temporary file.
 */
static int split_from_bytes(const struct module *m, const Elf_Data *d, struct btf *base,
			    const char *on, struct btf **btf)
{
	const char *dir = getenv("TMPDIR");
	char *tmp = xasprintf("%s/ksc-btf-XXXXXX", dir && *dir ? dir : "/tmp"), msg[128];
	int err = 0, fd = mkstemp(tmp);

	if (fd < 0 || write(fd, d->d_buf, d->d_size) != (ssize_t)d->d_size) {
		err = errno ? -errno : -EIO;
		p_err("cannot write a temporary file for the BTF of '%s' (%s): %s", m->path, tmp,
		      strerror(-err));
	} else {
		*btf = btf__parse_raw_split(tmp, base);
		if (!*btf) {
			err = -errno;
			p_err("the BTF of '%s' does not parse on %s: %s", m->path, on,
			      btf_strerror(err, msg, sizeof(msg)));
		}
	}
	if (fd >= 0) {
		close(fd);
		unlink(tmp);
	}
	free(tmp);
	return err;
}

/*
 * The module's BTF the way resolve_btfids read it when it wrote .BTF_ids:
 * split over .BTF.base when the module has one, else over `base`.
 */
static int load_split(const struct module *m, const char *base, struct btf **base_btf,
		      struct btf **btf)
{
	Elf_Data *d;
	char *on;
	int err;

	if (m->btf_base) {
		err = base_from_section(m, base_btf);
	} else if (base) {
		err = base_from_file(base, base_btf);
	} else {
		p_err("'%s' has no .BTF.base, and no base BTF was given to read its BTF on", m->path);
		err = -EINVAL;
	}
	if (!err)
		err = section_bytes(m, m->btf, ".BTF", &d);
	if (err)
		return err;
	on = m->btf_base ? xstrdup("its .BTF.base") : xasprintf("base '%s'", base);
	err = split_from_bytes(m, d, *base_btf, on, btf);
	free(on);
	return err ? err : kfunc_btf_validate(*btf, btf__type_cnt(*base_btf), m->path, ".BTF");
}

/* libbpf's own messages would add lines to the one error reported here. */
static int load_btf(const struct module *m, const char *base, struct btf **base_btf,
		    struct btf **btf)
{
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	int err;

	*btf = NULL;
	*base_btf = NULL;
	err = load_split(m, base, base_btf, btf);
	libbpf_set_print(old);
	return err;
}

static int cmp_want(const void *a, const void *b)
{
	const struct id_sym *x = *(struct id_sym *const *)a, *y = *(struct id_sym *const *)b;

	if (x->kind != y->kind)
		return x->kind < y->kind ? -1 : 1;
	return strcmp(x->name, y->name);
}

/*
 * One pass over every type id of base + module, as resolve_btfids does:
 * the first type of the right kind and name wins.  The symbols to fill are
 * sorted by (kind, name) so that each type costs a binary search.
 */
static void lookup_ids(struct module *m, const struct btf *btf)
{
	struct id_sym **want = xcalloc(m->nsyms, sizeof(*want));
	size_t n = 0;
	__u32 cnt = btf__type_cnt(btf);

	for (size_t i = 0; i < m->nsyms; i++)
		if (!is_set(&m->syms[i]))
			want[n++] = &m->syms[i];
	qsort(want, n, sizeof(*want), cmp_want);
	for (__u32 id = 1; id < cnt && n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		struct id_sym key = { .name = (char *)btf__name_by_offset(btf, t->name_off) };
		struct id_sym *pkey = &key;
		size_t lo = 0, hi = n;

		for (key.kind = SK_FUNC; key.kind <= SK_TYPEDEF; key.kind++)
			if (sym_kinds[key.kind].btf_kind == btf_kind(t))
				break;
		if (key.kind > SK_TYPEDEF || !key.name || !*key.name)
			continue;
		while (lo < hi) { /* lower bound */
			size_t mid = lo + (hi - lo) / 2;

			if (cmp_want(&want[mid], &pkey) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < n && !cmp_want(&want[lo], &pkey); lo++)
			if (!want[lo]->id)
				want[lo]->id = id;
	}
	free(want);
}

static int check_resolved(const struct module *m)
{
	const struct id_sym *first = NULL;
	size_t missing = 0;
	char more[64] = "";

	for (size_t i = 0; i < m->nsyms; i++) {
		if (is_set(&m->syms[i]) || m->syms[i].id)
			continue;
		if (!missing++)
			first = &m->syms[i];
	}
	if (!missing)
		return 0;
	if (missing > 1)
		snprintf(more, sizeof(more), " (and %zu more unresolved)", missing - 1);
	p_err("'%s': BTF_ID(%s, %s) names no type of the module's BTF or its base%s", m->path,
	      sym_kinds[first->kind].word, first->name, more);
	return -ENOENT;
}

/*
 * What a slot holds once resolved: the id, or a set's count.  A fresh
 * build leaves them all 0, so a mix of zero and non-zero means another tool
 * stopped half way, and resolving again would put flags on the wrong ids.
 */
static int check_fresh(const struct module *m)
{
	size_t slots = 0, set = 0;

	for (size_t i = 0; i < m->nsyms; i++) {
		const struct id_sym *s = &m->syms[i];

		/* An empty set keeps count 0 once resolved: not a witness. */
		if (is_set(s) && s->size == set_head(s))
			continue;
		slots++;
		set += slot_get(m, s->off) != 0;
	}
	if (!set)
		return 0;
	if (set == slots) {
		p_debug("'%s': BTF ids already resolved", m->path);
		return -EALREADY;
	}
	p_err("'%s': .BTF_ids is partly resolved (%zu of %zu slots set); relink the module", m->path,
	      set, slots);
	return -EINVAL;
}

struct entry {
	__u32 id, flags;
	size_t pos; /* makes the sort stable */
};

static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The kernel (6.1) bsearches sets: sort by id, a set8 entry's flags move along. */
static void sort_set(struct module *m, const struct id_sym *s)
{
	size_t step = set_head(s), cnt = s->size / step - 1;
	size_t at = s->off + step;
	struct entry *e = xcalloc(cnt, sizeof(*e));

	for (size_t i = 0; i < cnt; i++) {
		e[i].id = slot_get(m, at + i * step);
		e[i].flags = step == 8 ? slot_get(m, at + i * step + 4) : 0;
		e[i].pos = i;
	}
	qsort(e, cnt, sizeof(*e), cmp_entry);
	for (size_t i = 0; i < cnt; i++) {
		slot_put(m, at + i * step, e[i].id);
		if (step == 8)
			slot_put(m, at + i * step + 4, e[i].flags);
	}
	free(e);
}

static void patch(struct module *m)
{
	for (size_t i = 0; i < m->nsyms; i++) {
		struct id_sym *s = &m->syms[i];

		if (is_set(s))
			s->id = (__u32)(s->size / set_head(s) - 1);
		slot_put(m, s->off, s->id);
	}
	/* After every id is in place: entries are sorted by their values. */
	for (size_t i = 0; i < m->nsyms; i++)
		if (is_set(&m->syms[i]))
			sort_set(m, &m->syms[i]);
}

/* ELF_F_LAYOUT: libelf keeps every offset, only .BTF_ids bytes change. */
static int module_write(struct module *m)
{
	elf_flagelf(m->elf, ELF_C_SET, ELF_F_LAYOUT);
	elf_flagdata(m->ids, ELF_C_SET, ELF_F_DIRTY);
	if (elf_update(m->elf, ELF_C_WRITE) < 0)
		return elf_fail(m, "cannot write");
	return 0;
}

int kfunc_resolve_btf_ids(const char *ko, const char *base)
{
	struct btf *base_btf = NULL, *btf = NULL;
	struct module m;
	int err = module_open(&m, ko, true);

	if (err || !m.nsyms) /* no .BTF_ids: nothing to resolve */
		goto out;
	err = m.btf ? check_fresh(&m) : no_btf(&m);
	if (!err)
		err = load_btf(&m, base, &base_btf, &btf);
	if (err)
		goto out;
	lookup_ids(&m, btf);
	err = check_resolved(&m);
	if (!err) {
		patch(&m);
		err = module_write(&m);
	}
out:
	btf__free(btf);
	btf__free(base_btf);
	module_close(&m);
	return err;
}

/* The first FUNC named `name` among the module's own types, 0 if none. */
static __u32 module_func(const struct btf *btf, __u32 first, const char *name)
{
	__u32 cnt = btf__type_cnt(btf);

	for (__u32 id = first; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *s = btf__name_by_offset(btf, t->name_off);

		if (btf_is_func(t) && s && !strcmp(s, name))
			return id;
	}
	return 0;
}

/* The set8 holding the BTF_ID of `name`, or NULL. */
static const struct id_sym *set_of(const struct module *m, const char *name)
{
	for (size_t i = 0; i < m->nsyms; i++) {
		const struct id_sym *s = &m->syms[i];

		if (s->kind != SK_FUNC || strcmp(s->name, name))
			continue;
		for (size_t j = 0; j < m->nsyms; j++) {
			const struct id_sym *set = &m->syms[j];

			if (set->kind == SK_SET8 && s->off >= set->off + 8 &&
			    s->off < set->off + set->size)
				return set;
		}
	}
	return NULL;
}

/* Whether id is an entry of the set8 `s`, which must be sorted for 6.1. */
static int find_in_set8(const struct module *m, const struct id_sym *s, __u32 id, bool *found)
{
	__u32 cnt = slot_get(m, s->off), prev = 0;
	bool sorted = true;

	*found = false;
	if (cnt > s->size / 8 - 1) {
		p_err("'%s': BTF_SET8 %s counts %u entries but has room for %zu", m->path, s->name,
		      cnt, s->size / 8 - 1);
		return -EINVAL;
	}
	for (__u32 i = 0; i < cnt; i++) {
		__u32 v = slot_get(m, s->off + 8 + 8 * (size_t)i);

		*found |= v == id;
		sorted &= v >= prev;
		prev = v;
	}
	if (*found && !sorted) {
		p_err("'%s': BTF_SET8 %s is not sorted by id (Linux 6.1 bsearches it)", m->path,
		      s->name);
		return -EINVAL;
	}
	return 0;
}

static int verify_kfunc(const struct module *m, const struct btf *btf, __u32 first,
			const char *name)
{
	__u32 id = module_func(btf, first, name);
	const struct id_sym *set;
	bool found = false;

	if (!id) {
		p_err("kfunc '%s' has no BTF FUNC in module '%s'", name, m->path);
		return -ENOENT;
	}
	for (size_t i = 0; i < m->nsyms && !found; i++) {
		int err;

		if (m->syms[i].kind != SK_SET8)
			continue;
		err = find_in_set8(m, &m->syms[i], id, &found);
		if (err)
			return err;
	}
	if (found)
		return 0;
	set = set_of(m, name);
	if (!set)
		p_err("kfunc '%s' (BTF id %u) is in no BTF_SET8 of '%s'", name, id, m->path);
	else if (!slot_get(m, set->off))
		p_err("kfunc '%s' is in BTF_SET8 %s of '%s', but BTF ids not resolved (its count is 0)",
		      name, set->name, m->path);
	else
		p_err("kfunc '%s' is in BTF_SET8 %s of '%s' without its BTF id %u (ids resolved on another base?)",
		      name, set->name, m->path, id);
	return -ENOENT;
}

int kfunc_verify_module(const char *ko, const char *base, const char *const *names, size_t n)
{
	struct btf *base_btf = NULL, *btf = NULL;
	struct module m;
	int err = module_open(&m, ko, false);

	if (err)
		goto out;
	err = m.btf ? load_btf(&m, base, &base_btf, &btf) : no_btf(&m);
	for (size_t i = 0; !err && i < n; i++)
		err = verify_kfunc(&m, btf, btf__type_cnt(base_btf), names[i]);
out:
	btf__free(btf);
	btf__free(base_btf);
	module_close(&m);
	return err;
}

/*
 * The kfunc ids a module registers are the entries of its BTF_SET8s: on
 * kernels whose BTF has no bpf_kfunc DECL_TAGs this is the only record of
 * which functions are kfuncs.
 */
int kfunc_module_set8_ids(const char *ko, __u32 **ids, size_t *n)
{
	struct module m;
	int err = module_open(&m, ko, false);

	*ids = NULL;
	*n = 0;
	for (size_t i = 0; !err && i < m.nsyms; i++) {
		const struct id_sym *s = &m.syms[i];
		__u32 cnt;

		if (s->kind != SK_SET8)
			continue;
		cnt = slot_get(&m, s->off);
		if (cnt > s->size / 8 - 1) {
			p_err("'%s': BTF_SET8 %s counts %u entries but has room for %zu", ko,
			      s->name, cnt, s->size / 8 - 1);
			err = -EINVAL;
			break;
		}
		*ids = xrealloc(*ids, (*n + cnt + 1) * sizeof(**ids));
		for (__u32 k = 0; k < cnt; k++)
			(*ids)[(*n)++] = slot_get(&m, s->off + 8 + 8 * (size_t)k);
	}
	module_close(&m);
	if (err) {
		free(*ids);
		*ids = NULL;
		*n = 0;
	}
	return err;
}

/*
 * Whether path begins like an ELF file of this byte order: raw BTF has no
 * .BTF.base, and other files are left to libbpf as before.
 */
static bool looks_elf(const char *path)
{
	unsigned char id[EI_NIDENT];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes = fd >= 0 && pread(fd, id, sizeof(id), 0) == (ssize_t)sizeof(id) &&
		   !memcmp(id, ELFMAG, SELFMAG) && id[EI_DATA] == HOST_ELFDATA;

	if (fd >= 0)
		close(fd);
	return yes;
}

int kfunc_btf_open_distilled(const char *path, struct btf **base_btf, struct btf **btf)
{
	struct module m;
	int err;

	*base_btf = NULL;
	*btf = NULL;
	err = peek_elf(path, &m);
	if (err)
		return err < 0 ? err : 0;
	if (m.btf_base)
		err = m.btf ? load_btf(&m, NULL, base_btf, btf) : no_btf(&m);
	else if (m.btf)
		err = btf_section_ok(&m);
	module_close(&m);
	if (err) {
		btf__free(*btf);
		btf__free(*base_btf);
		*btf = *base_btf = NULL;
		return err;
	}
	return *btf ? 1 : 0;
}
