#!/usr/bin/env bash
# A struct_ops type defined by the kernel module (tests/kmod/progs/kstops.ks:
# `@struct_ops("kstops_ops") @kmod struct`, a @kmod default implementation,
# a kfunc calling `kstops_ops.scale(x)`), implemented from BPF by the same
# file's impl block without @kmod, proved on Debian's 6.12:
#  - the module loads with BTF and registers the type;
#  - an XDP program calling the kfunc gets the module's default (41 + 1);
#  - with the BPF implementation registered (bpfrun --with-struct-ops, built
#    against libbpf 1.4 from bookworm-backports: scripts/libbpf-bpo) the
#    kfunc returns the BPF result (41 * 100);
#  - after it is unregistered the default comes back, and rmmod works;
#  - the generated loader of the same file plus a main() (built with
#    `make LIBBPF=` against libbpf 1.4) registers the BPF implementation
#    with register() and reads the kfunc from userspace: 4100; once it has
#    exited, the default again.
# On 6.1, `ksc kmod build` refuses with one line naming 6.9 and writes nothing.
source tests/lib.sh

dir=$(scratch kmod-stops)
name=kstops
# The test program plus a userspace main (a scratch copy keeps the module's
# name): the kfunc is then also registered for syscall programs.
mkdir -p "$dir/src"
src=$dir/src/$name.ks
cat tests/kmod/progs/kstops.ks - >"$src" <<'KS'

fn main() -> i32 {
    if (register(kstops_bpf) != 0) {
        print("loader: register failed")
        return 1
    }
    print("loader: scale(41) = %u", kstops_scale(41))
    return 0
}
KS

# ---- 6.1: a clear refusal ----
if ! kdir=$(scripts/kernels kdir 6.1 2>"$dir/err"); then
	fail "6.1 kernel" "$(cat "$dir/err")"
else
	"$KSC" -q kmod build "$src" --kdir "$kdir" -o "$dir/6.1" >"$dir/6.1.out" 2>&1
	rc=$?
	check "6.1: kmod build refuses (exit status, lines, message)" \
		"1|1|needs Linux 6.9" \
		"$rc|$(wc -l <"$dir/6.1.out")|$(grep -o 'needs Linux 6\.9' "$dir/6.1.out")"
	if [ -e "$dir/6.1" ]; then fail "6.1: no output tree" "$(ls -R "$dir/6.1")"; else
		pass "6.1: no output tree"
	fi
fi

# ---- the eBPF side: struct definition from the .ks, no .name member ----
if ! "$KSC" -q compile "$src" --only ebpf -o "$dir/bpf" >"$dir/ebpf.log" 2>&1 ||
	! clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I/usr/include/x86_64-linux-gnu \
		-c "$dir/bpf/$name.ebpf.c" -o "$dir/$name.ebpf.o" >>"$dir/ebpf.log" 2>&1; then
	fail "ebpf object" "$(cat "$dir/ebpf.log")"
	exit 0
fi
pass "ebpf object (BPF impl of the module's type and the XDP reader)"

# ---- the guest tool: libbpf >= 1.4 (BPF_F_VTYPE_BTF_OBJ_FD) ----
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
if ! "$KSC" -q compile "$src" -o "$dir/user" >"$dir/user.log" 2>&1 ||
	! make -s -C "$dir/user" LIBBPF="$prefix" CFLAGS="-O2 -Wall -Wextra -Werror" >>"$dir/user.log" 2>&1; then
	fail "loader with libbpf 1.4 (make LIBBPF=)" "$(cat "$dir/user.log")"
	exit 0
fi
pass "loader with libbpf 1.4 (make LIBBPF=)"

# ---- 6.12 in the VM ----
if ! kdir=$(scripts/kernels kdir 6.12 2>"$dir/err") ||
	! vmlinuz=$(scripts/kernels vmlinuz 6.12 2>"$dir/err"); then
	fail "6.12 kernel" "$(cat "$dir/err")"
	exit 0
fi
if ! "$KSC" -q kmod build "$src" --kdir "$kdir" -o "$dir/6.12" >"$dir/6.12.build.log" 2>&1; then
	fail "6.12 kmod build" "$(cat "$dir/6.12.build.log")"
	exit 0
fi
pass "6.12 kmod build"

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
scripts/vmtest --kernel "$vmlinuz" --timeout 240 --add "$bpfrun:bpfrun" \
	--add "$dir/6.12/kmod/$name.ko" --add "$dir/$name.ebpf.o" \
	--bin "$dir/user/$name:$name-loader" "$dir/guest.sh" \
	>"$dir/6.12.console.log" 2>&1
log=$(tr -d '\r' <"$dir/6.12.console.log")
for what in loaded btf "default out[0]=42" "registered kstops_bpf" "attached out[0]=4100" \
	with-struct-ops=0 "detached out[0]=42" unloaded "loader: scale(41) = 4100" \
	"after loader out[0]=42" "unloaded again"; do
	if grep -qxF "$what" <<<"$log"; then pass "6.12 $what"; else
		fail "6.12 $what" "$(grep -v '^\[' <<<"$log" | tail -30)"
	fi
done
