#!/usr/bin/env bash
# Attach types the host cannot prove (its kernel refuses fentry here), proved
# in the VM on every kernel of the matrix (tests/lib.sh kernel_matrix): the
# loader ksc generates from tests/vm/progs/attach_count.ks attaches an
# fentry probe, a kprobe and a tracepoint, sees each fire while the guest
# reads files, and detaches.  The program is compiled by the kernel's own
# suite's ksc against that kernel's BTF, and the loader built and linked
# with that suite's libbpf.  One guest CPU: attaching and detaching
# rewrite kernel text under the reader, and qemu's TCG does not keep other
# CPUs coherent with that (a spurious int3 oops in vfs_read, seen with two).
source tests/lib.sh

dir=$(scratch vm-attach)
src=tests/vm/progs/attach_count.ks

for k in $(kernel_matrix); do
	if ! kernel_env "$k" 2>"$dir/err"; then
		fail "$k kernel and its suite's ksc" "$(cat "$dir/err")"
		continue
	fi
	out=$dir/$k
	if ! ebpf_build "$suite" "$mksc" "$src" "$btf" "$out" ||
		! on_suite "$suite" make -s -C "$out" >>"$out.log" 2>&1; then
		fail "$k build attach_count" "$(tail -20 "$out.log")"
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
	sysargs=()
	[ -z "$sysroot" ] || sysargs=(--sysroot "$sysroot")
	scripts/vmtest --kernel "$vmlinuz" --timeout 240 --cpus 1 --bin "$out/attach_count" \
		"${sysargs[@]}" "$dir/guest.sh" \
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
