#!/usr/bin/env bash
# eBPF behaviour on the host kernel: the programs in tests/ebpf/progs are
# compiled by ksc, built by clang -target bpf, loaded, and run through
# BPF_PROG_TEST_RUN with crafted packets (tests/guest/bpfrun).  Verdicts,
# map contents, ring buffer records and packet rewrites are compared with
# what the KernelScript semantics say, for inputs the test chooses.
source tests/lib.sh

dir=$(scratch ebpf-run)
progs=tests/ebpf/progs
bpfrun=$dir/bpfrun
cc -std=gnu17 -O2 -Wall -Wextra -Werror -o "$bpfrun" tests/guest/bpfrun.c -lbpf -lelf -lz ||
	{ fail "build bpfrun"; exit 1; }
if [ "$(id -u)" != 0 ]; then
	skip ebpf-run "needs root to load BPF programs"
	exit 0
fi
need_bpffs || { fail "mount bpffs at /sys/fs/bpf"; exit 1; }

tag_clang=$(tag_clang)

# build NAME [CLANG]: ksc compile + clang; the object is $dir/NAME.o
build() {
	local msg
	if ! msg=$("$KSC" -q compile "$progs/$1.ks" --only ebpf -o "$dir/$1" 2>&1); then
		fail "compile $1" "$msg"
		return 1
	fi
	if ! msg=$(${2:-clang} -O2 -g -target bpf -D__TARGET_ARCH_x86 -Wall -Werror \
		-c "$dir/$1/$1.ebpf.c" -o "$dir/$1.o" 2>&1); then
		fail "clang $1" "$msg"
		return 1
	fi
	if ! msg=$("$bpfrun" -l "$dir/$1.o" 2>&1); then
		fail "load $1" "$(echo "$msg" | grep -v '^;' | tail -20)"
		return 1
	fi
	pass "load $1 ($(echo "$msg" | grep -c '^loaded') programs)"
}

# run NAME PROG ARGS...: bpfrun's output, or a failure line
run() {
	local obj=$dir/$1.o prog=$2
	shift 2
	"$bpfrun" "$obj" "$prog" "$@" 2>&1 | grep -v '^;'
}

# val OUTPUT MAP KEY: MAP[KEY]'s value in bpfrun output, "absent" if none
val() {
	local v
	v=$(echo "$1" | sed -n "s/^$2\[$3\]=//p")
	echo "${v:-absent}"
}

# retvals OUTPUT: the retval lines, space separated
retvals() { echo "$1" | sed -n 's/^retval=//p' | tr '\n' ' ' | sed 's/ $//'; }

le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }
hex16() { printf '%04x' "$1"; }
bytes() { echo $((${#1} / 2)); }

# ---- XDP: Ethernet/IPv4/TCP|UDP parsing, per-protocol counters, drop by port ----
eth="000000000002 000000000001"
# ipv4 PROTO SRC(hex) [IHL]: a 20-byte (or IHL*4) header
ipv4() {
	local ihl=${3:-5} opts=""
	for ((i = 5; i < ihl; i++)); do opts+="01010101"; done
	echo "4${ihl}00 0028 0000 0000 40 $1 0000 $2 0a000002 $opts"
}
tcp() { echo "$(hex16 "$1") $(hex16 "$2") 00000000 00000000 5002 0000 0000 0000"; }
udp() { echo "$(hex16 "$1") $(hex16 "$2") 0008 0000"; }
nospace() { echo "${1// /}"; }

if build xdp_filter; then
	blocked=$((2000 + RANDOM % 1000))
	p_blocked=$(nospace "$eth 0800 $(ipv4 06 0a000001) $(tcp 1234 $blocked)")
	p_web=$(nospace "$eth 0800 $(ipv4 06 0a000001) $(tcp 1234 80)")
	p_dns=$(nospace "$eth 0800 $(ipv4 11 0a000003) $(udp 5353 53)")
	p_udp_short=$(nospace "$eth 0800 $(ipv4 11 0a000001) $(hex16 5353)") # ports cut off
	p_ip_short=$(nospace "$eth 0800 4500 0028 0000")                         # IPv4 header cut off
	p_arp=$(nospace "$eth 0806 0001 0800 0604 0001")
	p_icmp=$(nospace "$eth 0800 $(ipv4 01 0a000001) 0800 0000")
	p_opts=$(nospace "$eth 0800 $(ipv4 06 0a000001 7) $(tcp 1234 $blocked)") # IHL 7: ports at a variable offset
	out=$(run xdp_filter xdp_filter --set "filter_config_map:0:$blocked" \
		--data "$p_blocked" --data "$p_web" --data "$p_dns" --data "$p_udp_short" \
		--data "$p_ip_short" --data "$p_arp" --data "$p_icmp" --data "$p_opts" \
		-m proto_count -m drops -m by_port -m by_source --map-info by_source)
	# XDP_DROP=1 XDP_PASS=2
	check "xdp verdicts: blocked port dropped, truncated packets pass" \
		"1 2 2 2 2 2 2 1" "$(retvals "$out")"
	check "xdp per-protocol counters (hash)" "tcp=3 udp=2 other=1 non-ip=1 bad-ip=1" \
		"tcp=$(val "$out" proto_count 6) udp=$(val "$out" proto_count 17) other=$(val "$out" proto_count 1000) non-ip=$(val "$out" proto_count 1001) bad-ip=$(val "$out" proto_count 1002)"
	check "xdp drops (percpu_array)" 2 "$(val "$out" drops 0)"
	check "xdp packets per port (percpu_hash), truncated ports read 0" \
		"blocked=2 80=1 53=1 0=1" \
		"blocked=$(val "$out" by_port $blocked) 80=$(val "$out" by_port 80) 53=$(val "$out" by_port 53) 0=$(val "$out" by_port 0)"
	src1=$(($(bytes "$p_blocked") + $(bytes "$p_web") + $(bytes "$p_udp_short") + $(bytes "$p_icmp") + $(bytes "$p_opts")))
	check "xdp bytes per source (lru_hash, key read from the packet)" \
		"10.0.0.1=$src1 10.0.0.3=$(bytes "$p_dns")" \
		"10.0.0.1=$(val "$out" by_source $((0x0100000a))) 10.0.0.3=$(val "$out" by_source $((0x0300000a)))"
	check "xdp lru_hash map type" "by_source type=9" "$(echo "$out" | grep -o '^by_source type=[0-9]*')"
	# a forwarded packet leaves with its TTL decremented (0x40 -> 0x3f)
	out=$(run xdp_filter xdp_filter --data "$p_web" --data-out)
	want=$(nospace "$eth 0800 $(ipv4 06 0a000001) $(tcp 1234 80)")
	want=${want:0:44}3f${want:46}
	check "xdp packet rewrite through a checked pointer" "data_out=$want" \
		"$(echo "$out" | grep '^data_out=')"
	# with no port blocked nothing is dropped
	out=$(run xdp_filter xdp_filter --data "$p_blocked" --data "$p_opts")
	check "xdp config default (0): nothing blocked" "2 2" "$(retvals "$out")"
fi

# ---- XDP: headers through ctx->data + N pointers, early return from a struct if-var ----
if build headers; then
	p_arp=$(nospace "$eth 0806 0001 0800 0604 0001")
	p_udp=$(nospace "$eth 0800 $(ipv4 11 0a000001) $(udp 5353 53)")
	p_ack=$(nospace "$eth 0800 $(ipv4 06 0a000001) $(tcp 1234 80)")
	p_ack=${p_ack:0:94}10${p_ack:96}                                          # flags: ACK
	p_syn=$(nospace "$eth 0800 $(ipv4 06 0a000001) $(tcp 1234 80)")
	p_opts=$(nospace "$eth 0800 $(ipv4 06 0a000009 7) $(tcp 1234 443)")       # TCP at offset 42
	p_cut=$(nospace "$eth 0800 $(ipv4 06 0a000001) $(hex16 1234) $(hex16 80)") # flags cut off
	out=$(run headers syn_limit --data "$p_arp" --data "$p_udp" --data "$p_ack" \
		--data "$p_syn" --data "$p_syn" --data "$p_syn" --data "$p_syn" \
		--data "$p_opts" --data "$p_cut" -m skipped -m flows)
	# XDP_DROP=1 XDP_PASS=2
	check "headers: verdicts (arp, udp, ack, 4 SYNs, SYN after IPv4 options, cut)" \
		"2 2 2 2 2 1 1 2 2" "$(retvals "$out")"
	check "headers: skipped not IPv4, not TCP, not SYN (ack, cut)" "1 1 2" \
		"$(val "$out" skipped 0) $(val "$out" skipped 1) $(val "$out" skipped 2)"
	check "headers: SYNs per source, counted through an early return" "4 1" \
		"$(val "$out" flows $((0x0100000a))) $(val "$out" flows $((0x0900000a)))"
fi

# ---- compound updates of map values: atomic where BPF has atomics for the size ----
if build rmw; then
	c=$dir/rmw/rmw.ebpf.c
	check "rmw: += and -= of 32/64-bit values are atomic adds, 8/16-bit ones plain" \
		"atomic=3 plain=2" \
		"atomic=$(grep -c '__sync_fetch_and_add' "$c") plain=$(grep -c 'No BPF atomics' "$c")"
	check "rmw: no atomic sub (it needs -mcpu=v3)" 0 "$(grep -c '__sync_fetch_and_sub' "$c")"
	out=$(run rmw rmw -n 300 -m c8 -m c16 -m c32 -m c64 -m i64s)
	# 300 runs: u8 wraps at 256, -= wraps unsigned values, i64 goes to -1500
	# (bpfrun prints values unsigned: 2^64 - 1500).
	check "rmw: values after 300 runs" "44 64936 4294966396 1200 18446744073709550116" \
		"$(val "$out" c8 1) $(val "$out" c16 1) $(val "$out" c32 1) $(val "$out" c64 1) $(val "$out" i64s 1)"
fi

# ---- .ks names C already has: renamed in C, kept in the object ----
if build c_names; then
	c=$dir/c_names/c_names.ebpf.c
	check "c_names: renamed in C, the object's names kept by asm labels" \
		"struct=1 labels=2 license=1" \
		"struct=$(grep -c '^struct ks_task_struct {' "$c") labels=$(grep -cE '__asm__\("(strlen|memset)"\)' "$c") license=$(grep -c '^char _license\[\]' "$c")"
	out=$(run c_names memset -m LICENSE -m strlen)
	check "c_names: program memset fills maps LICENSE and strlen" "2 41 1124" \
		"$(retvals "$out") $(val "$out" LICENSE 2) $(val "$out" strlen 0)"
fi

# ---- nested array literals ----
if build nested; then
	out=$(run nested grid -m out)
	check "nested array literal: rows stored element by element" "2 5 9" \
		"$(retvals "$out") $(val "$out" out 0) $(val "$out" out 1)"
fi

# ---- TC ingress/egress ----
if build tc_verdict; then
	min=$((60 + RANDOM % 40))
	short=$(nospace "$eth 0800 $(ipv4 06 0a000001) $(tcp 1 2)")  # 54 bytes
	long=$(printf '%s%0*d' "$short" $(((min - 54 + 10) * 2)) 0)  # min + 10 bytes
	ttl1=${long:0:44}01${long:46}
	out=$(run tc_verdict tc_in --set "limits_config_map:0:$min" \
		--data "$short" --data "$long" --data "$ttl1" --data "$long" -m stats)
	# TC_ACT_OK=0 TC_ACT_SHOT=2
	check "tc ingress verdicts (short, ok, ttl 1, ok)" "2 0 2 0" "$(retvals "$out")"
	check "tc ingress counters" "passed=2 shot=2" \
		"passed=$(val "$out" stats 0) shot=$(val "$out" stats 1)"
	out=$(run tc_verdict tc_out --data "$short" --data "$long" -n 2 -m stats)
	check "tc egress verdicts" "0 0" "$(retvals "$out")"
	check "tc egress counters" "packets=4 bytes=$((2 * 54 + 2 * (min + 10)))" \
		"packets=$(val "$out" stats 2) bytes=$(val "$out" stats 3)"
fi

# ---- tail calls ----
if build tail_chain; then
	out=$(run tail_chain stage_one -m stages)
	check "tail-call chain reaches its last program" "retval=1 stages=1,1,1" \
		"retval=$(retvals "$out") stages=$(val "$out" stages 1),$(val "$out" stages 2),$(val "$out" stages 3)"
	# with the table emptied, the first program's fallback verdict (XDP_PASS) is returned
	out=$(run tail_chain stage_one --del prog_array:0 --del prog_array:1 -m stages)
	check "tail call to an empty slot falls back" "retval=2 stages=1,0,0" \
		"retval=$(retvals "$out") stages=$(val "$out" stages 1),$(val "$out" stages 2),$(val "$out" stages 3)"
fi

# ---- signed division (BPF has none before cpu v4: ksc divides magnitudes) ----
if build signed_div; then
	u64() { printf '%u' "$1"; }
	for nd in "-17 -5" "17 -5" "-17 5" "100 7" "-2147483648 3" "-9 0"; do
		read -r n d <<<"$nd"
		if ((d)); then q=$((n / d)) r=$((n % d)); else q=0 r=$n; fi
		want="$(u64 $q) $(u64 $r) $(u64 $((n % 7))) $(u64 $((n / -3))) $(u64 $q) $(u64 $((n % 5)))"
		out=$(run signed_div divide --set "operands_config_map:0:x$(le32 "$n")$(le32 "$d")" -m results)
		check "signed / and % of $n and $d (C's truncation; by 0: 0 and n, as BPF)" "$want" \
			"$(for i in 0 1 2 3 4 5; do val "$out" results $i; done | paste -sd' ')"
	done
fi

# ---- match, loops, try/catch/throw/defer, strings ----
if build control; then
	lo=$((RANDOM % 20)) hi=$((25 + RANDOM % 40)) pick=$((3 + RANDOM % 10))
	((pick == 7)) && pick=8 # 7 is BLUE: checked on its own below
	cfg() { echo "x$(le32 "$1")$(le32 "$2")$(le32 "$3")$(le32 "$4")"; }
	out=$(run control loops --set "params_config_map:0:$(cfg $lo $hi 0 0)" -m results)
	sum=0 n=0 odd=0 steps=0
	for ((j = lo; j < hi; j++)); do sum=$((sum + j)) n=$((n + 1)); done
	for ((k = 0; k < hi; k++)); do ((k % 2 == 0)) && continue; ((k == 9)) && break; odd=$((odd + k)); done
	for ((w = 0; w < hi; w += 3)); do steps=$((steps + 1)); done
	check "constant loop 0..5 (unrolled, exclusive)" 10 "$(val "$out" results 0)"
	check "loop $lo..$hi with run-time bounds (bpf_loop): sum, count" "$sum $n" \
		"$(val "$out" results 1) $(val "$out" results 2)"
	check "run-time loop with break and continue" "$odd" "$(val "$out" results 3)"
	check "while loop with a run-time bound" "$steps" "$(val "$out" results 4)"
	out=$(run control loops --set "params_config_map:0:$(cfg 30 30 0 0)" -m results)
	check "empty range lo..lo runs no iteration" "0 0" "$(val "$out" results 1) $(val "$out" results 2)"
	out=$(run control loops --set "params_config_map:0:$(cfg 40 30 0 0)" -m results)
	check "reversed range runs no iteration" "0 0" "$(val "$out" results 1) $(val "$out" results 2)"

	out=$(run control matching --set "params_config_map:0:$(cfg 0 0 0 $pick)" -m results)
	check "match: default arm with a block, enum default, verdict" "3 $((pick * 3)) 1" \
		"$(retvals "$out") $(val "$out" results 5) $(val "$out" results 6)"
	out=$(run control matching --set "params_config_map:0:$(cfg 0 0 0 2)" -m results)
	check "match: literal and enum constant arms" "2 20 200" \
		"$(retvals "$out") $(val "$out" results 5) $(val "$out" results 6)"
	out=$(run control matching --set "params_config_map:0:$(cfg 0 0 0 7)" -m results)
	check "match: enum constant arm (BLUE)" "3 21 700" \
		"$(retvals "$out") $(val "$out" results 5) $(val "$out" results 6)"

	code=$((10 + RANDOM % 50))
	out=$(run control errors --set "params_config_map:0:$(cfg 0 0 $code 0)" -m results -m log)
	check "try without throw; defers run at exit" "2 $((code + 100)) 0 1 11 22" \
		"$(retvals "$out") $(val "$out" results 7) $(val "$out" results 8) $(val "$out" results 9) $(val "$out" log 0) $(val "$out" log 2)"
	out=$(run control errors --set "params_config_map:0:$(cfg 0 0 1 0)" -m results -m log)
	check "throw 1 caught by catch 1" "2 0 1 1 11" \
		"$(retvals "$out") $(val "$out" results 7) $(val "$out" results 8) $(val "$out" results 9) $(val "$out" log 0)"
	out=$(run control errors --set "params_config_map:0:$(cfg 0 0 2 0)" -m results -m log)
	check "catch 2 returns early; the defer still runs" "1 2 0 11 0" \
		"$(retvals "$out") $(val "$out" results 8) $(val "$out" results 9) $(val "$out" log 0) $(val "$out" log 2)"
	out=$(run control errors --set "params_config_map:0:$(cfg 0 0 3 0)" -m results)
	check "catch _ takes any code" "2 3" "$(retvals "$out") $(val "$out" results 9)"
	out=$(run control errors --set "params_config_map:0:$(cfg 0 0 9 0)" -m results -m log)
	check "throw and catch inside a helper, with its defer" "9 22" \
		"$(val "$out" results 7) $(val "$out" log 2)"

	idx=$((RANDOM % 12)) s=kernelscript
	out=$(run control strings --set "params_config_map:0:$(cfg 0 0 0 $idx)" -m results)
	check "strings: concat ==, !=, truncation, copy ==" "1 1 1 1" \
		"$(val "$out" results 10) $(val "$out" results 11) $(val "$out" results 12) $(val "$out" results 15)"
	check "strings: constant and run-time index" "$(printf '%d' "'e") $(printf '%d' "'${s:idx:1}")" \
		"$(val "$out" results 13) $(val "$out" results 14)"
	out=$(run control strings --set "params_config_map:0:$(cfg 0 0 0 1000)" -m results)
	check "strings: out-of-range run-time index reads 0" 0 "$(val "$out" results 14)"
fi

# ---- globals, local globals, pinned globals and maps ----
if build globals; then
	name=ksc_test_run_$$
	pin=/sys/fs/bpf/ksc/$name
	rm -rf "$pin"
	out=$(run globals globals -n 3 -m results -m seen --pin $name --pin-map seen)
	check "globals after 3 runs (.data, .bss, __hidden, pinned)" "8 3 130 3 3" \
		"$(val "$out" results 0) $(val "$out" results 1) $(val "$out" results 2) $(val "$out" results 3) $(val "$out" seen 7)"
	if [ -e "$pin/globals" ] && [ -e "$pin/maps/seen" ]; then
		pass "pinned under $pin/{globals,maps/seen}"
	else
		fail "pinned under $pin" "$(ls -R /sys/fs/bpf/ksc 2>&1)"
	fi
	out=$(run globals globals -n 3 -m results -m seen --pin $name --pin-map seen)
	check "a second load shares the pinned state, not the rest" "8 3 130 6 6" \
		"$(val "$out" results 0) $(val "$out" results 1) $(val "$out" results 2) $(val "$out" results 3) $(val "$out" seen 7)"
	rm -rf "$pin"
	rmdir /sys/fs/bpf/ksc 2>/dev/null
fi

# ---- maps: kinds, @flags, idioms ----
if build maps; then
	key=$((RANDOM % 1000))
	out=$(run maps maps --set "map_cfg_config_map:0:x$(le32 $key)$(le32 8)" --set slots:0:77 \
		-n 3 -m slots -m totals -m recent -m scratch --hex flows \
		--map-info flows --map-info recent)
	check "@flags(no_prealloc) hash, @flags(no_common_lru) lru_hash" \
		"flows type=1 flags=0x1 recent type=9 flags=0x2" \
		"$(echo "$out" | grep -o '^flows type=[0-9]* flags=0x[0-9a-f]*' | tr '\n' ' ')$(echo "$out" | grep -o '^recent type=[0-9]* flags=0x[0-9a-f]*')"
	check "struct values: if-var updates in place, else inserts" \
		"flows[$(le32 $key)]=$(le32 3)00000000$(le32 300)00000000" "$(echo "$out" | grep '^flows\[')"
	check "array read default, upsert, compound" "77 15 9 1" \
		"$(val "$out" slots 0) $(val "$out" slots 1) $(val "$out" slots 2) $(val "$out" slots 3)"
	check "percpu_hash compound update" 3 "$(val "$out" totals $key)"
	check "delete" "absent 2" "$(val "$out" scratch $key) $(val "$out" scratch $((key + 1)))"
	nrecent=$(echo "$out" | grep -c '^recent\[')
	if ((nrecent <= 4)) && [ "$(val "$out" recent 7)" = 8 ]; then
		pass "lru_hash keeps at most 4 entries, the newest among them"
	else
		fail "lru_hash eviction" "$(echo "$out" | grep '^recent')"
	fi
fi

# ---- ring buffer: every path submits, discards or releases ----
if build ringbuf; then
	m=$((5 + RANDOM % 100))
	out=$(run ringbuf rb_paths --set "rb_mode_config_map:0:$m" -n 2 --ringbuf events)
	check "ringbuf submit: 2 records" "2 events records=2 $(le32 7)00000000$(le32 $m)00000000" \
		"$(retvals "$out") $(echo "$out" | grep records=) $(echo "$out" | sed -n 's/^events: //p' | sort -u)"
	for mode in 1 2 3; do
		out=$(run ringbuf rb_paths --set "rb_mode_config_map:0:$mode" -n 2 --ringbuf events)
		check "ringbuf mode $mode (discard, implicit release, catch): no record" \
			"$(case $mode in 1) echo 1 ;; 2) echo 3 ;; 3) echo 2 ;; esac) events records=0" \
			"$(retvals "$out") $(echo "$out" | grep records=)"
	done
fi

# ---- new/delete ----
if build objects; then
	for mode in 0 1; do
		out=$(run objects objects --set "obj_mode_config_map:0:$mode" -m results)
		check "new/delete mode $mode (explicit delete, dropped at return)" \
			"$((2 - mode)) $((40 + mode)) $((1 - mode))" \
			"$(retvals "$out") $(val "$out" results 0) $(val "$out" results 1)"
	done
	# 6,400 allocations: freed objects come back from the allocator as they were left
	out=$(run objects objects --set "obj_mode_config_map:0:2" -n 100 -m results)
	check "new after delete: the reused memory reads as zeroes" "2 0" \
		"$(retvals "$out") $(val "$out" results 2)"
	out=$(run objects objects_large -n 100 -m results)
	check "new of 2,408 bytes (zeroed a KiB at a time): reads zeroes" "2 0" "$(retvals "$out") $(val "$out" results 3)"
fi

# ---- new objects kept in a map (kptrs): stored, updated in place, deleted ----
if [ -z "$tag_clang" ]; then
	fail kptr_map "needs clang 15 or newer (BTF type tags); scripts/install-deps installs clang-16"
elif build kptr_map "$tag_clang"; then
	p=$(printf '00%.0s' {1..64})
	# three counts (the third drops), the delete, one count that allocates again
	out=$(run kptr_map kptr_count --data $p --data $p --data $p --prog kptr_forget --data $p \
		--prog kptr_count --data $p -m stats --hex flows)
	check "object stored, then updated through the pointer across runs" "2 2 1 2 2" "$(retvals "$out")"
	check "delete m[k] frees the object: the next run allocates again" \
		"2 1 60" "$(val "$out" stats 0) $(val "$out" stats 1) $(val "$out" stats 2)"
	check "m[k] = new T() stored directly, written through a later read" "42" "$(val "$out" stats 3)"
	check "both entries present" "07000000 08000000" \
		"$(echo "$out" | sed -n 's/^flows\[\(.*\)\]=.*/\1/p' | sort | tr '\n' ' ' | sed 's/ $//')"
fi
