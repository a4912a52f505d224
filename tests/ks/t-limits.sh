#!/usr/bin/env bash
# Limits wherever the front end's recursion or memory depends on the input:
# operator chains, nesting, types that contain themselves, imports reached
# along many paths, and sources that are not regular files.  Every case
# runs under ASan+UBSan (and a timeout, so a regression fails rather than
# hangs) and must end with the exact diagnostic, exit status 1 (or 0 where
# the input is valid), no crash and no sanitizer report.
source tests/lib.sh
dir=$(scratch limits)
cd "$dir" || exit 1

# run BIN ARGS...: output in $out, exit status in $rc.
run() {
	out=$(timeout 20 "$@" 2>&1)
	rc=$?
}

# expect NAME WANT_STATUS LINE: the last run gave that status, printed LINE
# (exactly, as a whole line) and no sanitizer report.
expect() {
	local name=$1 want=$2 line=$3
	if ((rc != want)); then
		fail "$name" "exit status $rc, expected $want" "$(echo "$out" | cut -c1-300 | head -20)"
	elif echo "$out" | grep -q -e 'Sanitizer' -e 'runtime error'; then
		fail "$name" "sanitizer report" "$(echo "$out" | cut -c1-300 | head -40)"
	elif [ -n "$line" ] && ! echo "$out" | grep -qxF -- "$line"; then
		fail "$name" "no line: $line" "$(echo "$out" | cut -c1-300 | head -20)"
	else
		pass "$name"
	fi
}

# errors: how many diagnostics the last run printed.
errors() { echo "$out" | grep -cE '^[^ ]+:[0-9]+:[0-9]+: error: '; }

# terms N TEXT OP: TEXT repeated N times, joined by OP.
terms() {
	local n=$1 text=$2 op=$3
	printf '%s' "$text"
	for ((i = 1; i < n; i++)); do printf ' %s %s' "$op" "$text"; done
}

# repeat N TEXT: TEXT N times.
repeat() { local i; for ((i = 0; i < $1; i++)); do printf '%s' "$2"; done; }

deep='error: expression is too long or too deeply nested (more than 1000 levels of operators)'
nest='error: nesting is too deep (more than 200 levels)'

# --- operator chains ---

{
	echo 'fn main() -> i32 {'
	echo '    var a: u64 = 1'
	echo "    var x: u64 = $(terms 60000 a +)"
	echo '    return 0'
	echo '}'
} >chain.ks
run "$KSC_ASAN" check chain.ks
expect "60,000-term + chain" 1 "chain.ks:3:5: $deep"
check "60,000-term + chain: one error" 1 "$(errors)"

# The deepest trees the limit lets through (a statement, its expression,
# 998 operators), through the checker, constant folding and all three
# backends, on a quarter of the usual stack.
{
	echo '@kfunc'
	echo 'fn kf(a: u64) -> u64 {'
	echo "    return $(terms 999 a '*')"
	echo '}'
	echo "var folded: u64 = $(terms 998 1 +)"
	echo '@xdp'
	echo 'fn prog(ctx: *xdp_md) -> xdp_action {'
	echo '    var a: u32 = 3'
	echo "    var k: u32 = $(terms 999 1 +)"
	echo "    var x: u32 = a$(repeat 998 ' as u32')"
	echo "    if ($(terms 998 'a > k' '&&')) {"
	echo '        return XDP_DROP'
	echo '    }'
	echo "    var y = kf($(terms 998 x '-'))"
	echo '    return XDP_PASS'
	echo '}'
	echo 'fn main() -> i32 {'
	echo '    var a: u64 = 2'
	echo "    var y: u64 = $(terms 999 a '/')"
	echo "    var z: bool = $(terms 998 'a == 2' '||')"
	echo '    var p = load(prog)'
	echo '    return 0'
	echo '}'
} >limit.ks
run bash -c "ulimit -s 2048 && exec '$KSC_ASAN' compile limit.ks -o limit-out"
expect "chains at the depth limit compile (eBPF, loader, module)" 0 ''
if [ -s limit-out/limit.ebpf.c ] && [ -s limit-out/limit.c ] && [ -d limit-out/kmod ]; then
	pass "chains at the depth limit: all three outputs written"
else
	fail "chains at the depth limit: all three outputs written" "$(ls -R limit-out 2>&1 | head)"
fi

{
	echo 'fn main() -> i32 {'
	echo '    var a: u64 = 2'
	echo "    return $(terms 1000 a +)"
	echo '}'
} >over.ks
run "$KSC_ASAN" check over.ks
expect "one operator over the depth limit" 1 "over.ks:3:5: $deep"

# Postfix chains (field, index, call, cast) build deep trees in a loop too.
{
	echo 'struct S { a: u32 }'
	echo 'fn main() -> i32 {'
	echo '    var s = S { a: 1 }'
	echo "    var x = s$(repeat 20000 '.a[0](1)')"
	echo "    var y = s.a$(repeat 60000 ' as u32')"
	echo '    return 0'
	echo '}'
} >postfix.ks
run "$KSC_ASAN" check postfix.ks
expect "postfix chains of 60,000 operators" 1 "postfix.ks:4:5: $deep"
check "postfix chains: one error for the function" 1 "$(errors)"

# A long chain split over many lines is one statement.
{
	echo 'fn main() -> i32 {'
	echo '    var a: u64 = 1'
	printf '    a = a'
	for ((l = 0; l < 3000; l++)); do printf ' +\n        a'; done
	echo
	echo '    return 0'
	echo '}'
} >lines.ks
run "$KSC_ASAN" check lines.ks
expect "3000-line chain" 1 "lines.ks:3:7: $deep"

# --- nesting ---

# OP:COL: the nesting error at the 199th operator, and no other.
for case in -:211 '!:211' '- :409' '*:211' '& :409' '-!:211' '! - :409'; do
	op=${case%:*} col=${case##*:}
	printf 'fn main() -> i32 {\n    var x = %s1\n    return 0\n}\n' "$(repeat 100000 "$op")" >unary.ks
	run "$KSC_ASAN" check unary.ks
	expect "100,000 unary '$op'" 1 "unary.ks:2:$col: $nest"
	check "100,000 unary '$op': one error" 1 "$(errors)"
done

printf 'fn main() -> i32 {\n    var x = %s1\n    return 0\n}\n' "$(repeat 100000 '~')" >tilde.ks
run "$KSC_ASAN" check tilde.ks
expect "100,000 '~' (not an operator)" 1 "tilde.ks:2:13: error: unexpected character '~'"

printf 'fn main() -> i32 {\n    return %s1%s\n}\n' "$(repeat 60000 '(')" "$(repeat 60000 ')')" >parens.ks
run "$KSC_ASAN" check parens.ks
expect "60,000 nested parentheses" 1 "parens.ks:2:111: $nest"
check "60,000 nested parentheses: one error" 1 "$(errors)"

printf 'fn main() -> i32 {\n    var a: u64 = 1\n    return %sa%s\n}\n' "$(repeat 90 '(a + ')" "$(repeat 90 ')')" >mixed.ks
run "$KSC_ASAN" check mixed.ks
expect "90 nested parentheses, each with an operator" 0 ''

# --- types that contain themselves or nest too deeply ---

{
	echo 'struct A { n: u32, a: A }'
	echo 'struct B { c: C }'
	echo 'struct C { b: B[2] }'
	echo 'struct D { e: E }'
	echo 'type E = D[3]'
	echo 'struct N { next: *N }'
	echo '@xdp'
	echo 'fn prog(ctx: *xdp_md) -> xdp_action {'
	echo '    var a: A'
	echo '    var b: B'
	echo '    var c: C'
	echo '    var d: D'
	echo '    var n: N'
	echo '    return XDP_PASS'
	echo '}'
} >self.ks
run "$KSC_ASAN" check self.ks
expect "struct containing itself" 1 "self.ks:1:8: error: struct 'A' contains itself by value (through field 'a'): use a pointer"
expect "structs containing each other" 1 "self.ks:2:8: error: struct 'B' contains itself by value (through field 'c'): use a pointer"
expect "struct containing itself through an aliased array" 1 "self.ks:4:8: error: struct 'D' contains itself by value (through field 'e'): use a pointer"
check "structs containing themselves: one error each" 3 "$(errors)"

# S1 holds two u8, S2 two S1, ... in source order and reversed: S257 is
# the first too deep, wherever the walk starts.
structs() { for i in "$@"; do echo "struct S$i { a: S$((i - 1)), b: S$((i - 1)) }"; done | sed 's/S0/u8/g'; }
{ structs $(seq 1 300); echo 'fn main() -> i32 {'; echo '    return 0'; echo '}'; } >nest.ks
run "$KSC_ASAN" check nest.ks
expect "300 structs nested by value" 1 "nest.ks:257:8: error: struct 'S257' nests too deeply (more than 256 levels of structs and arrays held by value)"
check "300 structs nested by value: one error" 1 "$(errors)"
{ structs $(seq 300 -1 1); echo 'fn main() -> i32 {'; echo '    return 0'; echo '}'; } >nest-rev.ks
run "$KSC_ASAN" check nest-rev.ks
expect "300 structs nested by value, outermost first" 1 "nest-rev.ks:44:8: error: struct 'S257' nests too deeply (more than 256 levels of structs and arrays held by value)"
check "300 structs nested by value, outermost first: one error" 1 "$(errors)"

# 2^200 paths to the innermost struct: each struct is walked and sized once.
{
	structs $(seq 1 200)
	echo '@xdp'
	echo 'fn prog(ctx: *xdp_md) -> xdp_action {'
	echo '    var v: S200'
	echo '    return XDP_PASS'
	echo '}'
} >shared.ks
run "$KSC_ASAN" check shared.ks
expect "struct sharing nested structs 2^200 ways" 1 "shared.ks:203:9: error: 'v' (S200, 1099511627776 bytes) brings the stack of 'prog' to 1099511627776 bytes, over the eBPF limit of 512"

# The deepest structs allowed, through the backends.
{
	echo 'struct S1 { a: u8 }'
	for i in $(seq 2 256); do echo "struct S$i { a: S$((i - 1)) }"; done
	echo 'fn main() -> i32 {'
	echo '    var v: S256'
	echo '    return 0'
	echo '}'
} >nest-ok.ks
run "$KSC_ASAN" compile nest-ok.ks -o nest-ok-out
expect "256 structs nested by value compile" 0 ''

{
	echo 'type T0 = u8'
	for i in $(seq 1 300); do echo "type T$i = *T$((i - 1))"; done
	echo 'fn main() -> i32 {'
	echo '    var v: T300 = null'
	echo '    return 0'
	echo '}'
} >aliases.ks
run "$KSC_ASAN" check aliases.ks
expect "300 nested aliases" 1 "aliases.ks:129:6: error: type alias 'T128' nests too deeply (more than 256 levels)"
{
	echo 'type A = B'
	echo 'type B = *C'
	echo 'type C = A[4]'
	echo 'type D = D'
	echo 'fn main() -> i32 {'
	echo '    var a: A'
	echo '    var d: D'
	echo '    return 0'
	echo '}'
} >alias-loop.ks
run "$KSC_ASAN" check alias-loop.ks
expect "aliases naming each other" 1 "alias-loop.ks:1:6: error: type alias 'A' refers to itself"
expect "alias naming itself" 1 "alias-loop.ks:4:6: error: type alias 'D' refers to itself"

# --- imports ---

# A diamond: main imports a and b, both import c.  c is loaded once, so its
# error is reported once.
mkdir -p diamond
printf 'import a from "a.ks"\nimport b from "b.ks"\nfn main() -> i32 {\n    return 0\n}\n' >diamond/main.ks
printf 'import c from "c.ks"\nfn fa() -> u32 {\n    return 1\n}\n' >diamond/a.ks
printf 'import c from "./c.ks"\nfn fb() -> u32 {\n    return 2\n}\n' >diamond/b.ks
printf 'fn fc() -> u32 {\n    return 3\n}\n' >diamond/c.ks
run "$KSC_ASAN" check diamond/main.ks
expect "import diamond" 0 ''
printf 'fn fc() -> u32 {\n    return 3 +\n}\n' >diamond/c.ks
run "$KSC_ASAN" check diamond/main.ks
expect "import diamond: error in the shared file" 1 "diamond/c.ks:3:1: error: expected an expression, found '}'"
check "import diamond: the shared file's error once" 1 "$(errors)"

# One file imported twice by the main program: the loader gets a function
# for each name (m1_sq, m2_sq), as before imports were shared.
mkdir -p twice
printf 'fn sq(x: u32) -> u32 {\n    return x * x\n}\n' >twice/lib.ks
printf 'import m1 from "lib.ks"\nimport m2 from "lib.ks"\nfn main() -> i32 {\n    var a = m1.sq(3)\n    var b = m2.sq(4)\n    return 0\n}\n' >twice/main.ks
run "$KSC_ASAN" compile twice/main.ks -o twice/out
expect "one file imported under two names" 0 ''
check "one file imported under two names: a function for each" "1 1" \
	"$(grep -c 'static __u32 m1_sq(' twice/out/main.c) $(grep -c 'static __u32 m2_sq(' twice/out/main.c)"

# 11 files, each importing the next 4 times: 4^10 import paths to the last.
mkdir -p mesh
for i in $(seq 0 10); do
	{
		if ((i < 10)); then
			for k in 1 2 3 4; do echo "import m$k from \"f$((i + 1)).ks\""; done
		fi
		echo "fn g$i() -> u32 {"
		echo "    return $i"
		echo '}'
	} >mesh/f$i.ks
done
printf 'import m from "f0.ks"\nfn main() -> i32 {\n    return 0\n}\n' >mesh/main.ks
# ASan cannot run under ulimit -v: it runs only once ksc has shown the
# memory is bounded, so that a regression cannot take the machine's memory.
run bash -c "ulimit -v 1000000 && exec '$KSC' check mesh/main.ks"
expect "11 files importing each other 4^10 ways, in 1 GB" 0 ''
if ((rc == 0)); then
	run "$KSC_ASAN" check mesh/main.ks
	expect "11 files importing each other 4^10 ways (ASan)" 0 ''
fi
# The same mesh closed into a cycle: found at the import that closes it.
echo 'import back from "f0.ks"' >>mesh/f10.ks
run "$KSC_ASAN" check mesh/main.ks
expect "import cycle through 11 files" 1 "mesh/f10.ks:4:1: error: imports nest too deeply (import cycle?)"
check "import cycle through 11 files: one error" 1 "$(errors)"
# A chain of imports deeper than the limit, without a cycle.
mkdir -p chain
for i in $(seq 0 20); do
	{ ((i < 20)) && echo "import n from \"c$((i + 1)).ks\""; echo "fn h$i() -> u32 {"; echo '    return 0'; echo '}'; } >chain/c$i.ks
done
run "$KSC_ASAN" check chain/c0.ks
expect "21 files importing each other in a chain" 1 "chain/c16.ks:1:1: error: imports nest too deeply (import cycle?)"

# --- sources that are not regular files ---

printf 'include "/dev/zero"\nfn main() -> i32 {\n    return 0\n}\n' >zero.ks
run bash -c "ulimit -v 400000 && exec '$KSC' check zero.ks"
expect "include /dev/zero, in 400 MB" 1 "zero.ks:1:1: error: cannot open include file '/dev/zero': not a regular file"
if ((rc == 1)); then
	run "$KSC_ASAN" check zero.ks
	expect "include /dev/zero (ASan)" 1 "zero.ks:1:1: error: cannot open include file '/dev/zero': not a regular file"
fi

# Bigger than the 64 MiB cap: refused before it is read.
truncate -s 100M big.kh
printf 'include "big.kh"\nfn main() -> i32 {\n    return 0\n}\n' >big.ks
run bash -c "ulimit -v 400000 && exec '$KSC' check big.ks"
expect "include of a 100 MB file, in 400 MB" 1 "big.ks:1:1: error: cannot open include file 'big.kh': File too large"
cp big.kh big-main.ks
run "$KSC_ASAN" check big-main.ks
expect "100 MB input" 1 "ksc: error: cannot read 'big-main.ks': File too large"
rm -f big.kh big-main.ks

rm -f fifo.ks pipe.kh pipe.ks pipe.py
mkfifo fifo.ks pipe.kh pipe.ks pipe.py
run timeout 10 "$KSC_ASAN" check fifo.ks
expect "FIFO as the input file" 1 "ksc: error: cannot read 'fifo.ks': not a regular file"
check "FIFO as the input file: one line" 1 "$(echo "$out" | wc -l)"
run timeout 10 "$KSC_ASAN" compile fifo.ks -o fifo-out
expect "FIFO as the input file (compile)" 1 "ksc: error: cannot read 'fifo.ks': not a regular file"
printf 'include "pipe.kh"\nimport p from "pipe.ks"\nimport q from "pipe.py"\nfn main() -> i32 {\n    return 0\n}\n' >fifos.ks
run timeout 10 "$KSC_ASAN" check fifos.ks
expect "FIFO include" 1 "fifos.ks:1:1: error: cannot open include file 'pipe.kh': not a regular file"
expect "FIFO import" 1 "fifos.ks:2:1: error: cannot open imported file 'pipe.ks': not a regular file"
expect "FIFO Python import" 1 "fifos.ks:3:1: error: cannot open imported Python module 'pipe.py': not a regular file"

if python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' sock.kh 2>/dev/null; then
	printf 'include "sock.kh"\nfn main() -> i32 {\n    return 0\n}\n' >sock.ks
	run timeout 10 "$KSC_ASAN" check sock.ks
	expect "socket include" 1 "sock.ks:1:1: error: cannot open include file 'sock.kh': not a regular file"
else
	skip "socket include" "python3 cannot make a Unix socket here"
fi

mkdir -p sub.kh dir.ks
printf 'include "sub.kh"\nimport d from "dir.ks"\nfn main() -> i32 {\n    return 0\n}\n' >dirs.ks
run "$KSC_ASAN" check dirs.ks
expect "directory include" 1 "dirs.ks:1:1: error: cannot open include file 'sub.kh': Is a directory"
expect "directory import" 1 "dirs.ks:2:1: error: cannot open imported file 'dir.ks': Is a directory"
run "$KSC_ASAN" check dir.ks
expect "directory as the input file" 1 "ksc: error: cannot read 'dir.ks': Is a directory"
