#include "builtins.h"

#include <string.h>

static const char *const names[BI_COUNT] = {
	[BI_NONE] = "",
#define X(id, name) [BI_##id] = name,
	KS_BUILTINS(X)
#undef X
};

enum builtin builtin_lookup(const char *name)
{
	for (int i = 1; i < BI_COUNT; i++)
		if (!strcmp(names[i], name))
			return (enum builtin)i;
	return BI_NONE;
}

const char *builtin_name(enum builtin b)
{
	return names[b];
}

bool builtin_user_only(enum builtin b)
{
	return b != BI_PRINT && b != BI_NONE;
}

/*
 * Values are the kernel's: GFP_* are symbolic (the module backend maps them
 * to the kernel's own flags), TC_ACT_* from linux/pkt_cls.h, perf_* from
 * linux/perf_event.h.
 */
const char ks_prelude[] =
	"type size_t = u64\n"
	"enum gfp_flag { GFP_KERNEL = 1, GFP_ATOMIC = 2, }\n"
	"enum tc_action {\n"
	"  TC_ACT_UNSPEC = -1, TC_ACT_OK = 0, TC_ACT_RECLASSIFY = 1, TC_ACT_SHOT = 2,\n"
	"  TC_ACT_PIPE = 3, TC_ACT_STOLEN = 4, TC_ACT_QUEUED = 5, TC_ACT_REPEAT = 6,\n"
	"  TC_ACT_REDIRECT = 7, TC_ACT_TRAP = 8,\n"
	"}\n"
	"enum perf_type {\n"
	"  perf_type_hardware = 0, perf_type_software = 1, perf_type_tracepoint = 2,\n"
	"  perf_type_hw_cache = 3, perf_type_raw = 4, perf_type_breakpoint = 5,\n"
	"}\n"
	"enum perf_hw_config {\n"
	"  cpu_cycles = 0, instructions = 1, cache_references = 2, cache_misses = 3,\n"
	"  branch_instructions = 4, branch_misses = 5,\n"
	"}\n"
	"enum perf_sw_config {\n"
	"  page_faults = 2, context_switches = 3, cpu_migrations = 4,\n"
	"}\n"
	"struct perf_options {\n"
	"  perf_type: perf_type, perf_config: u64, pid: i32, cpu: i32, period: u64,\n"
	"  wakeup: u32, inherit: bool, exclude_kernel: bool, exclude_user: bool,\n"
	"}\n"
	"struct PerfAttachment { perf_fd: i32, link_id: i32, prog_fd: i32, generation: u64, }\n";
