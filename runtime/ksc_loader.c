/* The loader runtime: see ksc_loader.h. */
#define _GNU_SOURCE
#include "ksc_loader.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/perf_event.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define PIN_ROOT "/sys/fs/bpf/ksc"
#define MAX_ATTACH 256
#define MAX_RINGBUFS 32

/* tcx links arrived in libbpf 1.3; older ones attach through a clsact qdisc. */
#if LIBBPF_MAJOR_VERSION > 1 || (LIBBPF_MAJOR_VERSION == 1 && LIBBPF_MINOR_VERSION >= 3)
#define HAVE_TCX 1
/*
 * Their attach types, from the kernel's uapi (an ABI, so fixed numbers):
 * a libbpf 1.3+ can sit on older uapi headers (Debian 12's are 6.1's).
 */
#define KSC_TCX_INGRESS ((enum bpf_attach_type)46)
#define KSC_TCX_EGRESS ((enum bpf_attach_type)47)
#else
#define HAVE_TCX 0
#endif

enum att_kind { ATT_FREE, ATT_LINK, ATT_XDP, ATT_TC, ATT_PERF };

/* One attach() or register(): what detach() and the exit handler undo. */
struct attachment {
	enum att_kind kind;
	const struct bpf_program *prog;
	struct bpf_link **links;   /* ATT_LINK: one; ATT_PERF: one per CPU */
	int *fds;                  /* ATT_PERF: the counters */
	int n;
	int ifindex;               /* ATT_XDP, ATT_TC */
	__u32 flags;               /* ATT_XDP */
	struct bpf_tc_hook hook;   /* ATT_TC */
	struct bpf_tc_opts tc;
	bool made_qdisc;
	__u64 generation;
};

static struct ksc_object object;
static int load_status = 1;    /* 1: not tried */
static struct attachment atts[MAX_ATTACH];
static __u64 generation;
static const struct bpf_program *egress_progs[64];
static int negress;
static volatile sig_atomic_t stop;
/* Pinned maps created by this load, with the value their entry 0 starts with. */
static struct {
	struct bpf_map *map;
	const void *first;
} fresh_pins[16];
static int nfresh;
static bool dispatching;

static struct {
	struct bpf_map *map;
	ksc_event_fn fn;
	int result;
} handlers[MAX_RINGBUFS];
static int nhandlers;

static struct {
	bool pending;
	int code;
} exc;

static const char *me(void)
{
	return object.name ? object.name : "ksc";
}

static int report(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "NAME: what: strerror" and returns err (negative). */
static int report(int err, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", me());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, ": %s\n", strerror(-err));
	return err;
}

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	/* Verifier logs come at WARN level; debug chatter is not for users. */
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

/* ---- attachments ---- */

static struct attachment *new_attachment(enum att_kind kind, const struct bpf_program *prog)
{
	for (int i = 0; i < MAX_ATTACH; i++) {
		if (atts[i].kind != ATT_FREE)
			continue;
		memset(&atts[i], 0, sizeof(atts[i]));
		atts[i].kind = kind;
		atts[i].prog = prog;
		atts[i].generation = ++generation;
		return &atts[i];
	}
	fprintf(stderr, "%s: more than %d attachments\n", me(), MAX_ATTACH);
	return NULL;
}

static void undo(struct attachment *a)
{
	if (a->kind == ATT_FREE)
		return;
	switch (a->kind) {
	case ATT_LINK:
	case ATT_PERF:
		for (int i = 0; i < a->n; i++) {
			bpf_link__destroy(a->links[i]);
			if (a->fds)
				close(a->fds[i]);
		}
		break;
	case ATT_XDP:
		bpf_xdp_detach(a->ifindex, a->flags, NULL);
		break;
	case ATT_TC:
		a->tc.prog_fd = a->tc.prog_id = 0;
		a->tc.flags = 0;
		bpf_tc_detach(&a->hook, &a->tc);
		if (a->made_qdisc) {
			a->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
			bpf_tc_hook_destroy(&a->hook);
		}
		break;
	case ATT_FREE:
		break;
	}
	free(a->links);
	free(a->fds);
	memset(a, 0, sizeof(*a));
}

static void undo_all(void)
{
	for (int i = MAX_ATTACH - 1; i >= 0; i--)
		undo(&atts[i]);
}

static void on_signal(int sig)
{
	stop = 1;
	if (dispatching)
		return;
	/* Netlink XDP and tc attachments outlive the process: undo them first. */
	undo_all();
	_exit(128 + sig);
}

void ksc_setup(const struct ksc_object *o)
{
	struct sigaction sa = { .sa_handler = on_signal };

	object = *o;
	/* A loader reports events as they come, also into a file or pipe. */
	setvbuf(stdout, NULL, _IOLBF, 0);
	libbpf_set_print(libbpf_print);
	atexit(undo_all);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

int ksc_load(void)
{
	if (load_status != 1)
		return load_status;
	load_status = object.load();
	if (load_status) {
		load_status = -abs(load_status);
		return report(load_status, "cannot load %s.ebpf.o", me());
	}
	for (int i = 0; i < nfresh; i++) {
		__u32 key = 0;

		if (bpf_map_update_elem(bpf_map__fd(fresh_pins[i].map), &key, fresh_pins[i].first,
					BPF_ANY))
			report(-errno, "cannot initialize the pinned map %s",
			       bpf_map__name(fresh_pins[i].map));
	}
	if (object.after_load)
		object.after_load();
	return 0;
}

void ksc_need_loaded(void)
{
	if (ksc_load())
		exit(1);
}

bool ksc_loaded(void)
{
	return load_status == 0;
}

/* mkdir -p */
static int make_dirs(const char *path)
{
	char buf[PATH_MAX];

	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

int ksc_pin(struct bpf_map *map, const char *subpath)
{
	return ksc_pin_first(map, subpath, NULL);
}

int ksc_pin_first(struct bpf_map *map, const char *subpath, const void *first)
{
	char path[PATH_MAX], *slash;
	int err;

	snprintf(path, sizeof(path), "%s/%s/%s", PIN_ROOT, me(), subpath);
	slash = strrchr(path, '/');
	*slash = '\0';
	err = make_dirs(path);
	*slash = '/';
	if (err)
		return report(err, "cannot create the pin directory for %s (is bpffs mounted at /sys/fs/bpf?)",
			      path);
	/* Set before load: libbpf then reuses the pinned map, so state is shared across runs. */
	err = bpf_map__set_pin_path(map, path);
	if (err)
		return report(err, "cannot pin %s", path);
	/* A pin already there keeps its state; a new one starts from first. */
	if (first && access(path, F_OK) && errno == ENOENT) {
		if (nfresh == (int)(sizeof(fresh_pins) / sizeof(fresh_pins[0])))
			return report(-ENOSPC, "too many pinned maps to initialize");
		fresh_pins[nfresh].map = map;
		fresh_pins[nfresh].first = first;
		nfresh++;
	}
	return 0;
}

void ksc_set_tc_egress(struct bpf_program *prog, bool egress)
{
	if (egress && negress < (int)(sizeof(egress_progs) / sizeof(egress_progs[0])))
		egress_progs[negress++] = prog;
#if HAVE_TCX
	/*
	 * A tcx link takes its direction from the program's expected attach
	 * type, which is fixed at load ("tc" sections leave it 0).  Kernels
	 * without tcx ignore it for tc programs, and so does the clsact path.
	 */
	bpf_program__set_expected_attach_type(prog, egress ? KSC_TCX_EGRESS : KSC_TCX_INGRESS);
#endif
}

static bool is_egress(const struct bpf_program *prog)
{
	for (int i = 0; i < negress; i++)
		if (egress_progs[i] == prog)
			return true;
	return false;
}

struct bpf_program *ksc_prog(struct bpf_program *prog)
{
	if (ksc_load())
		return NULL;
	return prog;
}

/* Keeps a link until detach() or exit; prog is NULL for struct_ops. */
static int keep_link(const struct bpf_program *prog, struct bpf_link *link, const char *name,
		     const char *target)
{
	struct attachment *a;

	if (!link && prog)
		return report(-errno, "cannot attach %s to %s", name, target);
	if (!link)
		return report(-errno, "cannot register %s", name);
	a = new_attachment(ATT_LINK, prog);
	if (!a) {
		bpf_link__destroy(link);
		return -ENOSPC;
	}
	a->links = malloc(sizeof(*a->links));
	if (!a->links) {
		bpf_link__destroy(link);
		a->kind = ATT_FREE;
		return -ENOMEM;
	}
	a->links[0] = link;
	a->n = 1;
	return 0;
}

static int attach_link(struct bpf_program *prog, struct bpf_link *link, const char *target)
{
	return keep_link(prog, link, bpf_program__name(prog), target);
}

static int ifindex_of(const char *ifname)
{
	int ifindex = (int)if_nametoindex(ifname);

	if (!ifindex)
		return report(-ENODEV, "no network interface '%s'", ifname);
	return ifindex;
}

static int attach_xdp(struct bpf_program *prog, const char *ifname, __u32 flags)
{
	struct attachment *a;
	int ifindex = ifindex_of(ifname), err;

	if (ifindex < 0)
		return ifindex;
	/* No flags: a link, which detaches itself if the loader dies. */
	if (!flags)
		return attach_link(prog, bpf_program__attach_xdp(prog, ifindex), ifname);
	err = bpf_xdp_attach(ifindex, bpf_program__fd(prog), flags, NULL);
	if (err)
		return report(err, "cannot attach %s to %s", bpf_program__name(prog), ifname);
	a = new_attachment(ATT_XDP, prog);
	if (!a) {
		bpf_xdp_detach(ifindex, flags, NULL);
		return -ENOSPC;
	}
	a->ifindex = ifindex;
	a->flags = flags;
	return 0;
}

/* A clsact qdisc and a tc filter: what works with every libbpf and kernel. */
static int attach_clsact(struct bpf_program *prog, int ifindex, const char *ifname)
{
	struct attachment *a = new_attachment(ATT_TC, prog);
	int err;

	if (!a)
		return -ENOSPC;
	a->hook.sz = sizeof(a->hook);
	a->hook.ifindex = ifindex;
	a->hook.attach_point = is_egress(prog) ? BPF_TC_EGRESS : BPF_TC_INGRESS;
	err = bpf_tc_hook_create(&a->hook);
	if (err && err != -EEXIST) {
		a->kind = ATT_FREE;
		return report(err, "cannot create a clsact qdisc on %s", ifname);
	}
	a->made_qdisc = !err;
	a->tc.sz = sizeof(a->tc);
	a->tc.prog_fd = bpf_program__fd(prog);
	err = bpf_tc_attach(&a->hook, &a->tc);
	if (err) {
		undo(a);
		return report(err, "cannot attach %s to %s", bpf_program__name(prog), ifname);
	}
	return 0;
}

static int attach_tc(struct bpf_program *prog, const char *ifname)
{
	int ifindex = ifindex_of(ifname);

	if (ifindex < 0)
		return ifindex;
#if HAVE_TCX
	{
		struct bpf_link *link = bpf_program__attach_tcx(prog, ifindex, NULL);

		if (link)
			return attach_link(prog, link, ifname);
		/* Kernels before 6.6 have no tcx: fall back to clsact. */
	}
#endif
	return attach_clsact(prog, ifindex, ifname);
}

/* "fn+off" or "fn" */
static int attach_kprobe(struct bpf_program *prog, const char *target)
{
	LIBBPF_OPTS(bpf_kprobe_opts, opts);
	char fn[256];
	const char *plus = strchr(target, '+');

	snprintf(fn, sizeof(fn), "%.*s", plus ? (int)(plus - target) : (int)strlen(target), target);
	if (plus)
		opts.offset = strtoul(plus + 1, NULL, 0);
	return attach_link(prog, bpf_program__attach_kprobe_opts(prog, fn, &opts), target);
}

/* "cat/event" or "cat:event" */
static int attach_tracepoint(struct bpf_program *prog, const char *target)
{
	char cat[256];
	const char *sep = strpbrk(target, "/:");

	if (!sep)
		return report(-EINVAL, "tracepoint '%s' is not CATEGORY/EVENT", target);
	snprintf(cat, sizeof(cat), "%.*s", (int)(sep - target), target);
	return attach_link(prog, bpf_program__attach_tracepoint(prog, cat, sep + 1), target);
}

int ksc_attach(struct bpf_program *prog, const char *target, __u32 flags)
{
	if (!prog)
		return report(-EINVAL, "attach: the program was not loaded");
	switch (bpf_program__type(prog)) {
	case BPF_PROG_TYPE_XDP:
		return attach_xdp(prog, target, flags);
	case BPF_PROG_TYPE_SCHED_CLS:
		return attach_tc(prog, target);
	case BPF_PROG_TYPE_KPROBE:
		return attach_kprobe(prog, target);
	case BPF_PROG_TYPE_TRACEPOINT:
		return attach_tracepoint(prog, target);
	case BPF_PROG_TYPE_TRACING:
		/* fentry: the target was fixed when the program was loaded. */
		return attach_link(prog, bpf_program__attach_trace(prog), target);
	case BPF_PROG_TYPE_PERF_EVENT:
		return report(-EINVAL, "%s is a perf_event program: attach it with perf_options",
			      bpf_program__name(prog));
	default:
		return report(-EOPNOTSUPP, "cannot attach %s", bpf_program__name(prog));
	}
}

static int perf_open(const struct perf_options *o, int pid, int cpu)
{
	struct perf_event_attr attr = {
		.type = (__u32)o->perf_type,
		.size = sizeof(attr),
		.config = o->perf_config,
		.sample_period = o->period,
		.wakeup_events = o->wakeup,
		.inherit = o->inherit,
		.exclude_kernel = o->exclude_kernel,
		.exclude_user = o->exclude_user,
	};

	return (int)syscall(__NR_perf_event_open, &attr, pid, cpu, -1, PERF_FLAG_FD_CLOEXEC);
}

static struct PerfAttachment perf_failed(void)
{
	return (struct PerfAttachment){ .perf_fd = -1, .link_id = -1, .prog_fd = -1 };
}

struct PerfAttachment ksc_attach_perf(struct bpf_program *prog, struct perf_options opts)
{
	const struct perf_options *o = &opts;
	bool every_cpu = o->cpu < 0 && o->pid < 0;
	int ncpu = every_cpu ? libbpf_num_possible_cpus() : 1;
	struct attachment *a;

	if (!prog || ncpu < 1) {
		report(-EINVAL, "attach: the program was not loaded");
		return perf_failed();
	}
	a = new_attachment(ATT_PERF, prog);
	if (!a)
		return perf_failed();
	a->links = calloc((size_t)ncpu, sizeof(*a->links));
	a->fds = calloc((size_t)ncpu, sizeof(*a->fds));
	if (!a->links || !a->fds) {
		undo(a);
		return perf_failed();
	}
	for (int cpu = 0; cpu < ncpu; cpu++) {
		int fd = perf_open(o, o->pid, every_cpu ? cpu : o->cpu);
		struct bpf_link *link;

		if (fd < 0 && every_cpu && errno == ENODEV)
			continue;          /* a possible but offline CPU */
		if (fd < 0) {
			report(-errno, "cannot open perf event %d:%llu", o->perf_type,
			       (unsigned long long)o->perf_config);
			undo(a);
			return perf_failed();
		}
		link = bpf_program__attach_perf_event(prog, fd);
		if (!link) {
			report(-errno, "cannot attach %s to a perf event", bpf_program__name(prog));
			close(fd);
			undo(a);
			return perf_failed();
		}
		a->fds[a->n] = fd;
		a->links[a->n++] = link;
	}
	return (struct PerfAttachment){
		.perf_fd = a->n ? a->fds[0] : -1,
		.link_id = (int)(a - atts),
		.prog_fd = bpf_program__fd(prog),
		.generation = a->generation,
	};
}

static struct attachment *perf_slot(struct PerfAttachment p)
{
	struct attachment *a;

	if (p.link_id < 0 || p.link_id >= MAX_ATTACH)
		return NULL;
	a = &atts[p.link_id];
	return a->kind == ATT_PERF && a->generation == p.generation ? a : NULL;
}

__s64 ksc_perf_read(struct PerfAttachment p)
{
	struct attachment *a = perf_slot(p);
	__s64 sum = 0;

	if (!a)
		return -1;
	for (int i = 0; i < a->n; i++) {
		__u64 v;

		if (read(a->fds[i], &v, sizeof(v)) != sizeof(v))
			return -1;
		sum += (__s64)v;
	}
	return sum;
}

void ksc_detach(struct bpf_program *prog)
{
	for (int i = 0; i < MAX_ATTACH; i++)
		if (atts[i].kind != ATT_FREE && atts[i].prog == prog)
			undo(&atts[i]);
}

void ksc_detach_perf(struct PerfAttachment p)
{
	struct attachment *a = perf_slot(p);

	if (a)
		undo(a);
}

int ksc_register(struct bpf_map *map)
{
	int err = ksc_load();

	if (err)
		return err;
	return keep_link(NULL, bpf_map__attach_struct_ops(map), bpf_map__name(map), NULL);
}

/* ---- maps ---- */

static bool is_percpu(const struct bpf_map *map)
{
	switch (bpf_map__type(map)) {
	case BPF_MAP_TYPE_PERCPU_HASH:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_LRU_PERCPU_HASH:
		return true;
	default:
		return false;
	}
}

/* Per-CPU values come as one slot per possible CPU, each rounded up to 8 bytes. */
static size_t percpu_stride(const struct bpf_map *map)
{
	return (bpf_map__value_size(map) + 7) / 8 * 8;
}

int ksc_map_get(struct bpf_map *map, const void *key, void *value, ksc_add_fn add)
{
	size_t size = bpf_map__value_size(map), stride = percpu_stride(map);
	int ncpu = libbpf_num_possible_cpus(), err;
	char *all;

	ksc_need_loaded();
	memset(value, 0, size);
	if (!is_percpu(map))
		return bpf_map_lookup_elem(bpf_map__fd(map), key, value) ? -errno : 0;
	all = calloc((size_t)ncpu, stride);
	if (!all)
		return -ENOMEM;
	err = bpf_map_lookup_elem(bpf_map__fd(map), key, all) ? -errno : 0;
	for (int cpu = 0; !err && cpu < ncpu; cpu++) {
		if (add)
			add(value, all + (size_t)cpu * stride);
		else if (cpu == 0)
			memcpy(value, all, size);
	}
	free(all);
	return err;
}

int ksc_map_set(struct bpf_map *map, const void *key, const void *value)
{
	size_t size = bpf_map__value_size(map), stride = percpu_stride(map);
	int ncpu = libbpf_num_possible_cpus(), err;
	char *all;

	ksc_need_loaded();
	if (!is_percpu(map))
		err = bpf_map_update_elem(bpf_map__fd(map), key, value, BPF_ANY) ? -errno : 0;
	else if (!(all = calloc((size_t)ncpu, stride)))
		return -ENOMEM;
	else {
		/* Every CPU gets the value: a later read sees what was written. */
		for (int cpu = 0; cpu < ncpu; cpu++)
			memcpy(all + (size_t)cpu * stride, value, size);
		err = bpf_map_update_elem(bpf_map__fd(map), key, all, BPF_ANY) ? -errno : 0;
		free(all);
	}
	if (err)
		report(err, "cannot update map %s", bpf_map__name(map));
	return err;
}

int ksc_map_delete(struct bpf_map *map, const void *key)
{
	ksc_need_loaded();
	return bpf_map_delete_elem(bpf_map__fd(map), key) ? -errno : 0;
}

/* ---- ring buffers ---- */

void ksc_on_event(struct bpf_map *ringbuf, ksc_event_fn fn)
{
	for (int i = 0; i < nhandlers; i++) {
		if (handlers[i].map == ringbuf) {
			handlers[i].fn = fn;
			return;
		}
	}
	if (nhandlers == MAX_RINGBUFS) {
		fprintf(stderr, "%s: more than %d ring buffer handlers\n", me(), MAX_RINGBUFS);
		return;
	}
	handlers[nhandlers].map = ringbuf;
	handlers[nhandlers++].fn = fn;
}

/* A handler's non-zero return ends dispatch(): libbpf stops polling on a negative one. */
static int on_record(void *ctx, void *data, size_t size)
{
	int *slot = ctx, r;

	(void)size;
	r = handlers[*slot].fn(data);
	if (!r)
		return 0;
	handlers[*slot].result = r;
	return -ECANCELED;
}

int ksc_dispatch(struct bpf_map **ringbufs, int n)
{
	static int slots[MAX_RINGBUFS];
	struct ring_buffer *rb = NULL;
	int err = 0, result = 0;

	ksc_need_loaded();
	for (int i = 0; i < nhandlers; i++) {
		bool wanted = false;

		for (int j = 0; j < n; j++)
			wanted |= ringbufs[j] == handlers[i].map;
		if (!wanted || !handlers[i].fn)
			continue;
		slots[i] = i;
		handlers[i].result = 0;
		if (!rb)
			rb = ring_buffer__new(bpf_map__fd(handlers[i].map), on_record, &slots[i], NULL);
		else
			err = ring_buffer__add(rb, bpf_map__fd(handlers[i].map), on_record, &slots[i]);
		if (!rb || err)
			return report(rb ? err : -errno, "cannot poll ring buffer %s",
				      bpf_map__name(handlers[i].map));
	}
	if (!rb) {
		fprintf(stderr, "%s: dispatch: no on_event() handler for these ring buffers\n", me());
		return -EINVAL;
	}
	dispatching = true;
	while (!stop) {
		err = ring_buffer__poll(rb, 100);
		if (err == -EINTR)
			continue;
		if (err == -ECANCELED) {
			for (int i = 0; i < nhandlers; i++)
				result = result ? result : handlers[i].result;
			break;
		}
		if (err < 0) {
			result = report(err, "polling ring buffers");
			break;
		}
	}
	dispatching = false;
	ring_buffer__free(rb);
	return result;
}

/* ---- test runs and kfunc calls ---- */

int ksc_test_run(struct bpf_program *prog, __u32 len)
{
	static char packet[65536];
	LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = packet, .repeat = 1);
	int err;

	if (!ksc_prog(prog))
		return -1;
	if (len < 14)
		len = 14;
	opts.data_size_in = len < sizeof(packet) ? len : sizeof(packet);
	/* An IPv4 Ethernet frame of zeros: enough for a program to parse. */
	packet[12] = 0x08;
	err = bpf_prog_test_run_opts(bpf_program__fd(prog), &opts);
	if (err)
		return report(err, "test run of %s", bpf_program__name(prog));
	return (int)opts.retval;
}

int ksc_call(struct bpf_program *trampoline, void *args, __u32 size)
{
	LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = args, .ctx_size_in = size);
	int err;

	ksc_need_loaded();
	err = bpf_prog_test_run_opts(bpf_program__fd(trampoline), &opts);
	if (err)
		return report(err, "kfunc call through %s", bpf_program__name(trampoline));
	return 0;
}

/* ---- exceptions ---- */

void ksc_throw(int code)
{
	exc.pending = true;
	exc.code = code;
}

bool ksc_thrown(void)
{
	return exc.pending;
}

int ksc_catch(void)
{
	exc.pending = false;
	return exc.code;
}

/* ---- daemon, exec, Python ---- */

void ksc_daemon(void)
{
	char path[PATH_MAX];
	FILE *f;

	if (daemon(0, 0)) {
		report(-errno, "daemon");
		return;
	}
	snprintf(path, sizeof(path), "/run/%s.pid", me());
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", (int)getpid());
		fclose(f);
	}
}

static void keep_open(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	if (flags >= 0)
		fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
}

/*
 * The script inherits the maps: their fds stay open across exec and are
 * named in KSC_MAP_FDS (also KERNELSCRIPT_MAP_FDS) as a JSON object.
 */
void ksc_exec(const char *script)
{
	char json[4096];
	size_t len = 0;
	struct bpf_map *map;

	if (ksc_load())
		return;
	len += (size_t)snprintf(json, sizeof(json), "{");
	bpf_object__for_each_map(map, object.obj) {
		if (bpf_map__fd(map) < 0 || len >= sizeof(json))
			continue;
		keep_open(bpf_map__fd(map));
		len += (size_t)snprintf(json + len, sizeof(json) - len, "%s\"%s\": %d",
					len > 1 ? ", " : "", bpf_map__name(map), bpf_map__fd(map));
	}
	if (len < sizeof(json))
		snprintf(json + len, sizeof(json) - len, "}");
	for (int i = 0; i < MAX_ATTACH; i++)
		for (int j = 0; atts[i].kind == ATT_LINK && j < atts[i].n; j++)
			keep_open(bpf_link__fd(atts[i].links[j]));
	setenv("KSC_MAP_FDS", json, 1);
	setenv("KERNELSCRIPT_MAP_FDS", json, 1);
	fflush(NULL);
	execlp("python3", "python3", script, (char *)NULL);
	report(-errno, "cannot run python3 %s", script);
}

/* The directory of the running loader: imported modules are copied next to it. */
static void exe_dir(char *buf, size_t size)
{
	ssize_t n = readlink("/proc/self/exe", buf, size - 1);
	char *slash;

	if (n <= 0) {
		snprintf(buf, size, ".");
		return;
	}
	buf[n] = '\0';
	slash = strrchr(buf, '/');
	if (slash)
		*slash = '\0';
}

long long ksc_py_call(const char *module, const char *fn, const char *fmt, ...)
{
	char dir[PATH_MAX], args[1024], code[4096], out[64] = "";
	int pipefd[2], status;
	va_list ap;
	pid_t pid;
	ssize_t n;

	exe_dir(dir, sizeof(dir));
	va_start(ap, fmt);
	vsnprintf(args, sizeof(args), fmt, ap);
	va_end(ap);
	snprintf(code, sizeof(code),
		 "import sys\nsys.path[0:0] = [%s, '.']\nimport %s\nprint(int(%s.%s(%s)))\n",
		 "sys.argv[1]", module, module, fn, args);
	if (pipe(pipefd))
		return report(-errno, "calling %s.%s", module, fn);
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		dup2(pipefd[1], 1);
		close(pipefd[0]);
		execlp("python3", "python3", "-c", code, dir, (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	n = 0;
	while (pid > 0 && (size_t)n < sizeof(out) - 1) {
		ssize_t r = read(pipefd[0], out + n, sizeof(out) - 1 - (size_t)n);

		if (r <= 0)
			break;
		n += r;
	}
	close(pipefd[0]);
	if (pid > 0)
		waitpid(pid, &status, 0);
	if (n <= 0) {
		fprintf(stderr, "%s: %s.%s() returned no integer\n", me(), module, fn);
		return 0;
	}
	out[n] = '\0';
	return strtoll(out, NULL, 10);
}

/* ---- strings and options ---- */

void ksc_str_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	memset(dst + n, 0, size - n);
}

void ksc_str_concat(char *dst, size_t size, const char *a, const char *b)
{
	size_t na = strnlen(a, size - 1), nb = strnlen(b, size - 1 - na);
	char tmp[4096];

	/* Through a copy: dst may be a or b. */
	if (na + nb >= sizeof(tmp))
		nb = sizeof(tmp) - 1 - na;
	memcpy(tmp, a, na);
	memcpy(tmp + na, b, nb);
	tmp[na + nb] = '\0';
	ksc_str_copy(dst, size, tmp);
}

int ksc_parse_int(const char *s, long long min, unsigned long long max, long long *out)
{
	char *end;

	errno = 0;
	if (min < 0) {
		long long v = strtoll(s, &end, 0);

		if (errno || *end || end == s || v < min || (v > 0 && (unsigned long long)v > max))
			return -1;
		*out = v;
	} else {
		unsigned long long v = strtoull(s, &end, 0);

		if (errno || *end || end == s || *s == '-' || v > max)
			return -1;
		*out = (long long)v;
	}
	return 0;
}

int ksc_parse_bool(const char *s, bool *out)
{
	if (!s || !strcmp(s, "1") || !strcmp(s, "true") || !strcmp(s, "yes"))
		*out = true;
	else if (!strcmp(s, "0") || !strcmp(s, "false") || !strcmp(s, "no"))
		*out = false;
	else
		return -1;
	return 0;
}
