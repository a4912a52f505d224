#!/usr/bin/env bash
# --color=auto|always|never (compiler/base/diag.c, util.c): on a terminal
# (a pseudo-terminal from script(1)) diagnostics are coloured as gcc
# colours them: file:line:col bold, "error:" bold red, "warning:" bold
# magenta, "note:" bold cyan, the caret green, and "ksc: error:" lines
# too; piped, with NO_COLOR set, with TERM=dumb or --color=never they are
# not; --color=always colours a pipe.  Without colour the text is exactly
# what it was, and with the colour sequences taken out it is that text.
# The option goes before or after the command; a wrong WHEN is a usage error.
source tests/lib.sh
dir=$(scratch cli-color)
K=$KSC_ASAN
if ! command -v script >/dev/null; then
	skip color "needs script(1) from util-linux"
	exit 0
fi
cat >"$dir/e.ks" <<'KS'
fn main() -> i32 {
    var n: u8 = 300
    return y + 1
}
KS

# tty CMD: CMD's output on a pseudo-terminal (stdout and stderr), without the tty's CRs.
tty() { TERM=xterm script -qec "$*" /dev/null | tr -d '\r'; }
esc=$'\033'
B="$esc[01m$esc[K" R="$esc[m$esc[K" RED="$esc[01;31m$esc[K" GREEN="$esc[01;32m$esc[K"
plain=$("$K" check "$dir/e.ks" 2>&1)
colour=$(tty "$K" check "$dir/e.ks")
first=$(grep -m1 'is not defined' <<<"$plain")
check "plain: no escape sequence when piped" "0" "$(grep -c "$esc" <<<"$plain")"
check "tty: the location bold, error: bold red" \
	"$B$dir/e.ks:3:12:$R ${RED}error: $R'y' is not defined" "$(grep -m1 'is not defined' <<<"$colour")"
check "tty: the caret green" "               $GREEN^$R" "$(grep -A2 'is not defined' <<<"$colour" | sed -n 3p)"
check "tty: the text without its colours is the plain text" "$plain" "$(sed "s/$esc\[[0-9;]*m$esc\[K//g" <<<"$colour")"
check "tty, --color=never: plain" "$plain" "$(tty "$K" check "$dir/e.ks" --color=never)"
check "tty, NO_COLOR=1: plain" "$plain" "$(tty NO_COLOR=1 "$K" check "$dir/e.ks")"
check "tty, TERM=dumb: plain" "$plain" "$(script -qec "TERM=dumb $K check $dir/e.ks" /dev/null | tr -d '\r')"
check "pipe, --color=always: coloured" "$colour" "$("$K" --color=always check "$dir/e.ks" 2>&1)"
check "pipe, check --color always: coloured" "$colour" "$("$K" check --color always "$dir/e.ks" 2>&1)"
check "tty, --color=auto: coloured" "$colour" "$(tty "$K" --color=auto check "$dir/e.ks")"

# A warning (an unknown escape) and a note (where a redefined function was first).
cat >"$dir/wn.ks" <<'KS'
fn f() -> i32 {
    print("a\q")
    return 0
}
fn f() -> i32 {
    return 1
}
fn main() -> i32 {
    return 0
}
KS
wn=$("$K" --color=always check "$dir/wn.ks" 2>&1)
check "warning: bold magenta" "$B$dir/wn.ks:2:13:$R $esc[01;35m$esc[Kwarning: ${R}unknown escape sequence '\\q' is kept as a backslash" \
	"$(grep -m1 'warning: ' <<<"$wn")"
check "note: bold cyan" "$B$dir/wn.ks:1:4:$R $esc[01;36m$esc[Knote: ${R}previous definition of function 'f' is here" \
	"$(grep -m1 'note: ' <<<"$wn")"
check "warning and note: without colours, the plain text" "$("$K" check "$dir/wn.ks" 2>&1)" \
	"$(sed "s/$esc\[[0-9;]*m$esc\[K//g" <<<"$wn")"

# Error lines that are not source diagnostics.
check "ksc: error: lines coloured on a tty" \
	"ksc: ${RED}error: $R$dir/none is not a directory: give the output directory of 'ksc build'" \
	"$(tty "$K" install "$dir/none")"
check "ksc: error: lines plain when piped" \
	"ksc: error: $dir/none is not a directory: give the output directory of 'ksc build'" \
	"$("$K" install "$dir/none" 2>&1)"

run_tool "--color=sometimes: a usage error" 2 "^ksc: error: --color takes auto, always or never, not 'sometimes'$" \
	"$K" --color=sometimes check "$dir/e.ks"
run_tool "check --color=sometimes: a usage error" 2 \
	"^ksc: error: check: --color takes auto, always or never, not 'sometimes'$" "$K" check "$dir/e.ks" --color=sometimes
run_tool "check --color without WHEN" 2 "^ksc: error: check: '--color' needs WHEN$" "$K" check "$dir/e.ks" --color
