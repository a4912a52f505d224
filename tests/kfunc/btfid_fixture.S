/*
 * The .BTF_ids of a two-kfunc module, written the way the kernel's
 * btf_ids.h macros lay it out (BTF_SET8_START, BTF_ID_FLAGS, BTF_SET8_END,
 * BTF_ID_LIST): local symbols over zeroed slots.  tests/kfunc/t-distilled.sh
 * assembles it and adds .BTF and .BTF.base with objcopy.
 */
	.section .BTF_ids, "a"

	.local __BTF_ID__set8__fix_kfunc_ids
	.type __BTF_ID__set8__fix_kfunc_ids, @object
__BTF_ID__set8__fix_kfunc_ids:
	.zero 8

	.local __BTF_ID__func__fix_task__1
	.type __BTF_ID__func__fix_task__1, @object
	.size __BTF_ID__func__fix_task__1, 4
__BTF_ID__func__fix_task__1:
	.zero 4
	.long 0x10

	.local __BTF_ID__func__fix_count__2
	.type __BTF_ID__func__fix_count__2, @object
	.size __BTF_ID__func__fix_count__2, 4
__BTF_ID__func__fix_count__2:
	.zero 4
	.long 0x20

	.size __BTF_ID__set8__fix_kfunc_ids, . - __BTF_ID__set8__fix_kfunc_ids

	.local __BTF_ID__struct__task_struct__3
	.type __BTF_ID__struct__task_struct__3, @object
	.size __BTF_ID__struct__task_struct__3, 4
__BTF_ID__struct__task_struct__3:
	.zero 4

	.section .note.GNU-stack, "", @progbits
