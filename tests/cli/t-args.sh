#!/usr/bin/env bash
# One argument parser for every command (compiler/args.c): each accepted
# option form, options after the operands, `--`, -h/--help and `ksc help
# CMD`, and for every command its usage errors: exit status 2, one line
# "ksc: error: CMD: WHAT", then the command's synopsis (its usage lines)
# and nothing else.  Run under ASan+UBSan.
source tests/lib.sh
dir=$(scratch cli-args)
K=$KSC_ASAN
src=$dir/p.ks
cp tests/ebpf/progs/maps.ks "$src"

# usage NAME WHAT CMD...: exit 2, "ksc: error: WHAT" first, then only the synopsis.
usage() {
	local name=$1 what=$2 out rc syn
	shift 2
	out=$(timeout 60 "$K" "$@" 2>&1)
	rc=$?
	syn=$(echo "$out" | sed 1d)
	if ((rc != 2)); then
		fail "$name" "exit status $rc, expected 2" "$out"
	elif [ "$(echo "$out" | head -1)" != "ksc: error: $what" ]; then
		fail "$name" "expected: ksc: error: $what" "got: $(echo "$out" | head -1)"
	elif ! echo "$syn" | head -1 | grep -q '^Usage: ksc ' ||
		echo "$syn" | sed 1d | grep -qvE '^       (ksc |  +\[)'; then
		fail "$name" "the synopsis alone should follow" "$out"
	elif echo "$out" | grep -q -e Sanitizer -e 'runtime error'; then
		fail "$name" "sanitizer report" "$out"
	else
		pass "$name"
	fi
}

# accepted NAME CMD...: exit 0, and the tree's eBPF C is there.
accepted() {
	local name=$1 out
	shift
	rm -rf "$dir/o"
	if ! out=$(cd "$dir" && timeout 60 "$K" -q "$@" 2>&1); then
		fail "$name" "$out"
	elif [ ! -f "$dir/o/p.ebpf.c" ]; then
		fail "$name" "no $dir/o/p.ebpf.c" "$out"
	else
		pass "$name"
	fi
}

accepted "compile: -o DIR" compile p.ks -o o
accepted "compile: -oDIR" compile p.ks -oo
accepted "compile: --output=DIR" compile p.ks --output=o
accepted "compile: options before the file" compile -o o --only ebpf p.ks
accepted "compile: --only=ebpf --btf=FILE" compile --only=ebpf --btf=/sys/kernel/btf/vmlinux p.ks -o o
accepted "compile: -- ends the options" compile -o o -- p.ks
cp "$src" "$dir/-p.ks"
rm -rf "$dir/o"
if (cd "$dir" && "$K" -q compile -o o -- -p.ks >/dev/null 2>&1) && [ -f "$dir/o/-p.ebpf.c" ]; then
	pass "compile: a file named -p.ks after --"
else
	fail "compile: a file named -p.ks after --"
fi
run_tool "check: -q after the file" 0 '' "$K" check "$src" -q
run_tool "check: --btf FILE after the file" 0 '' "$K" check "$src" --btf /sys/kernel/btf/vmlinux

# Help, in every form, for every command: exit 0, the usage on stdout.
for c in check compile build test verify kmod install uninstall status package kfuncs call init; do
	for form in "$c --help" "$c -h" "help $c"; do
		out=$("$K" $form 2>/dev/null)
		rc=$?
		if ((rc == 0)) && echo "$out" | head -1 | grep -q "^Usage: ksc $c"; then
			pass "ksc $form"
		else
			fail "ksc $form" "exit status $rc" "$(echo "$out" | head -3)"
		fi
	done
done
run_tool "ksc compile FILE --help: help wherever it is" 0 '^Usage: ksc compile' "$K" compile "$src" --help
run_tool "ksc -V" 0 '^ksc [0-9.]* (KernelScript 0.1.1)$' "$K" -V
run_tool "ksc --version" 0 '^ksc [0-9.]* (KernelScript 0.1.1)$' "$K" --version
run_tool "ksc help" 0 '^Commands:' "$K" help
run_tool "ksc help: the commands" 0 '^  kfuncs ' "$K" --help

# Usage errors of the command line itself.
run_tool "ksc alone" 2 "^ksc: error: give a command$" "$K"
run_tool "ksc --bogus" 2 "^ksc: error: unknown option '--bogus'$" "$K" --bogus
run_tool "ksc bogus" 2 "^ksc: error: unknown command 'bogus'$" "$K" bogus
run_tool "ksc help bogus" 2 "^ksc: error: help: unknown command 'bogus'$" "$K" help bogus

# Every command's usage errors.
usage "check: no file" "check: missing FILE.ks" check
usage "check: two files" "check: unexpected argument 'q.ks'" check "$src" q.ks
usage "check: unknown option" "check: unknown option '--bogus'" check "$src" --bogus
usage "check: --btf without its file" "check: '--btf' needs FILE" check "$src" --btf
usage "check: --btf after --" "check: unexpected argument '--btf'" check -- "$src" --btf
usage "compile: unknown short option" "compile: unknown option '-z'" compile "$src" -z
usage "compile: -o without DIR" "compile: '-o' needs DIR" compile "$src" -o
usage "compile: --only of another part" "compile: --only takes ebpf, user or kmod, not 'all'" compile "$src" --only all
usage "compile: a value for no value" "compile: unknown option '--bogus'" compile "$src" --bogus=1
usage "build: --btf-base without --kdir" "build: --btf-base is for the module build: give --kdir too" build "$src" --btf-base x
usage "build: no file" "build: missing FILE.ks" build -o x
usage "kmod: no command" "kmod: give a command: build or dkms" kmod
usage "kmod: unknown command" "kmod: unknown command 'make': build or dkms" kmod make
usage "kmod build: no --kdir" "kmod build: give the kernel tree to build for: --kdir KDIR" kmod build "$src"
usage "kmod build: a key without its certificate" "kmod build: give the signing key and its certificate together: --sign-key KEY --sign-cert CERT" kmod build "$src" --kdir /tmp --sign-key k.pem
usage "kmod build: no source" "kmod build: missing FILE.ks or DIR" kmod build --kdir /tmp
usage "kmod dkms: unknown option" "kmod dkms: unknown option '--kdir'" kmod dkms "$src" --kdir /tmp
usage "kmod dkms: --version without V" "kmod dkms: '--version' needs V" kmod dkms "$src" --version
usage "verify: nothing to verify" "verify: missing FILE.ks|DIR" verify
usage "verify: --kdir without --kernel" "verify: --kdir is for the module build of --kernel: give --kernel too" verify "$src" --kdir /tmp
usage "verify: --kernel neither series nor file" "verify: --kernel wants a series (6.1, 6.12, 6.12-trixie, 7) or a vmlinuz file, not 'bogus!'" verify "$src" --kernel 'bogus!'
usage "verify: no such file" "verify: no file or directory 'nowhere.ks'" verify nowhere.ks
usage "verify: not a .ks file" "verify: '/etc/hostname' is neither a .ks file nor a built tree" verify /etc/hostname
usage "build: --verify with a value" "build: '--verify' takes no value" build "$src" --verify=1
usage "install: no DIR" "install: missing DIR" install
usage "install: --iface without IF" "install: '--iface' needs IF" install "$dir" --iface
usage "install: two DIRs" "install: unexpected argument 'b'" install a b
usage "uninstall: no NAME" "uninstall: missing NAME" uninstall
usage "uninstall: not a name" "uninstall: '../x' is not an installed program's name" uninstall ../x
usage "package: no source" "package: missing FILE.ks or DIR" package -o x
usage "package: two sources" "package: unexpected argument 'b.ks'" package a.ks b.ks
usage "package: --version without V" "package: '--version' needs V" package "$src" --version
usage "package: unknown option" "package: unknown option '--kdir'" package "$src" --kdir /tmp
usage "package: an empty -o" "package: -o needs a directory, not ''" package "$src" -o ''
usage "status: unknown option" "status: unknown option '--bogus'" status --bogus
usage "status: two names" "status: unexpected argument 'b'" status a b
usage "kfuncs: an operand" "kfuncs: unexpected argument 'x'" kfuncs x
usage "kfuncs: --btf and --module" "kfuncs: give --btf FILE or --module NAME, not both" kfuncs --btf a --module b
usage "kfuncs: --base without --btf" "kfuncs: --base is the base of a split BTF: give --btf FILE too" kfuncs --base a
usage "kfuncs: --kh with a value" "kfuncs: '--kh' takes no value" kfuncs --kh=1
usage "kfuncs: --kh and --json" "kfuncs: give --kh or --json, not both" kfuncs --kh --json
usage "status: --json with a value" "status: '--json' takes no value" status --json=1
usage "call: no kfunc" "call: missing KFUNC" call --module m
usage "call: unknown option" "call: unknown option '-y'" call f -y
usage "call: too many arguments" "call: unexpected argument '7'" call f 1 2 3 4 5 6 7
usage "init: one operand" "init: missing TYPE and NAME" init xdp
usage "init: not an identifier" "init: project name '9x' is not an identifier (letters, digits, _; not a keyword)" init xdp 9x
# A negative number is an operand, never an option: ksc call goes on to look
# the kfunc up (and fails at that, exit 1).
run_tool "call: -5 is a kfunc argument" 1 "^ksc: error: unknown kfunc 'no_such_kfunc'" \
	"$K" call no_such_kfunc -5 -x
usage "test: no file" "test: missing FILE.ks" test --filter x
usage "test: --filter without TEST" "test: '--filter' needs TEST" test "$src" --filter
usage "test: --kernel with an empty item" "test: --kernel wants a comma-separated list of kernels, not '6.1,,7'" \
	test "$src" --kernel 6.1,,7
usage "test: --kernel neither host, series nor file" \
	"test: --kernel wants host, a series (6.1, 6.12, 6.12-trixie, 7) or a vmlinuz file, not 'bogus!'" \
	test "$src" --kernel 'host,bogus!'
usage "test: -o without host" "test: -o is for the running kernel's build: --kernel 6.1 has no 'host'" \
	test "$src" --kernel 6.1 -o x
usage "test: --btf without host" "test: --btf is for the running kernel's build: --kernel 6.1,7 has no 'host'" \
	test "$src" --kernel 6.1,7 --btf /sys/kernel/btf/vmlinux
usage "test: --kdir on the host" "test: --kdir is for the module build of a VM's kernel: give --kernel SERIES|VMLINUZ" \
	test "$src" --kdir /tmp
usage "test: --kdir with --kernel host" "test: --kdir is for the module build of a VM's kernel: give --kernel SERIES|VMLINUZ" \
	test "$src" --kernel host --kdir /tmp
