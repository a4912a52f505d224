# What bench/run and tests/ebpf/t-bench-counts.sh share: building each
# bench program with ksc and its hand-written twin with the same clang and
# flags, their sizes (bench/bpfstat.c), and their verdicts on the same
# packets (tests/guest/bpfrun.c).  Sourced with $top the checkout and
# $out a scratch directory.

# bench_tools: bpfstat and bpfrun under $out.
bench_tools() {
	cc -std=gnu17 -O2 -Wall -Wextra -Werror -Wno-unused-parameter -o "$out/bpfstat" \
		"$top/bench/bpfstat.c" -lbpf -lelf -lz &&
		cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$out/bpfrun" "$top/tests/guest/bpfrun.c" \
			-lbpf -lelf -lz
}

# bench_names: every bench program, by name.
bench_names() {
	local f
	for f in "$top"/bench/progs/*.ks; do basename "$f" .ks; done
}

# bench_full_header: $out/full/vmlinux.h, the whole of the running
# kernel's BTF as C (bpftool), which is what a hand-written program
# includes; ksc's own trees hold only the types their program uses.
bench_full_header() {
	[ -s "$out/full/vmlinux.h" ] && return 0
	mkdir -p "$out/full"
	bpftool btf dump file /sys/kernel/btf/vmlinux format c >"$out/full/vmlinux.h.tmp" &&
		mv "$out/full/vmlinux.h.tmp" "$out/full/vmlinux.h"
}

# bench_build NAME: $out/ks/NAME/NAME.ebpf.o through the Makefile ksc
# writes, and $out/twin/NAME.bpf.o by the very command that Makefile runs
# (its clang and flags), with the whole kernel's vmlinux.h
# (bench_full_header) in place of the tree's.  With $bench_pch set
# (bench_pch_make), the twin reads that header precompiled: the same code,
# in a fraction of the time, for the test.
bench_build() {
	local n=$1 tree=$out/ks/$1 cmd hdr
	mkdir -p "$out/ks" "$out/twin"
	"$KSC" -q compile "$top/bench/progs/$n.ks" -o "$tree" || return 1
	cmd=$(make -s -n -B -C "$tree" "$tree/$n.ebpf.o" | grep -- '-target bpf') || return 1
	make -s -C "$tree" "$tree/$n.ebpf.o" || return 1
	bench_full_header || return 1
	# Included first, its guard keeps the tree's own vmlinux.h out.
	hdr=(-include "$out/full/vmlinux.h")
	[ -n "${bench_pch:-}" ] && hdr=(-include-pch "$bench_pch")
	${cmd% -c *} "${hdr[@]}" -I"$top/bench/twins" \
		-c "$top/bench/twins/$n.bpf.c" -o "$out/twin/$n.bpf.o"
}

# bench_pch_make NAME: after bench_build NAME, the whole vmlinux.h
# precompiled with the flags NAME's tree compiles with, as $bench_pch.
bench_pch_make() {
	local tree=$out/ks/$1 cmd
	cmd=$(make -s -n -B -C "$tree" "$tree/$1.ebpf.o" | grep -- '-target bpf') || return 1
	${cmd% -c *} -x c-header "$out/full/vmlinux.h" -o "$out/full/vmlinux.h.pch" &&
		bench_pch=$out/full/vmlinux.h.pch
}

# bench_marker NAME KEY: what the program's `// bench-KEY: ...` line says.
bench_marker() {
	sed -n "s|^// bench-$2: ||p" "$top/bench/progs/$1.ks"
}

# bench_stats OBJ NAME: bpfstat's line; static counts only for programs
# marked bench-static, or when not root.
bench_stats() {
	if [ -n "$(bench_marker "$2" static)" ] || [ "$(id -u)" != 0 ]; then
		"$out/bpfstat" -s "$1"
	else
		"$out/bpfstat" "$1"
	fi
}

# field LINE KEY: KEY's value in a bpfstat line.
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

# The test packets, in hex: Ethernet + IPv4 + TCP/UDP, and the cases that
# take other paths (other ethertypes, TTL 1, header options, truncation;
# not below the 14 bytes of an Ethernet header, which test runs refuse).
bench_packets() {
	local eth="000000000002000000000001"
	local tcp_syn="0000000050020000" ipsd="00000a0000010a000002"
	cat <<-EOF
		${eth}0800 45000028000000004006${ipsd} 04d20016 00000000 ${tcp_syn}0000 0000
		${eth}0800 45000028000000004006${ipsd} 04d20050 00000000 ${tcp_syn}0000 0000
		${eth}0800 45000028000000004006${ipsd} 04d20016 00000000 0000000050100000 0000 0000
		${eth}0800 46000028000000004006${ipsd} 01010101 04d20016 00000000 ${tcp_syn}0000 0000
		${eth}0800 45000028000000000106${ipsd} 04d20016 00000000 ${tcp_syn}0000 0000
		${eth}0800 45000028000000004011${ipsd} 14e90035 00080000
		${eth}0800 45000028000000004011${ipsd} 14e914e9 00080000
		${eth}0800 45000028000000004011${ipsd} 14e90000 00080000
		${eth}0800 45000028000000004011${ipsd} 14e9
		${eth}0800 45000028000000000101${ipsd} 08000000
		${eth}0800 450000280000
		${eth}0806 0001080006040001
		${eth}86dd 6000000000000000
	EOF
}

# bench_verdicts OBJ NAME: retvals and every map's contents after running
# the packets through the program named by `// bench-run:`, sorted (hash
# maps iterate in no fixed order).
bench_verdicts() {
	local prog args=() m p
	prog=$(bench_marker "$2" run)
	for m in $(sed -n 's/^var \([A-Za-z_0-9]*\) *: *ringbuf.*/\1/p' "$top/bench/progs/$2.ks"); do
		args+=(--ringbuf "$m")
	done
	for m in $(sed -n '/ringbuf/!s/^var \([A-Za-z_0-9]*\) *:.*/\1/p' "$top/bench/progs/$2.ks"); do
		args+=(-m "$m")
	done
	while read -r p; do args+=(--data "${p// /}"); done < <(bench_packets)
	{ "$out/bpfrun" "$1" "$prog" "${args[@]}" 2>&1 || echo "bpfrun exit $?"; } | grep -v '^;' | sort
}
