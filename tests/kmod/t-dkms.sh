#!/usr/bin/env bash
# ksc kmod dkms with Debian's real dkms: the source tree is added, built for
# Debian's 6.1 and 6.12 kernels (both header packages installed, neither
# kernel running), installed and removed; the tarball loads with
# `dkms ldtarball`.  Then the same with Debian 13's dkms in the trixie root
# (scripts/debroot) for the trixie kernels of the matrix (7.x, 6.12+deb13).
# Every module DKMS builds passes the same BTF verification as `ksc kmod
# build`.  Bad input leaves no DKMS entry that claims a built module, and no
# tree.
source tests/lib.sh

dir=$(scratch dkms)
mod=kscdkms_test
ver=1.0
if ! command -v dkms >/dev/null; then
	fail "dkms is installed" "apt-get install dkms (scripts/install-deps does)"
	exit 0
fi
if [ "$(id -u)" != 0 ]; then
	skip dkms "needs root for dkms add/build/install"
	exit 0
fi

cleanup() {
	dkms remove "$mod/$ver" --all >/dev/null 2>&1
	dkms remove "$mod/2.0" --all >/dev/null 2>&1
	rm -rf "/usr/src/$mod-$ver" "/usr/src/$mod-2.0" "/var/lib/dkms/$mod"
}
cleanup
trap cleanup EXIT

tool=$dir/kfunc-tool
build_kfunc_tool "$tool" ||
	{ fail "build kfunc-tool"; exit 0; }

# The module is kfunc_stats under a name no real package uses.
cp examples/kfunc_stats.ks "$dir/$mod.ks"
kfuncs="ksc_stats_count ksc_stats_avg ksc_stats_scale"
if ./ksc -q kmod dkms "$dir/$mod.ks" --version $ver -o "$dir/out" 2>"$dir/err"; then
	pass "ksc kmod dkms writes the tree"
else
	fail "ksc kmod dkms writes the tree" "$(cat "$dir/err")"
	exit 0
fi
tree=$dir/out/$mod-$ver
conf=$tree/dkms.conf
for kv in "PACKAGE_NAME=\"$mod\"" "PACKAGE_VERSION=\"$ver\"" "BUILT_MODULE_NAME\[0\]=\"$mod\"" \
	'DEST_MODULE_LOCATION\[0\]=' 'AUTOINSTALL="yes"' 'MAKE\[0\]=".* kmod build \. --kdir \$kernel_source_dir"'; do
	if grep -q "^$kv" "$conf"; then pass "dkms.conf has $kv"; else
		fail "dkms.conf has $kv" "$(cat "$conf")"
	fi
done
check "tarball layout" "dkms_main_tree/ dkms_source_tree/dkms.conf dkms_source_tree/$mod.c" \
	"$(tar tzf "$dir/out/$mod-$ver.dkms.tar.gz" | grep -E '^dkms_main_tree/$|dkms.conf$|\.c$' | sort | tr '\n' ' ' | sed 's/ $//')"

# dkms runs our ksc, and finds the 6.1 image where scripts/kernels keeps it
# (on a real machine, /boot).
export KSC=$KSC_TOP/ksc
declare -A kver
for k in 6.1 6.12; do
	scripts/kernels kdir "$k" >/dev/null 2>"$dir/err" &&
		v=$(scripts/kernels vmlinuz "$k" 2>"$dir/err") && kver[$k]=$(scripts/kernels kver "$k") ||
		{ fail "$k kernel" "$(cat "$dir/err")"; continue; }
	export KSC_VMLINUZ_PATH=$(dirname "$v")
done

if dkms add "$tree" >"$dir/add.log" 2>&1; then pass "dkms add"; else
	fail "dkms add" "$(cat "$dir/add.log")"
	exit 0
fi
for k in 6.1 6.12; do
	kv=${kver[$k]:-}
	[ -n "$kv" ] || continue
	if dkms build -k "$kv" "$mod/$ver" >"$dir/build-$k.log" 2>&1; then
		pass "dkms build -k $kv"
	else
		fail "dkms build -k $kv" "$(tail -20 "$dir/build-$k.log")" \
			"$(cat /var/lib/dkms/$mod/$ver/build/make.log 2>/dev/null | tail -20)"
		continue
	fi
	ko=/var/lib/dkms/$mod/$ver/$kv/$(uname -m)/module/$mod.ko
	kdir=/lib/modules/$kv/build
	base=$kdir/vmlinux
	if [ ! -e "$base" ]; then
		base=$dir/$k.btf
		"$tool" extract "$KSC_VMLINUZ_PATH/vmlinuz-$kv" "$base"
	fi
	if out=$("$tool" verify "$ko" "$base" $kfuncs 2>&1); then
		pass "$k DKMS module: BTF with every kfunc in a resolved set"
	else
		fail "$k DKMS module: BTF with every kfunc in a resolved set" "$out"
	fi
	if dkms install -k "$kv" "$mod/$ver" >"$dir/install-$k.log" 2>&1 &&
		[ -e "/lib/modules/$kv/updates/dkms/$mod.ko" ]; then
		pass "dkms install -k $kv"
	else
		fail "dkms install -k $kv" "$(tail -20 "$dir/install-$k.log")"
	fi
done
if dkms remove "$mod/$ver" --all >"$dir/remove.log" 2>&1 &&
	[ -z "$(dkms status "$mod" 2>/dev/null)" ] &&
	! ls /lib/modules/*/updates/dkms/$mod.ko >/dev/null 2>&1; then
	pass "dkms remove --all"
else
	fail "dkms remove --all" "$(cat "$dir/remove.log")" "$(dkms status "$mod")"
fi
rm -rf "/usr/src/$mod-$ver"

# The tarball, as fleets ship it.
if dkms ldtarball "$dir/out/$mod-$ver.dkms.tar.gz" >"$dir/ld.log" 2>&1 &&
	dkms build -k "${kver[6.12]}" "$mod/$ver" >>"$dir/ld.log" 2>&1; then
	pass "dkms ldtarball, then build"
else
	fail "dkms ldtarball, then build" "$(tail -20 "$dir/ld.log")"
fi

# Bad input: an unknown kernel, and a 6.1 build with no kernel image to take
# the base BTF from.  Neither leaves a built module behind.
not_built() { # LABEL KVER LOG WANT
	if grep -q -- "$4" "$3" && ! dkms status "$mod/$ver" -k "$2" 2>/dev/null | grep -q built &&
		[ ! -e "/var/lib/dkms/$mod/$ver/$2/$(uname -m)/module/$mod.ko" ]; then
		pass "$1"
	else
		fail "$1" "expected '$4' and no built module" "$(tail -15 "$3")" "$(dkms status "$mod")"
	fi
}
dkms build -k 9.9.9-nonexistent "$mod/$ver" >"$dir/bad1.log" 2>&1
not_built "dkms build for an unknown kernel fails" 9.9.9-nonexistent "$dir/bad1.log" \
	"headers for kernel 9.9.9-nonexistent cannot be found"
if [ -n "${kver[6.1]:-}" ]; then
	KSC_VMLINUZ_PATH=$dir/no-images dkms build -k "${kver[6.1]}" "$mod/$ver" >"$dir/bad2.log" 2>&1
	cat "/var/lib/dkms/$mod/$ver/build/make.log" >>"$dir/bad2.log" 2>/dev/null
	not_built "6.1 build without the kernel's image fails with ksc's message" "${kver[6.1]}" \
		"$dir/bad2.log" "no base BTF for kernel ${kver[6.1]}"
fi
dkms remove "$mod/$ver" --all >/dev/null 2>&1
rm -rf "/usr/src/$mod-$ver"

# ---- Debian 13: trixie's own dkms (3.2), inside the trixie root of
# scripts/debroot, building for each trixie kernel of the matrix (7.x and
# 6.12+deb13, neither running) with the ksc built in that root.  dkms keeps
# its trees here (--sourcetree, --dkmstree, --installtree), so the cached
# root is left as it was.  Every module it builds carries BTF over a
# distilled base with every kfunc in a resolved set. ----
trixie=()
for k in $(kernel_matrix); do
	[ "$(scripts/kernels suite "$k" 2>/dev/null)" = trixie ] && trixie+=("$k")
done
if ((${#trixie[@]} == 0)); then
	skip "trixie dkms" "no Debian 13 kernel in the matrix (KSC_KERNELS=${KSC_KERNELS:-})"
elif ! root=$(scripts/debroot path trixie 2>"$dir/err") || ! tksc=$(suite_ksc trixie 2>"$dir/err"); then
	fail "trixie root and its ksc" "$(cat "$dir/err")"
elif ! on_suite trixie dkms --version >"$dir/trixie-version" 2>&1; then
	fail "trixie root has dkms" "$(cat "$dir/trixie-version")"
else
	t=$dir/trixie
	mkdir -p "$t/src" "$t/dkms" "$t/inst"
	tdkms() { on_suite trixie env KSC="$tksc" dkms --sourcetree "$t/src" --dkmstree "$t/dkms" \
		--installtree "$t/inst" "$@"; }
	clean_root() { # what dkms would have left in the root itself
		ls -d "$root/var/lib/dkms/$mod" "$root/usr/src/$mod-$ver" "$root"/lib/modules/*/updates/dkms/$mod.ko 2>/dev/null
	}
	if on_suite trixie "$tksc" -q kmod dkms "$dir/$mod.ks" --version $ver -o "$t/out" >"$t/dkms.log" 2>&1 &&
		tdkms add "$t/out/$mod-$ver" >>"$t/dkms.log" 2>&1; then
		pass "trixie: $(head -n 1 "$dir/trixie-version"): ksc kmod dkms, dkms add"
		for k in "${trixie[@]}"; do
			if ! kernel_env "$k" 2>"$dir/err"; then
				fail "trixie $k kernel" "$(cat "$dir/err")"
				continue
			fi
			if tdkms build "$mod/$ver" -k "$kver" --kernelsourcedir "$kdir" >"$t/build-$k.log" 2>&1; then
				pass "trixie dkms build -k $kver"
			else
				fail "trixie dkms build -k $kver" "$(tail -20 "$t/build-$k.log")" \
					"$(tail -20 "$t/dkms/$mod/$ver/build/make.log" 2>/dev/null)"
				continue
			fi
			ko=$t/dkms/$mod/$ver/$kver/$(uname -m)/module/$mod.ko
			if readelf -SW "$ko" | grep -q ' \.BTF\.base ' &&
				out=$("$tool" verify "$ko" "$dir/no-base" $kfuncs 2>&1); then
				pass "trixie $k DKMS module: BTF over its distilled base, every kfunc in a resolved set"
			else
				fail "trixie $k DKMS module: BTF over its distilled base, every kfunc in a resolved set" \
					"${out:-no .BTF.base: $(readelf -SW "$ko" | grep BTF)}"
			fi
			check "trixie $k DKMS module: a bpf_kfunc decl tag per kfunc" 3 \
				"$(on_suite trixie bpftool btf dump file "$ko" 2>&1 | grep -c "DECL_TAG 'bpf_kfunc'")"
			# The kernel's modules directory, as its image package makes it.
			mkdir -p "$t/inst/$kver"
			if tdkms install "$mod/$ver" -k "$kver" --kernelsourcedir "$kdir" --no-depmod \
				>"$t/install-$k.log" 2>&1 && [ -e "$t/inst/$kver/updates/dkms/$mod.ko" ]; then
				pass "trixie dkms install -k $kver"
			else
				fail "trixie dkms install -k $kver" "$(tail -20 "$t/install-$k.log")"
			fi
		done
		if tdkms remove "$mod/$ver" --all --no-depmod >"$t/remove.log" 2>&1 &&
			[ -z "$(tdkms status "$mod" 2>/dev/null)" ] &&
			[ -z "$(find "$t/inst" -name "$mod.ko*")" ]; then
			pass "trixie dkms remove --all"
		else
			fail "trixie dkms remove --all" "$(cat "$t/remove.log")" "$(find "$t/inst")"
		fi
	else
		fail "trixie: ksc kmod dkms, dkms add" "$(cat "$t/dkms.log")"
	fi
	check "trixie: the root itself holds nothing of the module" "" "$(clean_root)"
fi

# ksc's own bad input: one line, exit 1, nothing written.
bad() { # LABEL WANT ARGS...
	local label=$1 want=$2 rc
	shift 2
	rm -rf "$dir/bad-out"
	./ksc -q kmod dkms "$@" -o "$dir/bad-out" 2>"$dir/bad.err"
	rc=$?
	if [ $rc -eq 1 ] && [ "$(wc -l <"$dir/bad.err")" -eq 1 ] && grep -q -- "$want" "$dir/bad.err" &&
		[ -z "$(ls -A "$dir/bad-out" 2>/dev/null)" ]; then
		pass "bad input: $label"
	else
		fail "bad input: $label" "exit $rc" "$(cat "$dir/bad.err")" "$(ls -A "$dir/bad-out" 2>&1)"
	fi
}
bad "version with a slash" "DKMS versions are" "$dir/$mod.ks" --version 1/2
printf 'fn main() -> i32 {\n    return 0\n}\n' >"$dir/plain.ks"
bad "no module code" "no module code" "$dir/plain.ks"
bad "not a tree" "no kbuild tree" "$dir"
bad "missing source" "not a .ks file or a directory" "$dir/none.ks"
