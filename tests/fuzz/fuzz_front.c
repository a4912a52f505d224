/*
 * libFuzzer target for the front end: each input is one .ks file, checked
 * the way `ksc check FILE` checks it (check_file: load, includes, imports,
 * sema, the module checks, diagnostics printed).  The file is written to a
 * private directory, so relative includes and imports resolve there.
 *
 * Every input runs in a fresh arena, freed afterwards; the declarations
 * made from BTF (btf_types.c) are forgotten with it, so thousands of inputs
 * in one process neither leak nor see each other.  The kernel's BTF
 * (/sys/kernel/btf/vmlinux, or KSC_FUZZ_BTF) is loaded once, before the
 * first input.  Diagnostics go to stderr: run with -close_fd_mask=2 to
 * silence them (sanitizer and libFuzzer reports still show).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "btf_types.h"
#include "cli.h"

static char dir[4096], path[4200];
/* The fuzzer's one kernel: its BTF is loaded once for every input. */
static struct kernel kernel;

static void cleanup(void)
{
	unlink(path);
	rmdir(dir);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *tmp = getenv("TMPDIR"), *btf = getenv("KSC_FUZZ_BTF");

	(void)argc, (void)argv;
	snprintf(dir, sizeof(dir), "%s/ksc-fuzz-front-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("fuzz_front: mkdtemp");
		exit(1);
	}
	snprintf(path, sizeof(path), "%s/fuzz.ks", dir);
	atexit(cleanup);
	if (btf && *btf)
		kernel.btf_path = btf;
	/* Each run forgets only the types it made. */
	btf_available(&kernel);
	ksc_verbose = -1;
	return 0;
}

static void write_input(const uint8_t *data, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || (size && write(fd, data, size) != (ssize_t)size) || close(fd)) {
		perror("fuzz_front: writing the input");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct arena a = { 0 };

	write_input(data, size);
	check_file(path, &kernel, &a, NULL);
	arena_free(&a);
	btf_types_forget(&kernel);
	return 0;
}
