/* Running kbuild on a module tree against one kernel build tree. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kbuild_run.h"
#include "util.h"

void sh_quote(struct strbuf *sb, const char *s)
{
	sb_putc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_puts(sb, "'\\''");
		else
			sb_putc(sb, *s);
	}
	sb_putc(sb, '\'');
}

int run_logged(const char *cmd, const char *log, const char *what)
{
	struct strbuf full;
	int status;

	p_debug("+ %s", cmd);
	sb_init(&full);
	sb_printf(&full, "(%s) >", cmd);
	sh_quote(&full, log);
	sb_puts(&full, " 2>&1");
	status = system(full.buf);
	sb_free(&full);
	if (status == -1) {
		p_err("cannot run %s: %s", what, strerror(errno));
		return -errno;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	return -ECHILD;
}

void show_log(const char *log, bool errors_only, int max)
{
	char *text;
	size_t len;
	int shown = 0;

	if (read_file(log, &text, &len))
		return;
	for (char *line = strtok(text, "\n"); line && shown < max; line = strtok(NULL, "\n")) {
		if (!errors_only || strstr(line, "error") || strstr(line, "Error")) {
			fprintf(stderr, "  %s\n", line);
			shown++;
		}
	}
	free(text);
}

int kbuild_modules(const char *kdir, const char *src, const char *target)
{
	char *log = xasprintf("%s/build.log", src), *abs_src = realpath(src, NULL);
	struct strbuf cmd;
	long jobs = sysconf(_SC_NPROCESSORS_ONLN);
	int err;

	/* kbuild takes M= relative to KDIR, so it must be absolute. */
	if (!abs_src) {
		err = -errno;
		p_err("%s: %s", src, strerror(errno));
		free(log);
		return err;
	}
	sb_init(&cmd);
	sb_printf(&cmd, "make -j%ld -C ", jobs > 0 ? jobs : 1);
	sh_quote(&cmd, kdir);
	sb_puts(&cmd, " M=");
	sh_quote(&cmd, abs_src);
	sb_printf(&cmd, " %s", target);
	err = run_logged(cmd.buf, log, "make");
	if (err == -ECHILD) {
		p_err("kbuild failed for %s:", src);
		show_log(log, true, 20);
	}
	sb_free(&cmd);
	free(abs_src);
	free(log);
	return err;
}
