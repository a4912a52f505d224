// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/map_array.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps"), bytes SEC(".maps");

SEC("xdp")
int map_array(struct xdp_md *ctx)
{
	__u32 q = ctx->rx_queue_index;

	ARRAY_ADD(packets, q, 1);
	ARRAY_ADD(bytes, q, bpf_xdp_get_buff_len(ctx));
	return XDP_PASS;
}
