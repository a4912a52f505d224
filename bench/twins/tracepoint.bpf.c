// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/tracepoint.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} calls SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u64);
} by_cmd SEC(".maps");

SEC("tracepoint/syscalls/sys_enter_bpf")
int tracepoint(struct trace_event_raw_sys_enter *ctx)
{
	__u64 cmd = ctx->args[0];

	ARRAY_ADD(calls, 0, 1);
	HASH_ADD(by_cmd, cmd, 1);
	return 0;
}
