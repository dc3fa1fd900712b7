# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for vfio-bindd(8)                             -*- shell-script -*-
#
# Completes the daemon's options (as vfio-bindd(8) lists them; tests/test-docs.py compares them)
# and the files of --config= and --root=. --validate, --dry-run and --once exclude each other, and
# --root= goes with --dry-run: once one of the three is on the line, the other two are not
# offered, --root= is offered only beside --dry-run and --in-initrd only beside --once. Works
# with or without the bash-completion package.

_vfio_bindd() {
        COMPREPLY=()

        local line=${COMP_LINE:0:COMP_POINT}
        local cur=${line##*[[:space:]]}
        local -a words
        read -ra words <<< "${line:0:${#line}-${#cur}}"
        local prev=''
        ((${#words[@]} > 0)) && prev=${words[${#words[@]}-1]}

        # Files for --config=PATH and --root=PATH: the word is completed whole (bash splits it at
        # '='), so the part up to the '=' is cut off each candidate.
        local opt='' path=$cur f
        case $cur in
                --config=* | --root=*)
                        opt=${cur%%=*}=
                        path=${cur#*=}
                        ;;
                *)
                        case $prev in
                                --config | --root) ;;
                                *) path='' ;;
                        esac
                        ;;
        esac
        if [[ -n $opt || $prev == --config || $prev == --root ]]; then
                local prefix=''
                [[ -n $opt && $COMP_WORDBREAKS == *=* ]] && prefix=$opt
                while IFS= read -r f; do
                        [[ -d $f ]] && f+=/
                        f=$opt$f
                        COMPREPLY+=("${f#"$prefix"}")
                done < <(compgen -f -- "$path")
                compopt -o nospace -o filenames 2>/dev/null
                return 0
        fi

        local mode='' w
        local -a given=()
        for w in "${words[@]:1}"; do
                case $w in
                        --validate | --dry-run | --once) mode=$w ;;
                esac
                given+=("${w%%=*}")
        done

        local -a opts=(--help --version --config=)
        case $mode in
                '') opts+=(--validate --dry-run --once) ;;
                --dry-run) opts+=(--root=) ;;
                --once) opts+=(--in-initrd) ;;
        esac
        local o g seen
        for o in "${opts[@]}"; do
                seen=''
                for g in "${given[@]}"; do
                        [[ $g == "${o%=}" ]] && seen=1
                done
                [[ -z $seen && $o == "$cur"* ]] && COMPREPLY+=("$o")
        done
        if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
                compopt -o nospace 2>/dev/null
        fi
        return 0
}

complete -F _vfio_bindd vfio-bindd
