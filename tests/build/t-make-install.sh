#!/usr/bin/env bash
# `make install` puts ksc where a Debian tool goes: PREFIX and DESTDIR
# honoured, the binary self-contained (it compiles a program with only
# itself: headers, templates and runtime are inside), a man page per
# command made from its --help (same synopsis, rendered by man), and bash
# completion that completes commands, options, kfunc names and templates.
source tests/lib.sh
dir=$(scratch make-install)
dest=$dir/dest

if ! make -s install DESTDIR="$dest" PREFIX=/usr >"$dir/log" 2>&1; then
	fail "make install" "$(tail -20 "$dir/log")"
	exit 0
fi
pass "make install DESTDIR=... PREFIX=/usr"
bin=$dest/usr/bin/ksc
check "installed binary runs" "$("$KSC" --version)" "$("$bin" --version 2>&1)"
cp examples/kfunc_stats.ks "$dir/"
if (cd "$dir" && env -i PATH=/usr/bin:/bin "$bin" -q compile kfunc_stats.ks -o t >/dev/null 2>&1) &&
	[ -f "$dir/t/kmod/kfunc_stats.c" ] && [ -f "$dir/t/ksc_loader.c" ]; then
	pass "installed binary compiles on its own (headers and runtime embedded)"
else
	fail "installed binary compiles on its own (headers and runtime embedded)"
fi

# One page per command `ksc --help` lists, each with the command's own synopsis.
man1=$dest/usr/share/man/man1
cmds=$("$KSC" --help | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit } on { print $1 }')
check "a man page for ksc and each of its $(echo $cmds | wc -w) commands" \
	"$({ echo ksc.1; for c in $cmds; do echo "ksc-$c.1"; done; } | sort | tr '\n' ' ')" \
	"$(ls "$man1" | sort | tr '\n' ' ')"
for c in $cmds; do
	syn=$("$KSC" help "$c" | head -1 | sed 's/^Usage: //')
	page=$(MANWIDTH=200 man -l "$man1/ksc-$c.1" 2>/dev/null | sed -n '/^SYNOPSIS/{n;p}' | sed 's/^ *//')
	check "ksc-$c(1) synopsis is its --help's" "$syn" "$page"
done

# Completion, as bash calls it.
comp() {
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _ksc; echo "${COMPREPLY[*]}"' \
		_ "$dest/usr/share/bash-completion/completions/ksc" "$bin" "$@"
}
check "completion: commands" "compile" "$(comp comp)"
check "completion: a command's options" "--only --btf" "$(comp compile --o) $(comp compile --b)"
check "completion: kmod's subcommands" "build dkms" "$(comp kmod '')"
check "completion: --only's parts" "ebpf" "$(comp compile --only e)"
check "completion: --color's values" "auto always|always" "$(comp --color a)|$(comp check --color al)"
check "completion: a command after --color WHEN" "compile" "$(comp --color never comp)"
check "completion: status and kfuncs --json" "--json --json" "$(comp status --j) $(comp kfuncs --j)"
check "completion: init's templates" "tc/ingress tc/egress" "$(comp init tc/)"
check "completion: test --kernel's host, and verify's without" "host|" "$(comp test f.ks --kernel ho)|$(comp verify f.ks --kernel ho)"
check "completion: test --kernel after a comma" "6.1,6.12-trixie" "$(comp test f.ks --kernel 6.1,6.12-)"
check "completion: test --filter's @test functions" "passes_small_frames" \
	"$(comp test tests/ks/pass/test_verdicts.ks --filter pa)"
check "completion: package's options and operands" "--version|kfunc_stats.ks" \
	"$(comp package --ver)|$(cd examples && comp package kfunc_st)"
check "completion: ksc help's commands" "kfuncs kmod" "$(comp help k | tr ' ' '\n' | sort | tr '\n' ' ' | sed 's/ $//')"

# The scripts --kernel runs, where the installed ksc looks for them: it finds
# them with no KSC_SCRIPTS and no source tree (asking the installed
# scripts/kernels for a series Debian never had).
scripts=$dest/usr/share/ksc/scripts
check "scripts for --kernel installed, executable" "debroot kernels vmtest" \
	"$(cd "$scripts" 2>/dev/null && for f in *; do [ -x "$f" ] && echo "$f"; done | tr '\n' ' ' | sed 's/ $//')"
out=$(cd "$dir" && env -i PATH=/usr/bin:/bin "$bin" verify --kernel 9.9 kfunc_stats.ks 2>&1)
if [[ $out == *"KSC_SCRIPTS"* || $out != *"kernels: "* ]]; then
	fail "installed ksc runs its installed scripts/kernels" "$out"
else
	pass "installed ksc runs its installed scripts/kernels"
fi
make -s uninstall DESTDIR="$dest" PREFIX=/usr >"$dir/log" 2>&1
check "make uninstall leaves nothing" "" "$(cd "$dest" && find . -type f | sort)"
