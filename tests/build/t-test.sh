#!/usr/bin/env bash
# ksc test on the host: a BPF-only file's @test functions are built, run on
# the running kernel and reported one line each with the .ks line, then
# "N passed, N failed"; exit 0 only when every selected test passed.
# --filter runs one; a file without tests, an unknown filter and a file
# with module code are errors (exit 1) saying so.
source tests/lib.sh
dir=$(scratch ksc-test)
if [ "$(id -u)" != 0 ]; then
	skip ksc-test "needs root to run BPF programs"
	exit 0
fi
cp tests/ks/pass/test_verdicts.ks "$dir/ok.ks"
# The second test now expects XDP_PASS from a large frame: it fails.
sed 's/!= 1) {/!= 2) {/' tests/ks/pass/test_verdicts.ks >"$dir/bad.ks"
cp examples/kfunc_stats.ks "$dir/kmod.ks"
printf 'include "xdp.kh"\n@xdp fn p(ctx: *xdp_md) -> xdp_action {\n    return XDP_PASS\n}\n' >"$dir/none.ks"

# t NAME WANT_STATUS WANT_STDOUT ARGS...
t() {
	local name=$1 want=$2 out=$3 got rc
	shift 3
	got=$(cd "$dir" && timeout 300 "$KSC" -q test "$@" 2>"$dir/err")
	rc=$?
	if ((rc != want)); then
		fail "$name" "exit status $rc, expected $want" "$got" "$(cat "$dir/err")"
	else
		check "$name" "$out" "$got"
	fi
}
t "all pass" 0 "ok   passes_small_frames  ok.ks:20
ok   drops_large_frames   ok.ks:31
2 passed, 0 failed" ok.ks
t "one fails, with its line" 1 "ok   passes_small_frames  bad.ks:20
FAIL drops_large_frames   bad.ks:31
1 passed, 1 failed" bad.ks
t "--filter runs one test" 0 "ok   passes_small_frames  bad.ks:20
1 passed, 0 failed" bad.ks --filter passes_small_frames
t "--filter=NAME, the failing one" 1 "FAIL drops_large_frames   bad.ks:31
0 passed, 1 failed" --filter=drops_large_frames bad.ks
bad_input "no @test functions" "none.ks has no @test functions$" \
	bash -c "cd '$dir' && '$KSC' -q test none.ks"
bad_input "an unknown --filter" "bad.ks has no @test function named 'nope'$" \
	bash -c "cd '$dir' && '$KSC' -q test bad.ks --filter nope"
bad_input "a file with module code" "kmod.ks has module code: its tests need the module loaded" \
	bash -c "cd '$dir' && '$KSC' -q test kmod.ks"
