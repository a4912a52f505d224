// SPDX-License-Identifier: GPL-2.0
/* Twin of bench/progs/kfunc_task.ks. */
#include "bench.h"

struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
void bpf_task_release(struct task_struct *p) __ksym;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __s64);
} init_prio SEC(".maps");

SEC("xdp")
int kfunc_task(struct xdp_md *ctx)
{
	struct task_struct *init = bpf_task_from_pid(1);
	__u32 key = 0;
	__s64 prio;

	if (!init)
		return XDP_DROP;
	prio = init->prio;
	bpf_map_update_elem(&init_prio, &key, &prio, BPF_ANY);
	bpf_task_release(init);
	return XDP_PASS;
}
