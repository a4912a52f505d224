#!/usr/bin/env bash
# Generated module C reads like code a kernel developer would submit: every
# kmod/NAME.c ksc writes for the project's module programs passes the
# kernel's checkpatch.pl with no error and no warning.  ksc_compat.h may
# only draw what any kernel-version compat header draws: LINUX_VERSION_CODE
# tests, and the attribute-list macro that stands in for 6.1's missing
# __bpf_kfunc.
source tests/lib.sh

dir=$(scratch checkpatch)
if ! scripts/checkpatch --version >/dev/null 2>"$dir/err"; then
	fail "checkpatch.pl available" "$(cat "$dir/err")"
	exit 0
fi
compat_ok=LINUX_VERSION_CODE,CONSTANT_COMPARISON,COMPLEX_MACRO
progs=(examples/kfunc_stats.ks tests/kmod/progs/*.ks)
for f in tests/ks/pass/*.ks; do
	grep -q '^@kfunc\|^@private' "$f" && progs+=("$f")
done
for src in "${progs[@]}"; do
	name=$(basename "$src" .ks)
	out=$dir/$name
	if ! msg=$(./ksc -q compile "$src" --only kmod -o "$out" 2>&1); then
		fail "compile $name" "$msg"
		continue
	fi
	res=$(scripts/checkpatch --no-tree --terse --show-types -f "$out/kmod/$name.c" 2>&1)
	if grep -q 'total: 0 errors, 0 warnings' <<<"$res" || [ -z "$res" ]; then
		pass "$name.c is checkpatch-clean"
	else
		fail "$name.c is checkpatch-clean" "$res"
	fi
	res=$(scripts/checkpatch --no-tree --terse --show-types --ignore "$compat_ok" \
		-f "$out/kmod/ksc_compat.h" 2>&1)
	if grep -q 'total: 0 errors, 0 warnings' <<<"$res" || [ -z "$res" ]; then
		pass "$name ksc_compat.h has only version-test findings"
	else
		fail "$name ksc_compat.h has only version-test findings" "$res"
	fi
done
