# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Two-stage boot with the dracut module: vfio-bindd --once binds the GPU slot in the initrd, before
# udev's coldplug there loads bochs and snd_hda_intel; after the switch-root, vfio-bind.service
# finds both functions on vfio-pci, leaves them, and says they were bound in the initrd.

DESCRIPTION="vfio-bind in the dracut initrd: the slot is on vfio-pci before the switch-root"
CONF="[Bind]
Device=$GPU_SLOT"

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

checks() {
        # shellcheck source=../guest/stage1-lib.sh
        source /vm/stage1-lib.sh
        stage1_begin two-stage-bind
        stage1_bound_checks two-stage-bind
        stage1_stage2_checks two-stage-bind
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
        report_journal_ids
        report_stage1_times two-stage-bind
}
