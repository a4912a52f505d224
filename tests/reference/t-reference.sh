#!/usr/bin/env bash
# Language parity on the reference compiler's own tests: the KernelScript
# programs embedded in the tests/*.ml of KernelScript 0.1.1 (a local
# snapshot of multikernel/kernelscript, never committed here), pulled out by
# extract.py with the outcome each test expects, go through `ksc check`;
# each one accepted goes through `ksc compile` and its eBPF C through clang
# -target bpf -Wall -Werror (the generated Makefile's NAME.ebpf.o).
# expected.txt holds, per program, the reference's expected verdict, ksc's,
# and for each departure a category and a one-line reason.  Fails on:
#   - a program whose verdict (either side) differs from expected.txt, or
#     one missing from it or from the snapshot;
#   - a departure without a reason, or one still marked "ksc gap";
#   - a rejection whose first error has no file:line:col position;
#   - an accepted program that ksc compile fails on or whose eBPF C does
#     not build (but those whose struct_ops type the host's BTF lacks,
#     accepted with a warning for another kernel: counted apart).
# KSC_JOBS programs at a time (default 2).  KSC_REFERENCE_UPDATE=1 rewrites
# expected.txt's verdicts from this run, keeping the reasons (review the
# diff).  docs/reference-tests.md explains the categories.
source tests/lib.sh

reference_repo reference || exit 0
dir=$(scratch reference)
expected=$KSC_TOP/tests/reference/expected.txt
git -C "$repo" archive HEAD tests | tar -x -C "$dir"
if ! out=$(python3 tests/reference/extract.py "$dir/tests" "$dir/p" 2>&1); then
	fail "extract the programs of the reference's tests" "$out"
	exit 0
fi
clang_bpf=$(tag_clang)
: "${clang_bpf:=clang}"

# run N: W=$dir/p/N: W/result is accept, reject, or "broken: WHY"
# (accepted and then not built, or rejected with no position, or a crash).
# `ksc compile` runs the checker first, so an accepted program costs one
# run of ksc (loading the kernel's BTF is most of it); `ksc check` runs
# when compile fails, and must fail the same way.
# Many of the reference's test programs are one shape with other names, so
# their eBPF C (and its vmlinux.h) is often byte for byte another's: built
# once, by content.
ebpf_key() { cat "$1/p.ebpf.c" "$1/vmlinux.h" "$1/Makefile" 2>/dev/null | sha1sum | cut -c1-40; }
built_before() { [ -e "$dir/built/$(ebpf_key "$1")" ]; }
mkdir -p "$dir/built"

run() {
	local w=$dir/p/$1 rc first
	cd "$w" || return
	if timeout 60 "$KSC" compile p.ks -o out >compile.log 2>&1; then
		if grep -q 'has no struct .*: its methods are not checked against the kernel' compile.log; then
			# A struct_ops type this host's BTF lacks: for another
			# kernel, whose vmlinux.h this one cannot stand in for.
			echo "accept foreign" >result
		elif [ -f out/p.ebpf.c ] && ! built_before "$w/out" &&
			! make -s -C out CLANG="$clang_bpf" "$w/out/p.ebpf.o" >ebpf.log 2>&1; then
			echo "broken: eBPF C: $(grep -m2 'error' ebpf.log | cut -c1-200 | paste -sd'|')" >result
		else
			[ -f out/p.ebpf.o ] && touch "$dir/built/$(ebpf_key "$w/out")"
			echo accept >result
		fi
		return
	fi
	timeout 20 "$KSC" check p.ks >check.log 2>&1
	rc=$?
	first=$(grep -m1 -E ': (error|fatal)' check.log | cut -c1-200)
	if ((rc == 0)); then
		echo "broken: ksc check accepts, ksc compile fails: $(head -c 200 compile.log | paste -sd'|')" >result
	elif ((rc != 1)); then
		echo "broken: ksc check exit status $rc: $(tail -c 200 check.log | paste -sd'|')" >result
	elif ! grep -qE '^p\.ks:[0-9]+:[0-9]+: error: ' check.log; then
		echo "broken: rejected without a position: $first" >result
	else
		echo reject >result
	fi
}
# Each distinct program once: some tests share a program.
declare -A first_of
while IFS=$'\t' read -r _ _ n; do
	h=$(sha1sum <"$dir/p/$n/p.ks" | cut -c1-40)
	if [ -n "${first_of[$h]:-}" ]; then
		echo "${first_of[$h]}" >"$dir/p/$n/same"
		continue
	fi
	first_of[$h]=$n
	while (($(jobs -rp | wc -l) >= ${KSC_JOBS:-2})); do wait -n; done
	run "$n" </dev/null &
done <"$dir/p/manifest"
wait
for f in "$dir"/p/*/same; do
	[ -e "$f" ] && cp "$dir/p/$(cat "$f")/result" "$(dirname "$f")/result"
done

# The run, one line per program: ID REF KSC, KSC the verdict only.
declare -A ref ksc
broken=() foreign=0 ids=()
while IFS=$'\t' read -r id want n; do
	r=$(cat "$dir/p/$n/result" 2>/dev/null || echo "broken: no result")
	case $r in
	broken:*)
		broken+=("$id ($dir/p/$n/p.ks): ${r#broken: }")
		r=${r#broken: }
		case $r in rejected*) r=reject ;; *) r=accept ;; esac
		;;
	"accept foreign") foreign=$((foreign + 1)) r=accept ;;
	esac
	ids+=("$id") ref[$id]=$want ksc[$id]=$r
done <"$dir/p/manifest"

# expected.txt: "ID<TAB>REF<TAB>KSC[<TAB>CATEGORY: REASON]", '#' comments.
declare -A eref eksc enote
while IFS=$'\t' read -r id r k note; do
	[[ -z $id || $id == \#* ]] && continue
	eref[$id]=$r eksc[$id]=$k enote[$id]=${note:-}
done <"$expected"

if [ "${KSC_REFERENCE_UPDATE:-}" = 1 ]; then
	{
		sed -n '/^#/p' "$expected"
		for id in "${ids[@]}"; do
			note=${enote[$id]:-}
			[ "${ref[$id]}" = "${ksc[$id]}" ] && note=
			[ "${ref[$id]}" != "${ksc[$id]}" ] && [ -z "$note" ] && note="TODO: reason"
			printf '%s\t%s\t%s%s\n' "$id" "${ref[$id]}" "${ksc[$id]}" "${note:+	$note}"
		done
	} >"$expected.new" && mv "$expected.new" "$expected"
	echo "# rewrote $expected"
fi

changed=() unexplained=() gaps=()
declare -A seen
for id in "${ids[@]}"; do
	seen[$id]=1
	if [ -z "${eref[$id]:-}" ]; then
		changed+=("$id: new program (reference ${ref[$id]}, ksc ${ksc[$id]})")
	elif [ "${eref[$id]} ${eksc[$id]}" != "${ref[$id]} ${ksc[$id]}" ]; then
		changed+=("$id: expected reference ${eref[$id]}, ksc ${eksc[$id]}; got reference ${ref[$id]}, ksc ${ksc[$id]}")
	elif [ "${ref[$id]}" != "${ksc[$id]}" ]; then
		case ${enote[$id]} in
		"ksc gap"*) gaps+=("$id: ${enote[$id]}") ;;
		*:?*) ;;
		*) unexplained+=("$id: ${ref[$id]} by the reference, ${ksc[$id]} by ksc") ;;
		esac
	fi
done
for id in "${!eref[@]}"; do
	[ -n "${seen[$id]:-}" ] || changed+=("$id: in expected.txt, not in the snapshot")
done

n=${#ids[@]}
if ((n < 800)); then
	fail "programs extracted from the reference's tests" "only $n (expected about 880)"
else
	pass "$n programs extracted from the reference's tests"
fi
if ((${#changed[@]})); then
	fail "verdicts as in tests/reference/expected.txt (${#changed[@]} differ)" "${changed[@]}"
else
	pass "verdicts of $n programs as in tests/reference/expected.txt"
fi
if ((${#unexplained[@]} + ${#gaps[@]})); then
	fail "every departure from the reference explained, no ksc gap" "${unexplained[@]}" "${gaps[@]}"
else
	pass "every departure from the reference explained, no ksc gap"
fi
if ((${#broken[@]})); then
	fail "accepted programs build, rejections are positioned (${#broken[@]} not)" "${broken[@]}"
else
	pass "every accepted program's eBPF C builds, every rejection is positioned"
fi

# The counts, for README.md's reference-examples section.
ra=0 rr=0 both_a=0 both_r=0
for id in "${ids[@]}"; do
	case "${ref[$id]} ${ksc[$id]}" in
	"accept accept") ra=$((ra + 1)) both_a=$((both_a + 1)) ;;
	"accept reject") ra=$((ra + 1)) ;;
	"reject reject") rr=$((rr + 1)) both_r=$((both_r + 1)) ;;
	"reject accept") rr=$((rr + 1)) ;;
	esac
done
echo "# reference expects $ra accepted, $rr rejected; ksc agrees on $both_a and $both_r"
((foreign)) && echo "# $foreign accepted programs not built: their struct_ops type is not in this kernel's BTF"
for id in "${ids[@]}"; do
	[ "${ref[$id]}" = "${ksc[$id]}" ] && continue
	n=${enote[$id]:-}
	echo "${ref[$id]}->${ksc[$id]} ${n%%:*}"
done | sort | uniq -c | sed 's/^/# departure /'
exit 0
