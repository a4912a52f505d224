#!/usr/bin/env bash
# The 43 example programs of KernelScript 0.1.1 (public repository
# multikernel/kernelscript, never committed here) must pass `ksc check`,
# except safety_demo.ks, rejected for its oversized stack declaration, and
# type_alias.ks, whose 192168001001 does not fit the u32 it is stored in.
# The examples come from a local snapshot of that repository.
source tests/lib.sh

reference_repo examples || exit 0
dir=$(scratch examples)
git -C "$repo" archive HEAD examples | tar -x -C "$dir"
cd "$dir/examples"

n=$(ls ./*.ks | wc -l)
check "examples: 43 programs in the snapshot" 43 "$n"
for f in *.ks; do
	[ "$f" = safety_demo.ks ] || [ "$f" = type_alias.ks ] && continue
	for bin in "$KSC" "$KSC_ASAN"; do
		if out=$("$bin" check "$f" 2>&1); then
			pass "check $f ($(basename "$bin"))"
		else
			fail "check $f ($(basename "$bin"))" "$out"
		fi
	done
done

out=$("$KSC_ASAN" check safety_demo.ks 2>&1)
rc=$?
check "safety_demo.ks is rejected" 1 "$rc"
want="safety_demo.ks:77:7: error: 'large_buffer' (u8[600], 600 bytes) brings the stack of 'large_stack_usage' to 600 bytes, over the eBPF limit of 512"
check "safety_demo.ks names the oversized declaration" "$want" "$(echo "$out" | head -1)"
check "safety_demo.ks reports one error" 1 "$(echo "$out" | grep -c ': error: ')"

out=$("$KSC_ASAN" check type_alias.ks 2>&1)
rc=$?
check "type_alias.ks is rejected" 1 "$rc"
want="type_alias.ks:10:25: error: integer constant 192168001001 does not fit in IpAddress (0..4294967295)"
check "type_alias.ks names the constant that does not fit" "$want" "$(echo "$out" | head -1)"
check "type_alias.ks reports one error" 1 "$(echo "$out" | grep -c ': error: ')"
