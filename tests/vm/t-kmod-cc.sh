#!/usr/bin/env bash
# A TCP congestion control in a kernel module, written in KernelScript
# (tests/kmod/progs/kcc_reno.ks, a @kmod struct_ops impl block): built with
# ksc kmod build on Debian's 6.1 and 6.12 headers, then in a VM of each
# kernel the module loads, its name is in tcp_available_congestion_control,
# a loopback socket selects it with TCP_CONGESTION and carries a 16 MiB
# transfer, the module's counters (read by an eBPF program through its
# kfunc) show that its methods ran, and rmmod takes the name away.
# tests/kmod/progs/kcc_fixed.ks (methods using @private state and
# functions directly, print(), enum and const-pointer prototypes) then
# carries a transfer the same way and logs from its init method.
# On the host: the same file without @kmod still compiles as a BPF
# struct_ops, with its methods counting through the same kfunc.
source tests/lib.sh

dir=$(scratch kmod-cc)
src=tests/kmod/progs/kcc_reno.ks
name=kcc_reno
mib=16

# The eBPF side: the XDP program reading the counters, and no struct_ops
# (the congestion control is module code).
if ! "$KSC" -q compile "$src" --only ebpf -o "$dir/bpf" >"$dir/ebpf.log" 2>&1 ||
	! clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c "$dir/bpf/$name.ebpf.c" \
		-o "$dir/$name.ebpf.o" >>"$dir/ebpf.log" 2>&1; then
	fail "ebpf object" "$(cat "$dir/ebpf.log")"
elif grep -q 'struct_ops' "$dir/bpf/$name.ebpf.c"; then
	fail "ebpf object" "the @kmod impl block was emitted as a BPF struct_ops"
else
	pass "ebpf object"
fi

# Without @kmod: a BPF struct_ops calling the module's kfunc.
sed '/^@kmod$/d' "$src" >"$dir/${name}_bpf.ks"
if "$KSC" -q compile "$dir/${name}_bpf.ks" --only ebpf -o "$dir/bpf-variant" >"$dir/variant.log" 2>&1 &&
	clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c \
		"$dir/bpf-variant/${name}_bpf.ebpf.c" -o "$dir/variant.o" >>"$dir/variant.log" 2>&1 &&
	grep -q 'SEC("struct_ops/cong_avoid")' "$dir/bpf-variant/${name}_bpf.ebpf.c" &&
	"$KSC" -q compile "$dir/${name}_bpf.ks" --only kmod -o "$dir/bpf-variant" >>"$dir/variant.log" 2>&1 &&
	grep -q 'BPF_PROG_TYPE_STRUCT_OPS' "$dir/bpf-variant/kmod/${name}_bpf.c" &&
	! grep -q 'tcp_register_congestion_control' "$dir/bpf-variant/kmod/${name}_bpf.c"; then
	pass "same file without @kmod is a BPF struct_ops"
else
	fail "same file without @kmod is a BPF struct_ops" "$(cat "$dir/variant.log")"
fi

bpfrun=$dir/bpfrun tcpxfer=$dir/tcpxfer
cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c \
	-lbpf -lelf -lz -lzstd || { fail "build static bpfrun"; exit 1; }
cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$tcpxfer" tests/guest/tcpxfer.c ||
	{ fail "build static tcpxfer"; exit 1; }

cat >"$dir/guest.sh" <<EOF
cc=/proc/sys/net/ipv4/tcp_available_congestion_control
echo "== $name"
insmod /ksc/$name.ko && echo "loaded"
[ -e /sys/kernel/btf/$name ] && echo "btf"
grep -qw $name \$cc && echo "available"
/ksc/tcpxfer $name $mib
echo "tcpxfer=\$?"
/ksc/bpfrun /ksc/$name.ebpf.o kcc_reno_read -n 1 -m out | tr '\n' ' '; echo
# Closed sockets give the module back as they are destroyed.
for i in 1 2 3 4 5; do rmmod $name 2>/dev/null && break; sleep 1; done
[ ! -e /sys/module/$name ] && echo "unloaded"
grep -qw $name \$cc || echo "not available"
echo "== kcc_fixed"
insmod /ksc/kcc_fixed.ko && echo "loaded"
/ksc/tcpxfer kcc_fixed $mib
echo "tcpxfer=\$?"
dmesg | grep -q 'kcc_fixed: window 64\$' && echo "init logged"
for i in 1 2 3 4 5; do rmmod kcc_fixed 2>/dev/null && break; sleep 1; done
[ ! -e /sys/module/kcc_fixed ] && echo "unloaded"
EOF

for k in 6.1 6.12; do
	if ! kdir=$(scripts/kernels kdir "$k" 2>"$dir/err") ||
		! vmlinuz=$(scripts/kernels vmlinuz "$k" 2>"$dir/err"); then
		fail "$k kernel" "$(cat "$dir/err")"
		continue
	fi
	out=$dir/$k
	# 6.1's headers have no vmlinux: the base BTF comes from the image.
	base=
	[ -e "$kdir/vmlinux" ] || base=$vmlinuz
	if ! "$KSC" -q kmod build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} -o "$out" \
		>"$dir/$k.build.log" 2>&1; then
		fail "$k kmod build" "$(cat "$dir/$k.build.log")"
		continue
	fi
	pass "$k kmod build"
	if ! "$KSC" -q kmod build tests/kmod/progs/kcc_fixed.ks --kdir "$kdir" \
		${base:+--btf-base "$base"} -o "$out-fixed" >"$dir/$k.fixed.log" 2>&1; then
		fail "$k kmod build kcc_fixed" "$(cat "$dir/$k.fixed.log")"
		continue
	fi
	scripts/vmtest --kernel "$vmlinuz" --timeout 300 --add "$bpfrun:bpfrun" \
		--add "$tcpxfer:tcpxfer" --add "$out/kmod/$name.ko" --add "$out-fixed/kmod/kcc_fixed.ko" \
		--add "$dir/$name.ebpf.o" \
		"$dir/guest.sh" >"$dir/$k.console.log" 2>&1
	log=$(sed -n "/^== $name\r\?\$/,/^== /p" "$dir/$k.console.log" | tr -d '\r')
	for what in loaded btf available "sender cc=$name" "received=$((mib << 20))" tcpxfer=0 \
		unloaded "not available"; do
		if grep -qx "$what" <<<"$log"; then pass "$k $what"; else
			fail "$k $what" "$log"
		fi
	done
	# out[0] connections set up (the sender's socket only), out[1] cong_avoid
	# calls, out[2] of them in slow start: the transfer must have used it.
	counters=$(grep -o 'out\[[0-9]\]=[0-9]*' <<<"$log" | tr '\n' ' ')
	if [[ $counters =~ out\[0\]=1\ out\[1\]=([0-9]+)\ out\[2\]=([0-9]+) ]] &&
		((BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > 0)); then
		pass "$k counters via kfunc ($counters)"
	else
		fail "$k counters via kfunc" "$log"
	fi
	log=$(sed -n "/^== kcc_fixed\r\?\$/,\$p" "$dir/$k.console.log" | tr -d '\r')
	for what in loaded "sender cc=kcc_fixed" "received=$((mib << 20))" tcpxfer=0 "init logged" \
		unloaded; do
		if grep -qx "$what" <<<"$log"; then pass "$k kcc_fixed $what"; else
			fail "$k kcc_fixed $what" "$log"
		fi
	done
done
