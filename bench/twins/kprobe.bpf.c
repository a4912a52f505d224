// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/kprobe.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} by_pid SEC(".maps");

SEC("kprobe/do_unlinkat+0")
int kprobe(struct pt_regs *ctx)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;

	ARRAY_ADD(calls, 0, 1);
	HASH_ADD(by_pid, pid, 1);
	return 0;
}
