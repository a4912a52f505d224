/*
 * `ksc install DIR`: a built output tree put into the running kernel, in
 * the order the kernel needs (DESIGN.md section 4): module (libkmod), its
 * BTF, the eBPF object (libbpf, maps pinned), attachments pinned as links.
 * Everything is pinned under /sys/fs/bpf/ksc/NAME (installer.h), so the
 * installation outlives this process and `ksc uninstall` can find it.
 * A failure at any step undoes the earlier ones, newest first.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glob.h>
#include <libkmod.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "ebpf_abi.h"
#include "installer.h"
#include "verify.h"

void help_install(FILE *out)
{
	fprintf(out,
		"Usage: ksc install DIR [--iface IF]\n"
		"\n"
		"Installs the output tree DIR of 'ksc build' (or 'ksc compile' + make) into\n"
		"the running kernel: inserts DIR/kmod/NAME.ko if there is one (a loaded\n"
		"module of the same build is used as it is; one whose vermagic is not this\n"
		"kernel's release, SMP and preempt is refused), waits for its BTF, loads\n"
		"DIR/NAME.ebpf.o, attaches what needs no loader arguments (fentry, kprobe,\n"
		"tracepoint, struct_ops) and, with --iface, XDP and tc programs\n"
		"to IF.  Links, programs and maps are pinned under " INSTALL_ROOT "/NAME,\n"
		"so the installation stays after ksc exits; maps pinned there by an\n"
		"earlier run are reused with their contents.  On any failure everything\n"
		"done so far is undone.  Needs root.  Undo with 'ksc uninstall NAME'.\n");
}

enum undo_kind { U_MODULE, U_DIR, U_PIN };

struct undo {
	enum undo_kind kind;
	char *path;                /* U_MODULE: the module name */
};

struct install {
	const char *dir, *iface;
	char *name;
	int ifindex;
	struct bpf_object *obj;
	struct bpf_link *links[64];
	int nlinks;
	struct undo undo[256];
	int nundo;
	int attached, unattached;
	char *mark;                /* NAME/installing-PID */
};

static int push_undo(struct install *in, enum undo_kind kind, const char *path)
{
	if (in->nundo == (int)ARRAY_SIZE(in->undo)) {
		p_err("more than %zu things to install", ARRAY_SIZE(in->undo));
		return -E2BIG;
	}
	in->undo[in->nundo].kind = kind;
	in->undo[in->nundo++].path = xstrdup(path);
	return 0;
}

/* Releases what this process holds; with `keep`, pinned links stay attached. */
static void release_bpf(struct install *in, bool keep)
{
	for (int i = 0; i < in->nlinks; i++) {
		/* libbpf < 1.2 "detaches" a struct_ops link by unregistering the map. */
		if (keep)
			bpf_link__disconnect(in->links[i]);
		bpf_link__destroy(in->links[i]);
	}
	in->nlinks = 0;
	bpf_object__close(in->obj);
	in->obj = NULL;
}

/*
 * Newest first; the object's fds go before the module, which they hold
 * through its BTF, and the module was always the first thing done.
 */
static void unwind(struct install *in)
{
	if (in->nundo)
		p_step("undoing the install of %s", in->name);
	for (int i = in->nundo - 1; i >= 0; i--) {
		struct undo *u = &in->undo[i];

		if (u->kind == U_PIN)
			install_unpin(u->path);
		else if (u->kind == U_DIR)
			rmdir(u->path);
	}
	release_bpf(in, false);
	for (int i = in->nundo - 1; i >= 0; i--)
		if (in->undo[i].kind == U_MODULE)
			module_remove(in->undo[i].path);
}

static void free_install(struct install *in)
{
	for (int i = 0; i < in->nundo; i++)
		free(in->undo[i].path);
	free(in->mark);
	free(in->name);
}

/* ---- the tree ---- */

/* NAME of DIR/NAME.ebpf.o: a built tree has exactly one. */
static int tree_name(struct install *in)
{
	char *pattern = xasprintf("%s/*.ebpf.o", in->dir);
	glob_t g;
	int err = 0;
	struct stat st;

	if (stat(in->dir, &st) || !S_ISDIR(st.st_mode)) {
		p_err("%s is not a directory: give the output directory of 'ksc build'", in->dir);
		free(pattern);
		return -ENOTDIR;
	}
	if (glob(pattern, 0, NULL, &g) || g.gl_pathc == 0) {
		p_err("%s is not a built tree (no NAME.ebpf.o): run 'make -C %s' or 'ksc build FILE.ks -o %s' first",
		      in->dir, in->dir, in->dir);
		err = -ENOENT;
	} else if (g.gl_pathc > 1) {
		p_err("%s holds %zu eBPF objects (%s, %s, ...): install one tree at a time", in->dir,
		      g.gl_pathc, g.gl_pathv[0], g.gl_pathv[1]);
		err = -EINVAL;
	} else {
		const char *base = strrchr(g.gl_pathv[0], '/') + 1;

		in->name = xstrndup(base, strlen(base) - strlen(".ebpf.o"));
	}
	globfree(&g);
	free(pattern);
	return err;
}

/* What the .ko says about itself: its build id note, vermagic and whether it has BTF. */
struct ko_info {
	char *build_id;
	size_t build_id_len;
	char *vermagic;
	bool has_btf;
};

/* vermagic=... among the NUL-separated key=value strings of .modinfo. */
static char *modinfo_vermagic(const char *p, size_t n)
{
	static const char key[] = "vermagic=";

	for (size_t i = 0; i < n; i += strnlen(p + i, n - i) + 1)
		if (n - i > strlen(key) && !strncmp(p + i, key, strlen(key)))
			return xstrndup(p + i + strlen(key), strnlen(p + i, n - i) - strlen(key));
	return NULL;
}

static int read_ko(const char *ko, struct ko_info *info)
{
	int fd = open(ko, O_RDONLY | O_CLOEXEC), err = 0;
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	Elf *e;

	memset(info, 0, sizeof(*info));
	if (fd < 0)
		return -errno;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getshdrstrndx(e, &shstrndx))
		err = -ENOEXEC;
	while (!err && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *sname;
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || !(sname = elf_strptr(e, shstrndx, sh.sh_name)))
			continue;
		if (!strcmp(sname, ".BTF"))
			info->has_btf = true;
		else if (!strcmp(sname, ".note.gnu.build-id") && (d = elf_getdata(scn, NULL)) && d->d_buf) {
			info->build_id = xmalloc(d->d_size);
			memcpy(info->build_id, d->d_buf, d->d_size);
			info->build_id_len = d->d_size;
		} else if (!strcmp(sname, ".modinfo") && !info->vermagic && (d = elf_getdata(scn, NULL)) &&
			   d->d_buf) {
			info->vermagic = modinfo_vermagic(d->d_buf, d->d_size);
		}
	}
	elf_end(e);
	close(fd);
	return err;
}

/* A loaded NAME is usable only if it is this build: same build id note. */
static int check_same_build(struct install *in, const char *ko, const struct ko_info *info)
{
	char *path = xasprintf("/sys/module/%s/notes/.note.gnu.build-id", in->name), *loaded;
	size_t len;
	int err = 0;

	if (!info->build_id || read_file(path, &loaded, &len)) {
		p_warn("module %s is loaded; cannot tell whether it is the build of %s (no build id): using it",
		       in->name, ko);
	} else {
		if (len != info->build_id_len || memcmp(loaded, info->build_id, len)) {
			p_err("another build of module %s is loaded, not %s: 'ksc uninstall %s' (or rmmod %s) first",
			      in->name, ko, in->name, in->name);
			err = -EEXIST;
		} else {
			p_step("module %s: already loaded (same build)", in->name);
		}
		free(loaded);
	}
	free(path);
	return err;
}

/* The signer sign-file wrote into mod's signature, or NULL if it has none. */
static char *module_signer(struct kmod_module *mod)
{
	struct kmod_list *list = NULL, *l;
	char *signer = NULL;

	if (kmod_module_get_info(mod, &list) < 0)
		return NULL;
	kmod_list_foreach(l, list) {
		const char *v = kmod_module_info_get_value(l);

		if (!strcmp(kmod_module_info_get_key(l), "signer") && v && *v && !signer)
			signer = xstrdup(v);
	}
	kmod_module_info_free_list(list);
	return signer;
}

/*
 * A kernel that checks module signatures (module.sig_enforce=1, Secure
 * Boot's lockdown) refuses an unsigned module, or one signed by a key it
 * does not hold, with EKEYREJECTED, ENOKEY or EPERM: say which, and the
 * way out, rather than only errno's words.
 */
static bool report_signature(struct kmod_module *mod, const char *ko, int err)
{
	char *signer;

	if (err != -EKEYREJECTED && err != -ENOKEY && err != -EPERM)
		return false;
	signer = module_signer(mod);
	if (signer)
		p_err("cannot insert %s: the kernel does not trust the key it is signed with (signer '%s'): enrol that key's certificate (mokutil --import CERT.der, then reboot and confirm the enrolment) or sign with a key this kernel trusts",
		      ko, signer);
	else if (err != -EPERM)
		p_err("cannot insert %s: this kernel takes only signed modules and it is unsigned: build it with 'ksc kmod build --sign-key KEY --sign-cert CERT', and enrol CERT (mokutil --import CERT.der, then reboot and confirm) unless the kernel trusts it already",
		      ko);
	free(signer);
	return signer || err != -EPERM;
}

static int insert_module(struct install *in, const char *ko, const struct ko_info *info)
{
	struct kmod_ctx *ctx;
	struct kmod_module *mod;
	int err;

	if (module_loaded(in->name))
		return check_same_build(in, ko, info);
	/* The kernel would refuse it with only ENOEXEC and a line in dmesg. */
	err = module_check_vermagic(ko, info->vermagic);
	if (err)
		return err;
	ctx = kmod_new(NULL, NULL);
	if (!ctx) {
		p_err("cannot start libkmod");
		return -ENOMEM;
	}
	p_step("module: inserting %s", ko);
	err = kmod_module_new_from_path(ctx, ko, &mod);
	if (err) {
		p_err("cannot insert %s: %s", ko, strerror(-err));
	} else {
		err = kmod_module_insert_module(mod, 0, NULL);
		if (err && err != -EEXIST && !report_signature(mod, ko, err))
			p_err("cannot insert %s: %s (the kernel says why in dmesg)", ko, strerror(-err));
		kmod_module_unref(mod);
	}
	kmod_unref(ctx);
	if (err == -EEXIST)
		return check_same_build(in, ko, info);
	if (err)
		return err;
	return push_undo(in, U_MODULE, in->name);
}

/* The kernel registers a module's BTF as it loads; allow it a moment. */
static int wait_btf(struct install *in)
{
	char *path = xasprintf("/sys/kernel/btf/%s", in->name);
	int err = 0;

	for (int i = 0; i < 100 && access(path, F_OK); i++)
		install_sleep_ms(50);
	if (access(path, F_OK)) {
		p_err("module %s carries BTF but %s did not appear within 5 s (kernel without CONFIG_DEBUG_INFO_BTF_MODULES?)",
		      in->name, path);
		err = -ETIMEDOUT;
	} else {
		p_step("module BTF: %s", path);
	}
	free(path);
	return err;
}

static int module_step(struct install *in)
{
	char *ko = xasprintf("%s/kmod/%s.ko", in->dir, in->name);
	struct ko_info info;
	int err = 0;

	if (access(ko, F_OK)) {
		p_debug("no %s: nothing to insert", ko);
		free(ko);
		return 0;
	}
	err = read_ko(ko, &info);
	if (err)
		p_err("cannot insert %s: not a kernel module (%s)", ko, strerror(-err));
	if (!err)
		err = insert_module(in, ko, &info);
	if (!err && info.has_btf)
		err = wait_btf(in);
	free(info.build_id);
	free(info.vermagic);
	free(ko);
	return err;
}

/* ---- pins ---- */

/* mkdir for the installation, remembered so that a failure removes it again. */
static int make_dir(struct install *in, const char *path)
{
	if (!mkdir(path, 0700))
		return push_undo(in, U_DIR, path);
	if (errno == EEXIST)
		return 0;
	p_err("cannot create %s: %s", path, strerror(errno));
	return -errno;
}

/*
 * The pin directories, and NAME/installing-PID, which lives until the
 * install is complete: a kill leaves it for status and the next install.
 */
static int make_dirs(struct install *in)
{
	static const char *const subs[] = { NULL, "maps", "links" };
	char mark[32];
	int err = make_dir(in, INSTALL_ROOT);

	for (size_t i = 0; !err && i < ARRAY_SIZE(subs); i++) {
		char *path = install_path(in->name, subs[i]);

		err = make_dir(in, path);
		free(path);
	}
	snprintf(mark, sizeof(mark), INSTALL_MARK "%d", (int)getpid());
	in->mark = install_path(in->name, mark);
	return err ? err : make_dir(in, in->mark);
}

/* What an install that is running, or that died midway, left: not to be built on. */
static int check_not_running(struct install *in)
{
	int pid;

	switch (install_state(in->name, &pid)) {
	case INSTALL_RUNNING:
		p_err("%s is being installed (ksc install, pid %d)", in->name, pid);
		return -EBUSY;
	case INSTALL_INTERRUPTED:
		p_err("an install of %s was interrupted (pid %d): 'ksc uninstall %s' removes what it left",
		      in->name, pid, in->name);
		return -EEXIST;
	default:
		return 0;
	}
}

/* A second install would pin over the first one's links and programs: refuse it. */
static int check_not_installed(struct install *in)
{
	char *pattern = install_path(in->name, "{links,progs}/*");
	size_t n = 0;
	glob_t g;
	int err = check_not_running(in);

	if (err) {
		free(pattern);
		return err;
	}
	if (!glob(pattern, GLOB_BRACE, NULL, &g))
		n = g.gl_pathc;
	globfree(&g);
	free(pattern);
	if (n) {
		p_err("%s is already installed: 'ksc uninstall %s' first", in->name, in->name);
		return -EEXIST;
	}
	return 0;
}

/* Where a map is pinned: as the generated loader pins it, so both share state. */
static char *map_pin_path(struct install *in, const struct bpf_map *map)
{
	char *sub, *path;

	if (!strcmp(bpf_map__name(map), KSC_PINNED_GLOBALS))
		return install_path(in->name, "globals");
	sub = xasprintf("maps/%s", bpf_map__name(map));
	/* Internal maps are named "obj.bss": bpffs refuses dots. */
	for (char *p = sub; *p; p++)
		if (*p == '.')
			*p = '_';
	path = install_path(in->name, sub);
	free(sub);
	return path;
}

/* libbpf's own errors (-4000 and below) have no strerror text. */
static const char *bpf_err(int err)
{
	static char buf[128];

	libbpf_strerror(err, buf, sizeof(buf));
	return buf;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG && ksc_verbose < 1)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* Opens and loads the object; maps pinned new by this load are remembered. */
static int load_object(struct install *in)
{
	char *path = xasprintf("%s/%s.ebpf.o", in->dir, in->name);
	bool existed[256] = { 0 };
	struct bpf_map *map;
	int err, i = 0;

	p_step("eBPF: loading %s", path);
	in->obj = bpf_object__open_file(path, NULL);
	if (!in->obj) {
		err = -errno;
		p_err("cannot open %s: %s", path, bpf_err(err));
		free(path);
		return err;
	}
	bpf_object__for_each_map(map, in->obj) {
		char *pin;

		if (bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS || i == (int)ARRAY_SIZE(existed))
			continue;
		pin = map_pin_path(in, map);
		existed[i++] = access(pin, F_OK) == 0;
		/* Before load: libbpf reuses a pinned map, so an earlier run's state carries on. */
		bpf_map__set_pin_path(map, pin);
		free(pin);
	}
	/* A rejection is reported at its .ks line, as by ksc verify. */
	err = verify_load(in->obj, path, NULL);
	i = 0;
	bpf_object__for_each_map(map, in->obj) {
		if (err || !bpf_map__pin_path(map) || i >= (int)ARRAY_SIZE(existed))
			continue;
		if (!existed[i++] && !err)
			err = push_undo(in, U_PIN, bpf_map__pin_path(map));
	}
	free(path);
	return err;
}

/* ---- attaching ---- */

static int keep_link(struct install *in, struct bpf_link *link, const char *what, const char *pin_name)
{
	char *sub, *path;
	int err;

	if (!link) {
		err = -errno;
		p_err("cannot attach %s: %s", what, strerror(-err));
		return err;
	}
	if (in->nlinks == (int)ARRAY_SIZE(in->links)) {
		bpf_link__destroy(link);
		p_err("more than %zu links", ARRAY_SIZE(in->links));
		return -E2BIG;
	}
	in->links[in->nlinks++] = link;
	sub = xasprintf("links/%s", pin_name);
	path = install_path(in->name, sub);
	err = bpf_link__pin(link, path);
	if (err)
		p_err("cannot pin %s at %s: %s", what, path, strerror(-err));
	else
		err = push_undo(in, U_PIN, path);
	if (!err) {
		p_step("attached %s, pinned %s", what, path);
		in->attached++;
	}
	free(path);
	free(sub);
	return err;
}

/* Loaded, not attached: pinned under progs/ so it outlives us (and can be attached by hand). */
static int keep_prog(struct install *in, struct bpf_program *prog, const char *why)
{
	char *dir = install_path(in->name, "progs");
	char *path = xasprintf("%s/%s", dir, bpf_program__name(prog));
	int err = make_dir(in, dir);

	if (!err) {
		err = bpf_program__pin(prog, path);
		if (err)
			p_err("cannot pin %s: %s", path, strerror(-err));
		else
			err = push_undo(in, U_PIN, path);
	}
	if (!err) {
		p_step("%s not attached (%s), pinned %s", bpf_program__name(prog), why, path);
		in->unattached++;
	}
	free(path);
	free(dir);
	return err;
}

/* A tc program's direction, from the tree's NAME.attach ("tc PROG egress"). */
static bool tc_egress(const struct install *in, const char *prog)
{
	char *path = xasprintf("%s/%s.attach", in->dir, in->name), *text, *line, *want;
	size_t len;
	bool egress = false;

	if (read_file(path, &text, &len)) {
		free(path);
		return false;
	}
	want = xasprintf("tc %s egress", prog);
	for (line = strtok(text, "\n"); line && !egress; line = strtok(NULL, "\n"))
		egress = !strcmp(line, want);
	free(want);
	free(text);
	free(path);
	return egress;
}

/* Before tcx (libbpf 1.3, kernel 6.6) a tc program has no link: a clsact filter. */
static int attach_tc(struct install *in, struct bpf_program *prog)
{
	bool egress = tc_egress(in, bpf_program__name(prog));
	const char *dir = egress ? "egress" : "ingress";
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = in->ifindex,
		    .attach_point = egress ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = bpf_program__fd(prog));
	libbpf_print_fn_t print = libbpf_set_print(NULL);
	/* A clsact qdisc already there (EEXIST) is fine: libbpf need not log it. */
	int err = bpf_tc_hook_create(&hook);
	bool made_qdisc = !err;
	char *sub, *path;

	libbpf_set_print(print);

	if (err && err != -EEXIST) {
		p_err("cannot create a clsact qdisc on %s: %s", in->iface, strerror(-err));
		return err;
	}
	err = bpf_tc_attach(&hook, &opts);
	if (err) {
		p_err("cannot attach %s to %s: %s", bpf_program__name(prog), in->iface, strerror(-err));
		if (made_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
		return err;
	}
	sub = xasprintf("links/%s" INSTALL_TC_TAG "%d-%s-%u-%u-%c", bpf_program__name(prog),
			in->ifindex, dir, opts.handle, opts.priority, made_qdisc ? 'q' : 'k');
	path = install_path(in->name, sub);
	err = bpf_program__pin(prog, path);
	if (err) {
		/* Nothing records the filter yet: take it down here. */
		LIBBPF_OPTS(bpf_tc_opts, del, .handle = opts.handle, .priority = opts.priority);

		p_err("cannot pin %s: %s", path, strerror(-err));
		bpf_tc_detach(&hook, &del);
		if (made_qdisc) {
			hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&hook);
		}
	} else {
		err = push_undo(in, U_PIN, path);
		p_step("attached %s to %s (tc %s), pinned %s", bpf_program__name(prog), in->iface, dir,
		       path);
		in->attached++;
	}
	free(path);
	free(sub);
	return err;
}

static int attach_prog(struct install *in, struct bpf_program *prog)
{
	const char *name = bpf_program__name(prog);
	struct bpf_link *link;

	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_STRUCT_OPS:  /* registered with its map */
	case BPF_PROG_TYPE_SYSCALL:     /* kfunc trampolines: run, never attached */
		return 0;
	case BPF_PROG_TYPE_XDP:
		if (!in->iface)
			return keep_prog(in, prog, "XDP needs --iface");
		return keep_link(in, bpf_program__attach_xdp(prog, in->ifindex), name, name);
	case BPF_PROG_TYPE_SCHED_CLS:
		if (!in->iface)
			return keep_prog(in, prog, "tc needs --iface");
		return attach_tc(in, prog);
	case BPF_PROG_TYPE_PERF_EVENT:
		return keep_prog(in, prog, "perf_event needs the loader's perf_options");
	default:
		break;
	}
	/* fentry, kprobe, tracepoint: the target is in the section name. */
	link = bpf_program__attach(prog);
	if (!link && errno == EOPNOTSUPP)
		return keep_prog(in, prog, "its section names no target");
	return keep_link(in, link, name, name);
}

static int attach_all(struct install *in)
{
	struct bpf_program *prog;
	struct bpf_map *map;
	int err = 0;

	bpf_object__for_each_program(prog, in->obj) {
		if (!err && bpf_program__autoload(prog))
			err = attach_prog(in, prog);
	}
	bpf_object__for_each_map(map, in->obj) {
		if (!err && bpf_map__type(map) == BPF_MAP_TYPE_STRUCT_OPS)
			err = keep_link(in, bpf_map__attach_struct_ops(map), bpf_map__name(map),
					bpf_map__name(map));
	}
	return err;
}

/* ---- the command ---- */

static const struct arg_opt install_opts[] = {
	{ "iface", 0, "IF" },
	{ 0 },
};

static const struct arg_spec install_spec = { "install", help_install, install_opts, 1, 1, "DIR" };

static int parse_args(int argc, char **argv, struct install *in)
{
	struct args a;
	int status = args_parse(&install_spec, argc, argv, &a);

	if (status)
		return status;
	in->dir = a.pos[0];
	in->iface = a.val[0];
	return 0;
}

static int check_input(struct install *in)
{
	int err = tree_name(in);

	if (!err && in->iface) {
		in->ifindex = (int)if_nametoindex(in->iface);
		if (!in->ifindex) {
			p_err("no network interface '%s'", in->iface);
			err = -ENODEV;
		}
	}
	if (!err)
		err = install_preflight("ksc install");
	if (!err)
		err = check_not_installed(in);
	return err;
}

static int install(struct install *in)
{
	int err = module_step(in);

	if (!err)
		err = make_dirs(in);
	if (!err)
		err = load_object(in);
	if (!err)
		err = attach_all(in);
	return err;
}

int do_install(int argc, char **argv)
{
	struct install in = { 0 };
	int err = parse_args(argc, argv, &in);

	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	libbpf_set_print(libbpf_print);
	err = check_input(&in);
	if (err) {
		free_install(&in);
		return EXIT_USER;
	}
	err = install(&in);
	if (!err && rmdir(in.mark)) {
		err = -errno;
		p_err("cannot remove %s: %s", in.mark, strerror(errno));
	}
	if (err) {
		unwind(&in);
	} else {
		release_bpf(&in, true);
		p_step("installed %s: %d attached, %d loaded only, under " INSTALL_ROOT "/%s", in.name,
		       in.attached, in.unattached, in.name);
	}
	free_install(&in);
	return err ? EXIT_USER : EXIT_OK;
}
