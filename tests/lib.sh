# Shared helpers for test scripts.  Each case prints "ok NAME" or "not ok NAME"
# (tests/run counts them); details of a failure follow on indented lines.
set -u
: "${KSC_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${KSC:=$KSC_TOP/ksc}"
: "${KSC_ASAN:=$KSC_TOP/ksc-asan}"
: "${KSC_TEST_OUT:=$KSC_TOP/tests/out}"
# Base BTF extracted by `ksc kmod build` is cached per run, not in ~/.cache.
export KSC_BTF_CACHE=${KSC_BTF_CACHE:-$KSC_TEST_OUT/btf-cache}

pass() { echo "ok $1"; }
fail() {
	echo "not ok $1"
	shift
	(($#)) && printf '%s\n' "$@" | sed 's/^/    /'
	return 0
}

# skip NAME WHY: a case that cannot run here (counted apart, never as passed).
skip() { echo "skip $1: $2"; }

# check NAME EXPECTED ACTUAL: compares two strings.
check() {
	if [ "$2" = "$3" ]; then pass "$1"; else
		fail "$1" "expected: $2" "actual:   $3"
	fi
}

# A scratch directory for one script, emptied on each run.
scratch() {
	local d="$KSC_TEST_OUT/$1"
	rm -rf "$d" && mkdir -p "$d" && echo "$d"
}

# bpffs at /sys/fs/bpf, mounted here if the machine has not (a fresh VM or
# container often has not); pinning tests need it.
need_bpffs() {
	mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf
}

# build_kfunc_tool OUT: the kfunc library's test driver (tests/kfunc/kfunc-tool.c:
# extract, release, base, resolve, verify), for tests that need a kernel
# image's BTF as a file.
build_kfunc_tool() {
	cc -std=c17 -D_GNU_SOURCE -Icompiler/base -Ikfunc/btf -O2 -o "$1" tests/kfunc/kfunc-tool.c \
		kfunc/btf/*.c compiler/base/util.c -lbpf -lelf -lz -llzma -lzstd -llz4
}

# A clang that writes BTF type tags (15+), which kptr map values need;
# nothing when there is none.  scripts/install-deps installs clang-16.
tag_clang() {
	local c v
	for c in clang clang-19 clang-18 clang-17 clang-16 clang-15; do
		v=$($c -dumpversion 2>/dev/null) || continue
		if ((${v%%.*} >= 15)); then echo "$c"; return; fi
	done
}

# The kernel matrix: every series scripts/kernels serves to the tests, each
# built with its own Debian release's toolchain (scripts/kernels suite).
# KSC_KERNELS (space-separated) narrows it, e.g. KSC_KERNELS="6.1 7".
kernel_matrix() {
	echo "${KSC_KERNELS:-6.1 6.12 6.12-trixie 7}"
}

# on_suite SUITE CMD...: runs CMD with SUITE's toolchain: here for bookworm
# (this machine), else inside scripts/debroot's root of SUITE, which sees
# the repository, the kernels cache and $KSC_TEST_OUT at their paths.
on_suite() {
	local suite=$1
	shift
	if [ "$suite" = bookworm ]; then
		"$@"
	else
		mkdir -p "$KSC_TEST_OUT"
		"$KSC_TOP/scripts/debroot" run "$suite" --bind "$KSC_TEST_OUT" -- "$@"
	fi
}

# suite_ksc SUITE: the ksc to build with for SUITE: ./ksc for bookworm;
# for another suite, ksc built from this working tree inside its root, in
# a copy of the sources under $KSC_TEST_OUT/ksc-SUITE/src.  Prints the
# path; on failure, the end of the build log on stderr and status 1.
suite_ksc() {
	local suite=$1 d="$KSC_TEST_OUT/ksc-$1" f
	if [ "$suite" = bookworm ]; then
		echo "$KSC"
		return
	fi
	mkdir -p "$d/src"
	# Both lanes of tests/run ask for it: one copy and build at a time.
	{
		flock 9
		suite_ksc_build "$suite" "$d"
	} 9>"$d.lock" || return 1
	echo "$d/src/ksc"
}

# suite_ksc_build SUITE DIR: suite_ksc's copy and build, under its lock.
suite_ksc_build() {
	local suite=$1 d=$2 f
	# The copy takes only files whose content differs, and they get the
	# time of the copy: make then rebuilds exactly what changed, even
	# when a source was edited while an earlier copy was being built.
	# Files gone from the tree go from the copy.
	while IFS= read -r f; do
		cmp -s "$KSC_TOP/$f" "$d/src/$f" && continue
		mkdir -p "$d/src/$(dirname "$f")"
		cp "$KSC_TOP/$f" "$d/src/$f" || return 1
	done < <(cd "$KSC_TOP" && find Makefile compiler kfunc kmodgen runtime scripts/embed-headers -type f)
	while IFS= read -r f; do
		[ -e "$KSC_TOP/$f" ] || rm -f "$d/src/$f"
	done < <(cd "$d/src" && find Makefile compiler kfunc kmodgen runtime scripts -type f 2>/dev/null)
	if ! on_suite "$suite" make -C "$d/src" -j2 ksc >"$d/build.log" 2>&1; then
		tail -n 20 "$d/build.log" >&2
		return 1
	fi
}

# kver_at_least KVER MAJOR.MINOR: the release KVER (6.1.0-57-amd64,
# 7.3.4+deb13-amd64) is that version or newer.
kver_at_least() {
	local a b c d
	IFS=. read -r a b _ <<<"${1%%[-+]*}"
	IFS=. read -r c d <<<"$2"
	((a > c || (a == c && b >= d)))
}

# kmod_build SERIES KSC KDIR BASE SRC: the module of SRC built for SERIES
# with `KSC kmod build` (on SERIES' suite, with --btf-base BASE unless BASE
# is empty), in $KSC_TEST_OUT/kmod-matrix/SERIES/NAME: out/ (ksc's output
# tree, out/kmod/NAME.ko) and build.log.  Built once for one set of inputs
# (ksc, SRC, the tree, the base), so tests that need the same module on the
# same kernel share one build.  Prints the directory; status 1 when the
# build failed (build.log says why).
kmod_build() {
	local series=$1 ksc=$2 kdir=$3 base=$4 src=$5 suite d key
	suite=$("$KSC_TOP/scripts/kernels" suite "${series#tree-}") || return 1
	d=$KSC_TEST_OUT/kmod-matrix/$series/$(basename "$src" .ks)
	key="$(cat "$ksc" "$src" | sha256sum | cut -d' ' -f1) $kdir $(stat -L -c %s.%Y "$kdir/Module.symvers" ${base:+"$base"} | tr '\n' ' ')"
	mkdir -p "${d%/*}"
	# Both lanes of tests/run build these: one build of a module at a time.
	{
		flock 9
		if [ "$(cat "$d/key" 2>/dev/null)" != "$key" ]; then
			rm -rf "$d" && mkdir -p "$d"
			if on_suite "$suite" "$ksc" kmod build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} \
				-o "$d/out" >"$d/build.log" 2>&1; then
				touch "$d/built"
			fi
			echo "$key" >"$d/key"
		fi
	} 9>"$d.lock"
	echo "$d"
	[ -e "$d/built" ]
}

# kmod_prebuild SERIES KSC KDIR BASE SRC...: kmod_build of every SRC, two at
# a time (KSC_JOBS), so that the tests' own kmod_build calls find them
# built.  A kbuild run of one small module keeps one CPU busy.
kmod_prebuild() {
	local common=("$1" "$2" "$3" "$4") src
	shift 4
	for src; do
		while (($(jobs -rp | wc -l) >= ${KSC_JOBS:-2})); do wait -n; done
		kmod_build "${common[@]}" "$src" >/dev/null &
	done
	wait
}

# kernel_btf SERIES KDIR VMLINUZ: a file with the kernel's own BTF, for
# `ksc compile --btf` and `bpftool -B`: KDIR/vmlinux where the headers ship
# one (6.12 and newer), else the .BTF of the image (6.1), extracted once per
# image into $KSC_TEST_OUT/kmod-matrix/SERIES/vmlinux.btf with the kfunc
# library's test driver.  Prints the path; status 1 when there is none.
kernel_btf() {
	local d=$KSC_TEST_OUT/kmod-matrix/$1 kdir=$2 vmlinuz=$3 f key tool
	if [ -e "$kdir/vmlinux" ]; then
		echo "$kdir/vmlinux"
		return
	fi
	f=$d/vmlinux.btf tool=$KSC_TEST_OUT/kmod-matrix/kfunc-tool
	key="$vmlinuz $(stat -L -c %s.%Y "$vmlinuz")" || return 1
	mkdir -p "$d"
	# Both lanes of tests/run ask for it (and share the tool): one at a time.
	{
		flock 9
		if [ ! -s "$f" ] || [ "$(cat "$f.key" 2>/dev/null)" != "$key" ]; then
			rm -f "$f" "$f.key"
			if [ ! -x "$tool" ] || [ -n "$(cd "$KSC_TOP" && find kfunc tests/kfunc/kfunc-tool.c -newer "$tool")" ]; then
				(cd "$KSC_TOP" && build_kfunc_tool "$tool")
			fi && "$tool" extract "$vmlinuz" "$f" >&2 && echo "$key" >"$f.key"
		fi
	} 9>"$KSC_TEST_OUT/kmod-matrix/.btf.lock"
	[ -s "$f" ] && [ -e "$f.key" ] || return 1
	echo "$f"
}

# kernel_env SERIES: what a test needs of one kernel of the matrix, as
# variables: suite, kdir, vmlinuz, kver, mksc (the suite's ksc, suite_ksc),
# base (--btf-base for a module build: the image where the tree has no
# vmlinux, else empty), btf (kernel_btf) and sysroot (the suite's root for
# programs linked there, vmtest --sysroot; empty for bookworm).  Status 1,
# with the reason on stderr, when the kernel or its toolchain is missing.
# shellcheck disable=SC2034 # the variables are the caller's
kernel_env() {
	case $1 in tree-*)
		own_tree_env "${1#tree-}"
		return
		;;
	esac
	suite=$("$KSC_TOP/scripts/kernels" suite "$1") &&
		kdir=$("$KSC_TOP/scripts/kernels" kdir "$1") &&
		vmlinuz=$("$KSC_TOP/scripts/kernels" vmlinuz "$1") &&
		mksc=$(suite_ksc "$suite") || return 1
	# The image is the cache's boot/vmlinuz-RELEASE: no third look-up.
	kver=${vmlinuz##*/vmlinuz-}
	if [[ $kver == */* ]] || [ "$kver" = "$vmlinuz" ]; then
		kver=$("$KSC_TOP/scripts/kernels" kver "$1") || return 1
	fi
	base=
	[ -e "$kdir/vmlinux" ] || base=$vmlinuz
	btf=$(kernel_btf "$1" "$kdir" "$vmlinuz") || {
		echo "no BTF of $kver to compile eBPF against" >&2
		return 1
	}
	sysroot=
	if [ "$suite" != bookworm ]; then
		sysroot=$("$KSC_TOP/scripts/debroot" path "$suite") || return 1
	fi
}

# own_trees: the kernel series "tree-SERIES" of a kernel developer's own
# tree (scripts/kernel-tree) built on this machine, for tests to add to
# kernel_matrix: tree-7 when the newest series' tree is in the cache, or
# always with KSC_OWN_TREE=build (kernel_env then builds it, some 8
# minutes).  A fresh machine has none: the skip says so.
own_trees() {
	if [ "${KSC_OWN_TREE:-}" = build ] ||
		"$KSC_TOP/scripts/kernel-tree" path 7 >/dev/null 2>&1; then
		echo tree-7
	fi
}

# own_tree_skip NAME: the skip of a test's own-tree part on a machine
# without one.
own_tree_skip() {
	[ -n "$(own_trees)" ] ||
		skip "$1" "no kernel developer's tree built on this machine (scripts/kernel-tree build 7, about 8 minutes of 2 cores, or KSC_OWN_TREE=build)"
}

# own_tree_env SERIES: kernel_env for the own tree of SERIES: the tree is
# the KDIR, with vmlinux (the BTF, no --btf-base) and the bzImage built
# there, and the series' toolchain.
# shellcheck disable=SC2034 # the variables are the caller's
own_tree_env() {
	local how=path
	[ "${KSC_OWN_TREE:-}" = build ] && how=build
	suite=$("$KSC_TOP/scripts/kernels" suite "$1") &&
		kdir=$("$KSC_TOP/scripts/kernel-tree" "$how" "$1") &&
		mksc=$(suite_ksc "$suite") || return 1
	vmlinuz=$kdir/arch/x86/boot/bzImage
	kver=$(cat "$kdir/include/config/kernel.release") || return 1
	base= btf=$kdir/vmlinux sysroot=
	if [ "$suite" != bookworm ]; then
		sysroot=$("$KSC_TOP/scripts/debroot" path "$suite") || return 1
	fi
}

# image_modules SERIES DIR MODULE...: DIR holds the .ko files of the
# series' image that MODULEs need (scripts/kernels modules) and DIR/order
# their insmod order, for a guest: `for m in $(cat DIR/order)`.  Empty for
# built-in modules.  Status 1 with the reason on stderr.
image_modules() {
	local series=$1 d=$2 list f
	shift 2
	rm -rf "$d" && mkdir -p "$d" && : >"$d/order"
	list=$("$KSC_TOP/scripts/kernels" modules "$series" "$@") || return 1
	for f in $list; do
		cp "$f" "$d/" && basename "$f" >>"$d/order" || return 1
	done
}

# ebpf_build SUITE KSC SRC BTF OUT: SRC compiled by KSC against the kernel
# BTF in BTF into the tree OUT, and OUT/NAME.ebpf.o made by the tree's own
# Makefile with the suite's clang (-fms-extensions where that BTF needs it),
# on the suite.  Output in OUT.log; status 1 when either step failed.
ebpf_build() {
	local suite=$1 ksc=$2 src=$3 btf=$4 out=$5 name
	name=$(basename "$src" .ks)
	on_suite "$suite" "$ksc" -q compile "$src" --btf "$btf" -o "$out" >"$out.log" 2>&1 &&
		on_suite "$suite" make -s -C "$out" "$out/$name.ebpf.o" >>"$out.log" 2>&1
}

# run_tool NAME WANT_STATUS PATTERN CMD...: CMD exits with WANT_STATUS and
# prints a line matching PATTERN.
run_tool() {
	local name=$1 want=$2 pattern=$3 out rc
	shift 3
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	if ((rc != want)); then
		fail "$name" "exit status $rc, expected $want" "$(echo "$out" | head -20)"
	elif ! echo "$out" | grep -q -e "$pattern"; then
		fail "$name" "no line matching: $pattern" "$(echo "$out" | head -20)"
	else
		pass "$name"
	fi
}

# bad_input NAME PATTERN CMD...: CMD (an ASan build) prints exactly one
# "ksc: error:" line, matching PATTERN, and exits 1.
bad_input() {
	local name=$1 pattern=$2 out rc
	shift 2
	out=$(timeout 60 "$@" 2>&1)
	rc=$?
	if ((rc != 1)); then
		fail "$name" "exit status $rc, expected 1" "$(echo "$out" | head -20)"
	elif [ "$(echo "$out" | wc -l)" != 1 ] || ! echo "$out" | grep -q "^ksc: error: .*$pattern"; then
		fail "$name" "expected one error line matching: $pattern" "$(echo "$out" | head -20)"
	else
		pass "$name"
	fi
}

# reference_repo NAME: sets $repo to the local snapshot of the reference
# compiler's repository (multikernel/kernelscript, read at test time, never
# committed here), or prints a skip line for NAME and returns 1.
reference_repo() {
	repo=${KSC_REFERENCE_REPO:-/work/.mirror/multikernel+kernelscript/repo}
	git -C "$repo" rev-parse -q --verify HEAD >/dev/null 2>&1 && return 0
	skip "$1" "no snapshot of multikernel/kernelscript at $repo (set KSC_REFERENCE_REPO)"
	return 1
}
