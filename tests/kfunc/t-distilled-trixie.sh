#!/usr/bin/env bash
# Real modules with a distilled base: ksc built in the Debian 13 root
# (libbpf 1.5, pahole 1.30) builds kfunc modules for trixie-backports' 7.x
# and trixie's 6.12, whose kbuild gives them .BTF.base and bpf_kfunc decl
# tags; `ksc kmod build` verifies them, and so do the host's kfunc library
# and `ksc kfuncs` (libbpf 1.1.2).  The set8 ids must be the FUNC ids that
# trixie's bpftool reads over the module's own base, and on 7.x no
# KF_TRUSTED_ARGS bit is left (the compat header maps it to 0).
# The Debian 13 root comes from scripts/debroot (made here when this runs
# first).  The modules are made here at test time, never kept.
source tests/lib.sh
dir=$(scratch kfunc-distilled-trixie)
if ! scripts/debroot path trixie >/dev/null 2>"$dir/err"; then
	fail "a Debian 13 root (scripts/debroot)" "$(tail -5 "$dir/err")"
	exit 0
fi
if ! tksc=$(suite_ksc trixie 2>"$dir/err"); then
	fail "ksc builds in the Debian 13 root" "$(cat "$dir/err")"
	exit 0
fi
pass "ksc builds in the Debian 13 root"
tool=$dir/kfunc-tool
build_kfunc_tool "$tool" || {
	fail "build kfunc-tool"
	exit 0
}

# The kfunc names of a generated module, sorted.
kfuncs_of() { grep -o 'BTF_ID_FLAGS(func, [a-z_0-9]*' "$1" | sed 's/.*, //' | sort -u; }
# "id flags" of every set8 entry, from the section bytes (one set8 per hook).
set8_entries() {
	objcopy -O binary --only-section=.BTF_ids "$1" "$dir/ids.bin" &&
		od -An -tu4 -v "$dir/ids.bin" | xargs -n1 | awk '
			{ w[n++] = $1 }
			END { i = 0; while (i < n) { c = w[i]; i += 2; for (j = 0; j < c; j++) { print w[i], w[i + 1]; i += 2 } } }'
}

for series in 7 6.12-trixie; do
	if ! kdir=$(scripts/kernels kdir "$series" 2>"$dir/err"); then
		fail "$series kernel tree" "$(tail -1 "$dir/err")"
		continue
	fi
	for src in examples/kfunc_stats.ks tests/kmod/progs/kf_objects.ks; do
		name=$(basename "$src" .ks)
		out=$dir/$series/$name
		label="$series $name"
		if ! on_suite trixie "$tksc" -q kmod build "$src" --kdir "$kdir" -o "$out" >"$dir/build.log" 2>&1; then
			fail "$label: ksc kmod build verifies it" "$(tail -5 "$dir/build.log")"
			continue
		fi
		pass "$label: ksc kmod build verifies it"
		ko=$out/kmod/$name.ko
		mapfile -t names < <(kfuncs_of "$out/kmod/$name.c")
		if readelf -SW "$ko" | grep -q ' \.BTF\.base '; then pass "$label: .BTF.base"; else
			fail "$label: .BTF.base" "kbuild gave no distilled base: $(readelf -SW "$ko" | grep BTF)"
		fi
		if run=$(timeout 60 "$tool" verify "$ko" "$dir/no-base" "${names[@]}" 2>&1); then
			pass "$label: verified by the host's library (libbpf 1.1.2)"
		else
			fail "$label: verified by the host's library (libbpf 1.1.2)" "$run"
		fi
		# Ids as trixie's bpftool reads them over the module's own base.
		dump=$(on_suite trixie bpftool btf dump file "$ko" 2>&1)
		want='' got=''
		entries=$(set8_entries "$ko")
		for fn in "${names[@]}"; do
			id=$(sed -n "s/^\[\([0-9]*\)\] FUNC '$fn' .*/\1/p" <<<"$dump")
			want+="$fn "
			[ -n "$id" ] && grep -q "^$id " <<<"$entries" && got+="$fn "
		done
		check "$label: set8 ids are bpftool's FUNC ids" "$want" "$got"
		check "$label: a bpf_kfunc decl tag per kfunc" "${#names[@]}" \
			"$(grep -c "DECL_TAG 'bpf_kfunc'" <<<"$dump")"
		host=$("$KSC" -v kfuncs --btf "$ko" 2>&1)
		check "$label: host ksc kfuncs lists them from the tags" \
			"${#names[@]} (bpf_kfunc tags)" \
			"$(sed -n "s/^ksc: \([0-9]*\) kfuncs in .* (\(.*\))$/\1 (\2)/p" <<<"$host")"
		check "$label: host and trixie ksc kfuncs agree" "$(grep -v '^ksc: ' <<<"$host")" \
			"$(on_suite trixie "$tksc" kfuncs --btf "$ko" 2>&1)"
		if [ "$name" = kf_objects ]; then
			trusted=$(awk '{ if (int($2 / 16) % 2) n++ } END { print n + 0 }' <<<"$entries")
			if [ "$series" = 7 ]; then
				check "$label: no KF_TRUSTED_ARGS bit on 7.x" 0 "$trusted"
			elif ((trusted > 0)); then
				pass "$label: KF_TRUSTED_ARGS kept before 7.0"
			else
				fail "$label: KF_TRUSTED_ARGS kept before 7.0" "$entries"
			fi
		fi
	done
done
