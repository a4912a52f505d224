/* Module signing: a built module signed for kernels that enforce signatures. */
#ifndef KSC_KMOD_SIGN_H
#define KSC_KMOD_SIGN_H

#include "kdir.h"

/* The key and certificate of --sign-key/--sign-cert; both NULL: no signing. */
struct kmod_sign_keys {
	const char *key;   /* PEM private key (or a PKCS#11 URI sign-file takes) */
	const char *cert;  /* the X.509 certificate the kernel will trust, PEM or DER */
};

/*
 * Checks, before anything is built, that the keys are given together, are
 * readable, and that the tree k has scripts/sign-file.  Returns 0, or a
 * negative errno after one error line.
 */
int kmod_sign_check(const struct kdir *k, const struct kmod_sign_keys *keys);

/*
 * Signs src/NAME.ko in place with k's scripts/sign-file, using the hash the
 * tree's kernel was configured with (CONFIG_MODULE_SIG_HASH, else sha256),
 * logged to src/sign.log, and checks the signature marker it appended.
 * Returns 0, or a negative errno after one error line.
 */
int kmod_sign(const struct kdir *k, const struct kmod_sign_keys *keys, const char *src,
	      const char *name);

#endif
