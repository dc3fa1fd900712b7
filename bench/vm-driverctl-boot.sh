# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash disable=SC2034
#
# Benchmark boot 2 (run by bench/vm.sh): the same machine with driverctl instead of vfio-bind.
# Overrides for both functions are saved in /etc/driverctl.d, as `driverctl set-override` leaves
# them; udev's rule starts driverctl@pci-ADDR.service for each when coldplug adds the device.
# Records the activation time of both instances against the boot's milestones, and where the
# functions ended.

DESCRIPTION="benchmark: driverctl@ at boot for the GPU slot"
SERVICE=disabled

payload() {
        bench_payload "$1"
        mkdir -p "$1/etc/driverctl.d"
        echo vfio-pci >"$1/etc/driverctl.d/pci-$GPU"
        echo vfio-pci >"$1/etc/driverctl.d/pci-$AUDIO"
}

checks() {
        local a
        # shellcheck source=/dev/null
        source /vm/bench/env
        # shellcheck source=guest.sh
        source "$BENCH_DIR/guest.sh"
        bench_machine
        for a in "$GPU" "$AUDIO"; do
                unit_activation "driverctl@pci-$a.service"
                bench boot-unit "driverctl@pci-$a.service $REPLY"
        done
        boot_times
        bench boot-times "$REPLY"
        drivers_now
        bench boot-drivers "$REPLY"
        bench_boot_host_drivers
        pass bench "benchmark boot finished"
}
