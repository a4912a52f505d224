// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/tc_classify.ks. */
#include "bench.h"

#define TC_ACT_OK   0
#define TC_ACT_SHOT 2

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} classes SEC(".maps");

SEC("tc")
int tc_classify(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	struct eth_h *eth = data;
	struct ip4_h *ip = data + sizeof(*eth);
	__u8 proto = 0;

	if ((void *)(eth + 1) > data_end || eth->proto != ETH_IP) {
		ARRAY_ADD(classes, 2, 1);
		return TC_ACT_OK;
	}
	if ((void *)(ip + 1) <= data_end)
		proto = ip->protocol;
	if (proto == IPPROTO_TCP) {
		ARRAY_ADD(classes, 0, 1);
		skb->mark = 6;
		return TC_ACT_OK;
	}
	if (proto == IPPROTO_UDP) {
		ARRAY_ADD(classes, 1, 1);
		return TC_ACT_SHOT;
	}
	ARRAY_ADD(classes, 2, 1);
	return TC_ACT_OK;
}
