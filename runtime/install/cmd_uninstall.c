/*
 * `ksc uninstall NAME` takes down what `ksc install` put up, newest first:
 * links (detached), programs, maps, the pin directory, then the module.
 * `ksc status [NAME]` shows installations as they are in the kernel.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "args.h"
#include "cli.h"
#include "installer.h"

void help_uninstall(FILE *out)
{
	fprintf(out,
		"Usage: ksc uninstall NAME\n"
		"\n"
		"Undoes 'ksc install' of NAME, in reverse: detaches and unpins the links\n"
		"under " INSTALL_ROOT "/NAME, unpins its programs and maps, removes that\n"
		"directory, then removes module NAME through libkmod.  The module stays\n"
		"(exit status 1) while programs ksc did not install still use it.\n");
}

void help_status(FILE *out)
{
	fprintf(out,
		"Usage: ksc status [NAME]\n"
		"\n"
		"For each installation under " INSTALL_ROOT " (or only NAME): whether its\n"
		"module is loaded and has BTF, its pinned links with their programs, and\n"
		"its pinned maps, with their entries when they are small integers.  An\n"
		"install that was interrupted (ksc install killed midway) is marked\n"
		"incomplete, with a warning; status NAME of one exits 1.\n");
}

static bool valid_name(const char *name)
{
	return *name && !strchr(name, '/') && strcmp(name, ".") && strcmp(name, "..");
}

static const struct arg_opt no_opts[] = { { 0 } };
static const struct arg_spec uninstall_spec = { "uninstall", help_uninstall, no_opts, 1, 1, "NAME" };
static const struct arg_spec status_spec = { "status", help_status, no_opts, 0, 1, NULL };

/* NAME, the operand of uninstall and status: 0 and *name, ARGS_HELP or EXIT_USAGE. */
static int name_arg(const struct arg_spec *s, int argc, char **argv, const char **name)
{
	struct args a;
	int status = args_parse(s, argc, argv, &a);

	if (status)
		return status;
	*name = a.npos ? a.pos[0] : NULL;
	if (*name && !valid_name(*name))
		return args_usage(s, "'%s' is not an installed program's name", *name);
	return 0;
}

int do_uninstall(int argc, char **argv)
{
	const char *name = NULL;
	char *dir;
	bool pinned;
	int err = name_arg(&uninstall_spec, argc, argv, &name);

	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	if (install_preflight("ksc uninstall"))
		return EXIT_USER;
	dir = install_path(name, NULL);
	pinned = access(dir, F_OK) == 0;
	if (!pinned && !module_loaded(name)) {
		p_err("%s is not installed (no %s, no module %s)", name, dir, name);
		free(dir);
		return EXIT_USER;
	}
	if (pinned) {
		p_step("unpinning %s", dir);
		err = install_remove_tree(dir);
	}
	if (!err && module_loaded(name)) {
		p_step("module: removing %s", name);
		err = module_remove(name);
	}
	if (!err)
		p_step("uninstalled %s", name);
	free(dir);
	return err ? EXIT_USER : EXIT_OK;
}

/* ---- status ---- */

static void show_prog(__u32 id)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len)) {
		printf("program id %u", id);
	} else {
		const char *type = libbpf_bpf_prog_type_str(info.type);

		printf("program %s (%s, id %u)", info.name, type ? type : "?", id);
	}
	if (fd >= 0)
		close(fd);
}

static void show_link(const char *name, int fd)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);
	char ifname[IF_NAMESIZE] = "?";
	const char *type;

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		printf("  link %s: %s\n", name, strerror(errno));
		return;
	}
	type = libbpf_bpf_link_type_str(info.type);
	printf("  link %s: %s", name, type ? type : "?");
	if (info.type == BPF_LINK_TYPE_XDP) {
		if (!info.xdp.ifindex)
			printf(" (detached)");
		else
			printf(" on %s", if_indextoname(info.xdp.ifindex, ifname) ? ifname : "?");
	}
	printf(", ");
	show_prog(info.prog_id);
	printf("\n");
}

/* A tc filter pinned as its program (installer.h): where is in the name. */
static void show_tc(const char *name, int fd)
{
	const char *tag = strstr(name, INSTALL_TC_TAG);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	char ifname[IF_NAMESIZE] = "?", dir[8] = "?";
	int ifindex = 0;

	sscanf(tag + strlen(INSTALL_TC_TAG), "%d-%7[a-z]", &ifindex, dir);
	if_indextoname((unsigned)ifindex, ifname);
	printf("  link %.*s: tc %s on %s, ", (int)(tag - name), name, dir, ifname);
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		show_prog(info.id);
	printf("\n");
}

static void print_value(const unsigned char *v, __u32 size)
{
	unsigned long long n = 0;

	for (__u32 i = size; i-- > 0;)
		n = n << 8 | v[i];
	printf("%llu", n);
}

static bool is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Up to 16 entries of a map with integer keys and values (per-CPU values summed). */
static void show_entries(int fd, const struct bpf_map_info *m)
{
	bool percpu = is_percpu(m->type);
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	size_t stride = percpu ? (m->value_size + 7) / 8 * 8 : m->value_size;
	unsigned char key[8], next[8], *vals;
	void *prev = NULL;
	int shown = 0;

	if (m->key_size > 8 || m->value_size > 8 || ncpu < 1 ||
	    (m->type != BPF_MAP_TYPE_ARRAY && m->type != BPF_MAP_TYPE_HASH &&
	     m->type != BPF_MAP_TYPE_LRU_HASH && !percpu))
		return;
	vals = xcalloc((size_t)ncpu, stride);
	printf(":");
	while (shown < 16 && !bpf_map_get_next_key(fd, prev, next)) {
		unsigned char sum[8] = { 0 };
		unsigned long long total = 0;

		memcpy(key, next, m->key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, vals))
			continue;
		for (int c = 0; c < ncpu; c++) {
			unsigned long long n = 0;

			for (__u32 i = m->value_size; i-- > 0;)
				n = n << 8 | vals[(size_t)c * stride + i];
			total += n;
		}
		for (__u32 i = 0; i < m->value_size; i++)
			sum[i] = (unsigned char)(total >> (8 * i));
		printf(" [");
		print_value(key, m->key_size);
		printf("]=");
		print_value(sum, m->value_size);
		shown++;
	}
	free(vals);
}

static void show_map(const char *name, int fd)
{
	struct bpf_map_info m = { 0 };
	__u32 len = sizeof(m);
	const char *type;

	if (bpf_obj_get_info_by_fd(fd, &m, &len)) {
		printf("  map %s: %s\n", name, strerror(errno));
		return;
	}
	type = libbpf_bpf_map_type_str(m.type);
	if (m.type == BPF_MAP_TYPE_STRUCT_OPS) {
		printf("  link %s: struct_ops %s registered (map id %u)\n", name, m.name, m.id);
		return;
	}
	printf("  map %s: %s, %u entries", name, type ? type : "?", m.max_entries);
	show_entries(fd, &m);
	printf("\n");
}

static void show_pin(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	unsigned map_type = 0;
	int fd = bpf_obj_get(path);

	if (fd < 0) {
		printf("  %s: %s\n", path, strerror(errno));
		free(path);
		return;
	}
	switch (install_fd_kind(fd, &map_type)) {
	case 'l':
		show_link(name, fd);
		break;
	case 'm':
		show_map(name, fd);
		break;
	case 'p':
		if (strstr(name, INSTALL_TC_TAG)) {
			show_tc(name, fd);
		} else {
			struct bpf_prog_info info = { 0 };
			__u32 len = sizeof(info);

			printf("  loaded, not attached: ");
			if (!bpf_obj_get_info_by_fd(fd, &info, &len))
				show_prog(info.id);
			printf("\n");
		}
		break;
	default:
		printf("  %s: not a BPF object\n", path);
	}
	close(fd);
	free(path);
}

/* The pins in dir; subdirectories are shown apart. */
static void show_pins(const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' && list[i]->d_type != DT_DIR)
			show_pin(dir, list[i]->d_name);
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* A line for an install that is not complete; whether it was interrupted. */
static bool show_state(const char *name)
{
	int pid;

	switch (install_state(name, &pid)) {
	case INSTALL_RUNNING:
		printf("  state: being installed (ksc install, pid %d)\n", pid);
		return false;
	case INSTALL_INTERRUPTED:
		printf("  state: incomplete: ksc install (pid %d) was interrupted; 'ksc uninstall %s' removes what it left\n",
		       pid, name);
		p_warn("the install of %s is incomplete (interrupted): 'ksc uninstall %s'", name, name);
		return true;
	default:
		return false;
	}
}

/* Returns whether the install is an interrupted one. */
static bool show_one(const char *name)
{
	static const char *const subs[] = { "links", "progs", "maps" };
	char *btf = xasprintf("/sys/kernel/btf/%s", name), *dir = install_path(name, NULL);
	bool broken;

	printf("%s:\n", name);
	broken = show_state(name);
	if (module_loaded(name))
		printf("  module %s: loaded, refcnt %d\n", name, module_refcnt(name));
	else
		printf("  module %s: not loaded\n", name);
	printf("  module BTF: %s\n", access(btf, F_OK) ? "absent" : btf);
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		char *sub = install_path(name, subs[i]);

		show_pins(sub);
		free(sub);
	}
	show_pins(dir);
	free(dir);
	free(btf);
	return broken;
}

int do_status(int argc, char **argv)
{
	struct dirent **list;
	const char *name = NULL;
	int n, shown = 0, err = name_arg(&status_spec, argc, argv, &name);

	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	if (install_preflight("ksc status"))
		return EXIT_USER;
	if (name) {
		char *dir = install_path(name, NULL);
		bool there = access(dir, F_OK) == 0;

		free(dir);
		if (!there) {
			p_err("%s is not installed (no " INSTALL_ROOT "/%s)", name, name);
			return EXIT_USER;
		}
		return show_one(name) ? EXIT_USER : EXIT_OK;
	}
	n = scandir(INSTALL_ROOT, &list, NULL, alphasort);
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' && list[i]->d_type == DT_DIR) {
			show_one(list[i]->d_name);
			shown++;
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	if (!shown)
		printf("nothing installed under " INSTALL_ROOT "\n");
	return EXIT_OK;
}
