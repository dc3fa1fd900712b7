# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
# The demo's second boot: /etc/vfio-bind.conf selects the GPU slot (GPU and its audio function).
# vfio-bind.service runs early in boot, before udev coldplug and systemd-modules-load.

DESCRIPTION="after writing /etc/vfio-bind.conf and rebooting"
CONF=$DEMO_CONF

checks() {
        show "systemctl status vfio-bind" systemctl status --no-pager -l vfio-bind.service
        show "journalctl -b -u vfio-bind" journalctl -b -u vfio-bind.service --no-pager
        show "journalctl -b -u vfio-bind VFIO_BIND_ACTION=bind -o verbose   # the fields of each action" \
                journalctl -b -u vfio-bind.service VFIO_BIND_ACTION=bind --no-pager -o verbose \
                --output-fields=MESSAGE,VFIO_BIND_DEVICE,VFIO_BIND_ACTION,VFIO_BIND_DRIVER_BEFORE,VFIO_BIND_DRIVER_AFTER
        show "vfio-bind status" "$VB_CLI" status
        show "vfio-bind groups" "$VB_CLI" groups
        show "ls -l /dev/vfio" ls -l /dev/vfio
}
