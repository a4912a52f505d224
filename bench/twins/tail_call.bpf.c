// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/tail_call.ks. */
#include "bench.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} stages SEC(".maps");

int tail_count(struct xdp_md *ctx);
int tail_parse(struct xdp_md *ctx);

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 2);
	__uint(key_size, sizeof(__u32));
	__array(values, int (void *));
} prog_array SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_count,
		[1] = (void *)&tail_parse,
	},
};

SEC("xdp")
int tail_count(struct xdp_md *ctx)
{
	ARRAY_ADD(stages, 2, 1);
	return XDP_PASS;
}

SEC("xdp")
int tail_parse(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct ip4_h *ip = data + sizeof(struct eth_h);

	ARRAY_ADD(stages, 1, 1);
	if ((void *)(ip + 1) > data_end || ip->ttl <= 1)
		return XDP_DROP;
	bpf_tail_call(ctx, &prog_array, 0);
	return XDP_PASS;
}

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct eth_h *eth = data;

	ARRAY_ADD(stages, 0, 1);
	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP)
		return XDP_PASS;
	bpf_tail_call(ctx, &prog_array, 1);
	return XDP_PASS;
}
