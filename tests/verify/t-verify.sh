#!/usr/bin/env bash
# ksc verify against the host kernel's verifier: every program of
# tests/verify/progs is accepted by ksc but rejected by the verifier; ksc
# verify must exit 1 with exactly the first line in NAME.expected (the .ks
# position and the reason in words) and leave nothing loaded.  Then the log
# parser on the logs of tests/verify/logs (shapes this host cannot print:
# 6.1's, 7.3's) and the object line info that stands in for a log's missing
# lines, and a valid program accepted.  See tests/verify/README.md.
source tests/lib.sh

dir=$(scratch verify)
cc -std=gnu17 -O2 -Wall -Wextra -Werror -Iruntime/verify -o "$dir/logparse" tests/verify/logparse.c \
	runtime/verify/verify_log.c runtime/verify/verify_lines.c -lbpf -lelf -lz || { fail "build logparse"; exit 1; }

# The first program of a .ks file.
first_fn() { sed -n 's/^@[a-z]*\(([^)]*)\)\{0,1\} *fn \([a-z_0-9]*\).*/\2/p' "$1" | head -1; }

# A log PROG-SERIES.log of tests/verify/progs/PROG.ks is also read with the
# object ksc builds from PROG.ks here, whose line info gives the failing
# instruction's line where the log names none (6.1's): its "object:" line.
for log in tests/verify/logs/*.log; do
	name=$(basename "$log" .log)
	src=tests/verify/progs/${name%-*}.ks
	obj=()
	if [ -e "$src" ]; then
		p=$(basename "$src" .ks)
		if ! "$KSC" -q compile "$src" -o "$dir/$p" >"$dir/$p.log" 2>&1 ||
			! make -s -C "$dir/$p" "$dir/$p/$p.ebpf.o" >>"$dir/$p.log" 2>&1; then
			fail "log $name: build $src" "$(cat "$dir/$p.log")"
			continue
		fi
		obj=("$dir/$p/$p.ebpf.o" "$(first_fn "$src")")
	fi
	if d=$(diff -u "${log%.log}.expected" <("$dir/logparse" "$log" "${obj[@]}")); then
		pass "log $name parsed"
	else
		fail "log $name parsed" "$d"
	fi
done

if [ "$(id -u)" != 0 ]; then
	skip verify "needs root to load BPF programs"
	exit 0
fi
command -v bpftool >/dev/null || { skip verify "no bpftool to list loaded programs"; exit 0; }

# Program ids loaded now, one a line.
prog_ids() { bpftool prog list 2>/dev/null | sed -n 's/^\([0-9]*\): .*/\1/p' | sort; }

for src in tests/verify/progs/*.ks; do
	name=$(basename "$src" .ks)
	want=$(cat "${src%.ks}.expected")
	before=$(prog_ids)
	out=$("$KSC" verify "$src" 2>&1)
	rc=$?
	after=$(prog_ids)
	if ((rc != 1)); then
		fail "verify $name: exit 1" "exit status $rc" "$out"
		continue
	fi
	check "verify $name: first line" "$want" "$(echo "$out" | head -1)"
	# Other programs may come and go meanwhile (other users); none of these may stay.
	left=$(comm -13 <(echo "$before") <(echo "$after") | while read -r id; do
		bpftool prog show id "$id" 2>/dev/null; done)
	stayed=""
	for fn in $(sed -n 's/^@[a-z]*\(([^)]*)\)\{0,1\} *fn \([a-z_0-9]*\).*/\2/p' "$src"); do
		echo "$left" | grep -q "name ${fn:0:15}\b" && stayed="$stayed $fn"
	done
	check "verify $name: nothing left loaded" "" "$stayed"
	# The same line from the object's line info alone, as on 6.1, whose log names no line.
	if grep -q "the kernel's verifier rejects this" "${src%.ks}.expected"; then
		check "verify $name: line from the object" "$want" \
			"$(KSC_VERIFY_IGNORE_LOG_LINES=1 "$KSC" verify "$src" 2>&1 | head -1)"
	fi
done

# Valid programs: accepted, exit 0.  tests/verify/accept holds what the
# compile-time checks must let through (allowed context writes, helpers of
# the program's own type, bounds checks on ctx's fields).
run_tool "verify xdp_filter: accepted" 0 "verifier accepts" "$KSC" verify tests/ebpf/progs/xdp_filter.ks
for src in tests/verify/accept/*.ks; do
	run_tool "verify $(basename "$src" .ks): accepted" 0 "verifier accepts" "$KSC" verify "$src"
done
