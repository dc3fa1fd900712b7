# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with the dracut module: vfio-bindd --once binds the GPU slot in the initrd, before
# udev's coldplug there loads bochs and snd_hda_intel; after the switch-root, vfio-bind.service
# finds both functions on vfio-pci, leaves them, and says they were bound in the initrd.

DESCRIPTION="vfio-bind in the dracut initrd: the slot is on vfio-pci before the switch-root"
CONF="[Bind]
Device=$GPU_SLOT"

initrd_has() {
        local f
        for f in "${INITRD_FILES[@]}"; do
                # shellcheck disable=SC2053
                [[ $f == $1 ]] && return 0
        done
        WHY="no file matching $1 in the initrd"
        return 1
}

# the unit is enabled in the initrd (a sysinit.target.wants link, made by systemctl add-wants)
initrd_unit_enabled() {
        initrd_has "*/sysinit.target.wants/vfio-bind-initrd.service"
}

# dracut refuses the module in an initrd without systemd, and says why
refuses_without_systemd() {
        local out
        out=$(in_root dracut --force --no-hostonly --kver "$KREL" --omit systemd --no-compress \
                /tmp/no-systemd.img 2>&1)
        rm -f "$ROOT/tmp/no-systemd.img"
        [[ $out == *"vfio-bind: this initrd has no systemd"* ]] && return 0
        WHY="dracut -o systemd said: $(grep -i vfio <<<"$out" | head -n 3 | tr '\n' ' ')"
        return 1
}

# hostonly mode (Fedora's default) skips modules not loaded on the building machine: the
# module's instmods runs with hostonly='' so that vfio-pci is in the first initrd built
hostonly_has_vfio() {
        local files
        if ! in_root dracut --force --hostonly --hostonly-mode sloppy --kver "$KREL" --no-compress \
                /tmp/hostonly.img >"$VM_WORK/dracut-hostonly.log" 2>&1; then
                WHY="dracut --hostonly failed: $(tail -n 2 "$VM_WORK/dracut-hostonly.log" | tr '\n' ' ')"
                return 1
        fi
        files=$(cpio -t --quiet <"$ROOT/tmp/hostonly.img" 2>/dev/null)
        rm -f "$ROOT/tmp/hostonly.img"
        [[ $files == *vfio-pci.ko* || $files == *vfio_pci.ko* ]] &&
                [[ $files == *vfio_iommu_type1.ko* ]] && [[ $files == *vfio-bindd* ]] && return 0
        WHY="a hostonly initrd lacks vfio-pci, vfio_iommu_type1 or vfio-bindd (host has vfio_pci loaded: $(grep -c '^vfio_pci ' /proc/modules))"
        return 1
}

host_checks() {
        host_check "two-stage-bind: initrd: vfio-bindd, /etc/vfio-bind.conf, vfio-pci and vfio_iommu_type1, the unit, and bochs and snd_hda_intel" \
                all_of "initrd_has ${GUEST_DAEMON#/}" "initrd_has etc/vfio-bind.conf" \
                       "initrd_has usr/lib/modules/*/vfio-pci.ko*" "initrd_has usr/lib/modules/*/vfio_iommu_type1.ko*" \
                       "initrd_has usr/lib/systemd/system/vfio-bind-initrd.service" \
                       "initrd_has usr/lib/modules/*/bochs.ko*" "initrd_has usr/lib/modules/*/snd-hda-intel.ko*"
        host_check "two-stage-bind: initrd: the unit is wanted by sysinit.target" initrd_unit_enabled
        host_check "two-stage-bind: dracut without systemd (-o systemd) refuses vfio-bind and says why" refuses_without_systemd
        host_check "two-stage-bind: dracut --hostonly: vfio-pci and its IOMMU backend are in the initrd" hostonly_has_vfio
}

stage2_left_them() {
        all_of "journal_has leave $GPU vfio-pci" "journal_has leave $AUDIO vfio-pci" || return 1
        journal_lacks bind
}

# the stage 2 daemon's line per device, in the wording agreed with the daemon's side
stage2_says_initrd() {
        journal_mentions "$GPU: already on vfio-pci (bound in the initrd)" &&
                journal_mentions "$AUDIO: already on vfio-pci (bound in the initrd)"
}

nic_untouched() {
        all_of "on_driver $NIC e1000e" "no_override $NIC" "never_bound_any vfio-pci $NIC"
}

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        load_merged_journal
        dump_merged_journal
        check two-stage-bind "a two-stage boot: PID 1 switched root, / is ext4 on /dev/vda" two_stage_boot
        check two-stage-bind "the kernel log is whole (starts at the banner)" klog_complete
        check two-stage-bind "kernel log: vfio-pci bound $GPU and $AUDIO before the switch-root" \
                all_of "bound_in_initrd vfio-pci $GPU" "bound_in_initrd vfio-pci $AUDIO"
        check two-stage-bind "kernel log: bochs-drm and snd_hda_intel never bound $GPU or $AUDIO" \
                all_of "never_bound_any bochs-drm $GPU" "never_bound_any bochs-drm $AUDIO" \
                       "never_bound_any snd_hda_intel $GPU" "never_bound_any snd_hda_intel $AUDIO"
        check two-stage-bind "bochs and snd_hda_intel are loaded (coldplug loaded them; they found the slot taken)" \
                all_of "module_loaded bochs" "module_loaded snd_hda_intel"
        check two-stage-bind "each function was bound once: stage 2 did not move them again" \
                all_of "bound_once vfio-pci $GPU" "bound_once vfio-pci $AUDIO"
        check two-stage-bind "both functions on vfio-pci in stage 2" gpu_slot_on vfio-pci
        check two-stage-bind "in the initrd, $INITRD_UNIT finished before coldplug, modules-load and dracut-pre-udev started" \
                all_of "initrd_unit_before systemd-udev-trigger.service" \
                       "initrd_unit_before systemd-modules-load.service" "initrd_unit_before dracut-pre-udev.service"
        check two-stage-bind "journal: the initrd unit's bind entry for each function, before the switch-root" \
                all_of "initrd_journal_has bind $GPU vfio-pci" "initrd_journal_has bind $AUDIO vfio-pci"
        check two-stage-bind "journalctl -b -u $INITRD_UNIT (in stage 2) shows the initrd's binds" \
                all_of "journal_unit_finds $INITRD_UNIT bind $GPU" "journal_unit_finds $INITRD_UNIT bind $AUDIO"
        check two-stage-bind "journalctl -b VFIO_BIND_DEVICE=ADDR finds the initrd's entries and stage 2's" \
                all_of "journal_by_device_finds $GPU $INITRD_UNIT" "journal_by_device_finds $AUDIO $INITRD_UNIT" \
                       "journal_by_device_finds $GPU vfio-bind.service" "journal_by_device_finds $AUDIO vfio-bind.service"
        check two-stage-bind "stage 2: vfio-bind.service active, status 2/2 devices on vfio-pci" \
                service_status_has "2/2 devices on vfio-pci: $GPU $AUDIO"
        check two-stage-bind "stage 2: the status says the devices were bound in the initrd" \
                service_status_has "bound in the initrd"
        check two-stage-bind "stage 2: the journal says each function was bound in the initrd" stage2_says_initrd
        check two-stage-bind "stage 2: vfio-bind.service left both functions where they were (leave, no bind)" stage2_left_them
        check two-stage-bind "the NIC $NIC is untouched: e1000e, no override, never on vfio-pci" nic_untouched
        report_journal_ids
        report_stage1_times two-stage-bind
}
