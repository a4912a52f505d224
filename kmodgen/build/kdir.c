#include "kdir.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util.h"

static char *read_text(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name), *data;
	size_t len;
	int err = read_file(path, &data, &len);

	free(path);
	return err ? NULL : data;
}

static bool exists(const char *dir, const char *name, bool exec)
{
	char *path = xasprintf("%s/%s", dir, name);
	bool ok = access(path, exec ? X_OK : R_OK) == 0;

	free(path);
	return ok;
}

/*
 * The release modules built here carry in their vermagic: UTS_RELEASE.
 * include/config/kernel.release can differ (Debian's 6.1 headers say
 * "6.1.192" there for 6.1.0-57-amd64).
 */
static char *read_release(const char *dir)
{
	char *h = read_text(dir, "include/generated/utsrelease.h"), *p, *end, *r = NULL;

	if (h && (p = strstr(h, "UTS_RELEASE \"")) && (end = strchr(p += 13, '"')))
		r = xstrndup(p, (size_t)(end - p));
	free(h);
	if (!r && (r = read_text(dir, "include/config/kernel.release")))
		r[strcspn(r, "\n")] = '\0';
	return r;
}

/* LINUX_VERSION_CODE from the tree's generated version.h. */
static unsigned read_version(const char *dir)
{
	char *h = read_text(dir, "include/generated/uapi/linux/version.h");
	const char *p;
	unsigned v = 0;

	if (!h)
		return 0;
	p = strstr(h, "LINUX_VERSION_CODE ");
	if (p)
		v = (unsigned)strtoul(p + strlen("LINUX_VERSION_CODE "), NULL, 10);
	free(h);
	return v;
}

int kdir_open(const char *path, struct kdir *k)
{
	char real[PATH_MAX], *config;
	struct stat st;

	memset(k, 0, sizeof(*k));
	if (stat(path, &st) || !S_ISDIR(st.st_mode)) {
		p_err("--kdir %s: no such directory; give the kernel's build tree, e.g. /lib/modules/<release>/build",
		      path);
		return -ENOENT;
	}
	if (!realpath(path, real)) {
		p_err("--kdir %s: %s", path, strerror(errno));
		return -errno;
	}
	if (!exists(real, "Makefile", false)) {
		p_err("--kdir %s is not a kernel build tree (no Makefile); install the linux-headers package for the kernel",
		      path);
		return -EINVAL;
	}
	config = read_text(real, ".config");
	if (!config) {
		p_err("--kdir %s has no .config: it is not a configured kernel tree; install the kernel's headers package, or run 'make olddefconfig modules_prepare' in it",
		      path);
		return -EINVAL;
	}
	k->btf_modules = strstr(config, "\nCONFIG_DEBUG_INFO_BTF_MODULES=y") != NULL;
	free(config);
	k->release = read_release(real);
	k->version = read_version(real);
	if (!k->release || !k->version) {
		p_err("--kdir %s is not prepared (no include/generated/utsrelease.h or version.h); run 'make modules_prepare' in it",
		      path);
		kdir_close(k);
		return -EINVAL;
	}
	k->path = xstrdup(real);
	k->has_vmlinux = exists(real, "vmlinux", false);
	k->has_resolve_btfids = exists(real, "tools/bpf/resolve_btfids/resolve_btfids", true);
	return 0;
}

void kdir_close(struct kdir *k)
{
	free(k->path);
	free(k->release);
	memset(k, 0, sizeof(*k));
}
