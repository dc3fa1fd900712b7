# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): SR-IOV (scenarios 25-26): marks in the kernel log and what the kprobes of SRIOV_KPROBES logged
# mark TEXT: "vm-test: TEXT" into the kernel log; MARK_MS = the uptime then
# shellcheck disable=SC2034
MARK_TEXT='' MARK_MS=0
mark() {
        MARK_TEXT="vm-test: $1"
        printf '%s\n' "$MARK_TEXT" >/dev/kmsg
        MARK_MS=$(uptime_ms)
}

# klog_from_mark: REPLY = index of the first kernel log line after the last mark (reloads KLOG)
klog_from_mark() {
        load_klog
        klog_find "*$MARK_TEXT" || { WHY="the mark \"$MARK_TEXT\" is not in the kernel log"; return 1; }
        REPLY=$((REPLY + 1))
}

# klog_count PATTERN [FROM]: REPLY = how many kernel log lines (from FROM on) match PATTERN
klog_count() {
        local n=0 from=${2:-0}
        while klog_find "$1" "$from"; do
                n=$((n + 1))
                from=$((REPLY + 1))
        done
        REPLY=$n
}

# attr_is ADDR ATTR VALUE: /sys/bus/pci/devices/ADDR/ATTR reads VALUE
attr_is() {
        read_attr "/sys/bus/pci/devices/$1/$2" || { WHY="cannot read $1/$2"; return 1; }
        [[ $REPLY == "$3" ]] && return 0
        WHY="$1/$2 is $REPLY, expected $3"
        return 1
}

# kprobe_writes [FROM [TO]]: WRITES = the writes to sriov_drivers_autoprobe / sriov_numvfs the
# kprobes logged in kernel log lines FROM..TO-1, as "autoprobe:ADDR:BYTE" / "numvfs:ADDR:BYTE",
# in order; WRITE_AT = their line indexes
WRITES=() WRITE_AT=()
kprobe_writes() {
        local i
        WRITES=() WRITE_AT=()
        for ((i = ${1:-0}; i < ${2:-${#KLOG[@]}}; i++)); do
                [[ ${KLOG[i]} =~ vb_(autoprobe|numvfs):\ \(.*\)\ dev=\"([^\"]*)\"\ buf=([0-9]+) ]] || continue
                WRITES+=("${BASH_REMATCH[1]}:${BASH_REMATCH[2]}:${BASH_REMATCH[3]}")
                WRITE_AT+=("$i")
        done
}

# nvme_probes [FROM [TO]]: NVME_PROBES = the devfns nvme's probe function ran for (kprobe), in order
NVME_PROBES=()
nvme_probes() {
        local i
        NVME_PROBES=()
        for ((i = ${1:-0}; i < ${2:-${#KLOG[@]}}; i++)); do
                [[ ${KLOG[i]} =~ vb_nvme_probe:\ \(nvme_probe\+.*\)\ devfn=([0-9]+) ]] && NVME_PROBES+=("${BASH_REMATCH[1]}")
        done
        return 0
}
