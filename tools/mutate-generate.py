#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# The mutants of tools/mutate.sh --generate: one-line bugs made mechanically, not chosen.
#
#   tools/mutate-generate.py TOP SEED SAMPLE [FILE...]
#
# Reads the .c files of lib/, daemon/ and cli/ under TOP (or the FILEs given, relative to TOP) and
# prints, in tools/mutants.txt's format, SAMPLE mutants (0: all of them) drawn from every mutant
# the rules below make:
#
#   FILE:LINE<TAB>THE LINE<TAB>THE LINE MUTATED<TAB>KIND: WHAT CHANGED
#
# Rules, each applied to every place it fits (one mutant a place):
#   rel    a relational operator flipped: < <=, <= <, > >=, >= >
#   eq     == to != and != to ==
#   logic  && to || and || to &&
#   not    a unary ! removed
#   ret    an early return or goto dropped (replaced by ";"): a `return …;` or `goto …;` that is
#          the body of an if/else on the same line, or nested deeper than a function's top level
#   write  a call of a sysfs write function (vb_sysfs_write, vb_context_write_attr, the files'
#          write_attr/write_device_attr wrappers and the ops' ->write_attr) replaced by 0
#   const  an integer constant off by one (0 to 1, any other n to n-1; not a declaration's array
#          size, where a buffer one shorter is a mutant no test sees unless it overflows)
# Comments, string and character literals, preprocessor lines (with their continuations) and
# lines with assert() are left alone, as are lines that hold a TAB (the list's separator).
#
# The sample is deterministic given the seed and the sources: every mutant is ranked by the
# SHA-256 of "SEED<TAB>FILE<TAB>LINE<TAB>MUTATED LINE" and the SAMPLE lowest ranks are taken, so a
# mutant's draw does not depend on the others (an edit elsewhere does not reshuffle the sample).
# Printed in that order, so the first N of a sample of K are the sample of N with the same seed
# (a run cut short by tools/mutate.sh --minutes is still a seeded sample).
import hashlib
import os
import re
import sys

WRITE_CALLS = re.compile(r"(?:\b|->)(vb_sysfs_write|vb_context_write_attr|write_attr|write_device_attr)\s*\(")
INT_CONST = re.compile(r"(?<![\w.])(0[xX][0-9a-fA-F]+|[0-9]+)([uUlL]*)(?![\w.])")


def mask(lines):
    """Each line with comments and string/char literals blanked out (same length), and whether
    the line is to be skipped whole (preprocessor, continuation, assert)."""
    out = []
    in_comment = False
    continued = False
    for line in lines:
        skip = continued
        stripped = line.lstrip()
        if not in_comment and stripped.startswith("#"):
            skip = True
        continued = skip and line.rstrip("\n").endswith("\\")
        m = []
        i = 0
        n = len(line)
        while i < n:
            c = line[i]
            if in_comment:
                if line.startswith("*/", i):
                    in_comment = False
                    m.append("  ")
                    i += 2
                else:
                    m.append(" ")
                    i += 1
                continue
            if line.startswith("/*", i):
                in_comment = True
                m.append("  ")
                i += 2
                continue
            if line.startswith("//", i):
                m.append(" " * (n - i))
                break
            if c in "\"'":
                q = c
                m.append(" ")
                i += 1
                while i < n and line[i] != q:
                    if line[i] == "\\":
                        m.append(" ")
                        i += 1
                    if i < n:
                        m.append(" ")
                        i += 1
                m.append(" ")
                i += 1
                continue
            m.append(c)
            i += 1
        masked = "".join(m)[:n]
        if re.search(r"\b(assert|static_assert|_Static_assert|assert_cc)\s*\(", masked):
            skip = True
        out.append((masked, skip))
    return out


def balanced_end(code, start):
    """The index after the ')' closing the '(' at START in CODE, or -1."""
    depth = 0
    for i in range(start, len(code)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            depth -= 1
            if depth == 0:
                return i + 1
    return -1


def mutants_of_line(line, code, prev_code):
    """(kind, what, mutated line) for one line; CODE is the masked line."""
    res = []

    def sub(start, end, new, kind, what):
        res.append((kind, what, line[:start] + new + line[end:]))

    # Relational and equality operators; && and ||; unary !.
    i = 0
    n = len(code)
    while i < n:
        two = code[i:i + 2]
        three = code[i:i + 3]
        if three in ("<<=", ">>="):
            i += 3
            continue
        if two in ("<<", ">>", "->"):
            i += 2
            continue
        if two == "<=":
            sub(i, i + 2, "<", "rel", "<= to <")
            i += 2
        elif two == ">=":
            sub(i, i + 2, ">", "rel", ">= to >")
            i += 2
        elif two == "==":
            sub(i, i + 2, "!=", "eq", "== to !=")
            i += 2
        elif two == "!=":
            sub(i, i + 2, "==", "eq", "!= to ==")
            i += 2
        elif two == "&&":
            sub(i, i + 2, "||", "logic", "&& to ||")
            i += 2
        elif two == "||":
            sub(i, i + 2, "&&", "logic", "|| to &&")
            i += 2
        elif code[i] == "<":
            sub(i, i + 1, "<=", "rel", "< to <=")
            i += 1
        elif code[i] == ">":
            sub(i, i + 1, ">=", "rel", "> to >=")
            i += 1
        elif code[i] == "!":
            sub(i, i + 1, "", "not", "! removed")
            i += 1
        else:
            i += 1

    # An early return or goto: the body of an if/else on its line, or nested below a function's
    # top level (clang-format indents by 8: a function's statements start at column 8).
    m = re.match(r"^( *)((?:return\b[^;]*|goto\s+\w+);)\s*$", code.rstrip("\n"))
    if m:
        indent = len(m.group(1))
        after_if = re.match(r"^\s*(?:\}\s*)?(?:else\b|if\b|else\s+if\b|for\b|while\b)", prev_code) and \
            not prev_code.rstrip().endswith(("{", ";", "}"))
        if indent > 8 or after_if:
            sub(m.start(2), m.end(2), ";", "ret", "%s dropped" % m.group(2).split()[0].rstrip(";"))
    else:
        m = re.search(r"\b(?:if\s*\(.*\)|else)\s+((?:return\b[^;]*|goto\s+\w+);)\s*$", code.rstrip("\n"))
        if m:
            sub(m.start(1), m.end(1), ";", "ret", "%s dropped" % m.group(1).split()[0].rstrip(";"))

    # A write call dropped: not its definition (those start at column 0).
    if code[:1] not in ("", " ") or not code.strip():
        pass
    else:
        for m in WRITE_CALLS.finditer(code):
            start = m.start(1)
            if code[m.start():m.start() + 2] == "->":
                # the whole member access: from the start of the operand (t->inner->write_attr)
                k = m.start()
                while k > 0 and (code[k - 1].isalnum() or code[k - 1] in "_>-"):
                    k -= 1
                start = k
            end = balanced_end(code, m.end() - 1)
            if end < 0:
                continue  # the call goes on on the next line
            sub(start, end, "0", "write", "%s() dropped" % m.group(1))

    # Integer constants off by one.
    for m in INT_CONST.finditer(code):
        text, suffix = m.group(1), m.group(2)
        if code[m.start() - 1:m.start()] == "[" and code[m.end():m.end() + 1] == "]" and \
                re.match(r"^\s*(?:static\s+|const\s+)*[\w ]+\s\**\w+\[", code):
            continue
        value = int(text, 16) if text[:2] in ("0x", "0X") else int(text, 8) if len(text) > 1 and text[0] == "0" else int(text)
        for new in (value + 1 if value == 0 else value - 1,):
            if text[:2] in ("0x", "0X"):
                s = "0x%x" % new
            elif len(text) > 1 and text[0] == "0":
                s = "0%o" % new
            else:
                s = "%d" % new
            sub(m.start(1), m.end(1), s, "const", "%s to %s" % (text, s))
    return res


def generate(top, files):
    for f in files:
        with open(os.path.join(top, f)) as fh:
            lines = fh.read().split("\n")
        masked = mask(lines)
        prev = ""
        for no, (line, (code, skip)) in enumerate(zip(lines, masked), 1):
            if skip or "\t" in line or not code.strip():
                if code.strip():
                    prev = code
                continue
            for kind, what, mutated in mutants_of_line(line, code, prev):
                if mutated != line:
                    yield f, no, line, mutated, kind, what
            prev = code


def main():
    top, seed, sample = sys.argv[1], sys.argv[2], int(sys.argv[3])
    files = sys.argv[4:]
    if not files:
        files = sorted(os.path.join(d, n) for d in ("lib", "daemon", "cli")
                       for n in os.listdir(os.path.join(top, d)) if n.endswith(".c"))
    every = list(generate(top, files))

    def rank(m):
        return hashlib.sha256(("%s\t%s\t%d\t%s" % (seed, m[0], m[1], m[3])).encode()).hexdigest()

    chosen = sorted(every, key=rank)
    if sample > 0:
        chosen = chosen[:sample]
    kinds = {}
    for m in every:
        kinds[m[4]] = kinds.get(m[4], 0) + 1
    sys.stderr.write("%d mutants in %d files (%s); %d drawn with seed %s\n" % (
        len(every), len(files), ", ".join("%s %d" % kv for kv in sorted(kinds.items())), len(chosen), seed))
    for f, no, line, mutated, kind, what in chosen:
        print("%s:%d\t%s\t%s\t%s: %s" % (f, no, line, mutated, kind, what))


if __name__ == "__main__":
    main()
