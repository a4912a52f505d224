/* What the hand-written twins share: the headers they parse, as on the wire. */
#ifndef BENCH_TWIN_H
#define BENCH_TWIN_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct eth_h {
	__u8 dst[6];
	__u8 src[6];
	__u16 proto;
};

struct ip4_h {
	__u8 ver_ihl;
	__u8 tos;
	__u16 tot_len;
	__u16 id;
	__u16 frag;
	__u8 ttl;
	__u8 protocol;
	__u16 check;
	__u32 saddr;
	__u32 daddr;
};

struct udp_h {
	__u16 sport;
	__u16 dport;
	__u16 len;
	__u16 check;
};

struct tcp_h {
	__u16 sport;
	__u16 dport;
	__u32 seq;
	__u32 ack_seq;
	__u8 doff;
	__u8 flags;
	__u16 window;
	__u16 check;
	__u16 urg;
};

/* Network byte order read as stored (little-endian host). */
#define ETH_IP   0x0008
#define ETH_ARP  0x0608
#define ETH_IPV6 0xdd86

/* m[k] += n on a hash map: add in place, insert when missing. */
#define HASH_ADD(map, key, n) do {						\
	__u64 *__c = bpf_map_lookup_elem(&(map), &(key));			\
	if (__c) {								\
		__sync_fetch_and_add(__c, n);					\
	} else {								\
		__u64 __n = (n);						\
		bpf_map_update_elem(&(map), &(key), &__n, BPF_NOEXIST);		\
	}									\
} while (0)

/* m[k] += n on an array: every key in range has its entry. */
#define ARRAY_ADD(map, key, n) do {						\
	__u32 __k = (key);							\
	__u64 *__c = bpf_map_lookup_elem(&(map), &__k);				\
	if (__c)								\
		__sync_fetch_and_add(__c, n);					\
} while (0)

char _license[] SEC("license") = "GPL";

#endif
