#!/usr/bin/env bash
# ksc kfuncs on the host kernel's BTF and on a module built by ksc kmod build
# (6.12 headers), with its --kh output accepted by ksc check (modules with a
# distilled base and bpf_kfunc tags: tests/kfunc/t-distilled*.sh); ksc call's
# usage errors; ksc init: every template checks and compiles clean, the
# kfunc one with a @test its README runs with ksc test --kernel.
# ksc call itself needs a module with syscall kfuncs: tests/vm/t-kmod.sh.
source tests/lib.sh

dir=$(scratch cli-kfuncs)
ksc=$KSC
main='fn main() -> i32 {
    return 0
}'

# expect_status NAME STATUS CMD...: CMD exits with STATUS, printing one error line.
expect_status() {
	local name=$1 want=$2 got
	shift 2
	"$@" >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" = "$want" ] && [ "$(grep -c '^ksc: error: ' "$dir/err")" = 1 ]; then
		pass "$name"
	else
		fail "$name" "exit status $got, expected $want" "$(cat "$dir/err")"
	fi
}

# --- the running kernel's BTF (bpf_kfunc tags since 6.3) ---
vmlinux=/sys/kernel/btf/vmlinux
if [ -r $vmlinux ] && bpftool btf dump file $vmlinux 2>/dev/null | grep -q "DECL_TAG 'bpf_kfunc'"; then
	tags=$(bpftool btf dump file $vmlinux | grep -A0 "DECL_TAG 'bpf_kfunc'" |
		sed -n 's/.*type_id=\([0-9]*\) component_idx=-1.*/\1/p' | sort -u | wc -l)
	$ksc kfuncs >"$dir/host.txt" 2>"$dir/host.err"
	check "kfuncs: one line per tagged FUNC of $vmlinux" "$tags" "$(wc -l <"$dir/host.txt")"
	check "kfuncs: sorted, one each" "$(sort -u -t'(' -k1,1 "$dir/host.txt" | wc -l)" "$tags"
	if grep -q '^void bpf_rcu_read_lock(void)$' "$dir/host.txt"; then pass "kfuncs: C prototype"; else
		fail "kfuncs: C prototype" "$(grep bpf_rcu_read_lock "$dir/host.txt")"
	fi
	# --json: the same kfuncs, prototypes and extern lines, as JSON.
	$ksc kfuncs --json >"$dir/host.json" 2>>"$dir/host.err"
	$ksc kfuncs --kh | sed 1d >"$dir/host.kh-lines" 2>>"$dir/host.err"
	check "kfuncs --json: source, from, the prototypes of the text output" \
		"$vmlinux|bpf_kfunc tags|$(md5sum <"$dir/host.txt")" \
		"$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print(d["source"] + "|" + d["from"])
print("\n".join(k["prototype"] for k in d["kfuncs"]))' "$dir/host.json" 2>&1 | { IFS= read -r h; echo "$h|$(md5sum)"; })"
	check "kfuncs --json: extern lines as --kh has them, why when there is none" \
		"$(md5sum <"$dir/host.kh-lines")" \
		"$(python3 -c 'import json, sys; d = json.load(open(sys.argv[1]))
print("\n".join(k["extern"] or "// %s: %s: %s" % (k["name"], k["why"], k["prototype"]) for k in d["kfuncs"]))' \
			"$dir/host.json" 2>&1 | md5sum)"
	$ksc kfuncs --kh >"$dir/host.ks" 2>>"$dir/host.err"
	check "kfuncs --kh: a line per kfunc plus the header" "$((tags + 1))" "$(wc -l <"$dir/host.ks")"
	echo "$main" >>"$dir/host.ks"
	if $ksc check "$dir/host.ks" >"$dir/check.log" 2>&1; then pass "kfuncs --kh of $vmlinux: ksc check accepts it"; else
		fail "kfuncs --kh of $vmlinux: ksc check accepts it" "$(head -20 "$dir/check.log")"
	fi
else
	skip "kfuncs on $vmlinux" "no bpf_kfunc tags in the host's BTF"
fi

# --- a module built by ksc: no tags, so its BTF_SET8s name the kfuncs ---
if kdir=$(scripts/kernels kdir 6.12 2>"$dir/err"); then
	if ./ksc -q kmod build examples/kfunc_stats.ks --kdir "$kdir" -o "$dir/stats" >"$dir/kmod.log" 2>&1; then
		ko=$dir/stats/kmod/kfunc_stats.ko
		check "kfuncs --btf KO --base" "u64 ksc_stats_avg(void)|u64 ksc_stats_count(u32 len)|u64 ksc_stats_scale(u32 v, u32 factor)" \
			"$($ksc kfuncs --btf "$ko" --base "$kdir/vmlinux" 2>&1 | paste -sd'|')"
		check "kfuncs --btf KO: from its BTF_SET8s (pahole 1.24 writes no bpf_kfunc tags)" \
			"ksc: 3 kfuncs in $ko (BTF_SET8s)" \
			"$($ksc -v kfuncs --btf "$ko" --base "$kdir/vmlinux" 2>&1 >/dev/null | grep ' kfuncs in ')"
		check "kfuncs --btf KO --json" "$ko|BTF_SET8s|ksc_stats_avg:u64 ksc_stats_avg(void):extern ksc_stats_avg() -> u64|ksc_stats_count:u64 ksc_stats_count(u32 len):extern ksc_stats_count(len: u32) -> u64|ksc_stats_scale:u64 ksc_stats_scale(u32 v, u32 factor):extern ksc_stats_scale(v: u32, factor: u32) -> u64" \
			"$($ksc kfuncs --btf "$ko" --base "$kdir/vmlinux" --json 2>&1 | python3 -c 'import json, sys; d = json.load(sys.stdin)
print("|".join([d["source"], d["from"]] + [":".join([k["name"], k["prototype"], k["extern"]]) for k in d["kfuncs"]]))' 2>&1)"
		$ksc kfuncs --btf "$ko" --base "$kdir/vmlinux" --kh >"$dir/stats.kh" 2>&1
		check "kfuncs --btf KO --kh" "extern ksc_stats_avg() -> u64|extern ksc_stats_count(len: u32) -> u64|extern ksc_stats_scale(v: u32, factor: u32) -> u64" \
			"$(grep -v '^//' "$dir/stats.kh" | paste -sd'|')"
		{
			echo 'include "xdp.kh"'
			cat "$dir/stats.kh"
			cat <<'EOF'

@xdp
fn use_stats(ctx: *xdp_md) -> xdp_action {
    var n = ksc_stats_count(64)
    var avg = ksc_stats_avg()
    if (n + avg + ksc_stats_scale(3, 4) == 0) {
        return XDP_DROP
    }
    return XDP_PASS
}
EOF
			echo "$main"
		} >"$dir/use_stats.ks"
		if $ksc check "$dir/use_stats.ks" >"$dir/check.log" 2>&1; then pass "kfuncs --kh of a module: ksc check accepts its calls"; else
			fail "kfuncs --kh of a module: ksc check accepts its calls" "$(cat "$dir/check.log")"
		fi
		if vmlinuz=$(scripts/kernels vmlinuz 6.12 2>/dev/null); then
			check "kfuncs --base VMLINUZ" 3 "$($ksc kfuncs --btf "$ko" --base "$vmlinuz" 2>&1 | wc -l)"
		fi
	else
		fail "kmod build kfunc_stats for 6.12" "$(cat "$dir/kmod.log")"
	fi
else
	skip "kfuncs of a module" "no 6.12 headers: $(cat "$dir/err")"
fi

# --- errors ---
expect_status "kfuncs --module of a module not loaded" 1 $ksc kfuncs --module no_such_module
expect_status "kfuncs --btf of a missing file" 1 $ksc kfuncs --btf "$dir/none"
expect_status "kfuncs --btf and --module" 2 $ksc kfuncs --btf x --module y
expect_status "kfuncs --base without --btf" 2 $ksc kfuncs --base x
expect_status "kfuncs with a stray argument" 2 $ksc kfuncs foo
expect_status "call an unknown kfunc" 1 $ksc call no_such_kfunc_here 1
if grep -q 'bpf_fentry_test1(int a)' "$dir/host.txt" 2>/dev/null; then
	expect_status "call with the wrong argument count" 1 $ksc call bpf_fentry_test1
	expect_status "call with an argument out of range" 1 $ksc call bpf_fentry_test1 4294967296
	expect_status "call a pointer kfunc" 1 $ksc call bpf_cgroup_release 1
	if [ "$(id -u)" = 0 ]; then
		$ksc call bpf_fentry_test1 1 2>"$dir/err"
		check "call a kfunc not registered for syscall programs" \
			"ksc: error: kfunc 'bpf_fentry_test1' is not registered for syscall programs (BPF_PROG_TYPE_SYSCALL)" \
			"$(cat "$dir/err")"
	fi
fi
$ksc call >/dev/null 2>&1
check "call without a kfunc: usage, status 2" 2 $?

# --- init: every template checks and compiles ---
cd "$dir" || exit 1
types=(xdp tc/ingress tc/egress probe/vfs_read probe/do_exit tracepoint/sched/sched_switch
	tracepoint/syscalls/sys_enter_openat perf_event tcp_congestion_ops kfunc)
for t in "${types[@]}"; do
	name=p_$(tr / _ <<<"$t")
	if ! $ksc -q init "$t" "$name" >init.log 2>&1; then
		fail "init $t" "$(cat init.log)"
		continue
	fi
	if [ -s "$name/README" ] && grep -q "ksc build $name.ks" "$name/README"; then pass "init $t: README"; else
		fail "init $t: README" "$(cat "$name/README")"
	fi
	if $ksc check "$name/$name.ks" >check.log 2>&1; then pass "init $t: ksc check"; else
		fail "init $t: ksc check" "$(cat check.log)"
	fi
	if $ksc -q compile "$name/$name.ks" -o "$name/out" >compile.log 2>&1; then pass "init $t: ksc compile"; else
		fail "init $t: ksc compile" "$(cat compile.log)"
	fi
done
# The kfunc template's README says how to run its @test in a VM, and the
# loader compiled from it runs that test (tests/vm/t-test-vm.sh runs one).
if grep -q "^    ksc test p_kfunc.ks --kernel 6.1$" p_kfunc/README &&
	grep -q '"adds_up"' p_kfunc/out/p_kfunc.c; then
	pass "init kfunc: a @test, and ksc test --kernel in the README"
else
	fail "init kfunc: a @test, and ksc test --kernel in the README" "$(cat p_kfunc/README)"
fi
expect_status "init into an existing directory" 1 $ksc init xdp p_xdp
expect_status "init of an unknown type" 2 $ksc init bogus newproj
expect_status "init with a name that is not an identifier" 2 $ksc init xdp 1bad-name
expect_status "init tracepoint without an event" 2 $ksc init tracepoint/sched newproj
[ ! -e newproj ] && pass "init leaves nothing after a usage error" || fail "init leaves nothing after a usage error"
