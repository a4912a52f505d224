// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/xdp_udp.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u64);
} by_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} dropped SEC(".maps");

SEC("xdp")
int xdp_udp(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;
	struct ip4_h *ip = data + sizeof(*eth);
	struct udp_h *udp = data + sizeof(*eth) + sizeof(*ip);
	__u32 dport;

	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP)
		return XDP_PASS;
	if ((void *)(ip + 1) > data_end || ip->ver_ihl != 0x45 || ip->protocol != IPPROTO_UDP)
		return XDP_PASS;
	if ((void *)(udp + 1) > data_end || !udp->dport)
		return XDP_PASS;
	dport = udp->dport;
	HASH_ADD(by_port, dport, 1);
	if (dport == 0x3500) {
		ARRAY_ADD(dropped, 0, 1);
		return XDP_DROP;
	}
	return XDP_PASS;
}
