#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# The include graph of the library (or of another directory of C): one line per module (a file
# stem: lib/pci.c and lib/pci.h are the module "pci"), "module -> the modules it includes", from
# the #include "…" lines of DIR/*.c and DIR/*.h. Headers that are not in DIR (vb-config.h, built
# by meson; lib's headers seen from cli/) are left out. Then every cycle, one line each; the exit
# status is 1 if there is one.
#
#     tools/include-graph.sh [DIR]          the graph of DIR (default lib), then the cycles
#     tools/include-graph.sh --dot [DIR]    the graph for Graphviz (dot -Tsvg)
set -eu
cd "$(dirname "$0")/.."

format="text"
if [ "${1:-}" = "--dot" ]; then
        format="dot"
        shift
fi
dir=${1:-lib}
if [ $# -gt 1 ] || [ ! -d "$dir" ] || [ "${dir#-}" != "$dir" ]; then
        echo "usage: tools/include-graph.sh [--dot] [DIR]" >&2
        exit 2
fi
dir=${dir%/}

# "module dependency" pairs, without duplicates and self-edges.
edges=$(for f in "$dir"/*.c "$dir"/*.h; do
        m=$(basename "$f")
        m=${m%.*}
        sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)\.h".*/\1/p' "$f" |
                while read -r d; do
                        d=$(basename "$d")
                        if [ "$d" != "$m" ] && { [ -e "$dir/$d.h" ] || [ -e "$dir/$d.c" ]; }; then
                                echo "$m $d"
                        fi
                done
done | sort -u)
modules=$(for f in "$dir"/*.c "$dir"/*.h; do b=$(basename "$f"); echo "${b%.*}"; done | sort -u)

printf '%s\n--\n%s\n' "$modules" "$edges" | awk -v format="$format" -v dir="$dir" '
$0 == "--" { in_edges = 1; next }
!in_edges { order[++n] = $1; next }
{ deps[$1] = deps[$1] " " $2; m = $1; ndeps[m]++; dep[m, ndeps[m]] = $2 }

# Depth-first search; a dependency that is on the current path closes a cycle.
function visit(m,    i, d, k, s) {
        state[m] = 1
        path[++depth] = m
        for (i = 1; i <= ndeps[m]; i++) {
                d = dep[m, i]
                if (state[d] == 1) {
                        for (k = 1; path[k] != d; k++)
                                ;
                        s = path[k]
                        for (k++; k <= depth; k++)
                                s = s " -> " path[k]
                        cycles[++ncycles] = s " -> " d
                } else if (!state[d])
                        visit(d)
        }
        depth--
        state[m] = 2
}

END {
        if (format == "dot") {
                printf "digraph \"%s\" {\n", dir
                for (i = 1; i <= n; i++) {
                        m = order[i]
                        for (j = 1; j <= ndeps[m]; j++)
                                printf "        \"%s\" -> \"%s\";\n", m, dep[m, j]
                        if (!ndeps[m])
                                printf "        \"%s\";\n", m
                }
                print "}"
        } else
                for (i = 1; i <= n; i++)
                        printf "%-20s ->%s\n", order[i], deps[order[i]]
        for (i = 1; i <= n; i++)
                if (!state[order[i]])
                        visit(order[i])
        for (i = 1; i <= ncycles; i++)
                printf "cycle: %s\n", cycles[i] > "/dev/stderr"
        if (ncycles) {
                printf "%d include cycle(s) in %s/\n", ncycles, dir > "/dev/stderr"
                exit 1
        }
        if (format != "dot")
                print "no cycle"
}'
