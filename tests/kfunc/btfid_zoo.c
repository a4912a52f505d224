// SPDX-License-Identifier: GPL-2.0
/*
 * Every kind of .BTF_ids symbol, for comparing ksc's BTF id resolution with
 * the kernel's resolve_btfids: sets and set8s whose entries must be sorted
 * with their flags, struct/union/typedef ids from the base, a name with
 * "__" inside, and a BTF_ID_LIST outside any set.  Never loaded.
 */
#include <linux/bpf.h>
#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/module.h>

#ifndef __bpf_kfunc
#define __bpf_kfunc __used noinline
#endif

__bpf_kfunc u64 zoo_zeta(u32 v) { return v + 3; }
__bpf_kfunc u64 zoo_alpha(u32 v) { return v * 2; }
__bpf_kfunc u64 zoo__inner(u64 v) { return v ^ 5; }
__bpf_kfunc u64 zoo_mid(void) { return 7; }

/* Flags unlike each other, so that one moved without its id shows. */
BTF_SET8_START(zoo_kfunc_ids)
BTF_ID_FLAGS(func, zoo_zeta, KF_SLEEPABLE)
BTF_ID_FLAGS(func, zoo_alpha, KF_ACQUIRE | KF_RET_NULL)
BTF_ID_FLAGS(func, zoo__inner)
BTF_ID_FLAGS(func, zoo_mid, KF_TRUSTED_ARGS)
BTF_SET8_END(zoo_kfunc_ids)

BTF_SET_START(zoo_set)
BTF_ID(func, zoo_mid)
BTF_ID(struct, task_struct)
BTF_ID(func, zoo_alpha)
BTF_SET_END(zoo_set)

BTF_ID_LIST(zoo_list)
BTF_ID(struct, sk_buff)
BTF_ID(union, bpf_attr)
BTF_ID(typedef, u32)
BTF_ID(func, zoo_zeta)

static const struct btf_kfunc_id_set zoo_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &zoo_kfunc_ids,
};

static int __init zoo_init(void)
{
	pr_info("%u %u\n", zoo_list[0], zoo_set.cnt);
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &zoo_kfunc_set);
}
module_init(zoo_init);
MODULE_LICENSE("GPL");
