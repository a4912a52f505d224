#!/usr/bin/env bash
# ksc test --kernel: tests/vm/progs/ktest.ks (a kfunc module, an XDP program
# calling it, three @test functions) built for 6.1 and the newest 7.x and
# run in one VM boot of each (a single `--kernel 6.1,7`): each kernel's
# block is labelled, the two tests that need the module inserted pass, the
# one failing on purpose is reported at its .ks line, the last line totals
# both kernels, exit status 1.  Then what fails before any boot: an
# unknown --filter (exit 1, as on the host) and a series scripts/kernels
# does not serve (one error line, exit 1).
source tests/lib.sh
src=tests/vm/progs/ktest.ks
dir=$(scratch test-vm)

list=""
for k in $(kernel_matrix); do
	case $k in 6.1 | 7) ;; *) continue ;; esac
	if "$KSC_TOP/scripts/kernels" vmlinuz "$k" >/dev/null 2>&1; then
		list="${list:+$list,}$k"
	else
		skip "test --kernel $k" "no image of $k (scripts/kernels vmlinuz $k)"
	fi
done

# block K: what one kernel's run of ktest.ks prints.
block() {
	printf '%s\n' "ok   small_passes   $src:40" "ok   module_counts  $src:49" \
		"FAIL large_passes   $src:62" "2 passed, 1 failed"
}

if [ -n "$list" ]; then
	want=""
	n=0
	for k in ${list//,/ }; do
		want+="kernel $k:"$'\n'"$(block)"$'\n'
		n=$((n + 1))
	done
	want+="$((2 * n)) passed, $n failed on $n kernels"
	((n > 1)) || want=$(block)
	got=$(timeout 900 "$KSC" -q test "$src" --kernel "$list" 2>"$dir/err")
	rc=$?
	if ((rc != 1)); then
		fail "test --kernel $list: exit 1" "exit $rc" "$got" "$(cat "$dir/err")"
	else
		check "test --kernel $list" "$want" "$got"
	fi
else
	skip "test --kernel" "KSC_KERNELS has neither 6.1 nor 7, or their images are missing"
fi

bad_input "test --kernel 6.1: an unknown --filter" "ktest.ks has no @test function named 'nope'$" \
	"$KSC" -q test "$src" --kernel 6.1 --filter nope
out=$("$KSC" test --kernel 5.4 "$src" 2>&1)
rc=$?
if ((rc == 1)) && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^ksc: error: --kernel 5.4: " <<<"$out"; then
	pass "test --kernel 5.4: one error line"
else
	fail "test --kernel 5.4: one error line" "exit $rc" "$out"
fi
