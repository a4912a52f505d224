#!/usr/bin/env bash
# Module state updated by kfuncs from BPF programs on two CPUs at once:
# tests/vm/progs/kcount.ks built with ksc kmod build for Debian's 6.1, and in
# a two-CPU guest two BPF programs, one pinned to each CPU, call its kfunc
# 100,000 times each.  Every update must count: atomic64/atomic adds and
# subs, a try_cmpxchg loop for x = f(x), atomic_set and WRITE_ONCE (the
# counts are exact, and the loop's result is f applied 200,000 times).
# The generated C is also checked for the atomics and checkpatch-clean.
source tests/lib.sh

dir=$(scratch kmod-race)
src=tests/vm/progs/kcount.ks
runs=100000
series=${KSC_RACE_KERNEL:-6.1}

if ! "$KSC" -q compile "$src" --only kmod -o "$dir/c" 2>"$dir/err"; then
	fail "compile kcount" "$(cat "$dir/err")"
	exit 0
fi
c=$dir/c/kmod/kcount.c
check "module state: atomic64/atomic types" "6" "$(grep -c '^static atomic\(64\)\?_t ' "$c")"
check "module state: adds, subs, set, cmpxchg loop, WRITE_ONCE" "3 1 1 1 1" \
	"$(grep -c '\batomic\(64\)\?_add(' "$c") $(grep -c '\batomic64_sub(' "$c") $(grep -c '\batomic_set(' "$c") $(grep -c 'atomic64_try_cmpxchg(' "$c") $(grep -c 'WRITE_ONCE(' "$c")"
check "module state: no plain read-modify-write left" "" \
	"$(grep -E 'kcount_[a-z0-9]+ = kcount_|kcount_[a-z0-9]+ [-+*]=' "$c")"
if scripts/checkpatch --version >/dev/null 2>&1; then
	res=$(scripts/checkpatch --no-tree --terse --show-types -f "$c" 2>&1)
	if grep -q 'total: 0 errors, 0 warnings' <<<"$res" || [ -z "$res" ]; then
		pass "kcount.c is checkpatch-clean"
	else
		fail "kcount.c is checkpatch-clean" "$res"
	fi
fi

if ! kdir=$(scripts/kernels kdir "$series" 2>"$dir/err") ||
	! vmlinuz=$(scripts/kernels vmlinuz "$series" 2>"$dir/err"); then
	fail "$series kernel" "$(cat "$dir/err")"
	exit 0
fi
base=
[ -e "$kdir/vmlinux" ] || base=$vmlinuz
if ! "$KSC" -q kmod build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} -o "$dir/m" \
	>"$dir/build.log" 2>&1; then
	fail "$series kmod build kcount" "$(cat "$dir/build.log")"
	exit 0
fi
pass "$series kmod build kcount"
if ! "$KSC" -q compile "$src" --only ebpf -o "$dir/bpf" 2>"$dir/err" ||
	! clang -O2 -g -target bpf -Wall -Werror -c "$dir/bpf/kcount.ebpf.c" \
		-o "$dir/kcount.ebpf.o" 2>"$dir/err"; then
	fail "kcount eBPF object" "$(cat "$dir/err")"
	exit 0
fi
cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$dir/bpfrun" tests/guest/bpfrun.c \
	-lbpf -lelf -lz -lzstd || { fail "build static bpfrun"; exit 0; }

cat >"$dir/guest.sh" <<EOF
insmod /ksc/kcount.ko && echo "loaded"
echo "cpus \$(nproc)"
taskset -c 0 ./bpfrun kcount.ebpf.o hit -s 64 -n $runs >/tmp/a 2>&1 &
taskset -c 1 ./bpfrun kcount.ebpf.o hit -s 64 -n $runs >/tmp/b 2>&1 &
wait
grep -h '^retval=' /tmp/a /tmp/b | sort | uniq -c | sed 's/^ */runs /'
echo "out: \$(./bpfrun kcount.ebpf.o read -s 64 -m out 2>&1 | grep '^out' | tr '\n' ' ')"
for i in 1 2 3 4 5 6 7 8 9 10; do rmmod kcount 2>/dev/null && break; sleep 0.3; done
[ ! -e /sys/module/kcount ] && echo "unloaded"
EOF
scripts/vmtest --kernel "$vmlinuz" --cpus 2 --timeout 600 --add "$dir/bpfrun:bpfrun" \
	--add "$dir/m/kmod/kcount.ko" --add "$dir/kcount.ebpf.o" "$dir/guest.sh" \
	>"$dir/console.log" 2>&1
log=$(tr -d '\r' <"$dir/console.log")
check "$series guest has two CPUs" "cpus 2" "$(grep -m1 '^cpus ' <<<"$log")"
check "$series module loads and unloads" "loaded unloaded" \
	"$(grep -x -e loaded -e unloaded <<<"$log" | tr '\n' ' ' | sed 's/ $//')"
# f(x) = (3x + 1) mod 1000003, applied once per call.
chain=$(awk -v n=$((2 * runs)) 'BEGIN { x = 0; for (i = 0; i < n; i++) x = (x * 3 + 1) % 1000003; print x }')
total=$((2 * runs))
check "$series two CPUs, $runs calls each: every update counted" \
	"out[0]=$total out[1]=$total out[2]=$((64 * total)) out[3]=$((1000000 - 2 * total)) out[4]=$chain out[5]=64 out[6]=1 out[7]=0" \
	"$(sed -n 's/^out: //p' <<<"$log" | sed 's/ *$//')"
[ -n "$(sed -n 's/^out: //p' <<<"$log")" ] || tail -20 <<<"$log" | sed 's/^/    vm: /'
