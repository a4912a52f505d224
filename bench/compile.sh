#!/usr/bin/env bash
# bench/compile.sh: how long `ksc compile` takes, as a markdown section on
# stdout (bench/run appends it to bench/results.md; docs/bench.md).
#  - the reference's 43 examples (examples/*.ks of the local snapshot of
#    multikernel/kernelscript, KSC_REFERENCE_REPO), all in one timed loop;
#  - bench/gen-program.sh's programs of 1k, 10k, 100k and 200k lines, best
#    of 3 runs each, with the time per line and its ratio to the 10k one's.
# Times are wall clock on whatever else the machine runs: read the ratios.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${BENCH_OUT:-$top/bench/out}/compile
KSC=${KSC:-$top/ksc}
repo=${KSC_REFERENCE_REPO:-/work/.mirror/multikernel+kernelscript/repo}
rm -rf "$out" && mkdir -p "$out"

now() { date +%s.%N; }
calc() { echo "$1" | bc -l; }

# best_of3 FILE: the shortest of three `ksc compile FILE` runs, in seconds.
best_of3() {
	local best="" t0 t
	for _ in 1 2 3; do
		rm -rf "$out/tree"
		t0=$(now)
		"$KSC" -q compile "$1" -o "$out/tree" >/dev/null 2>&1 || return 1
		t=$(calc "$(now) - $t0")
		if [ -z "$best" ] || (($(calc "$t < $best"))); then best=$t; fi
	done
	echo "$best"
}

examples() {
	local n=0 ok=0 t0 t f
	git -C "$repo" rev-parse -q --verify HEAD >/dev/null 2>&1 ||
		{ echo "No snapshot of multikernel/kernelscript at $repo: examples not timed."; return; }
	git -C "$repo" archive HEAD examples | tar -x -C "$out"
	t0=$(now)
	for f in "$out"/examples/*.ks; do
		n=$((n + 1))
		"$KSC" -q compile "$f" -o "$out/ex/$(basename "$f" .ks)" >/dev/null 2>&1 && ok=$((ok + 1))
	done
	t=$(calc "$(now) - $t0")
	echo "The reference's examples ($(git -C "$repo" describe --tags --always 2>/dev/null)): $n programs, $ok compiled (the others are refused"
	echo "with a diagnostic), one \`ksc compile\` each, one after the other:"
	echo
	echo "| programs | compiled | seconds, all | ms per program |"
	echo "|---|---|---|---|"
	printf '| %d | %d | %.3f | %.1f |\n' "$n" "$ok" "$t" "$(calc "$t * 1000 / $n")"
}

generated() {
	local n f lines t per base=""
	echo "| lines | seconds | µs per line | ratio to 10k | decl-visits per line |"
	echo "|---|---|---|---|---|"
	for n in 1000 10000 100000 200000; do
		f=$out/gen-$n.ks
		"$top/bench/gen-program.sh" "$n" >"$f"
		lines=$(wc -l <"$f")
		t=$(best_of3 "$f") || { echo "bench/compile.sh: gen-$n does not compile" >&2; exit 1; }
		per=$(calc "$t * 1000000 / $lines")
		[ "$n" = 10000 ] && base=$per
		rm -rf "$out/tree"
		visits=$(KSC_STATS=1 "$KSC" -q compile "$f" -o "$out/tree" 2>&1 |
			sed -n 's/^ksc-stats: decl-visits \([0-9]*\).*/\1/p')
		printf '| %d | %.3f | %.1f | %s | %.2f |\n' "$lines" "$t" "$per" \
			"$([ -n "$base" ] && printf '%.2f' "$(calc "$per / $base")" || echo -)" \
			"$(calc "$visits / $lines")"
	done
}

echo "## ksc compile: time"
echo
examples
echo
echo "Generated programs (bench/gen-program.sh: structs, helpers, kfuncs and XDP programs,"
echo "each tail-calling the one before), best of 3 runs; the whole \`ksc compile\`, BTF"
echo "loading and tree writing included:"
echo
generated
