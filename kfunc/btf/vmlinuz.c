/*
 * Kernel images: the setup header of an x86 bzImage, its compressed
 * payload, and the .BTF section of the vmlinux inside.  This is what
 * scripts/extract-vmlinux does with a shell pipeline, done in process so
 * that ksc needs no kernel tree and no external decompressors.
 */
#include "kfunc_btf.h"
#include "util.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <lz4.h>
#include <lzma.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>

/* Setup header fields (Documentation/arch/x86/boot.rst). */
#define BZ_SETUP_SECTS 0x1f1
#define BZ_MAGIC 0x202		/* "HdrS" */
#define BZ_PROTOCOL 0x206	/* boot protocol version */
#define BZ_KERNEL_VERSION 0x20e /* string pointer, minus 0x200 */
#define BZ_PAYLOAD_OFFSET 0x248 /* from the protected-mode code */
#define BZ_PAYLOAD_LENGTH 0x24c
#define BZ_HEADER_END 0x250
/* payload_offset/payload_length appeared in boot protocol 2.08. */
#define BZ_PROTOCOL_PAYLOAD 0x208

/*
 * A real vmlinux is well under 100 MB; the cap keeps a hostile or
 * corrupt payload from exhausting memory.
 */
#define MAX_VMLINUX ((size_t)1 << 30)
/* Decompressed size of one lz4 legacy block (lz4 -l). */
#define LZ4_LEGACY_BLOCK ((size_t)8 << 20)
#define LZ4_LEGACY_MAGIC 0x184c2102u

struct image {
	const char *path;
	unsigned char *data;
	size_t len;
};

struct outbuf {
	unsigned char *buf;
	size_t len, cap;
};

/* The setup header is little-endian whatever the host is. */
static uint32_t le16(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8;
}

static uint32_t le32(const unsigned char *p)
{
	return le16(p) | le16(p + 2) << 16;
}

static int image_read(struct image *img, const char *path)
{
	char *data;
	int err = read_file(path, &data, &img->len);

	if (err) {
		p_err("cannot read '%s': %s", path, strerror(-err));
		return err;
	}
	img->path = path;
	img->data = (unsigned char *)data;
	return 0;
}

/*
 * The real-mode setup code is at most 256 sectors (setup_sects is a byte,
 * plus the boot sector), and the version string lies inside it: reading
 * this much of an image gives its release without the 8-15 MB payload.
 */
#define BZ_SETUP_MAX ((size_t)256 * 512)

/* The first BZ_SETUP_MAX bytes of an image (all of a shorter one). */
static int image_read_setup(struct image *img, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = 0;
	size_t got = 0;

	*img = (struct image){ .path = path };
	if (fd < 0) {
		int err = -errno;

		p_err("cannot read '%s': %s", path, strerror(-err));
		return err;
	}
	img->data = xmalloc(BZ_SETUP_MAX);
	while (got < BZ_SETUP_MAX) {
		n = pread(fd, img->data + got, BZ_SETUP_MAX - got, (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (n < 0) {
		int err = -errno;

		p_err("cannot read '%s': %s", path, strerror(-err));
		close(fd);
		free(img->data);
		img->data = NULL;
		return err;
	}
	close(fd);
	img->len = got;
	return 0;
}

/* Only the magic and the fields every caller needs are checked here. */
static int image_check_header(const struct image *img)
{
	if (img->len < BZ_HEADER_END || memcmp(img->data + BZ_MAGIC, "HdrS", 4)) {
		p_err("'%s' is not a bzImage (no HdrS setup header)", img->path);
		return -EINVAL;
	}
	return 0;
}

static int image_payload(const struct image *img, const unsigned char **p, size_t *n)
{
	size_t sects = img->data[BZ_SETUP_SECTS] ? img->data[BZ_SETUP_SECTS] : 4;
	size_t start = (sects + 1) * 512;
	size_t off = le32(img->data + BZ_PAYLOAD_OFFSET);
	size_t len = le32(img->data + BZ_PAYLOAD_LENGTH);

	if (le16(img->data + BZ_PROTOCOL) < BZ_PROTOCOL_PAYLOAD) {
		p_err("'%s': boot protocol %#x is too old to locate the kernel payload", img->path,
		      le16(img->data + BZ_PROTOCOL));
		return -ENOTSUP;
	}
	/* The size of the uncompressed kernel trails the payload: len >= 4. */
	if (len < 8 || start + off > img->len || len > img->len - start - off) {
		p_err("'%s' is truncated: its payload ends at byte %zu of %zu", img->path,
		      start + off + len, img->len);
		return -EINVAL;
	}
	*p = img->data + start + off;
	*n = len;
	return 0;
}

/* Makes room for at least `want` more bytes, within MAX_VMLINUX. */
static int out_reserve(struct outbuf *out, size_t want, const char *path)
{
	size_t cap = out->cap ? out->cap : 1 << 20;

	if (out->cap - out->len >= want)
		return 0;
	while (cap - out->len < want && cap < MAX_VMLINUX)
		cap *= 2;
	if (cap > MAX_VMLINUX)
		cap = MAX_VMLINUX;
	if (cap - out->len < want || cap == out->cap) {
		p_err("'%s': the kernel payload decompresses to more than %zu MB", path,
		      MAX_VMLINUX >> 20);
		return -EFBIG;
	}
	out->buf = xrealloc(out->buf, cap);
	out->cap = cap;
	return 0;
}

static int truncated(const char *path, const char *format)
{
	p_err("'%s': the %s kernel payload is truncated", path, format);
	return -EINVAL;
}

static int gunzip(const char *path, const unsigned char *in, size_t n, struct outbuf *out)
{
	z_stream z = { 0 };
	int ret = Z_OK, err = 0;

	/* 16 + MAX_WBITS: a gzip header and trailer, not a zlib one. */
	if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
		p_err("'%s': cannot start zlib", path);
		return -ENOMEM;
	}
	z.next_in = (unsigned char *)in;
	z.avail_in = n > UINT32_MAX ? UINT32_MAX : (uInt)n;
	while (ret != Z_STREAM_END) {
		err = out_reserve(out, 1 << 20, path);
		if (err)
			break;
		z.next_out = out->buf + out->len;
		z.avail_out = (uInt)(out->cap - out->len > UINT32_MAX ? UINT32_MAX : out->cap - out->len);
		ret = inflate(&z, Z_NO_FLUSH);
		out->len = (size_t)(z.next_out - out->buf);
		/* With output room left, no progress means the input ran out. */
		if (ret == Z_BUF_ERROR) {
			err = truncated(path, "gzip");
			break;
		}
		if (ret != Z_OK && ret != Z_STREAM_END) {
			p_err("'%s': corrupt gzip kernel payload: %s", path, z.msg ? z.msg : "inflate failed");
			err = -EINVAL;
			break;
		}
	}
	inflateEnd(&z);
	return err;
}

static const char *lzma_strerror(lzma_ret ret)
{
	switch (ret) {
	case LZMA_MEM_ERROR:
		return "out of memory";
	case LZMA_FORMAT_ERROR:
		return "not an xz stream";
	case LZMA_OPTIONS_ERROR:
		return "unsupported options";
	case LZMA_DATA_ERROR:
		return "corrupt data";
	default:
		return "decoder error";
	}
}

static int unxz(const char *path, const unsigned char *in, size_t n, struct outbuf *out)
{
	lzma_stream s = LZMA_STREAM_INIT;
	lzma_ret ret = LZMA_OK;
	int err = 0;

	/*
	 * No LZMA_CONCATENATED: decoding stops at the end of the stream,
	 * before the 4-byte size the kernel build appends.
	 */
	if (lzma_stream_decoder(&s, UINT64_MAX, 0) != LZMA_OK) {
		p_err("'%s': cannot start the xz decoder", path);
		return -ENOMEM;
	}
	s.next_in = in;
	s.avail_in = n;
	while (ret != LZMA_STREAM_END) {
		err = out_reserve(out, 1 << 20, path);
		if (err)
			break;
		s.next_out = out->buf + out->len;
		s.avail_out = out->cap - out->len;
		ret = lzma_code(&s, LZMA_FINISH);
		out->len = (size_t)(s.next_out - out->buf);
		if (ret == LZMA_BUF_ERROR) {
			err = truncated(path, "xz");
			break;
		}
		if (ret != LZMA_OK && ret != LZMA_STREAM_END) {
			p_err("'%s': xz kernel payload: %s", path, lzma_strerror(ret));
			err = -EINVAL;
			break;
		}
	}
	lzma_end(&s);
	return err;
}

static int unzstd(const char *path, const unsigned char *in, size_t n, struct outbuf *out)
{
	ZSTD_DCtx *dctx = ZSTD_createDCtx();
	ZSTD_inBuffer zin = { in, n, 0 };
	size_t ret = 1;
	int err = 0;

	if (!dctx) {
		p_err("'%s': cannot start the zstd decoder", path);
		return -ENOMEM;
	}
	/* `zstd -22 --ultra` (the kernel's setting) uses a 128 MB window. */
	ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, 30);
	while (ret != 0) {
		ZSTD_outBuffer zout;

		err = out_reserve(out, 1 << 20, path);
		if (err)
			break;
		zout = (ZSTD_outBuffer){ out->buf + out->len, out->cap - out->len, 0 };
		ret = ZSTD_decompressStream(dctx, &zout, &zin);
		out->len += zout.pos;
		if (ZSTD_isError(ret)) {
			p_err("'%s': zstd kernel payload: %s", path, ZSTD_getErrorName(ret));
			err = -EINVAL;
			break;
		}
		/* No progress possible: input used up with the frame unfinished. */
		if (ret != 0 && zin.pos == zin.size && zout.pos < zout.size) {
			err = truncated(path, "zstd");
			break;
		}
	}
	ZSTD_freeDCtx(dctx);
	return err;
}

/*
 * lz4 legacy frames (what `lz4 -l` writes): a magic, then blocks each
 * preceded by its compressed size; the magic may repeat.  The format has no
 * end marker, so decoding stops at the 4-byte size trailer.
 */
static int unlz4(const char *path, const unsigned char *in, size_t n, struct outbuf *out)
{
	size_t pos = 4;

	while (n - pos > 4) {
		size_t csize = le32(in + pos);
		int got;
		int err;

		pos += 4;
		if (csize == LZ4_LEGACY_MAGIC)
			continue;
		if (csize > n - pos || csize > (size_t)LZ4_compressBound((int)LZ4_LEGACY_BLOCK))
			return truncated(path, "lz4");
		err = out_reserve(out, LZ4_LEGACY_BLOCK, path);
		if (err)
			return err;
		got = LZ4_decompress_safe((const char *)in + pos, (char *)out->buf + out->len, (int)csize,
					  (int)LZ4_LEGACY_BLOCK);
		if (got < 0) {
			p_err("'%s': corrupt lz4 kernel payload", path);
			return -EINVAL;
		}
		out->len += (size_t)got;
		pos += csize;
	}
	return 0;
}

static int decompress(const char *path, const unsigned char *p, size_t n, struct outbuf *out)
{
	static const struct {
		const char *magic, *name;
		size_t len;
		int (*fn)(const char *, const unsigned char *, size_t, struct outbuf *);
	} fmts[] = {
		{ "\x1f\x8b", "gzip", 2, gunzip },
		{ "\xfd" "7zXZ\0", "xz", 6, unxz },
		{ "\x28\xb5\x2f\xfd", "zstd", 4, unzstd },
		{ "\x02\x21\x4c\x18", "lz4", 4, unlz4 },
		{ "BZh", "bzip2", 3, NULL },
		{ "\x5d\0\0", "lzma", 3, NULL },
		{ "\x89LZO", "lzo", 4, NULL },
	};

	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
		if (n < fmts[i].len || memcmp(p, fmts[i].magic, fmts[i].len))
			continue;
		if (!fmts[i].fn) {
			p_err("'%s': %s-compressed kernels are not supported (gzip, xz, zstd and lz4 are)",
			      path, fmts[i].name);
			return -ENOTSUP;
		}
		return fmts[i].fn(path, p, n, out);
	}
	p_err("'%s': unknown compression of the kernel payload", path);
	return -EINVAL;
}

/* The payload of an x86 bzImage is vmlinux (plus relocations) compressed. */
static int image_vmlinux(const struct image *img, struct outbuf *out)
{
	const unsigned char *p;
	size_t n;
	uint32_t want;
	int err = image_payload(img, &p, &n);

	if (err)
		return err;
	/* The build appends the uncompressed size: a sanity check lz4 lacks. */
	want = le32(p + n - 4);
	err = decompress(img->path, p, n, out);
	if (!err && (uint32_t)out->len != want) {
		p_err("'%s': the kernel payload decompressed to %zu bytes, the image says %u",
		      img->path, out->len, want);
		err = -EINVAL;
	}
	return err;
}

static Elf_Scn *elf_section(Elf *elf, const char *name, GElf_Shdr *shdr)
{
	Elf_Scn *scn = NULL;
	size_t shstrndx;

	if (elf_getshdrstrndx(elf, &shstrndx))
		return NULL;
	while ((scn = elf_nextscn(elf, scn))) {
		const char *s;

		if (!gelf_getshdr(scn, shdr))
			return NULL;
		s = elf_strptr(elf, shstrndx, shdr->sh_name);
		if (s && !strcmp(s, name))
			return scn;
	}
	return NULL;
}

/* Finds .BTF in the vmlinux in `vm` (which libelf reads in place). */
static int vmlinux_btf(const char *path, struct outbuf *vm, const void **btf, size_t *len)
{
	Elf *elf;
	Elf_Scn *scn;
	Elf_Data *data = NULL;
	GElf_Shdr shdr;
	int err = 0;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		p_err("libelf is unusable: %s", elf_errmsg(-1));
		return -EINVAL;
	}
	elf = elf_memory((char *)vm->buf, vm->len);
	if (!elf || elf_kind(elf) != ELF_K_ELF) {
		p_err("'%s': the decompressed kernel is not an ELF file", path);
		elf_end(elf);
		return -EINVAL;
	}
	scn = elf_section(elf, ".BTF", &shdr);
	if (scn)
		data = elf_rawdata(scn, NULL);
	if (!scn || shdr.sh_type == SHT_NOBITS || !data || !data->d_buf) {
		p_err("'%s' has no BTF (a kernel built without CONFIG_DEBUG_INFO_BTF?)", path);
		err = -ENODATA;
	} else if (data->d_size < 4 || memcmp(data->d_buf, "\x9f\xeb", 2)) {
		p_err("'%s': the .BTF section of its vmlinux is not little-endian BTF", path);
		err = -EINVAL;
	} else {
		/* d_buf points into vm->buf, which outlives the Elf handle. */
		*btf = data->d_buf;
		*len = data->d_size;
	}
	elf_end(elf);
	return err;
}

static int write_out(const char *out, const void *data, size_t len)
{
	int err = write_file(out, data, len);

	if (err)
		p_err("cannot write '%s': %s", out, strerror(-err));
	return err;
}

int kfunc_vmlinuz_extract_btf(const char *vmlinuz, const char *out)
{
	struct image img;
	struct outbuf vm = { 0 };
	const void *btf;
	size_t len;
	int err = image_read(&img, vmlinuz);

	if (err)
		return err;
	err = image_check_header(&img);
	if (!err)
		err = image_vmlinux(&img, &vm);
	free(img.data);
	if (!err)
		err = vmlinux_btf(vmlinuz, &vm, &btf, &len);
	if (!err)
		err = write_out(out, btf, len);
	free(vm.buf);
	return err;
}

int kfunc_vmlinuz_release(const char *vmlinuz, char *buf, size_t len)
{
	struct image img;
	size_t off, n = 0;
	int err = image_read_setup(&img, vmlinuz);

	if (err)
		return err;
	err = image_check_header(&img);
	if (err)
		goto out;
	off = le16(img.data + BZ_KERNEL_VERSION);
	if (off)
		off += 0x200;
	/* "6.1.0-57-amd64 (debian-kernel@...) #1 SMP ...": the first word. */
	while (off && off + n < img.len && img.data[off + n] > ' ' && img.data[off + n] < 0x7f)
		n++;
	if (!n) {
		p_err("'%s' carries no kernel version string", vmlinuz);
		err = -ENODATA;
	} else if (n >= len) {
		p_err("'%s': kernel version string of %zu bytes does not fit in %zu", vmlinuz, n, len);
		err = -ENOSPC;
	} else {
		memcpy(buf, img.data + off, n);
		buf[n] = '\0';
	}
out:
	free(img.data);
	return err;
}

/* Reads only the setup header magic: a base may be a 500 MB debug vmlinux. */
static int is_bzimage(const char *path, bool *yes)
{
	char magic[4];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0) {
		int err = -errno;

		p_err("cannot read '%s': %s", path, strerror(-err));
		return err;
	}
	n = pread(fd, magic, sizeof(magic), BZ_MAGIC);
	close(fd);
	*yes = n == (ssize_t)sizeof(magic) && !memcmp(magic, "HdrS", 4);
	return 0;
}

int kfunc_base_btf_write(const char *base, const char *out)
{
	libbpf_print_fn_t old;
	struct btf *btf;
	const void *raw;
	__u32 size;
	bool bz = false;
	int err = is_bzimage(base, &bz);

	if (err)
		return err;
	if (bz)
		return kfunc_vmlinuz_extract_btf(base, out);
	err = kfunc_btf_elf_check(base);
	if (err)
		return err;
	/* libbpf would add its own lines to the one error this reports. */
	old = libbpf_set_print(NULL);
	btf = btf__parse(base, NULL);
	err = btf ? 0 : -errno;
	libbpf_set_print(old);
	if (!btf) {
		char msg[128];

		/* The file opened above: ENOENT is libbpf's "ELF without .BTF". */
		if (err == -ENOENT)
			snprintf(msg, sizeof(msg), "an ELF file without .BTF");
		else if (libbpf_strerror(err, msg, sizeof(msg)))
			snprintf(msg, sizeof(msg), "%s", strerror(-err));
		p_err("'%s' is neither BTF, an ELF file with .BTF nor a bzImage: %s", base, msg);
		return err;
	}
	raw = btf__raw_data(btf, &size);
	err = raw ? write_out(out, raw, size) : -ENOMEM;
	if (!raw)
		p_err("cannot serialize the BTF of '%s'", base);
	btf__free(btf);
	return err;
}
