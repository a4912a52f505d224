#!/usr/bin/env bash
# The BTF line info of every instruction names the right .ks line: every
# corpus program (the golden groups: the examples, tests/ks/pass,
# tests/ebpf/progs, tests/kmod/progs, tests/user/progs) is compiled to an
# eBPF object, its .BTF.ext line records are read (tests/ebpf/lineinfo.c)
# and checked by tests/ebpf/lineinfo-check.pl: each lies inside a .ks fn on
# a line with code, a program starts on its own fn, and no program code
# names the generated file.  This is what the verifier reports positions
# from (ksc verify, ksc install).  One case per program.
source tests/lib.sh

dir=$(scratch ebpf-lineinfo)
tool=$dir/lineinfo
cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$tool" tests/ebpf/lineinfo.c -lbpf -lelf -lz ||
	{ fail "build lineinfo"; exit 1; }
# kptr map values need BTF type tags (clang 15+); clang otherwise.
cc=$(tag_clang)
cc=${cc:-clang}

for src in examples/*.ks tests/ks/pass/*.ks tests/ebpf/progs/*.ks tests/kmod/progs/*.ks \
	tests/user/progs/*.ks; do
	[ -e "$src" ] || continue
	name=$(basename "$src" .ks)
	group=$(dirname "$src" | sed 's|^tests/||; s|/progs$||')
	out=$dir/$group/$name
	if ! msg=$("$KSC" -q compile "$src" --only ebpf -o "$out" 2>&1); then
		fail "lineinfo $group/$name: compile" "$msg"
		continue
	fi
	[ -e "$out/$name.ebpf.c" ] || continue
	if ! msg=$($cc -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$out" -c "$out/$name.ebpf.c" \
		-o "$out/$name.o" 2>&1); then
		fail "lineinfo $group/$name: clang" "$msg"
		continue
	fi
	"$tool" "$out/$name.o" >"$out/records" 2>"$out/err" ||
		{ fail "lineinfo $group/$name: read .BTF.ext" "$(cat "$out/err")"; continue; }
	n=$(wc -l <"$out/records")
	# No eBPF code (only maps, or struct_ops whose methods are the module's): nothing to check.
	if ((n == 0)); then
		pass "lineinfo $group/$name (no instructions)"
		continue
	fi
	if msg=$(perl tests/ebpf/lineinfo-check.pl "$out/$name.ebpf.c" <"$out/records"); then
		pass "lineinfo $group/$name ($n records)"
	else
		fail "lineinfo $group/$name ($(echo "$msg" | wc -l) of $n records wrong)" \
			"$(echo "$msg" | head -15)"
	fi
done
