#!/usr/bin/env bash
# ksc check on generated programs of growing size: time per run and the
# ratio to the smallest, to show time grows linearly with size.
# Prints numbers only; nothing here passes or fails.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/bench/out
mkdir -p "$out"
ksc=$top/ksc
# Kernel headers come from ksc itself; the program needs no BTF.
printf '%8s %10s %12s %8s\n' lines seconds lines/sec ratio
base=""
for n in 2500 5000 10000 20000 40000; do
	f=$out/gen-$n.ks
	"$top/bench/gen-program.sh" "$n" >"$f"
	lines=$(wc -l <"$f")
	"$ksc" check "$f" >/dev/null 2>&1 || { echo "generated program $n does not check" >&2; exit 1; }
	best=""
	for _ in 1 2 3; do
		t0=$(date +%s.%N)
		"$ksc" check "$f" >/dev/null 2>&1
		t1=$(date +%s.%N)
		t=$(echo "$t1 - $t0" | bc -l)
		if [ -z "$best" ] || (($(echo "$t < $best" | bc -l))); then best=$t; fi
	done
	[ -n "$base" ] || base=$(echo "$best / $lines" | bc -l)
	printf '%8d %10.4f %12.0f %8.2f\n' "$lines" "$best" "$(echo "$lines / $best" | bc -l)" \
		"$(echo "($best / $lines) / $base" | bc -l)"
done
echo "ratio: seconds per line relative to the smallest program (1.00 = linear)"
