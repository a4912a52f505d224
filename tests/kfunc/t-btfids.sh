#!/usr/bin/env bash
# kfunc/: base BTF from Debian's kernel images and BTF id resolution of
# modules, checked against the kernel's own tools: the .BTF of the 6.12
# headers' vmlinux, and resolve_btfids from the 6.12 kbuild, run on 6.1
# modules (whose headers ship neither).  Then the bad inputs, under
# ASan+UBSan: one error line, exit status 1, never a crash.
source tests/lib.sh
dir=$(scratch kfunc-btfids)
libs=(-lbpf -lelf -lz -llzma -lzstd -llz4)
srcs=(tests/kfunc/kfunc-tool.c kfunc/btf/*.c compiler/base/util.c)
cflags=(-std=c17 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter -Icompiler/base -Ikfunc/btf)

# The driver, plain and sanitized; nothing else can run without them.
if ! out=$(cc "${cflags[@]}" -O2 -o "$dir/tool" "${srcs[@]}" "${libs[@]}" 2>&1) ||
	! out=$(cc "${cflags[@]}" -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
		-fno-sanitize-recover=all -o "$dir/tool-asan" "${srcs[@]}" "${libs[@]}" 2>&1); then
	fail "kfunc-tool builds" "$out"
	exit 0
fi
pass "kfunc-tool builds"
tool=$dir/tool



ids_of() { objcopy -O binary --only-section=.BTF_ids "$1" "$2"; }

declare -A vmlinuz kdir
for v in 6.1 6.12; do
	vmlinuz[$v]=$(scripts/kernels vmlinuz "$v" 2>/dev/null) || vmlinuz[$v]=
	kdir[$v]=$(scripts/kernels kdir "$v" 2>/dev/null) || kdir[$v]=
done

# 1. The release string in the setup header.
for v in 6.1 6.12; do
	if [ -z "${vmlinuz[$v]}" ]; then
		skip "release of the $v image" "scripts/kernels vmlinuz $v failed"
		continue
	fi
	check "release of the $v image" "$(scripts/kernels kver "$v" 2>/dev/null)" \
		"$("$tool" release "${vmlinuz[$v]}" 2>&1)"
done

# 2. Base BTF: byte-identical to the .BTF the 6.12 headers ship.
ref=$dir/ref-6.12.btf
if [ -n "${vmlinuz[6.12]}" ] && [ -f "${kdir[6.12]}/vmlinux" ]; then
	objcopy -O binary --only-section=.BTF "${kdir[6.12]}/vmlinux" "$ref"
	"$tool" extract "${vmlinuz[6.12]}" "$dir/6.12.btf"
	run_tool "6.12 image (zstd): .BTF identical to the headers' vmlinux" 0 '' cmp "$ref" "$dir/6.12.btf"
	"$tool" base "${kdir[6.12]}/vmlinux" "$dir/base-elf.btf"
	run_tool "base from an ELF vmlinux" 0 '' cmp "$ref" "$dir/base-elf.btf"
	"$tool" base "$ref" "$dir/base-raw.btf"
	run_tool "base from raw BTF" 0 '' cmp "$ref" "$dir/base-raw.btf"
	"$tool" base "${vmlinuz[6.12]}" "$dir/base-bz.btf"
	run_tool "base from a bzImage" 0 '' cmp "$ref" "$dir/base-bz.btf"
else
	skip "6.12 base BTF" "no 6.12 image or headers"
	ref=
fi
base61=$dir/6.1.btf
if [ -n "${vmlinuz[6.1]}" ] && "$tool" extract "${vmlinuz[6.1]}" "$base61"; then
	run_tool "6.1 image (xz): BTF has struct tcp_sock" 0 "STRUCT 'tcp_sock'" \
		bpftool btf dump file "$base61"
else
	fail "6.1 image (xz): BTF extracts"
	base61=
fi

# The other payload formats: the 6.12 image's setup code with the headers'
# vmlinux recompressed (and its size appended, as the kernel build does).
# shellcheck disable=SC2059 # the format is the bytes
le32() { printf "\\x$(printf %02x $(($1 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 24 & 255)))"; }
# fake_image COMPRESSOR...: writes $dir/fake.img from the vmlinux on stdin.
fake_image() {
	local img=${vmlinuz[6.12]} sects start off len size
	sects=$(od -An -tu1 -j $((0x1f1)) -N1 "$img" | tr -d ' ')
	start=$(((sects + 1) * 512))
	off=$(od -An -tu4 -j $((0x248)) -N4 "$img" | tr -d ' ')
	size=$(stat -c %s "${kdir[6.12]}/vmlinux")
	{
		head -c $((start + off)) "$img"
		"$@" <"${kdir[6.12]}/vmlinux"
		le32 "$size"
	} >"$dir/fake.img"
	len=$(($(stat -c %s "$dir/fake.img") - start - off))
	le32 "$len" | dd of="$dir/fake.img" bs=1 seek=$((0x24c)) conv=notrunc status=none
}
if [ -n "$ref" ]; then
	for c in "gzip -9 -n" "xz --check=crc32 --x86 --lzma2=dict=32MiB" "lz4 -l -9" "zstd -19"; do
		if ! command -v "${c%% *}" >/dev/null; then
			skip "${c%% *} payload" "no ${c%% *} command"
			continue
		fi
		rm -f "$dir/fake.btf"
		# shellcheck disable=SC2086 # the options split on purpose
		fake_image $c -c
		"$tool" extract "$dir/fake.img" "$dir/fake.btf"
		run_tool "${c%% *} payload: BTF identical" 0 '' cmp "$ref" "$dir/fake.btf"
	done
	if command -v bzip2 >/dev/null; then
		fake_image bzip2 -c
		bad_input "bzip2 payload is refused" "bzip2-compressed kernels are not supported" "$dir/tool-asan" \
			extract "$dir/fake.img" "$dir/fake.btf"
	fi
fi

# 3. Modules for 6.1: the hand-written twin, every kind of BTF id, and an
# unresolvable one.  pahole gives them BTF on the extracted base, then the
# kernel's resolve_btfids and ours must write the same bytes.
rbi=${kdir[6.12]}/tools/bpf/resolve_btfids/resolve_btfids
m=$dir/mod
if [ -z "$base61" ] || [ -z "${kdir[6.1]}" ] || [ ! -x "$rbi" ]; then
	skip "module BTF ids" "needs the 6.1 image and headers and the 6.12 resolve_btfids"
	exit 0
fi
mkdir -p "$m"
cp tests/kmod/kfunc_stats_twin.c tests/kfunc/btfid_zoo.c tests/kfunc/btfid_bad.c "$m/"
echo 'obj-m += kfunc_stats_twin.o btfid_zoo.o btfid_bad.o' >"$m/Kbuild"
if ! out=$(make -C "${kdir[6.1]}" M="$m" modules 2>&1); then
	fail "6.1 modules build" "$(echo "$out" | tail -20)"
	exit 0
fi
pass "6.1 modules build"
for k in kfunc_stats_twin btfid_zoo btfid_bad; do
	cp "$m/$k.ko" "$m/$k.nobtf.ko"
	pahole -J --btf_gen_floats -j --lang_exclude=rust --btf_base "$base61" "$m/$k.ko"
	cp "$m/$k.ko" "$m/$k.kernel.ko"
	cp "$m/$k.ko" "$m/$k.ksc.ko"
	"$rbi" -b "$base61" "$m/$k.kernel.ko" 2>/dev/null
done
for k in kfunc_stats_twin btfid_zoo; do
	run_tool "$k: resolve" 0 '' "$tool" resolve "$m/$k.ksc.ko" "$base61"
	ids_of "$m/$k.kernel.ko" "$m/$k.kernel.ids"
	ids_of "$m/$k.ksc.ko" "$m/$k.ksc.ids"
	run_tool "$k: .BTF_ids identical to resolve_btfids" 0 '' cmp "$m/$k.kernel.ids" "$m/$k.ksc.ids"
	run_tool "$k: whole file identical to resolve_btfids" 0 '' cmp "$m/$k.kernel.ko" "$m/$k.ksc.ko"
done
# The zoo's set8 entries sorted by id, each with the flags it was declared with.
ids_of "$m/btfid_zoo.ksc.ko" "$m/zoo.ids"
funcs=$(bpftool btf dump file "$m/btfid_zoo.ksc.ko" -B "$base61" |
	awk '$2 == "FUNC" { gsub(/[][\047]/, ""); print $1, $3 }' | grep -E ' zoo_(zeta|alpha|_inner|mid)$' | sort -n)
flags=$(od -An -tu4 -v -j 8 -N 32 "$m/zoo.ids" | xargs -n 2 echo)
declare -A want=([zoo_zeta]=32 [zoo_alpha]=5 [zoo__inner]=0 [zoo_mid]=16)
check "zoo: set8 sorted, flags kept with their ids" \
	"$(echo "$funcs" | while read -r id n; do echo "$id ${want[$n]}"; done)" "$flags"

run_tool "verify: resolved twin passes" 0 '' \
	"$tool" verify "$m/kfunc_stats_twin.ksc.ko" "$base61" ksc_stats_count ksc_stats_avg ksc_stats_scale
run_tool "verify: resolved zoo passes" 0 '' \
	"$tool" verify "$m/btfid_zoo.ksc.ko" "$base61" zoo_zeta zoo_alpha zoo__inner zoo_mid
run_tool "verify: unresolved module" 1 "kfunc 'ksc_stats_count' .*ids not resolved" \
	"$tool" verify "$m/kfunc_stats_twin.ko" "$base61" ksc_stats_count
run_tool "verify: module without BTF" 1 "module has no BTF: " \
	"$tool" verify "$m/kfunc_stats_twin.nobtf.ko" "$base61" ksc_stats_count
run_tool "verify: a name that is no function of the module" 1 "kfunc 'ksc_stats_nope' has no BTF FUNC" \
	"$tool" verify "$m/kfunc_stats_twin.ksc.ko" "$base61" ksc_stats_avg ksc_stats_nope

# 4. Already resolved, partly resolved, unresolvable.
sum=$(md5sum <"$m/kfunc_stats_twin.ksc.ko")
run_tool "second resolve: already resolved" 3 "^already resolved$" \
	"$tool" resolve "$m/kfunc_stats_twin.ksc.ko" "$base61"
check "second resolve leaves the file alone" "$sum" "$(md5sum <"$m/kfunc_stats_twin.ksc.ko")"
run_tool "resolve after resolve_btfids: already resolved" 3 "^already resolved$" \
	"$tool" resolve "$m/btfid_zoo.kernel.ko" "$base61"
sum=$(md5sum <"$m/btfid_bad.ksc.ko")
run_tool "unknown name is an error naming it" 1 \
	"ksc: error: .*btfid_bad.ksc.ko': BTF_ID(func, no_such_function) names no type" \
	"$tool" resolve "$m/btfid_bad.ksc.ko" "$base61"
check "unknown name leaves the file alone" "$sum" "$(md5sum <"$m/btfid_bad.ksc.ko")"
# A zoo whose set8 count alone is back to 0: resolving again would misplace flags.
cp "$m/zoo.ids" "$m/partial.ids"
printf '\0\0\0\0' | dd of="$m/partial.ids" conv=notrunc status=none
objcopy --update-section .BTF_ids="$m/partial.ids" "$m/btfid_zoo.ksc.ko" "$m/partial.ko"
run_tool "partly resolved ids are refused" 1 "partly resolved (12 of 13 slots set)" \
	"$tool" resolve "$m/partial.ko" "$base61"
run_tool "verify: set count 0" 1 "kfunc 'zoo_zeta' is in BTF_SET8 zoo_kfunc_ids .*ids not resolved" \
	"$tool" verify "$m/partial.ko" "$base61" zoo_zeta
# The set8 gone from the symbol table: the kfunc is in no set.
objcopy --strip-symbol=__BTF_ID__set8__zoo_kfunc_ids "$m/btfid_zoo.ksc.ko" "$m/noset.ko"
run_tool "verify: kfunc in no set8" 1 "kfunc 'zoo_zeta' (BTF id [0-9]*) is in no BTF_SET8" \
	"$tool" verify "$m/noset.ko" "$base61" zoo_zeta

# The sanitized build on the good paths too (leaks, overflows).
cp "$m/btfid_zoo.ko" "$m/zoo-asan.ko"
run_tool "ASan: resolve and verify" 0 '' sh -c \
	"'$dir/tool-asan' resolve '$m/zoo-asan.ko' '$base61' && cmp '$m/zoo-asan.ko' '$m/btfid_zoo.kernel.ko' &&
	 '$dir/tool-asan' verify '$m/zoo-asan.ko' '$base61' zoo_zeta zoo_mid"
run_tool "ASan: extract the 6.1 image" 0 '' sh -c \
	"'$dir/tool-asan' extract '${vmlinuz[6.1]}' '$dir/asan.btf' && cmp '$dir/asan.btf' '$base61'"

# 5. Bad inputs.
img=${vmlinuz[6.1]}
head -c 5000000 "$img" >"$dir/truncated.img"
head -c 1000 "$img" >"$dir/short.img"
head -c 300 "$img" >"$dir/tiny.img"
: >"$dir/empty"
# A payload with its middle overwritten: the xz checks must catch it.
cp "$img" "$dir/corrupt.img"
head -c 4096 /dev/zero | dd of="$dir/corrupt.img" bs=1 seek=4000000 conv=notrunc status=none
bad_input "extract: missing file" "cannot read '.*nonexistent': No such file" "$dir/tool-asan" extract "$dir/nonexistent" "$dir/x"
bad_input "extract: a directory" "cannot read '.*': Is a directory" "$dir/tool-asan" extract "$dir" "$dir/x"
bad_input "extract: empty file" "is not a bzImage" "$dir/tool-asan" extract "$dir/empty" "$dir/x"
bad_input "extract: not a bzImage" "is not a bzImage" "$dir/tool-asan" extract "$m/kfunc_stats_twin.ko" "$dir/x"
bad_input "extract: truncated image" "is truncated" "$dir/tool-asan" extract "$dir/truncated.img" "$dir/x"
bad_input "extract: header only" "is truncated: its payload ends at byte" "$dir/tool-asan" extract "$dir/short.img" "$dir/x"
bad_input "extract: shorter than a header" "is not a bzImage" "$dir/tool-asan" extract "$dir/tiny.img" "$dir/x"
bad_input "extract: corrupt payload" "xz kernel payload: corrupt data" "$dir/tool-asan" extract "$dir/corrupt.img" "$dir/x"
bad_input "extract: unwritable output" "cannot write '/nonexistent/x'" "$dir/tool-asan" extract "$img" /nonexistent/x
bad_input "release: not a bzImage" "is not a bzImage" "$dir/tool-asan" release "$m/kfunc_stats_twin.ko"
bad_input "base: ELF without .BTF" "is neither BTF, an ELF file with .BTF nor a bzImage: an ELF file without .BTF" "$dir/tool-asan" base "$m/kfunc_stats_twin.nobtf.ko" "$dir/x"
bad_input "base: missing file" "cannot read '.*nonexistent'" "$dir/tool-asan" base "$dir/nonexistent" "$dir/x"
bad_input "resolve: missing module" "cannot open '.*nonexistent.ko'" "$dir/tool-asan" resolve "$dir/nonexistent.ko" "$base61"
bad_input "resolve: not an ELF file" "is not an ELF file" "$dir/tool-asan" resolve "$dir/short.img" "$base61"
cp "$m/btfid_zoo.ko" "$m/zoo-badbase.ko"
bad_input "resolve: base is a bzImage" "base '.*' is a kernel image: extract its BTF first" "$dir/tool-asan" resolve "$m/zoo-badbase.ko" "$img"
bad_input "resolve: module without BTF" "module has no BTF" "$dir/tool-asan" resolve "$m/btfid_zoo.nobtf.ko" "$base61"
bad_input "verify: not an ELF file" "is not an ELF file" "$dir/tool-asan" verify "$dir/empty" "$base61" f
bad_input "resolve: base without BTF" "cannot load base BTF '.*nobtf.ko'.*: no .BTF section" "$dir/tool-asan" \
	resolve "$m/zoo-badbase.ko" "$m/btfid_zoo.nobtf.ko"
bad_input "verify: base is not BTF" "cannot load base BTF '.*tiny.img'" "$dir/tool-asan" \
	verify "$m/btfid_zoo.ksc.ko" "$dir/tiny.img" zoo_mid
