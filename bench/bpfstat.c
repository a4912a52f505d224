/*
 * bpfstat: the sizes bench/run reports for one BPF object.
 *
 *   bpfstat [-s] OBJ
 *   static=N processed=N stack=N
 *
 * static: the instructions of the object's code, every executable
 * section's size over 8 (an instruction is 8 bytes, a 64-bit immediate
 * load two; clang pads nothing between BPF functions), programs and their
 * subprograms alike.  processed: the instructions the verifier walked,
 * summed over the object's programs (its "processed N insns" line at log
 * level BPF_LOG_STATS).  stack: the deepest "stack depth A+B..." of them,
 * the frames of a call chain added.  With -s, or when the object does not
 * load, processed and stack are "-" and loaded=0 follows.
 */
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define LOG_SIZE (1 << 20)

static long static_insns(const char *path)
{
	int fd = open(path, O_RDONLY);
	Elf *elf;
	Elf_Scn *scn = NULL;
	long n = 0;

	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE ||
	    !(elf = elf_begin(fd, ELF_C_READ, NULL)))
		return -1;
	while ((scn = elf_nextscn(elf, scn))) {
		GElf_Shdr sh;

		if (gelf_getshdr(scn, &sh) && sh.sh_type == SHT_PROGBITS &&
		    (sh.sh_flags & SHF_EXECINSTR))
			n += sh.sh_size / 8;
	}
	elf_end(elf);
	close(fd);
	return n;
}

/* "stack depth 8+16": the frames of the deepest call chain, added. */
static long stack_depth(const char *log)
{
	const char *p = strstr(log, "stack depth ");
	long total = 0;
	char *end;

	if (!p)
		return 0;
	for (p += strlen("stack depth "); ; p = end + 1) {
		total += strtol(p, &end, 10);
		if (*end != '+')
			break;
	}
	return total;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	return 0;
}

int main(int argc, char **argv)
{
	bool only_static = argc > 2 && !strcmp(argv[1], "-s");
	const char *path = argv[argc - 1];
	long processed = 0, stack = 0, n = static_insns(path);
	struct bpf_object *obj;
	struct bpf_program *prog;
	char **logs;
	int i = 0, nprogs = 0;

	if (argc < 2 || n < 0) {
		fprintf(stderr, "usage: bpfstat [-s] OBJ\n");
		return 2;
	}
	libbpf_set_print(silent);
	obj = only_static ? NULL : bpf_object__open_file(path, NULL);
	if (!obj) {
		printf("static=%ld processed=- stack=- loaded=0\n", n);
		return 0;
	}
	bpf_object__for_each_program(prog, obj)
		nprogs++;
	logs = calloc(nprogs, sizeof(*logs));
	bpf_object__for_each_program(prog, obj) {
		logs[i] = calloc(1, LOG_SIZE);
		bpf_program__set_log_buf(prog, logs[i++], LOG_SIZE);
		bpf_program__set_log_level(prog, 4);
	}
	if (bpf_object__load(obj)) {
		printf("static=%ld processed=- stack=- loaded=0\n", n);
		return 0;
	}
	for (i = 0; i < nprogs; i++) {
		const char *p = strstr(logs[i], "processed ");

		processed += p ? strtol(p + strlen("processed "), NULL, 10) : 0;
		if (stack_depth(logs[i]) > stack)
			stack = stack_depth(logs[i]);
	}
	printf("static=%ld processed=%ld stack=%ld loaded=1\n", n, processed, stack);
	bpf_object__close(obj);
	return 0;
}
