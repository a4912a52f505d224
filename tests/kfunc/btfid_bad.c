// SPDX-License-Identifier: GPL-2.0
/* A BTF_ID naming a function that exists nowhere: resolution must fail. */
#include <linux/types.h>
#include <linux/btf_ids.h>
#include <linux/module.h>

BTF_ID_LIST(bad_list)
BTF_ID(func, no_such_function)

static int __init bad_init(void)
{
	return bad_list[0] ? 0 : -EINVAL;
}
module_init(bad_init);
MODULE_LICENSE("GPL");
