# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Evaluates NixOS configurations that use nix/module.nix against a real nixpkgs tree (given by
# path; nothing is fetched). tests/nix/nixos-eval.sh runs it and checks the results.
#
#   nix-instantiate --store dummy:// --eval --strict --json tests/nix/nixos.nix \
#     --arg nixpkgs /path/to/nixpkgs -A <case>
{
  nixpkgs,
  system ? "x86_64-linux",
}:

let
  # nixpkgs' default.nix refuses Nix older than 2.18; the top level itself does not care.
  pkgs = import (nixpkgs + "/pkgs/top-level/default.nix") { localSystem = { inherit system; }; };
  inherit (pkgs) lib;

  base = {
    fileSystems."/" = {
      device = "/dev/vda";
      fsType = "ext4";
    };
    boot.loader.grub.enable = false;
    system.stateVersion = "25.11";
  };

  eval =
    module:
    (import (nixpkgs + "/nixos/lib/eval-config.nix") {
      inherit system pkgs;
      modules = [
        base
        ../../nix/module.nix
        module
      ];
    }).config;

  guide = {
    services.vfio-bind = {
      enable = true;
      devices = [
        "0000:0f:00.0"
        "0f:00.1"
      ];
      iommu = "amd";
    };
  };

  failedAssertions = config: map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);

  summary = config: {
    conf = config.environment.etc."vfio-bind.conf".source.text;
    kernelParams = config.boot.kernelParams;
    kernelModules = config.boot.kernelModules;
    kernelVersion = config.boot.kernelPackages.kernel.version;
    systemdPackages = map (p: p.name) config.systemd.packages;
    packageMesonFlags = config.services.vfio-bind.package.mesonFlags;
    wantedBy = config.systemd.services.vfio-bind.wantedBy;
    override = config.systemd.units."vfio-bind.service".text;
    initrdUnit = config.boot.initrd.systemd.units."vfio-bind.service".text or null;
    initrdStorePaths = lib.filter (lib.hasInfix "vfio-bind") (map (p: p.source) config.boot.initrd.systemd.storePaths);
    initrdSystemd = config.boot.initrd.systemd.enable;
    initrdConf = config.boot.initrd.systemd.contents."/etc/vfio-bind.conf".source.text or null;
    initrdModules = lib.filter (lib.hasPrefix "vfio") config.boot.initrd.availableKernelModules;
    assertions = failedAssertions config;
    warnings = config.warnings;
  };
in
{
  # The seed guide's setup, as options.
  guide = summary (eval guide);

  # Stage 1 binding with systemd in the initrd, and a duration and policies off their defaults.
  initrd = summary (eval {
    imports = [ guide ];
    boot.initrd.systemd.enable = true;
    services.vfio-bind = {
      initrd.enable = true;
      group = "take";
      unbindHost = false;
      releaseConsole = "yes";
      timeout = 30;
      driver = "pci-stub";
    };
  });

  # What the assertions and warnings catch.
  mistakes = summary (eval {
    services.vfio-bind.enable = true;
    services.vfio-bind.initrd.enable = true;
    boot.initrd.systemd.enable = false;
    boot.initrd.kernelModules = [
      "amdgpu"
      "nvidia-drm"
    ];
    boot.postBootCommands = ''
      echo 0 > /sys/class/vtconsole/vtcon1/bind
      echo vfio-pci > /sys/bus/pci/devices/0000:0f:00.0/driver_override
    '';
  });

  # Selectors from the kernel command line only: no assertion.
  cmdline = (summary (eval {
    services.vfio-bind.enable = true;
    boot.kernelParams = [ "vfio-bind.device=0f:00.0" ];
  })).assertions;

  # Must fail evaluation, naming the option.
  badDevice = (eval (lib.recursiveUpdate guide { services.vfio-bind.devices = [ "0f:00.8" ]; })).environment.etc."vfio-bind.conf".source.text;
  badTimeout = (eval (lib.recursiveUpdate guide { services.vfio-bind.timeout = "5min 1s"; })).environment.etc."vfio-bind.conf".source.text;
  badDriver = (eval (lib.recursiveUpdate guide { services.vfio-bind.driver = "../vfio-pci"; })).environment.etc."vfio-bind.conf".source.text;

  # Whole-system derivations (computed, not built).
  toplevel = (eval guide).system.build.toplevel.drvPath;
  initrdToplevel = (eval {
    imports = [ guide ];
    boot.initrd.systemd.enable = true;
    services.vfio-bind.initrd.enable = true;
  }).system.build.toplevel.drvPath;
  vmTest = (pkgs.testers.runNixOSTest ../../nix/test.nix).driver.drvPath;
}
