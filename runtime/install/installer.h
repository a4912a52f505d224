/*
 * What `ksc install`, `ksc uninstall` and `ksc status` share: the layout of
 * an installation in bpffs, taking pins down again, and the module.
 *
 * An installation of NAME lives under /sys/fs/bpf/ksc/NAME/:
 *   links/PROG          a bpf_link (xdp, fentry, kprobe, tracepoint, ...)
 *   links/MAP           a registered struct_ops map (libbpf < 1.2 pins the map)
 *   links/PROG@tc-IFINDEX-DIR-HANDLE-PRIO-Q
 *                       a program attached by a tc filter (no link before
 *                       tcx): where it is attached is in its name, Q is 'q'
 *                       when the install created the clsact qdisc
 *   progs/PROG          loaded but not attached (no --iface, perf_event)
 *   maps/MAP, globals   maps, as the generated loader pins them ('.' -> '_')
 *   installing-PID/     an empty directory that lives while install runs:
 *                       one left by a dead PID is an interrupted install
 * bpffs names cannot hold dots, so none of these do.
 */
#ifndef KSC_INSTALLER_H
#define KSC_INSTALLER_H

#include <stdbool.h>

#define INSTALL_ROOT "/sys/fs/bpf/ksc"
#define INSTALL_TC_TAG "@tc-"

/* Root, and bpffs at /sys/fs/bpf (mounted here when it is not).  0 or -errno, reported. */
int install_preflight(const char *what);

/* NAME can be an installation's: not empty, no '/', not . or .. */
bool install_valid_name(const char *name);

/* /sys/fs/bpf/ksc/NAME[/SUB] (malloc'd). */
char *install_path(const char *name, const char *sub);

/*
 * Takes one pin down: a link is detached first, a struct_ops map
 * unregistered, a tc filter removed; then the pin goes.  0 or -errno.
 */
int install_unpin(const char *path);

/* What a bpf fd is, from its fdinfo: 'l' link, 'm' map (*map_type set), 'p' program, 0. */
char install_fd_kind(int fd, unsigned *map_type);

/* Unpins everything under dir, links/ and progs/ first, and removes dir. */
int install_remove_tree(const char *dir);

#define INSTALL_MARK "installing-"

enum install_state { INSTALL_DONE, INSTALL_RUNNING, INSTALL_INTERRUPTED };

/* Whether NAME's install finished, is running (*pid) or died (*pid) midway. */
enum install_state install_state(const char *name, int *pid);

/* Waits (polling for something the kernel does asynchronously). */
void install_sleep_ms(int ms);

/*
 * Whether the module `ko`, of version magic `vermagic` (its modinfo), was
 * built for the running kernel: the same release, and SMP and preemption
 * as uname -v has them.  0, or -ENOEXEC after one error line naming both.
 */
int module_check_vermagic(const char *ko, const char *vermagic);

/* /sys/module/NAME exists. */
bool module_loaded(const char *name);
/* /sys/module/NAME/refcnt, -1 when unknown. */
int module_refcnt(const char *name);
/*
 * Removes module NAME through libkmod, once the programs that held it (and
 * that were just unpinned) are gone: the kernel drops their hold a moment
 * after.  Refuses (-EBUSY, reported) while other modules or programs hold it.
 */
int module_remove(const char *name);

#endif
