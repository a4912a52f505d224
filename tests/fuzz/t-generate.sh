#!/usr/bin/env bash
# Accepted means it builds: every program of the front-end fuzz corpus that
# `ksc check` accepts (the seeds, then what tests/fuzz/t-fuzz.sh's run left in
# $KSC_TEST_OUT/fuzz/corpus/front, or KSC_GEN_CORPUS; at most KSC_GEN_MAX, default 80,
# accepted programs, KSC_JOBS at a time) is compiled with ksc-asan, and
#   - its eBPF C builds: clang -target bpf -Wall -Werror (the generated
#     Makefile's NAME.ebpf.o), and its skeleton with bpftool;
#   - its loader compiles: cc -Wall -Wextra -Werror -c NAME.c ksc_loader.c;
#   - its module C builds with kbuild against the 6.12 headers
#     (scripts/kernels kdir 6.12; make -C KDIR M=DIR modules KCFLAGS=-Werror),
#     for at most KSC_GEN_KMOD (default 4) programs with module code; the
#     rest are counted, not built.
# The loader runtime (ksc_loader.c, the same in every tree) is compiled once.
# About 1.3 s of CPU per program: 200 programs take 2-3 minutes on 2 idle
# cores.
# Each program that is accepted but fails a step is listed with the step and
# the first lines of its errors.  Programs whose struct_ops type only a
# header declares, and the host's BTF lacks (accepted with a warning, for
# another kernel), are counted apart.
source tests/lib.sh
dir=$(scratch fuzz-generate)
max=${KSC_GEN_MAX:-80} kmax=${KSC_GEN_KMOD:-4} jobs=${KSC_JOBS:-2}
corpus=${KSC_GEN_CORPUS:-$KSC_TEST_OUT/fuzz/corpus/front}
clang_bpf=$(tag_clang)
: "${clang_bpf:=clang}"
export KSC KSC_ASAN clang_bpf

if ! out=$(TMPDIR=$dir tests/fuzz/seeds "$dir/seeds" 2>&1); then
	fail "seed corpora" "$out"
	exit 0
fi
# Seeds first, then the fuzzer's corpus, one copy of each content; the
# ones `ksc check` accepts, up to $max.
declare -A seen
progs=() n=0 foreign=0
for f in "$dir/seeds/front"/*.ks "$corpus"/*; do
	((${#progs[@]} >= max)) && break
	[ -f "$f" ] || continue
	h=$(sha1sum <"$f" | cut -c1-40)
	[ -n "${seen[$h]:-}" ] && continue
	seen[$h]=1
	n=$((n + 1))
	w=$dir/p$n
	mkdir -p "$w"
	# Each program is p.ks in a directory of its own (NAME = p): corpus
	# file names are hashes, and a seed's imports are not beside it.
	cp "$f" "$w/p.ks"
	echo "$f" >"$w/from"
	if ! timeout 20 "$KSC" check "$w/p.ks" >"$w/check.log" 2>&1; then
		rm -rf "$w"
	elif grep -q 'has no struct .*: its methods are not checked against the kernel' "$w/check.log"; then
		# A struct_ops type the host's BTF lacks (sched_ext_ops here): the
		# program is for another kernel, and vmlinux.h here cannot build it.
		foreign=$((foreign + 1))
		rm -rf "$w"
	else
		progs+=("$w")
	fi
done

# gen W: compiles W/p.ks and builds what it generates, but the module;
# writes W/result: "ok", "kmod" (has module code) or "broken: STEP: ERRORS".
gen() {
	local w=$1 o=$1/out r rt
	first() { grep -m3 -iE 'error|warning|undefined' "$1" | cut -c1-240 | paste -sd'|'; }
	r=ok
	if ! timeout 120 "$KSC_ASAN" compile "$w/p.ks" -o "$o" >"$w/compile.log" 2>&1 ||
		grep -qE 'Sanitizer|runtime error' "$w/compile.log"; then
		r="broken: ksc compile: $(head -c 300 "$w/compile.log" | paste -sd'|')"
	elif [ -f "$o/p.ebpf.c" ] &&
		! make -s -C "$o" CLANG="$clang_bpf" "$o/p.ebpf.o" >"$w/ebpf.log" 2>&1; then
		r="broken: eBPF C (clang -target bpf -Wall -Werror): $(first "$w/ebpf.log")"
	elif [ -f "$o/p.ebpf.c" ] &&
		! make -s -C "$o" CLANG="$clang_bpf" "$o/p.skel.h" >"$w/skel.log" 2>&1; then
		r="broken: skeleton (bpftool gen skeleton): $(first "$w/skel.log")"
	elif [ -f "$o/p.c" ] &&
		! cc -O2 -Wall -Wextra -Werror -I"$o" -c "$o/p.c" -o "$w/p.o" >"$w/user.log" 2>&1; then
		r="broken: loader (cc -Wall -Wextra -Werror -c p.c): $(first "$w/user.log")"
	elif [ -f "$o/ksc_loader.c" ] && rt=$(cat "$o/ksc_loader.c" "$o/ksc_loader.h" | sha1sum | cut -c1-40) &&
		! [ -e "$dir/runtime-ok-$rt" ] &&
		! { cc -O2 -Wall -Wextra -Werror -I"$o" -c "$o/ksc_loader.c" -o "$w/l.o" >"$w/rt.log" 2>&1 &&
			touch "$dir/runtime-ok-$rt"; }; then
		r="broken: loader runtime (ksc_loader.c): $(first "$w/rt.log")"
	elif [ -d "$o/kmod" ]; then
		r=kmod
	fi
	echo "$r" >"$w/result"
}
for w in "${progs[@]}"; do
	while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
	gen "$w" &
done
wait

# src W: W/p.ks on one line (newlines as " \\n "), for the report: a
# fuzzer's corpus is gone with the machine that ran it.
src() { printf 'source: '; head -c 900 "$1/p.ks" | sed 's/$/ \\n/' | tr -d '\n' | tr -c '[:print:]' '?'; echo; }
kdir=$(scripts/kernels kdir 6.12 2>/dev/null) || kdir=
[ -d "$kdir" ] || kdir=
broken=() nbroken=0 kmods=() kskipped=0
for w in "${progs[@]}"; do
	r=$(cat "$w/result" 2>/dev/null || echo "broken: no result")
	case $r in
	broken:*) broken+=("$(cat "$w/from"): ${r#broken: } (logs: $w)" "$(src "$w")") nbroken=$((nbroken + 1)) ;;
	kmod) if [ -n "$kdir" ] && ((${#kmods[@]} < kmax)); then kmods+=("$w"); else kskipped=$((kskipped + 1)); fi ;;
	esac
done
kbuild() {
	if make -C "$kdir" M="$1/out/kmod" KCFLAGS=-Werror modules >"$1/kmod.log" 2>&1; then
		echo ok >"$1/kresult"
	else
		echo "module C (kbuild 6.12, KCFLAGS=-Werror): $(grep -m3 -E 'error|warning|undefined' "$1/kmod.log" | cut -c1-240 | paste -sd'|')" >"$1/kresult"
	fi
}
for w in "${kmods[@]}"; do
	while (($(jobs -rp | wc -l) >= jobs)); do wait -n; done
	kbuild "$w" &
done
wait
for w in "${kmods[@]}"; do
	r=$(cat "$w/kresult" 2>/dev/null || echo "module C: no result")
	[ "$r" = ok ] && continue
	broken+=("$(cat "$w/from"): $r (logs: $w)" "$(src "$w")")
	nbroken=$((nbroken + 1))
done

accepted=${#progs[@]}
if ((accepted < 20)); then
	fail "generated code builds" "only $accepted accepted programs"
elif ((${#broken[@]})); then
	fail "generated code of $accepted accepted programs builds ($nbroken broken)" "${broken[@]}"
else
	pass "generated code of $accepted accepted programs builds (eBPF C, skeleton, loader; ${#kmods[@]} modules)"
fi
((foreign)) && echo "# $foreign accepted programs not built: their struct_ops type is not in this kernel's BTF"
if [ -z "$kdir" ]; then
	skip "module C of accepted programs" "no 6.12 headers (scripts/kernels kdir 6.12); $kskipped modules not built"
elif ((kskipped)); then
	echo "# $kskipped more programs with module code not built (KSC_GEN_KMOD=$kmax)"
fi
