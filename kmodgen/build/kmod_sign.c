/*
 * Signing a built module with the kernel tree's own scripts/sign-file, the
 * tool kbuild's modules_install signs with: a kernel that enforces module
 * signatures (Secure Boot, module.sig_enforce=1) refuses an unsigned one.
 *
 * Signing comes after the BTF step: pahole and the id resolution rewrite
 * the ELF, which would leave a signature over other bytes; sign-file only
 * appends, so the module's .BTF and .BTF_ids read the same afterwards.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kbuild_run.h"
#include "kmod_sign.h"
#include "util.h"

/* What sign-file appends last (include/linux/module_signature.h). */
static const char sig_marker[] = "~Module signature appended~\n";

static int readable(const char *path, const char *opt)
{
	if (access(path, R_OK) == 0)
		return 0;
	p_err("%s %s: %s", opt, path, strerror(errno));
	return -errno;
}

int kmod_sign_check(const struct kdir *k, const struct kmod_sign_keys *keys)
{
	char *tool;
	int err;

	if (!keys->key)
		return 0;
	/* A PKCS#11 URI names a key in a token, not a file. */
	if (strncmp(keys->key, "pkcs11:", 7) && (err = readable(keys->key, "--sign-key")))
		return err;
	if ((err = readable(keys->cert, "--sign-cert")))
		return err;
	tool = xasprintf("%s/scripts/sign-file", k->path);
	err = access(tool, X_OK) ? -errno : 0;
	if (err)
		p_err("cannot sign: %s has no scripts/sign-file (%s); its kernel's kbuild package, or 'make scripts' in a source tree, provides it",
		      k->path, strerror(-err));
	free(tool);
	return err;
}

/*
 * The hash the kernel was configured to sign with: its own modules carry
 * that one, and a kernel may lack the code for any other.
 */
static char *sig_hash(const struct kdir *k)
{
	static const char opt[] = "CONFIG_MODULE_SIG_HASH=\"";
	char *path = xasprintf("%s/include/config/auto.conf", k->path), *text, *p, *hash = NULL;
	size_t len;

	if (!read_file(path, &text, &len)) {
		p = strstr(text, opt);
		if (p && (p == text || p[-1] == '\n')) {
			p += sizeof(opt) - 1;
			len = strcspn(p, "\"\n");
			if (len && p[len] == '"')
				hash = xstrndup(p, len);
		}
		free(text);
	}
	free(path);
	return hash ? hash : xstrdup("sha256");
}

/* Whether path ends with sign-file's marker. */
static bool signed_ko(const char *path)
{
	char *data;
	size_t len, n = sizeof(sig_marker) - 1;
	bool ok;

	if (read_file(path, &data, &len))
		return false;
	ok = len > n && !memcmp(data + len - n, sig_marker, n);
	free(data);
	return ok;
}

int kmod_sign(const struct kdir *k, const struct kmod_sign_keys *keys, const char *src,
	      const char *name)
{
	char *ko = xasprintf("%s/%s.ko", src, name), *log = xasprintf("%s/sign.log", src);
	char *hash = sig_hash(k), *tool = xasprintf("%s/scripts/sign-file", k->path);
	struct strbuf cmd;
	int err;

	p_step("sign: %s.ko with %s, %s (%s)", name, keys->key, keys->cert, hash);
	sb_init(&cmd);
	sh_quote(&cmd, tool);
	sb_putc(&cmd, ' ');
	sh_quote(&cmd, hash);
	sb_putc(&cmd, ' ');
	sh_quote(&cmd, keys->key);
	sb_putc(&cmd, ' ');
	sh_quote(&cmd, keys->cert);
	sb_putc(&cmd, ' ');
	sh_quote(&cmd, ko);
	err = run_logged(cmd.buf, log, "sign-file");
	if (err == -ECHILD) {
		p_err("sign-file failed for %s.ko:", name);
		show_log(log, false, 10);
	} else if (!err && !signed_ko(ko)) {
		p_err("sign-file left %s.ko without a signature:", name);
		show_log(log, false, 10);
		err = -EBADMSG;
	}
	sb_free(&cmd);
	free(tool);
	free(hash);
	free(log);
	free(ko);
	return err;
}
