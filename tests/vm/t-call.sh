#!/usr/bin/env bash
# ksc call and ksc kfuncs --module in a VM of each kernel series: the
# module of tests/ks/pass/kfunc_from_user.ks (its kfuncs are called from
# userspace, so registered for syscall programs) is built with ksc kmod
# build, loaded, and its kfuncs called from the shell by ksc itself.
# kfunc_stats' kfuncs are called by XDP only: calling one must fail with
# "not registered for syscall programs".
source tests/lib.sh

dir=$(scratch call-vm)

# The guest script: one "name: value" line per case, stderr folded in.
cat >"$dir/guest.sh" <<'EOF'
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
EOF

# field NAME: the guest's "NAME: value" lines.
field() { sed -n "s/^$1: //p" <<<"$log" | tr -d '\r' | sed 's/ *$//'; }

for k in 6.1 6.12; do
	out=$dir/$k
	mkdir -p "$out"
	if ! kdir=$(scripts/kernels kdir "$k" 2>"$out/err") ||
		! vmlinuz=$(scripts/kernels vmlinuz "$k" 2>"$out/err"); then
		fail "$k kernel" "$(cat "$out/err")"
		continue
	fi
	base=()
	[ -e "$kdir/vmlinux" ] || base=(--btf-base "$vmlinuz")
	built=1
	for src in tests/ks/pass/kfunc_from_user.ks examples/kfunc_stats.ks; do
		name=$(basename "$src" .ks)
		if ./ksc -q kmod build "$src" --kdir "$kdir" "${base[@]}" -o "$out/$name" \
			>"$out/$name.log" 2>&1; then
			pass "$k kmod build $name"
		else
			fail "$k kmod build $name" "$(cat "$out/$name.log")"
			built=0
		fi
	done
	((built)) || continue
	scripts/vmtest --kernel "$vmlinuz" --timeout 300 --bin ./ksc:/ksc/ksc \
		--add "$out/kfunc_from_user/kmod/kfunc_from_user.ko" \
		--add "$out/kfunc_stats/kmod/kfunc_stats.ko" "$dir/guest.sh" >"$out/console.log" 2>&1
	log=$(cat "$out/console.log")
	check "$k module loaded" "yes yes" "$(field loaded) $(field 'loaded stats')"
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
	check "$k modules unloaded" "yes yes" "$(field 'unloaded kfunc_from_user') $(field 'unloaded kfunc_stats')"
done
