#!/usr/bin/env bash
# ksc kmod build --sign-key KEY --sign-cert CERT, on Debian's 6.1 (ksc's own
# BTF step: pahole and id resolution on the host) and 7.x (kbuild's BTF
# over a distilled base, in the trixie root): the module is signed after
# its BTF is made and verified again; modinfo reads the signature (signer,
# hash the tree's kernel is configured with); the kfunc library still
# decodes its BTF and id sets.  Bad keys: one error line, exit status 1,
# no module left.  That a kernel takes the signed module is proved in the
# VM on a kernel developer's own tree, whose key it trusts (t-kmod.sh).
source tests/lib.sh

dir=$(scratch kmod-sign)
src=examples/kfunc_stats.ks
name=kfunc_stats

if ! openssl req -new -nodes -utf8 -sha256 -days 36500 -batch -x509 -subj "/CN=ksc sign test/" \
	-outform PEM -out "$dir/cert.pem" -keyout "$dir/key.pem" >"$dir/openssl.log" 2>&1; then
	fail "a test key and certificate" "$(cat "$dir/openssl.log")"
	exit 0
fi
echo garbage >"$dir/bad.pem"

for k in 6.1 7; do
	if ! kernel_env "$k" 2>"$dir/err"; then
		fail "$k kernel and its suite's ksc" "$(cat "$dir/err")"
		continue
	fi
	out=$dir/$k
	if ! on_suite "$suite" "$mksc" kmod build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} \
		--sign-key "$dir/key.pem" --sign-cert "$dir/cert.pem" -o "$out" >"$out.log" 2>&1; then
		fail "$k kmod build --sign-key --sign-cert" "$(tail -20 "$out.log")"
		continue
	fi
	ko=$out/kmod/$name.ko
	check "$k signed after BTF, BTF verified again" \
		"verified|sign|verified" \
		"$(grep -oE '^ksc: (sign|btf: verified)' "$out.log" | sed 's/^ksc: //; s/btf: //' | paste -sd'|')"
	check "$k the signature marker ends the module" "~Module signature appended~" \
		"$(tail -c 28 "$ko" | tr -d '\n')"
	hash=$(sed -n 's/^CONFIG_MODULE_SIG_HASH="\(.*\)"$/\1/p' "$kdir/include/config/auto.conf")
	check "$k modinfo: signer and the tree's hash" "ksc sign test|${hash:-sha256}" \
		"$(on_suite "$suite" modinfo -F signer "$ko")|$(on_suite "$suite" modinfo -F sig_hashalgo "$ko")"
	if on_suite "$suite" "$mksc" kfuncs --btf "$ko" --base "$btf" >"$out.kfuncs" 2>&1 &&
		grep -q 'ksc_stats_count' "$out.kfuncs"; then
		pass "$k ksc kfuncs reads the signed module's BTF"
	else
		fail "$k ksc kfuncs --btf on the signed module" "$(cat "$out.kfuncs")"
	fi

	# A key sign-file cannot use: its words, exit 1, no module.
	on_suite "$suite" "$mksc" -q kmod build "$src" --kdir "$kdir" ${base:+--btf-base "$base"} \
		--sign-key "$dir/bad.pem" --sign-cert "$dir/cert.pem" -o "$out-bad" >"$out-bad.log" 2>&1
	rc=$?
	check "$k a bad key: exit 1, sign-file's words, no tree" \
		"1|ksc: error: sign-file failed for $name.ko:|no tree" \
		"$rc|$(grep '^ksc: error' "$out-bad.log")|$([ -e "$out-bad" ] && echo tree || echo no tree)"
	on_suite "$suite" "$mksc" -q kmod build "$src" --kdir "$kdir" \
		--sign-key "$dir/none.pem" --sign-cert "$dir/cert.pem" -o "$out-none" >"$out-none.log" 2>&1
	rc=$?
	check "$k a missing key: exit 1 before kbuild, one line" \
		"1|ksc: error: --sign-key $dir/none.pem: No such file or directory|1" \
		"$rc|$(cat "$out-none.log")|$(wc -l <"$out-none.log")"
done
