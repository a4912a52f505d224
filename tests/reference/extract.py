#!/usr/bin/env python3
"""Pulls the KernelScript programs out of the reference compiler's OCaml tests.

usage: extract.py TESTS_DIR OUT_DIR

TESTS_DIR is the tests/ directory of a snapshot of multikernel/kernelscript;
the programs are never stored in this repository, only read from there.
Writes OUT_DIR/N/p.ks for each program and OUT_DIR/manifest, one line per
program: ID <TAB> VERDICT <TAB> N, where ID is FILE.ml:LINE (the line of
the literal) or FILE.ml:LINE/ELEM for a Printf.sprintf template expanded
with the list element on line ELEM that the test iterates over (#2, #3 for
the second and third on that line), and VERDICT
is what the test expects: accept or reject.

The expectation is read from the OCaml after the literal, up to the next
program or the end of the top-level definition: a test that expects a
failure says so ("should have failed", "expected ... error", "but
compilation succeeded", check_raises, ...); anything else expects the
program to go through.  A template's list element with a boolean named
like should_succeed decides by itself.  This is a heuristic: where it
misreads a test, tests/reference/expected.txt says so.
"""
import os
import re
import sys

# A literal that starts like a KernelScript declaration is a program.
PROGRAM = re.compile(
    r'^\s*(//[^\n]*\n\s*)*(@\w+|fn\s+\w+\s*\(|struct\s+\w+\s*\{|enum\s+\w+\s*\{|'
    r'type\s+\w+\s*=|config\s+\w+\s*\{|include\s+"|import\s+\w+|extern\s+\w+|'
    r'impl\s+\w+|(pin\s+|local\s+)?var\s+\w+|const\s+\w+|(pin\s+)?(hash|array|'
    r'percpu_hash|percpu_array|lru_hash|ringbuf)\s*<)')
REJECT = re.compile(
    r'should\s+(have\s+)?(failed|fail)|should\s+be\s+rejected|should\s+(not|n\'t)\s+'
    r'(be\s+allowed|compile|pass|type|parse|succeed|be\s+valid|work)|'
    r'\bexpected\s+(an?\s+)?(\w+\s+)?(error|exception|failure|to\s+fail)|'
    r'but\s+(compilation|parsing|type\s*checking|it)\s+succeeded|should\s+raise|'
    r'check_raises|should\s+error|to\s+be\s+rejected|must\s+fail|'
    r'should\s+(have\s+)?been\s+rejected|correctly\s+rejected|'
    r'should\s+detect|should\s+report', re.I)
BOOL_NAME = re.compile(r'should|valid|succe|expect_ok|ok$|pass', re.I)


def tokens(src, comments=None):
    """OCaml tokens: (kind, value, start, end); comments are skipped (their
    (start, end) go to the list 'comments')."""
    i, n, out = 0, len(src), []
    while i < n:
        c = src[i]
        if src.startswith('(*', i):
            j = skip_comment(src, i)
            if comments is not None:
                comments.append((i, j))
            i = j
        elif c == '"':
            j, val = read_string(src, i)
            out.append(('str', val, i, j))
            i = j
        elif c == '{' and re.match(r'\{[a-z_]*\|', src[i:]):
            m = re.match(r'\{([a-z_]*)\|', src[i:])
            close = '|' + m.group(1) + '}'
            j = src.find(close, i + len(m.group(0)))
            j = n if j < 0 else j
            out.append(('str', src[i + len(m.group(0)):j], i, j + len(close)))
            i = j + len(close)
        elif c == "'" and re.match(r"'(\\.[^']*|[^\\'])'", src[i:]):
            i += len(re.match(r"'(\\.[^']*|[^\\'])'", src[i:]).group(0))
        elif c.isalnum() or c == '_':
            m = re.match(r"[\w']+", src[i:])
            out.append(('id', m.group(0), i, i + len(m.group(0))))
            i += len(m.group(0))
        elif c.isspace():
            i += 1
        else:
            out.append(('p', c, i, i + 1))
            i += 1
    return out


def skip_comment(src, i):
    depth, i = 0, i
    while i < len(src):
        if src.startswith('(*', i):
            depth, i = depth + 1, i + 2
        elif src.startswith('*)', i):
            depth, i = depth - 1, i + 2
            if depth == 0:
                return i
        elif src[i] == '"':
            i = read_string(src, i)[0]
        else:
            i += 1
    return i


ESC = {'n': '\n', 't': '\t', 'r': '\r', 'b': '\b', '\\': '\\', '"': '"', "'": "'", ' ': ' '}


def read_string(src, i):
    """A "..." literal at i: (end, value) with OCaml's escapes applied."""
    i, val = i + 1, []
    while i < len(src) and src[i] != '"':
        if src[i] == '\\' and i + 1 < len(src):
            e = src[i + 1]
            if e == '\n':
                i += 2
                while i < len(src) and src[i] in ' \t':
                    i += 1
                continue
            if e.isdigit():
                val.append(chr(int(src[i + 1:i + 4])))
                i += 4
                continue
            val.append(ESC.get(e, '\\' + e))
            i += 2
        else:
            val.append(src[i])
            i += 1
    return i + 1, ''.join(val)


def blocks(src):
    """Offsets where top-level definitions start (a 'let' in column 0)."""
    starts = [m.start() for m in re.finditer(r'^let\b', src, re.M)]
    return starts + [len(src)]


def verdict(context):
    return 'reject' if REJECT.search(context) else 'accept'


def matching(toks, k):
    """Index of the token closing the bracket at toks[k]."""
    pairs, depth = {'(': ')', '[': ']', '{': '}'}, 0
    open_, close = toks[k][1], pairs[toks[k][1]]
    for j in range(k, len(toks)):
        if toks[j][0] == 'p' and toks[j][1] == open_:
            depth += 1
        elif toks[j][0] == 'p' and toks[j][1] == close:
            depth -= 1
            if depth == 0:
                return j
    return len(toks) - 1


def list_elements(toks, name, before):
    """The elements of the last 'let NAME = [ ... ]' before token index
    'before', each as (offset, [values]): strings, booleans, other words."""
    for k in range(before - 1, 2, -1):
        if (toks[k][1] == '[' and toks[k - 1][1] == '=' and toks[k - 2][1] == name
                and toks[k - 3][1] == 'let'):
            end, elems, cur, start, depth = matching(toks, k), [], [], None, 0
            for t in toks[k + 1:end]:
                if t[0] == 'p' and t[1] in '([{':
                    depth += 1
                elif t[0] == 'p' and t[1] in ')]}':
                    depth -= 1
                if t[0] == 'p' and t[1] == ';' and depth == 0:
                    elems.append((start, cur))
                    cur, start = [], None
                    continue
                start = t[2] if start is None else start
                if t[0] in ('str', 'id'):
                    cur.append(t[1])
            if cur:
                elems.append((start, cur))
            return elems
    return None


def expand(src, toks, k, lo):
    """The programs of the sprintf template toks[k] inside a List.iter:
    [(element offset, text, verdict or None)], or None when its shape is
    not the one understood here."""
    args = []
    for t in toks[k + 1:]:
        if t[1] == 'in' or t[0] != 'id':
            break
        args.append(t[1])
    it = None
    for j in range(k - 1, 0, -1):
        if toks[j][2] < lo:
            break
        if toks[j][1] == 'iter' and toks[j - 1][1] == '.' and toks[j + 1][1] == '(':
            it = j + 1
            break
    if it is None or toks[it + 1][1] != 'fun':
        return None
    pat, j = [], it + 2
    while toks[j][1] != '-':
        if toks[j][0] == 'id':
            pat.append(toks[j][1])
        j += 1
    close = matching(toks, it)
    # The list: NAME, (NAME), or NAME @ NAME ...
    lists, j = [], close + 1
    while j < len(toks):
        if toks[j][1] == '(':
            j += 1
        if toks[j][0] != 'id':
            break
        lists.append(toks[j][1])
        j += 1
        if toks[j][1] != '@':
            break
        j += 1
    elems = []
    for name in lists:
        e = list_elements(toks, name, it)
        if e is None:
            return None
        elems += e
    template, out = toks[k][1], []
    fmt = re.findall(r'%[sd]', template)
    if len(fmt) != len(args) or not elems:
        return None
    for off, vals in elems:
        if len(vals) != len(pat):
            return None
        env = dict(zip(pat, vals))
        if any(a not in env for a in args):
            return None
        parts = re.split(r'%[sd]', template)
        text = parts[0] + ''.join(env[a] + p for a, p in zip(args, parts[1:]))
        text = text.replace('%%', '%')
        want = None
        for p, v in env.items():
            if BOOL_NAME.search(p) and v in ('true', 'false'):
                want = 'accept' if v == 'true' else 'reject'
        out.append((off, text, want))
    return out


def programs(path):
    """(id, text, verdict) of every program of one test file."""
    src = open(path, encoding='utf-8').read()
    comments = []
    base, toks = os.path.basename(path), tokens(src, comments)
    # The expectation is read from code, not comments: the comment heading
    # the next test ("Test that ... should fail") is not this test's.
    code = list(src)
    for a, b in comments:
        code[a:b] = ' ' * (b - a)
    code = ''.join(code)
    line = lambda off: src.count('\n', 0, off) + 1
    bounds, out = blocks(src), []
    lits = [k for k, t in enumerate(toks) if t[0] == 'str'
            and (PROGRAM.match(t[1]) and '\n' in t[1].strip() or
                 (k >= 2 and toks[k - 1][1] == 'sprintf' and PROGRAM.match(t[1])))]
    for n, k in enumerate(lits):
        t = toks[k]
        lo = max(b for b in bounds if b <= t[2]) if bounds[0] <= t[2] else 0
        hi = min(b for b in bounds if b > t[2])
        nxt = toks[lits[n + 1]][2] if n + 1 < len(lits) else len(src)
        # ... and from the comments inside the definition just before the
        # literal ("Test 2: ... - should fail").
        prev = toks[lits[n - 1]][3] if n else lo
        context = code[t[3]:min(hi, nxt)] + ' '.join(
            src[a:b] for a, b in comments if max(lo, prev) <= a and b <= t[2])
        if toks[k - 1][1] == 'sprintf' and re.search(r'%[sd]', t[1]):
            got = expand(src, toks, k, lo)
            if got is None:
                print(f'{base}:{line(t[2])}: template not expanded', file=sys.stderr)
                continue
            v = verdict(context)
            for off, text, want in got:
                out.append((f'{base}:{line(t[2])}/{line(off)}', text, want or v))
        else:
            out.append((f'{base}:{line(t[2])}', t[1], verdict(context)))
    return out


def main():
    tests, outdir = sys.argv[1], sys.argv[2]
    os.makedirs(outdir, exist_ok=True)
    n, seen = 0, set()
    with open(os.path.join(outdir, 'manifest'), 'w') as man:
        for f in sorted(os.listdir(tests)):
            if not f.endswith('.ml'):
                continue
            for pid, text, want in programs(os.path.join(tests, f)):
                # Elements of one template's list on one line: FILE:L/E#2, ...
                k, base = 1, pid
                while pid in seen:
                    k += 1
                    pid = f'{base}#{k}'
                seen.add(pid)
                n += 1
                d = os.path.join(outdir, str(n))
                os.makedirs(d, exist_ok=True)
                with open(os.path.join(d, 'p.ks'), 'w') as p:
                    p.write(text)
                man.write(f'{pid}\t{want}\t{n}\n')


if __name__ == '__main__':
    main()
