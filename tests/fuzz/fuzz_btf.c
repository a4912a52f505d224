/*
 * libFuzzer target for module BTF and ELF input.  Each input is written to
 * a file and read
 *   1. as `ksc kfuncs --btf FILE` reads it, with and without --kh, and with
 *      --base BASE (do_kfuncs itself: kfunc_btf_open_file and the listing);
 *   2. as a module .ko: kfunc_verify_module, kfunc_resolve_btf_ids on that
 *      copy of the bytes, and kfunc_verify_module again on what it wrote.
 *
 * BASE is a small vmlinux-like BTF made here with libbpf, the same bytes
 * as tests/kfunc/btf_distill.c's base.btf, so the seeds' split BTF
 * (tests/fuzz/seeds) parses on it.  The running kernel's BTF, which
 * `ksc kfuncs --btf` tries a split file on, is that BASE too: the real one
 * (5 MB) would cost 30 ms per input.  KSC_FUZZ_REAL_VMLINUX=1 keeps the
 * real one.  The substitution is -Wl,--wrap=btf__parse (the Makefile
 * links with it); nothing else of the code under test changes.
 *
 * Output: the listings go to /dev/null; errors (one "ksc: error:" line
 * per bad input) to stderr: -close_fd_mask=2 silences them.
 */
#include <bpf/btf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "kfunc_btf.h"
#include "kfunc_info.h"

static char dir[4096], in_path[4200], ko_path[4200], base_path[4200];
static void *base_raw;
static __u32 base_size;
static bool real_vmlinux;

struct btf *__real_btf__parse(const char *path, struct btf_ext **btf_ext);
struct btf *__wrap_btf__parse(const char *path, struct btf_ext **btf_ext);

struct btf *__wrap_btf__parse(const char *path, struct btf_ext **btf_ext)
{
	if (!real_vmlinux && base_raw && path && !strcmp(path, KFUNC_VMLINUX)) {
		if (btf_ext)
			*btf_ext = NULL;
		return btf__new(base_raw, base_size);
	}
	return __real_btf__parse(path, btf_ext);
}

static void die(const char *what)
{
	fprintf(stderr, "fuzz_btf: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* tests/kfunc/btf_distill.c's full base: 40 fillers, u32, task_struct. */
static void make_base(void)
{
	struct btf *b = btf__new_empty();
	char name[32];
	int u32_id, task_id;
	const void *raw;

	if (!b)
		die("btf__new_empty");
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "filler_%d", i);
		if (btf__add_struct(b, name, 8) < 0 || btf__add_field(b, "x", 1, 0, 0) < 0)
			die("filler");
	}
	u32_id = btf__add_int(b, "unsigned int", 4, 0);
	task_id = btf__add_struct(b, "task_struct", 16);
	if (u32_id < 0 || task_id < 0 || btf__add_field(b, "pid", u32_id, 0, 0) < 0 ||
	    btf__add_field(b, "tgid", u32_id, 32, 0) < 0)
		die("base types");
	raw = btf__raw_data(b, &base_size);
	base_raw = raw ? malloc(base_size) : NULL;
	if (!base_raw)
		die("btf__raw_data");
	memcpy(base_raw, raw, base_size);
	btf__free(b);
}

static void write_bytes(const char *path, const void *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd)) {
		perror("fuzz_btf: writing the input");
		abort();
	}
}

static void cleanup(void)
{
	unlink(in_path);
	unlink(ko_path);
	unlink(base_path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR"), *real = getenv("KSC_FUZZ_REAL_VMLINUX");

	(void)argc, (void)argv;
	real_vmlinux = real && *real && strcmp(real, "0");
	snprintf(dir, sizeof(dir), "%s/ksc-fuzz-btf-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir))
		die("mkdtemp");
	snprintf(in_path, sizeof(in_path), "%s/in.btf", dir);
	snprintf(ko_path, sizeof(ko_path), "%s/in.ko", dir);
	snprintf(base_path, sizeof(base_path), "%s/base.btf", dir);
	atexit(cleanup);
	make_base();
	write_bytes(base_path, base_raw, base_size);
	if (!freopen("/dev/null", "w", stdout))
		die("/dev/null");
	ksc_verbose = 1;    /* p_debug's lines are formatted too */
	return 0;
}

static void kfuncs(const char *a1, const char *a2, const char *a3, const char *a4)
{
	char *argv[] = { (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL };
	int argc = 0;

	while (argv[argc])
		argc++;
	do_kfuncs(argc, argv);
	fflush(stdout);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "fix_count", "fix_task", "kf_one", "kf_two" };

	write_bytes(in_path, data, size);
	kfuncs("--btf", in_path, NULL, NULL);
	kfuncs("--btf", in_path, "--kh", NULL);
	kfuncs("--btf", in_path, "--base", base_path);

	write_bytes(ko_path, data, size);
	kfunc_verify_module(ko_path, base_path, names, 2);
	kfunc_resolve_btf_ids(ko_path, base_path);
	kfunc_verify_module(ko_path, base_path, names, 4);
	return 0;
}
