/* Running external build commands with their output kept in a log. */
#ifndef KSC_KBUILD_RUN_H
#define KSC_KBUILD_RUN_H

#include <stdbool.h>

struct strbuf;

/* Appends s to sb quoted for sh (commands are shown with -v and run by sh). */
void sh_quote(struct strbuf *sb, const char *s);

/*
 * Runs a shell command with stdout and stderr into `log`.  Returns 0 when
 * it succeeded, -ECHILD when it exited non-zero, another negative errno
 * (reported, naming `what`) when it could not run.
 */
int run_logged(const char *cmd, const char *log, const char *what);

/*
 * Shows up to max lines of a command's log on stderr, indented under the
 * error line before them: only the compiler's error lines when errors_only
 * (kbuild's log is long), else all (sign-file says little, all of it to
 * the point).
 */
void show_log(const char *log, bool errors_only, int max);

/* make -C kdir M=src target, logged to src/build.log; compiler errors are shown. */
int kbuild_modules(const char *kdir, const char *src, const char *target);

#endif
