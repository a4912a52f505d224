#!/usr/bin/env bash
# scripts/kernels and scripts/vmtest on Debian's 6.1 and 6.12 kernels.  Two
# boots per kernel: one guest checks the release, the added files, bpffs, a
# --bin program with its shared libraries, its arguments and hands back exit
# status 3; one sleeps past --timeout.  A third boot on 6.1 panics.
source tests/lib.sh

dir=$(scratch vmtest)
mkdir -p "$dir/tmp"
# vmtest makes its work directory under TMPDIR: its qemu command line then
# names this directory, so leftovers are easy to find.
export TMPDIR=$dir/tmp

# A qemu process still running from one of this script's boots, if any.
leftover_qemu() { pgrep -af "qemu-system.*$TMPDIR" || true; }

token="ksc-$$-$RANDOM"
printf 'first line %s\nsecond line\n' "$token" >"$dir/data.txt"
printf '%s\n' "$token" >"$dir/etc-file"
cat >"$dir/guest.sh" <<'EOF'
echo "uname: $(uname -r)"
echo "added: $(tr '\n' '|' </ksc/data.txt)"
echo "dest: $(cat /etc/ksc-test/file)"
grep -q '^bpf /sys/fs/bpf bpf ' /proc/mounts && echo "bpffs: mounted"
echo "kmod: $(/ksc/kmod --version | head -n 1)"
echo "args: $#|$1|$2"
exit 3
EOF
kmod_version=$(kmod --version | head -n 1)

for k in 6.1 6.12; do
	if ! kver=$(scripts/kernels kver "$k" 2>"$dir/err"); then
		fail "$k kver" "$(cat "$dir/err")"
		continue
	fi
	pass "$k kver"
	if kdir=$(scripts/kernels kdir "$k" 2>"$dir/err"); then
		check "$k kdir" "$(readlink -f "/lib/modules/$kver/build")" "$kdir"
	else
		fail "$k kdir" "$(cat "$dir/err")"
	fi
	if ! scripts/kernels vmlinuz "$k" >/dev/null 2>"$dir/err"; then
		fail "$k vmlinuz" "$(cat "$dir/err")"
		continue
	fi
	pass "$k vmlinuz"

	out=$dir/boot-$k.out
	start=$SECONDS
	scripts/vmtest --kernel "$k" --add "$dir/data.txt" --add "$dir/etc-file:/etc/ksc-test/file" \
		--bin kmod "$dir/guest.sh" "two words" "it's" >"$out" 2>"$dir/boot-$k.err"
	rc=$?
	echo "boot on $k: $((SECONDS - start)) s"
	sed 's/^/    | /' "$out" "$dir/boot-$k.err"
	check "$k uname" "$kver" "$(sed -n 's/^uname: //p' "$out")"
	check "$k exit status" 3 "$rc"
	check "$k added file" "first line $token|second line|" "$(sed -n 's/^added: //p' "$out")"
	check "$k added file at dest" "$token" "$(sed -n 's/^dest: //p' "$out")"
	check "$k bpffs" "mounted" "$(sed -n 's/^bpffs: //p' "$out")"
	check "$k bin with libraries" "$kmod_version" "$(sed -n 's/^kmod: //p' "$out")"
	check "$k arguments" "2|two words|it's" "$(sed -n 's/^args: //p' "$out")"
	check "$k no marker in output" "" "$(grep vmtest-status "$out")"

	# The guest never ends: vmtest must give up on time and clean up.
	start=$SECONDS
	echo 'echo sleeping; sleep 100000' |
		scripts/vmtest --kernel "$k" --timeout 15 - >"$dir/sleep-$k.out" 2>"$dir/sleep-$k.err"
	rc=$? took=$((SECONDS - start))
	echo "timeout boot on $k: $took s"
	sed 's/^/    | /' "$dir/sleep-$k.out" "$dir/sleep-$k.err"
	check "$k timeout status" 124 "$rc"
	check "$k timeout message" "vmtest: timeout after 15 s" "$(grep '^vmtest:' "$dir/sleep-$k.err")"
	check "$k guest ran before timeout" sleeping "$(cat "$dir/sleep-$k.out")"
	# 15 s of qemu plus the initramfs; far less than the default 120 s.
	if ((took >= 15 && took <= 45)); then pass "$k timeout prompt"; else
		fail "$k timeout prompt" "took $took s for --timeout 15"
	fi
	check "$k no qemu left" "" "$(leftover_qemu)"
	check "$k work dir removed" "" "$(ls -A "$TMPDIR")"
done

# A guest that panics: no status, exit 125 and the reason on stderr.
echo 'echo c >/proc/sysrq-trigger; echo survived' |
	scripts/vmtest --kernel 6.1 --timeout 60 - >"$dir/panic.out" 2>"$dir/panic.err"
check "6.1 panic status" 125 "$?"
if grep -q 'Kernel panic' "$dir/panic.err" && ! grep -q survived "$dir/panic.out"; then
	pass "6.1 panic reported"
else
	fail "6.1 panic reported" "$(cat "$dir/panic.err")"
fi
check "6.1 no qemu left after panic" "" "$(leftover_qemu)"
