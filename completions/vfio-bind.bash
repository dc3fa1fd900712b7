# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for vfio-bind(1)                              -*- shell-script -*-
#
# Completes verbs, options (each verb's as vfio-bind(1) lists them; tests/test-docs.py compares
# them), the PCI addresses present in /sys/bus/pci/devices but bridges (for release, only those
# passed through), and the driver names in /sys/bus/pci/drivers. Works with or without the
# bash-completion package.
#
# PCI addresses contain ':' and options contain '=', both of which bash treats as word breaks
# (COMP_WORDBREAKS). So the word being completed is taken from COMP_LINE, candidates are matched
# against the whole of it, and the part bash already counts as an earlier word is cut off each
# candidate before it goes into COMPREPLY.
#
# _vfio_bind_sysfs may be set to another sysfs root (the tests use a fake tree).

_vfio_bind_verbs="groups status check bind release dump"

# Print the names of the entries of a sysfs directory, one a line.
_vfio_bind_ls() {
        local entry
        for entry in "${_vfio_bind_sysfs:-/sys}/$1"/*; do
                [[ -e $entry || -L $entry ]] && printf '%s\n' "${entry##*/}"
        done
}

# PCI addresses present, bridges left out (base class 0x06: vfio-bind never binds one). The CLI
# also takes the short form 0f:00.0 for domain 0000: it is offered once the word typed cannot be
# the start of a full 0000: address.
_vfio_bind_addresses() {
        local cur=$1 passed=${2:-} a class
        while IFS= read -r a; do
                class=''
                read -r class 2>/dev/null < "${_vfio_bind_sysfs:-/sys}/bus/pci/devices/$a/class"
                [[ $class == 0x06* ]] && continue
                [[ -n $passed ]] && ! _vfio_bind_passed_through "$a" && continue
                printf '%s\n' "$a"
                if [[ -n $cur && 0000: != "$cur"* && $a == 0000:* ]]; then
                        printf '%s\n' "${a#0000:}"
                fi
        done < <(_vfio_bind_ls bus/pci/devices)
}

# _vfio_bind_passed_through ADDRESS: the device is on a VFIO driver (vfio-pci, or a variant such
# as mlx5_vfio_pci) or carries a VFIO driver_override; release refuses any other.
_vfio_bind_passed_through() {
        local dev=${_vfio_bind_sysfs:-/sys}/bus/pci/devices/$1 driver='' override='' n
        driver=$(readlink "$dev/driver" 2>/dev/null)
        read -r override 2>/dev/null < "$dev/driver_override"
        for n in "${driver##*/}" "$override"; do
                [[ $n == vfio* || $n == *_vfio_pci* || $n == *-vfio-pci* ]] && return 0
        done
        return 1
}

_vfio_bind_drivers() {
        _vfio_bind_ls bus/pci/drivers
}

# _vfio_bind_reply CUR CANDIDATE... : fill COMPREPLY with the candidates that start with CUR,
# minus the prefix of CUR that bash has already split off as earlier words.
_vfio_bind_reply() {
        local cur=$1 prefix='' c i
        shift
        for ((i = ${#cur} - 1; i >= 0; i--)); do
                if [[ $COMP_WORDBREAKS == *"${cur:i:1}"* ]]; then
                        prefix=${cur:0:i+1}
                        break
                fi
        done
        for c in "$@"; do
                [[ $c == "$cur"* ]] && COMPREPLY+=("${c#"$prefix"}")
        done
}

# Files for --config=PATH (CUR is the path typed so far, OPT what precedes it in the word).
_vfio_bind_files() {
        local opt=$1 cur=$2 f
        local -a files=()
        while IFS= read -r f; do
                [[ -d $f ]] && f+=/
                files+=("$opt$f")
        done < <(compgen -f -- "$cur")
        compopt -o nospace -o filenames 2>/dev/null
        _vfio_bind_reply "$opt$cur" "${files[@]}"
}

_vfio_bind() {
        COMPREPLY=()

        local line=${COMP_LINE:0:COMP_POINT}
        local cur=${line##*[[:space:]]}
        local -a words
        read -ra words <<< "${line:0:${#line}-${#cur}}"

        local prev=''
        ((${#words[@]} > 0)) && prev=${words[${#words[@]}-1]}
        local verb='' w skip=''
        local -i positionals=0
        for w in "${words[@]:1}"; do
                if [[ -n $skip ]]; then
                        skip=''
                        continue
                fi
                case $w in
                        --config | --driver | --root) skip=1 ;; # their value is the next word
                        -*) ;;
                        *)
                                if [[ -z $verb ]]; then
                                        verb=$w
                                else
                                        positionals+=1
                                fi
                                ;;
                esac
        done

        local -a drivers
        case $prev in
                --config | --root)
                        _vfio_bind_files '' "$cur"
                        return 0
                        ;;
                --driver)
                        mapfile -t drivers < <(_vfio_bind_drivers)
                        _vfio_bind_reply "$cur" "${drivers[@]}"
                        return 0
                        ;;
        esac

        case $cur in
                --config=*)
                        _vfio_bind_files --config= "${cur#--config=}"
                        return 0
                        ;;
                --root=*)
                        _vfio_bind_files --root= "${cur#--root=}"
                        return 0
                        ;;
                --driver=*)
                        mapfile -t drivers < <(_vfio_bind_drivers)
                        _vfio_bind_reply "$cur" "${drivers[@]/#/--driver=}"
                        return 0
                        ;;
        esac

        local opts
        case $verb in
                '')      opts='--help --version --root=' ;;
                groups)  opts='--help --config= --root=' ;;
                status)  opts='--help --json --config= --root=' ;;
                check)   opts='--help --config= --root=' ;;
                dump)    opts='--help --config= --root=' ;;
                bind)    opts='--help --dry-run --take-group --force --release-console --driver= --config=' ;;
                release) opts='--help --dry-run --take-group --force' ;;
                *)       return 0 ;;
        esac

        if [[ $cur == -* ]]; then
                _vfio_bind_reply "$cur" $opts
                if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
                        compopt -o nospace 2>/dev/null
                fi
                return 0
        fi

        case $verb in
                '')
                        _vfio_bind_reply "$cur" $_vfio_bind_verbs
                        ;;
                dump)
                        ((positionals == 0)) && _vfio_bind_files '' "$cur"
                        ;;
                bind | release)
                        if ((positionals == 0)); then
                                local -a addresses
                                local passed=''
                                # release: only what is passed through (it refuses the rest)
                                [[ $verb == release ]] && passed=1
                                mapfile -t addresses < <(_vfio_bind_addresses "$cur" "$passed")
                                _vfio_bind_reply "$cur" "${addresses[@]}"
                        fi
                        ;;
        esac
        return 0
}

complete -F _vfio_bind vfio-bind
