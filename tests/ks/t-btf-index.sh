#!/usr/bin/env bash
# What a compile asks of the kernel's BTF costs a few name comparisons a
# question, not a walk of its 100000 types: pinned by counts, never by
# time (KSC_STATS=1, compiler/front/btf_names.c).
#  - btf-name-compares: BTF names compared with one asked for.  Every name
#    of the program, every identifier of NAME.ebpf.c and every kernel type,
#    enumerator and kfunc it uses is a question; a handful of programs
#    asks a few hundred.  One libbpf btf__find_by_name_kind() compares
#    every type of its kind (tens of thousands on this BTF), which is what
#    ksc did per kernel type before (and per enumerator, walking them all).
#  - btf-names-hashed: the index is built once a compile, of the names of
#    the BTF: the same count for a small program and for one of 5000 lines.
source tests/lib.sh
dir=$(scratch btf-index)

# stats FILE: "names-hashed name-compares" of one `ksc compile FILE`.
stats() {
	rm -rf "$dir/out"
	KSC_STATS=1 "$KSC" -q compile "$1" -o "$dir/out" 2>&1 |
		sed -n 's/^ksc-stats: btf-names-hashed \([0-9]*\) btf-name-compares \([0-9]*\)$/\1 \2/p'
}

"$KSC_TOP/bench/gen-program.sh" 5000 >"$dir/g5000.ks"
hashed=""
for f in tests/ks/pass/kernel_types_probe.ks tests/ks/pass/struct_ops_reno_lite.ks \
	tests/ks/pass/extern_kfuncs.ks tests/ks/pass/safety_patterns.ks "$dir/g5000.ks"; do
	name=$(basename "$f")
	read -r h c < <(stats "$f")
	if [ -z "${h:-}" ]; then
		fail "$name: KSC_STATS prints the BTF counts"
		continue
	fi
	# The generated program asks tens of thousands of questions: its bound is per line.
	bound=1000
	[ "$name" = g5000.ks ] && bound=$((5 * $(wc -l <"$f")))
	if ((c <= bound)); then pass "$name: $c BTF name comparisons (<= $bound)"; else
		fail "$name: BTF name comparisons at most $bound" "$c"; fi
	if [ -z "$hashed" ]; then
		hashed=$h
		if ((h > 0)); then pass "$name: the index holds $h names"; else
			fail "$name: the BTF's names are indexed" "$h"; fi
	else
		check "$name: the index is built once, the same ($hashed names)" "$hashed" "$h"
	fi
done
