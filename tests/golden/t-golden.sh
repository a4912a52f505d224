#!/usr/bin/env bash
# Generated code is what tests/golden/files says, byte for byte (see
# tests/golden/golden): one case per program, failing with the diff.  A
# change to generated code is made with `tests/golden/golden refresh` and
# reviewed as the diff of those files.
source tests/lib.sh
dir=$(scratch golden)

tests/golden/golden check "$dir/new" >"$dir/diff" 2>"$dir/err"
rc=$?
if ((rc == 3)); then
	skip "golden files" "$(cat "$dir/diff"); refresh them: tests/golden/golden refresh"
	exit 0
elif ((rc > 1)); then
	fail "golden files generated" "$(tail -20 "$dir/err")"
	exit 0
fi
for t in tests/golden/files/*/*/; do
	t=${t%/}
	rel=${t#tests/golden/files/}
	if d=$(diff -ruN "$t" "$dir/new/files/$rel"); then
		pass "golden $rel"
	else
		fail "golden $rel (tests/golden/golden refresh, then review the diff)" "$(echo "$d" | head -40)"
	fi
done
# A program new since the last refresh has no golden files yet.
for t in "$dir"/new/files/*/*/; do
	t=${t%/}
	rel=${t#"$dir"/new/files/}
	[ -d "tests/golden/files/$rel" ] || fail "golden $rel" "no golden files: tests/golden/golden refresh"
done
