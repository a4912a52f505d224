#!/usr/bin/env bash
# Writes a valid KernelScript program of about N lines to stdout: many
# structs, maps, helpers, kfuncs and programs, each program tail-calling
# the one before it, like a large real file.
set -euo pipefail
n=${1:?usage: gen-program.sh LINES}
echo 'include "xdp.kh"'
echo 'var counts : hash<u32, u64>(1024)'
echo
echo '@xdp fn prog_first(ctx: *xdp_md) -> xdp_action {'
echo '    return XDP_PASS'
echo '}'
echo
i=0 lines=7 prev=prog_first
while ((lines < n)); do
	cat <<KS
struct Rec$i {
    id: u32,
    bytes: u64,
    name: str(16),
}

@helper
fn score$i(ctx: *xdp_md, base: u32) -> u32 {
    var total: u32 = base
    for (k in 0..4) {
        total = total + k * $((i % 7 + 1))
    }
    if (var c = counts[base]) {
        total = total + 1
    }
    return match (total % 3) {
        0: 1,
        1: 2,
        default: 3
    }
}

@kfunc
fn kf$i(a: u32, b: u64) -> u64 {
    var r = Rec$i { id: a, bytes: b, name: "rec" }
    return r.bytes + r.id
}

@xdp
fn prog$i(ctx: *xdp_md) -> xdp_action {
    var s = score$i(ctx, $i)
    counts[s] += 1
    if (kf$i(s, 2) > 100) {
        return XDP_DROP
    }
    if (s == 0) {
        return $prev(ctx)
    }
    return XDP_PASS
}

KS
	prev=prog$i i=$((i + 1)) lines=$((lines + 41))
done
cat <<'KS'
fn main() -> i32 {
    var h = load(prog0)
    attach(h, "lo", 0)
    detach(h)
    return 0
}
KS
