#include "output.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ebpfgen.h"
#include "kmodgen.h"
#include "usergen.h"
#include "util.h"

/* A file in every tree ksc writes, so it only ever replaces its own trees. */
#define MARKER ".ksc-output"

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path) ? -1 : 0;
}

int remove_tree(const char *path)
{
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) && errno != ENOENT)
		return -errno;
	return 0;
}

/* mkdir -p of dir's parent, so -o may name a new nested directory. */
static void make_parents(const char *dir)
{
	char *p = xstrdup(dir);

	for (char *s = strchr(p + 1, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	free(p);
}

int output_begin(const char *dir, char **tmp)
{
	char *t = xasprintf("%s.ksc-tmp-XXXXXX", dir);

	make_parents(dir);
	if (!mkdtemp(t)) {
		int err = -errno;

		p_err("cannot create a directory next to '%s': %s", dir, strerror(errno));
		free(t);
		return err;
	}
	/* mkdtemp makes it private; the tree is meant to be shared like any source. */
	chmod(t, 0755);
	*tmp = t;
	return 0;
}

void output_abort(const char *tmp)
{
	remove_tree(tmp);
}

int output_commit(const char *tmp, const char *dir)
{
	struct stat st;
	char *marker = xasprintf("%s/%s", dir, MARKER);
	char *tmarker = xasprintf("%s/%s", tmp, MARKER);
	int err = 0;

	if (write_file(tmarker, "", 0)) {
		err = -EIO;
	} else if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode) || access(marker, F_OK)) {
			p_err("'%s' exists and was not written by ksc; choose another -o directory", dir);
			err = -EEXIST;
		} else {
			err = remove_tree(dir);
			if (err)
				p_err("cannot replace '%s': %s", dir, strerror(-err));
		}
	}
	if (!err && rename(tmp, dir)) {
		err = -errno;
		p_err("cannot move the output into '%s': %s", dir, strerror(errno));
	}
	if (err)
		remove_tree(tmp);
	free(marker);
	free(tmarker);
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
	int err = ebpfgen_write(prog, src);

	if (!err)
		err = ebpfgen_write_vmlinux_h(hdr);
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
