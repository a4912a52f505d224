# Shared helpers for test scripts.  Each case prints "ok NAME" or "not ok NAME"
# (tests/run counts them); details of a failure follow on indented lines.
set -u
: "${KSC_TOP:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${KSC:=$KSC_TOP/ksc}"
: "${KSC_ASAN:=$KSC_TOP/ksc-asan}"
: "${KSC_TEST_OUT:=$KSC_TOP/tests/out}"

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
	cc -std=c17 -D_GNU_SOURCE -Icompiler -Ikfunc -O2 -o "$1" tests/kfunc/kfunc-tool.c \
		kfunc/*.c compiler/util.c -lbpf -lelf -lz -llzma -lzstd -llz4
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
