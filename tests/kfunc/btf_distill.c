/*
 * Writes the BTF of a small kfunc module twice, as tests/kfunc/t-distilled.sh
 * needs it without any kernel: split over a full base (what pahole gives a
 * module on a tree without distillation) and split over a distilled base
 * (what 6.12+ kbuild with pahole >= 1.26 gives out-of-tree modules), built
 * with libbpf's btf__add_* API.  Then damaged copies for the error paths.
 *
 *   btf_distill DIR   writes DIR/{base,dist,split,tagged,full}.btf and the
 *                     damaged ones; prints "NAME FULL_ID DIST_ID" per type
 *
 * The full base has filler types in front, so that every id of the module
 * differs between the two bases: ids resolved on the wrong one show.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FILLERS 40

static int fail(const char *what)
{
	fprintf(stderr, "btf_distill: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void *raw_copy(const struct btf *btf, __u32 *size)
{
	const void *raw = btf__raw_data(btf, size);
	void *copy = raw ? malloc(*size) : NULL;

	if (!copy)
		fail("btf__raw_data");
	return memcpy(copy, raw, *size);
}

static void write_bytes(const char *dir, const char *name, const void *data, size_t size)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		fail(path);
}

static void write_btf(const char *dir, const char *name, const struct btf *btf)
{
	__u32 size;
	void *raw = raw_copy(btf, &size);

	write_bytes(dir, name, raw, size);
	free(raw);
}

/* The vmlinux-like base: fillers, then the types the module refers to. */
static struct btf *full_base(int *u32_id, int *task_id)
{
	struct btf *b = btf__new_empty();
	char name[32];

	if (!b)
		fail("btf__new_empty");
	for (int i = 0; i < FILLERS; i++) {
		snprintf(name, sizeof(name), "filler_%d", i);
		if (btf__add_struct(b, name, 8) < 0 || btf__add_field(b, "x", 1, 0, 0) < 0)
			fail("filler");
	}
	*u32_id = btf__add_int(b, "unsigned int", 4, 0);
	*task_id = btf__add_struct(b, "task_struct", 16);
	if (*u32_id < 0 || *task_id < 0 || btf__add_field(b, "pid", *u32_id, 0, 0) < 0 ||
	    btf__add_field(b, "tgid", *u32_id, 32, 0) < 0)
		fail("base types");
	return b;
}

/* What btf__distill_base() keeps of it: the named types, without members. */
static struct btf *distilled_base(int *u32_id, int *task_id)
{
	struct btf *b = btf__new_empty();

	if (!b)
		fail("btf__new_empty");
	*u32_id = btf__add_int(b, "unsigned int", 4, 0);
	*task_id = btf__add_struct(b, "task_struct", 16);
	if (*u32_id < 0 || *task_id < 0)
		fail("distilled types");
	return b;
}

struct ids {
	int ptr, count_proto, count, task_proto, task;
};

/*
 * The module's own types: u32 fix_count(u32 v) and
 * u32 fix_task(struct task_struct *p), the PTR first (damage() relies on
 * it), with bpf_kfunc DECL_TAGs when `tags`.
 */
static struct btf *module_btf(struct btf *base, int u32_id, int task_id, bool tags,
			      struct ids *id)
{
	struct btf *m = btf__new_empty_split(base);

	if (!m)
		fail("btf__new_empty_split");
	id->ptr = btf__add_ptr(m, task_id);
	id->count_proto = btf__add_func_proto(m, u32_id);
	if (id->ptr < 0 || id->count_proto < 0 || btf__add_func_param(m, "v", u32_id) < 0)
		fail("fix_count proto");
	id->count = btf__add_func(m, "fix_count", BTF_FUNC_GLOBAL, id->count_proto);
	id->task_proto = btf__add_func_proto(m, u32_id);
	if (id->count < 0 || id->task_proto < 0 || btf__add_func_param(m, "p", id->ptr) < 0)
		fail("fix_task proto");
	id->task = btf__add_func(m, "fix_task", BTF_FUNC_GLOBAL, id->task_proto);
	if (id->task < 0)
		fail("fix_task");
	if (tags && (btf__add_decl_tag(m, "bpf_kfunc", id->count, -1) < 0 ||
		     btf__add_decl_tag(m, "bpf_kfunc", id->task, -1) < 0))
		fail("decl tags");
	return m;
}

/* The first type of a raw BTF's type section, as bytes to damage. */
static struct btf_type *first_type(void *raw)
{
	struct btf_header *h = raw;

	return (struct btf_type *)((char *)raw + h->hdr_len + h->type_off);
}

/* Copies of good BTF with one thing wrong that only a reader's checks catch. */
static void damage(const char *dir, const struct btf *dist, const struct btf *split)
{
	__u32 size;
	void *raw = raw_copy(dist, &size);
	struct btf_type *t = first_type(raw);

	/* The INT's name beyond the strings. */
	t->name_off = 0x7fffff;
	write_bytes(dir, "dist-badname.btf", raw, size);
	free(raw);

	raw = raw_copy(split, &size);
	t = first_type(raw);
	/* The module's PTR to a type that does not exist. */
	t->type = 9999;
	write_bytes(dir, "split-badref.btf", raw, size);
	/* ... or to itself: a loop a type walk never leaves. */
	t->type = btf__type_cnt(btf__base_btf(split));
	write_bytes(dir, "split-loop.btf", raw, size);
	free(raw);
}

int main(int argc, char **argv)
{
	struct btf *base, *dist, *split, *tagged, *full;
	int u32_full, task_full, u32_dist, task_dist;
	struct ids fid, did;

	if (argc != 2) {
		fputs("usage: btf_distill DIR\n", stderr);
		return 2;
	}
	base = full_base(&u32_full, &task_full);
	dist = distilled_base(&u32_dist, &task_dist);
	full = module_btf(base, u32_full, task_full, false, &fid);
	split = module_btf(dist, u32_dist, task_dist, false, &did);
	tagged = module_btf(dist, u32_dist, task_dist, true, &did);
	write_btf(argv[1], "base.btf", base);
	write_btf(argv[1], "dist.btf", dist);
	write_btf(argv[1], "full.btf", full);
	write_btf(argv[1], "split.btf", split);
	write_btf(argv[1], "tagged.btf", tagged);
	damage(argv[1], dist, split);
	printf("task_struct %d %d\n", task_full, task_dist);
	printf("fix_count %d %d\n", fid.count, did.count);
	printf("fix_task %d %d\n", fid.task, did.task);
	btf__free(tagged);
	btf__free(split);
	btf__free(full);
	btf__free(dist);
	btf__free(base);
	return 0;
}
