#!/usr/bin/env bash
# ksc package: a .deb for a kfunc example (eBPF object, systemd unit, DKMS
# tree) and one for a BPF-only program, checked with dpkg-deb (control
# fields, the exact file list, the unit), their maintainer scripts with sh -n
# and shellcheck; then installed, upgraded, removed and purged by the real
# dpkg into a throw-away root (a busybox chroot with an empty dpkg
# database), with dkms and systemctl stubs there that log their argv: the
# logged calls are checked for each step, and after the purge the root
# holds what it held before.  Usage and input errors; an existing .deb ksc
# did not make is never replaced.  Run under ASan+UBSan.
source tests/lib.sh
dir=$(scratch package)
K=$KSC_ASAN
export DEBFULLNAME="ksc tests" DEBEMAIL=tests@ksc.invalid SOURCE_DATE_EPOCH=1700000000
# ksc package stages in $TMPDIR: here, to see that it leaves nothing.
export TMPDIR=$dir/tmp
mkdir -p "$TMPDIR"
if ! command -v dpkg-deb >/dev/null; then
	fail "dpkg-deb is installed" "apt-get install dpkg"
	exit 0
fi
arch=$(dpkg --print-architecture)
cp examples/kfunc_stats.ks tests/ebpf/progs/maps.ks "$dir/"

# pkg LABEL ARGS...: ksc package ARGS succeeds.
pkg() {
	local label=$1
	shift
	if (cd "$dir" && "$K" -q package "$@") >"$dir/err" 2>&1 && ! grep -q -e Sanitizer -e 'runtime error' "$dir/err"; then
		pass "$label"
	else
		fail "$label" "$(cat "$dir/err")"
	fi
}
pkg "package kfunc_stats.ks" kfunc_stats.ks -o out
pkg "package kfunc_stats.ks --version 0.2.0" kfunc_stats.ks -o out --version 0.2.0
pkg "package maps.ks (BPF only)" maps.ks -o out --version 1.0~rc1
kdeb=$dir/out/ksc-ext-kfunc-stats_0.1.0_${arch}.deb
kdeb2=$dir/out/ksc-ext-kfunc-stats_0.2.0_${arch}.deb
bdeb=$dir/out/ksc-ext-maps_1.0~rc1_${arch}.deb
check "packages written, nothing else" \
	"$(basename "$kdeb") $(basename "$kdeb2") $(basename "$bdeb")" "$(ls "$dir/out" | tr '\n' ' ' | sed 's/ $//')"
check "no staging directory left" "" "$(ls -A "$TMPDIR")"

field() { dpkg-deb -f "$1" "$2"; }
check "kfunc: Package, Version, Architecture" "ksc-ext-kfunc-stats 0.1.0 $arch" \
	"$(field "$kdeb" Package) $(field "$kdeb" Version) $(field "$kdeb" Architecture)"
check "kfunc: Depends" "ksc, dkms, pahole | dwarves, kmod" "$(field "$kdeb" Depends)"
check "kfunc: Recommends" "linux-headers-$arch" "$(field "$kdeb" Recommends)"
check "kfunc: Maintainer from DEBFULLNAME and DEBEMAIL" "ksc tests <tests@ksc.invalid>" "$(field "$kdeb" Maintainer)"
check "kfunc: Ksc-Extension names the extension" kfunc_stats "$(field "$kdeb" Ksc-Extension)"
check "kfunc: Section, Priority" "kernel optional" "$(field "$kdeb" Section) $(field "$kdeb" Priority)"
check "BPF only: Depends on ksc alone, no Recommends" "ksc|" "$(field "$bdeb" Depends)|$(field "$bdeb" Recommends)"
check "BPF only: Version" "1.0~rc1" "$(field "$bdeb" Version)"

files() { dpkg-deb -c "$1" | awk '{ print $1, $2, $6 }' | tr '\n' ' ' | sed 's/ $//'; }
d='drwxr-xr-x root/root' f='-rw-r--r-- root/root'
common="$d ./ $d ./usr/ $d ./usr/lib/ $d ./usr/lib/ksc/"
check "kfunc: the file list" \
	"$common $d ./usr/lib/ksc/kfunc_stats/ $f ./usr/lib/ksc/kfunc_stats/kfunc_stats.attach $f ./usr/lib/ksc/kfunc_stats/kfunc_stats.ebpf.o $d ./usr/lib/systemd/ $d ./usr/lib/systemd/system/ $f ./usr/lib/systemd/system/ksc-kfunc_stats.service $d ./usr/src/ $d ./usr/src/kfunc_stats-0.1.0/ $f ./usr/src/kfunc_stats-0.1.0/Kbuild $f ./usr/src/kfunc_stats-0.1.0/Makefile $f ./usr/src/kfunc_stats-0.1.0/dkms.conf $f ./usr/src/kfunc_stats-0.1.0/kfunc_stats.c $f ./usr/src/kfunc_stats-0.1.0/ksc_compat.h" \
	"$(files "$kdeb")"
check "BPF only: the file list" \
	"$common $d ./usr/lib/ksc/maps/ $f ./usr/lib/ksc/maps/maps.attach $f ./usr/lib/ksc/maps/maps.ebpf.o $d ./usr/lib/systemd/ $d ./usr/lib/systemd/system/ $f ./usr/lib/systemd/system/ksc-maps.service" \
	"$(files "$bdeb")"
check "control members" "control postinst postrm prerm" \
	"$(dpkg-deb --ctrl-tarfile "$kdeb" | tar -t | sed -n 's|^\./\(.\)|\1|p' | sort | tr '\n' ' ' | sed 's/ $//')"

mkdir -p "$dir/x/k" "$dir/x/b"
dpkg-deb -R "$kdeb" "$dir/x/k"
dpkg-deb -R "$bdeb" "$dir/x/b"
unit=$dir/x/k/usr/lib/systemd/system/ksc-kfunc_stats.service
check "kfunc unit: its directives" \
	"Description=KernelScript extension kfunc_stats|Documentation=man:ksc-install(1) man:ksc-uninstall(1)|After=systemd-modules-load.service sys-fs-bpf.mount|Type=oneshot|RemainAfterExit=yes|ExecStartPre=/sbin/modprobe kfunc_stats|ExecStart=/usr/bin/ksc install /usr/lib/ksc/kfunc_stats|ExecStop=/usr/bin/ksc uninstall kfunc_stats|ExecStopPost=-/sbin/modprobe -r kfunc_stats|WantedBy=multi-user.target" \
	"$(grep -v -e '^#' -e '^\[' -e '^$' "$unit" | tr '\n' '|' | sed 's/|$//')"
check "BPF-only unit: no modprobe" \
	"ExecStart=/usr/bin/ksc install /usr/lib/ksc/maps|ExecStop=/usr/bin/ksc uninstall maps" \
	"$(grep -e '^Exec' "$dir/x/b/usr/lib/systemd/system/ksc-maps.service" | tr '\n' '|' | sed 's/|$//')"
if command -v systemd-analyze >/dev/null && out=$(systemd-analyze verify --man=no "$unit" 2>&1 |
	grep -v -e 'ksc install' -e 'modprobe' -e 'not executable' -e '/usr/bin/ksc'); [ -z "$out" ]; then
	pass "systemd-analyze verify: the unit parses"
else
	fail "systemd-analyze verify: the unit parses" "${out:-no systemd-analyze}"
fi
conf=$dir/x/k/usr/src/kfunc_stats-0.1.0/dkms.conf
check "dkms.conf: version, AUTOINSTALL, the BTF cache under /var/lib/ksc" \
	'PACKAGE_VERSION="0.1.0"|AUTOINSTALL="yes"|MAKE[0]="KSC_BTF_CACHE=/var/lib/ksc/kfunc_stats/btf ${KSC:-ksc} kmod build . --kdir $kernel_source_dir"' \
	"$(grep -e ^PACKAGE_VERSION -e ^AUTOINSTALL -e '^MAKE' "$conf" | tr '\n' '|' | sed 's/|$//')"
for s in "$dir"/x/[kb]/DEBIAN/p*; do
	label=$(basename "$(dirname "$(dirname "$s")")")/$(basename "$s")
	sh -n "$s" && pass "sh -n $label" || fail "sh -n $label"
	if command -v shellcheck >/dev/null; then
		out=$(shellcheck -s sh "$s" 2>&1) && pass "shellcheck $label" || fail "shellcheck $label" "$out"
	fi
done

# ---- dpkg itself, in a throw-away root: busybox for sh, stubs for dkms and
# systemctl that log their calls and keep a little state, a "running
# systemd" and the running kernel's headers directory. ----
root=$dir/root
if [ "$(id -u)" != 0 ] || [ ! -x /bin/busybox ]; then
	skip "dpkg install, upgrade, remove, purge" "needs root (chroot) and busybox-static"
else
	mkdir -p "$root"/{bin,usr/bin,dev,tmp,run/systemd/system,var/lib/dpkg/{info,updates,triggers}}
	mkdir -p "$root/lib/modules/$(uname -r)/build" "$root/var/lib/ksc/kfunc_stats/btf"
	touch "$root/var/lib/dpkg/status" "$root/var/lib/dpkg/available"
	mknod "$root/dev/null" c 1 3 2>/dev/null && chmod 666 "$root/dev/null" || touch "$root/dev/null"
	cp /bin/busybox "$root/bin/"
	ln -s busybox "$root/bin/sh"
	cat >"$root/usr/bin/stub" <<'EOF'
#!/bin/sh
# Logs the call; dkms status says what was added, systemctl is-enabled what was enabled.
me=${0##*/}
echo "$me $*" >>/calls.log
case "$me $*" in
"dkms add "*) touch "/stub-dkms-$5" ;;
"dkms remove "*) rm -f "/stub-dkms-$5" ;;
"dkms status "*) [ -e "/stub-dkms-$5" ] && echo "$3/$5: added" ;;
"systemctl -q enable "*) touch "/stub-enabled-$3" ;;
"systemctl -q disable "*) rm -f "/stub-enabled-$3" ;;
"systemctl -q is-enabled "*) [ -e "/stub-enabled-$3" ] ;;
esac
EOF
	chmod +x "$root/usr/bin/stub"
	ln -s stub "$root/usr/bin/dkms"
	ln -s stub "$root/usr/bin/systemctl"
	before=$(cd "$root" && find . | grep -v -e '^./var/lib/dpkg' | sort)
	# dpkg STEP WANT-CALLS ARGS...: dpkg --root ARGS succeeds, the scripts make exactly these calls.
	dpkg_step() {
		local label=$1 want=$2 out
		shift 2
		rm -f "$root/calls.log"
		if ! out=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg --root="$root" --force-depends "$@" 2>&1); then
			fail "dpkg: $label" "$out"
			return
		fi
		check "dpkg: $label" "$want" "$(tr '\n' '|' <"$root/calls.log" 2>/dev/null | sed 's/|$//')"
	}
	u=ksc-kfunc_stats.service m="-m kfunc_stats"
	dpkg_step "install: DKMS build for the running kernel, unit enabled and started" \
		"dkms status $m -v 0.1.0|dkms add $m -v 0.1.0|dkms install $m -v 0.1.0 -k $(uname -r)|systemctl -q is-enabled $u|systemctl -q enable $u|systemctl daemon-reload|systemctl -q is-enabled $u|systemctl start $u" \
		-i "$kdeb"
	[ -f "$root/usr/src/kfunc_stats-0.1.0/dkms.conf" ] && [ -f "$root/usr/lib/ksc/kfunc_stats/kfunc_stats.ebpf.o" ] &&
		pass "dpkg: the files are in place" || fail "dpkg: the files are in place" "$(cd "$root" && find usr)"
	dpkg_step "upgrade: unit stopped, the old DKMS version out, the new one built, unit started" \
		"systemctl stop $u|dkms status $m -v 0.1.0|dkms remove $m -v 0.1.0 --all|dkms status $m -v 0.2.0|dkms add $m -v 0.2.0|dkms install $m -v 0.2.0 -k $(uname -r)|systemctl -q is-enabled $u|systemctl daemon-reload|systemctl -q is-enabled $u|systemctl start $u" \
		-i "$kdeb2"
	check "upgrade: only the new DKMS tree" "kfunc_stats-0.2.0" "$(ls "$root/usr/src")"
	dpkg_step "remove: unit stopped and disabled, DKMS module removed" \
		"systemctl stop $u|systemctl -q disable $u|dkms status $m -v 0.2.0|dkms remove $m -v 0.2.0 --all|systemctl daemon-reload" \
		-r ksc-ext-kfunc-stats
	dpkg_step "purge: ksc's state of the extension goes" "systemctl daemon-reload" -P ksc-ext-kfunc-stats
	after=$(cd "$root" && find . | grep -v -e '^./var/lib/dpkg' -e '^./calls.log$' | sort)
	check "purge leaves the root as it was (but /var/lib/ksc/kfunc_stats, ksc's state)" \
		"$(grep -v '^./var/lib/ksc' <<<"$before")" "$after"
	check "dpkg knows nothing of the package after the purge" "" \
		"$(dpkg --root="$root" -l 2>/dev/null | grep ksc-ext)"

	rmdir "$root/lib/modules/$(uname -r)/build"
	rm -f "$root/calls.log"
	out=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg --root="$root" --force-depends -i "$kdeb" 2>&1)
	if grep -q "no headers for the running kernel $(uname -r)" <<<"$out" &&
		! grep -q -e 'dkms install' -e 'systemctl start' "$root/calls.log"; then
		pass "dpkg: install without headers says so, builds and starts nothing"
	else
		fail "dpkg: install without headers says so, builds and starts nothing" "$out" "$(cat "$root/calls.log")"
	fi
	dpkg --root="$root" --force-depends -P ksc-ext-kfunc-stats >/dev/null 2>&1
	mkdir "$root/lib/modules/$(uname -r)/build"

	u=ksc-maps.service
	dpkg_step "BPF only: install enables and starts the unit, no dkms" \
		"systemctl -q is-enabled $u|systemctl -q enable $u|systemctl daemon-reload|systemctl -q is-enabled $u|systemctl start $u" \
		-i "$bdeb"
	dpkg_step "BPF only: purge" "systemctl stop $u|systemctl -q disable $u|systemctl daemon-reload|systemctl daemon-reload" \
		-P ksc-ext-maps
	check "BPF only: purge leaves the root as it was" \
		"$(grep -v '^./var/lib/ksc' <<<"$before")" "$(cd "$root" && find . | grep -v -e '^./var/lib/dpkg' -e '^./calls.log$' | sort)"
fi

# ---- ownership of the output: a file of the package's name that ksc
# package did not make for this extension stays. ----
mkdir -p "$dir/own"
echo mine >"$dir/own/ksc-ext-maps_1.0_${arch}.deb"
cp "$kdeb" "$dir/own/ksc-ext-maps_2.0_${arch}.deb"
bad_input "a file of the .deb's name stays" "'.*ksc-ext-maps_1.0_${arch}.deb' exists and 'ksc package' did not make it for maps" \
	"$K" -q package "$dir/maps.ks" -o "$dir/own" --version 1.0
bad_input "another extension's .deb under the name stays" "did not make it for maps" \
	"$K" -q package "$dir/maps.ks" -o "$dir/own" --version 2.0
check "both are untouched" "mine kfunc_stats" \
	"$(cat "$dir/own/ksc-ext-maps_1.0_${arch}.deb") $(dpkg-deb -f "$dir/own/ksc-ext-maps_2.0_${arch}.deb" Ksc-Extension)"
old=$(stat -c %Y "$bdeb")
touch -d @1 "$bdeb"
pkg "its own earlier .deb is replaced" maps.ks -o out --version 1.0~rc1
[ "$(stat -c %Y "$bdeb")" != 1 ] && pass "the replaced .deb is new" || fail "the replaced .deb is new" "$old"
check "no temporary file left beside it" "" "$(ls -a "$dir/out" "$dir/own" | grep ksc-tmp)"

# ---- input errors: one line, exit 1, nothing written ----
bad_input "version not starting with a digit" "a package version is a digit" \
	"$K" -q package "$dir/maps.ks" -o "$dir/none" --version v1
bad_input "version with an underscore" "a package version is a digit" \
	"$K" -q package "$dir/maps.ks" -o "$dir/none" --version 1_2
bad_input "not a built tree" "is not a built tree (no NAME.ebpf.o)" \
	"$K" -q package "$dir/x" -o "$dir/none"
bad_input "missing source" "not a .ks file or a directory" \
	"$K" -q package "$dir/none.ks" -o "$dir/none"
check "nothing written for bad input" "" "$(ls -d "$dir/none" 2>/dev/null)"

# A built tree is packaged as it is.
if (cd "$dir" && "$KSC" -q build maps.ks -o built >/dev/null 2>&1); then
	pkg "package DIR (a ksc build tree)" built -o fromdir
	check "package DIR: the same files" "$(files "$bdeb" | sed 's/1.0~rc1/0.1.0/g')" \
		"$(files "$dir/fromdir/ksc-ext-maps_0.1.0_${arch}.deb")"
else
	fail "ksc build maps.ks"
fi
