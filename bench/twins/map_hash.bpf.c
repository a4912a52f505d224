// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/map_hash.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} by_source SEC(".maps");

SEC("xdp")
int map_hash(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;
	struct ip4_h *ip = data + sizeof(*eth);
	__u32 src;

	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP)
		return XDP_PASS;
	if ((void *)(ip + 1) > data_end || !ip->saddr)
		return XDP_PASS;
	src = ip->saddr;
	HASH_ADD(by_source, src, 1);
	return XDP_PASS;
}
