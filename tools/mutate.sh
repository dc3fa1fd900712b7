#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Mutation run: how many deliberate one-line bugs the unit suite catches.
#
#   tools/mutate.sh                      every mutant of tools/mutants.txt
#   tools/mutate.sh 3 7                  only mutants 3 and 7 (numbered as printed): their lines in
#                                        the last run's mutate.txt are replaced, the score recounted
#   tools/mutate.sh --generate --seed 1 --sample 300 [--minutes 100] [3 7]
#                                        mutants made mechanically, not chosen: a seeded sample of
#                                        every one-line mutant tools/mutate-generate.py makes over
#                                        lib/, daemon/ and cli/ (operators flipped, ! removed, early
#                                        returns dropped, sysfs writes dropped, constants off by
#                                        one), run as the hand list is; results in
#                                        mutate-generated.txt. --minutes: start no mutant after
#                                        that long (the ones run are still the seeded sample of
#                                        their number: the sample is drawn in rank order)
#   tools/mutate.sh --generate --recount the last generated run counted again against
#                                        tools/mutants-equivalent.txt (no build, no mutant run)
#   VB_MUTATE_DIR=/tmp/m tools/mutate.sh where the scratch copy lives (default .mutate/ here)
#
# The working tree is never changed: its files (as they are now, committed or not) are copied
# into a scratch directory, built there once (plain debug build, no sanitizers: faster), and each
# mutant is applied to that copy, built, run against the unit suite (meson test --suite unit,
# stopping at the first failure) and undone. A mutant is "killed" when the suite fails, "survived"
# when it passes, "build-failed" when it does not compile (left out of the score), "invalid" when
# its pattern does not occur on exactly one line. Prints one line per mutant, then the kill rate;
# writes the same to $dir/mutate.txt (bench/faults.sh reads it). Exit 0 whatever the score (this
# is a measure, not a gate), 1 if the scratch build or an unmutated suite fails.
#
# tools/mutants.txt: FILE<TAB>PATTERN<TAB>REPLACEMENT<TAB>WHAT, PATTERN a fixed string. FILE may
# be FILE:LINE (the generated mutants are): PATTERN is then looked for on that line only.
# A survivor named in tools/mutants-equivalent.txt (FILE<TAB>PATTERN<TAB>REPLACEMENT<TAB>WHY, the
# generated ones by FILE:LINE and their lines without the indentation) is "equivalent": no test
# can tell it from the original, it is counted apart and left out of the score. It takes a minute
# or more per surviving mutant (the whole suite runs): run it niced on a shared machine.
set -uo pipefail
cd "$(dirname "$0")/.."
top=$PWD
dir=${VB_MUTATE_DIR:-$top/.mutate}
list=$top/tools/mutants.txt
tree=$dir/tree
build=$dir/build
out=$dir/mutate.txt

generate=0 seed=1 sample=300 minutes=0 recount=0
args=()
while [ $# -gt 0 ]; do
        case $1 in
        --generate) generate=1 ;;
        --seed) seed=${2:?--seed N}; shift ;;
        --sample) sample=${2:?--sample K}; shift ;;
        --minutes) minutes=${2:?--minutes M}; shift ;;
        --recount) recount=1 ;;
        [0-9]*) args+=("$1") ;;
        *) echo "tools/mutate.sh: unknown argument $1" >&2; exit 2 ;;
        esac
        shift
done
set -- "${args[@]}"
if [ "$generate" = 1 ]; then
        list=$dir/generated.list
        out=$dir/mutate-generated.txt
fi

trim() { local t=${1#"${1%%[![:space:]]*}"}; printf '%s' "${t%"${t##*[![:space:]]}"}"; }
declare -A equivalent=()
while IFS=$'\t' read -r file pattern replacement why; do
        [[ -z "$file" || "$file" == \#* ]] && continue
        equivalent["$file"$'\t'$(trim "$pattern")$'\t'$(trim "$replacement")]=$why
done <"$top/tools/mutants-equivalent.txt"

if [ "$recount" = 1 ] && { [ ! -f "$out" ] || [ ! -f "$list" ]; }; then
        echo "tools/mutate.sh: nothing to recount in $dir" >&2
        exit 1
fi
run_suite() {
        meson test -C "$build" --suite unit --maxfail 1 --no-stdsplit -q >"$dir/test.log" 2>&1
}
if [ "$recount" = 0 ]; then
        mkdir -p "$dir"
        rm -rf "$tree"
        mkdir -p "$tree"
        # The tracked files and the new ones not ignored, as they are in the working tree now.
        git ls-files -z --cached --others --exclude-standard | tar -C "$top" --null -T - -cf - | tar -C "$tree" -xf -

        if [ ! -f "$build/build.ninja" ]; then
                meson setup "$build" "$tree" -Dvm-tests=disabled -Dman-pages=disabled -Dbench=false >"$dir/setup.log" 2>&1 ||
                        { cat "$dir/setup.log"; exit 1; }
        fi
        ninja -C "$build" >"$dir/build.log" 2>&1 || { tail -n 30 "$dir/build.log"; exit 1; }
        if [ "$generate" = 1 ]; then
                # Drawn from the scratch copy: the same sources the mutants are applied to.
                python3 "$top/tools/mutate-generate.py" "$tree" "$seed" "$sample" >"$list" 2>"$dir/generate.log" ||
                        { cat "$dir/generate.log"; exit 1; }
                cat "$dir/generate.log"
        fi
        if ! run_suite; then
                echo "tools/mutate.sh: the unit suite fails without any mutant; see $dir/test.log" >&2
                exit 1
        fi
fi

selected=" $* "
n=0
started=$SECONDS cut=0
declare -A lines=() keys=()
if { [ $# -gt 0 ] || [ "$recount" = 1 ]; } && [ -f "$out" ]; then
        # Only some mutants (or none): keep the others' results of the last run.
        while IFS= read -r l; do
                [[ "$l" =~ ^\ *([0-9]+)\  ]] && lines[${BASH_REMATCH[1]}]=$l
        done <"$out"
fi
while IFS=$'\t' read -r file pattern replacement what; do
        [[ -z "$file" || "$file" == \#* ]] && continue
        n=$((n + 1))
        # FILE:LINE: the pattern on that line only (0: anywhere, on exactly one line)
        at=0
        [[ "$file" =~ ^(.*):([0-9]+)$ ]] && at=${BASH_REMATCH[2]}
        # What tools/mutants-equivalent.txt names it by (a generated one with its line)
        keys[$n]=$file$'\t'$(trim "$pattern")$'\t'$(trim "$replacement")
        [ "$recount" = 1 ] && continue
        [ $# -gt 0 ] && [[ "$selected" != *" $n "* ]] && continue
        if [ "$minutes" != 0 ] && [ $((SECONDS - started)) -ge $((minutes * 60)) ]; then
                cut=1
                break
        fi
        target=$tree/${file%:"$at"}
        if [ "$at" != 0 ]; then
                count=$(sed -n "${at}p" "$target" 2>/dev/null | grep -cF -- "$pattern" || true)
        else
                count=$(grep -cF -- "$pattern" "$target" 2>/dev/null || true)
        fi
        if [ "$count" != 1 ]; then
                result=invalid
        else
                cp "$target" "$dir/original"
                # The one line, the pattern replaced literally (perl's \Q…\E quotes it).
                P=$pattern R=$replacement AT=$at perl -pi -e 'BEGIN { $p = $ENV{P}; $r = $ENV{R}; $at = $ENV{AT} }
                        s/\Q$p\E/$r/ if $at == 0 || $. == $at' "$target"
                if ! ninja -C "$build" >"$dir/build.log" 2>&1; then
                        result=build-failed
                elif run_suite; then
                        result=survived
                else
                        result=killed
                        failed=$(grep -m1 -oE '[^ ]+ +FAIL' "$dir/test.log" | awk '{print $1}')
                        [ -n "$failed" ] && result="killed by $failed"
                fi
                cp "$dir/original" "$target"
                # The restored file must be rebuilt before the next mutant (mtime moved forward).
                touch "$target"
        fi
        lines[$n]=$(printf '%2d %-24s %s: %s' "$n" "$result" "$file" "$what")
        [ "$generate" = 1 ] && lines[$n]+=$'\t'$(trim "$replacement")
        printf '%s\n' "${lines[$n]}"
done <"$list"
[ "$recount" = 1 ] || ninja -C "$build" >/dev/null 2>&1

killed=0 survived=0 equivalents=0 broken=0 invalid=0
header=$(grep -m1 '^generated:' "$out" 2>/dev/null)
: >"$out"
if [ "$generate" = 1 ] && [ "$recount" = 1 ]; then
        printf '%s\n' "$header" | sed -E "s/; [0-9]+ run/; ${#lines[@]} run/" | tee -a "$out"
elif [ "$generate" = 1 ]; then
        # The sample as drawn: a run of these lines with the same seed draws the same mutants.
        printf 'generated: %s; %d run (%s)\n' "$(tail -n 1 "$dir/generate.log")" "${#lines[@]}" \
                "$([ "$cut" = 1 ] && echo "cut short after $minutes minutes: the first of the draw" || echo "all drawn")" |
                tee -a "$out"
fi
for i in $(printf '%s\n' "${!lines[@]}" | sort -n); do
        l=${lines[$i]}
        # A survivor is equivalent if tools/mutants-equivalent.txt names it now.
        if [[ "$l" =~ ^(\ *[0-9]+\ )(survived|equivalent)\ +(.*)$ ]]; then
                st=survived
                [ -n "${keys[$i]:-}" ] && [ -n "${equivalent[${keys[$i]}]+set}" ] && st=equivalent
                l=${BASH_REMATCH[1]}$(printf '%-24s %s' "$st" "${BASH_REMATCH[3]}")
        fi
        printf '%s\n' "$l" >>"$out"
        case $(awk '{print $2}' <<<"$l") in
        killed) killed=$((killed + 1)) ;;
        survived) survived=$((survived + 1)) ;;
        equivalent) equivalents=$((equivalents + 1)) ;;
        build-failed) broken=$((broken + 1)) ;;
        *) invalid=$((invalid + 1)) ;;
        esac
done

scored=$((killed + survived))
eq_text=
[ "$generate" = 1 ] || [ "$equivalents" -gt 0 ] && eq_text=", $equivalents equivalent"
if [ "$scored" -gt 0 ]; then
        printf 'mutation score: %d of %d killed (%d%%), %d survived%s, %d did not build, %d invalid\n' "$killed" \
                "$scored" $((100 * killed / scored)) "$survived" "$eq_text" "$broken" "$invalid" | tee -a "$out"
else
        echo "mutation score: no mutant was run" | tee -a "$out"
fi
exit 0
