#!/usr/bin/env bash
# The corpus covers the language and the diagnostics:
#  - every program in tests/ks/pass/ names its features on its first line
#    ("// features: L01 L05 ...") and checks clean (exit 0, no output)
#    under ksc and under ksc-asan;
#  - every feature ID of tests/ks/features.txt is claimed by a pass program,
#    and every claimed ID is in features.txt;
#  - every error message format the front end has (the diag_error() format
#    strings of the .c files of compiler/, kfunc/, kmodgen/ and runtime/) is expected by some
#    "// expect:" line of tests/ks/fail/*.ks, printf conversions matching
#    any text, unless tests/ks/unreachable-errors.txt lists it with a reason.
source tests/lib.sh
dir=$(scratch coverage)
ks=tests/ks

# --- pass corpus ---
claimed="$dir/claimed"
: >"$claimed"
n=0
for f in "$ks"/pass/*.ks; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	name=pass/$(basename "$f")
	first=$(head -1 "$f")
	if [[ $first != "// features: L"* ]]; then
		fail "$name names its features" "first line: $first"
	else
		echo "${first#// features: }" | tr ' ' '\n' | grep . | sed "s|\$| $name|" >>"$claimed"
	fi
	for bin in "$KSC" "$KSC_ASAN"; do
		out=$(cd "$ks/pass" && timeout 30 "$bin" check "$(basename "$f")" 2>&1)
		rc=$?
		if ((rc != 0)) || [ -n "$out" ]; then
			fail "$name checks clean ($(basename "$bin"))" "exit status $rc" "$out"
		else
			pass "$name checks clean ($(basename "$bin"))"
		fi
	done
done
if ((n < 25)); then
	fail "pass corpus has at least 25 programs" "found $n"
else
	pass "pass corpus has at least 25 programs ($n)"
fi

# --- feature IDs ---
ids=$(grep -o '^L[0-9][0-9]' "$ks/features.txt")
check "features.txt lists L01..L60" "$(seq -f 'L%02g' 1 60 | tr '\n' ' ')" "$(echo $ids) "
missing=$(for id in $ids; do grep -q "^$id " "$claimed" || echo "$id"; done)
if [ -n "$missing" ]; then
	fail "every feature is claimed by a pass program" "unclaimed:" $missing
else
	pass "every feature is claimed by a pass program"
fi
unknown=$(cut -d' ' -f1 "$claimed" | sort -u | while read -r id; do
	echo "$ids" | grep -qx "$id" || grep "^$id " "$claimed"; done)
if [ -n "$unknown" ]; then
	fail "pass programs claim only listed features" "$unknown"
else
	pass "pass programs claim only listed features"
fi

# --- error messages ---
formats="$dir/formats" msgs="$dir/messages" allow="$ks/unreachable-errors.txt"
perl "$ks/diag-formats.pl" $(find compiler kfunc kmodgen runtime -name "*.c" ! -name ksc_loader.c | sort) >"$formats"
nf=$(wc -l <"$formats")
if ((nf < 100)); then
	fail "diag_error() formats found in the sources" "only $nf (has the call changed name?)"
else
	pass "diag_error() formats found in the sources ($nf)"
fi
empty=$(awk -F'\t' '$2 == ""' "$formats")
if [ -n "$empty" ]; then
	fail "every diag_error() has a literal format" "$empty"
else
	pass "every diag_error() has a literal format"
fi
sed -En 's#^// expect: ([^ :]+:)?[0-9]+:[0-9]+: error: ##p' "$ks"/fail/*.ks >"$msgs"
# Allowlisted formats: "FORMAT ## REASON" lines.
grep -v '^#' "$allow" | sed -n 's|^\(.*\) ## ..*$|\1|p' | sed 's|^|allow\t|' >"$dir/allowed"
bad=$(grep -v -e '^#' -e '^$' "$allow" | grep -v ' ## ..')
if [ -n "$bad" ]; then
	fail "every unreachable-errors.txt entry has a reason" "$bad"
else
	pass "every unreachable-errors.txt entry has a reason"
fi
# An allowlisted format must still exist, and must not have gained a test.
cut -f2 "$formats" >"$dir/format-texts"
stale=$(cut -f2 "$dir/allowed" | while IFS= read -r a; do
	grep -qxF -- "$a" "$dir/format-texts" || echo "$a"; done)
if [ -n "$stale" ]; then
	fail "unreachable-errors.txt names only existing formats" "$stale"
else
	pass "unreachable-errors.txt names only existing formats"
fi
uncovered=$(perl "$ks/diag-match.pl" "$msgs" <"$formats" |
	while IFS=$'\t' read -r where fmt; do
		grep -qxF -- "$fmt" <(cut -f2 "$dir/allowed") || printf '%s: %s\n' "$where" "$fmt"
	done)
if [ -n "$uncovered" ]; then
	fail "every error message has a failing case in tests/ks/fail" "$uncovered"
else
	pass "every error message has a failing case in tests/ks/fail"
fi
tested=$(perl "$ks/diag-match.pl" "$msgs" <"$dir/allowed" | cut -f2)
covered_allowed=$(cut -f2 "$dir/allowed" | grep -vxF -f <(echo "$tested") || true)
if [ -n "$covered_allowed" ]; then
	fail "unreachable-errors.txt lists no tested message" "$covered_allowed"
else
	pass "unreachable-errors.txt lists no tested message"
fi
