#!/usr/bin/env bash
# The reference examples through ksc on the host kernel: ksc compile, the
# tree's own Makefile (clang -target bpf and the loader, warnings as
# errors), and every program loaded by libbpf (the verifier accepts it).  fentry
# programs are left out where the host kernel cannot load any fentry
# program; the VM tests cover them.  Each exception names its reason.
source tests/lib.sh

reference_repo examples-load || exit 0
dir=$(scratch ebpf-examples)
git -C "$repo" archive HEAD examples | tar -x -C "$dir"
bpfrun=$dir/bpfrun
cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c -lbpf -lelf -lz ||
	{ fail "build bpfrun"; exit 1; }

# Examples that cannot load on any host, and why.
declare -A expected=(
	[safety_demo]="rejected by the checker (608-byte stack)"
	[type_alias]="rejected by the checker (192168001001 does not fit its u32)"
	[private_kfunc]="calls a kfunc of its own module: built, loaded and run in the VM by tests/vm/t-kmod.sh"
	[extern_kfunc_demo]="the example passes null as bpf_trace_printk's format"
	[sched_ext_simple]="needs a kernel with sched_ext (CONFIG_SCHED_CLASS_EXT)"
)

# kptr map values need BTF type tags, which clang writes from version 15 on.
tag_clang=$(tag_clang)
declare -A needs_tags=([object_allocation]=1)

# Can this kernel load fentry programs at all?
skip_fentry=()
cat >"$dir/fentry.c" <<'C'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
char LICENSE[] SEC("license") = "GPL";
SEC("fentry/do_unlinkat")
int BPF_PROG(probe, int dfd)
{
	return 0;
}
C
"$KSC" compile "$dir/examples/packet_filter.ks" --only ebpf -o "$dir/vmlinux-src" >/dev/null 2>&1
cp "$dir/vmlinux-src/vmlinux.h" "$dir/"
clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$dir" -c "$dir/fentry.c" -o "$dir/fentry.o"
if ! "$bpfrun" -l "$dir/fentry.o" >/dev/null 2>&1; then
	skip_fentry=(-x fentry)
	echo "host kernel cannot load fentry programs: they are left out here"
fi

for f in "$dir"/examples/*.ks; do
	b=$(basename "$f" .ks)
	if [ -n "${expected[$b]:-}" ]; then
		skip "load $b" "${expected[$b]}"
		continue
	fi
	cc=clang
	if [ -n "${needs_tags[$b]:-}" ]; then
		if [ -z "$tag_clang" ]; then
			fail "load $b" "keeps objects in a map (kptrs): needs clang 15 or newer; scripts/install-deps installs clang-16"
			continue
		fi
		cc=$tag_clang
	fi
	out="$dir/out/$b"
	if ! msg=$(cd "$dir/examples" && "$KSC" -q compile "$b.ks" -o "$out" 2>&1); then
		fail "compile $b" "$msg"
		continue
	fi
	# The whole tree, as its Makefile builds it: eBPF object (clang -Wall
	# -Werror) and loader, the loader with warnings as errors too.
	if ! msg=$(make -s -C "$out" CLANG="$cc" CFLAGS="-O2 -Wall -Wextra -Werror" 2>&1); then
		fail "build $b (eBPF object and loader, no warning)" "$msg"
		continue
	fi
	cp "$out/$b.ebpf.o" "$out/$b.o"
	# Probes of functions this kernel does not have are an example's choice, not ours.
	extra=()
	case $b in
	ringbuf_demo | ringbuf_on_event_demo) extra=(-x fentry/sys_openat) ;;
	esac
	if msg=$("$bpfrun" -l "${skip_fentry[@]}" "${extra[@]}" "$out/$b.o" 2>&1); then
		pass "load $b ($(echo "$msg" | grep -c '^loaded') programs)"
	else
		fail "load $b" "$(echo "$msg" | tail -25)"
	fi
done
