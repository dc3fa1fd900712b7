# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# Scenario 21, the four-function GPU with only the GPU and its audio configured, under
# Group=check: the xHCI function is on xhci_hcd (its module loaded early, as by the initrd) and
# the serial function on serial (built in) when vfio-bindd starts. The group could not go to a
# guest, so vfio-bindd refuses .0 and .1 and names .2 and .3 and their drivers. The control: the
# same boot shows xhci_hcd and serial binding their functions, and the GPU and audio functions
# going to their host drivers.

DESCRIPTION="four-function GPU slot, only .0 and .1 configured, Group=check"
# looks at the GPU's drivers, never at the boot console or framebuffer: SeaBIOS and the PVH
# kernel boot it with about 8 s less CPU than OVMF (tests/vm/README.md, Time)
FIRMWARE=bios
QEMU_EXTRA=("${GPU_FUNCTIONS_EXTRA[@]}")
CONF="[Bind]
Device=$GPU $AUDIO
Group=check"

payload() {
        early_modules_unit "$1" xhci_pci
}

before_vfio_bindd() {
        local line
        klog_find "$(klog_bound_pattern "$1" "$2")" || { WHY="$1 never bound $2 (the setup did not work)"; return 1; }
        klog_time "$REPLY"
        line=$REPLY
        unit_props vfio-bind.service
        ((line < ${PROP[ExecMainStartTimestampMonotonic]:-0})) && return 0
        WHY="$1 bound $2 at $line us, after vfio-bindd started"
        return 1
}

refused() {
        all_of "never_bound vfio-pci $GPU" "never_bound vfio-pci $AUDIO" "no_override $GPU" "no_override $AUDIO" \
               "never_bound vfio-pci $USB" "never_bound vfio-pci $SERIAL"
}

journal_names_blockers() {
        all_of "journal_has refuse $GPU" "journal_has refuse $AUDIO" || return 1
        journal_mentions "$USB on xhci_hcd" || return 1
        journal_mentions "$SERIAL on serial"
}

check_names_blockers() {
        run_cli check check
        ((CLI_RC == 1)) || { WHY="vfio-bind check exited $CLI_RC"; return 1; }
        [[ $CLI_OUT == *"problem: $GPU: "*"$USB on xhci_hcd"*"$SERIAL on serial"* ]] && return 0
        WHY="vfio-bind check does not name $USB on xhci_hcd and $SERIAL on serial in a problem for $GPU: ${CLI_OUT//$'\n'/ | }"
        return 1
}

checks() {
        check scenario-21 "control: xhci_hcd bound $USB and serial bound $SERIAL before vfio-bindd started" \
                all_of "before_vfio_bindd xhci_hcd $USB" "before_vfio_bindd serial $SERIAL"
        check scenario-21 "Group=check: $GPU and $AUDIO are refused: vfio-pci never bound a function, no override left" refused
        check scenario-21 "Group=check: every function ends with its host driver (bochs-drm, snd_hda_intel, xhci_hcd, serial)" \
                all_of "on_driver $GPU bochs-drm" "on_driver $AUDIO snd_hda_intel" "on_driver $USB xhci_hcd" "on_driver $SERIAL serial"
        check scenario-21 "Group=check: the status names $USB on xhci_hcd and $SERIAL on serial" \
                service_status_has "$GPU refused" "$USB on xhci_hcd" "$SERIAL on serial" "Group=check"
        check scenario-21 "Group=check: journal refuse entries for .0 and .1 naming .2 and .3 and their drivers" journal_names_blockers
        check scenario-21 "vfio-bind check names .2 and .3 and their drivers" check_names_blockers
}
