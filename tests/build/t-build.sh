#!/usr/bin/env bash
# ksc build: compile, make (eBPF object, skeleton, loader), and the module
# when --kdir is given; failures stop early and leave no output tree.
source tests/lib.sh

dir=$(scratch build)
out=$dir/kfunc_stats
if kdir=$(scripts/kernels kdir 6.12 2>"$dir/err"); then
	if ./ksc -q build examples/kfunc_stats.ks -o "$out" --kdir "$kdir" 2>"$dir/err"; then
		pass "ksc build with --kdir"
	else
		fail "ksc build with --kdir" "$(cat "$dir/err")"
	fi
	for f in kfunc_stats.ebpf.o kfunc_stats.skel.h kfunc_stats kmod/kfunc_stats.ko; do
		if [ -s "$out/$f" ]; then pass "built $f"; else fail "built $f" "$(ls -R "$out")"; fi
	done
else
	fail "6.12 kernel tree" "$(cat "$dir/err")"
fi

# Without --kdir the module is left for later, and said so.
rm -rf "$out"
./ksc build examples/kfunc_stats.ks -o "$out" >/dev/null 2>"$dir/err"
rc=$?
if [ $rc -eq 0 ] && [ -x "$out/kfunc_stats" ] && [ ! -e "$out/kmod/kfunc_stats.ko" ] &&
	grep -q 'not built: give --kdir' "$dir/err"; then
	pass "without --kdir: loader built, module not"
else
	fail "without --kdir: loader built, module not" "exit $rc" "$(cat "$dir/err")"
fi

printf 'fn main() -> i32 {\n    return nope\n}\n' >"$dir/bad.ks"
./ksc -q build "$dir/bad.ks" -o "$dir/bad-out" 2>"$dir/err"
rc=$?
if [ $rc -eq 1 ] && grep -q 'bad.ks:2:12: error' "$dir/err" && [ ! -e "$dir/bad-out" ]; then
	pass "a program with errors: diagnostics, exit 1, no tree"
else
	fail "a program with errors: diagnostics, exit 1, no tree" "exit $rc" "$(cat "$dir/err")"
fi
./ksc -q build examples/kfunc_stats.ks --btf-base /dev/null 2>"$dir/err"
check "--btf-base without --kdir is a usage error" 2 $?
