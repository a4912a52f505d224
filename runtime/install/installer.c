/* The installation layout and the module, shared by install/uninstall/status: see installer.h. */
#include "installer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <libkmod.h>
#include <linux/magic.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

#define BPFFS "/sys/fs/bpf"

static bool is_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

int install_preflight(const char *what)
{
	if (geteuid() != 0) {
		p_err("%s needs root (it loads modules and BPF programs)", what);
		return -EPERM;
	}
	if (is_bpffs(BPFFS))
		return 0;
	/* A fresh VM or container often has none: mounting it is what the user would do. */
	if (mount("bpf", BPFFS, "bpf", 0, NULL)) {
		int err = -errno;

		p_err("bpffs is not mounted at " BPFFS " and mounting it failed: %s (mount -t bpf bpf " BPFFS ")",
		      strerror(-err));
		return err;
	}
	p_step("mounted bpffs at " BPFFS);
	return 0;
}

bool install_valid_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

char *install_path(const char *name, const char *sub)
{
	return sub ? xasprintf(INSTALL_ROOT "/%s/%s", name, sub) : xasprintf(INSTALL_ROOT "/%s", name);
}

void install_sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* What a bpf fd is, from its fdinfo: 'l' link, 'm' map (*map_type set), 'p' program. */
char install_fd_kind(int fd, unsigned *map_type)
{
	char path[64], line[256];
	char kind = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (!kind && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "link_type:", 10))
			kind = 'l';
		else if (!strncmp(line, "prog_type:", 10))
			kind = 'p';
		else if (sscanf(line, "map_type: %u", map_type) == 1)
			kind = 'm';
	}
	fclose(f);
	return kind;
}

/* A tc filter recorded in a pin's name (see installer.h): removed, and its qdisc if ours. */
static int tc_detach(const char *path)
{
	const char *tag = strstr(path, INSTALL_TC_TAG);
	char dir[8], qdisc;
	int ifindex, err;
	unsigned handle, prio;

	if (!tag || sscanf(tag + strlen(INSTALL_TC_TAG), "%d-%7[a-z]-%u-%u-%c", &ifindex, dir, &handle,
			   &prio, &qdisc) != 5)
		return 0;
	{
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = strcmp(dir, "egress") ? BPF_TC_INGRESS : BPF_TC_EGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = handle, .priority = prio);

		err = bpf_tc_detach(&hook, &opts);
		/* Gone already (interface or qdisc removed) is what we wanted. */
		if (err == -ENOENT || err == -ENODEV || err == -EINVAL)
			err = 0;
		if (!err && qdisc == 'q') {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	}
	return err;
}

int install_unpin(const char *path)
{
	unsigned map_type = 0;
	int fd = bpf_obj_get(path), err = 0;

	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd >= 0) {
		switch (install_fd_kind(fd, &map_type)) {
		case 'l':
			/* Detached now, even if someone else holds the link too. */
			if (bpf_link_detach(fd) && errno != EOPNOTSUPP && errno != EINVAL)
				err = -errno;
			break;
		case 'm':
			if (map_type == BPF_MAP_TYPE_STRUCT_OPS) {
				__u32 zero = 0;

				if (bpf_map_delete_elem(fd, &zero) && errno != ENOENT)
					err = -errno;
			}
			break;
		case 'p':
			err = tc_detach(path);
			break;
		}
		close(fd);
	}
	if (unlink(path) && errno != ENOENT)
		err = err ? err : -errno;
	if (err)
		p_err("cannot take down %s: %s", path, strerror(-err));
	return err;
}

static int remove_entries(const char *dir);

static int remove_entry(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct stat st;
	int err = 0;

	if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
		err = install_remove_tree(path);
	else
		err = install_unpin(path);
	free(path);
	return err;
}

static int remove_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int err = 0;

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((e = readdir(d))) {
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			int r = remove_entry(dir, e->d_name);

			err = err ? err : r;
		}
	}
	closedir(d);
	return err;
}

int install_remove_tree(const char *dir)
{
	/* Links before programs before maps: the reverse of install. */
	static const char *const first[] = { "links", "progs" };
	int err = 0;

	for (size_t i = 0; i < ARRAY_SIZE(first); i++) {
		char *sub = xasprintf("%s/%s", dir, first[i]);
		int r = remove_entries(sub);

		if (!r && rmdir(sub) && errno != ENOENT)
			r = -errno;
		err = err ? err : r;
		free(sub);
	}
	if (!err)
		err = remove_entries(dir);
	if (!err && rmdir(dir) && errno != ENOENT) {
		err = -errno;
		p_err("cannot remove %s: %s", dir, strerror(-err));
	}
	return err;
}

/* Whether the space-separated words of s hold one starting with word (all of it when !prefix). */
static bool has_word(const char *s, const char *word, bool prefix)
{
	size_t n = strlen(word);

	for (const char *p = s; (p = strstr(p, word)); p += n)
		if ((p == s || p[-1] == ' ') && (prefix || p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* "6.1.0-57-amd64 SMP preempt": a release and the two flags ksc compares. */
static char *describe(const char *release, bool smp, bool preempt)
{
	return xasprintf("%s%s%s", release, smp ? " SMP" : "", preempt ? " preempt" : "");
}

/*
 * The kernel compares the whole vermagic without modversions, and the part
 * after the release with it (then symbol CRCs); insmod of a module for
 * another release is refused by modprobe too.  The running kernel's flags
 * are not published, but its version string (UTS_VERSION) carries "SMP"
 * and "PREEMPT..." exactly when its vermagic carries "SMP" and "preempt...".
 */
int module_check_vermagic(const char *ko, const char *vermagic)
{
	struct utsname u;
	size_t rlen;
	char *rel, *mine, *theirs;
	bool smp, preempt, ksmp, kpreempt;

	if (!vermagic) {
		p_err("%s has no vermagic in its .modinfo: not a module kbuild built", ko);
		return -ENOEXEC;
	}
	if (uname(&u))
		return 0;
	rlen = strcspn(vermagic, " ");
	rel = xstrndup(vermagic, rlen);
	if (strcmp(rel, u.release)) {
		p_err("%s was built for %s, this kernel is %s: rebuild it with --kdir /lib/modules/%s/build", ko,
		      rel, u.release, u.release);
		free(rel);
		return -ENOEXEC;
	}
	smp = has_word(vermagic, "SMP", false);
	preempt = has_word(vermagic, "preempt", true);
	ksmp = has_word(u.version, "SMP", false);
	kpreempt = has_word(u.version, "PREEMPT", true);
	if (smp == ksmp && preempt == kpreempt) {
		free(rel);
		return 0;
	}
	mine = describe(rel, smp, preempt);
	theirs = describe(u.release, ksmp, kpreempt);
	p_err("%s was built for %s, this kernel is %s: rebuild it with --kdir /lib/modules/%s/build", ko, mine,
	      theirs, u.release);
	free(mine);
	free(theirs);
	free(rel);
	return -ENOEXEC;
}

bool module_loaded(const char *name)
{
	char *path = xasprintf("/sys/module/%s", name);
	bool r = access(path, F_OK) == 0;

	free(path);
	return r;
}

int module_refcnt(const char *name)
{
	char *path = xasprintf("/sys/module/%s/refcnt", name), *text;
	size_t len;
	int n = -1;

	if (!read_file(path, &text, &len)) {
		n = atoi(text);
		free(text);
	}
	free(path);
	return n;
}

/* The modules that depend on NAME, space-separated, or NULL. */
static char *module_holders(const char *name)
{
	char *path = xasprintf("/sys/module/%s/holders", name);
	DIR *d = opendir(path);
	struct dirent *e;
	struct strbuf sb;

	free(path);
	if (!d)
		return NULL;
	sb_init(&sb);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			sb_printf(&sb, "%s%s", sb.len ? " " : "", e->d_name);
	closedir(d);
	if (!sb.len) {
		sb_free(&sb);
		return NULL;
	}
	return sb_detach(&sb);
}

static int remove_with(struct kmod_ctx *ctx, const char *name)
{
	struct kmod_module *mod;
	int err = kmod_module_new_from_name(ctx, name, &mod);

	if (err)
		return err;
	err = kmod_module_remove_module(mod, 0);
	kmod_module_unref(mod);
	return err;
}

int module_remove(const char *name)
{
	char *holders = module_holders(name);
	struct kmod_ctx *ctx;
	int err = -EBUSY;

	if (holders) {
		p_err("module %s is used by the modules %s: remove them first", name, holders);
		free(holders);
		return -EBUSY;
	}
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		p_err("cannot start libkmod");
		return -ENOMEM;
	}
	/*
	 * Programs freed a moment ago still hold the module through its BTF
	 * until the kernel's deferred free runs: give that up to 5 s.
	 */
	for (int i = 0; i < 50 && module_loaded(name); i++) {
		if (module_refcnt(name) <= 0) {
			err = remove_with(ctx, name);
			if (!err || (err != -EAGAIN && err != -EBUSY && err != -EWOULDBLOCK))
				break;
		}
		install_sleep_ms(100);
	}
	if (!module_loaded(name))
		err = 0;
	kmod_unref(ctx);
	if (err == -EBUSY || err == -EAGAIN || err == -EWOULDBLOCK)
		p_err("module %s is still in use (refcnt %d) by programs ksc did not install: stop them and uninstall again",
		      name, module_refcnt(name));
	else if (err)
		p_err("cannot remove module %s: %s", name, strerror(-err));
	return err;
}

enum install_state install_state(const char *name, int *pid)
{
	char *pattern = install_path(name, INSTALL_MARK "*");
	enum install_state st = INSTALL_DONE;
	glob_t g;

	*pid = 0;
	if (!glob(pattern, 0, NULL, &g) && g.gl_pathc) {
		const char *mark = strrchr(g.gl_pathv[0], '/') + 1 + strlen(INSTALL_MARK);

		*pid = atoi(mark);
		/* EPERM: alive, of another user. */
		st = *pid > 0 && (kill(*pid, 0) == 0 || errno == EPERM) ? INSTALL_RUNNING :
									  INSTALL_INTERRUPTED;
	}
	globfree(&g);
	free(pattern);
	return st;
}
