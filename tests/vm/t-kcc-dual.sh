#!/usr/bin/env bash
# One .ks congestion control, two targets (tests/kmod/progs/kcc_dual.ks):
#  - on the host, with its @kmod line removed, it is a BPF struct_ops:
#    registered, selected with TCP_CONGESTION on a loopback socket, carries
#    64 MB, and its print() reaches the trace buffer;
#  - as written, `ksc kmod build` makes it a module for Debian's 6.1 and
#    6.12; in the VM it appears in tcp_available_congestion_control,
#    carries 16 MB, prints through pr_info, and leaves with rmmod.
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

# ---- the module, in the VM ----
cat >"$dir/guest.sh" <<'GUEST'
insmod /ksc/kcc_dual.ko && echo "loaded"
grep -qw kcc_dual /proc/sys/net/ipv4/tcp_available_congestion_control && echo "available"
/ksc/tcpxfer kcc_dual 16
dmesg | grep -q 'kcc_dual: connection with cwnd' && echo "init ran"
# Closed sockets let go of the module as they are destroyed.
for i in 1 2 3 4 5 6 7 8 9 10; do rmmod kcc_dual 2>/dev/null && break; sleep 0.3; done
grep -qw kcc_dual /proc/sys/net/ipv4/tcp_available_congestion_control || echo "gone"
GUEST
for k in 6.1 6.12; do
	if ! kdir=$(scripts/kernels kdir "$k" 2>"$dir/err") ||
		! vmlinuz=$(scripts/kernels vmlinuz "$k" 2>"$dir/err"); then
		fail "$k kernel" "$(cat "$dir/err")"
		continue
	fi
	if ! msg=$(./ksc -q kmod build "$src" --kdir "$kdir" -o "$dir/$k" 2>&1); then
		fail "$k kmod build kcc_dual" "$msg"
		continue
	fi
	pass "$k kmod build kcc_dual"
	scripts/vmtest --kernel "$vmlinuz" --timeout 240 --add "$dir/$k/kmod/kcc_dual.ko" \
		--add "$dir/tcpxfer" "$dir/guest.sh" >"$dir/$k.console.log" 2>&1
	got=$(tr -d '\r' <"$dir/$k.console.log" |
		grep -E '^(loaded|available|sender cc=|received=|init ran|gone)' | tr '\n' '|' | sed 's/|$//')
	check "$k module: loads, listed, carries 16 MB, init ran, unloads" \
		"loaded|available|sender cc=kcc_dual|received=16777216|init ran|gone" "$got"
done
