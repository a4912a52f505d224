/*
 * Test driver for kfunc/btf/kfunc_btf.h: one subcommand per function, so that
 * tests/kfunc/t-btfids.sh can compare the library with the kernel's tools.
 *
 * Exit status: 0 success, 1 error (the library printed it), 2 usage,
 * 3 `resolve` found the ids already resolved (-EALREADY).
 */
#include "kfunc_btf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static int usage(void)
{
	fputs("usage: kfunc-tool extract VMLINUZ OUT | release VMLINUZ | base BASE OUT |\n"
	      "                  resolve KO BASE | verify KO BASE NAME...\n",
	      stderr);
	return 2;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";
	char rel[256];
	int err;

	if (!strcmp(cmd, "extract") && argc == 4)
		return kfunc_vmlinuz_extract_btf(argv[2], argv[3]) ? 1 : 0;
	if (!strcmp(cmd, "base") && argc == 4)
		return kfunc_base_btf_write(argv[2], argv[3]) ? 1 : 0;
	if (!strcmp(cmd, "release") && argc == 3) {
		if (kfunc_vmlinuz_release(argv[2], rel, sizeof(rel)))
			return 1;
		puts(rel);
		return 0;
	}
	if (!strcmp(cmd, "resolve") && argc == 4) {
		err = kfunc_resolve_btf_ids(argv[2], argv[3]);
		if (err == -EALREADY) {
			puts("already resolved");
			return 3;
		}
		return err ? 1 : 0;
	}
	if (!strcmp(cmd, "verify") && argc >= 5)
		return kfunc_verify_module(argv[2], argv[3], (const char *const *)argv + 4,
					   (size_t)argc - 4) ?
			       1 :
			       0;
	return usage();
}
