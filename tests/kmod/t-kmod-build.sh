#!/usr/bin/env bash
# ksc kmod build on every kernel of the matrix (tests/lib.sh kernel_matrix:
# Debian 12's 6.1 and backports 6.12, Debian 13's 6.12 and backports 7.x,
# the Debian 13 ones built with ksc and kbuild inside the trixie root of
# scripts/debroot), checked from the outside: bpftool (the suite's) reads the
# module's BTF, the .BTF_ids sets are decoded from the section bytes, and the
# kfunc prototypes are compared with the hand-written twin
# (tests/kmod/kfunc_stats_twin.c) built by plain kbuild.  Then the bad
# inputs: each is one error line, exit status 1, nothing left behind.
source tests/lib.sh

dir=$(scratch kmod-build)
# kfunc_from_user's kfuncs print, which gives gcc a cold path to split off.
progs=(examples/kfunc_stats.ks tests/kmod/progs/*.ks tests/ks/pass/kfunc_from_user.ks)

# bpftool reads a 6.1 module's BTF only over the kernel's, which ksc takes
# from the image and does not keep: the kfunc library's test driver
# extracts it independently.
tool=$dir/kfunc-tool
build_kfunc_tool "$tool" ||
	{ fail "build kfunc-tool"; exit 0; }

# btf_raw SUITE KO BASE: the module's BTF as bpftool's raw dump, with the
# type ids its .BTF_ids hold: over its distilled base (.BTF.base, 6.12+
# kbuild with pahole 1.26+) when it has one, else over BASE.
btf_raw() {
	if readelf -SW "$2" 2>/dev/null | grep -q ' \.BTF\.base '; then
		on_suite "$1" bpftool btf dump file "$2" format raw
	else
		on_suite "$1" bpftool -B "$3" btf dump file "$2" format raw
	fi
}

# FUNC lines of a module's BTF over BASE, with each kfunc's prototype (the
# ids of base types are the base's, so two modules over one base compare
# equal; a distilled base is relocated onto BASE by the suite's bpftool).
protos() { # SUITE KO BASE NAME...
	local suite=$1 ko=$2 base=$3
	shift 3
	on_suite "$suite" bpftool -B "$base" btf dump file "$ko" format raw | awk -v names=" $* " '
		/^\[/ { id = substr($1, 2, length($1) - 2); cur = id; line[id] = $0; next }
		{ sub(/^[ \t]+/, ""); line[cur] = line[cur] " | " $0 }
		$2 == "FUNC" { }
		END {
			for (i in line) {
				split(line[i], f, " ")
				if (f[2] != "FUNC") continue
				n = f[3]; gsub("\047", "", n)
				if (index(names, " " n " ") == 0) continue
				t = f[4]; sub("type_id=", "", t)
				p = line[t]; sub(/^\[[0-9]+\] /, "", p)
				print n ": " p
			}
		}' | sort
}

# The kfunc ids of every set8 in .BTF_ids, as "id flags" lines; "bad" when
# a count does not match the section or ids are unsorted.
set8_entries() { # KO
	local raw=$dir/ids.bin
	objcopy -O binary --only-section=.BTF_ids "$1" "$raw" 2>/dev/null || { echo bad; return; }
	od -An -tu4 -v "$raw" | tr -s ' \n' '\n\n' | sed '/^$/d' | awk '
		{ w[n++] = $1 }
		END {
			i = 0
			while (i < n) {
				cnt = w[i]; i += 2; prev = 0
				if (cnt == 0 || i + 2 * cnt > n) { print "bad"; exit }
				for (j = 0; j < cnt; j++) {
					if (w[i] <= prev) { print "bad"; exit }
					prev = w[i]; print w[i], w[i + 1]; i += 2
				}
			}
		}'
}

# Every kfunc of NAME.c is in a set with its FUNC id from the module BTF.
check_ids() { # LABEL SUITE KO BASE SRC
	local label=$1 suite=$2 ko=$3 base=$4 src=$5 want got entries fn id raw tags
	entries=$(set8_entries "$ko")
	if [ "$entries" = bad ] || [ -z "$entries" ]; then
		fail "$label .BTF_ids sets" "unresolved or malformed sets"
		return
	fi
	raw=$(btf_raw "$suite" "$ko" "$base")
	want='' got=''
	for fn in $(grep -o 'BTF_ID_FLAGS(func, [a-z_0-9]*' "$src" | sed 's/.*, //' | sort -u); do
		id=$(sed -n "s/^\[\([0-9]*\)\] FUNC '$fn' .*/\1/p" <<<"$raw")
		want+="$fn "
		[ -n "$id" ] && grep -q "^$id " <<<"$entries" && got+="$fn "
	done
	check "$label every kfunc in a resolved set" "$want" "$got"
	# Where the module's BTF tags kfuncs (pahole 1.27+, or 7.x's
	# resolve_btfids), it tags every one: tag readers (ksc kfuncs
	# --module) list nothing else.
	tags=$(grep -c "DECL_TAG 'bpf_kfunc'" <<<"$raw")
	((tags == 0)) || check "$label a bpf_kfunc decl tag per kfunc" "$(wc -w <<<"$want")" "$tags"
}

# Whether kbuild distils the base for external modules on this tree: 6.12+
# scripts/Makefile.btf with the tree's pahole 1.26 or newer.
distils() { # KDIR
	local v
	v=$(sed -n 's/^CONFIG_PAHOLE_VERSION=//p' "$1/.config")
	grep -qs distill "$1/scripts/Makefile.btf" && ((${v:-0} >= 126))
}

kernels_ok=()
declare -A kdirs=() suites=()
for k in $(kernel_matrix); do
	start=$SECONDS
	if ! suite=$(scripts/kernels suite "$k" 2>"$dir/err") ||
		! kdir=$(scripts/kernels kdir "$k" 2>"$dir/err") ||
		! vmlinuz=$(scripts/kernels vmlinuz "$k" 2>"$dir/err") ||
		! kver=$(scripts/kernels kver "$k" 2>"$dir/err"); then
		fail "$k kernel" "$(cat "$dir/err")"
		continue
	fi
	# The suite's own ksc (built inside its root once per run).
	if ! mksc=$(suite_ksc "$suite" 2>"$dir/err"); then
		fail "$k ksc built on $suite" "$(cat "$dir/err")"
		continue
	fi
	kernels_ok+=("$k")
	kdirs[$k]=$kdir suites[$k]=$suite
	base_opt=''
	basefile=$kdir/vmlinux
	if [ ! -e "$kdir/vmlinux" ]; then
		base_opt=$vmlinuz
		# bpftool needs the base as a file: the kernel's own BTF, taken
		# from its image the way scripts/extract-vmlinux does.
		basefile=$dir/$k-vmlinux.btf
	fi
	srcs=()
	for src in "${progs[@]}"; do
		# A module defining a struct_ops type needs 6.9: t-kmod-stops.sh checks 6.1's refusal.
		if ! kver_at_least "$kver" 6.9 && grep -q '^struct .*{' <(grep -A1 '^@kmod$' "$src"); then
			continue
		fi
		srcs+=("$src")
	done
	kmod_prebuild "$k" "$mksc" "$kdir" "$base_opt" "${srcs[@]}"
	for src in "${srcs[@]}"; do
		name=$(basename "$src" .ks)
		if ! b=$(kmod_build "$k" "$mksc" "$kdir" "$base_opt" "$src"); then
			fail "$k build $name" "$(cat "$b/build.log")"
			continue
		fi
		pass "$k build $name"
		out=$b/out
		ko=$out/kmod/$name.ko
		# A module without kfuncs (a native congestion control) registers
		# nothing through BTF, so ksc does not insist on giving it any.
		if ! grep -q 'BTF_ID_FLAGS(func, ' "$out/kmod/$name.c"; then
			check "$k $name: no kfuncs, no BTF step" "" \
				"$(grep -E 'pahole|resolving|verified' "$b/build.log" || true)"
			continue
		fi
		if [ "$basefile" != "$kdir/vmlinux" ] && [ ! -e "$basefile" ]; then
			# The extracted base is not kept by ksc; ask it for one.
			"$tool" extract "$vmlinuz" "$basefile" || true
		fi
		if [ ! -e "$basefile" ]; then
			skip "$k $name ids" "no base BTF file to read the module's BTF with"
			continue
		fi
		if on_suite "$suite" bpftool -B "$basefile" btf dump file "$ko" >/dev/null 2>&1; then
			pass "$k $name has BTF over the kernel's"
		else
			fail "$k $name has BTF over the kernel's"
		fi
		if [ "$name" = kfunc_stats ]; then
			want=vmlinux
			distils "$kdir" && want=distilled
			got=vmlinux
			readelf -SW "$ko" | grep -q ' \.BTF\.base ' && got=distilled
			check "$k $name: module BTF over the $want base" "$want" "$got"
		fi
		check_ids "$k $name" "$suite" "$ko" "$basefile" "$out/kmod/$name.c"
	done
	echo "# $k ($kver, $suite): $((SECONDS - start)) s"
done

# The twin: same kfunc prototypes in BTF as ksc's module, on each kernel
# whose tree ships vmlinux (6.12 and newer: kbuild gives both their BTF).
for k in "${kernels_ok[@]}"; do
	kdir=${kdirs[$k]} suite=${suites[$k]}
	[ -e "$kdir/vmlinux" ] || continue
	gen=$KSC_TEST_OUT/kmod-matrix/$k/kfunc_stats/out/kmod/kfunc_stats.ko
	rm -rf "$dir/twin-$k" && mkdir -p "$dir/twin-$k" && cp tests/kmod/Kbuild tests/kmod/*.c "$dir/twin-$k/"
	if on_suite "$suite" make -C "$kdir" M="$dir/twin-$k" modules >"$dir/twin-$k.log" 2>&1; then
		pass "$k twin builds"
		fns="ksc_stats_count ksc_stats_avg ksc_stats_scale"
		a=$(protos "$suite" "$dir/twin-$k/kfunc_stats_twin.ko" "$kdir/vmlinux" $fns)
		b=$(protos "$suite" "$gen" "$kdir/vmlinux" $fns)
		[ -n "$a" ] && check "$k twin and generated kfunc prototypes" "$a" "$b" ||
			fail "$k twin and generated kfunc prototypes" "no prototypes in the twin's BTF"
		a=$(set8_entries "$dir/twin-$k/kfunc_stats_twin.ko" | wc -l)
		b=$(set8_entries "$gen" | wc -l)
		check "$k twin and generated set sizes" "$a" "$b"
	else
		fail "$k twin builds" "$(tail -20 "$dir/twin-$k.log")"
	fi
done

# Bad input: one line, exit 1, no output directory.
bad() { # LABEL EXPECTED-SUBSTRING ARGS...
	local label=$1 want=$2 rc
	shift 2
	rm -rf "$dir/bad-out"
	"$@" >"$dir/bad.out" 2>"$dir/bad.err"
	rc=$?
	if [ $rc -ne 1 ]; then
		fail "bad input: $label" "exit status $rc" "$(cat "$dir/bad.err")"
	elif [ "$(wc -l <"$dir/bad.err")" -ne 1 ] || ! grep -q -- "$want" "$dir/bad.err"; then
		fail "bad input: $label" "expected one line with '$want', got:" "$(cat "$dir/bad.err")"
	elif [ -e "$dir/bad-out" ] || ls -d "$dir"/.bad-out* >/dev/null 2>&1; then
		fail "bad input: $label" "left $dir/bad-out behind"
	else
		pass "bad input: $label"
	fi
}
ks=examples/kfunc_stats.ks
k61=$(scripts/kernels kdir 6.1 2>/dev/null) || k61=/nonexistent
bad "no such kdir" "no such directory" ./ksc -q kmod build $ks --kdir "$dir/none" -o "$dir/bad-out"
mkdir -p "$dir/noconfig" && touch "$dir/noconfig/Makefile"
bad "kdir without .config" "no .config" ./ksc -q kmod build $ks --kdir "$dir/noconfig" -o "$dir/bad-out"
if v612=$(scripts/kernels vmlinuz 6.12 2>/dev/null) && [ -d "$k61" ]; then
	bad "image of another kernel" "give the image of the kernel" \
		./ksc -q kmod build $ks --kdir "$k61" --btf-base "$v612" -o "$dir/bad-out"
fi
# The image package the no-base hint leads to, and a file pahole cannot
# read: each refused before kbuild runs, not by pahole after it.
if [ -d "$k61" ]; then
	mkdir -p "$dir/imgpkg/DEBIAN" &&
		printf 'Package: linux-image-x\nVersion: 1\nArchitecture: amd64\nMaintainer: t <t@t>\nDescription: t\n' \
			>"$dir/imgpkg/DEBIAN/control" && dpkg-deb -b "$dir/imgpkg" "$dir/image.deb" >/dev/null
	bad "an image package as --btf-base" "is a Debian package, not a kernel image: unpack it with 'dpkg-deb -x" \
		./ksc -q kmod build $ks --kdir "$k61" --btf-base "$dir/image.deb" -o "$dir/bad-out"
	bad "a text file as --btf-base" "is neither raw BTF, an ELF vmlinux nor a kernel image" \
		./ksc -q kmod build $ks --kdir "$k61" --btf-base "$dir/imgpkg/DEBIAN/control" -o "$dir/bad-out"
fi
[ -d "$k61" ] && [ -n "${v61:=$(scripts/kernels vmlinuz 6.1 2>/dev/null)}" ] &&
	PAHOLE=/nonexistent/pahole bad "pahole missing" "apt-get install dwarves" \
		./ksc -q kmod build $ks --kdir "$k61" --btf-base "$v61" -o "$dir/bad-out"
[ -d "$k61" ] && KSC_VMLINUZ_PATH=$dir/no-images bad "no kernel image for the base BTF" \
	"give the kernel image with --btf-base" ./ksc -q kmod build $ks --kdir "$k61" -o "$dir/bad-out"
printf 'fn main() -> i32 {\n    return 0\n}\n' >"$dir/plain.ks"

# @private code and state no kfunc or @kmod method reaches: a warning each,
# and left out of the module, whose C would otherwise not build with
# -Werror ("defined but not used").  Found by tests/fuzz/t-generate.sh.
if [ -d "${k612:=$(scripts/kernels kdir 6.12 2>/dev/null)}" ]; then
	cat >"$dir/unused.ks" <<'KS'
@private
var hits: u64 = 0

@private
var spare: u32 = 1

@private
fn helper_twice(x: u64) -> u64 {
    return x * 2
}

@private
fn unused_helper(x: u32) -> u32 {
    spare = x
    return x + 1
}

@kfunc
fn count_hit(n: u64) -> u64 {
    hits = hits + helper_twice(n)
    return hits
}
KS
	out=$(./ksc check "$dir/unused.ks" 2>&1)
	check "unused @private: a warning for each" \
		"unused.ks:5:5: warning: @private variable 'spare' is not used by any @kfunc or @kmod method: it is left out of the module
unused.ks:13:4: warning: @private function 'unused_helper' is not used by any @kfunc or @kmod method: it is left out of the module" \
		"$(echo "$out" | grep ': warning: ' | sed "s|^$dir/||")"
	rm -rf "$dir/unused"
	if ./ksc -q compile "$dir/unused.ks" -o "$dir/unused" &&
		make -C "$k612" M="$dir/unused/kmod" KCFLAGS=-Werror modules >"$dir/unused.log" 2>&1; then
		pass "unused @private: the module builds with -Werror"
	else
		fail "unused @private: the module builds with -Werror" "$(grep -m5 -E 'error|warning' "$dir/unused.log")"
	fi
	check "unused @private: left out, the rest kept" "0 0 1 1" \
		"$(for w in spare unused_helper helper_twice hits; do grep -cw "unused_$w" "$dir/unused/kmod/unused.c"; done | sed "s/^[1-9][0-9]*$/1/" | paste -sd' ')"
fi

bad "no module code" "no module code" ./ksc -q kmod build "$dir/plain.ks" --kdir "$k61" -o "$dir/bad-out"
bad "missing source" "not a .ks file or a directory" ./ksc -q kmod build "$dir/none.ks" --kdir "$k61" -o "$dir/bad-out"

# An extern the target kernel does not export to modules (cubic's
# bictcp_recalc_ssthresh is static there): a diagnostic at the extern, before
# any kbuild run, where modpost would have been the first to complain.
if k612=$(scripts/kernels kdir 6.12 2>/dev/null); then
	cat >"$dir/unexported.ks" <<'KS'
include "tcp_congestion_ops.kh"

extern tcp_reno_undo_cwnd(sk: *sock) -> u32
extern bictcp_recalc_ssthresh(sk: *sock) -> u32

@struct_ops("tcp_congestion_ops")
@kmod
impl unexported {
    fn ssthresh(sk: *sock) -> u32 {
        return bictcp_recalc_ssthresh(sk)
    }

    fn cong_avoid(sk: *sock, ack: u32, acked: u32) {
    }

    fn undo_cwnd(sk: *sock) -> u32 {
        return tcp_reno_undo_cwnd(sk)
    }
}
KS
	rm -rf "$dir/bad-out"
	./ksc -q kmod build "$dir/unexported.ks" --kdir "$k612" -o "$dir/bad-out" 2>"$dir/bad.err"
	rc=$?
	check "unexported extern: exit status" 1 $rc
	check "unexported extern: diagnostic at the extern" \
		"$dir/unexported.ks:4:8: error: module code calls 'bictcp_recalc_ssthresh', which Linux $(scripts/kernels kver 6.12) does not export to modules (it is not in the tree's Module.symvers)" \
		"$(head -1 "$dir/bad.err")"
	check "unexported extern: nothing written" "" "$(ls -d "$dir"/bad-out* 2>/dev/null)"
fi
