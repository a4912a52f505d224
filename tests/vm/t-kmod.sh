#!/usr/bin/env bash
# ksc kmod build on every kernel of the matrix (tests/lib.sh kernel_matrix:
# Debian 12's 6.1 and backports 6.12, Debian 13's 6.12 and backports 7.x;
# the Debian 13 ones built with ksc, kbuild and clang inside the trixie root
# of scripts/debroot), then one VM boot of each kernel: every module loads,
# gets /sys/kernel/btf/NAME, an eBPF program compiled by ksc from the same
# file, against that kernel's BTF, calls each kfunc (from XDP through
# BPF_PROG_TEST_RUN; from a tc ingress program attached on lo, with the
# image's own sch_ingress and cls_bpf, while ping runs; from syscall
# programs through the file's generated loader), and the module unloads.
# Then `ksc call` and `ksc kfuncs --module` in the same guest, with the
# suite's own ksc: kfunc_from_user's kfuncs (registered for syscall
# programs) called from the shell; calling kfunc_stats' (XDP only) fails.
# Expected values follow from the .ks sources (see each program's comment).
# The same again on a kernel developer's own tree where this machine has one
# built (tests/lib.sh own_trees: Debian's 7.x source built small in place,
# scripts/kernel-tree): the tree is the KDIR (its own vmlinux and
# resolve_btfids), its bzImage boots, tc is built in; a module signed by
# ksc with the tree's own key loads without the unsigned-module taint that
# the same module unsigned gets.  Then signatures enforced
# (module.sig_enforce=1, a second boot of 6.1 and of the own tree): the
# unsigned module refused by insmod and by ksc install, which says how to
# sign and enrol; on 6.1 one signed by a key the kernel lacks refused with
# its signer named; on the own tree the one signed by its key installed and
# its kfuncs run.
# The modules are the ones tests/kmod/t-kmod-build.sh built and checked, when
# it ran before in the same output directory (tests/lib.sh kmod_build).
source tests/lib.sh

dir=$(scratch kmod-vm)
progs=(examples/kfunc_stats.ks tests/kmod/progs/*.ks tests/ks/pass/kfunc_module_state.ks
	tests/ks/pass/kfunc_from_user.ks)

# How bpfrun runs each file's entry program (3 runs on a 100-byte packet,
# then the map its eBPF side stores results in), or "loader": the file's
# own generated loader, which calls the kfuncs from userspace through
# syscall programs (the procfs replacement path).  Then what it must print.
# kfunc_tc's program is attached at lo's tc ingress while two pings run:
# 3 of 100 bytes (each request and reply is a 142-byte frame there, which
# the module lets pass) and 2 of 200 (242 bytes: the module's verdict drops
# the requests, so that ping gets no reply and exits 1).
tcping='ping -c 3 -s 100 -i 0.2 -W 2 127.0.0.1 >/dev/null; echo ping $?; ping -c 2 -s 200 -i 0.2 -W 1 127.0.0.1 >/dev/null; echo ping $?'
declare -A run=(
	[kfunc_stats]="stats_xdp -s 100 -n 3 -m results"
	[kf_objects]="objects_xdp -s 100 -n 3 -m out"
	[private_kfunc]="xdp_main -s 100 -n 3"
	[kfunc_module_state]="scaled -s 2000 -n 1"
	[kfunc_from_user]=loader
	[kfunc_tc]="-l --tc-ingress judge_in@lo --run '$tcping' -m seen"
)
declare -A want=(
	# scale_sample(2000) = 16000 > 12000: XDP_DROP; acquire/release in between.
	[kfunc_module_state]="retval=1"
	# checksum_range(10, 20) = 10*20 + 0+1+...+19.
	[kfunc_from_user]="checksum 390 after 1 queries"
	[kfunc_stats]="retval=2 results[0]=3 results[1]=100 results[2]=42 results[3]=0"
	[kf_objects]="retval=2 out[0]=0 out[1]=5 out[2]=12 out[3]=33 out[4]=1 out[5]=0 out[6]=0 out[7]=0"
	# XDP_PASS only when process_value(42) returned 84, not 0.
	[private_kfunc]="retval=2"
	# 6 passed (3 requests, 3 replies), 2 dropped, 6 * 142 bytes passed,
	# 8 packets of the test seen.
	[kfunc_tc]="loaded judge_in attached judge_in at tc ingress of lo ping 0 ping 1 seen[0]=6 seen[1]=2 seen[2]=852 seen[3]=8"
)

# The reference's own module example, where a snapshot of it is at hand.
if reference_repo "private_kfunc example" &&
	git -C "$repo" show HEAD:examples/private_kfunc.ks >"$dir/private_kfunc.ks" 2>/dev/null; then
	progs+=("$dir/private_kfunc.ks")
fi

bpfrun=$dir/bpfrun
cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c \
	-lbpf -lelf -lz -lzstd || { fail "build static bpfrun"; exit 1; }

# Builds every program for one kernel series and writes the guest script.
# rmmod is retried: the kernel drops a finished program's hold on the module
# (through its BTF) a moment after the program's last fd is closed.
build_series() {
	local k=$1 name src b
	out=$dir/$1
	mkdir -p "$out"
	cat >"$out/guest.sh" <<'EOF'
for m in $(cat /ksc/mods/order); do insmod "/ksc/mods/$m" || echo "insmod $m failed"; done
EOF
	for src in "${progs[@]}"; do
		name=$(basename "$src" .ks)
		[ -n "${run[$name]:-}" ] || continue
		if ! b=$(kmod_build "$k" "$mksc" "$kdir" "$base" "$src"); then
			fail "$k kmod build $name" "$(cat "$b/build.log")"
			continue
		fi
		pass "$k kmod build $name"
		if ! ebpf_build "$suite" "$mksc" "$src" "$btf" "$out/$name-bpf"; then
			fail "$k ebpf object $name" "$(cat "$out/$name-bpf.log")"
			continue
		fi
		cp "$b/out/kmod/$name.ko" "$out/$name.ko"
		if [ "${run[$name]}" = loader ]; then
			# The whole tree: eBPF object, skeleton and loader.
			if ! on_suite "$suite" make -s -C "$out/$name-bpf" >>"$out/$name-bpf.log" 2>&1; then
				fail "$k loader $name" "$(cat "$out/$name-bpf.log")"
				rm "$out/$name.ko"
				continue
			fi
			cp "$out/$name-bpf/$name" "$out/$name.loader"
			guest_lines "$name" "/ksc/$name.loader"
			continue
		fi
		cp "$out/$name-bpf/$name.ebpf.o" "$out/$name.ebpf.o"
		if [[ ${run[$name]} == -l* ]]; then
			guest_lines "$name" "/ksc/bpfrun ${run[$name]} /ksc/$name.ebpf.o"
		else
			guest_lines "$name" "/ksc/bpfrun /ksc/$name.ebpf.o ${run[$name]}"
		fi
	done
	# ksc call: both modules in at once; one "name: value" line per case,
	# stderr folded in.
	cat >>"$out/guest.sh" <<'EOF'
echo "== call"
ksc=/ksc/ksc
insmod /ksc/kfunc_from_user.ko && echo "loaded: yes"
insmod /ksc/kfunc_stats.ko && echo "loaded stats: yes"
echo "sum: $($ksc call checksum_range 10 20 2>&1)"
echo "q1: $($ksc call module_queries 2>&1)"
echo "q2: $($ksc call module_queries 2>&1)"
echo "q3: $($ksc call module_queries --module kfunc_from_user 2>&1)"
echo "hex: $($ksc call checksum_range 10 20 -x 2>&1)"
$ksc kfuncs --module kfunc_from_user 2>/dev/null | sed 's/^/kfuncs: /'
$ksc kfuncs --btf /ksc/kfunc_from_user.ko --kh 2>&1 | sed 's/^/kh: /'
r=$($ksc call no_such_kfunc 2>&1); echo "unknown: $r rc=$?"
r=$($ksc call checksum_range 10 2>&1); echo "argc: $r rc=$?"
r=$($ksc call checksum_range 10 5000000000 2>&1); echo "range: $r rc=$?"
r=$($ksc call ksc_stats_avg 2>&1); echo "notsys: $r rc=$?"
for m in kfunc_from_user kfunc_stats; do
	for i in 1 2 3 4 5 6 7 8 9 10; do rmmod $m 2>/dev/null && break; sleep 0.3; done
	[ ! -e /sys/module/$m ] && echo "unloaded $m: yes"
done
echo "== end"
EOF
}

# guest_lines NAME COMMAND: load the module, run COMMAND, unload.
guest_lines() {
	cat >>"$out/guest.sh" <<EOF
echo "== $1"
insmod /ksc/$1.ko && echo "loaded $1"
[ -e /sys/kernel/btf/$1 ] && echo "btf $1"
echo "out: \$($2 | tr '\n' ' ')"
for i in 1 2 3 4 5 6 7 8 9 10; do rmmod $1 2>/dev/null && break; sleep 0.3; done
[ ! -e /sys/module/$1 ] && echo "unloaded $1"
EOF
}

# ksc call's checks on the guest's "call" section.
check_call() {
	local k=$1 log
	log=$(sed -n '/^== call$/,/^== end$/p' "$out/console.log" | tr -d '\r')
	# field NAME: the guest's "NAME: value" lines.
	field() { sed -n "s/^$1: //p" <<<"$log" | sed 's/ *$//'; }
	check "$k call: modules loaded" "yes yes" "$(field loaded) $(field 'loaded stats')"
	# checksum_range(10, 20) = 10*20 + 0+1+...+19.
	check "$k call checksum_range 10 20" 390 "$(field sum)"
	check "$k call module_queries twice" "1 2" "$(field q1) $(field q2)"
	check "$k call --module" 3 "$(field q3)"
	check "$k call -x" 0x186 "$(field hex)"
	check "$k kfuncs --module" "u64 checksum_range(u64 start, u32 len)|u64 module_queries(void)" \
		"$(field kfuncs | grep -E 'checksum_range|module_queries' | paste -sd'|')"
	check "$k kfuncs --btf KO --kh" \
		"extern checksum_range(start: u64, len: u32) -> u64|extern module_queries() -> u64" \
		"$(field kh | grep '^extern' | paste -sd'|')"
	check "$k call unknown kfunc" \
		"ksc: error: unknown kfunc 'no_such_kfunc': no such function in the BTF of the kernel or any loaded module rc=1" \
		"$(field unknown | paste -sd' ')"
	check "$k call wrong arg count" \
		"ksc: error: checksum_range takes 2 arguments, not 1: u64 checksum_range(u64 start, u32 len) rc=1" \
		"$(field argc | paste -sd' ')"
	check "$k call argument out of range" \
		"ksc: error: argument '5000000000' does not fit parameter 'len' of checksum_range (u32) rc=1" \
		"$(field range | paste -sd' ')"
	check "$k call kfunc not registered for syscall programs" \
		"ksc: error: kfunc 'ksc_stats_avg' is not registered for syscall programs (BPF_PROG_TYPE_SYSCALL) rc=1" \
		"$(field notsys | paste -sd' ')"
	check "$k call: modules unloaded" "yes yes" \
		"$(field 'unloaded kfunc_from_user') $(field 'unloaded kfunc_stats')"
}

# own_tree_signed: for an own tree (tc built in: no image modules),
# kfunc_stats built again with `ksc kmod build --sign-key --sign-cert` and
# the tree's own key, which the guest loads first: the kernel takes it
# without the E taint (TAINT_UNSIGNED_MODULE, bit 13), which the unsigned
# modules then set.
own_tree_signed() {
	local s=$out/mods/kfunc_stats.ko
	if ! on_suite "$suite" "$mksc" kmod build examples/kfunc_stats.ks --kdir "$kdir" \
		--sign-key "$kdir/certs/signing_key.pem" --sign-cert "$kdir/certs/signing_key.x509" \
		-o "$out/signed" >"$out/signed.log" 2>&1; then
		fail "$k kmod build --sign-key with the tree's key" "$(tail -20 "$out/signed.log")"
		return 0
	fi
	cp "$out/signed/kmod/kfunc_stats.ko" "$s"
	{
		cat <<'EOF'
echo "== signed"
insmod /ksc/mods/kfunc_stats.ko && echo "signed loaded"
echo "taint after signed $(($(cat /proc/sys/kernel/tainted) >> 13 & 1))"
for i in 1 2 3 4 5 6 7 8 9 10; do rmmod kfunc_stats 2>/dev/null && break; sleep 0.3; done
EOF
		cat "$out/guest.sh"
		echo 'echo "taint at the end $(($(cat /proc/sys/kernel/tainted) >> 13 & 1))"'
	} >"$out/guest.sh.new" && mv "$out/guest.sh.new" "$out/guest.sh"
}

# own_tree_check_signed: the guest's "signed" section and final taint.
own_tree_check_signed() {
	[ -e "$out/mods/kfunc_stats.ko" ] || return 0
	check "$k module signed with the tree's key loads untainted; the unsigned then taint" \
		"signed loaded|taint after signed 0|taint at the end 1" \
		"$(tr -d '\r' <"$out/console.log" | grep -E '^(signed loaded|taint (after signed|at the end) )' | paste -sd'|')"
}

# enforce_boot: a second boot of the kernel, with module.sig_enforce=1:
# insmod and `ksc install` of the unsigned kfunc_stats are refused (ksc
# saying how to sign and enrol) and leave nothing.  On an own tree the
# module signed with the tree's key (own_tree_signed) then installs and its
# XDP program on lo runs its kfuncs; on a Debian kernel, whose key only
# Debian holds, one signed with a key of the test's own is refused, ksc
# naming its signer.
enforce_boot() {
	local e=$out/enforce t log trusted=0 key=$dir/untrusted
	[ -e "$out/kfunc_stats.ko" ] && [ -e "$out/kfunc_stats.ebpf.o" ] || return 0
	if [[ $k == tree-* ]]; then
		trusted=1
		[ -e "$out/signed/kmod/kfunc_stats.ko" ] || return 0
	elif ! openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj "/CN=ksc untrusted/" \
		-outform PEM -out "$key.x509" -keyout "$key.pem" >"$key.log" 2>&1 ||
		! on_suite "$suite" "$mksc" kmod build examples/kfunc_stats.ks --kdir "$kdir" \
			${base:+--btf-base "$base"} --sign-key "$key.pem" --sign-cert "$key.x509" \
			-o "$out/signed" >"$out/signed.log" 2>&1; then
		fail "$k kfunc_stats signed with a key of the test's own" "$(tail -20 "$key.log" "$out/signed.log")"
		return 0
	fi
	rm -rf "$e" && mkdir -p "$e/unsigned/kmod" "$e/signed/kmod"
	for t in unsigned signed; do cp "$out/kfunc_stats.ebpf.o" "$e/$t/"; done
	cp "$out/kfunc_stats.ko" "$e/unsigned/kmod/"
	cp "$out/signed/kmod/kfunc_stats.ko" "$e/signed/kmod/"
	cat >"$e/guest.sh" <<'EOF'
insmod /ksc/unsigned/kmod/kfunc_stats.ko 2>/dev/null
echo "insmod unsigned rc $?"
/ksc/ksc -q install /ksc/unsigned --iface lo
echo "install unsigned rc $?"
[ -e /sys/module/kfunc_stats ] && echo "unsigned left: module"
[ -e /sys/fs/bpf/ksc/kfunc_stats ] && echo "unsigned left: pins"
/ksc/ksc -q install /ksc/signed --iface lo
echo "install signed rc $?"
ping -c 3 -i 0.2 -W 1 127.0.0.1 >/dev/null
/ksc/ksc status kfunc_stats 2>/dev/null | sed -n 's/^  map results:/results:/p'
/ksc/ksc -q uninstall kfunc_stats 2>/dev/null
echo "uninstall rc $?"
[ -e /sys/module/kfunc_stats ] && echo "signed left: module"
[ -e /sys/fs/bpf/ksc/kfunc_stats ] && echo "signed left: pins"
echo "enforce done"
EOF
	scripts/vmtest --kernel "$vmlinuz" --timeout 120 --append module.sig_enforce=1 \
		--bin "$mksc:/ksc/ksc" ${sysroot:+--sysroot "$sysroot"} --add "$e/unsigned:unsigned" \
		--add "$e/signed:signed" "$e/guest.sh" >"$e/console.log" 2>&1
	log=$(tr -d '\r' <"$e/console.log")
	# busybox insmod exits with the errno: 129, EKEYREJECTED.
	check "$k sig_enforce: insmod of the unsigned module refused (EKEYREJECTED)" "insmod unsigned rc 129" \
		"$(grep '^insmod unsigned rc' <<<"$log")"
	check "$k sig_enforce: ksc install of the unsigned module: how to sign and enrol, exit 1, nothing left" \
		"ksc: error: cannot insert /ksc/unsigned/kmod/kfunc_stats.ko: this kernel takes only signed modules and it is unsigned: build it with 'ksc kmod build --sign-key KEY --sign-cert CERT', and enrol CERT (mokutil --import CERT.der, then reboot and confirm) unless the kernel trusts it already|install unsigned rc 1" \
		"$(grep -E '^ksc: error: .*unsigned|^install unsigned rc|^unsigned left' <<<"$log" | paste -sd'|')"
	if ((!trusted)); then
		check "$k sig_enforce: a module signed by a key the kernel lacks: its signer named, exit 1, nothing left" \
			"ksc: error: cannot insert /ksc/signed/kmod/kfunc_stats.ko: the kernel does not trust the key it is signed with (signer 'ksc untrusted'): enrol that key's certificate (mokutil --import CERT.der, then reboot and confirm the enrolment) or sign with a key this kernel trusts|install signed rc 1" \
			"$(grep -E '^ksc: error: .*/signed/|^install signed rc|^signed left' <<<"$log" | paste -sd'|')"
	elif grep -qx 'install signed rc 0' <<<"$log" &&
		[[ $(grep '^results:' <<<"$log") =~ \[0\]=([0-9]+)\ \[1\]=98\ \[2\]=42 ]] &&
		((BASH_REMATCH[1] >= 6)) && grep -qx 'uninstall rc 0' <<<"$log" &&
		! grep -q '^signed left' <<<"$log"; then
		pass "$k sig_enforce: the module signed with the tree's key installs, its kfuncs run, uninstall"
	else
		fail "$k sig_enforce: the signed module" "$(grep -v '^\[' <<<"$log" | tail -20)"
	fi
}

own_tree_skip "own kernel tree: kfuncs from XDP, tc and ksc call"
for k in $(kernel_matrix) $(own_trees); do
	start=$SECONDS
	if ! kernel_env "$k" 2>"$dir/err"; then
		fail "$k kernel and its suite's ksc" "$(cat "$dir/err")"
		continue
	fi
	build_series "$k"
	# The image's own tc modules (clsact and the bpf classifier), inserted
	# first in the order scripts/kernels gives.
	if [[ $k == tree-* ]]; then
		rm -rf "$out/mods" && mkdir -p "$out/mods" && : >"$out/mods/order"
		own_tree_signed "$k"
	elif ! image_modules "$k" "$out/mods" sch_ingress cls_bpf 2>"$dir/err"; then
		fail "$k image modules sch_ingress cls_bpf" "$(cat "$dir/err")"
	fi
	adds=(--add "$bpfrun:bpfrun" --add "$out/mods" --bin "$mksc:/ksc/ksc")
	for f in "$out"/*.ko "$out"/*.ebpf.o; do
		[ -e "$f" ] && adds+=(--add "$f")
	done
	for f in "$out"/*.loader; do
		[ -e "$f" ] && adds+=(--bin "$f")
	done
	# Programs built in another suite's root take their libraries from it.
	[ -z "$sysroot" ] || adds+=(--sysroot "$sysroot")
	built=$SECONDS
	scripts/vmtest --kernel "$vmlinuz" --timeout 300 "${adds[@]}" "$out/guest.sh" \
		>"$out/console.log" 2>&1
	grep -q '^insmod .* failed' "$out/console.log" &&
		fail "$k image modules inserted" "$(grep '^insmod .* failed' "$out/console.log")"
	if [[ $k == tree-* ]]; then
		own_tree_check_signed
		enforce_boot
	elif [ "$k" = 6.1 ]; then
		enforce_boot
	fi
	for src in "${progs[@]}"; do
		name=$(basename "$src" .ks)
		[ -e "$out/$name.ko" ] || continue
		log=$(sed -n "/^== $name\r\?\$/,/^== /p" "$out/console.log" | tr -d '\r')
		for what in loaded btf unloaded; do
			if grep -qx "$what $name" <<<"$log"; then pass "$k $name $what"; else
				fail "$k $name $what" "$log"
			fi
		done
		got=$(sed -n 's/^out: //p' <<<"$log" | sed 's/ *$//')
		check "$k $name kfunc results" "${want[$name]}" "$got"
	done
	if [ -e "$out/kfunc_from_user.ko" ] && [ -e "$out/kfunc_stats.ko" ]; then
		check_call "$k"
	else
		fail "$k ksc call" "kfunc_from_user or kfunc_stats did not build"
	fi
	echo "# $k: build $((built - start)) s, boot $((SECONDS - built)) s"
done
