/*
 * lineinfo OBJ: an eBPF object's BTF line info, one instruction range per
 * line: "SECTION FUNC INSN FILE LINE".  FUNC is the function (.BTF.ext
 * func info) the instruction belongs to.  The kernel's verifier reports
 * positions from exactly these records, so tests/ebpf/t-lineinfo.sh checks
 * them rather than DWARF.  libbpf parses .BTF; .BTF.ext it keeps opaque
 * (and 1.1 does not export btf_ext__raw_data), so its bytes are read with
 * libelf here (the layout of Documentation/bpf/btf.rst, "BTF.ext section").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fcntl.h>
#include <gelf.h>
#include <unistd.h>

#include <bpf/btf.h>

struct ext_hdr {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len;
	uint32_t line_info_off, line_info_len;
};

struct func { const char *sec, *name; uint32_t insn; };

static struct func funcs[65536];
static int nfuncs;

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

/* The function of section sec that instruction insn (bytes) lies in. */
static const char *func_of(const char *sec, uint32_t insn)
{
	const struct func *best = NULL;

	for (int i = 0; i < nfuncs; i++)
		if (!strcmp(funcs[i].sec, sec) && funcs[i].insn <= insn &&
		    (!best || funcs[i].insn > best->insn))
			best = &funcs[i];
	return best ? best->name : "?";
}

/* Walks one info block: rec_size, then per section its name, count and records. */
static void walk(const struct btf *btf, const uint8_t *p, uint32_t len, int lines)
{
	const uint8_t *end = p + len;
	uint32_t rec;

	if (len < 4)
		return;
	rec = u32_at(p);
	for (p += 4; p + 8 <= end;) {
		const char *sec = btf__name_by_offset(btf, u32_at(p));
		uint32_t n = u32_at(p + 4);

		p += 8;
		for (uint32_t i = 0; i < n && p + rec <= end; i++, p += rec) {
			uint32_t insn = u32_at(p);

			if (!lines && nfuncs < (int)(sizeof(funcs) / sizeof(funcs[0]))) {
				const struct btf_type *t = btf__type_by_id(btf, u32_at(p + 4));

				funcs[nfuncs++] = (struct func){ sec, t ? btf__name_by_offset(btf, t->name_off) : "?",
								 insn };
			} else if (lines) {
				const char *file = btf__name_by_offset(btf, u32_at(p + 4));

				printf("%s %s %u %s %u\n", sec, func_of(sec, insn), insn / 8, file ? file : "?",
				       u32_at(p + 12) >> 10);
			}
		}
	}
}

/* The bytes of section name of the ELF file at fd, or NULL. */
static Elf_Data *section(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn)))
		if (gelf_getshdr(scn, &sh) && !strcmp(elf_strptr(elf, shstrndx, sh.sh_name), name))
			return elf_getdata(scn, NULL);
	return NULL;
}

int main(int argc, char **argv)
{
	struct btf *btf;
	const struct ext_hdr *h;
	const uint8_t *raw;
	size_t size;
	Elf_Data *d;
	Elf *elf;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: lineinfo OBJ\n");
		return 2;
	}
	btf = btf__parse_elf(argv[1], NULL);
	elf_version(EV_CURRENT);
	fd = open(argv[1], O_RDONLY);
	elf = fd < 0 ? NULL : elf_begin(fd, ELF_C_READ, NULL);
	d = elf ? section(elf, ".BTF.ext") : NULL;
	/* An object without code (maps only) has no .BTF.ext, or no BTF at all: no records. */
	if (elf && !d)
		return 0;
	if (!btf || !d) {
		fprintf(stderr, "lineinfo: %s: no .BTF/.BTF.ext\n", argv[1]);
		return 1;
	}
	raw = d->d_buf;
	size = d->d_size;
	h = (const struct ext_hdr *)raw;
	if (size < sizeof(*h) || h->magic != 0xeB9F) {
		fprintf(stderr, "lineinfo: %s: bad .BTF.ext\n", argv[1]);
		return 1;
	}
	walk(btf, raw + h->hdr_len + h->func_info_off, h->func_info_len, 0);
	walk(btf, raw + h->hdr_len + h->line_info_off, h->line_info_len, 1);
	elf_end(elf);
	close(fd);
	btf__free(btf);
	return 0;
}
