#!/usr/bin/env bash
# ksc kmod build against Debian's 6.1 and 6.12 headers, checked from the
# outside: bpftool reads the module's BTF, the .BTF_ids sets are decoded
# from the section bytes, and the kfunc prototypes are compared with the
# hand-written twin (tests/kmod/kfunc_stats_twin.c).  Then the bad inputs:
# each is one error line, exit status 1, nothing left behind.
source tests/lib.sh

dir=$(scratch kmod-build)
progs=(examples/kfunc_stats.ks tests/kmod/progs/*.ks)

# bpftool reads a 6.1 module's BTF only over the kernel's, which ksc takes
# from the image and does not keep: the kfunc library's test driver
# extracts it independently.
tool=$dir/kfunc-tool
build_kfunc_tool "$tool" ||
	{ fail "build kfunc-tool"; exit 0; }

# FUNC lines of a module's BTF, with each kfunc's prototype (the ids of
# base types are the base's, so two modules over one base compare equal).
protos() { # KO BASE NAME...
	local ko=$1 base=$2
	shift 2
	bpftool -B "$base" btf dump file "$ko" format raw | awk -v names=" $* " '
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
check_ids() { # LABEL KO BASE SRC
	local label=$1 ko=$2 base=$3 src=$4 want got entries fn id
	entries=$(set8_entries "$ko")
	if [ "$entries" = bad ] || [ -z "$entries" ]; then
		fail "$label .BTF_ids sets" "$(od -An -tu4 "$ko" 2>/dev/null | head -0)unresolved or malformed sets"
		return
	fi
	want='' got=''
	for fn in $(grep -o 'BTF_ID_FLAGS(func, [a-z_0-9]*' "$src" | sed 's/.*, //' | sort -u); do
		id=$(bpftool -B "$base" btf dump file "$ko" format raw |
			sed -n "s/^\[\([0-9]*\)\] FUNC '$fn' .*/\1/p")
		want+="$fn "
		[ -n "$id" ] && grep -q "^$id " <<<"$entries" && got+="$fn "
	done
	check "$label every kfunc in a resolved set" "$want" "$got"
}

kernels_ok=()
for k in 6.1 6.12; do
	if ! kdir=$(scripts/kernels kdir "$k" 2>"$dir/err") ||
		! vmlinuz=$(scripts/kernels vmlinuz "$k" 2>"$dir/err"); then
		fail "$k kernel" "$(cat "$dir/err")"
		continue
	fi
	kernels_ok+=("$k")
	base_opt=()
	basefile=$kdir/vmlinux
	if [ ! -e "$kdir/vmlinux" ]; then
		base_opt=(--btf-base "$vmlinuz")
		# bpftool needs the base as a file: the kernel's own BTF, taken
		# from its image the way scripts/extract-vmlinux does.
		basefile=$dir/$k-vmlinux.btf
	fi
	for src in "${progs[@]}"; do
		name=$(basename "$src" .ks)
		out=$dir/$k/$name
		# A module defining a struct_ops type needs 6.9: t-kmod-stops.sh checks 6.1's refusal.
		if [ "$k" = 6.1 ] && grep -q '^struct .*{' <(grep -A1 '^@kmod$' "$src"); then
			continue
		fi
		if ! ./ksc kmod build "$src" --kdir "$kdir" "${base_opt[@]}" -o "$out" >"$dir/log" 2>&1; then
			fail "$k build $name" "$(cat "$dir/log")"
			continue
		fi
		pass "$k build $name"
		ko=$out/kmod/$name.ko
		# A module without kfuncs (a native congestion control) registers
		# nothing through BTF, so ksc does not insist on giving it any.
		if ! grep -q 'BTF_ID_FLAGS(func, ' "$out/kmod/$name.c"; then
			check "$k $name: no kfuncs, no BTF step" "" \
				"$(grep -E 'pahole|resolving|verified' "$dir/log" || true)"
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
		if bpftool -B "$basefile" btf dump file "$ko" >/dev/null 2>&1; then
			pass "$k $name has BTF over the kernel's"
		else
			fail "$k $name has BTF over the kernel's"
		fi
		check_ids "$k $name" "$ko" "$basefile" "$out/kmod/$name.c"
	done
done

# The twin: same kfunc prototypes in BTF as ksc's module (6.12, where
# kbuild gives both their BTF).
if [[ " ${kernels_ok[*]} " == *" 6.12 "* ]]; then
	kdir=$(scripts/kernels kdir 6.12)
	rm -rf "$dir/twin" && mkdir -p "$dir/twin" && cp tests/kmod/Kbuild tests/kmod/*.c "$dir/twin/"
	if make -C "$kdir" M="$dir/twin" modules >"$dir/twin.log" 2>&1; then
		pass "twin builds"
		fns="ksc_stats_count ksc_stats_avg ksc_stats_scale"
		a=$(protos "$dir/twin/kfunc_stats_twin.ko" "$kdir/vmlinux" $fns)
		b=$(protos "$dir/6.12/kfunc_stats/kmod/kfunc_stats.ko" "$kdir/vmlinux" $fns)
		[ -n "$a" ] && check "twin and generated kfunc prototypes" "$a" "$b" ||
			fail "twin and generated kfunc prototypes" "no prototypes in the twin's BTF"
		a=$(set8_entries "$dir/twin/kfunc_stats_twin.ko" | wc -l)
		b=$(set8_entries "$dir/6.12/kfunc_stats/kmod/kfunc_stats.ko" | wc -l)
		check "twin and generated set sizes" "$a" "$b"
	else
		fail "twin builds" "$(tail -20 "$dir/twin.log")"
	fi
fi

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
[ -d "$k61" ] && [ -n "${v61:=$(scripts/kernels vmlinuz 6.1 2>/dev/null)}" ] &&
	PAHOLE=/nonexistent/pahole bad "pahole missing" "apt-get install dwarves" \
		./ksc -q kmod build $ks --kdir "$k61" --btf-base "$v61" -o "$dir/bad-out"
[ -d "$k61" ] && KSC_VMLINUZ_PATH=$dir/no-images bad "no kernel image for the base BTF" \
	"give the kernel image with --btf-base" ./ksc -q kmod build $ks --kdir "$k61" -o "$dir/bad-out"
printf 'fn main() -> i32 {\n    return 0\n}\n' >"$dir/plain.ks"
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
