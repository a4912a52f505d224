#!/usr/bin/env bash
# One .ks congestion control, two targets (tests/kmod/progs/kcc_dual.ks),
# on the host: with its @kmod line removed it is a BPF struct_ops:
# registered, selected with TCP_CONGESTION on a loopback socket, carries
# 64 MB, and its print() reaches the trace buffer.  Both targets, the
# module and the BPF struct_ops compiled against each kernel's own BTF,
# run in the VM on every kernel of the matrix in tests/vm/t-kmod-cc.sh
# (one boot per kernel for all the congestion controls).
source tests/lib.sh

dir=$(scratch kcc-dual)
src=tests/kmod/progs/kcc_dual.ks
cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$dir/bpfrun" tests/guest/bpfrun.c -lbpf -lelf -lz &&
	cc -static -O2 -Wall -Wextra -Werror -o "$dir/tcpxfer" tests/guest/tcpxfer.c ||
	{ fail "build the test tools"; exit 0; }

# ---- BPF struct_ops on the host ----
sed '/^@kmod$/d' "$src" >"$dir/kcc_dual.ks"
if [ "$(id -u)" != 0 ]; then
	skip "kcc_dual as BPF struct_ops" "needs root"
elif ! msg=$(./ksc -q compile "$dir/kcc_dual.ks" --only ebpf -o "$dir/bpf" 2>&1 &&
	clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror -I"$dir/bpf" \
		-c "$dir/bpf/kcc_dual.ebpf.c" -o "$dir/kcc_dual.o" 2>&1); then
	fail "kcc_dual compiles as BPF struct_ops" "$msg"
else
	pass "kcc_dual compiles as BPF struct_ops"
	mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing
	: >/sys/kernel/tracing/trace
	out=$("$dir/bpfrun" -l "$dir/kcc_dual.o" --with-struct-ops "$dir/tcpxfer kcc_dual 64" 2>&1)
	check "host: registered, selected, carries 64 MB" \
		"registered kcc_dual|sender cc=kcc_dual|received=67108864" \
		"$(grep -E '^(registered|sender|received)' <<<"$out" | tr '\n' '|' | sed 's/|$//')"
	if grep -q 'kcc_dual: connection with cwnd' /sys/kernel/tracing/trace; then
		pass "host: its init ran (bpf_printk in the trace buffer)"
	else
		fail "host: its init ran" "$(tail -5 /sys/kernel/tracing/trace)"
	fi
	if grep -qw kcc_dual /proc/sys/net/ipv4/tcp_available_congestion_control; then
		fail "host: unregistered afterwards"
	else
		pass "host: unregistered afterwards"
	fi
fi
