#!/usr/bin/env bash
# Integer constants against their types, the side tests/ks/fail/int_*.ks
# cannot show: the edges of every range check clean (no error, and no
# warning either), a kernel header's 64-bit enum is not a program's, and a
# constant expression as deep as the tree allows is reported once, its
# text cut short.  Under ASan+UBSan.
source tests/lib.sh
dir=$(scratch ints)

# clean NAME FILE: FILE checks with exit status 0 and prints nothing.
clean() {
	local out rc
	out=$(cd "$(dirname "$2")" && timeout 20 "$KSC_ASAN" check "$(basename "$2")" 2>&1)
	rc=$?
	if ((rc != 0)) || [ -n "$out" ]; then
		fail "$1" "exit status $rc" "$(echo "$out" | head -20)"
	else
		pass "$1"
	fi
}

cat >"$dir/edges.ks" <<'EOF'
include "xdp.kh"

enum Edges { LOW = -2147483648, NEG = -1, ZERO, HIGH = 4294967294, TOP }
struct Limits { small: i8, port: u16, mask: u32, big: u64 }

var floor: i64 = -9223372036854775808
var ceiling: u64 = 18446744073709551615

fn pick(x: u8, y: i8) -> i16 {
    return -32768
}

fn classify(b: u8) -> u8 {
    return match (b) {
        0: 1,
        255: 2,
        default: 255,
    }
}

fn main() -> i32 {
    var i8_min: i8 = -128
    var i8_max: i8 = 127
    var i16_min: i16 = -32768
    var u16_max: u16 = 0xFFFF
    var i32_min: i32 = -2147483648
    var i32_min2: i32 = -2147483647 - 1
    var u32_hex: u32 = 0xFFFFFFFF
    var u32_bin: u32 = 0b11111111111111111111111111111111
    var i64_min: i64 = -9223372036854775807 - 1
    var u64_max: u64 = 0xFFFFFFFFFFFFFFFF
    var wide = 2147483648 * 2
    var product: u64 = 1000000000 as u64 * 60
    var cut: u8 = 300 as u8
    var ones: u32 = -1 as u32
    var wrapped: u8 = (511 as u8) - 1
    var quotient: i64 = -9223372036854775808 / 2
    var remainder: i32 = -7 % 3
    var letter: u8 = 'z'
    var e: Edges = TOP
    var lim = Limits { small: -128, port: 65535, mask: 0xFFFFFFFF, big: 18446744073709551615 }
    var r = pick(255, -128)
    const ALL: u64 = 18446744073709551615
    return 0
}
EOF
clean "the edge of every range checks clean" "$dir/edges.ks"

# A kernel header's enums may be 64-bit (sched_ext's are): its constants
# are held as their bits, which no range check can read, so they pass
# where the kernel takes a u64.  Counting on from INT64_MAX goes on in
# the bits (no signed overflow for UBSan to find).
cat >"$dir/wide.kh" <<'EOF'
enum dsq_ids {
    DSQ_GLOBAL = 9223372036854775809,
    DSQ_INF = 18446744073709551615,
    DSQ_MASK = 4294967295,
    DSQ_LAST = 9223372036854775807,
    DSQ_AFTER,
}
extern take_dsq(id: u64) -> i32
EOF
cat >"$dir/wide.ks" <<'EOF'
include "wide.kh"

@helper
fn pass_on() -> i32 {
    take_dsq(DSQ_INF)
    return take_dsq(DSQ_GLOBAL)
}
EOF
clean "a header's 64-bit enum constants pass to a u64" "$dir/wide.ks"

# The same enum in a program is out of its 32 bits.
{ sed -n '1,7p' "$dir/wide.kh"; printf 'fn main() -> i32 {\n    return 0\n}\n'; } >"$dir/wide-program.ks"
run_tool "a program's enum above INT64_MAX is an error" 1 \
	"^wide-program.ks:2:5: error: enum value 9223372036854775809 does not fit in 32 bits" \
	bash -c "cd '$dir' && '$KSC_ASAN' check wide-program.ks"

# 999 operators: the overflow is in the last one, reported once, the text
# of the expression cut short after 80 bytes.
{
	printf 'fn main() -> i32 {\n    var x: i32 = '
	for _ in $(seq 998); do printf '1 + '; done
	printf '2147483647\n    return 0\n}\n'
} >"$dir/chain.ks"
out=$(cd "$dir" && timeout 60 "$KSC_ASAN" check chain.ks 2>&1)
rc=$?
want="chain.ks:2:4008: error: constant expression overflows i32: $(for _ in $(seq 20); do printf '1 + '; done)..."
got=$(echo "$out" | grep ': error: ')
if ((rc != 1)) || echo "$out" | grep -q -e Sanitizer -e 'runtime error'; then
	fail "a 999-operator overflow" "exit status $rc" "$(echo "$out" | head -c 2000)"
else
	check "a 999-operator overflow is one error, its text cut short" "$want" "$got"
fi
