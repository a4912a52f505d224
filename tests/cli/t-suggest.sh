#!/usr/bin/env bash
# "did you mean": an unknown variable, function or struct field gets a note
# naming the closest known name (Damerau-Levenshtein distance at most 2 and
# under half the name's length, so short names get none), at that name's
# declaration; a swap of two letters is one edit; nothing far is guessed.
# ksc call of an unknown kfunc names the closest kfunc in its error line.
source tests/lib.sh
dir=$(scratch cli-suggest)
K=$KSC_ASAN
cat >"$dir/s.ks" <<'KS'
struct P { count: u32, total: u64 }
fn helper(x: u32) -> u32 {
    return x
}
fn main() -> i32 {
    var counter: u32 = 1
    var p = P { count: 1, totl: 2, total: 3 }
    var q = p.cuont
    var r = helpr(2)
    var s = y + zzzzzz
    return countr
}
KS
check "notes after the errors, at the names meant" "$dir/s.ks:7:27: error: struct 'P' has no field 'totl'
$dir/s.ks:1:24: note: did you mean 'total'?
$dir/s.ks:8:13: error: struct 'P' has no field 'cuont'
$dir/s.ks:1:12: note: did you mean 'count'?
$dir/s.ks:9:13: error: 'helpr' is not defined
$dir/s.ks:2:4: note: did you mean 'helper'?
$dir/s.ks:10:13: error: 'y' is not defined
$dir/s.ks:10:17: error: 'zzzzzz' is not defined
$dir/s.ks:11:12: error: 'countr' is not defined
$dir/s.ks:6:9: note: did you mean 'counter'?" \
	"$("$K" check "$dir/s.ks" 2>&1 | grep -E '^[^ ].*: (error|note): ')"
check "the note's source line and caret" "        var counter: u32 = 1
            ^~~~~~~" "$("$K" check "$dir/s.ks" 2>&1 | grep -A2 "note: did you mean 'counter'" | sed 1d)"

# ksc call: the closest kfunc of the running kernel, in the one error line.
if [ -r /sys/kernel/btf/vmlinux ] && "$KSC" kfuncs 2>/dev/null | grep -q ' bpf_rcu_read_lock('; then
	run_tool "call: did you mean the kfunc" 1 \
		"^ksc: error: unknown kfunc 'bpf_rcu_read_lok': no such function in the BTF of the kernel or any loaded module; did you mean 'bpf_rcu_read_lock'?$" \
		"$K" call bpf_rcu_read_lok
	out=$("$K" call no_such_kfunc_at_all 2>&1)
	check "call: no guess for a name nothing is close to" \
		"ksc: error: unknown kfunc 'no_such_kfunc_at_all': no such function in the BTF of the kernel or any loaded module" "$out"
else
	skip "call: did you mean" "no bpf_rcu_read_lock kfunc in this kernel's BTF"
fi
