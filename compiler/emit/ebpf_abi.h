/*
 * What the eBPF object of a program looks like from outside: the names the
 * eBPF backend gives things and the userspace backend and libksc rely on.
 *
 *  - object file        NAME.ebpf.o; loaders embed it through a bpftool
 *                       skeleton NAME.skel.h (struct NAME_ebpf)
 *  - programs           named after their KernelScript function, one SEC each:
 *                       xdp, tc/ingress (libbpf >= 1.3) or tc (older), fentry/FN,
 *                       kprobe/FN+OFF, tracepoint/CAT/EV, perf_event, struct_ops/M,
 *                       syscall (kfunc trampolines, below)
 *  - maps               named after their KernelScript variable
 *  - config NAME        ARRAY map NAME_config_map, one entry of struct NAME_config
 *  - globals            plain C globals (.bss/.data); `local` ones are __hidden
 *  - pinned globals     ARRAY map pinned_globals, one entry of struct pinned_globals
 *  - tail calls         PROG_ARRAY map prog_array; slot of each target below;
 *                       libbpf fills the slots at load (static initializer)
 *  - struct_ops impl X  SEC(".struct_ops") variable X of the kernel struct type
 *  - kfunc trampolines  for a kfunc K called from userspace: a SEC("syscall")
 *                       program __ksc_call_K taking struct __ksc_call_K_args
 *                       { params..., ret } as its context, run with
 *                       BPF_PROG_TEST_RUN (ctx_in/ctx_out)
 *  - pin paths          /sys/fs/bpf/ksc/NAME/maps/MAP, /sys/fs/bpf/ksc/NAME/globals
 */
#ifndef KSC_EBPF_ABI_H
#define KSC_EBPF_ABI_H

#define KSC_PIN_ROOT "/sys/fs/bpf/ksc"
#define KSC_PROG_ARRAY "prog_array"
#define KSC_PINNED_GLOBALS "pinned_globals"
#define KSC_CONFIG_MAP_SUFFIX "_config_map"
#define KSC_CONFIG_STRUCT_SUFFIX "_config"
#define KSC_CALL_PREFIX "__ksc_call_"

#include "ast.h"

/*
 * The programs prog tail-calls, in slot order (index = slot): one walk of
 * every program, done once per backend and kept.  targets is reset first;
 * each target is marked with its slot (decl->tail_slot).
 */
void ebpf_tail_targets(const struct program *prog, struct ptrvec *targets);

/* The slot of fn after ebpf_tail_targets, or -1 if it is no tail-call target. */
int ebpf_tail_slot(const struct decl *fn);

#endif
