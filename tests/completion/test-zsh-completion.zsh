#!/usr/bin/env zsh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Runs the zsh completion of vfio-bind in a real interactive zsh on a pseudo-terminal (zsh/zpty):
# types a command line, presses TAB, and records every match that the completion offers by
# wrapping compadd. PCI devices and drivers come from a fake sysfs tree built here.
#
# Usage: test-zsh-completion.zsh [DIRECTORY/HOLDING/_vfio-bind]

emulate -L zsh
setopt no_unset pipe_fail

dir=${1:-${0:A:h}/../../completions}
dir=${dir:A}
if [[ ! -r $dir/_vfio-bind ]]; then
        print -u2 "cannot read $dir/_vfio-bind"
        exit 1
fi

tmp=$(mktemp -d)
trap 'zpty -d z 2>/dev/null; rm -rf $tmp' EXIT

# a host bridge, a GPU, a GPU and its audio function, a PCIe root port (bridge), an NVMe drive;
# 0000:0f:00.2 has no class file (a device the completion cannot classify is offered)
for a in 0000:00:00.0/0x060000 0000:00:02.0/0x030000 0000:0f:00.0/0x030000 0000:0f:00.1/0x040300 \
        0000:0f:00.2/ 0001:00:00.0/0x060400 10000:e1:00.0/0x010802; do
        class=${a#*/} a=${a%/*}
        mkdir -p $tmp/sys/devices/pci/$a $tmp/sys/bus/pci/devices
        [[ -n $class ]] && print $class > $tmp/sys/devices/pci/$a/class
        ln -s ../../../devices/pci/$a $tmp/sys/bus/pci/devices/$a
done
for d in pcieport pci-stub snd_hda_intel vfio-pci; do
        mkdir -p $tmp/sys/bus/pci/drivers/$d
done
# passed through, what release offers: 0000:0f:00.0 on vfio-pci, 0000:0f:00.2 with its override
# and no driver; 0000:0f:00.1 on snd_hda_intel and the rest with "(null)" as the kernel shows it
ln -s ../../../bus/pci/drivers/vfio-pci $tmp/sys/devices/pci/0000:0f:00.0/driver
ln -s ../../../bus/pci/drivers/snd_hda_intel $tmp/sys/devices/pci/0000:0f:00.1/driver
for a in 0000:00:02.0 0000:0f:00.0 0000:0f:00.1 0000:0f:00.2 10000:e1:00.0; do
        print '(null)' > $tmp/sys/devices/pci/$a/driver_override
done
print vfio-pci > $tmp/sys/devices/pci/0000:0f:00.2/driver_override
mkdir -p $tmp/etc/vfio-bind.conf.d
touch $tmp/etc/vfio-bind.conf $tmp/etc/other.conf

zmodload zsh/zpty
out=$tmp/matches
zpty z zsh -f -i
zpty -w z "PS1='> '; fpath=(${(q)dir} \$fpath); autoload -U compinit; compinit -u -D"
zpty -w z "_vfio_bind_sysfs=${(q)tmp}/sys"
# Every match offered goes to $out, then on to the real compadd.
zpty -w z 'compadd() { local -a m; builtin compadd -O m "$@"; print -rl -- $m >> '${(q)out}'; builtin compadd "$@"; }'
# ^T completes, then prints a marker once the completion has returned.
zpty -w z 'integer done_n=0; t-complete() { zle complete-word; done_n+=1; print -n "<DONE-$done_n>"; }'
zpty -w z 'zle -N t-complete; bindkey "^T" t-complete'

integer passed=0 failed=0 n=0

# offered LINE : press TAB at the end of LINE; set $reply to the distinct matches offered.
offered() {
        local x
        : >| $out
        n+=1
        zpty -w -n z "$1"$'\x14'
        zpty -r z x "*<DONE-$n>*"
        zpty -w -n z $'\x15'            # ^U: clear the line
        zpty -w z "print SYNC-$n"
        zpty -r z x "*SYNC-$n*SYNC-$n*"
        reply=( ${(u)${(f)"$(<$out)"}} )
}

result() {
        local ok=$1 line=$2 want=$3
        if (( ok )); then
                passed+=1
                print -r -- "ok - '$line'"
        else
                failed+=1
                print -r -- "not ok - '$line'"
                print -r -- "#   expected: $want"
                local -a got=( ${(o)reply} )
                print -r -- "#   got:      ${(j: :)got}"
        fi
}

# exactly LINE WORD... : the matches are exactly the WORDs.
exactly() {
        local line=$1 ok=0
        shift
        local -a want=( ${(o)@} ) got
        offered $line
        got=( ${(o)reply} )
        [[ ${(j: :)got} == ${(j: :)want} ]] && ok=1
        result $ok $line "${(j: :)want}"
}

# includes LINE WORD... : every WORD is among the matches.
includes() {
        local line=$1 w ok=1
        shift
        offered $line
        for w in $@; do
                (( ${reply[(Ie)$w]} )) || ok=0
        done
        result $ok $line "${(oj: :)@} (among others)"
}

exactly 'vfio-bind ' groups status check bind release dump
exactly 'vfio-bind st' status
exactly 'vfio-bind --v' --version
exactly 'vfio-bind status --' --help --json --config --root
exactly 'vfio-bind check --' --help --config --root
exactly 'vfio-bind groups --' --help --config --root
exactly 'vfio-bind bind 0f:00.0 --' --help --dry-run --take-group --force --release-console --driver --config
exactly 'vfio-bind release 0f:00.0 --' --help --dry-run --take-group --force
# bridges (the host bridge 0000:00:00.0, the root port 0001:00:00.0) are never offered
exactly 'vfio-bind bind ' 0000:00:02.0 0000:0f:00.0 0000:0f:00.1 0000:0f:00.2 10000:e1:00.0
exactly 'vfio-bind release ' 0000:0f:00.0 0000:0f:00.2
exactly 'vfio-bind release 0000:0f:' 0000:0f:00.0 0000:0f:00.2
exactly 'vfio-bind bind 0f:' 0f:00.0 0f:00.1 0f:00.2
exactly 'vfio-bind bind 1000' 10000:e1:00.0
exactly 'vfio-bind release 10000:e1:'
exactly 'vfio-bind bind 10000:e1:' 10000:e1:00.0
exactly 'vfio-bind bind 0f:00.0 --driver=' pcieport pci-stub snd_hda_intel vfio-pci
exactly 'vfio-bind bind 0f:00.0 --driver=vf' vfio-pci
exactly 'vfio-bind bind 0f:00.0 --driver s' snd_hda_intel
includes "vfio-bind check --config=$tmp/etc/o" other.conf
includes "vfio-bind status --config $tmp/etc/vfio" vfio-bind.conf vfio-bind.conf.d

# vfio-bindd: its options; the three modes exclude each other, --root only beside --dry-run,
# --in-initrd not beside --validate, --dry-run or --root
exactly 'vfio-bindd --' --help --version --config --validate --dry-run --once --in-initrd --root
exactly 'vfio-bindd --validate --' --help --version --config
exactly 'vfio-bindd --dry-run --' --help --version --config --root
exactly 'vfio-bindd --once --' --help --version --config --in-initrd
includes "vfio-bindd --config=$tmp/etc/o" other.conf

print "$passed passed, $failed failed"
(( failed == 0 ))
