/*
 * Module BTF after kbuild.  Where the kernel tree ships vmlinux and
 * resolve_btfids (Debian 6.12), kbuild has already done the work and we
 * only verify it.  Where it does not (Debian 6.1), kbuild silently builds a
 * module without .BTF whose kfunc sets hold zeros, so we run pahole over the
 * right base ourselves and resolve the ids with kfunc/.
 */
#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <linux/btf.h>

#include "kbuild_run.h"
#include "kfunc_btf.h"
#include "kmod_btf.h"
#include "sha256.h"
#include "util.h"

static const char *pahole_cmd(void)
{
	const char *p = getenv("PAHOLE");

	return p && *p ? p : "pahole";
}

int kmod_btf_need_pahole(void)
{
	struct strbuf cmd;
	int err;

	sb_init(&cmd);
	sh_quote(&cmd, pahole_cmd());
	sb_puts(&cmd, " --version");
	err = run_logged(cmd.buf, "/dev/null", "pahole");
	sb_free(&cmd);
	if (err) {
		p_err("cannot run pahole (%s): it gives modules BTF on kernels whose headers have no vmlinux; install it with 'apt-get install dwarves'",
		      pahole_cmd());
		return -ENOENT;
	}
	return 0;
}

/* A bzImage carries "HdrS" at 0x202 (the x86 boot protocol's setup header). */
static bool is_bzimage(const char *path)
{
	char magic[4];
	FILE *f = fopen(path, "rb");
	bool yes;

	if (!f)
		return false;
	yes = fseek(f, 0x202, SEEK_SET) == 0 && fread(magic, 1, 4, f) == 4 &&
	      !memcmp(magic, "HdrS", 4);
	fclose(f);
	return yes;
}

/*
 * The user's home: $HOME, else the password database's entry (root under
 * a service manager or `env -i` has no HOME, and /root/.cache is still
 * where its cache belongs).
 */
static const char *home_dir(void)
{
	const char *home = getenv("HOME");
	struct passwd *pw;

	if (home && *home)
		return home;
	pw = getpwuid(geteuid());
	return pw && pw->pw_dir && *pw->pw_dir ? pw->pw_dir : NULL;
}

/* mkdir -p: every missing component of dir; 0 or a negative errno. */
static int make_dirs(char *dir)
{
	for (char *p = dir + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST) {
			*p = '/';
			return -errno;
		}
		*p = '/';
	}
	return mkdir(dir, 0755) && errno != EEXIST ? -errno : 0;
}

/*
 * Where extracted base BTF is kept: $KSC_BTF_CACHE ("none": nowhere),
 * else $XDG_CACHE_HOME/ksc/btf, else ~/.cache/ksc/btf.  Made on first use;
 * NULL when there is none (no home, or it cannot be made: the build then
 * extracts into its scratch directory, as with "none").
 */
static char *cache_dir(void)
{
	const char *env = getenv("KSC_BTF_CACHE"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = home_dir();
	char *dir;
	int err;

	if (env && !strcmp(env, "none"))
		return NULL;
	if (env && *env)
		dir = xstrdup(env);
	else if (xdg && *xdg)
		dir = xasprintf("%s/ksc/btf", xdg);
	else if (home)
		dir = xasprintf("%s/.cache/ksc/btf", home);
	else
		return NULL;
	err = make_dirs(dir);
	if (err) {
		p_debug("btf: no cache: cannot make %s: %s", dir, strerror(-err));
		free(dir);
		return NULL;
	}
	return dir;
}

/*
 * Whether a raw BTF blob of size bytes ends where its header says: libbpf
 * accepts bytes after the string section, a sign of a write gone wrong.
 */
static bool btf_size_exact(const void *raw, __u32 size)
{
	struct btf_header h;
	__u64 types, strs;

	if (size < sizeof(h))
		return false;
	memcpy(&h, raw, sizeof(h));
	types = (__u64)h.hdr_len + h.type_off + h.type_len;
	strs = (__u64)h.hdr_len + h.str_off + h.str_len;
	return (types > strs ? types : strs) == size;
}

/*
 * Whether path holds BTF libbpf can read and nothing after it: a cached
 * file cut short, or grown by a write that did not finish, is not used.
 * The parse checks the header, every type and the strings; the sizes the
 * header gives are checked against the file's here.
 */
static bool btf_readable(const char *path)
{
	libbpf_print_fn_t old = libbpf_set_print(NULL);
	struct btf *btf = btf__parse_raw(path);
	const void *raw = NULL;
	__u32 size = 0;
	bool ok;

	if (btf)
		raw = btf__raw_data(btf, &size);
	ok = raw && btf_size_exact(raw, size);
	libbpf_set_print(old);
	btf__free(btf);
	return ok;
}

/*
 * The cache's copy of an image's BTF, RELEASE-SHA256.btf by the image's
 * contents: xz-unpacking the image is most of a module build's time
 * (1.5x kbuild on 6.1), and one image always gives the same BTF.  The key
 * is the SHA-256 of the whole image rather than its size, mtime and inode:
 * hashing 8-15 MB takes about 0.1 s against 2-3 s of unpacking, and a key
 * from stat() would serve stale BTF for an image rewritten in place within
 * one mtime tick, or copied with its mtime kept (cp -p, rsync, a .deb
 * unpacked again), which is how kernel images travel.  Returns the path, or
 * NULL when there is no cache; *hit says whether a usable file is there
 * already.  A miss in a cache we cannot write to is no cache at all.
 */
static char *cache_path(const char *image, const char *release, bool *hit)
{
	char hex[65], *dir = cache_dir(), *path;
	bool writable;

	*hit = false;
	if (!dir || sha256_file(image, hex)) {
		free(dir);
		return NULL;
	}
	writable = access(dir, W_OK) == 0;
	path = xasprintf("%s/%s-%s.btf", dir, release, hex);
	if (access(path, R_OK) == 0)
		*hit = btf_readable(path);
	if (!*hit && !writable) {
		p_debug("btf: not caching: %s is not writable", dir);
		free(path);
		path = NULL;
	}
	free(dir);
	return path;
}

/* Extracts the image's BTF into path: whole, or not at all (written beside it, then renamed). */
static int extract_into(const char *image, const char *path)
{
	char *tmp = xasprintf("%s.tmp.%d", path, (int)getpid());
	int err = kfunc_base_btf_write(image, tmp);

	if (!err && rename(tmp, path)) {
		err = -errno;
		p_err("cannot move %s to %s: %s", tmp, path, strerror(errno));
	}
	if (err)
		unlink(tmp);
	free(tmp);
	return err;
}

/* Extracts an image's BTF after checking it is the image of k's kernel. */
static int base_from_image(const struct kdir *k, const char *image, const char *workdir,
			   struct kmod_btf_base *b)
{
	char release[256];
	int err = kfunc_vmlinuz_release(image, release, sizeof(release));
	bool hit;

	if (err)
		return err;
	if (strcmp(release, k->release)) {
		p_err("%s is the image of kernel %s but --kdir %s is %s: give the image of the kernel these headers belong to (linux-image-%s)",
		      image, release, k->path, k->release, k->release);
		return -EINVAL;
	}
	b->origin = xstrdup(image);
	b->path = cache_path(image, release, &hit);
	if (hit) {
		p_step("btf: base BTF of %s from the cache (%s)", image, b->path);
		return 0;
	}
	p_step("btf: base BTF from %s", image);
	if (!b->path) {
		b->path = xasprintf("%s/.ksc-base.btf", workdir);
		b->temporary = true;
	}
	err = extract_into(image, b->path);
	if (err)
		kmod_btf_base_release(b);
	return err;
}

/*
 * Refuses at once what pahole could only refuse after kbuild ran: a base
 * that is not raw BTF (either byte order) or an ELF vmlinux.  The image
 * package itself is what the hint of kmod_btf_no_base leads to, so it gets
 * the step that turns it into the image.
 */
static bool usable_base(const char *path)
{
	unsigned char m[8] = { 0 };
	FILE *f = fopen(path, "rb");
	size_t n = f ? fread(m, 1, sizeof(m), f) : 0;

	if (f)
		fclose(f);
	if (n >= 2 && ((m[0] == 0x9f && m[1] == 0xeb) || (m[0] == 0xeb && m[1] == 0x9f)))
		return true;
	if (n >= 4 && !memcmp(m, "\177ELF", 4))
		return true;
	if (n == 8 && !memcmp(m, "!<arch>\n", 8))
		p_err("--btf-base %s is a Debian package, not a kernel image: unpack it with 'dpkg-deb -x %s DIR' and give DIR/boot/vmlinuz-RELEASE (on 7.x, DIR/usr/lib/modules/RELEASE/vmlinuz)",
		      path, path);
	else
		p_err("--btf-base %s is neither raw BTF, an ELF vmlinux nor a kernel image (bzImage)", path);
	return false;
}

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

static bool is_running_kernel(const struct kdir *k)
{
	struct utsname u;

	return uname(&u) == 0 && !strcmp(u.release, k->release);
}

int kmod_btf_find_base(const struct kdir *k, const char *given, const char *workdir,
		       struct kmod_btf_base *b)
{
	const char *dirs = getenv("KSC_VMLINUZ_PATH");
	char *path;

	memset(b, 0, sizeof(*b));
	if (given) {
		if (!readable(given)) {
			p_err("--btf-base %s: %s", given, strerror(errno));
			return -errno;
		}
		if (is_bzimage(given))
			return base_from_image(k, given, workdir, b);
		if (!usable_base(given))
			return -EINVAL;
		b->path = xstrdup(given);
		b->origin = xstrdup(given);
		return 0;
	}
	path = xasprintf("%s/vmlinux", k->path);
	if (readable(path)) {
		b->path = path;
		b->origin = xstrdup(path);
		return 0;
	}
	free(path);
	path = xasprintf("%s/vmlinuz-%s", dirs && *dirs ? dirs : "/boot", k->release);
	if (readable(path)) {
		int err = base_from_image(k, path, workdir, b);

		free(path);
		return err;
	}
	free(path);
	if (is_running_kernel(k) && readable("/sys/kernel/btf/vmlinux")) {
		b->path = xstrdup("/sys/kernel/btf/vmlinux");
		b->origin = xstrdup(b->path);
		return 0;
	}
	/* Nothing found is not an error yet: a module without kfuncs needs no base. */
	return 0;
}

int kmod_btf_no_base(const struct kdir *k)
{
	const char *dirs = getenv("KSC_VMLINUZ_PATH");

	p_err("no base BTF for kernel %s: --kdir has no vmlinux and there is no vmlinuz-%s in %s; give the kernel image with --btf-base (apt-get download linux-image-%s, then dpkg-deb -x)",
	      k->release, k->release, dirs && *dirs ? dirs : "/boot", k->release);
	return -ENOENT;
}

void kmod_btf_base_release(struct kmod_btf_base *b)
{
	if (b->temporary && b->path)
		unlink(b->path);
	free(b->path);
	free(b->origin);
	memset(b, 0, sizeof(*b));
}

/* The kfunc names of a generated or hand-written module: its BTF_ID_FLAGS(func, X) entries. */
static size_t kfunc_names(const char *c_src, char ***names)
{
	static const char tag[] = "BTF_ID_FLAGS(func, ";
	char **v = NULL;
	size_t n = 0;

	for (const char *p = strstr(c_src, tag); p; p = strstr(p, tag)) {
		size_t len;
		bool dup = false;

		p += strlen(tag);
		len = strcspn(p, ",) \t\n");
		for (size_t i = 0; i < n && !dup; i++)
			dup = strlen(v[i]) == len && !strncmp(v[i], p, len);
		if (dup || !len)
			continue;
		v = xrealloc(v, (n + 1) * sizeof(*v));
		v[n++] = xstrndup(p, len);
	}
	*names = v;
	return n;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

bool kmod_btf_wanted(const char *src, const char *name)
{
	char *c_path = xasprintf("%s/%s.c", src, name), *c_src, **names;
	size_t len, n = 0;

	/* An unreadable source is reported by the build itself. */
	if (!read_file(c_path, &c_src, &len)) {
		n = kfunc_names(c_src, &names);
		free_names(names, n);
		free(c_src);
	}
	free(c_path);
	return n > 0;
}

/* pahole adds .BTF to a file without one by running llvm-objcopy, which it does not depend on. */
static bool pahole_lacks_objcopy(const char *log)
{
	char *text;
	size_t len;
	bool yes;

	if (read_file(log, &text, &len))
		return false;
	yes = strstr(text, "llvm-objcopy: not found") || strstr(text, "llvm-objcopy: command not found");
	free(text);
	return yes;
}

/*
 * pahole -J over base, with the flags kbuild uses for modules of 6.1 and
 * 6.12.  No --btf_features, so pahole 1.24 and 1.30 alike write a .BTF split
 * over the whole base and no .BTF.base: ksc runs pahole only for trees
 * without vmlinux and resolve_btfids, where kbuild distils nothing either,
 * and a module built for one exact kernel needs no distilled base (6.1
 * could not relocate one).  Should a .ko come with a .BTF.base anyway,
 * kfunc_resolve_btf_ids() and the verification read it over that base, as
 * resolve_btfids does.
 */
static int run_pahole(const char *src, const char *ko, const struct kmod_btf_base *b)
{
	char *log = xasprintf("%s/btf.log", src);
	struct strbuf cmd;
	int err;

	p_step("pahole: module BTF over %s", b->origin);
	sb_init(&cmd);
	sh_quote(&cmd, pahole_cmd());
	sb_puts(&cmd, " -J --btf_gen_floats -j --lang_exclude=rust --btf_base ");
	sh_quote(&cmd, b->path);
	sb_putc(&cmd, ' ');
	sh_quote(&cmd, ko);
	err = run_logged(cmd.buf, log, "pahole");
	if (err == -ECHILD && pahole_lacks_objcopy(log))
		p_err("pahole failed to give %s BTF: it adds the section with llvm-objcopy, which is not installed (apt-get install llvm; log: %s)",
		      ko, log);
	else if (err == -ECHILD)
		p_err("pahole failed to give %s BTF (log: %s)", ko, log);
	sb_free(&cmd);
	free(log);
	return err;
}

/* The kfuncs src/NAME.c registers (its BTF_ID_FLAGS(func, ...) entries), in *names. */
static int module_kfuncs(const char *src, const char *name, char ***names, size_t *n)
{
	char *c_path = xasprintf("%s/%s.c", src, name), *c_src = NULL;
	size_t len;
	int err = read_file(c_path, &c_src, &len);

	*names = NULL;
	*n = 0;
	if (err)
		p_err("cannot read %s: %s", c_path, strerror(-err));
	else
		*n = kfunc_names(c_src, names);
	free(c_src);
	free(c_path);
	return err;
}

static int verify(const char *ko, const char *name, const struct kmod_btf_base *b,
		  char **names, size_t n)
{
	int err = kfunc_verify_module(ko, b->path, (const char *const *)names, n);

	if (!err)
		p_step("btf: verified: %zu kfunc%s of %s.ko in resolved BTF id sets", n,
		       n == 1 ? "" : "s", name);
	return err;
}

int kmod_btf_ensure(const char *src, const char *name, const struct kdir *k,
		    const struct kmod_btf_base *b)
{
	char *ko = xasprintf("%s/%s.ko", src, name), **names;
	size_t n;
	int err = module_kfuncs(src, name, &names, &n);

	if (err)
		goto out;
	if (!n) {
		p_step("btf: %s.ko registers no kfuncs; no module BTF needed", name);
		goto out;
	}
	if (!kdir_builds_btf(k)) {
		err = run_pahole(src, ko, b);
		if (!err) {
			p_step("btf: resolving the ids of %zu kfunc%s", n, n == 1 ? "" : "s");
			err = kfunc_resolve_btf_ids(ko, b->path);
			if (err == -EALREADY)
				err = 0;
		}
		if (err)
			goto out;
	}
	err = verify(ko, name, b, names, n);
out:
	free_names(names, n);
	free(ko);
	return err;
}

int kmod_btf_verify(const char *src, const char *name, const struct kmod_btf_base *b)
{
	char *ko = xasprintf("%s/%s.ko", src, name), **names;
	size_t n;
	int err = module_kfuncs(src, name, &names, &n);

	if (!err && n)
		err = verify(ko, name, b, names, n);
	free_names(names, n);
	free(ko);
	return err;
}
