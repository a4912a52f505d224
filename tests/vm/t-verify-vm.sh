#!/usr/bin/env bash
# ksc verify --kernel: the corpus of tests/verify/progs that reaches the
# verifier (those ksc rejects at compile time print the same error on any
# kernel: tests/verify/t-verify.sh), the programs of tests/verify/accept and
# tests/ebpf/progs/xdp_filter.ks, in one VM boot each of 6.1 and the newest
# 7.x.  Each rejected file's first line must be NAME.SERIES.expected where
# the kernel words or places it differently, else NAME.expected; each valid
# one is accepted; exit status 1.  One rejected program goes in as a tree
# built here (a DIR operand), whose report must still show its source line.
# And an unknown series is one error line.
source tests/lib.sh

rejected=() accepted=(tests/verify/accept/*.ks tests/ebpf/progs/xdp_filter.ks) operands=()
for src in tests/verify/progs/*.ks; do
	grep -q "the kernel's verifier rejects this" "${src%.ks}.expected" && rejected+=("$src")
done
dir=$(scratch verify-vm)
tree_src=tests/verify/progs/packet_index.ks
for src in "${rejected[@]}" "${accepted[@]}"; do
	if [ "$src" = "$tree_src" ] && "$KSC" -q build "$src" -o "$dir/packet_index" >"$dir/build.log" 2>&1; then
		operands+=("$dir/packet_index")
	else
		[ "$src" = "$tree_src" ] && fail "build $tree_src as a tree" "$(tail -5 "$dir/build.log")"
		operands+=("$src")
	fi
done

series_list=""
for k in $(kernel_matrix); do
	case $k in 6.1 | 7) series_list="$series_list $k" ;; esac
done
[ -n "$series_list" ] || { skip "verify --kernel" "KSC_KERNELS has neither 6.1 nor 7"; exit 0; }

for k in $series_list; do
	if ! "$KSC_TOP/scripts/kernels" vmlinuz "$k" >/dev/null 2>&1; then
		skip "verify --kernel $k" "no image of $k (scripts/kernels vmlinuz $k)"
		continue
	fi
	out=$(timeout 600 "$KSC" verify --kernel "$k" "${operands[@]}" 2>&1)
	check "verify --kernel $k: exit 1 (rejections)" 1 "$?"
	for src in "${rejected[@]}"; do
		name=$(basename "$src" .ks)
		want=${src%.ks}.$k.expected
		[ -e "$want" ] || want=${src%.ks}.expected
		check "verify --kernel $k: $name" "$(cat "$want")" \
			"$(grep -m1 "^$src:[0-9]*:[0-9]*: error:" <<<"$out")"
	done
	for src in "${accepted[@]}"; do
		if grep -q "^ksc: the kernel's verifier accepts $src:" <<<"$out"; then
			pass "verify --kernel $k: $(basename "$src" .ks) accepted"
		else
			fail "verify --kernel $k: $(basename "$src" .ks) accepted" "$out"
		fi
	done
done

out=$("$KSC" verify --kernel 5.4 tests/ebpf/progs/xdp_filter.ks 2>&1)
rc=$?
if ((rc == 1)) && [ "$(wc -l <<<"$out")" = 1 ] && grep -q "^ksc: error: --kernel 5.4: " <<<"$out"; then
	pass "verify --kernel 5.4: one error line"
else
	fail "verify --kernel 5.4: one error line" "exit $rc" "$out"
fi
