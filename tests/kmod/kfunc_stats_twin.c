// SPDX-License-Identifier: GPL-2.0
/*
 * The kfuncs of examples/kfunc_stats.ks as a kernel developer would write
 * them by hand for Linux 6.1 and 6.12: the tests compare the BTF and kfunc
 * set of ksc's module with this one, and the benchmarks use it as the
 * baseline.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/btf.h>
#include <linux/btf_ids.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/version.h>

/* 6.1 predates __bpf_kfunc and the BTF_KFUNCS_* set markers. */
#ifndef __bpf_kfunc
#define __bpf_kfunc __used noinline
#endif
#if LINUX_VERSION_CODE < KERNEL_VERSION(6, 9, 0)
#define BTF_KFUNCS_START BTF_SET8_START
#define BTF_KFUNCS_END BTF_SET8_END
#endif
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 7, 0)
#define twin_kfunc_start_defs() __bpf_kfunc_start_defs()
#define twin_kfunc_end_defs() __bpf_kfunc_end_defs()
#else
#define twin_kfunc_start_defs()
#define twin_kfunc_end_defs()
#endif

static u64 packets_seen;
static u64 bytes_seen;

static u64 clamp_u64(u64 v, u64 limit)
{
	return v > limit ? limit : v;
}

twin_kfunc_start_defs();

__bpf_kfunc u64 ksc_stats_count(u32 len)
{
	packets_seen++;
	bytes_seen += len;
	return packets_seen;
}

__bpf_kfunc u64 ksc_stats_avg(void)
{
	return packets_seen ? bytes_seen / packets_seen : 0;
}

__bpf_kfunc u64 ksc_stats_scale(u32 v, u32 factor)
{
	return clamp_u64(v * factor, 1000000);
}

twin_kfunc_end_defs();

BTF_KFUNCS_START(twin_xdp_kfunc_ids)
BTF_ID_FLAGS(func, ksc_stats_count)
BTF_ID_FLAGS(func, ksc_stats_avg)
BTF_ID_FLAGS(func, ksc_stats_scale)
BTF_KFUNCS_END(twin_xdp_kfunc_ids)

static const struct btf_kfunc_id_set twin_xdp_kfunc_set = {
	.owner = THIS_MODULE,
	.set = &twin_xdp_kfunc_ids,
};

static int __init twin_init(void)
{
	return register_btf_kfunc_id_set(BPF_PROG_TYPE_XDP, &twin_xdp_kfunc_set);
}

static void __exit twin_exit(void)
{
}

module_init(twin_init);
module_exit(twin_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Hand-written twin of the module ksc generates from kfunc_stats.ks");
