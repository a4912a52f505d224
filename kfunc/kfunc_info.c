/*
 * Kfuncs read from BTF.  Since 6.3 the kernel marks kfuncs with __bpf_kfunc
 * and pahole (1.27+, decl_tag_kfuncs) turns their BTF_SET8 entries into a
 * "bpf_kfunc" DECL_TAG on the FUNC; older BTF only has the sets, which live
 * in the ELF file's .BTF_ids and not in /sys/kernel/btf.
 */
#include "kfunc_info.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kfunc_btf.h"
#include "lexer.h"
#include "util.h"

static const char *err_text(int err, char *buf, size_t len)
{
	if (err == -ENOENT)
		snprintf(buf, len, "no such file, or no .BTF section");
	else if (libbpf_strerror(err, buf, len))
		snprintf(buf, len, "%s", strerror(-err));
	return buf;
}

/* libbpf's own warnings would add lines to the one error printed here. */
static struct btf *parse_quiet(const char *path, struct btf *base, int *err)
{
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	struct btf *btf = base ? btf__parse_split(path, base) : btf__parse(path, NULL);

	*err = btf ? 0 : -errno;
	libbpf_set_print(old);
	return btf;
}

static int open_base(const char *path, struct btf **base)
{
	char msg[128], tmp[] = "/tmp/ksc-base-XXXXXX";
	int err, fd;

	err = kfunc_btf_elf_check(path);
	if (err)
		return err;
	*base = parse_quiet(path, NULL, &err);
	if (*base)
		return 0;
	/* A kernel image (vmlinuz): its BTF goes through a raw file first. */
	fd = mkstemp(tmp);
	if (fd < 0)
		return -errno;
	close(fd);
	if (kfunc_base_btf_write(path, tmp) == 0)
		*base = parse_quiet(tmp, NULL, &err);
	unlink(tmp);
	if (!*base)
		p_err("cannot load base BTF '%s': %s", path, err_text(err, msg, sizeof(msg)));
	return *base ? 0 : err;
}

static int open_split(struct kfunc_btf *kb, const char *path, const char *base)
{
	char msg[128];
	int err = open_base(base, &kb->base);

	if (err)
		return err;
	kb->btf = parse_quiet(path, kb->base, &err);
	if (!kb->btf) {
		p_err("the BTF of '%s' does not parse on base '%s': %s", path, base,
		      err_text(err, msg, sizeof(msg)));
		return err;
	}
	kb->first = btf__type_cnt(kb->base);
	return kfunc_btf_validate(kb->btf, kb->first, path, "its BTF");
}

/*
 * A module that kbuild (6.12+, pahole >= 1.26) gave a distilled base is
 * read on its own .BTF.base, which is what its .BTF_ids ids refer to; any
 * other base would misnumber its types.  1 when it has one.
 */
static int open_distilled(struct kfunc_btf *kb, const char *file, const char *base)
{
	int r = kfunc_btf_open_distilled(file, &kb->base, &kb->btf);

	if (r <= 0)
		return r;
	kb->first = btf__type_cnt(kb->base);
	if (base)
		p_debug("'%s' carries its distilled base BTF (.BTF.base): --base %s is not used", file,
			base);
	return 1;
}

int kfunc_btf_open_module(struct kfunc_btf *kb, const char *module)
{
	*kb = (struct kfunc_btf){ .first = 1 };
	if (!module) {
		kb->path = xstrdup(KFUNC_VMLINUX);
		return kfunc_btf_open_file(kb, KFUNC_VMLINUX, NULL);
	}
	if (strchr(module, '/') || !strcmp(module, "vmlinux")) {
		p_err("'%s' is not a module name (see /sys/kernel/btf)", module);
		return -EINVAL;
	}
	kb->path = xasprintf("/sys/kernel/btf/%s", module);
	if (access(kb->path, R_OK)) {
		int err = -errno;

		p_err("no BTF for module '%s': %s is missing (module not loaded, or built without BTF)",
		      module, kb->path);
		return err;
	}
	return open_split(kb, kb->path, KFUNC_VMLINUX);
}

/* FILE on the running kernel's BTF, silently: the error to report is FILE's own. */
static bool guess_split(struct kfunc_btf *kb, const char *file)
{
	int err;

	kb->base = parse_quiet(KFUNC_VMLINUX, NULL, &err);
	kb->btf = kb->base ? parse_quiet(file, kb->base, &err) : NULL;
	if (kb->btf) {
		kb->first = btf__type_cnt(kb->base);
		return true;
	}
	btf__free(kb->base);
	kb->base = NULL;
	return false;
}

int kfunc_btf_open_file(struct kfunc_btf *kb, const char *file, const char *base)
{
	char msg[128];
	int err;

	if (!kb->path)
		*kb = (struct kfunc_btf){ .first = 1, .path = xstrdup(file) };
	err = open_distilled(kb, file, base);
	if (err)
		return err < 0 ? err : 0;
	if (base)
		return open_split(kb, file, base);
	kb->btf = parse_quiet(file, NULL, &err);
	if (kb->btf)
		return kfunc_btf_validate(kb->btf, 1, file, "its BTF");
	/* A module's BTF is split: it only parses on top of its kernel's. */
	if (err != -ENOENT && access(KFUNC_VMLINUX, R_OK) == 0 && guess_split(kb, file)) {
		kb->guessed = true;
		return kfunc_btf_validate(kb->btf, kb->first, file, "its BTF");
	}
	p_err("cannot load BTF '%s': %s", file, err_text(err, msg, sizeof(msg)));
	return err;
}

void kfunc_btf_close(struct kfunc_btf *kb)
{
	btf__free(kb->btf);
	btf__free(kb->base);
	free(kb->path);
	*kb = (struct kfunc_btf){ 0 };
}

static bool is_kfunc_tag(const struct btf *btf, const struct btf_type *t)
{
	return btf_is_decl_tag(t) && btf_decl_tag(t)->component_idx == -1 &&
	       !strcmp(btf__name_by_offset(btf, t->name_off), "bpf_kfunc");
}

bool kfunc_is_tagged(const struct kfunc_btf *kb, __u32 func_id)
{
	__u32 cnt = btf__type_cnt(kb->btf);

	for (__u32 id = kb->first; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(kb->btf, id);

		if (is_kfunc_tag(kb->btf, t) && t->type == func_id)
			return true;
	}
	return false;
}

bool kfunc_btf_has_tags(const struct kfunc_btf *kb)
{
	__u32 cnt = btf__type_cnt(kb->btf);

	for (__u32 id = kb->first; id < cnt; id++)
		if (is_kfunc_tag(kb->btf, btf__type_by_id(kb->btf, id)))
			return true;
	return false;
}

static void push_id(__u32 **ids, size_t *n, __u32 id)
{
	*ids = xrealloc(*ids, (*n + 1) * sizeof(**ids));
	(*ids)[(*n)++] = id;
}

static void tagged_funcs(const struct kfunc_btf *kb, __u32 **ids, size_t *n)
{
	__u32 cnt = btf__type_cnt(kb->btf);

	for (__u32 id = kb->first; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(kb->btf, id);
		const struct btf_type *f;

		if (!is_kfunc_tag(kb->btf, t))
			continue;
		f = btf__type_by_id(kb->btf, t->type);
		if (f && btf_is_func(f))
			push_id(ids, n, t->type);
	}
}

/* Set entries are ids of FUNCs; anything else in a set8 is not a kfunc. */
static int set8_funcs(const struct kfunc_btf *kb, const char *elf, __u32 **ids, size_t *n)
{
	__u32 *all;
	size_t nall;
	int err = kfunc_module_set8_ids(elf, &all, &nall);

	for (size_t i = 0; !err && i < nall; i++) {
		const struct btf_type *t = btf__type_by_id(kb->btf, all[i]);

		if (all[i] >= kb->first && t && btf_is_func(t))
			push_id(ids, n, all[i]);
	}
	free(all);
	return err;
}

static const struct btf *sort_btf;

static int cmp_name(const void *a, const void *b)
{
	__u32 x = *(const __u32 *)a, y = *(const __u32 *)b;
	int c = strcmp(btf__name_by_offset(sort_btf, btf__type_by_id(sort_btf, x)->name_off),
		       btf__name_by_offset(sort_btf, btf__type_by_id(sort_btf, y)->name_off));

	return c ? c : (x > y) - (x < y);
}

/* Sorted by name, each id once (a kfunc may be in several sets). */
void kfunc_sort_unique(const struct btf *btf, __u32 *ids, size_t *n)
{
	size_t out = 0;

	sort_btf = btf;
	qsort(ids, *n, sizeof(*ids), cmp_name);
	for (size_t i = 0; i < *n; i++)
		if (!out || ids[out - 1] != ids[i])
			ids[out++] = ids[i];
	*n = out;
}

int kfunc_list(const struct kfunc_btf *kb, const char *elf, __u32 **ids, size_t *n,
	       bool *tagged)
{
	int err = 0;

	*ids = NULL;
	*n = 0;
	tagged_funcs(kb, ids, n);
	*tagged = *n > 0;
	if (!*n && elf)
		err = set8_funcs(kb, elf, ids, n);
	if (err)
		return err;
	if (!*n) {
		p_err("no kfuncs in '%s': no bpf_kfunc tags (kernel before 6.3, or pahole without decl_tag_kfuncs)%s%s",
		      kb->path,
		      elf ? " and no resolved BTF_SET8 of its FUNCs in .BTF_ids" :
			    "; give the .ko or vmlinux ELF with --btf to read its BTF_SET8s",
		      kb->guessed ? " (read on the running kernel's BTF: give its own with --base)" : "");
		return -ENOENT;
	}
	kfunc_sort_unique(kb->btf, *ids, n);
	return 0;
}

__u32 kfunc_find(const struct kfunc_btf *kb, const char *name)
{
	__u32 cnt = btf__type_cnt(kb->btf);

	for (__u32 id = kb->first; id < cnt; id++) {
		const struct btf_type *t = btf__type_by_id(kb->btf, id);

		if (btf_is_func(t) && !strcmp(btf__name_by_offset(kb->btf, t->name_off), name))
			return id;
	}
	return 0;
}

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	sb_vprintf(ctx, fmt, args);
}

static int emit_decl(struct btf_dump *d, __u32 type, const char *name)
{
	LIBBPF_OPTS(btf_dump_emit_type_decl_opts, opts, .field_name = name);

	return btf_dump__emit_type_decl(d, type, &opts);
}

static int c_params(struct btf_dump *d, const struct btf *btf, const struct btf_type *fp,
		    struct strbuf *sb)
{
	const struct btf_param *p = btf_params(fp);
	int err = 0;

	if (!btf_vlen(fp))
		sb_puts(sb, "void");
	for (unsigned i = 0; !err && i < btf_vlen(fp); i++, p++) {
		if (i)
			sb_puts(sb, ", ");
		if (!p->type)
			sb_puts(sb, "...");
		else
			err = emit_decl(d, p->type, btf__name_by_offset(btf, p->name_off));
	}
	return err;
}

char *kfunc_c_proto(const struct kfunc_btf *kb, __u32 id)
{
	const struct btf_type *f = btf__type_by_id(kb->btf, id);
	const struct btf_type *fp = btf__type_by_id(kb->btf, f->type);
	struct btf_dump *d;
	struct strbuf sb;
	int err;

	sb_init(&sb);
	d = btf_dump__new(kb->btf, dump_printf, &sb, NULL);
	if (!d)
		return NULL;
	err = fp->type ? emit_decl(d, fp->type, "") : (sb_puts(&sb, "void"), 0);
	if (!err) {
		/* btf_dump prints "struct x *" for pointers; no space after the star. */
		if (sb.len && sb.buf[sb.len - 1] != '*')
			sb_putc(&sb, ' ');
		sb_printf(&sb, "%s(", btf__name_by_offset(kb->btf, f->name_off));
		err = c_params(d, kb->btf, fp, &sb);
		sb_putc(&sb, ')');
	}
	btf_dump__free(d);
	if (err) {
		sb_free(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

static __u32 skip_mods(const struct btf *btf, __u32 id)
{
	for (int guard = 0; id && guard < 32; guard++) {
		const struct btf_type *t = btf__type_by_id(btf, id);

		if (!t || !(btf_is_mod(t) || btf_is_typedef(t) || btf_is_type_tag(t)))
			break;
		id = t->type;
	}
	return id;
}

int kfunc_scalar_of(const struct kfunc_btf *kb, __u32 id, int i, struct kfunc_scalar *s)
{
	const struct btf_type *f = btf__type_by_id(kb->btf, id);
	const struct btf_type *fp = btf__type_by_id(kb->btf, f->type), *t;
	__u32 tid = i < 0 ? fp->type : btf_params(fp)[i].type;

	*s = (struct kfunc_scalar){ 0 };
	tid = skip_mods(kb->btf, tid);
	if (!tid)
		return i < 0 ? 0 : -EINVAL;
	t = btf__type_by_id(kb->btf, tid);
	if (btf_is_int(t) && t->size <= 8) {
		s->size = t->size;
		s->is_signed = btf_int_encoding(t) & BTF_INT_SIGNED;
		s->is_bool = btf_int_encoding(t) & BTF_INT_BOOL;
		return 0;
	}
	if (btf_is_any_enum(t) && t->size <= 8) {
		s->size = t->size;
		s->is_signed = btf_kflag(t);
		return 0;
	}
	return -EINVAL;
}

static bool is_keyword(const char *s)
{
	static const char *const kw[] = {
#define X(name, text) text,
		KS_KEYWORDS(X)
#undef X
	};

	for (size_t i = 0; i < ARRAY_SIZE(kw); i++)
		if (!strcmp(kw[i], s))
			return true;
	return false;
}

/* The KernelScript spelling of BTF type `id`, or false. */
static bool ks_type(const struct kfunc_btf *kb, __u32 id, struct strbuf *sb, int depth)
{
	const struct btf_type *t;

	id = skip_mods(kb->btf, id);
	t = btf__type_by_id(kb->btf, id);
	if (!id || !t || depth > 1)
		return false;
	if (btf_is_int(t) && (btf_int_encoding(t) & BTF_INT_BOOL)) {
		sb_puts(sb, "bool");
	} else if ((btf_is_int(t) || btf_is_any_enum(t)) &&
		   (t->size == 1 || t->size == 2 || t->size == 4 || t->size == 8)) {
		bool sign = btf_is_int(t) ? btf_int_encoding(t) & BTF_INT_SIGNED : btf_kflag(t);

		sb_printf(sb, "%c%u", sign ? 'i' : 'u', t->size * 8);
	} else if (btf_is_ptr(t)) {
		__u32 to = skip_mods(kb->btf, t->type);
		const struct btf_type *pt = btf__type_by_id(kb->btf, to);

		sb_putc(sb, '*');
		if (!to)
			sb_puts(sb, "void");
		else if (btf_is_composite(pt) && pt->name_off)
			sb_puts(sb, btf__name_by_offset(kb->btf, pt->name_off));
		else if (!ks_type(kb, to, sb, depth + 1))
			return false;
	} else {
		return false;
	}
	return true;
}

static bool ks_params(const struct kfunc_btf *kb, const struct btf_type *fp, struct strbuf *sb,
		      const char **why)
{
	const struct btf_param *p = btf_params(fp);

	for (unsigned i = 0; i < btf_vlen(fp); i++, p++) {
		const char *pn = btf__name_by_offset(kb->btf, p->name_off);

		if (i)
			sb_puts(sb, ", ");
		if (!p->type) {
			*why = "variadic";
			return false;
		}
		if (!pn || !*pn)
			sb_printf(sb, "arg%u: ", i);
		else
			sb_printf(sb, "%s%s: ", pn, is_keyword(pn) ? "_" : "");
		if (!ks_type(kb, p->type, sb, 0)) {
			*why = "a parameter type KernelScript cannot spell";
			return false;
		}
	}
	return true;
}

char *kfunc_ks_params(const struct kfunc_btf *kb, __u32 id, const char **why)
{
	const struct btf_type *f = btf__type_by_id(kb->btf, id);
	struct strbuf sb;

	sb_init(&sb);
	if (!ks_params(kb, btf__type_by_id(kb->btf, f->type), &sb, why)) {
		sb_free(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

char *kfunc_ks_extern(const struct kfunc_btf *kb, __u32 id, const char **why)
{
	const struct btf_type *f = btf__type_by_id(kb->btf, id);
	const struct btf_type *fp = btf__type_by_id(kb->btf, f->type);
	struct strbuf sb;

	sb_init(&sb);
	sb_printf(&sb, "extern %s(", btf__name_by_offset(kb->btf, f->name_off));
	if (!ks_params(kb, fp, &sb, why)) {
		sb_free(&sb);
		return NULL;
	}
	sb_putc(&sb, ')');
	if (fp->type) {
		sb_puts(&sb, " -> ");
		if (!ks_type(kb, fp->type, &sb, 0)) {
			*why = "a return type KernelScript cannot spell";
			sb_free(&sb);
			return NULL;
		}
	}
	return sb_detach(&sb);
}
