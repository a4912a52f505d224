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
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

static int dump_map(struct bpf_object *obj, const char *name)
{
	struct bpf_map *map = bpf_object__find_map_by_name(obj, name);
	unsigned char key[64], next[64], val[256];
	unsigned ks, vs;
	int fd, err;
	void *prev = NULL;

	if (!map) {
		fprintf(stderr, "bpfrun: no map '%s'\n", name);
		return -ENOENT;
	}
	fd = bpf_map__fd(map);
	ks = bpf_map__key_size(map);
	vs = bpf_map__value_size(map);
	if (ks > sizeof(key) || vs > sizeof(val)) {
		fprintf(stderr, "bpfrun: map '%s' entries are too large to print\n", name);
		return -E2BIG;
	}
	while ((err = bpf_map_get_next_key(fd, prev, next)) == 0) {
		memcpy(key, next, ks);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue;
		printf("%s[%llu]=%llu\n", name, value_of(key, ks), value_of(val, vs));
	}
	return 0;
}

int main(int argc, char **argv)
{
	int size = 64, runs = 1, opt, nmaps = 0, nskip = 0, err;
	const char *maps[16], *skip[16];
	bool load_only = false;
	struct bpf_object *obj;
	struct bpf_program *prog;
	unsigned char pkt[9000] = { 0 };

	while ((opt = getopt(argc, argv, "s:n:m:lx:")) != -1) {
		if (opt == 'l')
			load_only = true;
		else if (opt == 'x' && nskip < 16)
			skip[nskip++] = optarg;
		else if (opt == 's')
			size = atoi(optarg);
		else if (opt == 'n')
			runs = atoi(optarg);
		else if (opt == 'm' && nmaps < 16)
			maps[nmaps++] = optarg;
		else
			goto usage;
	}
	if (argc - optind != (load_only ? 1 : 2) || size < 14 || size > (int)sizeof(pkt))
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
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "bpfrun: cannot load %s: %s\n", argv[optind], strerror(-err));
		return 1;
	}
	if (load_only) {
		bpf_object__for_each_program(prog, obj)
			if (bpf_program__autoload(prog))
				printf("loaded %s\n", bpf_program__name(prog));
		bpf_object__close(obj);
		return 0;
	}
	prog = bpf_object__find_program_by_name(obj, argv[optind + 1]);
	if (!prog) {
		fprintf(stderr, "bpfrun: no program '%s'\n", argv[optind + 1]);
		return 1;
	}
	/* An IPv4 Ethernet frame of `size` bytes: enough for any XDP/TC program. */
	pkt[12] = 0x08;
	for (int i = 0; i < runs; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, topts, .data_in = pkt, .data_size_in = (__u32)size,
			    .repeat = 1);

		err = bpf_prog_test_run_opts(bpf_program__fd(prog), &topts);
		if (err) {
			fprintf(stderr, "bpfrun: test run of %s failed: %s\n", argv[optind + 1],
				strerror(-err));
			return 1;
		}
		if (i == runs - 1)
			printf("retval=%u\n", topts.retval);
	}
	for (int i = 0; i < nmaps; i++)
		if (dump_map(obj, maps[i]))
			return 1;
	bpf_object__close(obj);
	return 0;
usage:
	fprintf(stderr, "usage: bpfrun OBJ PROG [-s PACKET_BYTES] [-n RUNS] [-m MAP]...\n"
			"       bpfrun -l [-x SECTION_PREFIX]... OBJ\n");
	return 2;
}
