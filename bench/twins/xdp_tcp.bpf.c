// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/xdp_tcp.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} syns SEC(".maps");

SEC("xdp")
int xdp_tcp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;
	struct ip4_h *ip = data + sizeof(*eth);
	struct tcp_h *tcp;
	__u64 ihl;

	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP)
		return XDP_PASS;
	if ((void *)(ip + 1) > data_end)
		return XDP_PASS;
	ihl = (ip->ver_ihl & 15) * 4;
	if (ip->protocol != IPPROTO_TCP || ihl < 20)
		return XDP_PASS;
	tcp = data + sizeof(*eth) + ihl;
	if ((void *)(tcp + 1) > data_end || tcp->flags != 0x02)
		return XDP_PASS;
	ARRAY_ADD(syns, 0, 1);
	if (tcp->dport == 0x1600) {
		ARRAY_ADD(syns, 1, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}
