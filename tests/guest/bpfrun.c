/*
 * bpfrun: a small static tool for test guests.  Loads a BPF object, runs
 * one program through BPF_PROG_TEST_RUN and prints its return value and
 * the contents of maps, in a form test scripts assert on:
 *
 *   bpfrun OBJ PROG [-s PACKET_BYTES] [-n RUNS] [-m MAP]...
 *   retval=2
 *   results[0]=1
 *
 *   bpfrun -l [-x SECTION_PREFIX]... OBJ
 * only loads the object (every program through the verifier), leaving out
 * programs whose section starts with a given prefix.
 *
 * Options for behaviour tests (all may be combined with the above):
 *   --data HEX          run with this packet instead of the zeroed IPv4 frame
 *                       (hex digits; ' ', ':', '.', '-' and '_' are ignored).
 *                       Repeatable: the packets run in order, one retval line each
 *   --prog NAME         later --data packets run NAME instead of PROG
 *   --ctx HEX           ctx_in for every run (__sk_buff, a syscall context...)
 *   --set MAP:KEY:VAL   bpf_map_update_elem before the runs.  KEY and VAL are
 *                       numbers (stored little-endian in the key/value size) or
 *                       xHEX raw bytes (zero-padded); VAL @PROG is a program fd
 *                       (prog_array).  Per-CPU values are set on every CPU
 *   --del MAP:KEY       bpf_map_delete_elem before the runs
 *   --pin NAME          pins the ARRAY map pinned_globals at
 *                       /sys/fs/bpf/ksc/NAME/globals and every --pin-map MAP at
 *                       /sys/fs/bpf/ksc/NAME/maps/MAP, reusing what is already
 *                       pinned there (so a second run sees the first one's state)
 *   --pin-map MAP       see --pin
 *   --with-struct-ops CMD  (with -l) registers every struct_ops map, runs CMD
 *                       with sh while they are registered, unregisters them;
 *                       exits with CMD's status
 *   --tc-ingress PROG@IFACE  (with -l and --run) attaches PROG at IFACE's tc
 *                       ingress hook through a clsact qdisc and a cls_bpf
 *                       filter (the path every kernel and libbpf has: the
 *                       guest needs sch_ingress and cls_bpf), for --run.
 *                       Repeatable
 *   --run CMD           (with -l) runs CMD with sh while the --tc-ingress
 *                       programs are attached, then detaches them (and the
 *                       qdiscs it made); the -m maps are printed after CMD,
 *                       and the exit status is CMD's
 *   --hex MAP           dumps MAP after the runs with keys and values in hex
 *   --data-out          prints data_out=HEX after each packet's last run
 *   --expect-retval N   exit status 3 unless the last run returned N
 *   --map-info MAP      prints the kernel's view: MAP type=N flags=0xN max_entries=N
 *   --ringbuf MAP       after the runs, prints each record waiting in the ring
 *                       buffer MAP as MAP: HEX (then MAP records=N)
 *   --time              for benchmarks: each packet's RUNS are one
 *                       BPF_PROG_TEST_RUN with repeat=RUNS, and the kernel's
 *                       mean time per run is printed after retval as
 *                       ns_per_run=N (the `duration` it reports)
 * Per-CPU map values are printed as the sum over all CPUs.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define MAX_ITEMS 64
#define PIN_ROOT "/sys/fs/bpf/ksc"

struct run {
	const char *prog;         /* NULL: the PROG argument */
	unsigned char *data;
	unsigned size;
};

struct mapop {
	const char *map, *key, *val; /* val NULL: delete */
};

static int print_libbpf(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (level == LIBBPF_DEBUG)
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static unsigned long long value_of(const unsigned char *v, unsigned size)
{
	unsigned long long x = 0;

	memcpy(&x, v, size < sizeof(x) ? size : sizeof(x));
	return x;
}

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

/* Hex text to bytes; NULL on a bad digit.  *n receives the byte count. */
static unsigned char *parse_hex(const char *s, unsigned *n)
{
	unsigned char *b = calloc(strlen(s) / 2 + 1, 1);
	unsigned len = 0;
	int half = -1;

	if (!b)
		return NULL;
	for (; *s; s++) {
		int d;

		if (strchr(" :.-_\n\t", *s))
			continue;
		if (!isxdigit((unsigned char)*s)) {
			free(b);
			return NULL;
		}
		d = isdigit((unsigned char)*s) ? *s - '0' : tolower((unsigned char)*s) - 'a' + 10;
		if (half < 0) {
			half = d;
		} else {
			b[len++] = (unsigned char)(half << 4 | d);
			half = -1;
		}
	}
	if (half >= 0) {
		free(b);
		return NULL;
	}
	*n = len;
	return b;
}

/* A number or xHEX into `size` bytes at `out`. */
static int parse_bytes(const char *s, unsigned char *out, unsigned size)
{
	memset(out, 0, size);
	if (s[0] == 'x') {
		unsigned n;
		unsigned char *b = parse_hex(s + 1, &n);

		if (!b || n > size) {
			free(b);
			return -EINVAL;
		}
		memcpy(out, b, n);
		free(b);
		return 0;
	} else {
		char *end;
		unsigned long long v;

		errno = 0;
		v = strtoull(s, &end, 0);
		if (errno || *end || end == s)
			return -EINVAL;
		memcpy(out, &v, size < sizeof(v) ? size : sizeof(v));
		return 0;
	}
}

static int map_op(struct bpf_object *obj, const struct mapop *op)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, op->map);
	unsigned char key[256], *val;
	unsigned ks, vs, ncpu = 1;
	int err;

	if (!map) {
		fprintf(stderr, "bpfrun: no map '%s'\n", op->map);
		return -ENOENT;
	}
	ks = bpf_map__key_size(map);
	vs = bpf_map__value_size(map);
	if (ks > sizeof(key) || parse_bytes(op->key, key, ks)) {
		fprintf(stderr, "bpfrun: bad key '%s' for map '%s'\n", op->key, op->map);
		return -EINVAL;
	}
	if (!op->val) {
		err = bpf_map_delete_elem(bpf_map__fd(map), key);
		if (err)
			fprintf(stderr, "bpfrun: delete from '%s': %s\n", op->map, strerror(errno));
		return err;
	}
	if (is_percpu(map))
		ncpu = (unsigned)libbpf_num_possible_cpus();
	vs = is_percpu(map) ? (vs + 7) / 8 * 8 : vs;
	val = calloc(ncpu, vs);
	if (!val)
		return -ENOMEM;
	if (op->val[0] == '@') {
		struct bpf_program *p = bpf_object__find_program_by_name(obj, op->val + 1);
		int fd = p ? bpf_program__fd(p) : -1;

		if (fd < 0 || vs != sizeof(fd)) {
			fprintf(stderr, "bpfrun: no loaded program '%s' for map '%s'\n", op->val + 1,
				op->map);
			free(val);
			return -ENOENT;
		}
		memcpy(val, &fd, sizeof(fd));
	} else if (parse_bytes(op->val, val, bpf_map__value_size(map))) {
		fprintf(stderr, "bpfrun: bad value '%s' for map '%s'\n", op->val, op->map);
		free(val);
		return -EINVAL;
	}
	for (unsigned c = 1; c < ncpu; c++)
		memcpy(val + c * vs, val, vs);
	err = bpf_map_update_elem(bpf_map__fd(map), key, val, BPF_ANY);
	if (err)
		fprintf(stderr, "bpfrun: update of '%s': %s\n", op->map, strerror(errno));
	free(val);
	return err;
}

static void print_hex(const unsigned char *b, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		printf("%02x", b[i]);
}

static int dump_map(struct bpf_object *obj, const char *name, bool hex)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	unsigned char key[256], next[256], *val;
	unsigned ks, vs, stride, ncpu = 1;
	int fd, err;
	void *prev = NULL;

	if (!map) {
		fprintf(stderr, "bpfrun: no map '%s'\n", name);
		return -ENOENT;
	}
	fd = bpf_map__fd(map);
	ks = bpf_map__key_size(map);
	vs = bpf_map__value_size(map);
	if (ks > sizeof(key)) {
		fprintf(stderr, "bpfrun: map '%s' keys are too large to print\n", name);
		return -E2BIG;
	}
	if (is_percpu(map))
		ncpu = (unsigned)libbpf_num_possible_cpus();
	stride = is_percpu(map) ? (vs + 7) / 8 * 8 : vs;
	val = calloc(ncpu, stride);
	if (!val)
		return -ENOMEM;
	while ((err = bpf_map_get_next_key(fd, prev, next)) == 0) {
		unsigned long long sum = 0;

		memcpy(key, next, ks);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		if (hex) {
			printf("%s[", name);
			print_hex(key, ks);
			printf("]=");
			print_hex(val, vs);
			for (unsigned c = 1; c < ncpu; c++) {
				printf(",");
				print_hex(val + c * stride, vs);
			}
			printf("\n");
			continue;
		}
		for (unsigned c = 0; c < ncpu; c++)
			sum += value_of(val + c * stride, vs);
		printf("%s[%llu]=%llu\n", name, value_of(key, ks), sum);
	}
	free(val);
	return 0;
}

static int mkdirs(const char *path)
{
	char buf[512];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

static int set_pin(struct bpf_map *map, const char *dir, const char *file)
{
	char path[512];
	int err = mkdirs(dir);

	if (err) {
		fprintf(stderr, "bpfrun: cannot create %s: %s\n", dir, strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	err = bpf_map__set_pin_path(map, path);
	if (err)
		fprintf(stderr, "bpfrun: cannot pin at %s: %s\n", path, strerror(-err));
	return err;
}

struct drain {
	const char *name;
	int records;
};

static int print_record(void *ctx, void *data, size_t size)
{
	struct drain *d = ctx;

	printf("%s: ", d->name);
	print_hex(data, (unsigned)size);
	printf("\n");
	d->records++;
	return 0;
}

static int drain_ringbuf(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	struct ring_buffer *rb;
	struct drain d = { name, 0 };
	int err;

	if (!map || bpf_map__type(map) != BPF_MAP_TYPE_RINGBUF) {
		fprintf(stderr, "bpfrun: no ring buffer '%s'\n", name);
		return -ENOENT;
	}
	rb = ring_buffer__new(bpf_map__fd(map), print_record, &d, NULL);
	if (!rb) {
		fprintf(stderr, "bpfrun: ring buffer '%s': %s\n", name, strerror(errno));
		return -errno;
	}
	err = ring_buffer__consume(rb);
	ring_buffer__free(rb);
	if (err < 0)
		return err;
	printf("%s records=%d\n", name, d.records);
	return 0;
}

static int map_info(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	struct bpf_map_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (!map || bpf_obj_get_info_by_fd(bpf_map__fd(map), &info, &len)) {
		fprintf(stderr, "bpfrun: no map info for '%s'\n", name);
		return -ENOENT;
	}
	printf("%s type=%u flags=0x%x max_entries=%u\n", name, info.type, info.map_flags,
	       info.max_entries);
	return 0;
}

enum { O_DATA = 256, O_PROG, O_CTX, O_SET, O_DEL, O_PIN, O_PIN_MAP, O_HEX, O_DATA_OUT, O_EXPECT,
       O_RINGBUF, O_MAP_INFO, O_STRUCT_OPS, O_TIME, O_TC_INGRESS, O_RUN };

/*
 * Registers every struct_ops map of a loaded object, runs `cmd` through
 * sh while they are registered, then unregisters them.  Returns the
 * command's exit status.
 */
static int with_struct_ops(struct bpf_object *obj, const char *cmd)
{
	struct bpf_link *links[MAX_ITEMS];
	struct bpf_map *map;
	int n = 0, status;

	bpf_object__for_each_map(map, obj) {
		if (bpf_map__type(map) != BPF_MAP_TYPE_STRUCT_OPS || n == MAX_ITEMS)
			continue;
		links[n] = bpf_map__attach_struct_ops(map);
		if (!links[n]) {
			fprintf(stderr, "bpfrun: cannot register %s: %s\n", bpf_map__name(map),
				strerror(errno));
			while (n--)
				bpf_link__destroy(links[n]);
			return 1;
		}
		printf("registered %s\n", bpf_map__name(map));
		n++;
	}
	fflush(stdout);
	status = system(cmd);
	while (n--)
		bpf_link__destroy(links[n]);
	return status == -1 ? 1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

/* What --tc-ingress attached, for the detach after --run. */
struct tc_att {
	struct bpf_tc_hook hook;
	struct bpf_tc_opts opts;
	bool made_qdisc;
};

static void tc_detach(struct tc_att *a)
{
	a->opts.prog_fd = 0;
	a->opts.prog_id = 0;
	a->opts.flags = 0;
	if (bpf_tc_detach(&a->hook, &a->opts))
		fprintf(stderr, "bpfrun: tc detach on ifindex %d failed\n", a->hook.ifindex);
	if (a->made_qdisc) {
		a->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&a->hook);
	}
}

/*
 * Attaches each "PROG@IFACE" of specs at the interface's tc ingress, runs
 * `cmd` through sh, detaches.  Returns the command's exit status, or 1 when
 * an attach failed (after undoing the others).
 */
static int with_tc(struct bpf_object *obj, char **specs, int n, const char *cmd)
{
	struct tc_att atts[MAX_ITEMS];
	int done = 0, status = 1;

	for (; done < n; done++) {
		char *at = strchr(specs[done], '@');
		struct bpf_program *prog;
		struct tc_att *a = &atts[done];
		int ifindex, err;

		if (!at) {
			fprintf(stderr, "bpfrun: --tc-ingress wants PROG@IFACE, got '%s'\n", specs[done]);
			goto undo;
		}
		*at = 0;
		prog = bpf_object__find_program_by_name(obj, specs[done]);
		ifindex = (int)if_nametoindex(at + 1);
		if (!prog || bpf_program__fd(prog) < 0 || !ifindex) {
			fprintf(stderr, "bpfrun: --tc-ingress: no loaded program '%s' or no interface '%s'\n",
				specs[done], at + 1);
			goto undo;
		}
		memset(a, 0, sizeof(*a));
		a->hook.sz = sizeof(a->hook);
		a->hook.ifindex = ifindex;
		a->hook.attach_point = BPF_TC_INGRESS;
		err = bpf_tc_hook_create(&a->hook);
		if (err && err != -EEXIST) {
			fprintf(stderr, "bpfrun: cannot create a clsact qdisc on %s: %s\n", at + 1,
				strerror(-err));
			goto undo;
		}
		a->made_qdisc = !err;
		a->opts.sz = sizeof(a->opts);
		a->opts.prog_fd = bpf_program__fd(prog);
		err = bpf_tc_attach(&a->hook, &a->opts);
		if (err) {
			fprintf(stderr, "bpfrun: cannot attach %s at tc ingress of %s: %s\n", specs[done],
				at + 1, strerror(-err));
			if (a->made_qdisc) {
				a->hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
				bpf_tc_hook_destroy(&a->hook);
			}
			goto undo;
		}
		printf("attached %s at tc ingress of %s\n", specs[done], at + 1);
	}
	fflush(stdout);
	status = system(cmd);
	status = status == -1 ? 1 : WIFEXITED(status) ? WEXITSTATUS(status) : 128;
undo:
	while (done--)
		tc_detach(&atts[done]);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, O_DATA },
		{ "prog", required_argument, NULL, O_PROG },
		{ "ctx", required_argument, NULL, O_CTX },
		{ "set", required_argument, NULL, O_SET },
		{ "del", required_argument, NULL, O_DEL },
		{ "pin", required_argument, NULL, O_PIN },
		{ "pin-map", required_argument, NULL, O_PIN_MAP },
		{ "hex", required_argument, NULL, O_HEX },
		{ "data-out", no_argument, NULL, O_DATA_OUT },
		{ "expect-retval", required_argument, NULL, O_EXPECT },
		{ "ringbuf", required_argument, NULL, O_RINGBUF },
		{ "map-info", required_argument, NULL, O_MAP_INFO },
		{ "with-struct-ops", required_argument, NULL, O_STRUCT_OPS },
		{ "time", no_argument, NULL, O_TIME },
		{ "tc-ingress", required_argument, NULL, O_TC_INGRESS },
		{ "run", required_argument, NULL, O_RUN },
		{ 0 },
	};
	int size = 64, runs = 1, opt, nmaps = 0, nskip = 0, nruns = 0, nops = 0, npins = 0, err;
	const char *maps[MAX_ITEMS], *skip[MAX_ITEMS], *pins[MAX_ITEMS], *cur_prog = NULL;
	const char *pin_name = NULL, *rbs[MAX_ITEMS], *infos[MAX_ITEMS], *so_cmd = NULL;
	const char *run_cmd = NULL;
	char *tcs[MAX_ITEMS];
	int nrbs = 0, ninfos = 0, ntcs = 0, run_status = 0;
	bool hexmap[MAX_ITEMS], load_only = false, data_out = false, expect = false, timed = false;
	long long expected = 0;
	unsigned retval = 0;
	struct run runlist[MAX_ITEMS];
	struct mapop ops[MAX_ITEMS];
	unsigned char *ctx = NULL;
	unsigned ctx_size = 0;
	struct bpf_object *obj;
	struct bpf_program *prog;
	static unsigned char pkt[9000], out[9000 + 256];

	while ((opt = getopt_long(argc, argv, "s:n:m:lx:", longopts, NULL)) != -1) {
		char *colon;

		if (opt == 'l')
			load_only = true;
		else if (opt == 'x' && nskip < MAX_ITEMS)
			skip[nskip++] = optarg;
		else if (opt == 's')
			size = atoi(optarg);
		else if (opt == 'n')
			runs = atoi(optarg);
		else if ((opt == 'm' || opt == O_HEX) && nmaps < MAX_ITEMS) {
			hexmap[nmaps] = opt == O_HEX;
			maps[nmaps++] = optarg;
		} else if (opt == O_DATA && nruns < MAX_ITEMS) {
			runlist[nruns].prog = cur_prog;
			runlist[nruns].data = parse_hex(optarg, &runlist[nruns].size);
			if (!runlist[nruns].data || runlist[nruns].size > sizeof(pkt)) {
				fprintf(stderr, "bpfrun: bad --data '%s'\n", optarg);
				return 2;
			}
			nruns++;
		} else if (opt == O_PROG) {
			cur_prog = optarg;
		} else if (opt == O_CTX) {
			ctx = parse_hex(optarg, &ctx_size);
			if (!ctx) {
				fprintf(stderr, "bpfrun: bad --ctx '%s'\n", optarg);
				return 2;
			}
		} else if ((opt == O_SET || opt == O_DEL) && nops < MAX_ITEMS) {
			ops[nops].map = optarg;
			colon = strchr(optarg, ':');
			if (!colon)
				goto usage;
			*colon = 0;
			ops[nops].key = colon + 1;
			ops[nops].val = NULL;
			if (opt == O_SET) {
				colon = strchr(colon + 1, ':');
				if (!colon)
					goto usage;
				*colon = 0;
				ops[nops].val = colon + 1;
			}
			nops++;
		} else if (opt == O_PIN) {
			pin_name = optarg;
		} else if (opt == O_PIN_MAP && npins < MAX_ITEMS) {
			pins[npins++] = optarg;
		} else if (opt == O_MAP_INFO && ninfos < MAX_ITEMS) {
			infos[ninfos++] = optarg;
		} else if (opt == O_RINGBUF && nrbs < MAX_ITEMS) {
			rbs[nrbs++] = optarg;
		} else if (opt == O_STRUCT_OPS) {
			so_cmd = optarg;
		} else if (opt == O_TC_INGRESS && ntcs < MAX_ITEMS) {
			tcs[ntcs++] = optarg;
		} else if (opt == O_RUN) {
			run_cmd = optarg;
		} else if (opt == O_TIME) {
			timed = true;
		} else if (opt == O_DATA_OUT) {
			data_out = true;
		} else if (opt == O_EXPECT) {
			expect = true;
			expected = strtoll(optarg, NULL, 0);
		} else {
			goto usage;
		}
	}
	if (argc - optind != (load_only ? 1 : 2) || size < 14 || size > (int)sizeof(pkt) || runs < 1 ||
	    ((ntcs || run_cmd) && (!load_only || !run_cmd)))
		goto usage;
	libbpf_set_print(print_libbpf);
	obj = bpf_object__open_file(argv[optind], NULL);
	if (!obj) {
		fprintf(stderr, "bpfrun: cannot open %s: %s\n", argv[optind], strerror(errno));
		return 1;
	}
	bpf_object__for_each_program(prog, obj) {
		for (int i = 0; i < nskip; i++)
			if (!strncmp(bpf_program__section_name(prog), skip[i], strlen(skip[i])))
				bpf_program__set_autoload(prog, false);
	}
	if (pin_name) {
		char dir[512];
		struct bpf_map *m = bpf_object__find_map_by_name(obj, "pinned_globals");

		snprintf(dir, sizeof(dir), "%s/%s", PIN_ROOT, pin_name);
		if (m && set_pin(m, dir, "globals"))
			return 1;
		snprintf(dir, sizeof(dir), "%s/%s/maps", PIN_ROOT, pin_name);
		for (int i = 0; i < npins; i++) {
			m = bpf_object__find_map_by_name(obj, pins[i]);
			if (!m) {
				fprintf(stderr, "bpfrun: no map '%s' to pin\n", pins[i]);
				return 1;
			}
			if (set_pin(m, dir, pins[i]))
				return 1;
		}
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bpfrun: cannot load %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	if (load_only) {
		bpf_object__for_each_program(prog, obj)
			if (bpf_program__autoload(prog))
				printf("loaded %s\n", bpf_program__name(prog));
		for (int i = 0; i < nops; i++)
			if (map_op(obj, &ops[i]))
				return 1;
		if (run_cmd)
			run_status = with_tc(obj, tcs, ntcs, run_cmd);
		for (int i = 0; i < nmaps; i++)
			if (dump_map(obj, maps[i], hexmap[i]))
				return 1;
		for (int i = 0; i < ninfos; i++)
			if (map_info(obj, infos[i]))
				return 1;
		err = so_cmd ? with_struct_ops(obj, so_cmd) : run_status;
		bpf_object__close(obj);
		return err;
	}
	for (int i = 0; i < nops; i++)
		if (map_op(obj, &ops[i]))
			return 1;
	if (!nruns) {
		/* An IPv4 Ethernet frame of `size` bytes: enough for any XDP/TC program. */
		pkt[12] = 0x08;
		runlist[0] = (struct run){ NULL, pkt, (unsigned)size };
		nruns = 1;
	}
	for (int r = 0; r < nruns; r++) {
		const char *name = runlist[r].prog ? runlist[r].prog : argv[optind + 1];
		__u32 out_size = 0, duration = 0;

		prog = bpf_object__find_program_by_name(obj, name);
		if (!prog) {
			fprintf(stderr, "bpfrun: no program '%s'\n", name);
			return 1;
		}
		for (int i = 0; i < (timed ? 1 : runs); i++) {
			LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = runlist[r].data,
				    .data_size_in = runlist[r].size, .repeat = timed ? runs : 1);

			if (ctx) {
				topts.ctx_in = ctx;
				topts.ctx_size_in = ctx_size;
			}
			if (data_out) {
				topts.data_out = out;
				topts.data_size_out = sizeof(out);
			}
			err = bpf_prog_test_run_opts(bpf_program__fd(prog), &topts);
			if (err) {
				fprintf(stderr, "bpfrun: test run of %s failed: %s\n", name,
					strerror(-err));
				return 1;
			}
			retval = topts.retval;
			out_size = topts.data_size_out;
			duration = topts.duration;
		}
		printf("retval=%u\n", retval);
		if (timed)
			printf("ns_per_run=%u\n", duration);
		if (data_out) {
			printf("data_out=");
			print_hex(out, out_size < sizeof(out) ? out_size : sizeof(out));
			printf("\n");
		}
	}
	for (int i = 0; i < nmaps; i++)
		if (dump_map(obj, maps[i], hexmap[i]))
			return 1;
	for (int i = 0; i < nrbs; i++)
		if (drain_ringbuf(obj, rbs[i]))
			return 1;
	for (int i = 0; i < ninfos; i++)
		if (map_info(obj, infos[i]))
			return 1;
	bpf_object__close(obj);
	if (expect && (long long)retval != expected) {
		fprintf(stderr, "bpfrun: retval %u, expected %lld\n", retval, expected);
		return 3;
	}
	return 0;
usage:
	fprintf(stderr,
		"usage: bpfrun OBJ PROG [-s PACKET_BYTES] [-n RUNS] [-m MAP]... [--data HEX]...\n"
		"              [--prog NAME] [--ctx HEX] [--set MAP:KEY:VAL]... [--del MAP:KEY]...\n"
		"              [--pin NAME [--pin-map MAP]...] [--hex MAP]... [--data-out]\n"
		"              [--expect-retval N] [--ringbuf MAP]... [--map-info MAP]... [--time]\n"
		"       bpfrun -l [-x SECTION_PREFIX]... [--with-struct-ops CMD] OBJ\n"
		"       bpfrun -l [--tc-ingress PROG@IFACE]... --run CMD [-m MAP]... OBJ\n");
	return 2;
}
