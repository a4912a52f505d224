#!/usr/bin/env bash
# vmlinux.h holds only the kernel types NAME.ebpf.c uses, with what they
# need (compiler/ebpf/ebpf_vmlinux.c, docs/design.md):
#  - sizes, in bytes not seconds: a small XDP program's vmlinux.h and its
#    whole tree stay under 100 KB (the whole BTF dumped was some 3 MB);
#  - the same program and BTF give the same bytes;
#  - the roots: a struct reached through a->b->c is defined though the C
#    never names it, one the program only points to is only declared, and
#    a kprobe gets struct pt_regs for the PT_REGS_* macros;
#  - completeness: every corpus program's eBPF object builds through its
#    tree's Makefile (clang -Wall -Werror, the flags ksc chose) against
#    every kernel of the matrix, with this machine's libbpf headers and,
#    where the trixie root is cached, libbpf 1.5's.
source tests/lib.sh

dir=$(scratch vmlinux-h)
clang=$(tag_clang)
[ -n "$clang" ] || { fail "a clang 15+ (kptr type tags)"; exit 0; }

# size FILE...: their bytes, summed
size() { cat "$@" | wc -c; }

# ---- sizes and bytes on the host's BTF ----
"$KSC" -q compile tests/ebpf/progs/xdp_filter.ks -o "$dir/xdp" >/dev/null 2>&1 ||
	{ fail "compile xdp_filter"; exit 0; }
h=$(size "$dir/xdp/vmlinux.h")
t=$(find "$dir/xdp" -type f -print0 | xargs -0 cat | wc -c)
if ((h < 100000)); then pass "xdp_filter: vmlinux.h is $h bytes (< 100 KB)"; else
	fail "xdp_filter: vmlinux.h under 100 KB" "$h bytes"; fi
if ((t < 100000)); then pass "xdp_filter: the whole tree is $t bytes (< 100 KB)"; else
	fail "xdp_filter: the whole tree under 100 KB" "$t bytes"; fi
"$KSC" -q compile tests/ebpf/progs/xdp_filter.ks -o "$dir/xdp2" >/dev/null 2>&1
if cmp -s "$dir/xdp/vmlinux.h" "$dir/xdp2/vmlinux.h"; then
	pass "xdp_filter: the same vmlinux.h twice, byte for byte"
else
	fail "xdp_filter: the same vmlinux.h twice, byte for byte" "$(diff "$dir/xdp/vmlinux.h" "$dir/xdp2/vmlinux.h" | head -10)"
fi

# ---- roots the C text does not spell ----
cat >"$dir/chain.ks" <<'KS'
include "probe.kh"

var seen : hash<u32, u64>(64)

@probe("tcp_v4_connect")
fn on_connect(sk: *sock, uaddr: *sockaddr, addr_len: i32) -> i32 {
    var mode = sk->sk_socket->file->f_mode
    seen[mode] += 1
    return 0
}

fn main() -> i32 {
    return 0
}
KS
c=$dir/chain
if "$KSC" -q compile "$dir/chain.ks" -o "$c" >"$dir/chain.log" 2>&1; then
	check "sk->sk_socket->file: struct socket and struct file defined, though the C names neither" \
		"0 0 1 1" "$(grep -c 'struct socket\b' "$c/chain.ebpf.c") $(grep -c 'struct file\b' "$c/chain.ebpf.c") $(grep -c '^struct socket {' "$c/vmlinux.h") $(grep -c '^struct file {' "$c/vmlinux.h")"
	if msg=$(make -s -C "$c" "$c/chain.ebpf.o" CLANG="$clang" 2>&1); then
		pass "sk->sk_socket->file builds"
	else
		fail "sk->sk_socket->file builds" "$(echo "$msg" | head -10)"
	fi
else
	fail "compile chain.ks" "$(cat "$dir/chain.log")"
fi
k=$dir/probe
"$KSC" -q compile tests/ks/pass/kernel_types_probe.ks -o "$k" >/dev/null 2>&1
check "kernel_types_probe: struct sock defined; struct socket, which it only points to, declared" \
	"1 0 1" "$(grep -c '^struct sock {' "$k/vmlinux.h") $(grep -c '^struct socket {' "$k/vmlinux.h") $(grep -c '^struct socket;$' "$k/vmlinux.h")"
check "kernel_types_probe: BPF_KPROBE's registers (struct pt_regs) defined" \
	"1 1" "$(grep -c 'BPF_KPROBE(' "$k/kernel_types_probe.ebpf.c") $(grep -c '^struct pt_regs {' "$k/vmlinux.h")"

# ---- every corpus program, every kernel, both libbpf versions ----
tool=$dir/kfunc-tool
build_kfunc_tool "$tool" || { fail "build kfunc-tool"; exit 0; }
incs=("")
helpers=${KSC_CACHE:-/var/cache/ksc}/debroot/trixie/usr/include/bpf
if [ -f "$helpers/bpf_helpers.h" ]; then
	mkdir -p "$dir/libbpf-trixie" && ln -sfn "$helpers" "$dir/libbpf-trixie/bpf"
	incs+=("$dir/libbpf-trixie")
else
	skip "libbpf 1.5 headers" "no trixie root at ${helpers%/usr/include/bpf} (scripts/debroot path trixie)"
fi
progs=(tests/ks/pass/*.ks tests/ebpf/progs/*.ks tests/user/progs/*.ks examples/*.ks)
for s in $(kernel_matrix); do
	if ! image=$(scripts/kernels vmlinuz "$s" 2>"$dir/kernels.log") ||
		! "$tool" extract "$image" "$dir/btf-$s" >"$dir/extract.log" 2>&1; then
		fail "$s: kernel BTF" "$(tail -3 "$dir/kernels.log" "$dir/extract.log")"
		continue
	fi
	# Each tree once; its object built with each libbpf's headers.
	declare -A built=() broken=()
	refused=()
	for src in "${progs[@]}"; do
		name=$(basename "$src" .ks)
		out=$dir/$s/$(dirname "$src" | tr / _)/$name
		# Refused for this kernel (no sched_ext on 6.1, say): nothing to build.
		if ! "$KSC" -q compile "$src" --btf "$dir/btf-$s" -o "$out" >/dev/null 2>&1; then
			refused+=("$name")
			continue
		fi
		for i in "${!incs[@]}"; do
			inc=${incs[$i]}
			rm -f "$out/$name.ebpf.o"
			if msg=$(make -s -C "$out" "$out/$name.ebpf.o" CLANG="$clang${inc:+ -I$inc}" 2>&1); then
				built[$i]=$((${built[$i]:-0} + 1))
			else
				broken[$i]+="$name: $(echo "$msg" | grep -m1 error)"$'\n'
			fi
		done
	done
	for i in "${!incs[@]}"; do
		lib=$([ -n "${incs[$i]}" ] && echo "libbpf 1.5" || echo "this machine's libbpf")
		if [ -n "${broken[$i]:-}" ]; then
			fail "$s, $lib: every corpus program's eBPF object builds against its vmlinux.h" "${broken[$i]}"
		else
			pass "$s, $lib: every corpus program's eBPF object builds against its vmlinux.h (${built[$i]:-0}; refused by ksc for this kernel: ${refused[*]:-none})"
		fi
	done
	unset built broken
done
