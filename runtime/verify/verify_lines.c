/*
 * An instruction's source line read from the object itself (verify.h), for
 * a verifier log that names none: 6.1 prints an annotation's line text but
 * not its file:line, and the text of a `#line N "file.ks"` line is empty.
 * The kernel takes its annotations from the object's .BTF.ext line info;
 * so does this, with the layout of Documentation/bpf/btf.rst ("BTF.ext
 * section").  libbpf parses .BTF but keeps .BTF.ext opaque, so its bytes
 * are read with libelf; its strings are .BTF's, which libbpf gives.
 */
#include <bpf/btf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "verify.h"

#define BTF_EXT_MAGIC 0xeB9F
#define INSN_SIZE 8

struct ext_hdr {
	uint16_t magic;
	uint8_t version, flags;
	uint32_t hdr_len;
	uint32_t func_info_off, func_info_len;
	uint32_t line_info_off, line_info_len;
};

/* A program's place in the object: its section and its byte range there. */
struct place {
	char sec[128];
	uint64_t start, size;
};

/* What to look up, and the best record found so far. */
struct want {
	const struct btf *btf;
	const struct place *at;
	uint64_t off;            /* the instruction's byte offset in its section */
	uint32_t best_off;
	uint32_t file_off, line;
};

static uint32_t u32_at(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static const char *sec_name(Elf *elf, size_t shstrndx, Elf_Scn *scn)
{
	GElf_Shdr sh;

	return gelf_getshdr(scn, &sh) ? elf_strptr(elf, shstrndx, sh.sh_name) : NULL;
}

static Elf_Data *section_data(Elf *elf, const char *name)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	const char *s;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn)))
		if ((s = sec_name(elf, shstrndx, scn)) && !strcmp(s, name))
			return elf_getdata(scn, NULL);
	return NULL;
}

/* The function symbol prog: its section's name and its range (several programs may share "xdp"). */
static int find_place(Elf *elf, const char *prog, struct place *out)
{
	size_t shstrndx;
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return -1;
	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_SYMTAB || !(d = elf_getdata(scn, NULL)))
			continue;
		for (size_t i = 0; sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			GElf_Sym sym;
			const char *name, *sec;

			if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
			    !(name = elf_strptr(elf, sh.sh_link, sym.st_name)) || strcmp(name, prog) ||
			    !(sec = sec_name(elf, shstrndx, elf_getscn(elf, sym.st_shndx))) ||
			    strlen(sec) >= sizeof(out->sec))
				continue;
			strcpy(out->sec, sec);
			out->start = sym.st_value;
			out->size = sym.st_size;
			return 0;
		}
	}
	return -1;
}

/*
 * One record {insn_off, file_name_off, line_off, line_col}: kept when it is
 * the latest at or before the instruction within the program.  A record of
 * line 0 (code the compiler made, "@ file.ks:0" in a 7.x log) says nothing:
 * the line before it stays.
 */
static void consider(struct want *w, const uint8_t *rec)
{
	uint32_t off = u32_at(rec), line = u32_at(rec + 12) >> 10;

	if (off < w->at->start || off > w->off || !line || (w->line && off < w->best_off))
		return;
	w->best_off = off;
	w->file_off = u32_at(rec + 4);
	w->line = line;
}

/* The line info block: rec_size, then per section its name's offset, a count and the records. */
static void walk_lines(struct want *w, const uint8_t *p, uint32_t len)
{
	const uint8_t *end = p + len;
	uint32_t rec;

	if (len < 4 || (rec = u32_at(p)) < 16)
		return;
	for (p += 4; p + 8 <= end;) {
		const char *sec = btf__name_by_offset(w->btf, u32_at(p));
		uint32_t n = u32_at(p + 4);

		p += 8;
		for (uint32_t i = 0; i < n && p + rec <= end; i++, p += rec)
			if (sec && !strcmp(sec, w->at->sec))
				consider(w, p);
	}
}

/* The lookup in an opened object: 0 with w->line set, else -1. */
static int lookup(Elf *elf, struct want *w)
{
	Elf_Data *d = section_data(elf, ".BTF.ext");
	const struct ext_hdr *h;

	if (!d || d->d_size < sizeof(*h))
		return -1;
	h = d->d_buf;
	/* An object of the other byte order would need every field swapped: none is built so. */
	if (h->magic != BTF_EXT_MAGIC || (uint64_t)h->hdr_len + h->line_info_off + h->line_info_len > d->d_size)
		return -1;
	walk_lines(w, (const uint8_t *)d->d_buf + h->hdr_len + h->line_info_off, h->line_info_len);
	return w->line ? 0 : -1;
}

int verify_insn_line(const char *obj_path, const char *prog, int insn, char *file, size_t size, int *line)
{
	struct place at;
	struct want w = { 0 };
	struct btf *btf;
	const char *name;
	Elf *elf;
	int fd, found = -1;

	if (insn < 0 || elf_version(EV_CURRENT) == EV_NONE || (fd = open(obj_path, O_RDONLY)) < 0)
		return -1;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	btf = btf__parse_elf(obj_path, NULL);
	/*
	 * The log counts instructions from the program's start as loaded.  libbpf
	 * appends the subprograms (callbacks, bpf_loop bodies) it calls after the
	 * program's own: an instruction past the program's symbol lies in one of
	 * them, at an offset this cannot tell, and is left to the caller's fallback.
	 */
	if (elf && btf && !find_place(elf, prog, &at) && (uint64_t)insn * INSN_SIZE < at.size) {
		w = (struct want){ .btf = btf, .at = &at, .off = at.start + (uint64_t)insn * INSN_SIZE };
		found = lookup(elf, &w);
	}
	if (!found && (name = btf__name_by_offset(btf, w.file_off)) && strlen(name) < size) {
		strcpy(file, name);
		*line = (int)w.line;
	} else {
		found = -1;
	}
	btf__free(btf);
	elf_end(elf);
	close(fd);
	return found;
}
