// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/xdp_ipv4.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} by_proto SEC(".maps");

SEC("xdp")
int xdp_ipv4(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;
	struct ip4_h *ip = data + sizeof(*eth);

	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP)
		return XDP_PASS;
	if ((void *)(ip + 1) > data_end || ip->ver_ihl != 0x45)
		return XDP_PASS;
	ARRAY_ADD(by_proto, ip->protocol, 1);
	return ip->ttl <= 1 ? XDP_DROP : XDP_PASS;
}
