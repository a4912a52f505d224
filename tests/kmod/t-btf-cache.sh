#!/usr/bin/env bash
# The base BTF of a kernel image is extracted once and kept, named by the
# image's SHA-256 (kmodgen/build/kmod_btf.c).  Pinned by counts of the -v
# lines `ksc kmod build` prints ("btf: base BTF from IMAGE" for an
# extraction, "btf: base BTF of IMAGE from the cache (FILE)" for a hit),
# never by times.  No kbuild runs: the program has a type error, found
# after the base is looked up, so each build stops right there.
source tests/lib.sh

dir=$(scratch btf-cache)
k61=$(scripts/kernels kdir 6.1 2>/dev/null) || k61=
v61=$(scripts/kernels vmlinuz 6.1 2>/dev/null) || v61=
if [ ! -d "$k61" ] || [ ! -f "$v61" ]; then
	skip "btf cache" "no 6.1 kernel tree and image (scripts/kernels kdir 6.1; vmlinuz 6.1)"
	exit 0
fi
tool=$dir/kfunc-tool
build_kfunc_tool "$tool" || { fail "build kfunc-tool"; exit 0; }
"$tool" extract "$v61" "$dir/v61.btf" >/dev/null 2>&1

printf '@kfunc\nfn f() -> u32 {\n    return true\n}\n' >"$dir/typo.ks"
c=$dir/cache
# build [IMAGE] [ENV...]: one `ksc -v kmod build` against the 6.1 tree.
build() {
	local image=${1:-$v61}
	(($#)) && shift
	env KSC_BTF_CACHE="$c" "$@" "$KSC_ASAN" -v kmod build "$dir/typo.ks" --kdir "$k61" \
		--btf-base "$image" -o "$dir/out" 2>&1
}
extractions() { grep -c "btf: base BTF from ${2:-$v61}\$" <<<"$1"; }
hits() { grep -c "btf: base BTF of ${2:-$v61} from the cache (" <<<"$1"; }
name=$(scripts/kernels kver 6.1)-$(sha256sum <"$v61" | cut -d' ' -f1).btf
same_btf() { # NAME FILE
	if cmp -s "$2" "$dir/v61.btf"; then pass "$1"; else fail "$1" "$(ls -l "$2" "$dir/v61.btf" 2>&1)"; fi
}

out=$(build)
check "a miss extracts once" "1 0" "$(extractions "$out") $(hits "$out")"
check "one file, named by the image's SHA-256, no temporary left" "$name" "$(ls -A "$c")"
same_btf "the file is the image's BTF" "$c/$name"
check "the type error is still reported" 1 "$(grep -c 'typo.ks:3:12: error: ' <<<"$out")"
out=$(build)
check "a hit extracts nothing" "0 1" "$(extractions "$out") $(hits "$out")"
check "... and says which file" "btf: base BTF of $v61 from the cache ($c/$name)" \
	"$(grep 'btf: base BTF' <<<"$out" | sed 's/^ksc: //')"

# The key is the content: a copy elsewhere with a new mtime is a hit, an
# image one byte longer is another entry.
cp "$v61" "$dir/copy-vmlinuz" && touch -d '2001-01-01' "$dir/copy-vmlinuz"
out=$(build "$dir/copy-vmlinuz")
check "a copy of the image, other path and mtime: a hit" "0 1" \
	"$(extractions "$out" "$dir/copy-vmlinuz") $(hits "$out" "$dir/copy-vmlinuz")"
printf '\0' >>"$dir/copy-vmlinuz"
out=$(build "$dir/copy-vmlinuz")
check "an image of other content: extracted, its own entry" "1 2" \
	"$(extractions "$out" "$dir/copy-vmlinuz") $(ls "$c" | wc -l)"
rm -f "$c"/*-"$(sha256sum <"$dir/copy-vmlinuz" | cut -d' ' -f1)".btf

# A file that is not the BTF it should be is never used, and is replaced.
corrupt() { # NAME HOW...
	local what=$1
	shift
	"$@"
	out=$(build)
	check "$what: extracted again" "1 0" "$(extractions "$out") $(hits "$out")"
	same_btf "$what: ... and replaced" "$c/$name"
}
corrupt "a file cut short" truncate -s 1000 "$c/$name"
corrupt "an empty file" truncate -s 0 "$c/$name"
corrupt "a bad magic" eval 'printf "\0\0" | dd of="$c/$name" conv=notrunc status=none'
corrupt "bytes after the BTF" eval 'printf garbage >>"$c/$name"'
corrupt "a header whose lengths overrun the file" \
	eval 'printf "\377\377\377\177" | dd of="$c/$name" bs=1 seek=20 conv=notrunc status=none'
check "after all that, one file" "$name" "$(ls -A "$c")"

# Where it is: KSC_BTF_CACHE, else $XDG_CACHE_HOME/ksc/btf, else
# $HOME/.cache/ksc/btf; "none", or a place that cannot be made, keeps
# nothing and still builds.
out=$(build "" KSC_BTF_CACHE= XDG_CACHE_HOME="$dir/xdg")
check "in \$XDG_CACHE_HOME/ksc/btf by default" "$name" "$(ls "$dir/xdg/ksc/btf" 2>&1)"
out=$(build "" KSC_BTF_CACHE= XDG_CACHE_HOME= HOME="$dir/home")
check "else in \$HOME/.cache/ksc/btf" "$name" "$(ls "$dir/home/.cache/ksc/btf" 2>&1)"
rm -rf "$dir/xdg"
out=$(build "" KSC_BTF_CACHE=none XDG_CACHE_HOME="$dir/xdg")
check "KSC_BTF_CACHE=none keeps nothing, extracts" "no 1" \
	"$([ -e "$dir/xdg" ] && echo yes || echo no) $(extractions "$out")"
check "... and the type error is still reported" 1 "$(grep -c 'typo.ks:3:12: error: ' <<<"$out")"
touch "$dir/a-file"
mkdir -p "$dir/tmp"
out=$(build "" KSC_BTF_CACHE="$dir/a-file/btf" TMPDIR="$dir/tmp")
check "a cache that cannot be made: extracted, built on" "1 1" \
	"$(extractions "$out") $(grep -c 'typo.ks:3:12: error: ' <<<"$out")"
check "... and its scratch copy is removed" "" "$(ls -A "$dir/tmp")"
