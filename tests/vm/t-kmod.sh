#!/usr/bin/env bash
# ksc kmod build on every kernel of the matrix (tests/lib.sh kernel_matrix:
# Debian 12's 6.1 and backports 6.12, Debian 13's 6.12 and backports 7.x;
# the Debian 13 ones built with ksc, kbuild and clang inside the trixie root
# of scripts/debroot), then one VM boot of each kernel: every module loads,
# gets /sys/kernel/btf/NAME, an eBPF program compiled by ksc from the same
# file calls each kfunc through BPF_PROG_TEST_RUN, and the module unloads.
# Expected values follow from the .ks sources (see each program's comment).
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
declare -A run=(
	[kfunc_stats]="stats_xdp -s 100 -n 3 -m results"
	[kf_objects]="objects_xdp -s 100 -n 3 -m out"
	[private_kfunc]="xdp_main -s 100 -n 3"
	[kfunc_module_state]="scaled -s 2000 -n 1"
	[kfunc_from_user]=loader
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
)

# The reference's own module example, where a snapshot of it is at hand.
repo=${KSC_REFERENCE_REPO:-/work/.mirror/multikernel+kernelscript/repo}
if git --git-dir="$repo" show HEAD:examples/private_kfunc.ks >"$dir/private_kfunc.ks" 2>/dev/null; then
	progs+=("$dir/private_kfunc.ks")
else
	skip "private_kfunc example" "no snapshot of multikernel/kernelscript at $repo"
fi

bpfrun=$dir/bpfrun
cc -static -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c \
	-lbpf -lelf -lz -lzstd || { fail "build static bpfrun"; exit 1; }


# Builds every program for one kernel series and writes the guest script.
# rmmod is retried: the kernel drops a finished program's hold on the module
# (through its BTF) a moment after the program's last fd is closed.
build_series() {
	local k=$1 kdir=$2 base=$3 suite=$4 mksc=$5 name src b
	out=$dir/$1
	mkdir -p "$out"
	: >"$out/guest.sh"
	for src in "${progs[@]}"; do
		name=$(basename "$src" .ks)
		[ -n "${run[$name]:-}" ] || continue
		if [ "${run[$name]}" = loader ]; then
			if ! on_suite "$suite" "$mksc" -q build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} \
				-o "$out/$name" >"$out/$name.log" 2>&1; then
				fail "$k ksc build $name" "$(cat "$out/$name.log")"
				continue
			fi
			pass "$k ksc build $name"
			cp "$out/$name/kmod/$name.ko" "$out/$name.ko"
			cp "$out/$name/$name" "$out/$name.loader"
			guest_lines "$name" "/ksc/$name.loader"
			continue
		fi
		if ! b=$(kmod_build "$k" "$mksc" "$kdir" "$base" "$src"); then
			fail "$k kmod build $name" "$(cat "$b/build.log")"
			continue
		fi
		pass "$k kmod build $name"
		if ! on_suite "$suite" "$mksc" -q compile "$src" --only ebpf -o "$out/$name-bpf" >>"$out/$name.log" 2>&1 ||
			! on_suite "$suite" clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu -c \
				"$out/$name-bpf/$name.ebpf.c" -o "$out/$name.ebpf.o" >>"$out/$name.log" 2>&1; then
			fail "$k ebpf object $name" "$(cat "$out/$name.log")"
			continue
		fi
		cp "$b/out/kmod/$name.ko" "$out/$name.ko"
		guest_lines "$name" "/ksc/bpfrun /ksc/$name.ebpf.o ${run[$name]}"
	done
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

for k in $(kernel_matrix); do
	start=$SECONDS
	if ! suite=$(scripts/kernels suite "$k" 2>"$dir/err") ||
		! kdir=$(scripts/kernels kdir "$k" 2>"$dir/err") ||
		! vmlinuz=$(scripts/kernels vmlinuz "$k" 2>"$dir/err"); then
		fail "$k kernel" "$(cat "$dir/err")"
		continue
	fi
	if ! mksc=$(suite_ksc "$suite" 2>"$dir/err"); then
		fail "$k ksc built on $suite" "$(cat "$dir/err")"
		continue
	fi
	# 6.1's headers have no vmlinux: the base BTF comes from the image.
	base=
	[ -e "$kdir/vmlinux" ] || base=$vmlinuz
	build_series "$k" "$kdir" "$base" "$suite" "$mksc"
	adds=(--add "$bpfrun:bpfrun")
	for f in "$out"/*.ko "$out"/*.ebpf.o; do
		[ -e "$f" ] && adds+=(--add "$f")
	done
	for f in "$out"/*.loader; do
		[ -e "$f" ] && adds+=(--bin "$f")
	done
	# Loaders built in another suite's root take their libraries from it.
	[ "$suite" = bookworm ] || adds+=(--sysroot "$(scripts/debroot path "$suite")")
	built=$SECONDS
	scripts/vmtest --kernel "$vmlinuz" --timeout 300 "${adds[@]}" "$out/guest.sh" \
		>"$out/console.log" 2>&1
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
	echo "# $k: build $((built - start)) s, boot $((SECONDS - built)) s"
done
