// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/tcp_cc.ks: the BPF side of Reno. */
#include "bench.h"
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} acks SEC(".maps");

SEC("struct_ops/ssthresh")
__u32 BPF_PROG(bench_reno_ssthresh, struct sock *sk)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	return tp->snd_cwnd / 2 < 2 ? 2 : tp->snd_cwnd / 2;
}

SEC("struct_ops/cong_avoid")
void BPF_PROG(bench_reno_cong_avoid, struct sock *sk, __u32 ack, __u32 acked)
{
	struct tcp_sock *tp = (struct tcp_sock *)sk;

	ARRAY_ADD(acks, 1, 1);
	if (tp->snd_cwnd < tp->snd_ssthresh) {
		tp->snd_cwnd += acked;
		return;
	}
	tp->snd_cwnd_cnt += acked;
	if (tp->snd_cwnd_cnt >= tp->snd_cwnd) {
		tp->snd_cwnd_cnt -= tp->snd_cwnd;
		tp->snd_cwnd++;
	}
}

SEC("struct_ops/undo_cwnd")
__u32 BPF_PROG(bench_reno_undo_cwnd, struct sock *sk)
{
	return ((struct tcp_sock *)sk)->snd_cwnd;
}

SEC("struct_ops/pkts_acked")
void BPF_PROG(bench_reno_pkts_acked, struct sock *sk, const struct ack_sample *sample)
{
	ARRAY_ADD(acks, 0, 1);
}

SEC(".struct_ops")
struct tcp_congestion_ops bench_reno = {
	.ssthresh = (void *)bench_reno_ssthresh,
	.cong_avoid = (void *)bench_reno_cong_avoid,
	.undo_cwnd = (void *)bench_reno_undo_cwnd,
	.pkts_acked = (void *)bench_reno_pkts_acked,
	.name = "bench_reno",
};
