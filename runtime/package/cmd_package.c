/*
 * `ksc package FILE.ks|DIR`: one .deb per extension, which installs it for
 * good: the eBPF object where a systemd unit runs `ksc install` on it at
 * boot, and the module (if any) as a DKMS source tree that every kernel
 * with headers gets a build of.  The package is staged in a private
 * temporary directory and built by dpkg-deb; docs/packaging.md describes
 * what it holds and what its maintainer scripts do.
 */
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "kbuild_run.h"
#include "kmod_tree.h"
#include "kmodgen.h"
#include "package.h"

#define PKG_PREFIX "ksc-ext-"
#define LIB_DIR "/usr/lib/ksc"
#define STATE_DIR "/var/lib/ksc"
#define UNIT_DIR "/usr/lib/systemd/system"
/* The control field that tells a .deb made by ksc package, and for which extension. */
#define OWNER_FIELD "Ksc-Extension"

void help_package(FILE *out)
{
	fprintf(out,
		"Usage: ksc package FILE.ks|DIR [--version V] [-o DIR]\n"
		"\n"
		"Makes the Debian package " PKG_PREFIX "NAME_V_ARCH.deb in DIR (default .) that\n"
		"installs the extension NAME for good: its eBPF object under " LIB_DIR "/NAME,\n"
		"and a unit ksc-NAME.service that runs 'ksc install' on it at boot and\n"
		"'ksc uninstall NAME' when it stops.  A program with module code also gets\n"
		"its module as the DKMS source tree /usr/src/NAME-V: the package builds it\n"
		"for the running kernel when it is configured, and DKMS for every kernel\n"
		"whose headers are installed later.  FILE.ks is built first, as 'ksc build'\n"
		"does; DIR is a tree 'ksc build' wrote.  V (default " KMOD_DEFAULT_VERSION ") is the\n"
		"package's and the module's version: a digit, then letters, digits and\n"
		". + ~ -.  An existing file of the package's name is replaced only if\n"
		"ksc package made it for NAME.  Maintainer: $DEBFULLNAME <$DEBEMAIL>.\n"
		"Needs dpkg-deb.\n");
}

struct pkg {
	const char *source, *version, *out;
	char *stage;      /* the private temporary directory */
	char *tree;       /* the built tree: stage/build, or the DIR given */
	char *root;       /* stage/root: the package's files, DEBIAN/ included */
	char *name;       /* the extension: NAME of NAME.ebpf.o */
	char *deb_name;   /* ksc-ext-name */
	char *arch;
	char *deb;        /* DIR/ksc-ext-name_V_ARCH.deb */
	char *kmod;       /* the tree's kmod/ when it has module code, else NULL */
};

enum { P_VERSION, P_OUT };

static const struct arg_opt package_opts[] = {
	[P_VERSION] = { "version", 0, "V" },
	[P_OUT] = { "output", 'o', "DIR" },
	{ 0 },
};

static const struct arg_spec package_spec = { "package", help_package, package_opts, 1, 1,
					      "FILE.ks or DIR" };

static int parse_args(int argc, char **argv, struct pkg *p)
{
	struct args a;
	int status = args_parse(&package_spec, argc, argv, &a);

	if (status)
		return status;
	p->source = a.pos[0];
	if (a.val[P_VERSION])
		p->version = a.val[P_VERSION];
	if (a.val[P_OUT])
		p->out = a.val[P_OUT];
	return 0;
}

/*
 * What both a Debian version and a DKMS one (a path and shell word) can
 * be; dpkg-deb checks the rest (a revision after a '-' that is not empty).
 */
static bool valid_version(const char *v)
{
	size_t len = strlen(v);

	return len && v[0] >= '0' && v[0] <= '9' && v[len - 1] != '-' &&
	       strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+~-") == len;
}

/* Debian names packages in lower case, with no '_'. */
static char *package_name(const char *name)
{
	char *s = xasprintf(PKG_PREFIX "%s", name);

	for (char *c = s; *c; c++)
		*c = *c == '_' ? '-' : (*c >= 'A' && *c <= 'Z') ? (char)(*c - 'A' + 'a') : *c;
	return s;
}

/* The Debian architecture of this machine, which the eBPF object is built for. */
static char *debian_arch(void)
{
	static const char *const map[][2] = {
		{ "x86_64", "amd64" }, { "aarch64", "arm64" }, { "ppc64le", "ppc64el" },
		{ "s390x", "s390x" },  { "riscv64", "riscv64" },
	};
	struct utsname u;

	if (uname(&u) == 0)
		for (size_t i = 0; i < ARRAY_SIZE(map); i++)
			if (!strcmp(u.machine, map[i][0]))
				return xstrdup(map[i][1]);
	p_err("no Debian architecture for this machine (%s)", uname(&u) ? "uname failed" : u.machine);
	return NULL;
}

/* ---- the staging directory, ksc's alone ---- */

static int make_stage(struct pkg *p)
{
	const char *tmp = getenv("TMPDIR");

	p->stage = xasprintf("%s/ksc-package-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(p->stage)) {
		p_err("cannot create a directory in %s: %s", tmp && *tmp ? tmp : "/tmp", strerror(errno));
		free(p->stage);
		p->stage = NULL;
		return -errno;
	}
	p->root = xasprintf("%s/root", p->stage);
	if (mkdir(p->root, 0755)) {
		p_err("cannot create %s: %s", p->root, strerror(errno));
		return -errno;
	}
	return 0;
}

/* mkdir -p of the package path rel ("/usr/..."), every directory 0755 as dpkg makes it. */
static int stage_dir(const struct pkg *p, const char *rel)
{
	char *path = xasprintf("%s%s", p->root, rel);
	int err = 0;

	for (char *c = path + strlen(p->root) + 1;; c++) {
		if (*c && *c != '/')
			continue;
		char saved = *c;

		*c = 0;
		if (mkdir(path, 0755) && errno != EEXIST) {
			err = -errno;
			p_err("cannot create %s: %s", path, strerror(errno));
		}
		*c = saved;
		if (!saved || err)
			break;
	}
	free(path);
	return err;
}

static int stage_file(const struct pkg *p, const char *rel, const char *data, size_t len,
		      mode_t mode)
{
	char *path = xasprintf("%s%s", p->root, rel);
	int err = write_file_reported(path, data, len);

	if (!err && chmod(path, mode)) {
		err = -errno;
		p_err("cannot chmod %s: %s", path, strerror(errno));
	}
	free(path);
	return err;
}

static int stage_copy(const struct pkg *p, const char *from, const char *rel)
{
	char *data;
	size_t len;
	int err = read_file(from, &data, &len);

	if (err) {
		p_err("cannot read %s: %s", from, strerror(-err));
		return err;
	}
	err = stage_file(p, rel, data, len, 0644);
	free(data);
	return err;
}

/* ---- the built tree ---- */

/* A .ks file is built as 'ksc build' does, into the staging directory. */
static int build_tree(struct pkg *p)
{
	size_t len = strlen(p->source);

	if (is_dir(p->source)) {
		p->tree = xstrdup(p->source);
		return 0;
	}
	if (len <= 3 || strcmp(p->source + len - 3, ".ks") || access(p->source, R_OK)) {
		p_err("%s: not a .ks file or a directory", p->source);
		return -ENOENT;
	}
	p->tree = xasprintf("%s/build", p->stage);
	return compile_and_make(p->source, p->tree, NULL) ? -EINVAL : 0;
}

/* NAME of the tree's one NAME.ebpf.o, and its kmod/ if that holds NAME's module. */
static int read_tree(struct pkg *p)
{
	char *pattern = xasprintf("%s/*.ebpf.o", p->tree), *kmod, *kname;
	glob_t g;
	int err = 0;

	if (glob(pattern, 0, NULL, &g) || g.gl_pathc != 1) {
		p_err("%s is not a built tree (%s NAME.ebpf.o): give a .ks file or the output directory of 'ksc build'",
		      p->tree, g.gl_pathc > 1 ? "more than one" : "no");
		err = -EINVAL;
	} else {
		const char *base = strrchr(g.gl_pathv[0], '/') + 1;

		p->name = xstrndup(base, strlen(base) - strlen(".ebpf.o"));
	}
	globfree(&g);
	free(pattern);
	if (err)
		return err;
	kmod = xasprintf("%s/kmod", p->tree);
	kname = kmod_tree_name(kmod);
	if (kname && !strcmp(kname, p->name))
		p->kmod = kmod;
	else
		free(kmod);
	free(kname);
	return 0;
}

/* ---- the package's files ---- */

static int stage_bpf(const struct pkg *p)
{
	char *dir = xasprintf(LIB_DIR "/%s", p->name), *from, *rel;
	int err = stage_dir(p, dir);

	for (int i = 0; i < 2 && !err; i++) {
		const char *ext = i ? "attach" : "ebpf.o";

		from = xasprintf("%s/%s.%s", p->tree, p->name, ext);
		rel = xasprintf("%s/%s.%s", dir, p->name, ext);
		/* NAME.attach says where tc programs go; a tree without any has none. */
		if (i == 0 || access(from, F_OK) == 0)
			err = stage_copy(p, from, rel);
		free(from);
		free(rel);
	}
	free(dir);
	return err;
}

/* The BTF a DKMS build extracts is state of this package, removed at purge. */
static int stage_dkms(const struct pkg *p)
{
	char *rel = xasprintf("/usr/src/%s-%s", p->name, p->version);
	char *dir = xasprintf("%s%s", p->root, rel);
	char *cache = xasprintf(STATE_DIR "/%s/btf", p->name);
	int err = stage_dir(p, rel);

	if (!err)
		err = kmod_tree_copy(p->kmod, p->name, dir);
	if (!err)
		err = kmod_write_dkms_conf(dir, p->name, p->version, cache);
	free(cache);
	free(dir);
	free(rel);
	return err;
}

static const char unit_txt[] =
	"# ksc-%1$s.service of the package %2$s, written by 'ksc package'.\n"
	"[Unit]\n"
	"Description=KernelScript extension %1$s\n"
	"Documentation=man:ksc-install(1) man:ksc-uninstall(1)\n"
	"# Modules listed in modules-load.d (kfuncs the programs may call) are in,\n"
	"# and bpffs is mounted for the pins.\n"
	"After=systemd-modules-load.service sys-fs-bpf.mount\n"
	"\n"
	"[Service]\n"
	"Type=oneshot\n"
	"RemainAfterExit=yes\n"
	"%3$s"
	"ExecStart=/usr/bin/ksc install " LIB_DIR "/%1$s\n"
	"ExecStop=/usr/bin/ksc uninstall %1$s\n"
	"%4$s"
	"\n"
	"[Install]\n"
	"WantedBy=multi-user.target\n";

/*
 * DKMS installs the module in the kernel's module tree, not in the tree
 * ksc install reads: modprobe loads it, and takes it out again after a
 * start that failed, when ExecStop does not run.
 */
static const char unit_kmod_pre[] =
	"# DKMS's build of the module for this kernel.\n"
	"ExecStartPre=/sbin/modprobe %1$s\n";
static const char unit_kmod_post[] =
	"# After a failed start: ksc uninstall, which removes the module, did not run.\n"
	"ExecStopPost=-/sbin/modprobe -r %1$s\n";

static int stage_unit(const struct pkg *p)
{
	struct strbuf pre, post, unit;
	char *rel = xasprintf(UNIT_DIR "/ksc-%s.service", p->name);
	int err = stage_dir(p, UNIT_DIR);

	sb_init(&pre);
	sb_init(&post);
	sb_init(&unit);
	if (p->kmod) {
		sb_printf(&pre, unit_kmod_pre, p->name);
		sb_printf(&post, unit_kmod_post, p->name);
	}
	sb_printf(&unit, unit_txt, p->name, p->deb_name, pre.len ? pre.buf : "",
		  post.len ? post.buf : "");
	if (!err)
		err = stage_file(p, rel, unit.buf, unit.len, 0644);
	sb_free(&pre);
	sb_free(&post);
	sb_free(&unit);
	free(rel);
	return err;
}

/* ---- maintainer scripts (Debian policy, chapter 6) ---- */

static const char script_head[] =
	"#!/bin/sh\n"
	"# %1$s of %2$s, written by 'ksc package' (docs/packaging.md).\n"
	"set -e\n"
	"\n";

/* The variables a script's body uses, set at its head. */
enum { V_NAME = 1, V_VERSION = 2, V_UNIT = 4 };

static void script_vars(struct strbuf *sb, const struct pkg *p, unsigned vars)
{
	if (vars & V_NAME)
		sb_printf(sb, "name=%s\n", p->name);
	if (vars & V_VERSION)
		sb_printf(sb, "version=%s\n", p->version);
	if (vars & V_UNIT)
		sb_printf(sb, "unit=ksc-%s.service\n", p->name);
	if (vars)
		sb_putc(sb, '\n');
}

/*
 * configure builds the module for the running kernel (DKMS builds it for
 * later kernels when their headers come) and starts the unit; the abort-*
 * cases put back what prerm took down.  Missing headers are not an error:
 * the package works from the first kernel that has them.
 */
static const char postinst_kmod[] =
	"case \"$1\" in\n"
	"configure|abort-upgrade|abort-remove|abort-deconfigure)\n"
	"\tif [ -z \"$(dkms status -m \"$name\" -v \"$version\")\" ]; then\n"
	"\t\tdkms add -m \"$name\" -v \"$version\"\n"
	"\tfi\n"
	"\tkver=$(uname -r)\n"
	"\tif [ -d \"/lib/modules/$kver/build\" ]; then\n"
	"\t\tdkms install -m \"$name\" -v \"$version\" -k \"$kver\"\n"
	"\t\tready=yes\n"
	"\telse\n"
	"\t\techo \"$name: no headers for the running kernel $kver: the module is built when\" \\\n"
	"\t\t\t\"linux-headers-$kver is installed, and $unit starts at the next boot\" >&2\n"
	"\t\tready=\n"
	"\tfi\n"
	"\t;;\n";

static const char postinst_bpf[] =
	"case \"$1\" in\n"
	"configure|abort-upgrade|abort-remove|abort-deconfigure)\n"
	"\tready=yes\n"
	"\t;;\n";

/* An admin keeps the unit from starting with `systemctl mask`, which enable respects. */
static const char postinst_tail[] =
	"*)\n"
	"\techo \"postinst called with unknown argument '$1'\" >&2\n"
	"\texit 1\n"
	"\t;;\n"
	"esac\n"
	"\n"
	"if command -v systemctl >/dev/null && ! systemctl -q is-enabled \"$unit\" 2>/dev/null; then\n"
	"\tsystemctl -q enable \"$unit\" || true\n"
	"fi\n"
	"if [ -d /run/systemd/system ]; then\n"
	"\tsystemctl daemon-reload\n"
	"\tif [ -n \"$ready\" ] && systemctl -q is-enabled \"$unit\"; then\n"
	"\t\tsystemctl start \"$unit\" ||\n"
	"\t\t\techo \"$name: $unit did not start: journalctl -u $unit says why\" >&2\n"
	"\tfi\n"
	"fi\n"
	"\n"
	"exit 0\n";

/*
 * The unit stops first: ksc uninstall takes the programs down before the
 * module.  Upgrades stop it too, so the new version's postinst starts the
 * new object and module; the DKMS entry goes with the version that made it.
 */
static const char prerm_txt[] =
	"case \"$1\" in\n"
	"remove|upgrade|deconfigure)\n"
	"\tif [ -d /run/systemd/system ]; then\n"
	"\t\tsystemctl stop \"$unit\" || true\n"
	"\tfi\n"
	"\tif [ \"$1\" = remove ] && command -v systemctl >/dev/null; then\n"
	"\t\tsystemctl -q disable \"$unit\" || true\n"
	"\tfi\n"
	"%1$s"
	"\t;;\n"
	"failed-upgrade)\n"
	"\t;;\n"
	"*)\n"
	"\techo \"prerm called with unknown argument '$1'\" >&2\n"
	"\texit 1\n"
	"\t;;\n"
	"esac\n"
	"\n"
	"exit 0\n";

static const char prerm_kmod[] =
	"\tif [ -n \"$(dkms status -m \"$name\" -v \"$version\")\" ]; then\n"
	"\t\tdkms remove -m \"$name\" -v \"$version\" --all\n"
	"\tfi\n";

static const char postrm_txt[] =
	"case \"$1\" in\n"
	"purge)\n"
	"%1$s"
	"\t;;\n"
	"remove|upgrade|failed-upgrade|abort-install|abort-upgrade|disappear)\n"
	"\t;;\n"
	"*)\n"
	"\techo \"postrm called with unknown argument '$1'\" >&2\n"
	"\texit 1\n"
	"\t;;\n"
	"esac\n"
	"\n"
	"if [ \"$1\" = remove ] || [ \"$1\" = purge ]; then\n"
	"\tif [ -d /run/systemd/system ]; then\n"
	"\t\tsystemctl daemon-reload\n"
	"\tfi\n"
	"fi\n"
	"\n"
	"exit 0\n";

/* What ksc kmod build kept for this package's DKMS builds; " STATE_DIR " may be shared. */
static const char postrm_kmod[] =
	"\trm -rf \"" STATE_DIR "/$name\"\n"
	"\trmdir " STATE_DIR " 2>/dev/null || true\n";

static int stage_script(const struct pkg *p, const char *which, unsigned vars, const char *fmt,
			const char *a, const char *b)
{
	struct strbuf sb;
	char *rel = xasprintf("/DEBIAN/%s", which);
	int err;

	sb_init(&sb);
	sb_printf(&sb, script_head, which, p->deb_name);
	script_vars(&sb, p, vars);
	sb_printf(&sb, fmt, a, b);
	err = stage_file(p, rel, sb.buf, sb.len, 0755);
	sb_free(&sb);
	free(rel);
	return err;
}

static int stage_scripts(const struct pkg *p)
{
	unsigned all = V_NAME | V_VERSION | V_UNIT;
	int err = stage_dir(p, "/DEBIAN");

	if (!err)
		err = stage_script(p, "postinst", p->kmod ? all : V_NAME | V_UNIT, "%s%s",
				   p->kmod ? postinst_kmod : postinst_bpf, postinst_tail);
	if (!err)
		err = stage_script(p, "prerm", p->kmod ? all : V_UNIT, prerm_txt,
				   p->kmod ? prerm_kmod : "", NULL);
	if (!err)
		err = stage_script(p, "postrm", p->kmod ? V_NAME : 0, postrm_txt,
				   p->kmod ? postrm_kmod : "", NULL);
	return err;
}

/* ---- control ---- */

static unsigned long long installed_kib;

static int count_kib(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_F && !strstr(path, "/DEBIAN/"))
		installed_kib += ((unsigned long long)st->st_size + 1023) / 1024;
	return 0;
}

/* DEBFULLNAME <DEBEMAIL>, as dch takes them; the user at this host without them. */
static char *maintainer(void)
{
	const char *full = getenv("DEBFULLNAME"), *mail = getenv("DEBEMAIL");
	struct passwd *pw = getpwuid(getuid());
	const char *user = pw ? pw->pw_name : "root";
	char host[256] = "localhost", *m;

	gethostname(host, sizeof(host) - 1);
	host[sizeof(host) - 1] = 0;
	if (mail && *mail)
		m = xasprintf("%s <%s>", full && *full ? full : user, mail);
	else
		m = xasprintf("%s <%s@%s>", full && *full ? full : user, user, host);
	if (strpbrk(m, "\n\r")) {
		p_err("DEBFULLNAME and DEBEMAIL must be one line each");
		free(m);
		return NULL;
	}
	return m;
}

static const char control_txt[] =
	"Package: %1$s\n"
	"Version: %2$s\n"
	"Architecture: %3$s\n"
	"Maintainer: %4$s\n"
	"Installed-Size: %5$llu\n"
	"Depends: ksc%6$s\n"
	"%7$s"
	"Section: kernel\n"
	"Priority: optional\n"
	OWNER_FIELD ": %8$s\n"
	"Description: KernelScript extension %8$s, loaded at boot\n"
	" The eBPF programs of %8$s, built by ksc, and a systemd unit,\n"
	" ksc-%8$s.service, that loads and attaches them at boot (ksc install\n"
	" " LIB_DIR "/%8$s) and takes them down when it stops (ksc uninstall).\n"
	"%9$s";

static const char control_kmod[] =
	" .\n"
	" The kernel module %1$s that registers their kfuncs is built by DKMS\n"
	" for the running kernel and for every kernel whose headers are installed.\n";

static int stage_control(const struct pkg *p)
{
	struct strbuf sb, desc;
	char *recommends = NULL, *m = maintainer();
	int err = m ? 0 : -EINVAL;

	installed_kib = 0;
	nftw(p->root, count_kib, 16, FTW_PHYS);
	sb_init(&sb);
	sb_init(&desc);
	if (p->kmod) {
		recommends = xasprintf("Recommends: linux-headers-%s\n", p->arch);
		sb_printf(&desc, control_kmod, p->name);
	}
	if (!err) {
		sb_printf(&sb, control_txt, p->deb_name, p->version, p->arch, m, installed_kib,
			  p->kmod ? ", dkms, pahole | dwarves, kmod" : "", recommends ? recommends : "",
			  p->name, desc.len ? desc.buf : "");
		err = stage_file(p, "/DEBIAN/control", sb.buf, sb.len, 0644);
	}
	free(recommends);
	free(m);
	sb_free(&sb);
	sb_free(&desc);
	return err;
}

static int stage_all(const struct pkg *p)
{
	int err = stage_bpf(p);

	if (!err && p->kmod)
		err = stage_dkms(p);
	if (!err)
		err = stage_unit(p);
	if (!err)
		err = stage_scripts(p);
	/* Last: Installed-Size counts what the others staged. */
	if (!err)
		err = stage_control(p);
	return err;
}

/* ---- the .deb ---- */

/* The value of field in the control file of the .deb at path, or NULL. */
static char *deb_field(const struct pkg *p, const char *path, const char *field)
{
	char *log = xasprintf("%s/field.log", p->stage), *text = NULL;
	struct strbuf cmd;
	size_t len;

	sb_init(&cmd);
	sb_puts(&cmd, "dpkg-deb -f ");
	sh_quote(&cmd, path);
	sb_printf(&cmd, " %s", field);
	if (run_logged(cmd.buf, log, "dpkg-deb") || read_file(log, &text, &len)) {
		free(text);
		text = NULL;
	} else {
		text[strcspn(text, "\n")] = 0;
	}
	sb_free(&cmd);
	free(log);
	return text;
}

/* The output file is replaced only if it is a .deb ksc package made for this extension. */
static int check_target(const struct pkg *p)
{
	struct stat st;
	char *owner;
	bool ours;

	if (lstat(p->deb, &st))
		return 0;
	owner = S_ISREG(st.st_mode) ? deb_field(p, p->deb, OWNER_FIELD) : NULL;
	ours = owner && !strcmp(owner, p->name);
	free(owner);
	if (ours)
		return 0;
	p_err("'%s' exists and 'ksc package' did not make it for %s; move it, or choose another -o directory",
	      p->deb, p->name);
	return -EEXIST;
}

static int out_dir(const struct pkg *p)
{
	struct strbuf cmd;
	int err;

	if (is_dir(p->out))
		return 0;
	sb_init(&cmd);
	sb_puts(&cmd, "mkdir -p -- ");
	sh_quote(&cmd, p->out);
	err = access(p->out, F_OK) == 0 ? -ENOTDIR : run_logged(cmd.buf, "/dev/null", "mkdir");
	if (err)
		p_err("-o %s: cannot make that directory", p->out);
	sb_free(&cmd);
	return err;
}

/* dpkg-deb writes beside the target under a temporary name; a rename puts it in place. */
static int build_deb(const struct pkg *p)
{
	char *tmp = xasprintf("%s.ksc-tmp-XXXXXX", p->deb), *log = xasprintf("%s/dpkg-deb.log", p->stage);
	struct strbuf cmd;
	int fd = mkstemp(tmp), err = fd < 0 ? -errno : 0;

	if (err)
		p_err("cannot write in %s: %s", p->out, strerror(errno));
	else
		close(fd);
	sb_init(&cmd);
	sb_puts(&cmd, "dpkg-deb --root-owner-group --build ");
	sh_quote(&cmd, p->root);
	sb_putc(&cmd, ' ');
	sh_quote(&cmd, tmp);
	if (!err && (err = run_logged(cmd.buf, log, "dpkg-deb")) == -ECHILD) {
		p_err("dpkg-deb could not build %s:", p->deb);
		show_log(log, false, 20);
	}
	if (!err && (chmod(tmp, 0644) || rename(tmp, p->deb))) {
		err = -errno;
		p_err("cannot move the package into %s: %s", p->deb, strerror(errno));
	}
	if (err && fd >= 0)
		unlink(tmp);
	sb_free(&cmd);
	free(log);
	free(tmp);
	return err;
}

/* -o DIR is made only once the input is known good, and nothing in it is touched before the end. */
static int package(struct pkg *p)
{
	int err = make_stage(p);

	if (!err)
		err = build_tree(p);
	if (!err)
		err = read_tree(p);
	if (!err)
		err = out_dir(p);
	if (err)
		return err;
	p->deb_name = package_name(p->name);
	p->deb = xasprintf("%s/%s_%s_%s.deb", p->out, p->deb_name, p->version, p->arch);
	err = check_target(p);
	if (!err)
		err = stage_all(p);
	if (!err)
		err = build_deb(p);
	if (!err)
		p_step("wrote %s (%s %s%s)", p->deb, p->deb_name, p->version,
		       p->kmod ? ", with the module's DKMS tree" : ", eBPF only");
	return err;
}

static void free_pkg(struct pkg *p)
{
	if (p->stage)
		remove_tree(p->stage);
	free(p->stage);
	free(p->tree);
	free(p->root);
	free(p->name);
	free(p->deb_name);
	free(p->arch);
	free(p->deb);
	free(p->kmod);
}

int do_package(int argc, char **argv)
{
	struct pkg p = { .version = KMOD_DEFAULT_VERSION, .out = "." };
	int err = parse_args(argc, argv, &p);

	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	if (!*p.out)
		return args_usage(&package_spec, "-o needs a directory, not ''");
	if (!valid_version(p.version)) {
		p_err("--version '%s': a package version is a digit, then letters, digits and . + ~ - (not ending in -)",
		      p.version);
		return EXIT_USER;
	}
	if (system("command -v dpkg-deb >/dev/null 2>&1")) {
		p_err("ksc package needs dpkg-deb (apt-get install dpkg)");
		return EXIT_USER;
	}
	p.arch = debian_arch();
	err = p.arch ? package(&p) : -EINVAL;
	free_pkg(&p);
	return err ? EXIT_USER : EXIT_OK;
}
