/*
 * `ksc status [NAME] [--json]`: installations as they are in the kernel.
 * Each installation is read once into a description (struct inst) and then
 * written one of three ways: one summary line per installation, the
 * detail of one NAME, or JSON; so the three always agree.
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
#include "json.h"

void help_status(FILE *out)
{
	fprintf(out,
		"Usage: ksc status [NAME] [--json]\n"
		"\n"
		"Without NAME, one line per installation under " INSTALL_ROOT ": its name,\n"
		"its state (installed, incomplete, being installed), its module ('no\n"
		"module' for a BPF-only install), what is attached where, and how many\n"
		"programs are loaded only and how many maps are pinned.  With NAME, the\n"
		"detail of that one: the module and its BTF, each pinned link with its\n"
		"program, each pinned map with its entries when they are small integers.\n"
		"--json writes the same as one JSON object: {\"installs\": [...]} without\n"
		"NAME, the installation's object with NAME.  An install that was\n"
		"interrupted (ksc install killed midway) is marked incomplete, with a\n"
		"warning; status NAME of one exits 1.\n");
}

#define MAX_ENTRIES 16

struct prog_desc {
	bool known;                     /* the program's info could be read */
	char name[BPF_OBJ_NAME_LEN];
	const char *type;
	__u32 id;
};

/* One pin of an installation, as the kernel describes it. */
struct pin {
	char *file;                     /* its name in the directory */
	char *path;
	char kind;                      /* l link, t tc filter, s struct_ops, m map, p loaded only,
					   e unreadable, x not BPF */
	int err;                        /* errno: kind e, or a link or map whose info failed */
	const char *type;               /* link or map type */
	char ifname[IF_NAMESIZE];       /* xdp and tc: the interface ("?" when gone) */
	bool detached;                  /* an xdp link whose interface went */
	char dir[8];                    /* tc: ingress or egress */
	struct prog_desc prog;
	char map_name[BPF_OBJ_NAME_LEN];
	__u32 map_id, max_entries;
	bool has_entries;               /* small integers: the entries were read */
	int nentries;
	unsigned long long key[MAX_ENTRIES], val[MAX_ENTRIES];
};

struct inst {
	const char *name;
	enum install_state state;
	int pid;
	bool module, btf;
	int refcnt;
	struct pin *pins;
	int npins;
};

/* ---- reading ---- */

static void read_prog(__u32 id, struct prog_desc *p)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id);

	p->id = id;
	if (fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len)) {
		p->known = true;
		snprintf(p->name, sizeof(p->name), "%s", info.name);
		p->type = libbpf_bpf_prog_type_str(info.type);
	}
	if (fd >= 0)
		close(fd);
}

static void read_link(struct pin *p, int fd)
{
	struct bpf_link_info info = { 0 };
	__u32 len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		p->err = errno;
		return;
	}
	p->type = libbpf_bpf_link_type_str(info.type);
	if (info.type == BPF_LINK_TYPE_XDP) {
		p->detached = !info.xdp.ifindex;
		if (!p->detached && !if_indextoname(info.xdp.ifindex, p->ifname))
			snprintf(p->ifname, sizeof(p->ifname), "?");
	}
	read_prog(info.prog_id, &p->prog);
}

/* A tc filter pinned as its program (installer.h): where is in the file name. */
static void read_tc(struct pin *p, int fd)
{
	char *tag = strstr(p->file, INSTALL_TC_TAG);
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);
	int ifindex = 0;

	p->kind = 't';
	p->type = "tc";
	snprintf(p->dir, sizeof(p->dir), "?");
	sscanf(tag + strlen(INSTALL_TC_TAG), "%d-%7[a-z]", &ifindex, p->dir);
	if (!if_indextoname((unsigned)ifindex, p->ifname))
		snprintf(p->ifname, sizeof(p->ifname), "?");
	/* The pin's name is the program's; what follows the tag is where. */
	*tag = 0;
	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		read_prog(info.id, &p->prog);
}

static unsigned long long le_value(const unsigned char *v, __u32 size)
{
	unsigned long long n = 0;

	for (__u32 i = size; i-- > 0;)
		n = n << 8 | v[i];
	return n;
}

static bool is_percpu(__u32 type)
{
	return type == BPF_MAP_TYPE_PERCPU_ARRAY || type == BPF_MAP_TYPE_PERCPU_HASH ||
	       type == BPF_MAP_TYPE_LRU_PERCPU_HASH;
}

/* Up to 16 entries of a map with integer keys and values (per-CPU values summed). */
static void read_entries(struct pin *p, int fd, const struct bpf_map_info *m)
{
	bool percpu = is_percpu(m->type);
	int ncpu = percpu ? libbpf_num_possible_cpus() : 1;
	size_t stride = percpu ? (m->value_size + 7) / 8 * 8 : m->value_size;
	unsigned char key[8], next[8], *vals;
	void *prev = NULL;

	if (m->key_size > 8 || m->value_size > 8 || ncpu < 1 ||
	    (m->type != BPF_MAP_TYPE_ARRAY && m->type != BPF_MAP_TYPE_HASH &&
	     m->type != BPF_MAP_TYPE_LRU_HASH && !percpu))
		return;
	p->has_entries = true;
	vals = xcalloc((size_t)ncpu, stride);
	while (p->nentries < MAX_ENTRIES && !bpf_map_get_next_key(fd, prev, next)) {
		unsigned long long total = 0;

		memcpy(key, next, m->key_size);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			total += le_value(vals + (size_t)c * stride, m->value_size);
		/* The sum as the value's own width holds it. */
		if (m->value_size < 8)
			total &= (1ULL << (8 * m->value_size)) - 1;
		p->key[p->nentries] = le_value(key, m->key_size);
		p->val[p->nentries++] = total;
	}
	free(vals);
}

static void read_map(struct pin *p, int fd)
{
	struct bpf_map_info m = { 0 };
	__u32 len = sizeof(m);

	if (bpf_obj_get_info_by_fd(fd, &m, &len)) {
		p->err = errno;
		return;
	}
	p->type = libbpf_bpf_map_type_str(m.type);
	p->map_id = m.id;
	p->max_entries = m.max_entries;
	snprintf(p->map_name, sizeof(p->map_name), "%s", m.name);
	if (m.type == BPF_MAP_TYPE_STRUCT_OPS)
		p->kind = 's';
	else
		read_entries(p, fd, &m);
}

/* A program loaded but not attached (progs/). */
static void read_loaded(struct pin *p, int fd)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (!bpf_obj_get_info_by_fd(fd, &info, &len))
		read_prog(info.id, &p->prog);
}

static void read_pin(struct pin *p, const char *dir, const char *file)
{
	unsigned map_type = 0;
	int fd;

	memset(p, 0, sizeof(*p));
	p->file = xstrdup(file);
	p->path = xasprintf("%s/%s", dir, file);
	fd = bpf_obj_get(p->path);
	if (fd < 0) {
		p->kind = 'e';
		p->err = errno;
		return;
	}
	p->kind = install_fd_kind(fd, &map_type);
	if (p->kind == 'l')
		read_link(p, fd);
	else if (p->kind == 'm')
		read_map(p, fd);
	else if (p->kind == 'p' && strstr(file, INSTALL_TC_TAG))
		read_tc(p, fd);
	else if (p->kind == 'p')
		read_loaded(p, fd);
	else
		p->kind = 'x';
	close(fd);
}

/* The pins in dir, sorted; subdirectories are not pins. */
static void read_pins(struct inst *in, const char *dir)
{
	struct dirent **list;
	int n = scandir(dir, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' && list[i]->d_type != DT_DIR) {
			in->pins = xrealloc(in->pins, (size_t)(in->npins + 1) * sizeof(*in->pins));
			read_pin(&in->pins[in->npins++], dir, list[i]->d_name);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

static void read_inst(struct inst *in, const char *name)
{
	static const char *const subs[] = { "links", "progs", "maps", NULL };
	char *btf = xasprintf("/sys/kernel/btf/%s", name);

	memset(in, 0, sizeof(*in));
	in->name = name;
	in->state = install_state(name, &in->pid);
	in->module = module_loaded(name);
	in->refcnt = in->module ? module_refcnt(name) : -1;
	in->btf = access(btf, F_OK) == 0;
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		char *dir = install_path(name, subs[i]);

		read_pins(in, dir);
		free(dir);
	}
	free(btf);
}

static void free_inst(struct inst *in)
{
	for (int i = 0; i < in->npins; i++) {
		free(in->pins[i].file);
		free(in->pins[i].path);
	}
	free(in->pins);
}

/* ---- the detail of one (ksc status NAME) ---- */

static const char *or_q(const char *s)
{
	return s ? s : "?";
}

static void print_prog(const struct prog_desc *p)
{
	if (p->known)
		printf("program %s (%s, id %u)", p->name, or_q(p->type), p->id);
	else if (p->id)
		printf("program id %u", p->id);
}

static void print_map(const struct pin *p)
{
	if (p->err) {
		printf("  map %s: %s\n", p->file, strerror(p->err));
		return;
	}
	printf("  map %s: %s, %u entries", p->file, or_q(p->type), p->max_entries);
	if (p->has_entries)
		printf(":");
	for (int i = 0; i < p->nentries; i++)
		printf(" [%llu]=%llu", p->key[i], p->val[i]);
	printf("\n");
}

static void print_pin(const struct pin *p)
{
	switch (p->kind) {
	case 'l':
		if (p->err) {
			printf("  link %s: %s\n", p->file, strerror(p->err));
			return;
		}
		printf("  link %s: %s", p->file, or_q(p->type));
		if (p->detached)
			printf(" (detached)");
		else if (*p->ifname)
			printf(" on %s", p->ifname);
		/* A struct_ops link has no program of its own. */
		if (!p->prog.id) {
			printf("\n");
			return;
		}
		printf(", ");
		break;
	case 't':
		printf("  link %s: tc %s on %s, ", p->file, p->dir, p->ifname);
		break;
	case 's':
		printf("  link %s: struct_ops %s registered (map id %u)\n", p->file, p->map_name, p->map_id);
		return;
	case 'm':
		print_map(p);
		return;
	case 'p':
		printf("  loaded, not attached: ");
		break;
	case 'e':
		printf("  %s: %s\n", p->path, strerror(p->err));
		return;
	default:
		printf("  %s: not a BPF object\n", p->path);
		return;
	}
	print_prog(&p->prog);
	printf("\n");
}

/* The install's state; for an interrupted one also a warning. */
static void print_state(const struct inst *in)
{
	if (in->state == INSTALL_RUNNING)
		printf("  state: being installed (ksc install, pid %d)\n", in->pid);
	else if (in->state == INSTALL_INTERRUPTED)
		printf("  state: incomplete: ksc install (pid %d) was interrupted; 'ksc uninstall %s' removes what it left\n",
		       in->pid, in->name);
}

static void warn_interrupted(const struct inst *in)
{
	if (in->state == INSTALL_INTERRUPTED)
		p_warn("the install of %s is incomplete (interrupted): 'ksc uninstall %s'", in->name, in->name);
}

/*
 * A module-less install is one of eBPF programs only: an install whose
 * programs call its module's kfuncs holds the module, so it cannot have
 * gone while they are there.
 */
static void print_detail(const struct inst *in)
{
	printf("%s:\n", in->name);
	print_state(in);
	if (!in->module && !in->btf) {
		printf("  module: none (BPF only)\n");
	} else {
		if (in->module)
			printf("  module %s: loaded, refcnt %d\n", in->name, in->refcnt);
		else
			printf("  module %s: not loaded\n", in->name);
		if (in->btf)
			printf("  module BTF: /sys/kernel/btf/%s\n", in->name);
		else
			printf("  module BTF: absent\n");
	}
	for (int i = 0; i < in->npins; i++)
		print_pin(&in->pins[i]);
}

/* ---- one line per installation (ksc status) ---- */

static const char *state_word(const struct inst *in)
{
	return in->state == INSTALL_RUNNING ? "being installed" :
	       in->state == INSTALL_INTERRUPTED ? "incomplete" : "installed";
}

static bool attached(const struct pin *p)
{
	return (p->kind == 'l' && !p->err) || p->kind == 't' || p->kind == 's';
}

/* "stats_xdp xdp on lo", "judge_in tc ingress on lo", "kcc struct_ops". */
static void sb_attachment(struct strbuf *sb, const struct pin *p)
{
	sb_printf(sb, "%s %s", p->file, or_q(p->type));
	if (p->kind == 't')
		sb_printf(sb, " %s on %s", p->dir, p->ifname);
	else if (p->detached)
		sb_puts(sb, " (detached)");
	else if (*p->ifname)
		sb_printf(sb, " on %s", p->ifname);
}

static void print_count(int n, const char *what, const char *whats)
{
	printf(", %d %s", n, n == 1 ? what : whats);
}

static void print_summary(const struct inst *in)
{
	struct strbuf list;
	int nattached = 0, nloaded = 0, nmaps = 0, nbad = 0;

	sb_init(&list);
	for (int i = 0; i < in->npins; i++) {
		const struct pin *p = &in->pins[i];

		if (attached(p)) {
			sb_puts(&list, nattached++ ? ", " : "");
			sb_attachment(&list, p);
		}
		nloaded += p->kind == 'p';
		nmaps += p->kind == 'm' && !p->err;
		nbad += p->kind == 'e' || p->kind == 'x' || (p->kind != 's' && p->err);
	}
	printf("%s: %s", in->name, state_word(in));
	if (in->state == INSTALL_RUNNING)
		printf(" (pid %d)", in->pid);
	printf(", %s", !in->module ? "no module" : in->btf ? "module loaded" : "module loaded without BTF");
	printf(", %d attached", nattached);
	if (nattached)
		printf(" (%s)", list.buf);
	if (nloaded)
		printf(", %d loaded only", nloaded);
	print_count(nmaps, "map", "maps");
	if (nbad)
		print_count(nbad, "unreadable pin", "unreadable pins");
	printf("\n");
	sb_free(&list);
}

/* ---- JSON ---- */

static void json_prog(struct json *j, const struct prog_desc *p)
{
	json_key(j, "program");
	if (!p->id) {
		json_null(j);
		return;
	}
	json_begin_object(j);
	json_kv_string(j, "name", p->known ? p->name : NULL);
	json_kv_string(j, "type", p->known ? p->type : NULL);
	json_kv_uint(j, "id", p->id);
	json_end_object(j);
}

static void json_attachment(struct json *j, const struct pin *p)
{
	json_begin_object(j);
	json_kv_string(j, "pin", p->file);
	json_kv_string(j, "type", p->type);
	if (p->kind == 's') {
		json_kv_string(j, "struct_ops", p->map_name);
		json_kv_uint(j, "map_id", p->map_id);
	} else {
		json_kv_string(j, "interface", *p->ifname ? p->ifname : NULL);
		if (p->kind == 't')
			json_kv_string(j, "direction", p->dir);
		json_prog(j, &p->prog);
	}
	json_end_object(j);
}

static void json_map(struct json *j, const struct pin *p)
{
	json_begin_object(j);
	json_kv_string(j, "pin", p->file);
	json_kv_string(j, "name", p->map_name);
	json_kv_string(j, "type", p->type);
	json_kv_uint(j, "id", p->map_id);
	json_kv_uint(j, "max_entries", p->max_entries);
	json_key(j, "entries");
	if (!p->has_entries) {
		json_null(j);
	} else {
		json_begin_array(j);
		for (int i = 0; i < p->nentries; i++) {
			json_begin_object(j);
			json_kv_uint(j, "key", p->key[i]);
			json_kv_uint(j, "value", p->val[i]);
			json_end_object(j);
		}
		json_end_array(j);
	}
	json_end_object(j);
}

/* The pins that `want` accepts, as an array under key. */
static void json_pins(struct json *j, const struct inst *in, const char *key, char want)
{
	json_key(j, key);
	json_begin_array(j);
	for (int i = 0; i < in->npins; i++) {
		const struct pin *p = &in->pins[i];
		bool bad = p->kind == 'e' || p->kind == 'x' || (p->kind != 's' && p->err);

		if (want == 'a' && attached(p)) {
			json_attachment(j, p);
		} else if (want == 'm' && p->kind == 'm' && !p->err) {
			json_map(j, p);
		} else if (want == 'p' && p->kind == 'p') {
			json_begin_object(j);
			json_kv_string(j, "pin", p->file);
			json_prog(j, &p->prog);
			json_end_object(j);
		} else if (want == 'e' && bad) {
			json_begin_object(j);
			json_kv_string(j, "path", p->path);
			json_kv_string(j, "error", p->err ? strerror(p->err) : "not a BPF object");
			json_end_object(j);
		}
	}
	json_end_array(j);
}

static void json_inst(struct json *j, const struct inst *in)
{
	json_begin_object(j);
	json_kv_string(j, "name", in->name);
	json_kv_string(j, "state", state_word(in));
	json_key(j, "pid");
	if (in->pid)
		json_int(j, in->pid);
	else
		json_null(j);
	json_key(j, "module");
	if (!in->module) {
		json_null(j);
	} else {
		char *btf = in->btf ? xasprintf("/sys/kernel/btf/%s", in->name) : NULL;

		json_begin_object(j);
		json_kv_string(j, "name", in->name);
		json_kv_int(j, "refcnt", in->refcnt);
		json_kv_string(j, "btf", btf);
		json_end_object(j);
		free(btf);
	}
	json_pins(j, in, "attached", 'a');
	json_pins(j, in, "loaded", 'p');
	json_pins(j, in, "maps", 'm');
	json_pins(j, in, "errors", 'e');
	json_end_object(j);
}

/* ---- the command ---- */

enum { S_JSON };

static const struct arg_opt status_opts[] = {
	[S_JSON] = { "json", 0, NULL },
	{ 0 },
};

static const struct arg_spec status_spec = { "status", help_status, status_opts, 0, 1, NULL };

/* ksc status NAME: exit 1 for an interrupted install. */
static int status_one(const char *name, bool json)
{
	char *dir = install_path(name, NULL);
	bool there = access(dir, F_OK) == 0;
	struct inst in;
	struct json j;

	free(dir);
	if (!there) {
		p_err("%s is not installed (no " INSTALL_ROOT "/%s)", name, name);
		return EXIT_USER;
	}
	read_inst(&in, name);
	if (json) {
		json_init(&j, stdout);
		json_inst(&j, &in);
		json_finish(&j);
	} else {
		print_detail(&in);
	}
	warn_interrupted(&in);
	free_inst(&in);
	return in.state == INSTALL_INTERRUPTED ? EXIT_USER : EXIT_OK;
}

static void status_all(bool json)
{
	struct dirent **list;
	struct json j;
	int n = scandir(INSTALL_ROOT, &list, NULL, alphasort), shown = 0;

	json_init(&j, stdout);
	if (json) {
		json_begin_object(&j);
		json_key(&j, "installs");
		json_begin_array(&j);
	}
	for (int i = 0; i < n; i++) {
		if (list[i]->d_name[0] != '.' && list[i]->d_type == DT_DIR) {
			struct inst in;

			read_inst(&in, list[i]->d_name);
			if (json)
				json_inst(&j, &in);
			else
				print_summary(&in);
			warn_interrupted(&in);
			free_inst(&in);
			shown++;
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
	if (json) {
		json_end_array(&j);
		json_end_object(&j);
		json_finish(&j);
	} else if (!shown) {
		printf("nothing installed under " INSTALL_ROOT "\n");
	}
}

int do_status(int argc, char **argv)
{
	struct args a;
	int err = args_parse(&status_spec, argc, argv, &a);
	const char *name;

	if (err)
		return err == ARGS_HELP ? EXIT_OK : err;
	name = a.npos ? a.pos[0] : NULL;
	if (name && !install_valid_name(name))
		return args_usage(&status_spec, "'%s' is not an installed program's name", name);
	if (install_preflight("ksc status"))
		return EXIT_USER;
	if (name)
		return status_one(name, a.val[S_JSON] != NULL);
	status_all(a.val[S_JSON] != NULL);
	return EXIT_OK;
}
