#!/usr/bin/env bash
# Module kfuncs, measured inside a Debian kernel booted by scripts/vmtest:
#
#  1. generated vs hand-written: ns per BPF_PROG_TEST_RUN of stats_xdp
#     from examples/kfunc_stats.ks (three kfunc calls) against the module
#     ksc builds from that file, then against tests/kmod/kfunc_stats_twin.c
#     (same kfuncs written by hand), one module loaded at a time.  The time
#     is the kernel's own `duration` over REPEAT runs in one call.
#  2. kfunc vs procfs: one counter read from userspace N times, through
#     the kfunc module_queries() of tests/ks/pass/kfunc_from_user.ks (its
#     generated syscall program run by BPF_PROG_TEST_RUN, as the generated
#     loader does), then from /proc/ksc_stats of the hand-written module
#     tests/kmod/procfs_stats.c, by pread and by open+read+close.
#
#   bench/kfunc-call.sh [SERIES...]   (default: 6.12 6.1)
#
# Each figure is the best of ROUNDS rounds, the modules of a comparison
# taking turns.  Environment: KSC_BENCH_REPEAT (XDP runs per call, default
# 1000000), KSC_BENCH_READS (reads per round, default 50000),
# KSC_BENCH_ROUNDS (default 5), KSC_VMTEST_ACCEL=kvm for KVM (default TCG:
# software emulation, so the ratios matter, not the nanoseconds).
# Where the headers have no vmlinux (6.1), kbuild gives the twin no BTF:
# it gets it as ksc's modules do, by pahole over the BTF of the kernel
# image and the kfunc library's id resolution (tests/kfunc/kfunc-tool).
# Prints numbers only; no figure is judged.  Exit status 0 when every
# kernel asked for was measured, 1 with a message when one could not be
# (no kernel, a build failure, a guest that did not finish, a run whose
# results show it did not reach the kfuncs).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/bench/out/kfunc-call
ksc=$top/ksc
repeat=${KSC_BENCH_REPEAT:-1000000}
reads=${KSC_BENCH_READS:-50000}
rounds=${KSC_BENCH_ROUNDS:-5}
kernels=("$@")
((${#kernels[@]})) || kernels=(6.12 6.1)

die() {
	echo "kfunc-call: $*" >&2
	exit 1
}
for n in "$repeat" "$reads" "$rounds"; do
	[[ $n =~ ^[1-9][0-9]*$ ]] || die "KSC_BENCH_REPEAT, _READS and _ROUNDS want whole numbers, got '$n'"
done
[ -x "$ksc" ] || die "no $ksc: run make first"
for tool in clang cc make qemu-system-x86_64; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
rm -rf "$out" && mkdir -p "$out"
cd "$top"

# Static guest tools: the guest has busybox and nothing else.
for t in tests/guest/bpfrun.c bench/readbench.c; do
	cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$out/$(basename "$t" .c)" "$t" \
		-lbpf -lelf -lz -lzstd 2>"$out/cc.log" || die "cannot build $t: $(head -3 "$out/cc.log")"
done

# ebpf_object SRC DIR: DIR/NAME.ebpf.o compiled by ksc and clang.
ebpf_object() {
	local name
	name=$(basename "$1" .ks)
	"$ksc" -q compile "$1" --only ebpf -o "$2/$name-bpf" >>"$2/build.log" 2>&1 &&
		clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c \
			"$2/$name-bpf/$name.ebpf.c" -o "$2/$name.ebpf.o" >>"$2/build.log" 2>&1
}

# twin_btf KO VMLINUZ DIR: what kbuild does for a module where the kernel
# tree has vmlinux: BTF over the kernel's, then the kfunc id sets resolved.
twin_btf() {
	local tool=$out/kfunc-tool
	if [ ! -x "$tool" ]; then
		cc -std=c17 -D_GNU_SOURCE -Icompiler/base -Ikfunc/btf -O2 -o "$tool" tests/kfunc/kfunc-tool.c \
			kfunc/btf/*.c compiler/base/util.c -lbpf -lelf -lz -llzma -lzstd -llz4 >>"$3/build.log" 2>&1 ||
			return 1
	fi
	"$tool" extract "$2" "$3/base.btf" >>"$3/build.log" 2>&1 &&
		"${PAHOLE:-pahole}" -J --btf_gen_floats -j --lang_exclude=rust --btf_base "$3/base.btf" \
			"$1" >>"$3/build.log" 2>&1 &&
		"$tool" resolve "$1" "$3/base.btf" >>"$3/build.log" 2>&1 &&
		"$tool" verify "$1" "$3/base.btf" ksc_stats_count ksc_stats_avg ksc_stats_scale \
			>>"$3/build.log" 2>&1
}

# build K: every artefact for kernel series K in $out/K, and its guest
# script; records the kernel image in vmlinuz[K].
declare -A vmlinuz
build() {
	local k=$1 d=$out/$1 kdir base src name image
	mkdir -p "$d/hand"
	if ! kdir=$(scripts/kernels kdir "$k" 2>"$d/err") ||
		! image=$(scripts/kernels vmlinuz "$k" 2>"$d/err"); then
		die "no kernel $k: $(cat "$d/err")"
	fi
	vmlinuz[$k]=$image
	base=
	[ -e "$kdir/vmlinux" ] || base=$image
	for src in examples/kfunc_stats.ks tests/ks/pass/kfunc_from_user.ks; do
		name=$(basename "$src" .ks)
		if ! "$ksc" -q kmod build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} \
			-o "$d/$name" >>"$d/build.log" 2>&1 || ! ebpf_object "$src" "$d"; then
			die "$k: cannot build $name (see $d/build.log)"
		fi
		cp "$d/$name/kmod/$name.ko" "$d/"
	done
	cp tests/kmod/Kbuild tests/kmod/kfunc_stats_twin.c tests/kmod/procfs_stats.c "$d/hand/"
	make -C "$kdir" M="$d/hand" modules >>"$d/build.log" 2>&1 ||
		die "$k: cannot build the hand-written modules (see $d/build.log)"
	if [ -n "$base" ] && ! twin_btf "$d/hand/kfunc_stats_twin.ko" "$image" "$d"; then
		die "$k: cannot give the twin BTF (see $d/build.log)"
	fi
	cp "$d/hand/kfunc_stats_twin.ko" "$d/hand/procfs_stats.ko" "$d/"
	guest_script >"$d/guest.sh"
}

# The guest script: "bench KEY NS ..." lines, then "bench done".  rmmod is
# retried: a finished program's hold on a module is dropped a moment after
# its last fd is closed.
guest_script() {
	cat <<EOF
unload() {
	for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		rmmod \$1 2>/dev/null && return 0
		sleep 0.2
	done
	echo "bench error cannot unload \$1"
}
xdp() {
	insmod /ksc/\$2.ko || { echo "bench error cannot load \$2"; return; }
	r=\$(/ksc/bpfrun /ksc/kfunc_stats.ebpf.o stats_xdp -s 100 -n $repeat --time -m results | tr '\n' ' ')
	echo "bench \$1 \$r"
	unload \$2
}
insmod /ksc/kfunc_from_user.ko || echo "bench error cannot load kfunc_from_user"
insmod /ksc/procfs_stats.ko || echo "bench error cannot load procfs_stats"
for round in $(seq -s ' ' "$rounds"); do
	echo "bench round \$round"
	xdp gen kfunc_stats
	xdp hand kfunc_stats_twin
	echo "bench kfunc \$(/ksc/readbench kfunc /ksc/kfunc_from_user.ebpf.o __ksc_call_module_queries $reads)"
	echo "bench pread \$(/ksc/readbench pread /proc/ksc_stats $reads)"
	echo "bench open \$(/ksc/readbench open /proc/ksc_stats $reads)"
done
unload kfunc_from_user
unload procfs_stats
echo "bench done"
EOF
}

# best KEY FIELD LOG: the smallest FIELD=X of KEY's lines, or nothing.
best() {
	sed -n "s/^bench $1 .*$2=\([0-9.]*\).*/\1/p" "$3" | sort -g | head -1
}

# row K LABEL NS BASE_NS: one table line.
row() {
	printf '%-6s %-50s %10.1f %7.2f\n' "$1" "$2" "$3" "$(echo "$3 / $4" | bc -l)"
}

for k in "${kernels[@]}"; do build "$k"; done
accel=${KSC_VMTEST_ACCEL:-tcg}
[ "$accel" = kvm ] || accel=tcg
echo "module kfuncs in a qemu guest ($accel), best of $rounds rounds;" \
	"XDP: $repeat runs per BPF_PROG_TEST_RUN, reads: $reads per round"
printf '%-6s %-50s %10s %7s\n' kernel measure ns/op ratio
status=0
for k in "${kernels[@]}"; do
	d=$out/$k
	adds=(--add "$out/bpfrun" --add "$out/readbench")
	for f in "$d"/*.ko "$d"/*.ebpf.o; do adds+=(--add "$f"); done
	scripts/vmtest --kernel "${vmlinuz[$k]}" --timeout 150 "${adds[@]}" "$d/guest.sh" 2>&1 |
		tr -d '\r' >"$d/console.log" || true
	log=$d/console.log
	if ! grep -qx 'bench done' "$log" || grep -q '^bench error' "$log"; then
		echo "kfunc-call: $k: the guest did not finish (see $log):" >&2
		grep '^bench error' "$log" >&2 || tail -5 "$log" | awk 1 >&2
		status=1
		continue
	fi
	# A run that did not reach the kfuncs is no measurement: stats_xdp
	# returns XDP_PASS with scale(21, 2) = 42 in results[2]; the counter
	# read N times moves by N - 1.
	bad=$(grep -E '^bench (gen|hand) ' "$log" | grep -v 'retval=2 .*results\[2\]=42' || true)
	bad+=$(grep -E '^bench (kfunc|pread|open) ' "$log" | awk '$3 !~ /^ns_per_read=/ { print; next }
		{ split($4, a, "="); split($5, b, "="); if (b[2] - a[2] != '"$reads"' - 1) print }')
	if [ -n "$bad" ]; then
		echo "kfunc-call: $k: unexpected results (see $log):" >&2
		echo "$bad" >&2
		status=1
		continue
	fi
	hand=$(best hand ns_per_run "$log")
	row "$k" "xdp stats_xdp, hand-written twin module" "$hand" "$hand"
	row "$k" "xdp stats_xdp, ksc's kfunc_stats.ko" "$(best gen ns_per_run "$log")" "$hand"
	kf=$(best kfunc ns_per_read "$log")
	row "$k" "counter read via kfunc (syscall program)" "$kf" "$kf"
	row "$k" "counter read via /proc/ksc_stats, pread" "$(best pread ns_per_read "$log")" "$kf"
	row "$k" "counter read via /proc/ksc_stats, open+read+close" "$(best open ns_per_read "$log")" "$kf"
done
echo "ratio: ns per operation relative to the first line of its group" \
	"(hand-written module; kfunc read)"
exit "$status"
