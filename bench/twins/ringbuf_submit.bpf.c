// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/ringbuf_submit.ks. */
#include "bench.h"

struct pkt_event {
	__u32 saddr;
	__u32 daddr;
	__u8 proto;
	__u8 ttl;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int ringbuf_submit(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;
	struct ip4_h *ip = data + sizeof(*eth);
	struct pkt_event *e;

	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP)
		return XDP_PASS;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	if ((void *)(ip + 1) <= data_end) {
		e->saddr = ip->saddr;
		e->daddr = ip->daddr;
		e->proto = ip->protocol;
		e->ttl = ip->ttl;
	} else {
		__builtin_memset(e, 0, sizeof(*e));
	}
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
