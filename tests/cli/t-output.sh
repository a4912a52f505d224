#!/usr/bin/env bash
# Output trees never cost the user a file: ksc compile, build, kmod build,
# kmod dkms and init replace only trees ksc wrote and that hold nothing else
# (the marker .ksc-output lists what ksc wrote and the products of its
# Makefiles), refuse with one line otherwise, handle -o DIR/, -o ., -o '',
# symbolic links, and remove the temporary trees of killed runs.  Every case
# runs under the ASan+UBSan build, checks the exact message and exit status,
# that the user's files are intact and that no temporary tree is left.
source tests/lib.sh

dir=$(scratch cli-output)
ksc=$KSC_ASAN
src=$KSC_TOP/examples/kfunc_stats.ks
export ASAN_OPTIONS=abort_on_error=0:exitcode=99 UBSAN_OPTIONS=halt_on_error=1:exitcode=99

# run CMD...: runs CMD in $dir/work, its stderr in $dir/err and status in $rc.
run() {
	(cd "$dir/work" && "$@") >"$dir/out" 2>"$dir/err"
	rc=$?
	cat "$dir/err" >>"$dir/all.err"
}

# refused NAME MESSAGE: the last run exited 1 with exactly "ksc: error: MESSAGE".
refused() {
	check "$1" "1 ksc: error: $2" "$rc $(cat "$dir/err")"
}

# no_tmp NAME: no temporary tree (DIR.ksc-tmp-*) is left in the work directory.
no_tmp() {
	local left
	left=$(cd "$dir/work" && find . -name '*.ksc-tmp-*' | sort | tr '\n' ' ')
	check "$1: no temporary tree left" "" "$left"
}

fresh() {
	rm -rf "$dir/work" && mkdir -p "$dir/work" && cp "$src" "$dir/work/prog.ks"
}

# --- a fresh tree, and its marker ---
fresh
run "$ksc" compile prog.ks -o tree
check "compile: a new tree" "0" "$rc"
if grep -qx 'file prog.ebpf.c' "$dir/work/tree/.ksc-output" &&
	grep -qx 'file kmod/prog.c' "$dir/work/tree/.ksc-output" &&
	grep -qx 'dir kmod' "$dir/work/tree/.ksc-output" &&
	grep -qx 'product kmod/\*.ko' "$dir/work/tree/.ksc-output"; then
	pass "compile: the marker lists the files ksc wrote and its build products"
else
	fail "compile: the marker lists the files ksc wrote and its build products" \
		"$(cat "$dir/work/tree/.ksc-output")"
fi

# --- the headline bug: the source inside the tree it is compiled into ---
cp "$src" "$dir/work/tree/prog.ks"
run "$ksc" compile tree/prog.ks -o tree
refused "compile: the source inside the output tree is refused" \
	"'tree' holds 'prog.ks', which ksc did not write: move it out, or choose another -o directory"
check "compile: the source is intact" "$(cat "$src")" "$(cat "$dir/work/tree/prog.ks")"
no_tmp "compile: source in the tree"
rm "$dir/work/tree/prog.ks"

# --- files and directories the user added to a tree ---
echo "my notes" >"$dir/work/tree/notes.txt"
run "$ksc" compile prog.ks -o tree
refused "compile: a user file in the tree is refused" \
	"'tree' holds 'notes.txt', which ksc did not write: move it out, or choose another -o directory"
check "compile: the user file is intact" "my notes" "$(cat "$dir/work/tree/notes.txt")"
rm "$dir/work/tree/notes.txt"
mkdir -p "$dir/work/tree/kmod/sub" && echo keep >"$dir/work/tree/kmod/sub/a.c"
run "$ksc" compile prog.ks -o tree
refused "compile: a user directory in the tree is refused" \
	"'tree' holds 'kmod/sub', which ksc did not write: move it out, or choose another -o directory"
check "compile: the user directory is intact" "keep" "$(cat "$dir/work/tree/kmod/sub/a.c")"
rm -r "$dir/work/tree/kmod/sub"
ln -s ../prog.ks "$dir/work/tree/link.ks"
run "$ksc" compile prog.ks -o tree
refused "compile: a symbolic link in the tree is refused" \
	"'tree' holds 'link.ks', which ksc did not write: move it out, or choose another -o directory"
rm "$dir/work/tree/link.ks"
no_tmp "compile: user files"

# --- a tree with build products (make) is ksc's to replace ---
if make -s -C "$dir/work/tree" >"$dir/make.log" 2>&1; then
	touch "$dir/work/tree/kmod/prog.o" "$dir/work/tree/kmod/.prog.o.cmd" \
		"$dir/work/tree/kmod/Module.symvers" "$dir/work/tree/kmod/.module-common.o"
	run "$ksc" compile prog.ks -o tree
	check "compile: a tree with its build products is replaced" "0" "$rc"
	check "compile: the products are gone with the old tree" "" \
		"$(cd "$dir/work/tree" && ls prog prog.ebpf.o kmod/prog.o kmod/Module.symvers 2>/dev/null)"
else
	fail "compile: make in the tree" "$(tail -5 "$dir/make.log")"
fi

# --- -o spellings ---
run "$ksc" compile prog.ks -o tree/
check "compile -o tree/: the tree is replaced, not emptied" "0 prog.ebpf.c" \
	"$rc $(ls "$dir/work/tree" 2>/dev/null | grep -x prog.ebpf.c)"
check "compile -o tree/: nothing inside the tree but its files" "" \
	"$(ls -A "$dir/work/tree" | grep ksc-tmp)"
before=$(ls -A "$dir/work/tree" | wc -l)
(cd "$dir/work/tree" && "$ksc" compile ../prog.ks -o .) >"$dir/out" 2>"$dir/err"
rc=$?
refused "compile -o . inside a tree is refused" \
	"'.' is the current directory or holds it, and ksc replaces its output whole: run ksc from outside it"
check "compile -o .: the tree is intact" "$before" "$(ls -A "$dir/work/tree" | wc -l)"
run "$ksc" compile prog.ks -o ''
refused "compile -o '' is refused" "the output directory name is empty"
run "$ksc" compile prog.ks -o /
refused "compile -o / is refused" "'/' cannot be an output directory"
ln -s tree "$dir/work/lnk"
run "$ksc" compile prog.ks -o lnk
refused "compile -o SYMLINK is refused" \
	"'lnk' is a symbolic link: give the directory itself as the output directory"
run "$ksc" compile prog.ks -o prog.ks
refused "compile -o FILE is refused" "'prog.ks' exists and is not a directory; choose another -o directory"
check "compile -o FILE: the file is intact" "$(cat "$src")" "$(cat "$dir/work/prog.ks")"
mkdir "$dir/work/mine" && echo x >"$dir/work/mine/x"
run "$ksc" compile prog.ks -o mine
refused "compile into a directory ksc did not write is refused" \
	"'mine' exists and was not written by ksc; choose another -o directory"
mkdir "$dir/work/empty"
run "$ksc" compile prog.ks -o empty
check "compile into an empty directory" "0" "$rc"
run "$ksc" compile prog.ks -o new/nested/tree
check "compile into a new nested directory" "0 yes" \
	"$rc $([ -f "$dir/work/new/nested/tree/prog.ebpf.c" ] && echo yes)"
mkdir "$dir/work/old" && : >"$dir/work/old/.ksc-output" && : >"$dir/work/old/prog.c"
run "$ksc" compile prog.ks -o old
refused "compile over a tree of an older ksc (marker without a list) is refused" \
	"'old' was written by an older ksc that did not record its files: remove it yourself, or choose another -o directory"
no_tmp "compile -o spellings"

# --- temporary trees of killed runs ---
for delay in 0.05 0.1 0.2 0.3 0.5; do
	(cd "$dir/work" && exec "$KSC" compile prog.ks -o killed) >/dev/null 2>&1 &
	pid=$!
	sleep $delay
	kill -9 $pid 2>/dev/null
	wait $pid 2>/dev/null
	ls -d "$dir"/work/killed.ksc-tmp-* >/dev/null 2>&1 && break
done
mkdir "$dir/work/killed.ksc-tmp-users" && echo mine >"$dir/work/killed.ksc-tmp-users/f"
mkdir "$dir/work/killed.ksc-tmp-live" && : >"$dir/work/killed.ksc-tmp-live/.ksc-tmp"
flock "$dir/work/killed.ksc-tmp-live" sleep 30 &
holder=$!
sleep 0.2
stale=$(ls -d "$dir"/work/killed.ksc-tmp-* | grep -v -e users -e live | wc -l)
run "$ksc" compile prog.ks -o killed
check "compile after a killed run" "0" "$rc"
if ((stale)); then
	check "compile: the killed run's temporary tree is removed" "" \
		"$(ls -d "$dir"/work/killed.ksc-tmp-* | grep -v -e users -e live)"
	check "compile: the removal is said" "1" "$(grep -c 'left by a ksc run that did not finish' "$dir/err")"
else
	skip "compile: the killed run's temporary tree is removed" "no kill landed while ksc ran"
fi
check "compile: a directory with a temporary name but no stamp is kept" "mine" \
	"$(cat "$dir/work/killed.ksc-tmp-users/f")"
check "compile: a temporary tree whose run holds its lock is kept" "yes" \
	"$([ -e "$dir/work/killed.ksc-tmp-live/.ksc-tmp" ] && echo yes)"
kill $holder 2>/dev/null
wait $holder 2>/dev/null
rm -rf "$dir/work/killed.ksc-tmp-users" "$dir/work/killed.ksc-tmp-live"

# --- ksc build: refused before anything is built ---
fresh
run "$ksc" compile prog.ks -o tree
echo "mine" >"$dir/work/tree/notes.txt"
run "$ksc" build prog.ks -o tree
refused "build: a user file in the tree is refused" \
	"'tree' holds 'notes.txt', which ksc did not write: move it out, or choose another -o directory"
check "build: nothing was built" "" "$(ls "$dir/work/tree/prog.ebpf.o" 2>/dev/null)"
no_tmp "build"

# --- ksc init: a project is the user's; it never replaces anything ---
run "$ksc" init xdp proj
check "init: a new project" "0" "$rc"
echo "// edited" >>"$dir/work/proj/proj.ks"
run "$ksc" init xdp proj
refused "init over an existing project is refused" "cannot create 'proj': it exists already"
check "init: the project is intact" "// edited" "$(tail -1 "$dir/work/proj/proj.ks")"
check "init: a project has no marker" "" "$(ls -A "$dir/work/proj" | grep ksc-output)"
no_tmp "init"

# --- ksc kmod dkms: the tree and its tarball ---
run "$ksc" kmod dkms prog.ks -o dk
check "kmod dkms: a new tree and tarball" "0" "$rc"
run "$ksc" kmod dkms prog.ks -o dk
check "kmod dkms: its own tree and tarball are replaced" "0" "$rc"
echo mine >"$dir/work/dk/prog-0.1.0/patch.diff"
run "$ksc" kmod dkms prog.ks -o dk
refused "kmod dkms: a user file in the tree is refused" \
	"'dk/prog-0.1.0' holds 'patch.diff', which ksc did not write: move it out, or choose another -o directory"
rm -r "$dir/work/dk/prog-0.1.0"
run "$ksc" kmod dkms prog.ks -o dk
refused "kmod dkms: a tarball without its tree is not replaced" \
	"'dk/prog-0.1.0.dkms.tar.gz' exists and ksc did not write it with 'dk/prog-0.1.0'; move it, or choose another -o directory"
no_tmp "kmod dkms"

# --- ksc kmod build against a real tree (6.12: kbuild's own BTF step) ---
if kdir=$(scripts/kernels kdir 6.12 2>"$dir/kernels.log"); then
	run "$ksc" kmod build prog.ks -o km --kdir "$kdir"
	check "kmod build: a new tree" "0" "$rc"
	run "$ksc" kmod build km --kdir "$kdir"
	check "kmod build DIR: built again in place" "0" "$rc"
	run "$ksc" compile prog.ks -o km
	check "compile over a tree kbuild built in" "0" "$rc"
	echo mine >"$dir/work/km/kmod/extra.c"
	run "$ksc" kmod build prog.ks -o km --kdir "$kdir"
	refused "kmod build: a user file in the tree is refused before kbuild" \
		"'km' holds 'kmod/extra.c', which ksc did not write: move it out, or choose another -o directory"
	check "kmod build: the user file is intact" "mine" "$(cat "$dir/work/km/kmod/extra.c")"
	no_tmp "kmod build"
else
	fail "kmod build: 6.12 headers" "$(cat "$dir/kernels.log")"
fi

# --- a failed module build keeps its log beside the tree, never over a user's file ---
# (6.1: ksc runs pahole itself; this one answers --version and fails the real run.)
printf '#!/bin/sh\n[ "$1" = --version ] && exit 0\nexit 1\n' >"$dir/pahole" && chmod +x "$dir/pahole"
if kdir=$(scripts/kernels kdir 6.1 2>"$dir/kernels.log") &&
	image=$(scripts/kernels vmlinuz 6.1 2>>"$dir/kernels.log"); then
	run env PAHOLE="$dir/pahole" "$ksc" kmod build prog.ks -o bad --kdir "$kdir" --btf-base "$image"
	check "kmod build: a failed build leaves no tree" "1 no" \
		"$rc $([ -e "$dir/work/bad" ] && echo yes || echo no)"
	check "kmod build: its log is kept beside" "yes" \
		"$(grep -q '^==> build.log <==' "$dir/work/bad.build.log" && echo yes)"
	echo "my log" >"$dir/work/bad.build.log"
	run env PAHOLE="$dir/pahole" "$ksc" kmod build prog.ks -o bad --kdir "$kdir" --btf-base "$image"
	check "kmod build: a user's DIR.build.log is not overwritten" "my log" \
		"$(cat "$dir/work/bad.build.log")"
	no_tmp "kmod build failure"
else
	fail "kmod build: 6.1 headers and image" "$(cat "$dir/kernels.log")"
fi

# --- the sanitizers saw nothing in any run ---
check "no sanitizer report" "" "$(grep -e 'ERROR: AddressSanitizer' -e 'runtime error:' "$dir/all.err")"
