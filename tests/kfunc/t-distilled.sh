#!/usr/bin/env bash
# Modules with a distilled base BTF (.BTF.base, what 6.12+ kbuild with
# pahole >= 1.26 gives out-of-tree modules), without any kernel: a module
# whose .BTF is split over a distilled base and its twin split over the full
# base, built with libbpf's btf__add_* API (tests/kfunc/btf_distill.c) and
# put with objcopy around a .BTF_ids written like the kernel's macros do
# (tests/kfunc/btfid_fixture.S).  ksc's id resolution must match the
# kernel's resolve_btfids (6.12 kbuild) byte for byte on both; verification
# accepts the ids of the module's own base and refuses the other's (the
# "ids resolved on another base?" of Debian 13); `ksc kfuncs --btf` lists
# the kfuncs from the set8 and from bpf_kfunc tags; damaged sections are
# one error line under ASan, never a crash.
source tests/lib.sh
dir=$(scratch kfunc-distilled)
libs=(-lbpf -lelf -lz -llzma -lzstd -llz4)
cflags=(-std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -Icompiler/base -Ikfunc/btf)
srcs=(tests/kfunc/kfunc-tool.c kfunc/btf/*.c compiler/base/util.c)

if ! out=$(cc "${cflags[@]}" -O2 -o "$dir/tool" "${srcs[@]}" "${libs[@]}" 2>&1) ||
	! out=$(cc "${cflags[@]}" -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=all -o "$dir/tool-asan" "${srcs[@]}" "${libs[@]}" 2>&1) ||
	! out=$(cc "${cflags[@]}" -O2 -o "$dir/btf_distill" tests/kfunc/btf_distill.c -lbpf 2>&1) ||
	! out=$(cc -c -o "$dir/fixture.o" tests/kfunc/btfid_fixture.S 2>&1); then
	fail "test drivers build" "$out"
	exit 0
fi
pass "test drivers build"
tool=$dir/tool asan=$dir/tool-asan b=$dir/btf

# NAME FULL_ID DIST_ID for task_struct, fix_count, fix_task.
mkdir -p "$b"
declare -A full dist
while read -r n f d; do
	full[$n]=$f dist[$n]=$d
done < <("$dir/btf_distill" "$b")
if [ -z "${dist[fix_task]:-}" ] || [ "${full[fix_task]}" = "${dist[fix_task]}" ]; then
	fail "btf_distill: ids differ between the bases" "${full[*]:-} / ${dist[*]:-}"
	exit 0
fi

# mod NAME .BTF-FILE [.BTF.base-FILE]: the fixture as a module.
mod() {
	local args=(--add-section ".BTF=$2")
	[ -n "${3:-}" ] && args+=(--add-section ".BTF.base=$3")
	objcopy "${args[@]}" "$dir/fixture.o" "$dir/$1.ko"
}
ids_of() { objcopy -O binary --only-section=.BTF_ids "$1" "$2"; }
words() { od -An -tu4 -v "$1" | xargs; }



mod dist "$b/split.btf" "$b/dist.btf"
mod full "$b/full.btf"
mod tagged "$b/tagged.btf" "$b/dist.btf"

# 1. Resolution over the module's own base, as the kernel's tool does it.
# Entries sorted by id, each with its flags (fix_task 0x10, fix_count 0x20).
for k in dist full; do
	declare -n ids=$k
	cp "$dir/$k.ko" "$dir/$k.ksc.ko"
	run_tool "$k: resolve" 0 '' "$tool" resolve "$dir/$k.ksc.ko" "$b/base.btf"
	ids_of "$dir/$k.ksc.ko" "$dir/$k.ids"
	check "$k: set8 and struct ids on the ${k} base" \
		"2 0 ${ids[fix_count]} 32 ${ids[fix_task]} 16 ${ids[task_struct]}" "$(words "$dir/$k.ids")"
	unset -n ids
done
# The kernel's tool as 6.12's kbuild ships it, which honours .BTF.base.
rbi=$(scripts/kernels kdir 6.12 2>/dev/null)/tools/bpf/resolve_btfids/resolve_btfids
if [ -x "$rbi" ]; then
	for k in dist full; do
		cp "$dir/$k.ko" "$dir/$k.kernel.ko"
		"$rbi" -b "$b/base.btf" "$dir/$k.kernel.ko" 2>/dev/null
		run_tool "$k: identical to the kernel's resolve_btfids" 0 '' \
			cmp "$dir/$k.kernel.ko" "$dir/$k.ksc.ko"
	done
else
	skip "resolve_btfids comparison" "no resolve_btfids of a 6.12+ kbuild (scripts/kernels kdir 6.12)"
fi

# 2. Verification: the module's own ids pass; the other base's are refused.
run_tool "verify: distilled module, its own ids" 0 '' \
	"$tool" verify "$dir/dist.ksc.ko" "$b/base.btf" fix_count fix_task
run_tool "verify: a distilled module needs no base given" 0 '' \
	"$tool" verify "$dir/dist.ksc.ko" "$dir/nonexistent" fix_task
run_tool "verify: full-base module, its own ids" 0 '' \
	"$tool" verify "$dir/full.ksc.ko" "$b/base.btf" fix_count fix_task
objcopy --update-section .BTF_ids="$dir/full.ids" "$dir/dist.ko" "$dir/dist-fullids.ko"
run_tool "verify: distilled module with full-base ids is refused" 1 \
	"kfunc 'fix_count' is in BTF_SET8 fix_kfunc_ids of .* without its BTF id ${dist[fix_count]} (ids resolved on another base?)" \
	"$tool" verify "$dir/dist-fullids.ko" "$b/base.btf" fix_count
objcopy --update-section .BTF_ids="$dir/dist.ids" "$dir/full.ko" "$dir/full-distids.ko"
run_tool "verify: full-base module with distilled ids is refused" 1 \
	"without its BTF id ${full[fix_count]} (ids resolved on another base?)" \
	"$tool" verify "$dir/full-distids.ko" "$b/base.btf" fix_count
run_tool "verify: unresolved distilled module" 1 "kfunc 'fix_task' .*ids not resolved" \
	"$tool" verify "$dir/dist.ko" "$b/base.btf" fix_task
run_tool "resolve again: already resolved" 3 "^already resolved$" \
	"$tool" resolve "$dir/dist.ksc.ko" "$b/base.btf"

# 3. ksc kfuncs: from the set8 of the resolved module, from the tags of
# the unresolved one (tags need no .BTF_ids), with or without --base.
want="unsigned int fix_count(unsigned int v)|unsigned int fix_task(struct task_struct *p)"
check "kfuncs --btf distilled KO: from its set8" "$want" \
	"$("$KSC" kfuncs --btf "$dir/dist.ksc.ko" 2>&1 | paste -sd'|')"
check "kfuncs --btf distilled KO --base: the base is not used" "$want" \
	"$("$KSC" kfuncs --btf "$dir/dist.ksc.ko" --base "$b/base.btf" 2>&1 | paste -sd'|')"
check "kfuncs --btf tagged KO: from bpf_kfunc tags" "ksc: 2 kfuncs in $dir/tagged.ko (bpf_kfunc tags)|$want" \
	"$("$KSC" -v kfuncs --btf "$dir/tagged.ko" 2>&1 | sort | paste -sd'|')"
check "kfuncs --btf full-base KO --base" "$want" \
	"$("$KSC" kfuncs --btf "$dir/full.ksc.ko" --base "$b/base.btf" 2>&1 | paste -sd'|')"
check "kfuncs --kh of a distilled KO" "extern fix_count(v: u32) -> u32|extern fix_task(p: *task_struct) -> u32" \
	"$("$KSC" kfuncs --btf "$dir/dist.ksc.ko" --kh 2>&1 | grep -v '^//' | paste -sd'|')"

# 4. Damaged .BTF.base and .BTF: one error line, exit status 1, under ASan
# (the library through kfunc-tool, the command through ksc-asan).
head -c 20 "$b/dist.btf" >"$b/dist-short.btf"
head -c 60 "$b/dist.btf" >"$b/dist-cut.btf"
{ printf 'XXXX'; tail -c +5 "$b/dist.btf"; } >"$b/dist-magic.btf"
: >"$b/empty.btf"
mod short "$b/split.btf" "$b/dist-short.btf"
mod cut "$b/split.btf" "$b/dist-cut.btf"
mod magic "$b/split.btf" "$b/dist-magic.btf"
mod badname "$b/split.btf" "$b/dist-badname.btf"
mod badref "$b/split-badref.btf" "$b/dist.btf"
mod loop "$b/split-loop.btf" "$b/dist.btf"
head -c 40 "$b/split.btf" >"$b/split-cut.btf"
mod splitcut "$b/split-cut.btf" "$b/dist.btf"
objcopy --add-section .BTF.base="$b/dist.btf" "$dir/fixture.o" "$dir/nobtf.ko"
cases=(
	"short|.BTF.base (its distilled base BTF) is corrupt"
	"cut|.BTF.base (its distilled base BTF) is corrupt"
	"magic|.BTF.base (its distilled base BTF) is corrupt"
	"badname|.BTF.base is corrupt: type \[1\] refers to a type or name it does not have"
	"badref|.BTF is corrupt: type \[3\] refers to a type or name it does not have"
	"loop|.BTF is corrupt: a chain of pointers, modifiers or arrays loops"
	"splitcut|the BTF of .* does not parse on its .BTF.base"
	"nobtf|module has no BTF"
)
if objcopy --add-section .BTF.base="$b/empty.btf" "$dir/fixture.o" "$dir/emptybase.ko" 2>/dev/null; then
	objcopy --add-section .BTF="$b/split.btf" "$dir/emptybase.ko" "$dir/empty.ko"
	cases+=("empty|.BTF.base is empty")
fi
for c in "${cases[@]}"; do
	k=${c%%|*} pattern=${c#*|}
	cp "$dir/$k.ko" "$dir/$k.r.ko"
	bad_input "verify: $k" "$pattern" "$asan" verify "$dir/$k.ko" "$b/base.btf" fix_count
	bad_input "resolve: $k" "$pattern" "$asan" resolve "$dir/$k.r.ko" "$b/base.btf"
	bad_input "ksc kfuncs --btf: $k" "$pattern" "$KSC_ASAN" kfuncs --btf "$dir/$k.ko"
done
# A .BTF.base cut off by the end of the file: libelf refuses the section.
size=$(stat -c %s "$dir/dist.ksc.ko")
head -c $((size - 200)) "$dir/dist.ksc.ko" >"$dir/truncated.ko"
run_tool "ksc kfuncs --btf: truncated file" 1 "^ksc: error: " "$KSC_ASAN" kfuncs --btf "$dir/truncated.ko"
run_tool "ASan: resolve and verify a distilled module" 0 '' sh -c \
	"cp '$dir/dist.ko' '$dir/asan.ko' && '$asan' resolve '$dir/asan.ko' '$b/base.btf' &&
	 cmp '$dir/asan.ko' '$dir/dist.ksc.ko' && '$asan' verify '$dir/asan.ko' '$b/base.btf' fix_count fix_task"
