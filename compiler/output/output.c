#include "output.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebpfgen.h"
#include "kmodgen.h"
#include "tree.h"
#include "usergen.h"
#include "util.h"

/*
 * What `make` in the tree and kbuild in kmod/ leave behind, so that a built
 * tree can be replaced: kbuild's products for external modules (the ones
 * its `make clean` removes) and the logs and base BTF of ksc kmod build.
 */
static const char *const kbuild_products[] = {
	"*.o", ".*.o", "*.ko", "*.mod", "*.mod.c", "*.symvers", "*.order", ".*.cmd", ".*.d",
	"*.dwo", "*.su", ".tmp_*/", "build.log", "btf.log", ".ksc-base.btf", "*.tmp",
};

int output_commit(struct out_tree *t, const char *name, unsigned parts)
{
	const char *kmod = parts & OUT_KBUILD ? "" : "kmod/";
	char *loader[] = {
		xstrdup(name), xasprintf("%s.ebpf.o", name), xasprintf("%s.skel.h", name),
		xstrdup("*.tmp"), xstrdup("build.log"), xstrdup("__pycache__/"),
	};
	const char *v[ARRAY_SIZE(loader) + ARRAY_SIZE(kbuild_products) + 1];
	size_t n = 0, nk = 0;
	char *kb[ARRAY_SIZE(kbuild_products)];
	int err;

	if (parts & (OUT_USER | OUT_BUILD))
		for (size_t i = 0; i < ARRAY_SIZE(loader); i++)
			v[n++] = loader[i];
	if (parts & (OUT_KMOD | OUT_KBUILD))
		for (size_t i = 0; i < ARRAY_SIZE(kbuild_products); i++)
			v[n++] = kb[nk++] = xasprintf("%s%s", kmod, kbuild_products[i]);
	v[n] = NULL;
	err = tree_commit(t, v);
	for (size_t i = 0; i < ARRAY_SIZE(loader); i++)
		free(loader[i]);
	for (size_t i = 0; i < nk; i++)
		free(kb[i]);
	return err;
}

static int write_kmod(struct program *prog, const char *dir)
{
	char *kdir = xasprintf("%s/kmod", dir);
	int err = 0;

	if (mkdir(kdir, 0755)) {
		err = -errno;
		p_err("cannot create '%s': %s", kdir, strerror(errno));
	} else {
		err = kmodgen_write(prog, kdir);
	}
	free(kdir);
	return err;
}

static int write_ebpf(struct program *prog, const char *dir)
{
	char *src = xasprintf("%s/%s.ebpf.c", dir, prog->base);
	char *hdr = xasprintf("%s/vmlinux.h", dir);
	int err = ebpfgen_write(prog, src, hdr);

	free(src);
	free(hdr);
	return err;
}

int output_write(struct program *prog, const char *dir, unsigned parts)
{
	int err = 0;

	if ((parts & OUT_EBPF) && !err)
		err = write_ebpf(prog, dir);
	if ((parts & OUT_USER) && !err)
		err = usergen_write(prog, dir);
	if ((parts & OUT_USER) && !err)
		err = usergen_write_runtime(dir);
	if ((parts & OUT_KMOD) && prog->has_kmod && !err)
		err = write_kmod(prog, dir);
	if ((parts & OUT_BUILD) && !err)
		err = usergen_write_build(prog, dir);
	return err;
}
