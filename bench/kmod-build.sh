#!/usr/bin/env bash
# bench/kmod-build.sh: how long `ksc kmod build` takes against plain kbuild
# of the same module plus the BTF step kbuild would need, on a kernel tree
# without vmlinux (Debian 12's 6.1: ksc takes the base BTF from the
# vmlinuz, runs pahole over it and resolves the kfunc ids itself) and one
# whose headers ship vmlinux (bookworm-backports' 6.12: kbuild runs pahole
# and resolve_btfids itself).  Prints a markdown table to stdout.
#
#   bench/kmod-build.sh [SERIES...]     default: 6.1 6.12
#
# Per series, every run times, in an order that rotates from run to run:
#   kbuild   `make -j$(nproc) -C KDIR M=DIR modules` over a fresh copy of the
#            tree ksc generated, then, on a tree without vmlinux, the
#            pahole command ksc runs (same flags) over the raw base BTF,
#            extracted beforehand and not timed: what plain kbuild + pahole
#            costs to someone who already has the base at hand.  There is
#            no resolve_btfids in those headers, so nothing stands for
#            ksc's id resolution and verification: they count against ksc.
#   cold     `ksc kmod build FILE.ks --kdir KDIR [--btf-base VMLINUZ]` with
#            an empty BTF cache (KSC_BTF_CACHE): the image is unpacked.
#   warm     the same with the cache already holding the image's BTF.
# A tree with vmlinux has nothing to unpack: cold and warm are one case.
# Medians of BENCH_RUNS runs (default 3); ksc / kbuild is the median of
# each run's ratio, with the median of each run's extra seconds.  Every
# run's time is kept in BENCH_OUT/kmod-build/times ("SERIES CASE RUN MS").
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
out=${BENCH_OUT:-$top/bench/out}/kmod-build
KSC=${KSC:-$top/ksc}
runs=${BENCH_RUNS:-3}
src=${BENCH_KMOD_SRC:-$top/examples/kfunc_stats.ks}
name=$(basename "$src" .ks)
jobs=$(nproc)
pahole=${PAHOLE:-pahole}

die() { echo "bench/kmod-build.sh: $*" >&2; exit 1; }

# ms CMD...: runs CMD quietly, prints its wall time in milliseconds.
ms() {
	local t0 t1
	t0=$(date +%s%N)
	"$@" >>"$out/log" 2>&1 || die "failed: $* (see $out/log)"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

# median N...: the middle value (the lower of the two middle ones).
median() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }

# secs MS: milliseconds as seconds with two decimals.
secs() { printf '%d.%02d' $(($1 / 1000)) $((($1 % 1000) / 10)); }

# kbuild_setup SERIES RUN (not timed), kbuild_once SERIES RUN: plain
# kbuild (+ pahole) of the generated tree, in a fresh copy.
kbuild_setup() {
	mkdir -p "$out/$1/plain-$2"
	cp "$out/$1/tree"/* "$out/$1/plain-$2/"
}

kbuild_once() {
	local d=$out/$1/plain-$2
	make -j"$jobs" -C "$kdir" M="$d" modules &&
		if [ -n "$raw" ]; then
			"$pahole" -J --btf_gen_floats -j --lang_exclude=rust --btf_base "$raw" "$d/$name.ko"
		fi
}

# ksc_build OUT CACHE: ksc kmod build into OUT with the BTF cache CACHE.
ksc_build() {
	KSC_BTF_CACHE=$2 "$KSC" kmod build "$src" --kdir "$kdir" ${image:+--btf-base "$image"} -o "$1"
}

# cold: a cache directory of its own, not there yet; warm: the primed one.
cold_once() { ksc_build "$out/$1/cold-$2" "$out/$1/cold-cache-$2"; }
warm_once() { ksc_build "$out/$1/warm-$2" "$out/$1/warm-cache"; }

# prepare SERIES: $kdir, $image and $raw (empty where the tree has
# vmlinux); ksc's tree for the kernel as $out/SERIES/tree (kbuild's input
# files only); the warm cache primed; the page cache warm for everything.
prepare() {
	local s=$1 d=$out/$1
	kdir=$("$top/scripts/kernels" kdir "$s") || die "no kernel tree for $s (scripts/kernels kdir $s)"
	image="" raw=""
	mkdir -p "$d"
	if [ ! -e "$kdir/vmlinux" ]; then
		image=$("$top/scripts/kernels" vmlinuz "$s") || die "no image for $s (scripts/kernels vmlinuz $s)"
		raw=$d/base.btf
	fi
	ksc_build "$d/prime" "$d/warm-cache" >>"$out/log" 2>&1 || die "ksc kmod build failed for $s (see $out/log)"
	if [ -n "$raw" ]; then
		cp "$d/warm-cache"/*.btf "$raw"
	fi
	rm -rf "$d/tree" && mkdir -p "$d/tree"
	(cd "$d/prime/kmod" && cp Kbuild ./*.c ./*.h "$d/tree/")
	kbuild_setup "$s" prime && kbuild_once "$s" prime >>"$out/log" 2>&1 ||
		die "plain kbuild failed for $s (see $out/log)"
}

# delta MS: signed seconds, "+0.75 s".
delta() {
	local m=$1 sign=+
	((m < 0)) && sign=- m=$((-m))
	echo "$sign$(secs "$m") s"
}

# paired KB T: "RATIO (+EXTRA s)" of ksc times T against the same runs'
# kbuild times KB (space-separated): the median of the runs' own ratios
# and differences, which load drifting between runs moves less than it
# moves a ratio of medians.
paired() {
	local kb=($1) t=($2) r=() d=() i
	for i in "${!kb[@]}"; do
		r+=($((1000 * t[i] / kb[i])))
		d+=($((t[i] - kb[i])))
	done
	printf '%d.%02d (%s)' $(($(median "${r[@]}") / 1000)) $((($(median "${r[@]}") % 1000) / 10)) \
		"$(delta "$(median "${d[@]}")")"
}

# bench_series SERIES: one table row.
bench_series() {
	local s=$1 r i kb=() co=() wa=() order v t
	prepare "$s"
	for ((r = 1; r <= runs; r++)); do
		order=(kbuild cold warm)
		for ((i = 0; i < (r - 1) % 3; i++)); do order=("${order[@]:1}" "${order[0]}"); done
		for v in "${order[@]}"; do
			[ -z "$raw" ] && [ "$v" = warm ] && continue
			[ "$v" = kbuild ] && kbuild_setup "$s" "$r"
			t=$(ms "${v}_once" "$s" "$r")
			echo "$s $v $r $t" >>"$out/times"
			case $v in kbuild) kb+=("$t") ;; cold) co+=("$t") ;; warm) wa+=("$t") ;; esac
		done
	done
	printf '| %s (%s, %s) | %s | %s | %s | ' "$s" "$(basename "$kdir")" \
		"$([ -n "$raw" ] && echo "no vmlinux" || echo vmlinux)" "$(secs "$(median "${kb[@]}")")" \
		"$(secs "$(median "${co[@]}")")" "$(paired "${kb[*]}" "${co[*]}")"
	if [ -n "$raw" ]; then
		printf '%s | %s |\n' "$(secs "$(median "${wa[@]}")")" "$(paired "${kb[*]}" "${wa[*]}")"
	else
		printf '= cold | = cold |\n'
	fi
}

main() {
	local series=("$@") s
	((${#series[@]})) || series=(6.1 6.12)
	[ -x "$KSC" ] || die "no ksc at $KSC (make ksc)"
	command -v "$pahole" >/dev/null || die "no pahole (apt-get install dwarves)"
	rm -rf "$out" && mkdir -p "$out"
	echo "### module build: \`ksc kmod build\` against kbuild + pahole"
	echo
	echo "$name.ko, median of $runs interleaved runs, make -j$jobs on $(nproc) CPUs;"
	echo "kbuild: \`make -C KDIR M=DIR modules\` plus, without vmlinux, ksc's pahole"
	echo "command over the base BTF already at hand; cold: empty BTF cache; warm: the"
	echo "image's BTF cached.  Median seconds; ksc / kbuild as the median of each"
	echo "run's ratio, and the median of each run's extra seconds."
	echo
	echo "| kernel | kbuild + pahole | ksc cold | cold / kbuild | ksc warm | warm / kbuild |"
	echo "|---|---|---|---|---|---|"
	for s in "${series[@]}"; do bench_series "$s"; done
}

main "$@"
