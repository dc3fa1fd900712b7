# SPDX-License-Identifier: LGPL-2.1-or-later
#
# NixOS VM test: `pkgs.testers.runNixOSTest ./nix/test.nix` (the flake's checks.x86_64-linux.vm).
#
# Each machine gets an emulated Intel IOMMU and, behind a PCIe root port, a second VGA card with an
# HDA audio function in the same slot: the layout of a passed-through GPU and its HDMI audio, one
# IOMMU group, on bus 01. Host drivers for both exist (bochs, snd_hda_intel); the service must get
# there first and leave both on vfio-pci.
#   machine: the stage 2 service only.
#   initrd:  systemd stage 1 with services.vfio-bind.initrd.enable: the binding happens before
#            switch-root.
let
  addresses = [
    "0000:01:00.0"
    "0000:01:00.1"
  ];

  common = {
    imports = [ ./module.nix ];

    services.vfio-bind = {
      enable = true;
      # The slot selector: both functions of 01:00.
      devices = [ "01:00" ];
      iommu = "intel";
    };

    virtualisation.memorySize = 1024;
    virtualisation.qemu.options = [
      # The Intel IOMMU needs q35; interrupt remapping under KVM needs the split irqchip.
      "-machine q35,kernel-irqchip=split"
      "-device intel-iommu,intremap=on"
      "-device pcie-root-port,id=vb_rp,bus=pcie.0,chassis=10,addr=0x10"
      "-device VGA,bus=vb_rp,addr=00.0,multifunction=on"
      "-device ich9-intel-hda,bus=vb_rp,addr=00.1"
    ];
  };
in
{
  name = "vfio-bind";

  nodes = {
    # stage 2 alone, whatever nixpkgs' default for systemd in stage 1 is
    machine = {
      imports = [ common ];
      services.vfio-bind.initrd.enable = false;
    };

    initrd = {
      imports = [ common ];
      boot.initrd.systemd.enable = true;
      services.vfio-bind.initrd.enable = true;
    };
  };

  testScript = ''
    import json

    ADDRESSES = ${builtins.toJSON addresses}


    def driver_of(m, address):
        return m.succeed(
            f"basename \"$(readlink /sys/bus/pci/devices/{address}/driver)\""
        ).strip()


    def check_bound(m):
        m.wait_for_unit("vfio-bind.service")

        with subtest(f"{m.name}: the IOMMU is on and both functions share a group"):
            m.succeed("grep -qw intel_iommu=on /proc/cmdline")
            groups = {
                m.succeed(f"readlink -f /sys/bus/pci/devices/{a}/iommu_group").strip()
                for a in ADDRESSES
            }
            assert len(groups) == 1, f"expected one IOMMU group, got {groups}"

        with subtest(f"{m.name}: both functions end on vfio-pci"):
            for a in ADDRESSES:
                driver = driver_of(m, a)
                assert driver == "vfio-pci", f"{a} is on {driver!r}"

        with subtest(f"{m.name}: systemctl status shows the status line"):
            status = m.succeed("systemctl status --no-pager vfio-bind.service")
            line = 'Status: "2/2 devices on vfio-pci: ' + " ".join(ADDRESSES)
            assert line in status, f"no {line!r} in:\n{status}"

        with subtest(f"{m.name}: the unit is the package's early-boot unit"):
            props = m.succeed(
                "systemctl show -p Type -p DefaultDependencies -p Before vfio-bind.service"
            )
            assert "Type=notify" in props, props
            assert "DefaultDependencies=no" in props, props
            before = next(l for l in props.splitlines() if l.startswith("Before=")).split("=", 1)[1].split()
            for unit in ("systemd-modules-load.service", "systemd-udev-trigger.service", "sysinit.target"):
                assert unit in before, f"{unit} not in Before= {before}"

        with subtest(f"{m.name}: the CLI agrees"):
            m.succeed("vfio-bind status")


    def journal(m, *matches):
        out = m.succeed("journalctl -b --no-pager -o json " + " ".join(matches))
        return [json.loads(l) for l in out.splitlines() if l.strip()]


    start_all()

    check_bound(machine)

    with subtest("machine: one bind entry per device in the journal"):
        for a in ADDRESSES:
            entries = journal(machine, f"VFIO_BIND_DEVICE={a}", "VFIO_BIND_ACTION=bind")
            assert entries, f"no bind entry for {a}"
            assert entries[-1].get("VFIO_BIND_DRIVER_AFTER") == "vfio-pci", entries[-1]

    check_bound(initrd)

    with subtest("initrd: the devices were bound in systemd stage 1"):
        switch = journal(initrd, "_PID=1", "MESSAGE='Switching root.'")
        assert switch, "no 'Switching root.' in the journal: was this a systemd initrd?"
        switched_at = int(switch[0]["__MONOTONIC_TIMESTAMP"])
        for a in ADDRESSES:
            binds = journal(initrd, f"VFIO_BIND_DEVICE={a}", "VFIO_BIND_ACTION=bind")
            assert binds, f"no bind entry for {a}"
            late = [e for e in binds if int(e["__MONOTONIC_TIMESTAMP"]) > switched_at]
            assert not late, f"{a} was bound after switch-root: {late}"
            assert all(e.get("_SYSTEMD_UNIT") == "vfio-bind-initrd.service" for e in binds), binds
  '';

  meta.maintainers = [ ];
}
