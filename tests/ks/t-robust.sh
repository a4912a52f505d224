#!/usr/bin/env bash
# Hostile input to the front end, under ASan+UBSan: every case must end in
# a diagnostic and exit status 1 (or 0 when the input is valid), never a
# crash, a sanitizer report or a hang.
source tests/lib.sh
dir=$(scratch robust)

# run_case NAME FILE WANT_STATUS PATTERN: the exit status and a line of output.
run_case() {
	local name=$1 file=$2 want=$3 pattern=$4 out rc
	out=$(timeout 20 "$KSC_ASAN" check "$file" 2>&1)
	rc=$?
	if ((rc != want)); then
		fail "$name" "exit status $rc, expected $want" "$(echo "$out" | head -c 2000)"
	elif echo "$out" | grep -q -e 'Sanitizer' -e 'runtime error'; then
		fail "$name" "sanitizer report" "$(echo "$out" | head -c 2000)"
	elif ! echo "$out" | head -c 100000 | grep -q -e "$pattern"; then
		fail "$name" "no line matching: $pattern" "$(echo "$out" | head -c 2000)"
	else
		pass "$name"
	fi
}

printf '' >"$dir/empty.ks"
run_case "empty file is a valid program" "$dir/empty.ks" 0 ''

head -c 4096 /dev/urandom >"$dir/binary.ks"
printf '\0' >>"$dir/binary.ks"
run_case "binary input" "$dir/binary.ks" 1 'binary.ks:1:1: error: file is not text'

printf 'fn main() -> i32 {\n    return %s1%s\n}\n' "$(printf '(%.0s' $(seq 10000))" \
	"$(printf ')%.0s' $(seq 10000))" >"$dir/parens.ks"
run_case "10000 nested parentheses" "$dir/parens.ks" 1 'error: nesting is too deep'

{
	echo 'fn main() -> i32 {'
	for _ in $(seq 5000); do echo 'if (true) {'; done
	for _ in $(seq 5000); do echo '}'; done
	echo 'return 0'; echo '}'
} >"$dir/blocks.ks"
run_case "5000 nested blocks" "$dir/blocks.ks" 1 'error: nesting is too deep'

printf 'fn main() -> i32 {\n    var x: u64 = 340282366920938463463374607431768211456\n    return 0\n}\n' >"$dir/huge.ks"
run_case "huge integer literal" "$dir/huge.ks" 1 'huge.ks:2:18: error: integer literal is too large for 64 bits'

printf 'fn main() -> i32 {\n    print("never closed)\n    return 0\n}\n' >"$dir/string.ks"
run_case "unterminated string" "$dir/string.ks" 1 'string.ks:2:11: error: unterminated string literal'

printf 'fn main() -> i32 {\n    /* a C comment that never ends\n    return 0\n}\n' >"$dir/comment.ks"
run_case "unterminated block comment" "$dir/comment.ks" 1 "comment.ks:2:5: error: block comments are not supported; use '//'"

printf "fn main() -> i32 {\n    var c = '\n    return 0\n}\n" >"$dir/char.ks"
run_case "unterminated character literal" "$dir/char.ks" 1 'char.ks:2:13: error: unterminated character literal'

{ printf 'fn main() -> i32 {\n    var x = 1 + '; head -c 1048576 /dev/zero | tr '\0' 'y'; printf '\n    return 0\n}\n'; } >"$dir/longline.ks"
run_case "1 MB line" "$dir/longline.ks" 1 'longline.ks:2:17: error: identifier is 1048576 characters long'

{ printf 'fn main() -> i32 {\n    var x = 1'; head -c 1048576 /dev/zero | tr '\0' ' '; printf '$\n    return 0\n}\n'; } >"$dir/longspace.ks"
run_case "1 MB line, error at its end" "$dir/longspace.ks" 1 "longspace.ks:2:1048590: error: unexpected character '[$]'"

run_case "missing file" "$dir/nonexistent.ks" 1 "ksc: error: cannot read '.*nonexistent.ks': No such file or directory"
run_case "directory" "$dir" 1 "ksc: error: cannot read '.*': Is a directory"

{ for i in $(seq 300); do echo "fn f$i( -> {"; done; } >"$dir/many.ks"
run_case "error flood is capped" "$dir/many.ks" 1 'ksc: too many errors'

# Mutants of the valid corpus: truncated at a random byte, or with a random
# byte overwritten.  Deterministic (seeded) so a failure reproduces.
RANDOM=4242
bad=0 total=0
for src in tests/ks/pass/*.ks; do
	[ -f "$src" ] || continue
	size=$(stat -c %s "$src")
	for k in 1 2 3; do
		m="$dir/mutant.ks"
		if ((k == 1)); then
			head -c $((RANDOM % (size + 1))) "$src" >"$m"
		else
			cp "$src" "$m"
			printf "\\x$(printf %02x $((RANDOM % 94 + 33)))" |
				dd of="$m" bs=1 seek=$((RANDOM % (size + 1))) conv=notrunc status=none
		fi
		total=$((total + 1))
		out=$(cd tests/ks/pass && timeout 20 "$KSC_ASAN" check "$m" 2>&1)
		rc=$?
		if ((rc > 1)) || echo "$out" | grep -q -e Sanitizer -e 'runtime error'; then
			bad=$((bad + 1))
			cp "$m" "$dir/crash-$bad.ks"
			echo "mutant of $src: exit $rc, kept as $dir/crash-$bad.ks"
		fi
	done
done
if ((total < 30)); then
	fail "mutation corpus" "only $total mutants (is tests/ks/pass populated?)"
elif ((bad)); then
	fail "mutants never crash the front end" "$bad of $total crashed"
else
	pass "mutants never crash the front end ($total)"
fi
