#!/usr/bin/env bash
# scripts/kernels and scripts/vmtest on every kernel of the matrix
# (tests/lib.sh kernel_matrix).  One boot per kernel: the guest checks the
# release, the added files, bpffs, a --bin program with its shared libraries
# (this machine's for a bookworm kernel, the trixie root's through --sysroot
# for a trixie one), its arguments, inserts the image's own modules that
# scripts/kernels modules lists (dependencies first) and hands back exit
# status 3.  On the first kernel a second guest sleeps past --timeout, and on
# 6.1 a third panics (what vmtest does with them does not depend on the
# kernel).
source tests/lib.sh

dir=$(scratch vmtest)
mkdir -p "$dir/tmp"
# vmtest makes its work directory under TMPDIR: its qemu command line then
# names this directory, so leftovers are easy to find.
export TMPDIR=$dir/tmp

# A qemu process still running from one of this script's boots, if any.
leftover_qemu() { pgrep -af "qemu-system.*$TMPDIR" || true; }

# scripts/kernels' answers that need no download.
check "suite of 6.1" bookworm "$(scripts/kernels suite 6.1 2>&1)"
check "suite of 6.12" bookworm "$(scripts/kernels suite 6.12 2>&1)"
check "suite of 6.12-trixie" trixie "$(scripts/kernels suite 6.12-trixie 2>&1)"
check "suite of 7" trixie "$(scripts/kernels suite 7 2>&1)"
scripts/kernels suite 6 >"$dir/out" 2>"$dir/err"
check "bad series: status" 1 $?
check "bad series: one line" \
	"kernels: expected a kernel series such as 6.1, 6.12, 6.12-trixie or 7, got '6'" "$(cat "$dir/out" "$dir/err")"

# A series Debian does not serve: one line naming what is missing.
scripts/kernels kver 8 >"$dir/out" 2>"$dir/err"
check "unserved series: status" 1 $?
check "unserved series: one line" \
	"kernels: no linux-headers/linux-image pair at one version for 8.*+deb13-amd64 in trixie or trixie-backports" \
	"$(cat "$dir/out" "$dir/err" | grep -v 'waiting for another scripts/kernels run')"

# Modules the guest inserts: nf_conntrack depends on others (nf_defrag_ipv4,
# nf_defrag_ipv6, and on older kernels libcrc32c), so insmod in the printed
# order only works if the dependencies come first.
mods=(sch_ingress cls_bpf nf_conntrack)

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
loaded=
for m in $(cat /ksc/mods/order); do
	insmod "/ksc/mods/$m" || echo "insmod $m failed"
done
for m in sch_ingress cls_bpf nf_conntrack; do
	[ -e "/sys/module/$m" ] && loaded="$loaded $m"
done
echo "modules:$loaded"
exit 3
EOF

first=1
for k in $(kernel_matrix); do
	if ! kver=$(scripts/kernels kver "$k" 2>"$dir/err") || ! suite=$(scripts/kernels suite "$k" 2>>"$dir/err"); then
		fail "$k kver" "$(cat "$dir/err")"
		continue
	fi
	pass "$k kver"
	if kdir=$(scripts/kernels kdir "$k" 2>"$dir/err"); then
		if [ "$suite" = bookworm ]; then
			check "$k kdir" "$(readlink -f "/lib/modules/$kver/build")" "$kdir"
		else
			# Unpacked in the cache, its Makefile pointed at where it is.
			check "$k kdir" "linux-headers-$kver" "$(basename "$kdir")"
			check "$k kdir Makefile names no /usr/src" "" "$(grep -E '(^|[ =])/usr/src/' "$kdir/Makefile")"
			if [ -f "$kdir/.config" ] && [ -x "$kdir/scripts/basic/fixdep" ] &&
				grep -q "^include $(dirname "$kdir")/linux-headers-.*-common/Makefile" "$kdir/Makefile"; then
				pass "$k kdir complete"
			else
				fail "$k kdir complete" "$(ls -la "$kdir" 2>&1)" "$(cat "$kdir/Makefile" 2>&1)"
			fi
		fi
	else
		fail "$k kdir" "$(cat "$dir/err")"
	fi
	if ! scripts/kernels vmlinuz "$k" >/dev/null 2>"$dir/err"; then
		fail "$k vmlinuz" "$(cat "$dir/err")"
		continue
	fi
	pass "$k vmlinuz"

	# The image's modules, in insmod order.
	rm -rf "$dir/mods" && mkdir -p "$dir/mods"
	if list=$(scripts/kernels modules "$k" "${mods[@]}" 2>"$dir/err"); then
		for f in $list; do
			cp "$f" "$dir/mods/" && basename "$f" >>"$dir/mods/order"
		done
		check "$k modules are .ko files" "" "$(for f in $list; do
			[[ $f == *.ko ]] && [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] || echo "$f"
		done)"
		check "$k modules: nf_conntrack after its dependencies" nf_conntrack.ko "$(tail -n 1 "$dir/mods/order")"
	else
		fail "$k modules" "$(cat "$dir/err")"
		: >"$dir/mods/order"
	fi
	check "$k built-in module needs no file" "" "$(scripts/kernels modules "$k" tcp_cubic 2>/dev/null)"
	scripts/kernels modules "$k" no_such_module >"$dir/out" 2>"$dir/err"
	check "$k unknown module: status" 1 $?
	check "$k unknown module: one line" "kernels: no module no_such_module in the modules of $kver" \
		"$(cat "$dir/out" "$dir/err" | grep -v 'waiting for another scripts/kernels run')"

	# A trixie kernel's guest gets the trixie root's kmod with its libraries.
	sysroot=() want_kmod=$(kmod --version | head -n 1)
	if [ "$suite" != bookworm ]; then
		root=$(scripts/debroot path "$suite")
		sysroot=(--sysroot "$root")
		want_kmod=$(scripts/debroot run "$suite" -- kmod --version | head -n 1)
	fi
	out=$dir/boot-$k.out
	start=$SECONDS
	scripts/vmtest --kernel "$k" --add "$dir/data.txt" --add "$dir/etc-file:/etc/ksc-test/file" \
		--add "$dir/mods" "${sysroot[@]}" --bin kmod "$dir/guest.sh" "two words" "it's" >"$out" 2>"$dir/boot-$k.err"
	rc=$?
	echo "boot on $k: $((SECONDS - start)) s"
	sed 's/^/    | /' "$out" "$dir/boot-$k.err"
	check "$k uname" "$kver" "$(sed -n 's/^uname: //p' "$out")"
	check "$k exit status" 3 "$rc"
	check "$k added file" "first line $token|second line|" "$(sed -n 's/^added: //p' "$out")"
	check "$k added file at dest" "$token" "$(sed -n 's/^dest: //p' "$out")"
	check "$k bpffs" "mounted" "$(sed -n 's/^bpffs: //p' "$out")"
	check "$k bin with libraries" "$want_kmod" "$(sed -n 's/^kmod: //p' "$out")"
	check "$k arguments" "2|two words|it's" "$(sed -n 's/^args: //p' "$out")"
	check "$k image modules inserted" " ${mods[*]}" "$(sed -n 's/^modules://p' "$out" | tr -d '\r')"
	check "$k no marker in output" "" "$(grep vmtest-status "$out")"

	((first)) || continue
	first=0
	# The guest never ends: vmtest must give up on time and clean up.  60 s
	# leave the boot room when the other lane of tests/run keeps a core busy.
	start=$SECONDS
	echo 'echo sleeping; sleep 100000' |
		scripts/vmtest --kernel "$k" --timeout 60 - >"$dir/sleep-$k.out" 2>"$dir/sleep-$k.err"
	rc=$? took=$((SECONDS - start))
	echo "timeout boot on $k: $took s"
	sed 's/^/    | /' "$dir/sleep-$k.out" "$dir/sleep-$k.err"
	check "$k timeout status" 124 "$rc"
	check "$k timeout message" "vmtest: timeout after 60 s" "$(grep '^vmtest:' "$dir/sleep-$k.err")"
	check "$k guest ran before timeout" sleeping "$(cat "$dir/sleep-$k.out")"
	# 60 s of qemu plus building the initramfs, and no more.
	if ((took >= 60 && took <= 150)); then pass "$k timeout prompt"; else
		fail "$k timeout prompt" "took $took s for --timeout 60"
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
check "no vmtest work dir left" "" "$(ls -A "$TMPDIR")"

# --sysroot refuses what it cannot serve, in one line.
scripts/vmtest --kernel 6.1 --sysroot "$dir/none" - </dev/null >"$dir/out" 2>"$dir/err"
check "--sysroot without a root: status" 1 $?
check "--sysroot without a root: message" "vmtest: --sysroot: no such directory: $dir/none" "$(cat "$dir/out" "$dir/err")"
