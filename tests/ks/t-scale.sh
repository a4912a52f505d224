#!/usr/bin/env bash
# ksc's passes are linear in the program: no pass walks the whole program
# once per program, per function or per kfunc.  Pinned by counts, never by
# time: KSC_STATS=1 makes ksc print how many declaration-list steps its
# walks took (decl-visits) and how many elements its linear searches of
# vectors looked at (vec-scans).  On bench/gen-program.sh's programs (many
# structs, helpers, kfuncs and programs, each tail-calling the one before)
# of 5k, 10k and 20k lines, each count per line may grow by at most 5%
# from one size to the next, for `ksc check` and for `ksc compile`: a
# quadratic pass doubles it.  docs/bench.md has the timings.
source tests/lib.sh
dir=$(scratch scale)

# stats CMD FILE: "decl-visits vec-scans" of one run.
stats() {
	local out
	if [ "$1" = compile ]; then
		rm -rf "$dir/out"
		out=$(KSC_STATS=1 "$KSC" -q compile "$2" -o "$dir/out" 2>&1)
	else
		out=$(KSC_STATS=1 "$KSC" check "$2" 2>&1)
	fi
	echo "$out" | sed -n 's/^ksc-stats: decl-visits \([0-9]*\) vec-scans \([0-9]*\)$/\1 \2/p'
}

# linear NAME W1 L1 W2 L2: W2/L2 is at most 1.05 * W1/L1 (a count per line).
linear() {
	if (($2 > 0 && $4 * $3 * 100 <= $2 * $5 * 105)); then
		pass "$1"
	else
		fail "$1" "$2 at $3 lines, $4 at $5 lines: $(echo "scale=2; ($4 * $3) / ($2 * $5)" | bc)x per line"
	fi
}

for n in 5000 10000 20000; do
	"$KSC_TOP/bench/gen-program.sh" "$n" >"$dir/g$n.ks"
	lines[n]=$(wc -l <"$dir/g$n.ks")
done
for cmd in check compile; do
	prev=""
	for n in 5000 10000 20000; do
		read -r dv vs < <(stats "$cmd" "$dir/g$n.ks")
		if [ -z "${dv:-}" ]; then
			fail "$cmd $n: KSC_STATS prints the counts" "$(KSC_STATS=1 "$KSC" check "$dir/g$n.ks" 2>&1 | tail -3)"
			continue 2
		fi
		if [ -n "$prev" ]; then
			read -r pdv pvs pn <<<"$prev"
			linear "$cmd: decl-visits per line, $pn to $n lines" "$pdv" "${lines[pn]}" "$dv" "${lines[n]}"
			# A handful of scans per program is no trend: only a growing count is checked.
			linear "$cmd: vec-scans per line, $pn to $n lines" "$((pvs + 100))" "${lines[pn]}" "$vs" "${lines[n]}"
		fi
		prev="$dv $vs $n"
	done
done
