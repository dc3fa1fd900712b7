# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
#
# Guest helpers (sourced by lib.sh): load tests (scenarios 30-32): QMP from the guest, the daemon's resources, builtins only
# qmp_request COMMAND [KEY=VALUE…]: ask the host to send a QMP command (the scenario sets
# QMP_REQUESTS=yes); the host runs the requests in order, without answering: watch sysfs
QMP_SEQ=0
qmp_request() {
        QMP_SEQ=$((QMP_SEQ + 1))
        _result "QMP-REQUEST $QMP_SEQ $*"
}

# daemon_pid: REPLY = vfio-bind.service's main PID (0 when it has none)
daemon_pid() {
        REPLY=$(systemctl show -p MainPID --value vfio-bind.service)
        REPLY=${REPLY:-0}
}

# proc_res PID: RES_RSS (VmRSS, kB), RES_FDS (open fds), RES_TICKS (utime+stime, clock ticks;
# RES_STIME: stime alone, the kernel's share),
# RES_RUN (entries below /run/vfio-bind), RES_WAKE (voluntary context switches: times it slept
# and was woken), RES_SYSCR (read-family syscalls, from /proc/PID/io: sysfs reads among them);
# returns 1 if PID is gone
proc_res() {
        local line stat fds run
        RES_RSS= RES_FDS= RES_TICKS= RES_STIME= RES_RUN= RES_WAKE=0 RES_SYSCR=0
        [[ -d /proc/$1 ]] || return 1
        while IFS= read -r line; do
                [[ $line == VmRSS:* ]] && { read -r _ RES_RSS _ <<<"$line"; }
                [[ $line == voluntary_ctxt_switches:* ]] && { read -r _ RES_WAKE <<<"$line"; }
        done </proc/$1/status
        while IFS= read -r line; do
                [[ $line == syscr:* ]] && { read -r _ RES_SYSCR <<<"$line"; }
        done 2>/dev/null </proc/$1/io
        read -r stat </proc/$1/stat
        stat=${stat##*) }
        read -r -a stat <<<"$stat"
        # after "comm)": state is field 3, utime 14, stime 15 (indexes 0, 11, 12)
        RES_TICKS=$((stat[11] + stat[12])) RES_STIME=${stat[12]}
        shopt -s nullglob dotglob globstar
        fds=(/proc/$1/fd/*)
        run=(/run/vfio-bind/**)
        shopt -u nullglob dotglob globstar
        RES_FDS=${#fds[@]}
        # the glob lists /run/vfio-bind/ itself first
        RES_RUN=$(( ${#run[@]} > 0 ? ${#run[@]} - 1 : 0 ))
}

# uevent_socket PID: REPLY = "RMEM DROPS" of PID's kernel uevent socket (NETLINK_KOBJECT_UEVENT,
# protocol 15, in /proc/net/netlink, found by the inode of one of PID's socket fds)
uevent_socket() {
        local f l inodes=' ' sk eth pid groups rmem wmem dump locks drops inode
        REPLY=
        for f in /proc/$1/fd/*; do
                l=$(readlink "$f") || continue
                [[ $l == socket:\[*\] ]] && { l=${l#socket:[}; inodes+="${l%]} "; }
        done
        while read -r sk eth pid groups rmem wmem dump locks drops inode; do
                [[ $eth == 15 && $inodes == *" $inode "* ]] || continue
                REPLY="$rmem $drops"
                return 0
        done </proc/net/netlink
        WHY="no NETLINK_KOBJECT_UEVENT socket among the fds of $1"
        return 1
}

# uevent_seqnum: REPLY = the kernel's uevent sequence number (every uevent sent moves it by one)
uevent_seqnum() { read -r REPLY </sys/kernel/uevent_seqnum; }

# journal_count TEXT: REPLY = how many entries of the unit (load_journal) contain TEXT
journal_count() {
        local i n=0
        for ((i = 0; i < ${#J_MESSAGE[@]}; i++)); do
                [[ ${J_MESSAGE[i]} == *"$1"* ]] && n=$((n + 1))
        done
        REPLY=$n
}

# daemon_idle PID: PID's CPU ticks did not move over the last second (it has worked through its
# backlog); RES_* are PID's
daemon_idle() {
        local t
        proc_res "$1" || return 1
        t=$RES_TICKS
        read -r -t 1 -u 9 || :
        proc_res "$1" || return 1
        ((RES_TICKS == t))
}

# sleep_s SECONDS: a sleep without forking
sleep_s() { read -r -t "$1" -u 9 || :; }

# load_sizes: the scenario's sizes from /vm/load.env (the host's VB_* variables, see payload())
load_sizes() {
        [[ -r /vm/load.env ]] && source /vm/load.env
        return 0
}
