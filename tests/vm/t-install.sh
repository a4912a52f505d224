#!/usr/bin/env bash
# ksc install / status / uninstall.  On the host: the input errors (no built
# tree, not root, no interface), XDP and tc on lo attached, shown and taken
# down, and a load failure unwound.  In a VM of every kernel of the matrix
# (tests/lib.sh kernel_matrix), with the kernel's own suite's ksc (built and
# linked in the trixie root for a Debian 13 kernel): without bpffs ksc
# mounts it; examples/kfunc_stats.ks built by `ksc build`,
# installed with its XDP program on lo (module, BTF, object, link pinned),
# ping on lo runs it after ksc has exited and its kfuncs fill the pinned
# results map, uninstall leaves no module and no pins; uninstall keeps a
# module a program outside the installation holds; install over the same
# module loaded by insmod; a tree whose module's vermagic is not the
# kernel's (refused by ksc before insertion), and one
# whose eBPF object libbpf refuses after the module went in, both fail and
# leave nothing behind.  Then tc: tests/kmod/progs/kfunc_tc.ks (module
# kfuncs called from a tc ingress program), installed on lo after the
# image's own sch_ingress and cls_bpf went in; two pings run it and its
# kfuncs count and judge the packets into the pinned map; uninstall
# leaves no module, no pins and no clsact qdisc on lo.
source tests/lib.sh

dir=$(scratch install)
name=kfunc_stats

# ---- host: bad input, one line and exit 1, nothing created ----
mkdir -p "$dir/notbuilt"
out=$(./ksc install "$dir/notbuilt" 2>&1)
rc=$?
if [ $rc = 1 ] && grep -q "not a built tree.*make -C" <<<"$out"; then
	pass "host: install of an unbuilt tree says to build it"
else
	fail "host: install of an unbuilt tree" "rc $rc" "$out"
fi
out=$(./ksc install "$dir/none" 2>&1)
check "host: install of a missing directory fails" "1" "$?"
./ksc -q build tests/vm/progs/attach_count.ks -o "$dir/host-tree" >"$dir/host-build.log" 2>&1 ||
	fail "host: build a tree" "$(tail -5 "$dir/host-build.log")"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups ./ksc install "$dir/host-tree" 2>&1)
	rc=$?
	if [ $rc = 1 ] && grep -q "needs root" <<<"$out" && [ "$(wc -l <<<"$out")" = 1 ]; then
		pass "host: install as non-root is one error line"
	else
		fail "host: install as non-root" "rc $rc" "$out"
	fi
else
	skip "host: install as non-root" "needs root and setpriv"
fi
out=$(./ksc uninstall "no_such_thing_$$" 2>&1)
check "host: uninstall of something not installed fails" "1" "$?"
out=$(./ksc install "$dir/host-tree" --iface no-such-if0 2>&1)
check "host: install with an unknown interface fails" "1" "$?"

# ---- host: XDP and tc on lo, and the unwind after a failed load ----
cat >"$dir/hx.ks" <<'EOF'
include "xdp.kh"

var hits : array<u32, u64>(4)

@xdp
fn hx_xdp(ctx: *xdp_md) -> xdp_action {
    hits[0] = hits[0] + 1
    return XDP_PASS
}

@tc("ingress")
fn hx_tc(ctx: *__sk_buff) -> i32 {
    hits[1] = hits[1] + 1
    return 0
}

@tc("egress")
fn hx_tc_out(ctx: *__sk_buff) -> i32 {
    hits[2] = hits[2] + 1
    return 0
}

fn main() -> i32 {
    return 0
}
EOF
pins=/sys/fs/bpf/ksc/hx
if [ "$(id -u)" != 0 ] || ! need_bpffs 2>/dev/null || ! command -v tc >/dev/null; then
	skip "host: xdp and tc on lo" "needs root, bpffs and tc"
elif ! ./ksc -q build "$dir/hx.ks" -o "$dir/hx" >"$dir/hx.log" 2>&1; then
	fail "host: build hx" "$(tail -5 "$dir/hx.log")"
elif [ -e $pins ]; then
	skip "host: xdp and tc on lo" "$pins exists already"
else
	out=$(./ksc install "$dir/hx" --iface lo 2>&1)
	check "host: install xdp+tc on lo" "0" "$?"
	st=$(./ksc status hx 2>&1)
	if grep -q '^  link hx_xdp: xdp on lo' <<<"$st" && grep -q '^  link hx_tc: tc ingress on lo' <<<"$st" &&
		grep -q '^  link hx_tc_out: tc egress on lo' <<<"$st" &&
		tc filter show dev lo ingress | grep -q 'hx_tc ' && tc filter show dev lo egress | grep -q 'hx_tc_out'; then
		pass "host: status shows the xdp link and the tc filters, each in its .ks direction"
	else
		fail "host: status shows the xdp link and the tc filters" "$out" "$st" \
			"$(tc filter show dev lo ingress; tc filter show dev lo egress)"
	fi
	out=$(./ksc install "$dir/hx" --iface lo 2>&1)
	if [ $? = 1 ] && grep -q "already installed" <<<"$out"; then pass "host: a second install is refused"; else
		fail "host: a second install is refused" "$out"
	fi
	out=$(./ksc uninstall hx 2>&1)
	check "host: uninstall hx" "0" "$?"
	if [ ! -e $pins ] && ! tc filter show dev lo ingress | grep -q hx_tc &&
		! tc filter show dev lo egress | grep -q hx_tc &&
		! tc qdisc show dev lo | grep -q clsact && ! ip link show lo | grep -q xdp; then
		pass "host: uninstall detaches xdp and tc and unpins"
	else
		fail "host: uninstall detaches xdp and tc and unpins" "$out" "$(tc qdisc show dev lo)"
	fi
	# A map pinned in the way (another value size): the load fails after
	# the pin directories were made; they go, the map found there stays.
	mkdir -p $pins/maps
	if bpftool map create $pins/maps/hits type array key 4 value 4 entries 4 name hits 2>"$dir/err"; then
		out=$(./ksc install "$dir/hx" --iface lo 2>&1)
		rc=$?
		left=$(cd $pins && find . | sort | tr '\n' ' ')
		if [ $rc = 1 ] && [ "$left" = ". ./maps ./maps/hits " ] && ! ip link show lo | grep -q xdp; then
			pass "host: a failed load unwinds and leaves the pin it found"
		else
			fail "host: a failed load unwinds" "rc $rc" "left: $left" "$out"
		fi
	else
		fail "host: bpftool map create" "$(cat "$dir/err")"
	fi
	rm -rf $pins
	# An install killed midway leaves NAME/installing-PID: status marks it
	# incomplete (and status NAME exits 1), a new install is refused, and
	# uninstall takes down what it left.  A kill that lands in time is tried
	# first; else the directory a dead pid would have left is made by hand.
	for delay in 0.02 0.05 0.1 0.15 0.2 0.3; do
		./ksc -q install "$dir/hx" --iface lo >/dev/null 2>&1 &
		pid=$!
		sleep $delay
		kill -9 $pid 2>/dev/null
		wait $pid 2>/dev/null
		ls -d $pins/installing-* >/dev/null 2>&1 && break
		./ksc -q uninstall hx >/dev/null 2>&1
	done
	if ! ls -d $pins/installing-* >/dev/null 2>&1; then
		true &
		pid=$!
		wait $pid
		./ksc -q install "$dir/hx" --iface lo >/dev/null 2>&1 && mkdir $pins/installing-$pid
	fi
	st=$(./ksc status hx 2>"$dir/err")
	rc=$?
	if [ $rc = 1 ] && grep -q "^  state: incomplete: ksc install (pid $pid) was interrupted; 'ksc uninstall hx' removes what it left" <<<"$st" &&
		[ "$(cat "$dir/err")" = "ksc: warning: the install of hx is incomplete (interrupted): 'ksc uninstall hx'" ]; then
		pass "host: status marks an interrupted install incomplete, exit 1"
	else
		fail "host: status marks an interrupted install incomplete" "rc $rc" "$st" "$(cat "$dir/err")"
	fi
	out=$(./ksc install "$dir/hx" --iface lo 2>&1)
	rc=$?
	if [ $rc = 1 ] && [ "$out" = "ksc: error: an install of hx was interrupted (pid $pid): 'ksc uninstall hx' removes what it left" ]; then
		pass "host: an install over an interrupted one is refused"
	else
		fail "host: an install over an interrupted one is refused" "rc $rc" "$out"
	fi
	out=$(./ksc uninstall hx 2>&1)
	rc=$?
	if [ $rc = 0 ] && [ ! -e $pins ] && ! ip link show lo | grep -q xdp &&
		! tc qdisc show dev lo | grep -q clsact; then
		pass "host: uninstall takes down an interrupted install"
	else
		fail "host: uninstall takes down an interrupted install" "rc $rc" "$out" "$(tc qdisc show dev lo)"
	fi
	rm -rf $pins
fi

# ---- the VM ----
cat >"$dir/guest.sh" <<'GUEST'
n=kfunc_stats
left() {
	[ -e /sys/module/$n ] && echo "$1: module left"
	[ -e /sys/fs/bpf/ksc/$n ] && echo "$1: pins left"
	echo "$1: checked"
}
echo "== nobpffs"
umount /sys/fs/bpf
/ksc/ksc status
echo "nobpffs rc $?"
grep -q '^bpf /sys/fs/bpf bpf ' /proc/mounts && echo "bpffs mounted again"
echo "== install"
/ksc/ksc install /ksc/tree --iface lo
echo "install rc $?"
/ksc/ksc status
echo "status rc $?"
/ksc/ksc status $n
echo "status NAME rc $?"
ping -c 3 -i 0.2 -W 1 127.0.0.1 >/dev/null
echo "ping rc $?"
/ksc/ksc status $n | sed -n 's/^  map results:/after ping:/p'
/ksc/ksc uninstall $n
echo "uninstall rc $?"
left uninstall
echo "== preloaded"
insmod /ksc/tree/kmod/$n.ko && echo "insmod done"
/ksc/ksc install /ksc/tree --iface lo
echo "preloaded rc $?"
/ksc/ksc uninstall $n
echo "preloaded uninstall rc $?"
left preloaded
echo "== inuse"
/ksc/ksc -q install /ksc/tree --iface lo
# The XDP link moved out of ksc's tree (bpffs renames): a holder ksc did not make.
mv /sys/fs/bpf/ksc/$n/links/stats_xdp /sys/fs/bpf/held
/ksc/ksc uninstall $n
echo "inuse rc $?"
[ -e /sys/module/$n ] && echo "inuse: module kept"
[ -e /sys/fs/bpf/ksc/$n ] || echo "inuse: own pins gone"
rm /sys/fs/bpf/held
/ksc/ksc uninstall $n
echo "inuse again rc $?"
left inuse
echo "== badko"
/ksc/ksc install /ksc/badko --iface lo
echo "badko rc $?"
left badko
echo "== badobj"
/ksc/ksc install /ksc/badobj --iface lo
echo "badobj rc $?"
left badobj
echo "== tc"
for m in $(cat /ksc/mods/order); do insmod "/ksc/mods/$m" || echo "insmod $m failed"; done
/ksc/ksc install /ksc/tc --iface lo
echo "tc install rc $?"
/ksc/ksc status kfunc_tc | grep '^  link '
ping -c 3 -s 100 -i 0.2 -W 1 127.0.0.1 >/dev/null
echo "tc ping rc $?"
ping -c 2 -s 200 -i 0.2 -W 1 127.0.0.1 >/dev/null
echo "tc ping200 rc $?"
/ksc/ksc status kfunc_tc | sed -n 's/^  map seen:/tc seen:/p'
/ksc/ksc uninstall kfunc_tc
echo "tc uninstall rc $?"
tc qdisc show dev lo | grep -q clsact && echo "tc: clsact left"
n=kfunc_tc left tc
echo "== end"
GUEST

for k in $(kernel_matrix); do
	start=$SECONDS
	if ! kernel_env "$k" 2>"$dir/err"; then
		fail "$k kernel and its suite's ksc" "$(cat "$dir/err")"
		continue
	fi
	out=$dir/$k
	mkdir -p "$out"
	# The kernel's own suite's ksc builds the tree (the eBPF side against
	# the kernel's BTF) and runs in the guest, with its libraries.
	if ! on_suite "$suite" "$mksc" -q build examples/$name.ks -o "$out/tree" --btf "$btf" \
		--kdir "$kdir" ${base:+--btf-base "$base"} >"$out.build.log" 2>&1 ||
		[ ! -e "$out/tree/kmod/$name.ko" ]; then
		fail "$k ksc build $name" "$(tail -20 "$out.build.log")"
		continue
	fi
	pass "$k ksc build $name"
	# A module built for another kernel (its version magic says not SMP:
	# ksc refuses it before the kernel sees it), and an object libbpf
	# refuses after a good module went in.
	for bad in badko badobj; do
		mkdir -p "$out/$bad/kmod"
		cp "$out/tree/$name.ebpf.o" "$out/$bad/"
		cp "$out/tree/kmod/$name.ko" "$out/$bad/kmod/"
	done
	perl -pi -e 's/(vermagic=\S+) SMP/$1 XMP/' "$out/badko/kmod/$name.ko"
	head -c 200 "$out/tree/kmod/$name.ko" >"$out/badobj/$name.ebpf.o"
	# kfunc_tc as a built tree: its module (the one the kmod tests built for
	# this kernel) in the tree of its eBPF side; and the image's tc modules.
	tcsrc=tests/kmod/progs/kfunc_tc.ks
	rm -rf "$out/tc"
	if tcb=$(kmod_build "$k" "$mksc" "$kdir" "$base" "$tcsrc") &&
		ebpf_build "$suite" "$mksc" "$tcsrc" "$btf" "$out/tc"; then
		mkdir -p "$out/tc/kmod" && cp "$tcb/out/kmod/kfunc_tc.ko" "$out/tc/kmod/"
	else
		fail "$k kfunc_tc tree" "$(cat "$tcb/build.log" "$out/tc.log" 2>/dev/null | tail -20)"
	fi
	image_modules "$k" "$out/mods" sch_ingress cls_bpf 2>"$dir/err" ||
		fail "$k image modules sch_ingress cls_bpf" "$(cat "$dir/err")"

	sysargs=()
	[ -z "$sysroot" ] || sysargs=(--sysroot "$sysroot")
	scripts/vmtest --kernel "$vmlinuz" --timeout 180 --bin "$mksc:/ksc/ksc" "${sysargs[@]}" \
		--add "$out/tree:tree" --add "$out/badko:badko" --add "$out/badobj:badobj" \
		--add "$out/tc:tc" --add "$out/mods:mods" "$dir/guest.sh" >"$out/console.log" 2>&1
	log=$(tr -d '\r' <"$out/console.log")
	part() { sed -n "/^== $1\$/,/^== /p" <<<"$log"; }

	install=$(part install)
	check "$k install" "install rc 0" "$(grep '^install rc' <<<"$install")"
	check "$k status" "status rc 0|status NAME rc 0" "$(grep -E '^status (NAME )?rc' <<<"$install" | paste -sd'|')"
	if grep -q "^$name: installed, module loaded, 1 attached (stats_xdp xdp on lo)\(, [0-9]* loaded only\)\?, [0-9]* maps\?$" <<<"$install"; then
		pass "$k status: one line for the install"
	else
		fail "$k status: one line for the install" "$install"
	fi
	if grep -q "^  module $name: loaded" <<<"$install" &&
		grep -q "^  module BTF: /sys/kernel/btf/$name" <<<"$install" &&
		grep -q "^  link stats_xdp: xdp on lo, program stats_xdp (xdp, id" <<<"$install"; then
		pass "$k status lists the module, its BTF and the XDP link"
	else
		fail "$k status lists module, BTF, XDP link" "$install"
	fi
	# ping: 3 requests and 3 replies through lo's XDP hook; each packet
	# is 98 bytes; ksc_stats_scale(21, 2) is 42.
	results=$(grep '^after ping:' <<<"$install")
	if [[ $results =~ \[0\]=([0-9]+)\ \[1\]=([0-9]+)\ \[2\]=42\  ]] &&
		((BASH_REMATCH[1] >= 6 && BASH_REMATCH[2] == 98)); then
		pass "$k ping on lo ran the pinned XDP program and its kfuncs ($results)"
	else
		fail "$k kfunc results after ping" "$results" "$install"
	fi
	check "$k uninstall" "uninstall rc 0" "$(grep '^uninstall rc' <<<"$install")"
	check "$k uninstall leaves no module and no pins" "uninstall: checked" \
		"$(grep '^uninstall:' <<<"$install")"

	nob=$(part nobpffs)
	if grep -q '^nobpffs rc 0$' <<<"$nob" && grep -q '^bpffs mounted again$' <<<"$nob" &&
		grep -q 'mounted bpffs' <<<"$nob"; then
		pass "$k without bpffs ksc mounts it"
	else
		fail "$k without bpffs" "$nob"
	fi
	inuse=$(part inuse)
	if grep -q '^inuse rc 1$' <<<"$inuse" && grep -q 'still in use' <<<"$inuse" &&
		grep -q '^inuse: module kept$' <<<"$inuse" && grep -q '^inuse: own pins gone$' <<<"$inuse"; then
		pass "$k uninstall refuses a module held by a program it did not install"
	else
		fail "$k uninstall refuses a module in use" "$inuse"
	fi
	if grep -q '^inuse again rc 0$' <<<"$inuse" && grep -q '^inuse: checked$' <<<"$inuse" &&
		! grep -q '^inuse: .* left$' <<<"$inuse"; then
		pass "$k ... and removes it once that program is gone"
	else
		fail "$k uninstall after the holder went" "$inuse"
	fi
	pre=$(part preloaded)
	if grep -q '^preloaded rc 0$' <<<"$pre" && grep -q "already loaded (same build)" <<<"$pre" &&
		grep -q '^preloaded uninstall rc 0$' <<<"$pre"; then
		pass "$k install over the same module loaded by insmod"
	else
		fail "$k install over the same module loaded by insmod" "$pre"
	fi
	check "$k ... and uninstall removes it" "preloaded: checked" "$(grep '^preloaded:' <<<"$pre")"

	badko=$(part badko)
	# ksc compares the vermagic itself, before the kernel is asked: one line.
	if grep -q '^badko rc 1$' <<<"$badko" &&
		grep -q "^ksc: error: /ksc/badko/kmod/$name.ko was built for [^,]*, this kernel is [^:]* SMP[^:]*: rebuild it with --kdir /lib/modules/[^ ]*/build$" <<<"$badko" &&
		! grep -q "inserting" <<<"$badko"; then
		pass "$k install of a module built for another kernel is refused before insertion"
	else
		fail "$k install of a module built for another kernel" "$badko"
	fi
	check "$k ... and leaves nothing" "badko: checked" "$(grep '^badko:' <<<"$badko")"
	badobj=$(part badobj)
	if grep -q '^badobj rc 1$' <<<"$badobj" && grep -q "undoing the install" <<<"$badobj"; then
		pass "$k install of a bad object after the module fails"
	else
		fail "$k install of a bad object" "$badobj"
	fi
	check "$k ... and removes the module it inserted" "badobj: checked" \
		"$(grep '^badobj:' <<<"$badobj")"
	tc=$(part tc)
	check "$k tc: install on lo's ingress" "tc install rc 0" "$(grep '^tc install rc' <<<"$tc")"
	if grep -q '^  link judge_in.*tc ingress.* lo' <<<"$tc"; then
		pass "$k tc: status lists the tc ingress attachment"
	else
		fail "$k tc: status lists the tc ingress attachment" "$tc"
	fi
	# 3 requests and 3 replies of 142 bytes passed, 2 requests of 242
	# dropped by the module's verdict (so ping -s 200 gets no reply).
	check "$k tc: pings and the module's verdicts" \
		"tc ping rc 0|tc ping200 rc 1|tc seen: array, 4 entries: [0]=6 [1]=2 [2]=852 [3]=8" \
		"$(grep -E '^tc (ping|ping200) rc' <<<"$tc" | paste -sd'|')|$(grep '^tc seen:' <<<"$tc" | sed 's/ *$//')"
	check "$k tc: uninstall leaves no module, no pins, no clsact" "tc uninstall rc 0|tc: checked" \
		"$(grep -E '^tc uninstall rc|^tc:' <<<"$tc" | paste -sd'|')"
	grep -q '^insmod .* failed' <<<"$log" && fail "$k image tc modules inserted" "$(grep '^insmod .* failed' <<<"$log")"
	grep -q '^== end$' <<<"$log" || fail "$k guest ran to the end" "$(tail -20 <<<"$log")"
	echo "# $k: $((SECONDS - start)) s"
done
