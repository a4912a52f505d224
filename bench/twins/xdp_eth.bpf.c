// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/xdp_eth.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} by_type SEC(".maps");

SEC("xdp")
int xdp_eth(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;

	if ((void *)(eth + 1) > data_end)
		return XDP_PASS;
	switch (eth->proto) {
	case ETH_IP:
		ARRAY_ADD(by_type, 0, 1);
		return XDP_PASS;
	case ETH_ARP:
		ARRAY_ADD(by_type, 1, 1);
		return XDP_DROP;
	case ETH_IPV6:
		ARRAY_ADD(by_type, 2, 1);
		return XDP_PASS;
	}
	return XDP_PASS;
}
