#!/usr/bin/env bash
# ksc kfuncs --btf FILE on damaged BTF: 400 copies of a small BTF with
# kfunc tags (tests/kfunc/btf_kfuncs.c, built by clang at test time), each
# with 1-3 bytes changed by a seeded generator, must each end in a listing
# or one error line with exit status 1: never a crash or a sanitizer report
# (ksc before the BTF validation crashed on about 1 in 5, inside libbpf's
# btf_dump).
source tests/lib.sh

dir=$(scratch btf-mutate)
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99
if ! clang -g -O2 -target bpf -c tests/kfunc/btf_kfuncs.c -o "$dir/seed.o" 2>"$dir/err" ||
	! llvm-objcopy --dump-section .BTF="$dir/seed.btf" "$dir/seed.o" 2>>"$dir/err"; then
	fail "seed BTF" "$(cat "$dir/err")"
	exit 0
fi
check "seed BTF lists its three kfuncs" 3 "$("$KSC_ASAN" kfuncs --btf "$dir/seed.btf" 2>/dev/null | grep -c '^[a-z].*kf_')"

# mutate SEED N: writes $dir/m-K.btf for K in 1..N (1-3 bytes changed each).
perl -e '
	my ($seed, $n, $in, $out) = @ARGV;
	srand($seed);
	open(my $f, "<:raw", $in) or die; local $/; my $d = <$f>; close $f;
	for my $k (1 .. $n) {
		my $b = $d;
		for (1 .. 1 + int(rand(3))) {
			substr($b, int(rand(length($b))), 1) = chr(int(rand(256)));
		}
		open(my $o, ">:raw", "$out/m-$k.btf") or die; print $o $b; close $o;
	}' 7 400 "$dir/seed.btf" "$dir"

bad=() lines=0
for ((k = 1; k <= 400; k++)); do
	"$KSC_ASAN" kfuncs --btf "$dir/m-$k.btf" >/dev/null 2>"$dir/err"
	rc=$?
	if ((rc != 0 && rc != 1)) || grep -q -e Sanitizer -e 'runtime error' "$dir/err"; then
		bad+=("m-$k.btf: exit $rc $(head -c 200 "$dir/err")")
	elif ((rc == 1)) && [ "$(grep -c '^ksc: error: ' "$dir/err")" != 1 ]; then
		lines=$((lines + 1))
		bad+=("m-$k.btf: $(cat "$dir/err")")
	fi
done
check "400 damaged BTF files: no crash, no sanitizer report, one error line each" "" \
	"$(printf '%s\n' "${bad[@]}" | head -5)"

# An ELF whose .BTF is SHT_NOBITS (tests/fuzz's first finding) where a base
# or kernel BTF is read: one error line, no crash in libbpf's ELF reader.
nobits=tests/fuzz/regress/btf/crash-8c0f656d1ec3eed72ec89425cfd0dcbdbad03472
bad_input "kfuncs --base: an ELF whose .BTF has no data" "\.BTF is not a plain data section" \
	"$KSC_ASAN" kfuncs --btf "$dir/seed.btf" --base "$nobits"
bad_input "compile --btf: an ELF whose .BTF has no data" "\.BTF is not a plain data section" \
	"$KSC_ASAN" compile tests/ebpf/progs/rmw.ks --btf "$nobits" -o "$dir/nobits"
check "compile --btf: no tree left" "" "$(ls -d "$dir/nobits" 2>/dev/null)"
