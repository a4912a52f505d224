#!/usr/bin/env bash
# ksc as a Debian package: `dpkg-buildpackage -us -uc -b` on a copy of the
# tracked tree gives ksc_VERSION_ARCH.deb holding the binary, a man page
# per command and bash completion, with the Depends the toolkit needs (the
# shared libraries, and pahole, bpftool, make, gcc, libbpf-dev for what ksc
# runs); the packaged binary, unpacked, compiles a program by itself.
source tests/lib.sh
dir=$(scratch deb)
if ! command -v dpkg-buildpackage >/dev/null || ! dpkg-query -W -f='${Status}' debhelper 2>/dev/null |
	grep -q 'ok installed'; then
	fail "dpkg-buildpackage and debhelper" "scripts/install-deps installs them"
	exit 0
fi
mkdir -p "$dir/src"
git ls-files -z | tar --null -cf - -T - | tar -xf - -C "$dir/src"
if ! (cd "$dir/src" && dpkg-buildpackage -us -uc -b >"$dir/build.log" 2>&1); then
	fail "dpkg-buildpackage -us -uc -b" "$(tail -20 "$dir/build.log")"
	exit 0
fi
deb=$(ls "$dir"/ksc_*_*.deb 2>/dev/null | head -1)
[ -n "$deb" ] && pass "dpkg-buildpackage -us -uc -b gives $(basename "$deb")" ||
	{ fail "a ksc .deb" "$(ls "$dir")"; exit 0; }
files=$(dpkg-deb -c "$deb" | awk '{ print $6 }')
for f in ./usr/bin/ksc ./usr/share/man/man1/ksc.1.gz ./usr/share/man/man1/ksc-compile.1.gz \
	./usr/share/man/man1/ksc-kmod.1.gz ./usr/share/bash-completion/completions/ksc \
	./usr/share/doc/ksc/copyright; do
	grep -qxF "$f" <<<"$files" && pass "package holds $f" || fail "package holds $f" "$files"
done
dep=$(dpkg-deb -f "$deb" Depends)
for d in libbpf1 libelf1 libkmod2 'pahole | dwarves' bpftool make gcc libbpf-dev; do
	grep -qF "$d" <<<"$dep" && pass "Depends: $d" || fail "Depends: $d" "$dep"
done
dpkg-deb -x "$deb" "$dir/root"
cp tests/ebpf/progs/maps.ks "$dir/"
if (cd "$dir" && "$dir/root/usr/bin/ksc" -q compile maps.ks -o t >/dev/null 2>&1) && [ -f "$dir/t/maps.ebpf.c" ]; then
	pass "the packaged ksc compiles a program"
else
	fail "the packaged ksc compiles a program"
fi
