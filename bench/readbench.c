/*
 * readbench: reads one kernel counter from userspace N times and prints
 * the mean time per read, for bench/kfunc-call.sh (run in its VM guest).
 *
 *   readbench kfunc OBJ PROG N   a syscall program of OBJ run N times
 *                                through BPF_PROG_TEST_RUN; its context is
 *                                { u64 ret }, as in the syscall programs ksc
 *                                generates for a kfunc called from userspace
 *   readbench open FILE N        open, read, close FILE N times
 *   readbench pread FILE N       FILE opened once, then N preads at offset 0
 *
 * Prints "ns_per_read=X.X first=A last=B" (the counter's first and last
 * value read).  Timing is CLOCK_MONOTONIC around the N reads; nothing is
 * judged here.
 */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int quiet(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return level == LIBBPF_DEBUG ? 0 : vfprintf(stderr, fmt, ap);
}

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int by_kfunc(const char *path, const char *name, long n, unsigned long long *first,
		    unsigned long long *last, double *ns)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	struct bpf_program *prog;
	struct { unsigned long long ret; } args;
	double t0;
	int fd, err;

	if (!obj) {
		fprintf(stderr, "readbench: cannot open %s: %s\n", path, strerror(errno));
		return 1;
	}
	err = bpf_object__load(obj);
	if (err) {
		fprintf(stderr, "readbench: cannot load %s: %s\n", path, strerror(-err));
		return 1;
	}
	prog = bpf_object__find_program_by_name(obj, name);
	if (!prog) {
		fprintf(stderr, "readbench: no program '%s' in %s\n", name, path);
		return 1;
	}
	fd = bpf_program__fd(prog);
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, opts, .ctx_in = &args, .ctx_size_in = sizeof(args));

		args.ret = 0;
		err = bpf_prog_test_run_opts(fd, &opts);
		if (err) {
			fprintf(stderr, "readbench: test run of %s: %s\n", name, strerror(-err));
			return 1;
		}
		if (!i)
			*first = args.ret;
	}
	*ns = (now_ns() - t0) / (double)n;
	*last = args.ret;
	bpf_object__close(obj);
	return 0;
}

static int by_file(const char *path, int once, long n, unsigned long long *first,
		   unsigned long long *last, double *ns)
{
	char buf[64];
	int fd = -1;
	ssize_t len = 0;
	double t0;

	if (once) {
		fd = open(path, O_RDONLY);
		if (fd < 0) {
			fprintf(stderr, "readbench: cannot open %s: %s\n", path, strerror(errno));
			return 1;
		}
	}
	t0 = now_ns();
	for (long i = 0; i < n; i++) {
		if (once) {
			len = pread(fd, buf, sizeof(buf) - 1, 0);
		} else {
			fd = open(path, O_RDONLY);
			if (fd < 0) {
				fprintf(stderr, "readbench: cannot open %s: %s\n", path,
					strerror(errno));
				return 1;
			}
			len = read(fd, buf, sizeof(buf) - 1);
			close(fd);
		}
		if (len <= 0) {
			fprintf(stderr, "readbench: read of %s: %s\n", path,
				len ? strerror(errno) : "end of file");
			return 1;
		}
		if (!i) {
			buf[len] = 0;
			*first = strtoull(buf, NULL, 10);
		}
	}
	*ns = (now_ns() - t0) / (double)n;
	buf[len] = 0;
	*last = strtoull(buf, NULL, 10);
	if (once)
		close(fd);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned long long first = 0, last = 0;
	double ns = 0;
	long n;
	int err;

	if (argc < 4)
		goto usage;
	n = strtol(argv[argc - 1], NULL, 10);
	if (n < 1)
		goto usage;
	libbpf_set_print(quiet);
	if (!strcmp(argv[1], "kfunc") && argc == 5)
		err = by_kfunc(argv[2], argv[3], n, &first, &last, &ns);
	else if ((!strcmp(argv[1], "open") || !strcmp(argv[1], "pread")) && argc == 4)
		err = by_file(argv[2], argv[1][0] == 'p', n, &first, &last, &ns);
	else
		goto usage;
	if (err)
		return 1;
	printf("ns_per_read=%.1f first=%llu last=%llu\n", ns, first, last);
	return 0;
usage:
	fprintf(stderr, "usage: readbench kfunc OBJ PROG N | open FILE N | pread FILE N\n");
	return 2;
}
