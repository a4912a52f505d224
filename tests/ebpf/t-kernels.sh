#!/usr/bin/env bash
# The eBPF side against every kernel of the matrix (scripts/kernels): a
# program of each kind (tests/ebpf/progs) and the kfunc example are compiled
# by ksc against that kernel's BTF (extracted from its image), built through
# the tree's own Makefile (clang -Werror, bpftool skeleton, loader), and the
# objects loaded on the host kernel, CO-RE relocating them.  Pins what
# changes with the kernel: some 7.x types need clang -fms-extensions (the
# Makefile and vmlinux.h say so only where vmlinux.h defines one of them,
# as struct sock), and `new` objects use the
# kfunc names the target's BTF has; those of the newest kernel run in the
# VM on that kernel, with the values tests/ebpf/t-run.sh expects on the host.
source tests/lib.sh

dir=$(scratch ebpf-kernels)
series=(${KSC_KERNELS:-6.1 6.12 6.12-trixie 7})
tool=$dir/kfunc-tool
bpfrun=$dir/bpfrun
build_kfunc_tool "$tool" || { fail "build kfunc-tool"; exit 0; }
cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c -lbpf -lelf -lz ||
	{ fail "build bpfrun"; exit 0; }
need_bpffs || { fail "mount bpffs at /sys/fs/bpf"; exit 0; }
clang=$(tag_clang)
[ -n "$clang" ] || { fail "a clang 15+ (kptr type tags)"; exit 0; }

progs=(tests/ebpf/progs/{xdp_filter,tc_verdict,maps,objects,kptr_map,ringbuf,tail_chain}.ks
	examples/kfunc_stats.ks)
host_obj_new=no
bpftool btf dump file /sys/kernel/btf/vmlinux 2>/dev/null | grep -q "FUNC 'bpf_obj_new' " && host_obj_new=yes

for s in "${series[@]}"; do
	if ! image=$(scripts/kernels vmlinuz "$s" 2>"$dir/kernels.log"); then
		fail "$s: kernel image" "$(tail -3 "$dir/kernels.log")"
		continue
	fi
	btf=$dir/btf-$s
	if ! "$tool" extract "$image" "$btf" >"$dir/extract.log" 2>&1; then
		fail "$s: BTF of $(basename "$image")" "$(cat "$dir/extract.log")"
		continue
	fi
	# Whether this kernel's types have anonymous tagged members (7.0+).
	anon=no
	bpftool btf dump file "$btf" format c 2>/dev/null | grep -qE '^	+(struct|union) [a-z_0-9]+;$' && anon=yes
	for src in "${progs[@]}"; do
		name=$(basename "$src" .ks)
		out=$dir/$s/$name
		if ! msg=$("$KSC" -q compile "$src" --btf "$btf" -o "$out" 2>&1); then
			fail "$s: compile $name" "$msg"
			continue
		fi
		if ! msg=$(make -s -C "$out" CLANG="$clang" 2>&1); then
			fail "$s: build $name (Makefile: clang -Werror, skeleton, loader)" "$(echo "$msg" | head -20)"
			continue
		fi
		# kfunc_stats calls its own module's kfuncs, which the host has not;
		# 7.1+'s bpf_obj_new is not in the host's BTF either (tests/vm runs those).
		if [ "$name" = kfunc_stats ] ||
			{ grep -q '(bpf_obj_new)' "$out/$name.ebpf.c" && [ "$host_obj_new" = no ]; }; then
			pass "$s: $name builds (loaded in the VM, not on this host)"
			continue
		fi
		if ! msg=$("$bpfrun" -l "$out/$name.ebpf.o" 2>&1); then
			fail "$s: $name loads on the host" "$(echo "$msg" | grep -v '^;' | tail -10)"
			continue
		fi
		pass "$s: $name builds and loads"
	done
	# vmlinux.h holds only the types a program uses: the flag and the
	# guard go with what it defines, not with the kernel.
	agree=0 trees=0
	for t in "$dir/$s"/*/vmlinux.h; do
		t=${t%/vmlinux.h}
		trees=$((trees + 1))
		need=0
		grep -qE '^	+(struct|union) [a-z_0-9]+;$' "$t/vmlinux.h" && need=1
		[ "$(grep -c -- '-fms-extensions' "$t/Makefile") $(grep -c '__has_builtin(__noop)' "$t/vmlinux.h")" = "$need $need" ] &&
			agree=$((agree + 1))
	done
	check "$s: -fms-extensions where the types vmlinux.h defines need it, and only there ($trees trees)" \
		"$trees" "$agree"
	if [ "$anon" = yes ]; then
		# struct sock holds a socket_lock_t, with an anonymous struct slock_owned in 7.x.
		sock=$dir/$s/sock
		"$KSC" -q compile tests/ks/pass/kernel_types_probe.ks --btf "$btf" -o "$sock" >/dev/null 2>&1
		check "$s: anonymous tagged members (struct sock): the Makefile passes -fms-extensions, vmlinux.h checks it" \
			"1 1" "$(grep -c -- '-fms-extensions' "$sock/Makefile") $(grep -c '__has_builtin(__noop)' "$sock/vmlinux.h")"
		check "$s: vmlinux.h without -fms-extensions stops at its own #error" "1" \
			"$(clang -target bpf -fsyntax-only -I"$sock" "$sock/kernel_types_probe.ebpf.c" 2>&1 |
				grep -c 'error: "compile with clang -fms-extensions')"
		if msg=$(make -s -C "$sock" "$sock/kernel_types_probe.ebpf.o" CLANG="$clang" 2>&1); then
			pass "$s: struct sock builds with the Makefile's flags"
		else
			fail "$s: struct sock builds with the Makefile's flags" "$(echo "$msg" | head -10)"
		fi
	else
		check "$s: no anonymous tagged members: no extra clang flags" "0 0" \
			"$(grep -c -- '-fms-extensions' "$dir/$s/maps/Makefile") $(grep -c '__has_builtin(__noop)' "$dir/$s/maps/vmlinux.h")"
	fi
	if bpftool btf dump file "$btf" | grep -q "FUNC 'bpf_obj_new' "; then
		want="(bpf_obj_new)"
	else
		want="bpf_obj_new_impl"
	fi
	check "$s: new objects through the kfunc the target's BTF has ($want)" 1 \
		"$(grep -cF "extern void *$want(" "$dir/$s/objects/objects.ebpf.c")"
done

# ---- every member of tcp_congestion_ops and, where the kernel has it,
# sched_ext_ops: ksc names each program after its member (exit included,
# which C's library also names) and the object builds ----
for s in "${series[@]}"; do
	btf=$dir/btf-$s
	[ -f "$btf" ] || continue
	for st in tcp_congestion_ops sched_ext_ops; do
		bpftool btf dump file "$btf" format c 2>/dev/null | awk "/^struct $st \\{/,/^\\};/" >"$dir/$st-$s.h"
		if [ ! -s "$dir/$st-$s.h" ]; then
			[ "$st" = sched_ext_ops ] && continue
			fail "$s: struct $st in BTF"
			continue
		fi
		impl=all_${st%%_*}
		mkdir -p "$dir/$s"
		src=$dir/$s/$impl.ks out=$dir/$s/$impl.out
		perl tests/ebpf/struct-ops-all.pl "$st" "$impl" <"$dir/$st-$s.h" >"$src" 2>"$dir/$s/$impl.skipped"
		if ! msg=$("$KSC" -q compile "$src" --btf "$btf" -o "$out" 2>&1) ||
			! msg=$(make -s -C "$out" "$out/$impl.ebpf.o" CLANG="$clang" 2>&1); then
			fail "$s: every member of $st" "$(echo "$msg" | head -10)"
			continue
		fi
		n=$(grep -c '^    fn ' "$src")
		c=$out/$impl.ebpf.c
		check "$s: every member of $st is a program under its own name ($n; left out: $(tr '\n' ' ' <"$dir/$s/$impl.skipped"))" \
			"$n $n 0" \
			"$(grep -c '^SEC("struct_ops/' "$c") $(grep -cE '^	\.([a-z_0-9]+) = \(void \*\)'"$impl"'_\1,$' "$c") $(grep -c '_ksc_' "$c")"
	done
done

# ---- the newest kernel's objects in the VM on that kernel ----
newest=${series[-1]}
objs=$dir/$newest
if [ -f "$objs/objects/objects.ebpf.o" ] && [ -f "$objs/kptr_map/kptr_map.ebpf.o" ]; then
	cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$dir/bpfrun-static" tests/guest/bpfrun.c \
		-lbpf -lelf -lz -lzstd || { fail "build static bpfrun"; exit 0; }
	p=$(printf '00%.0s' {1..64})
	cat >"$dir/guest.sh" <<EOF
for mode in 0 1; do
	echo "objects \$mode: \$(./bpfrun objects.ebpf.o objects --set obj_mode_config_map:0:\$mode -m results 2>&1 | grep -v '^;' | tr '\n' ' ')"
done
echo "kptr: \$(./bpfrun kptr_map.ebpf.o kptr_count --data $p --data $p --data $p --prog kptr_forget --data $p --prog kptr_count --data $p -m stats 2>&1 | grep -v '^;' | tr '\n' ' ')"
EOF
	vm=$(scripts/vmtest --kernel "$newest" --timeout 300 --add "$dir/bpfrun-static:bpfrun" \
		--add "$objs/objects/objects.ebpf.o" --add "$objs/kptr_map/kptr_map.ebpf.o" \
		"$dir/guest.sh" 2>&1)
	for mode in 0 1; do
		line=$(echo "$vm" | sed -n "s/^objects $mode: //p")
		check "$newest in the VM: new/delete mode $mode" \
			"retval=$((2 - mode)) results[0]=$((40 + mode)) results[1]=$((1 - mode))" \
			"$(echo "$line" | grep -o -e 'retval=[0-9]*' -e 'results\[[01]\]=[0-9]*' | tr '\n' ' ' | sed 's/ $//')"
	done
	line=$(echo "$vm" | sed -n 's/^kptr: //p')
	check "$newest in the VM: objects kept in a map (kptrs)" \
		"retval=2 retval=2 retval=1 retval=2 retval=2 stats[0]=2 stats[1]=1 stats[2]=60 stats[3]=42" \
		"$(echo "$line" | grep -o -e 'retval=[0-9]*' -e 'stats\[[0-3]\]=[0-9]*' | tr '\n' ' ' | sed 's/ $//')"
	[ -n "$line" ] || echo "$vm" | tail -20 | sed 's/^/    vm: /'
else
	fail "$newest: objects to run in the VM" "not built (see above)"
fi
