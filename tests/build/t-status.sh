#!/usr/bin/env bash
# ksc status on the host, with real BPF: an install of XDP and tc programs
# on lo (in a network namespace of its own, so that nothing else on lo
# gets in the way) shown as one line by `ksc status`, in detail by
# `ksc status NAME` (a BPF-only install says "module: none (BPF only)"),
# and as JSON by both with --json (parsed by python3 and its fields
# checked); a BPF struct_ops; programs loaded only; an interrupted
# install in all three forms; names JSON must escape; a name not installed.
source tests/lib.sh
dir=$(scratch status)
name=kst_host
if [ "$(id -u)" != 0 ] || ! need_bpffs 2>/dev/null || ! command -v unshare >/dev/null ||
	! command -v python3 >/dev/null; then
	skip status "needs root, bpffs, unshare and python3"
	exit 0
fi
cat >"$dir/$name.ks" <<'EOF'
include "xdp.kh"

var hits : array<u32, u64>(4)

@xdp
fn kst_xdp(ctx: *xdp_md) -> xdp_action {
    hits[0] = hits[0] + 1
    return XDP_PASS
}

@tc("ingress")
fn kst_in(ctx: *__sk_buff) -> i32 {
    hits[1] = hits[1] + 1
    return 0
}

@tc("egress")
fn kst_out(ctx: *__sk_buff) -> i32 {
    hits[2] = hits[2] + 1
    return 0
}

fn main() -> i32 {
    return 0
}
EOF
if ! "$KSC" -q build "$dir/$name.ks" -o "$dir/tree" >"$dir/build.log" 2>&1; then
	fail "build $name" "$(tail -5 "$dir/build.log")"
	exit 0
fi
[ -e /sys/fs/bpf/ksc/$name ] && "$KSC" -q uninstall $name

# A struct_ops (kcc_dual without @kmod: a BPF TCP congestion control).
so=kst_so
sed '/^@kmod$/d' tests/kmod/progs/kcc_dual.ks >"$dir/$so.ks"
[ -e /sys/fs/bpf/ksc/$so ] && "$KSC" -q uninstall $so
if ! "$KSC" -q build "$dir/$so.ks" -o "$dir/so" >"$dir/so.log" 2>&1 ||
	! "$KSC" -q install "$dir/so" >>"$dir/so.log" 2>&1; then
	fail "install $so" "$(tail -5 "$dir/so.log")"
else
	check "status: a struct_ops, one line" "$so: installed, no module, 1 attached (kcc_dual struct_ops), 1 map" \
		"$("$KSC_ASAN" status 2>&1 | grep "^$so:")"
	check "status NAME: a struct_ops registered" "  link kcc_dual: struct_ops kcc_dual registered (map id N)" \
		"$("$KSC_ASAN" status $so 2>&1 | grep kcc_dual | sed 's/id [0-9]*)/id N)/')"
	check "status NAME --json: a struct_ops" "struct_ops kcc_dual True" \
		"$("$KSC_ASAN" status $so --json | python3 -c 'import json, sys; a = json.load(sys.stdin)["attached"][0]
print(a["type"], a["struct_ops"], a["map_id"] > 0)' 2>&1)"
	"$KSC" -q uninstall $so
fi

cat >"$dir/inner.sh" <<'INNER'
source tests/lib.sh
dir=$1 name=$2
pins=/sys/fs/bpf/ksc/$name
K=$KSC_ASAN
ip link set lo up

# field PY: python3 evaluates PY with `d`, the JSON document on stdin.
field() { python3 -c "import json, sys; d = json.load(sys.stdin); print($1)"; }

"$KSC" -q install "$dir/tree" --iface lo >"$dir/install.log" 2>&1 ||
	fail "install $name on lo" "$(cat "$dir/install.log")"
all=$("$K" status 2>"$dir/err")
check "status: one line per install" \
	"$name: installed, no module, 3 attached (kst_in tc ingress on lo, kst_out tc egress on lo, kst_xdp xdp on lo), 1 map|" \
	"$(grep "^$name:" <<<"$all")|$(cat "$dir/err")"
one=$("$K" status $name 2>&1 | sed 's/id [0-9]*)/id N)/')
check "status NAME: the detail, module none (BPF only)" "$name:
  module: none (BPF only)
  link kst_in: tc ingress on lo, program kst_in (sched_cls, id N)
  link kst_out: tc egress on lo, program kst_out (sched_cls, id N)
  link kst_xdp: xdp on lo, program kst_xdp (xdp, id N)
  map hits: array, 4 entries: [0]=0 [1]=0 [2]=0 [3]=0" "$one"

"$K" status --json >"$dir/all.json" 2>"$dir/err"
check "status --json: exit 0, nothing on stderr" "0|" "$?|$(cat "$dir/err")"
check "status --json: the install's fields" \
	"installed None tc:lo:ingress:kst_in:sched_cls tc:lo:egress:kst_out:sched_cls xdp:lo:-:kst_xdp:xdp hits:array:4:[(0, 0), (1, 0), (2, 0), (3, 0)] [] []" \
	"$(field "' '.join(str(x) for i in d['installs'] if i['name'] == '$name' for x in [i['state'], i['module'],
	  ' '.join('%s:%s:%s:%s:%s' % (a['type'], a['interface'], a.get('direction', '-'), a['program']['name'],
	  a['program']['type']) for a in i['attached']),
	  ' '.join('%s:%s:%d:%s' % (m['name'], m['type'], m['max_entries'],
	  [(e['key'], e['value']) for e in m['entries']]) for m in i['maps']), i['loaded'], i['errors']])" <"$dir/all.json" 2>&1)"
"$K" status $name --json >"$dir/one.json"
check "status NAME --json: the same object as in the list" "True" \
	"$(python3 -c "import json; a = json.load(open('$dir/all.json')); o = json.load(open('$dir/one.json'))
print([i for i in a['installs'] if i['name'] == '$name'] == [o])" 2>&1)"
check "status NAME --json: program ids are numbers" "True" \
	"$(field "all(isinstance(a['program']['id'], int) and a['program']['id'] > 0 for a in d['attached'])" <"$dir/one.json" 2>&1)"
"$KSC" -q uninstall $name

# Without --iface nothing attaches: the programs are loaded only.
"$KSC" -q install "$dir/tree" >"$dir/install.log" 2>&1 || fail "install $name without --iface" "$(cat "$dir/install.log")"
check "status: programs loaded only" "$name: installed, no module, 0 attached, 3 loaded only, 1 map" \
	"$("$K" status 2>&1 | grep "^$name:")"
check "status NAME: a program loaded only" "  loaded, not attached: program kst_xdp (xdp, id N)" \
	"$("$K" status $name 2>&1 | grep kst_xdp | sed 's/id [0-9]*)/id N)/')"
check "status NAME --json: loaded only" "kst_in kst_out kst_xdp" \
	"$("$K" status $name --json | field "' '.join(p['program']['name'] for p in d['loaded'])" 2>&1)"

# An interrupted install: the directory a dead ksc install leaves.
true &
pid=$!
wait $pid
mkdir $pins/installing-$pid
warn="ksc: warning: the install of $name is incomplete (interrupted): 'ksc uninstall $name'"
out=$("$K" status 2>"$dir/err")
check "status: an interrupted install is incomplete, exit 0" \
	"0|$name: incomplete, no module, 0 attached, 3 loaded only, 1 map|$warn" \
	"$?|$(grep "^$name:" <<<"$out")|$(grep "$name" "$dir/err")"
"$K" status $name >"$dir/out" 2>"$dir/err"
check "status NAME: incomplete, exit 1" \
	"1|  state: incomplete: ksc install (pid $pid) was interrupted; 'ksc uninstall $name' removes what it left|$warn" \
	"$?|$(grep state: "$dir/out")|$(cat "$dir/err")"
"$K" status $name --json >"$dir/out" 2>"$dir/err"
check "status NAME --json: incomplete, exit 1" "1|incomplete $pid|$warn" \
	"$?|$(field "d['state'], d['pid']" <"$dir/out" | tr -d "(),'")|$(cat "$dir/err")"
check "status --json: incomplete" "incomplete $pid" \
	"$("$K" status --json 2>/dev/null | field "' '.join('%s %s' % (i['state'], i['pid']) for i in d['installs'] if i['name'] == '$name')")"
"$KSC" -q uninstall $name

# A directory of a name JSON must escape (made by hand: ksc names are identifiers).
odd=$'kst "q\\ \t'
mkdir "/sys/fs/bpf/ksc/$odd"
check "status --json: a name with a quote, a backslash and a tab" "True" \
	"$("$K" status --json 2>&1 | field "any(i['name'] == '''$odd''' and i['state'] == 'installed' for i in d['installs'])" 2>&1)"
check "status NAME --json: the same name" "True" \
	"$("$K" status "$odd" --json 2>&1 | field "d['name'] == '''$odd''' and d['attached'] == [] and d['module'] is None" 2>&1)"
rmdir "/sys/fs/bpf/ksc/$odd"

out=$("$K" status $name 2>&1)
check "status NAME of nothing installed" "1|ksc: error: $name is not installed (no $pins)" "$?|$out"
out=$("$K" status $name --json 2>&1)
check "status NAME --json of nothing installed" "1|ksc: error: $name is not installed (no $pins)" "$?|$out"
INNER
unshare -n bash "$dir/inner.sh" "$dir" "$name"
[ -e /sys/fs/bpf/ksc/$name ] && "$KSC" -q uninstall $name
true
