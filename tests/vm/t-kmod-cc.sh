#!/usr/bin/env bash
# TCP congestion controls written in KernelScript, in a VM of every kernel
# of the matrix (tests/lib.sh kernel_matrix), one boot per kernel:
#  - tests/kmod/progs/kcc_reno.ks (a @kmod struct_ops impl block), built
#    with ksc kmod build: the module loads, its name is in
#    tcp_available_congestion_control, a loopback socket selects it with
#    TCP_CONGESTION and carries a 16 MiB transfer, the module's counters
#    (read by an eBPF program through its kfunc) show that its methods ran,
#    and rmmod takes the name away;
#  - tests/kmod/progs/kcc_fixed.ks (methods using @private state and
#    functions directly, print(), enum and const-pointer prototypes)
#    carries a transfer the same way and logs from its init method;
#  - tests/kmod/progs/kcc_dual.ks, one file for two targets: as written a
#    module (listed, carries 16 MiB, prints through pr_info, leaves with
#    rmmod), and with its @kmod line removed a BPF struct_ops compiled
#    against that kernel's BTF, registered by bpfrun (libbpf 1.1.2), which
#    carries 16 MiB, prints through bpf_printk, and is gone once
#    unregistered.  (tests/kmod/t-kcc-dual.sh runs the BPF side on the host.)
# The modules are the ones tests/kmod/t-kmod-build.sh built and checked
# (tests/lib.sh kmod_build); each eBPF object is built with the kernel's
# suite's ksc and clang.  On the host: the same kcc_reno without @kmod
# still compiles as a BPF struct_ops, with its methods counting through the
# same kfunc.
source tests/lib.sh

dir=$(scratch kmod-cc)
src=tests/kmod/progs/kcc_reno.ks
name=kcc_reno
mib=16

# ---- host: the eBPF side of kcc_reno has no struct_ops (the congestion
# control is module code); without @kmod it is a BPF struct_ops ----
if ! "$KSC" -q compile "$src" --only ebpf -o "$dir/bpf" >"$dir/ebpf.log" 2>&1; then
	fail "host: ebpf side of $name" "$(cat "$dir/ebpf.log")"
elif grep -q 'struct_ops' "$dir/bpf/$name.ebpf.c"; then
	fail "host: ebpf side of $name" "the @kmod impl block was emitted as a BPF struct_ops"
else
	pass "host: ebpf side of $name has no struct_ops"
fi
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
# kcc_dual without @kmod, under its own name (the name: field says kcc_dual
# either way).
mkdir -p "$dir/dual-src"
sed '/^@kmod$/d' tests/kmod/progs/kcc_dual.ks >"$dir/dual-src/kcc_dual.ks"

bpfrun=$dir/bpfrun tcpxfer=$dir/tcpxfer
cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c \
	-lbpf -lelf -lz -lzstd || { fail "build static bpfrun"; exit 1; }
cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$tcpxfer" tests/guest/tcpxfer.c ||
	{ fail "build static tcpxfer"; exit 1; }

# Closed sockets give the modules back as they are destroyed: rmmod is
# retried.
cat >"$dir/guest.sh" <<EOF
cc=/proc/sys/net/ipv4/tcp_available_congestion_control
unload() {
	for i in 1 2 3 4 5 6 7 8 9 10; do rmmod \$1 2>/dev/null && break; sleep 0.5; done
	[ ! -e /sys/module/\$1 ] && echo "unloaded"
	grep -qw \$1 \$cc || echo "not available"
}
echo "== $name"
insmod /ksc/$name.ko && echo "loaded"
[ -e /sys/kernel/btf/$name ] && echo "btf"
grep -qw $name \$cc && echo "available"
/ksc/tcpxfer $name $mib
echo "tcpxfer=\$?"
/ksc/bpfrun /ksc/$name.ebpf.o kcc_reno_read -n 1 -m out | tr '\n' ' '; echo
unload $name
echo "== kcc_fixed"
insmod /ksc/kcc_fixed.ko && echo "loaded"
grep -qw kcc_fixed \$cc && echo "available"
/ksc/tcpxfer kcc_fixed $mib
echo "tcpxfer=\$?"
dmesg | grep -q 'kcc_fixed: window 64\$' && echo "init logged"
unload kcc_fixed
echo "== kcc_dual"
insmod /ksc/kcc_dual.ko && echo "loaded"
grep -qw kcc_dual \$cc && echo "available"
/ksc/tcpxfer kcc_dual $mib
echo "tcpxfer=\$?"
dmesg | grep -q 'kcc_dual: connection with cwnd' && echo "init logged"
unload kcc_dual
echo "== kcc_dual bpf"
: >/sys/kernel/tracing/trace
/ksc/bpfrun -l /ksc/kcc_dual.ebpf.o --with-struct-ops "grep -qw kcc_dual \$cc && echo available; /ksc/tcpxfer kcc_dual $mib"
echo "tcpxfer=\$?"
grep -q 'kcc_dual: connection with cwnd' /sys/kernel/tracing/trace && echo "init logged"
grep -qw kcc_dual \$cc || echo "not available"
echo "== end"
EOF

# section NAME: the guest's lines from "== NAME" to the next "== ".
section() { sed -n "/^== $1\$/,/^== /p" <<<"$log"; }
# expect LABEL SECTION LINE...: each LINE is a whole line of the section.
expect() {
	local label=$1 part what
	part=$(section "$2")
	shift 2
	for what; do
		if grep -qxF "$what" <<<"$part"; then pass "$label $what"; else
			fail "$label $what" "$part"
		fi
	done
}

for k in $(kernel_matrix); do
	start=$SECONDS
	if ! kernel_env "$k" 2>"$dir/err"; then
		fail "$k kernel and its suite's ksc" "$(cat "$dir/err")"
		continue
	fi
	out=$dir/$k
	mkdir -p "$out"
	kmod_prebuild "$k" "$mksc" "$kdir" "$base" tests/kmod/progs/{kcc_reno,kcc_fixed,kcc_dual}.ks
	adds=(--add "$bpfrun:bpfrun" --add "$tcpxfer:tcpxfer")
	built=1
	for m in kcc_reno kcc_fixed kcc_dual; do
		if ! b=$(kmod_build "$k" "$mksc" "$kdir" "$base" tests/kmod/progs/$m.ks); then
			fail "$k kmod build $m" "$(cat "$b/build.log")"
			built=0
			continue
		fi
		pass "$k kmod build $m"
		adds+=(--add "$b/out/kmod/$m.ko")
	done
	# The eBPF objects, against this kernel's BTF: kcc_reno's counter
	# reader and kcc_dual as a BPF struct_ops.
	for s in "$src" "$dir/dual-src/kcc_dual.ks"; do
		n=$(basename "$s" .ks)
		if ! ebpf_build "$suite" "$mksc" "$s" "$btf" "$out/$n"; then
			fail "$k ebpf object $n" "$(cat "$out/$n.log")"
			built=0
			continue
		fi
		adds+=(--add "$out/$n/$n.ebpf.o")
	done
	((built)) || continue
	scripts/vmtest --kernel "$vmlinuz" --timeout 300 "${adds[@]}" "$dir/guest.sh" \
		>"$out/console.log" 2>&1
	log=$(tr -d '\r' <"$out/console.log")
	expect "$k" "$name" loaded btf available "sender cc=$name" "received=$((mib << 20))" \
		tcpxfer=0 unloaded "not available"
	# out[0] connections set up (the sender's socket only), out[1] cong_avoid
	# calls, out[2] of them in slow start: the transfer must have used it.
	counters=$(section "$name" | grep -o 'out\[[0-9]\]=[0-9]*' | tr '\n' ' ')
	if [[ $counters =~ out\[0\]=1\ out\[1\]=([0-9]+)\ out\[2\]=([0-9]+) ]] &&
		((BASH_REMATCH[1] > 0 && BASH_REMATCH[2] > 0)); then
		pass "$k counters via kfunc ($counters)"
	else
		fail "$k counters via kfunc" "$(section "$name")"
	fi
	for m in kcc_fixed kcc_dual; do
		expect "$k $m" "$m" loaded available "sender cc=$m" "received=$((mib << 20))" tcpxfer=0 \
			"init logged" unloaded "not available"
	done
	expect "$k kcc_dual as BPF struct_ops" "kcc_dual bpf" "registered kcc_dual" available \
		"sender cc=kcc_dual" "received=$((mib << 20))" tcpxfer=0 "init logged" "not available"
	grep -qx '== end' <<<"$log" || fail "$k guest ran to the end" "$(tail -20 <<<"$log")"
	echo "# $k: $((SECONDS - start)) s"
done
