// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/ringbuf_discard.ks. */
#include "bench.h"

struct pkt_event {
	__u32 saddr;
	__u32 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

SEC("xdp")
int ringbuf_discard(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ip4_h *ip = data + sizeof(struct eth_h);
	struct pkt_event *e;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return XDP_PASS;
	if ((void *)(ip + 1) > data_end || ip->protocol != IPPROTO_TCP) {
		bpf_ringbuf_discard(e, 0);
		return XDP_PASS;
	}
	e->saddr = ip->saddr;
	e->proto = IPPROTO_TCP;
	bpf_ringbuf_submit(e, 0);
	return XDP_PASS;
}
