#!/usr/bin/env bash
# Every program under tests/ks/fail/ is rejected with exactly the errors
# its "// expect: LINE:COL: error: MESSAGE" comments name, in that order
# (file name prefixed), exit status 1, and the source line with a caret
# after each message; and, in a file with "// note: LINE:COL: note: MESSAGE"
# lines, exactly those notes, and with "// warning: LINE:COL: warning:
# MESSAGE" lines, exactly those warnings.  Run under ASan+UBSan.
source tests/lib.sh
cd tests/ks/fail || exit 1

for f in *.ks; do
	want=$(sed -n 's|^// expect: ||p' "$f" | sed "s|^[0-9]|$f:&|")
	if [ -z "$want" ]; then
		fail "$f" "no '// expect:' lines"
		continue
	fi
	out=$(timeout 20 "$KSC_ASAN" check "$f" 2>&1)
	rc=$?
	got=$(echo "$out" | grep -E '^[^ ]+:[0-9]+:[0-9]+: error: ')
	# "// note: LINE:COL: note: MESSAGE" lines, where a file has them: its
	# notes, exactly and in order.
	wantn=$(sed -n 's|^// note: ||p' "$f" | sed "s|^[0-9]|$f:&|")
	gotn=$(echo "$out" | grep -E '^[^ ]+:[0-9]+:[0-9]+: note: ')
	wantw=$(sed -n 's|^// warning: ||p' "$f" | sed "s|^[0-9]|$f:&|")
	gotw=$(echo "$out" | grep -E '^[^ ]+:[0-9]+:[0-9]+: warning: ')
	if ((rc != 1)); then
		fail "$f" "exit status $rc, expected 1" "$out"
	elif [ "$got" != "$want" ]; then
		fail "$f" "expected:" "$want" "got:" "$got"
	elif [ -n "$wantn" ] && [ "$gotn" != "$wantn" ]; then
		fail "$f" "expected notes:" "$wantn" "got:" "$gotn"
	elif [ -n "$wantw" ] && [ "$gotw" != "$wantw" ]; then
		fail "$f" "expected warnings:" "$wantw" "got:" "$gotw"
	elif ! echo "$out" | grep -A2 -m1 ': error: ' | tail -1 | grep -q '^ *\^~*$'; then
		fail "$f" "no caret line under the first error" "$out"
	else
		pass "$f"
	fi
done
