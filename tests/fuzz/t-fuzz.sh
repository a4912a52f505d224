#!/usr/bin/env bash
# The fuzz targets (tests/fuzz/fuzz_front.c, fuzz_btf.c: libFuzzer, ASan,
# UBSan, LeakSanitizer): every file of tests/fuzz/regress/{front,btf} and
# every seed replayed through its target, then each target fuzzed for
# KSC_FUZZ_SECONDS (default 60; both at once, one per core).  Any crash,
# leak, timeout (10 s), memory blow-up (2 GB) or sanitizer report fails, with
# the path of its reproducer.  The corpus the front-end run grows is left in
# $KSC_TEST_OUT/fuzz/corpus/front for tests/fuzz/t-generate.sh.
source tests/lib.sh
dir=$(scratch fuzz)
secs=${KSC_FUZZ_SECONDS:-60}
b=build/fuzz

if ! command -v clang >/dev/null ||
	! [ -e "$(clang -print-resource-dir 2>/dev/null)/lib/linux/libclang_rt.fuzzer-x86_64.a" ]; then
	skip "fuzz targets" "no clang with libFuzzer (libclang-rt-14-dev, scripts/install-deps)"
	exit 0
fi
if ! out=$(make -s -j2 fuzz-build 2>&1); then
	fail "fuzz targets build" "$(echo "$out" | tail -20)"
	exit 0
fi
pass "fuzz targets build"
if ! out=$(TMPDIR=$dir tests/fuzz/seeds "$dir/corpus" 2>&1); then
	fail "seed corpora" "$out"
	exit 0
fi
nf=$(ls "$dir/corpus/front" | wc -l) nb=$(ls "$dir/corpus/btf" | wc -l)
if ((nf >= 30 && nb >= 10)); then pass "seed corpora ($nf .ks, $nb BTF/ELF)"; else
	fail "seed corpora" "only $nf .ks and $nb BTF/ELF seeds"
fi

opts=(-timeout=10 -rss_limit_mb=2048)
# A report in a log: what libFuzzer and the sanitizers print.
reported() { grep -qE '^==[0-9]+==(ERROR|WARNING): |runtime error: |^SUMMARY: |ERROR: libFuzzer|ALARM: working on the last Unit|out-of-memory' "$1"; }

# 1. Replay: all files in one process (a leak is reported at its exit);
# when that fails, each file on its own, so that the failure names its file.
for t in front btf; do
	files=()
	for f in tests/fuzz/regress/$t/* "$dir/corpus/$t"/*; do [ -f "$f" ] && files+=("$f"); done
	r=$(ls tests/fuzz/regress/$t 2>/dev/null | wc -l)
	log=$dir/replay-$t.log
	if ((${#files[@]} == 0)); then
		fail "fuzz_$t: replay" "nothing to replay"
		continue
	fi
	if TMPDIR=$dir "$b/fuzz_$t" "${opts[@]}" -runs=1 "${files[@]}" >"$log" 2>&1 && ! reported "$log"; then
		pass "fuzz_$t: replay of $r reproducers and $((${#files[@]} - r)) seeds"
		continue
	fi
	bad=()
	for f in "${files[@]}"; do
		one=$dir/replay-$t-$(basename "$f").log
		if ! TMPDIR=$dir "$b/fuzz_$t" "${opts[@]}" -runs=1 "$f" >"$one" 2>&1 || reported "$one"; then
			bad+=("$f: $(grep -m1 -E 'ERROR|runtime error|SUMMARY|ALARM|out-of-memory' "$one") (log: $one)")
		else
			rm -f "$one"
		fi
	done
	((${#bad[@]})) || bad=("the run of all files failed, no file alone does: $log")
	fail "fuzz_$t: replay of $r reproducers and the seeds" "${bad[@]}"
done

# 2. Fuzzing, both targets at once.
fuzz_one() {
	local t=$1 art
	art=$dir/artifacts/$t
	mkdir -p "$art"
	local extra=(-max_len=16384)
	[ "$t" = front ] && extra=(-dict=tests/fuzz/ks.dict -max_len=8192)
	TMPDIR=$dir "$b/fuzz_$t" "${opts[@]}" "${extra[@]}" -close_fd_mask=2 -max_total_time="$secs" \
		-print_final_stats=1 -artifact_prefix="$art/" "$dir/corpus/$t" >"$dir/fuzz-$t.log" 2>&1
	echo $? >"$dir/fuzz-$t.rc"
}
fuzz_one front &
fuzz_one btf &
wait
for t in front btf; do
	log=$dir/fuzz-$t.log rc=$(cat "$dir/fuzz-$t.rc")
	arts=$(ls "$dir/artifacts/$t" 2>/dev/null)
	stats=$(grep -E '^#[0-9]+.*DONE' "$log" | tail -1 | sed 's/ \+/ /g')
	if ((rc != 0)) || [ -n "$arts" ] || reported "$log"; then
		fail "fuzz_$t: ${secs}s without a crash, leak, timeout or sanitizer report" \
			"exit status $rc" "$(grep -m3 -E 'ERROR|runtime error|SUMMARY|ALARM|out-of-memory' "$log")" \
			"reproducer: $(for a in $arts; do printf '%s ' "$dir/artifacts/$t/$a"; done)" \
			"replay: $b/fuzz_$t $dir/artifacts/$t/FILE; keep it: tests/fuzz/regress/$t/" "log: $log"
	elif [ -z "$stats" ]; then
		fail "fuzz_$t: ${secs}s of fuzzing" "no final statistics in $log" "$(tail -5 "$log")"
	else
		pass "fuzz_$t: ${secs}s without a crash, leak, timeout or sanitizer report ($stats)"
	fi
done
