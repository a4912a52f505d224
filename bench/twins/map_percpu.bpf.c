// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/map_percpu.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} total SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} by_proto SEC(".maps");

SEC("xdp")
int map_percpu(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;
	struct ip4_h *ip = data + sizeof(*eth);
	__u32 proto = 0;

	ARRAY_ADD(total, 0, 1);
	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP)
		return XDP_PASS;
	if ((void *)(ip + 1) <= data_end)
		proto = ip->protocol;
	HASH_ADD(by_proto, proto, 1);
	return XDP_PASS;
}
