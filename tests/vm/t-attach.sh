#!/usr/bin/env bash
# Attach types the host cannot prove (its kernel refuses fentry here), proved
# in the VM on Debian's 6.1 and 6.12: the loader ksc generates from
# tests/vm/progs/attach_count.ks attaches an fentry probe, a kprobe and a
# tracepoint, sees each fire while the guest reads files, and detaches.
# The program is compiled against each guest kernel's own BTF.  One guest
# CPU: attaching and detaching rewrite kernel text under the reader, and
# qemu's TCG does not keep other CPUs coherent with that (a spurious int3
# oops in vfs_read, seen with two).
source tests/lib.sh

dir=$(scratch vm-attach)
src=tests/vm/progs/attach_count.ks
tool=$dir/kfunc-tool
build_kfunc_tool "$tool" ||
	{ fail "build kfunc-tool"; exit 0; }

for k in 6.1 6.12; do
	if ! kdir=$(scripts/kernels kdir "$k" 2>"$dir/err") ||
		! vmlinuz=$(scripts/kernels vmlinuz "$k" 2>"$dir/err"); then
		fail "$k kernel" "$(cat "$dir/err")"
		continue
	fi
	btf=$kdir/vmlinux
	if [ ! -e "$btf" ]; then
		btf=$dir/$k.btf
		"$tool" extract "$vmlinuz" "$btf" || { fail "$k base BTF"; continue; }
	fi
	out=$dir/$k
	if ! msg=$(./ksc -q compile "$src" --btf "$btf" -o "$out" 2>&1 && make -C "$out" 2>&1); then
		fail "$k build attach_count" "$msg"
		continue
	fi
	pass "$k build attach_count"
	cat >"$dir/guest.sh" <<'GUEST'
# The shell's own read(2), not cat (busybox cat copies with sendfile),
# paced so that detaching (which waits for RCU) is not starved.
(while :; do read -r line </proc/version; sleep 0.02; done) &
reader=$!
/ksc/attach_count
echo "loader exit $?"
kill $reader
GUEST
	scripts/vmtest --kernel "$vmlinuz" --timeout 240 --cpus 1 --bin "$out/attach_count" "$dir/guest.sh" \
		>"$out/console.log" 2>&1
	log=$(tr -d '\r' <"$out/console.log")
	check "$k loader attached, saw, detached" "loader exit 0" "$(grep '^loader exit' <<<"$log")"
	line=$(grep -E '^fentry [0-9]+ kprobe [0-9]+ tracepoint [0-9]+$' <<<"$log")
	read -r _ f _ kp _ tp <<<"$line"
	for what in "fentry:${f:-0}" "kprobe:${kp:-0}" "tracepoint:${tp:-0}"; do
		if [ "${what#*:}" -ge 3 ]; then pass "$k ${what%%:*} fired (${what#*:} times)"; else
			fail "$k ${what%%:*} fired" "$line" "$(tail -20 <<<"$log")"
		fi
	done
done
