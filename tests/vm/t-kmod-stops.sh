#!/usr/bin/env bash
# A struct_ops type defined by the kernel module (tests/kmod/progs/kstops.ks:
# `@struct_ops("kstops_ops") @kmod struct`, a @kmod default implementation,
# a kfunc calling `kstops_ops.scale(x)`), implemented from BPF by the same
# file's impl block without @kmod, proved in a VM of every kernel of the
# matrix from 6.9 on (tests/lib.sh kernel_matrix: Debian's 6.12 of
# bookworm-backports and of trixie, trixie-backports' 7.x), one boot each:
#  - the module loads with BTF and registers the type;
#  - an XDP program calling the kfunc gets the module's default (41 + 1);
#  - with the BPF implementation registered (bpfrun --with-struct-ops, built
#    against libbpf 1.4 from bookworm-backports: scripts/libbpf-bpo) the
#    kfunc returns the BPF result (41 * 100);
#  - after it is unregistered the default comes back, and rmmod works;
#  - the generated loader of the same file, through its main() (built with
#    `make LIBBPF=` against libbpf 1.4 for a bookworm kernel, with the
#    trixie root's libbpf 1.5 for a trixie one) registers the BPF
#    implementation with register() and reads the kfunc from userspace:
#    4100; once it has exited, the default again.
# Module and eBPF side are built with the kernel's own suite's ksc (the
# eBPF side against the kernel's BTF).  On a kernel before 6.9 (6.1),
# `ksc kmod build` refuses with one line naming 6.9 and writes nothing.
source tests/lib.sh

dir=$(scratch kmod-stops)
name=kstops
# The program's main() registers the BPF implementation from userspace and
# calls the kfunc there too.  The module is the one
# tests/kmod/t-kmod-build.sh built and checked (tests/lib.sh kmod_build).
src=tests/kmod/progs/$name.ks

# ---- the guest tool: libbpf >= 1.4 (BPF_F_VTYPE_BTF_OBJ_FD), static, for
# every guest ----
if ! prefix=$(scripts/libbpf-bpo 2>"$dir/err"); then
	fail "libbpf 1.4 from bookworm-backports" "$(cat "$dir/err")"
	exit 0
fi
bpfrun=$dir/bpfrun
if ! cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -I"$prefix/usr/include" -o "$bpfrun" \
	tests/guest/bpfrun.c "$prefix"/usr/lib/*/libbpf.a -lelf -lz -lzstd 2>"$dir/err"; then
	fail "static bpfrun with libbpf 1.4" "$(cat "$dir/err")"
	exit 0
fi
pass "static bpfrun with libbpf 1.4"

cat >"$dir/guest.sh" <<EOF
read_out() { /ksc/bpfrun /ksc/$name.ebpf.o kstops_read -m out | grep '^out'; }
insmod /ksc/$name.ko && echo "loaded"
[ -e /sys/kernel/btf/$name ] && echo "btf"
echo "default \$(read_out)"
/ksc/bpfrun -l /ksc/$name.ebpf.o --with-struct-ops \
	"echo attached \\\$(/ksc/bpfrun /ksc/$name.ebpf.o kstops_read -m out | grep '^out')"
echo "with-struct-ops=\$?"
echo "detached \$(read_out)"
# The kernel frees the unregistered implementation (and its module
# reference) after an RCU grace period.
for i in 1 2 3 4 5 6 7 8 9 10; do rmmod $name 2>/dev/null && break; sleep 0.3; done
[ ! -e /sys/module/$name ] && echo "unloaded"
insmod /ksc/$name.ko && /ksc/$name-loader
echo "after loader \$(read_out)"
for i in 1 2 3 4 5 6 7 8 9 10; do rmmod $name 2>/dev/null && break; sleep 0.3; done
[ ! -e /sys/module/$name ] && echo "unloaded again"
EOF

for k in $(kernel_matrix); do
	start=$SECONDS
	if ! kernel_env "$k" 2>"$dir/err"; then
		fail "$k kernel and its suite's ksc" "$(cat "$dir/err")"
		continue
	fi
	out=$dir/$k
	mkdir -p "$out"
	# ---- before 6.9: a clear refusal ----
	if ! kver_at_least "$kver" 6.9; then
		on_suite "$suite" "$mksc" -q kmod build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} \
			-o "$out/tree" >"$out/refusal.out" 2>&1
		rc=$?
		check "$k: kmod build refuses (exit status, lines, message)" \
			"1|1|needs Linux 6.9" \
			"$rc|$(wc -l <"$out/refusal.out")|$(grep -o 'needs Linux 6\.9' "$out/refusal.out")"
		if [ -e "$out/tree" ]; then fail "$k: no output tree" "$(ls -R "$out/tree")"; else
			pass "$k: no output tree"
		fi
		continue
	fi
	# ---- the module, the eBPF side (struct definition from the .ks, no
	# .name member) and the loader ----
	if ! b=$(kmod_build "$k" "$mksc" "$kdir" "$base" "$src"); then
		fail "$k kmod build" "$(cat "$b/build.log")"
		continue
	fi
	pass "$k kmod build"
	if ! ebpf_build "$suite" "$mksc" "$src" "$btf" "$out/user"; then
		fail "$k ebpf object (BPF impl of the module's type and the XDP reader)" "$(cat "$out/user.log")"
		continue
	fi
	pass "$k ebpf object (BPF impl of the module's type and the XDP reader)"
	libbpf=(LIBBPF="$prefix")
	[ "$suite" = bookworm ] || libbpf=()
	if ! on_suite "$suite" make -s -C "$out/user" "${libbpf[@]}" CFLAGS="-O2 -Wall -Wextra -Werror" \
		>>"$out/user.log" 2>&1; then
		fail "$k loader (libbpf 1.4+)" "$(cat "$out/user.log")"
		continue
	fi
	pass "$k loader (libbpf 1.4+)"
	sysargs=()
	[ -z "$sysroot" ] || sysargs=(--sysroot "$sysroot")
	scripts/vmtest --kernel "$vmlinuz" --timeout 240 --add "$bpfrun:bpfrun" \
		--add "$b/out/kmod/$name.ko" --add "$out/user/$name.ebpf.o" \
		--bin "$out/user/$name:$name-loader" "${sysargs[@]}" "$dir/guest.sh" \
		>"$out/console.log" 2>&1
	log=$(tr -d '\r' <"$out/console.log")
	for what in loaded btf "default out[0]=42" "registered kstops_bpf" "attached out[0]=4100" \
		with-struct-ops=0 "detached out[0]=42" unloaded "loader: scale(41) = 4100" \
		"after loader out[0]=42" "unloaded again"; do
		if grep -qxF "$what" <<<"$log"; then pass "$k $what"; else
			fail "$k $what" "$(grep -v '^\[' <<<"$log" | tail -30)"
		fi
	done
	echo "# $k: $((SECONDS - start)) s"
done
