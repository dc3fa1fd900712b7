# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with initramfs-tools, the selection on the kernel command line alone: there is no
# /etc/vfio-bind.conf, GRUB's /etc/default/grub has vfio-bind.device=<the GPU's slot> in
# GRUB_CMDLINE_LINUX when update-initramfs runs, and the boot's command line has it. The hook puts
# vfio-bindd and its boot script in all the same (the command line selects devices), and the
# initramfs's vfio-bindd binds the slot before the host drivers can; stage 2 says it was bound in
# the initrd.
#
# The slot has four functions (topology.sh's GPU_FUNCTIONS_EXTRA: xHCI and a 16550 serial port
# beside the VGA and HDA), so that vfio-bindd's pass in the initramfs says more than the 10
# records the kernel takes from one open /dev/kmsg in 5 s (printk.devkmsg=ratelimit, the
# default): every record must arrive, as vfio-bindd opens /dev/kmsg anew for each (daemon/log.c).
# The control, in the same boot: 15 records written through one open /dev/kmsg with
# printk_devkmsg at ratelimit (as in the initramfs; the root's systemd sets it to on), of which
# the kernel keeps 10 and says it suppressed 5.

DESCRIPTION="initramfs-tools, vfio-bind.device= on the kernel command line and no configuration file: bound in the initramfs, every kernel-log record of the pass kept"
INITRAMFS=initramfs-tools
# one boot on Debian's current kernel: 11-itools-bind shows the initramfs on 6.1 and 6.12
STAGE1_KERNELS="6.12"
QEMU_EXTRA=("${GPU_FUNCTIONS_EXTRA[@]}")
# no /etc/vfio-bind.conf
CONF=''
APPEND="vfio-bind.device=$GPU_SLOT"
GRUB_LINE="GRUB_CMDLINE_LINUX=\"vfio-bind.device=$GPU_SLOT\""

# GRUB's defaults as update-grub would read them (no GRUB in the image: the hook reads the file)
payload() {
        mkdir -p "$1/etc/default"
        printf '%s\n' 'GRUB_DEFAULT=0' 'GRUB_TIMEOUT=5' 'GRUB_CMDLINE_LINUX_DEFAULT="quiet"' "$GRUB_LINE" \
                >"$1/etc/default/grub"
}

# the selection reached update-initramfs only through GRUB's defaults: no configuration file, no
# kernel-install command line, and not the command line of the machine that built it
selection_from_grub() {
        [[ ! -e $ROOT/etc/vfio-bind.conf && ! -e $ROOT/etc/vfio-bind.conf.d ]] ||
                { WHY="the root has a configuration: $(ls -d "$ROOT"/etc/vfio-bind.conf* | tr '\n' ' ')"; return 1; }
        [[ ! -e $ROOT/etc/kernel/cmdline ]] || { WHY="the root has /etc/kernel/cmdline"; return 1; }
        grep -qx "$GRUB_LINE" "$ROOT/etc/default/grub" ||
                { WHY="/etc/default/grub: $(tr '\n' ' ' <"$ROOT/etc/default/grub")"; return 1; }
        grep -q 'vfio-bind\.device=' /proc/cmdline && { WHY="the host's /proc/cmdline has vfio-bind.device="; return 1; }
        return 0
}

# no script or configuration of the initramfs writes kernel.printk_devkmsg
itools_leaves_devkmsg() {
        local hits
        hits=$(grep -rIl -e printk_devkmsg -e printk.devkmsg "$ITOOLS_TREE" 2>/dev/null | sed "s|^$ITOOLS_TREE/||")
        [[ -z $hits ]] && return 0
        WHY="printk_devkmsg in: $(tr '\n' ' ' <<<"$hits")"
        return 1
}

host_checks() {
        host_check "itools-cmdline: the selection is only in /etc/default/grub ($GRUB_LINE): no /etc/vfio-bind.conf, no /etc/kernel/cmdline, not in the building machine's /proc/cmdline" \
                selection_from_grub
        host_check "itools-cmdline: initramfs: vfio-bindd, the boot script, vfio-pci and vfio_iommu_type1, no /etc/vfio-bind.conf" \
                all_of "initrd_has ${GUEST_DAEMON#/}" "initrd_has scripts/init-top/00-vfio-bind" \
                       "initrd_has usr/lib/modules/*/vfio-pci.ko*" "initrd_has usr/lib/modules/*/vfio_iommu_type1.ko*" \
                       "initrd_lacks etc/vfio-bind.conf*"
        host_check "itools-cmdline: initramfs: init-top/00-vfio-bind runs before init-top/udev (ORDER)" itools_script_before_udev
        host_check "itools-cmdline: initramfs: nothing in it sets printk_devkmsg (/dev/kmsg keeps the kernel's rate limit there)" \
                itools_leaves_devkmsg
}

# the boot's command line selects the slot, and stage 2 has no configuration file either
cmdline_alone() {
        local cmdline
        read -r cmdline </proc/cmdline
        [[ " $cmdline " == *" vfio-bind.device=$GPU_SLOT "* ]] || { WHY="/proc/cmdline: $cmdline"; return 1; }
        [[ ! -e /etc/vfio-bind.conf ]] || { WHY="/etc/vfio-bind.conf exists"; return 1; }
}

# the other two functions: on vfio-pci before the switch-root; xhci_hcd never had .2 (its module
# is a module); serial (8250_pci, built into Debian's kernels) binds .3 while the kernel boots,
# before any user space, and vfio-bindd moved it (UnbindHost=yes)
other_functions() {
        all_of "bound_in_initrd vfio-pci $USB" "bound_in_initrd vfio-pci $SERIAL" "never_bound_any xhci_hcd $USB"
}

# KMSG_PID, KMSG_FIRST, KMSG_LAST, KMSG_N: the records of the initramfs's vfio-bindd (the first
# vfio-bindd in the kernel log, before the switch-root)
kmsg_records() {
        local i t pid
        KMSG_PID='' KMSG_FIRST=-1 KMSG_LAST=-1 KMSG_N=0
        for ((i = 0; i < ${#KLOG[@]}; i++)); do
                [[ ${KLOG[i]} =~ \ vfio-bindd\[([0-9]+)\]:\  ]] || continue
                pid=${BASH_REMATCH[1]}
                klog_time "$i"
                t=$REPLY
                ((t < SWITCH_ROOT_USEC)) || continue
                [[ -z $KMSG_PID ]] && KMSG_PID=$pid KMSG_FIRST=$i
                [[ $pid == "$KMSG_PID" ]] || continue
                KMSG_LAST=$i
                KMSG_N=$((KMSG_N + 1))
        done
}

# every record of the pass arrived: more than 10, from its first line ("binding …") to its last
# ("first pass done …"; the kernel drops what one open file writes past its 10th in 5 s, so a
# daemon writing through one descriptor would lose the end), a bind line for each function, and
# no line of the kernel's rate limit about it (when the file is closed: "vfio-bindd: N output
# lines suppressed due to ratelimiting"; nor "callbacks suppressed")
kmsg_all_records() {
        local a
        kmsg_records
        ((KMSG_N > 10)) || { WHY="$KMSG_N records of vfio-bindd before the switch-root (PID ${KMSG_PID:-none}): not more than 10"; return 1; }
        [[ ${KLOG[KMSG_FIRST]} == *"vfio-bindd[$KMSG_PID]: binding "* ]] || { WHY="its first record: ${KLOG[KMSG_FIRST]}"; return 1; }
        [[ ${KLOG[KMSG_LAST]} == *"vfio-bindd[$KMSG_PID]: first pass done in "* ]] || { WHY="its last record: ${KLOG[KMSG_LAST]}"; return 1; }
        for a in "$GPU" "$AUDIO" "$USB" "$SERIAL"; do
                klog_find "*vfio-bindd\[$KMSG_PID\]: $a: bound to vfio-pci *" ||
                        { WHY="no record \"$a: bound to vfio-pci\" of vfio-bindd[$KMSG_PID]"; return 1; }
        done
        klog_absent "*vfio-bindd*suppressed*" || return 1
        klog_absent "*vfio-bindd*ratelimit*" || return 1
}

# the kernel's limit held in the initramfs: printk.devkmsg is not on the command line (the
# initramfs sets no sysctl: host_checks), so it was the kernel's default, ratelimit, until the
# root's systemd turned it on
devkmsg_default_in_initramfs() {
        local cmdline
        read -r cmdline </proc/cmdline
        [[ $cmdline != *printk.devkmsg=* ]] && return 0
        WHY="/proc/cmdline: $cmdline"
        return 1
}

# the control: with printk_devkmsg at ratelimit (as in the initramfs; stage 2's systemd sets it
# on, and it is set back afterwards), one open /dev/kmsg, 15 records (each printf one write,
# one record): the kernel keeps 10, and says it suppressed 5 when the file is closed
kmsg_one_open_limited() {
        local i n=0 tag="vb-kmsg-control-$$"
        read -r DEVKMSG_STAGE2 </proc/sys/kernel/printk_devkmsg
        echo ratelimit >/proc/sys/kernel/printk_devkmsg || { WHY="cannot set printk_devkmsg"; return 1; }
        { for ((i = 1; i <= 15; i++)); do printf '<14>%s: record %d\n' "$tag" "$i"; done; } >/dev/kmsg
        echo "$DEVKMSG_STAGE2" >/proc/sys/kernel/printk_devkmsg
        load_klog
        for ((i = 0; i < ${#KLOG[@]}; i++)); do
                [[ ${KLOG[i]} == *"$tag: record "* ]] && n=$((n + 1))
        done
        ((n == 10)) || { WHY="$n of the 15 records arrived"; return 1; }
        klog_find "*: 5 output lines suppressed due to ratelimiting*" && return 0
        WHY="10 arrived, but no \"5 output lines suppressed due to ratelimiting\" line"
        return 1
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin itools-cmdline
        check itools-cmdline "the boot's command line has vfio-bind.device=$GPU_SLOT; no /etc/vfio-bind.conf" cmdline_alone
        stage1_bound_checks itools-cmdline
        check itools-cmdline "kernel log: vfio-pci bound $USB and $SERIAL before the switch-root; xhci_hcd never bound $USB" \
                other_functions
        check itools-cmdline "stage 2: vfio-bind.service active (the command line alone starts it), status 4/4 devices on vfio-pci, bound in the initrd" \
                service_status_has "4/4 devices on vfio-pci" "bound in the initrd"
        check itools-cmdline "stage 2: the journal says each function was bound in the initrd" \
                stage2_says_initrd "$GPU" "$AUDIO" "$USB" "$SERIAL"
        check itools-cmdline "kernel log: every record of the initramfs's vfio-bindd arrived: more than 10 (the kernel's limit for one open /dev/kmsg), its first and last line, a bind line per function, no rate-limit line" \
                kmsg_all_records
        note itools-cmdline "the initramfs's vfio-bindd[$KMSG_PID] wrote $KMSG_N records to the kernel log"
        check itools-cmdline "printk.devkmsg is not on the kernel command line: /dev/kmsg was rate-limited in the initramfs (the kernel's default)" \
                devkmsg_default_in_initramfs
        check itools-cmdline "control: with printk_devkmsg=ratelimit, 15 records through one open /dev/kmsg: the kernel keeps 10 and says it suppressed 5" \
                kmsg_one_open_limited
        note itools-cmdline "stage 2's printk_devkmsg (the root's systemd sets it): ${DEVKMSG_STAGE2:-unread}"
}
