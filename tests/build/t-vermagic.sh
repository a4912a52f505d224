#!/usr/bin/env bash
# ksc install compares a module's vermagic with the running kernel before
# the kernel is asked (runtime/install/installer.c): a .ko built for
# another release, or for this release without SMP (what the VM test's
# "badko" is), is refused with one line naming both and a --kdir hint,
# exit 1, before any insertion and with nothing pinned; a .ko without a
# vermagic is refused too; one whose vermagic matches passes the check and
# goes on to the kernel (which, on a host without module support, refuses
# it).  The modules are ELF objects with a .modinfo section made here, so
# that the test runs on any host; a real module of a kernel of the matrix
# from an earlier kmod test run in $KSC_TEST_OUT is tried as well.
source tests/lib.sh
dir=$(scratch vermagic)
name=kvm_host
if [ "$(id -u)" != 0 ] || ! need_bpffs 2>/dev/null || ! command -v objcopy >/dev/null; then
	skip vermagic "needs root, bpffs and objcopy"
	exit 0
fi
printf 'include "xdp.kh"\n@xdp fn kvm_xdp(ctx: *xdp_md) -> xdp_action {\n    return XDP_PASS\n}\nfn main() -> i32 {\n    return 0\n}\n' \
	>"$dir/$name.ks"
if ! "$KSC" -q build "$dir/$name.ks" -o "$dir/tree" >"$dir/build.log" 2>&1; then
	fail "build $name" "$(tail -5 "$dir/build.log")"
	exit 0
fi
echo 'int kvm_x;' | cc -c -x c - -o "$dir/base.o"
rel=$(uname -r)
# The kernel's SMP and preempt flags, as its version string says them.
flags=
uname -v | tr ' ' '\n' | grep -qx SMP && flags=SMP
uname -v | tr ' ' '\n' | grep -q '^PREEMPT' && flags="${flags:+$flags }preempt"

kernel="$rel${flags:+ $flags}"
hint="rebuild it with --kdir /lib/modules/$rel/build"

# ko VERMAGIC: a tree $dir/t whose kmod/NAME.ko has that vermagic (none when empty).
ko() {
	rm -rf "$dir/t" && mkdir -p "$dir/t/kmod" && cp "$dir/tree/$name.ebpf.o" "$dir/t/"
	if [ -n "$1" ]; then
		printf 'license=GPL\0vermagic=%s\0name=%s\0' "$1" "$name" >"$dir/modinfo"
		objcopy --add-section .modinfo="$dir/modinfo" "$dir/base.o" "$dir/t/kmod/$name.ko"
	else
		cp "$dir/base.o" "$dir/t/kmod/$name.ko"
	fi
}

# refused NAME EXPECTED: install of $dir/t prints exactly EXPECTED, exits 1, leaves nothing.
refused() {
	local out rc
	out=$("$KSC_ASAN" install "$dir/t" 2>&1)
	rc=$?
	if ((rc == 1)) && [ "$out" = "$2" ] && [ ! -e /sys/fs/bpf/ksc/$name ] && [ ! -e /sys/module/$name ]; then
		pass "$1"
	else
		fail "$1" "exit status $rc" "expected: $2" "actual:   $out" "$(ls /sys/fs/bpf/ksc/$name 2>&1)"
	fi
}

[ -e /sys/fs/bpf/ksc/$name ] && "$KSC" -q uninstall $name
other=6.1.0-57-amd64
[ "$rel" = $other ] && other=6.12.95+deb12-amd64
ko "$other SMP preempt mod_unload modversions "
refused "a module for another release" \
	"ksc: error: $dir/t/kmod/$name.ko was built for $other, this kernel is $rel: $hint"
nosmp=$(sed 's/ SMP//' <<<"$kernel")
ko "$rel ${flags/SMP/XMP} mod_unload modversions "
if [[ $flags == *SMP* ]]; then
	refused "a module of this release without SMP (the VM test's badko)" \
		"ksc: error: $dir/t/kmod/$name.ko was built for $nosmp, this kernel is $kernel: $hint"
else
	skip "a module without SMP" "this kernel is not SMP"
fi
ko "$rel SMP mod_unload "
if [[ $flags == *preempt* ]]; then
	refused "a module of this release without preempt" \
		"ksc: error: $dir/t/kmod/$name.ko was built for $rel SMP, this kernel is $kernel: $hint"
fi
ko ""
refused "a module without vermagic" \
	"ksc: error: $dir/t/kmod/$name.ko has no vermagic in its .modinfo: not a module kbuild built"

# The vermagic of this kernel passes: the kernel is asked (and says no here,
# or takes it where modules load: then it is taken out again).
ko "$kernel mod_unload modversions "
out=$("$KSC_ASAN" install "$dir/t" 2>&1)
rc=$?
if grep -q "^ksc: module: inserting $dir/t/kmod/$name.ko$" <<<"$out" && ! grep -q "was built for" <<<"$out"; then
	pass "a module of this kernel's vermagic goes on to the kernel"
else
	fail "a module of this kernel's vermagic goes on to the kernel" "exit status $rc" "$out"
fi
((rc == 0)) && "$KSC" -q uninstall $name
[ -e /sys/fs/bpf/ksc/$name ] && fail "nothing left after the kernel refused" "$(ls -R /sys/fs/bpf/ksc/$name)"

# A real module built by the kmod tests for a kernel of the matrix, when there is one.
real=
for f in "$KSC_TEST_OUT"/kmod-matrix/*/*/out/kmod/*.ko; do
	krel=$(modinfo -F vermagic "$f" 2>/dev/null | cut -d' ' -f1)
	[ -n "$krel" ] && [ "$krel" != "$rel" ] && real=$f && break
done
if [ -n "$real" ]; then
	rm -rf "$dir/t" && mkdir -p "$dir/t/kmod" && cp "$dir/tree/$name.ebpf.o" "$dir/t/" &&
		cp "$real" "$dir/t/kmod/$name.ko"
	refused "a real module built for $krel ($(basename "$real"))" \
		"ksc: error: $dir/t/kmod/$name.ko was built for $krel, this kernel is $rel: $hint"
else
	skip "a real module of another kernel" "none built in $KSC_TEST_OUT/kmod-matrix (tests/kmod/t-kmod-build.sh builds them)"
fi
true
