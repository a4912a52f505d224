/* Builtin functions and types every KernelScript program sees. */
#ifndef KSC_BUILTINS_H
#define KSC_BUILTINS_H

#include <stdbool.h>

/* ORDER BUILTINS */
#define KS_BUILTINS(X) \
	X(PRINT, "print") X(LOAD, "load") X(ATTACH, "attach") X(DETACH, "detach") \
	X(REGISTER, "register") X(TEST, "test") X(DISPATCH, "dispatch") \
	X(DAEMON, "daemon") X(EXEC, "exec") X(READ, "read")

enum builtin {
	BI_NONE,
#define X(id, name) BI_##id,
	KS_BUILTINS(X)
#undef X
	BI_COUNT
};

/* Methods of a ring buffer value: rb.reserve() and friends. */
enum rb_method { RB_NONE, RB_RESERVE, RB_SUBMIT, RB_DISCARD, RB_ON_EVENT };

enum builtin builtin_lookup(const char *name);
const char *builtin_name(enum builtin b);
/* Userspace-only builtins (everything but print). */
bool builtin_user_only(enum builtin b);

/*
 * Source of the builtin types (size_t, gfp_flag, tc_action, perf_type,
 * perf_hw_config, perf_sw_config, perf_options, PerfAttachment), parsed
 * like a header before every program.
 */
extern const char ks_prelude[];

#endif
