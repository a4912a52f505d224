/*
 * SHA-256 (FIPS 180-4), for content-addressed caches: a file's name in
 * the cache is the hash of what it was made from, so a changed input can
 * never be served a stale result.
 */
#ifndef KSC_SHA256_H
#define KSC_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;              /* bytes hashed so far */
	unsigned char buf[64];
	size_t nbuf;
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const void *data, size_t n);
/* The digest as 64 lowercase hex digits and a NUL. */
void sha256_hex(struct sha256 *s, char out[65]);

/* The hex digest of a file's contents; 0 or a negative errno. */
int sha256_file(const char *path, char out[65]);

#endif
