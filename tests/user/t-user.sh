#!/usr/bin/env bash
# The userspace backend on the host: every corpus program (tests/ks/pass)
# is compiled by ksc into its full tree and built by its own Makefile
# (clang -target bpf -Wall -Werror, bpftool skeleton, cc with -Wall -Wextra -Werror
# against the system libbpf); its eBPF object is loaded by libbpf
# (tests/guest/bpfrun -l).  Then the programs of tests/user/progs run
# through their generated loaders: XDP on lo with a counter read back, a
# ring buffer consumed by on_event, a tracepoint, a perf event on every
# CPU, and a TCP congestion control registered with register() carrying a
# 64 MB loopback transfer.
source tests/lib.sh

dir=$(scratch user)
bpfrun=$dir/bpfrun
cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c -lbpf -lelf -lz ||
	{ fail "build bpfrun"; exit 1; }
cc -O2 -Wall -Wextra -Werror -o "$dir/tcp_transfer" tests/user/tcp_transfer.c ||
	{ fail "build tcp_transfer"; exit 1; }

# tree SRC NAME: ksc compile into $dir/NAME, then make with warnings as errors
tree() {
	local msg
	if ! msg=$("$KSC" -q compile "$1" -o "$dir/$2" 2>&1); then
		fail "compile $2" "$msg"
		return 1
	fi
	for f in "$2.c" "$2.ebpf.c" Makefile README.md ksc_loader.c ksc_loader.h; do
		[ -e "$dir/$2/$f" ] || { fail "tree $2" "no $f"; return 1; }
	done
	# The Makefile builds the eBPF object with -Wall -Werror, the loader with CFLAGS.
	if ! msg=$(make -s -C "$dir/$2" CFLAGS="-O2 -Wall -Wextra -Werror" 2>&1) ||
		[ ! -x "$dir/$2/$2" ]; then
		fail "build loader $2" "$msg"
		return 1
	fi
	# The loader alone, with both compilers: not a single warning.
	for c in gcc clang; do
		if ! msg=$($c -O2 -Wall -Wextra -Werror -I"$dir/$2" -c "$dir/$2/$2.c" -o /dev/null 2>&1); then
			fail "loader $2.c with $c -Wall -Wextra -Werror" "$msg"
			return 1
		fi
	done
	pass "tree $2: make builds $2.ebpf.o (clang: no warning) and the loader (gcc, clang: no warning)"
}

# Kernel pieces the loaders use.
need_bpffs || { fail "mount bpffs at /sys/fs/bpf"; exit 1; }
mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null

# Corpus programs whose object cannot load on this host, and why.
declare -A noload=(
	[kfunc_from_user]="calls kfuncs of its own module: built with its module and run in the VM by tests/vm/t-kmod.sh"
	[kfunc_module_state]="calls kfuncs of its own module: built with its module and run in the VM by tests/vm/t-kmod.sh"
)
skip_fentry=()
cat >"$dir/fentry.c" <<'C'
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
char LICENSE[] SEC("license") = "GPL";
SEC("fentry/do_unlinkat")
int BPF_PROG(probe, int dfd)
{
	return 0;
}
C

for f in tests/ks/pass/*.ks; do
	b=$(basename "$f" .ks)
	tree "$f" "$b" || continue
	if [ ! -e "$dir/fentry.o" ]; then
		clang -O2 -g -target bpf -D__TARGET_ARCH_x86 -I"$dir/$b" -c "$dir/fentry.c" -o "$dir/fentry.o"
		if ! "$bpfrun" -l "$dir/fentry.o" >/dev/null 2>&1; then
			skip_fentry=(-x fentry)
			skip "fentry programs" "the host kernel cannot load fentry programs (left out of the loads below)"
		fi
	fi
	if [ -n "${noload[$b]:-}" ]; then
		skip "load $b" "${noload[$b]}"
		continue
	fi
	if msg=$("$bpfrun" -l "${skip_fentry[@]}" "$dir/$b/$b.ebpf.o" 2>&1); then
		pass "load $b ($(echo "$msg" | grep -c '^loaded') programs)"
	else
		fail "load $b" "$(echo "$msg" | grep -v '^;' | tail -20)"
	fi
done

# Loaders that run without outside help.
out=$("$dir/user_control_flow/user_control_flow" 2>&1)
check "user_control_flow: throw across functions, catch, match, defer" \
	"setting 2 is missing|fib(10) = 55|done|rc=0" "$(echo "$out" | tr '\n' '|')rc=$?"
out=$("$dir/named_returns_fnptr/named_returns_fnptr" 2>&1)
check "named_returns_fnptr: function values, named returns" "additive 48 multiplicative 30" "$out"
out=$("$dir/imports_utils/imports_utils" 2>&1)
check "imports_utils: imported .ks and .py functions, attach to lo" \
	"a /24 holds 256 addresses; mtu 1500" "$out"
out=$("$dir/config_rate_limit/config_rate_limit" --interface=lo --max-packets=77 --dry_run 2>&1)
check "config_rate_limit: main(args) options, config written to the map" "limit 77 packets per source" "$out"
"$dir/config_rate_limit/config_rate_limit" --bogus >/dev/null 2>&1
check "config_rate_limit: an unknown option is a usage error" 2 $?

# run_bg NAME: starts the loader NAME in the background; its pid in $pid
run_bg() {
	"$dir/$1/$1" >"$dir/$1.out" 2>&1 &
	pid=$!
}
# wait_line FILE TEXT: until FILE has a line containing TEXT (5 s)
wait_line() {
	for _ in $(seq 50); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
# traffic PID: UDP datagrams on lo until the loader PID exits (10 s)
traffic() {
	for _ in $(seq 200); do
		kill -0 "$1" 2>/dev/null || return 0
		echo ksc >/dev/udp/127.0.0.1/9 2>/dev/null
		sleep 0.05
	done
	kill "$1" 2>/dev/null
}

for p in c_names xdp_count tc_count rb_events tp_count perf_count ks_reno ifvar_writeback pinned_first; do
	tree "tests/user/progs/$p.ks" "$p"
done

if [ -x "$dir/pinned_first/pinned_first" ]; then
	rm -rf /sys/fs/bpf/ksc/pinned_first
	out=$("$dir/pinned_first/pinned_first" 2>&1; "$dir/pinned_first/pinned_first" 2>&1)
	check "pinned_first: a new pin starts from the initializers, an existing one keeps its values" \
		"generation 42 limit 1000 untouched 0|generation 43 limit 1000 untouched 0|" \
		"$(echo "$out" | tr '\n' '|')"
	rm -rf /sys/fs/bpf/ksc/pinned_first
	rmdir /sys/fs/bpf/ksc 2>/dev/null
fi

if [ -x "$dir/ifvar_writeback/ifvar_writeback" ]; then
	out=$("$dir/ifvar_writeback/ifvar_writeback" 2>&1)
	check "ifvar_writeback: branch changes reach the map on return, break, continue, throw" \
		"caught|returns 0 2 break 3 continue 1 hits 1112 last 9|" "$(echo "$out" | tr '\n' '|')"
	if msg=$("$bpfrun" -l "$dir/ifvar_writeback/ifvar_writeback.ebpf.o" 2>&1); then
		pass "ifvar_writeback: its eBPF object loads"
	else
		fail "ifvar_writeback: load" "$(echo "$msg" | grep -v '^;' | tail -20)"
	fi
fi

if [ -x "$dir/c_names/c_names" ]; then
	check "c_names: C keywords as .ks names, a returned local's address (loader)" "5 7 70" \
		"$("$dir/c_names/c_names" 2>&1)"
	check "c_names: the same in eBPF (verdict)" "retval=2" \
		"$("$bpfrun" "$dir/c_names/c_names.ebpf.o" pairs 2>&1)"
fi

if [ -x "$dir/tc_count/tc_count" ]; then
	run_bg tc_count
	wait_line "$dir/tc_count.out" attached && traffic "$pid"
	wait "$pid"
	set -- $(sed -n 's/^ingress \([0-9]*\) egress \([0-9]*\)$/\1 \2/p' "$dir/tc_count.out")
	if [ "${1:-0}" -ge 3 ] && [ "${2:-0}" -ge 3 ]; then
		pass "tc_count: ingress and egress on lo attached by the loader ($1 and $2 packets)"
	else
		fail "tc_count" "$(cat "$dir/tc_count.out")"
	fi
	check "tc_count: detached, no qdisc of ours left on lo" "" \
		"$(tc filter show dev lo ingress 2>/dev/null; tc qdisc show dev lo | grep clsact)"
fi

# The same loader on libbpf 1.4 (bookworm-backports), where TC goes through
# tcx links: no clsact qdisc appears while it runs.
if [ -x "$dir/tc_count/tc_count" ] && lb=$(scripts/libbpf-bpo 2>"$dir/lb.err"); then
	rm -rf "$dir/tcx" && cp -r "$dir/tc_count" "$dir/tcx" && rm -f "$dir/tcx/tc_count"
	if msg=$(make -s -C "$dir/tcx" CFLAGS="-O2 -Wall -Wextra -Werror" LIBBPF="$lb" 2>&1); then
		"$dir/tcx/tc_count" >"$dir/tcx.out" 2>&1 &
		pid=$!
		wait_line "$dir/tcx.out" attached
		qd=$(tc qdisc show dev lo | grep -c clsact)
		traffic "$pid"
		wait "$pid"
		set -- $(sed -n 's/^ingress \([0-9]*\) egress \([0-9]*\)$/\1 \2/p' "$dir/tcx.out")
		if [ "${1:-0}" -ge 3 ] && [ "${2:-0}" -ge 3 ] && [ "$qd" = 0 ] &&
			! grep -q 'tcx' "$dir/tcx.out"; then
			pass "tc_count on libbpf 1.4: tcx links both ways, no qdisc ($1 and $2 packets)"
		else
			fail "tc_count on libbpf 1.4 (tcx)" "clsact qdiscs seen: $qd" "$(cat "$dir/tcx.out")"
		fi
	else
		fail "tc_count builds on libbpf 1.4" "$msg"
	fi
elif [ -x "$dir/tc_count/tc_count" ]; then
	fail "libbpf 1.4 from bookworm-backports" "$(cat "$dir/lb.err")"
fi

if [ -x "$dir/xdp_count/xdp_count" ]; then
	run_bg xdp_count
	wait_line "$dir/xdp_count.out" attached && traffic "$pid"
	wait "$pid"
	n=$(sed -n 's/^packets //p' "$dir/xdp_count.out")
	if [ "${n:-0}" -ge 3 ]; then
		pass "xdp_count: attached to lo by its loader, counter read back ($n packets)"
	else
		fail "xdp_count" "$(cat "$dir/xdp_count.out")"
	fi
	check "xdp_count: detached from lo on exit" "" "$(ip link show lo | grep -o 'xdp[a-z]*')"
fi

if [ -x "$dir/rb_events/rb_events" ]; then
	run_bg rb_events
	wait_line "$dir/rb_events.out" attached && traffic "$pid"
	wait "$pid"
	check "rb_events: on_event receives 3 ring buffer records, dispatch returns" \
		"3 dispatch returned 1 after 3 events" \
		"$(grep -c '^event [0-9]*: len [0-9]* ifindex 1$' "$dir/rb_events.out") $(grep dispatch "$dir/rb_events.out")"
fi

if [ -x "$dir/tp_count/tp_count" ]; then
	out=$(timeout 20 "$dir/tp_count/tp_count" 2>&1)
	n=$(echo "$out" | sed -n 's/^bpf calls seen //p')
	if [ "${n:-0}" -ge 100 ]; then
		pass "tp_count: tracepoint syscalls/sys_enter_bpf fired $n times"
	else
		fail "tp_count" "$out"
	fi
fi

if [ -x "$dir/perf_count/perf_count" ]; then
	out=$(timeout 20 "$dir/perf_count/perf_count" 2>&1)
	set -- $(echo "$out" | sed -n 's/^samples \([0-9]*\) cpu-clock ns \([0-9-]*\)$/\1 \2/p')
	if [ "${1:-0}" -ge 20 ] && [ "${2:-0}" -gt 0 ]; then
		pass "perf_count: cpu-clock on every CPU: $1 samples, read() = $2 ns"
	else
		fail "perf_count" "$out"
	fi
fi

if [ -x "$dir/ks_reno/ks_reno" ]; then
	run_bg ks_reno
	if wait_line "$dir/ks_reno.out" registered; then
		xfer=$("$dir/tcp_transfer" ks_reno $((64 << 20)) 2>&1)
		check "ks_reno: registered, selected with TCP_CONGESTION, carries 64 MB" \
			"cc=ks_reno bytes=67108864" "$xfer"
	fi
	for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill "$pid" 2>/dev/null
	wait "$pid"
	set -- $(sed -n 's/^acks \([0-9]*\) cong_avoid \([0-9]*\)$/\1 \2/p' "$dir/ks_reno.out")
	# An ACK covers at most one receive window (tcp_rmem's maximum: loopback
	# ACKs, coalesced, cover far more than one 64 KB segment) and at least
	# half a 1448-byte segment.
	rmem=$(awk '{ print $3 }' /proc/sys/net/ipv4/tcp_rmem 2>/dev/null)
	lo=$(((64 << 20) / ${rmem:-6291456})) hi=$(((64 << 20) / 1448 * 2))
	if [ "${1:-0}" -ge $lo ] && [ "${1:-0}" -le $hi ] && [ "${2:-0}" -gt 0 ]; then
		pass "ks_reno: $1 ACKs counted by pkts_acked (plausible: $lo..$hi), cong_avoid ran $2 times"
	else
		fail "ks_reno: per-ACK counter" "$(cat "$dir/ks_reno.out")"
	fi
	if grep -qw ks_reno /proc/sys/net/ipv4/tcp_available_congestion_control; then
		fail "ks_reno: unregistered when its loader exits"
	else
		pass "ks_reno: unregistered when its loader exits"
	fi
fi
