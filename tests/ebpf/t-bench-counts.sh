#!/usr/bin/env bash
# Pins the eBPF the bench measures (bench/run, docs/bench.md): each bench
# program ksc compiles is at most 5% more static instructions than its
# hand-written twin, and, where it runs on packets, returns the same
# verdicts and leaves the same maps as the twin.  Counts, never times.
source tests/lib.sh

out=$(scratch bench-counts)
top=$KSC_TOP
source bench/lib.sh
bench_tools || { fail "build bpfstat and bpfrun"; exit 1; }
root=$([ "$(id -u)" = 0 ] && need_bpffs && echo yes)

# The first one alone, for the precompiled vmlinux.h the others use (clang
# reading vmlinux.h is most of the time); they are built two at a time,
# then checked in order.
first=$(bench_names | head -1)
{ bench_build "$first" >"$out/$first.log" 2>&1 && bench_pch_make "$first"; echo $? >"$out/$first.rc"; }
for n in $(bench_names | tail -n +2); do
	(($(jobs -rp | wc -l) < 2)) || wait -n
	{ bench_build "$n" >"$out/$n.log" 2>&1; echo $? >"$out/$n.rc"; } &
done
wait
for n in $(bench_names); do
	if [ "$(cat "$out/$n.rc")" != 0 ]; then
		fail "build $n" "$(cat "$out/$n.log")"
		continue
	fi
	ks=$(field "$("$out/bpfstat" -s "$out/ks/$n/$n.ebpf.o")" static)
	tw=$(field "$("$out/bpfstat" -s "$out/twin/$n.bpf.o")" static)
	if ((ks * 100 <= tw * 105)); then
		pass "$n: $ks instructions, twin $tw"
	else
		fail "$n: $ks instructions, over 1.05 x twin's $tw"
	fi
	[ -n "$(bench_marker "$n" run)" ] || continue
	if [ -z "$root" ]; then
		skip "$n verdicts" "needs root to run BPF programs"
		continue
	fi
	check "$n: same verdicts and maps as the twin" \
		"$(bench_verdicts "$out/twin/$n.bpf.o" "$n")" "$(bench_verdicts "$out/ks/$n/$n.ebpf.o" "$n")"
done
