// SPDX-License-Identifier: GPL-2.0
/*
 * procfs_stats: the way a counter reached userspace before module kfuncs,
 * written by hand as the yardstick for the kfunc path of
 * tests/ks/pass/kfunc_from_user.ks (bench/kfunc-call.sh).  Each read of
 * /proc/ksc_stats from offset 0 counts one query, as module_queries()
 * does, and returns the count as a decimal line.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/fs.h>
#include <linux/init.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/proc_fs.h>
#include <linux/uaccess.h>

static u64 queries;
static struct proc_dir_entry *entry;

static ssize_t stats_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	char line[24];
	int len;

	if (*ppos)
		return 0;
	len = scnprintf(line, sizeof(line), "%llu\n", ++queries);
	return simple_read_from_buffer(buf, count, ppos, line, len);
}

static const struct proc_ops stats_ops = {
	.proc_read = stats_read,
	.proc_lseek = default_llseek,
};

static int __init stats_init(void)
{
	entry = proc_create("ksc_stats", 0444, NULL, &stats_ops);
	return entry ? 0 : -ENOMEM;
}

static void __exit stats_exit(void)
{
	proc_remove(entry);
}

module_init(stats_init);
module_exit(stats_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("A counter read through /proc/ksc_stats, the procfs baseline for kfuncs");
