# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Evaluates NixOS configurations that use nix/module.nix against a real nixpkgs tree, given by
# path (nothing is fetched, nothing is built):
#
#   nix-instantiate --store dummy:// --eval --strict --json tests/nix/nixos.nix \
#     --arg nixpkgs /path/to/nixpkgs -A failures        # must be []
#   … -A guide | initrd | mistakes | gpuInitrd           # what came out, to read
#   … -A badDevice | badTimeout | badDriver              # must fail, naming the option
#
# tests/nix/check.sh runs all of this when VB_NIXPKGS is set.
{
  nixpkgs,
  system ? "x86_64-linux",
}:

let
  # nixpkgs' default.nix refuses Nix older than 2.18; the top level itself does not care.
  pkgs = import (nixpkgs + "/pkgs/top-level/default.nix") { localSystem = { inherit system; }; };
  inherit (pkgs) lib;
  vb = import ../../nix/lib.nix;

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

  # The seed guide's setup (an AMD machine, the GPU and its audio function), as options.
  guideModule = {
    services.vfio-bind = {
      enable = true;
      devices = [
        "0000:0f:00.0"
        "0f:00.1"
      ];
      iommu = "amd";
    };
  };

  initrdModule = {
    imports = [ guideModule ];
    boot.initrd.systemd.enable = true;
    services.vfio-bind = {
      initrd.enable = true;
      group = "take";
      unbindHost = false;
      releaseConsole = "yes";
      timeout = 30;
      driver = "pci-stub";
      force = [ "0f:00.1" ];
    };
  };

  failedAssertions = config: map (a: a.message) (lib.filter (a: !a.assertion) config.assertions);

  summary = config: {
    conf = config.environment.etc."vfio-bind.conf".source.text or null;
    kernelParams = config.boot.kernelParams;
    kernelModules = config.boot.kernelModules;
    kernelVersion = config.boot.kernelPackages.kernel.version;
    package = config.services.vfio-bind.package.name;
    packageOut = config.services.vfio-bind.package.outPath;
    packageMesonFlags = config.services.vfio-bind.package.mesonFlags;
    systemdPackages = map (p: p.name) config.systemd.packages;
    wantedBy = config.systemd.services.vfio-bind.wantedBy or null;
    restartIfChanged = config.systemd.services.vfio-bind.restartIfChanged;
    # The package ships the unit; NixOS adds this drop-in (overrides.conf) to it.
    override = config.systemd.units."vfio-bind.service".text or null;
    initrdSystemd = config.boot.initrd.systemd.enable;
    initrdUnit = config.boot.initrd.systemd.units."vfio-bind-initrd.service".text or null;
    initrdWantedBy = config.boot.initrd.systemd.services.vfio-bind-initrd.wantedBy or null;
    initrdStorePaths = lib.filter (lib.hasInfix "vfio-bind") (
      map (p: p.source) config.boot.initrd.systemd.storePaths
    );
    initrdConf = config.boot.initrd.systemd.contents."/etc/vfio-bind.conf".source.text or null;
    initrdModules = lib.filter (lib.hasPrefix "vfio") config.boot.initrd.availableKernelModules;
    initrdAllModules = config.boot.initrd.availableKernelModules;
    initrdEnable = config.services.vfio-bind.initrd.enable;
    assertions = failedAssertions config;
    warnings = config.warnings;
  };

  guide = summary (eval guideModule);
  # the other options: intel with iommu=pt, binding on switch, raw lines
  more = summary (eval {
    imports = [ guideModule ];
    services.vfio-bind = {
      iommu = lib.mkForce "intel";
      iommuPassthrough = true;
      applyOnSwitch = true;
      extraConfig = ''
        [Bind]
        Device=0000:10:00.0
      '';
    };
  });
  extraOnce = summary (eval {
    imports = [ guideModule ];
    services.vfio-bind.extraConfig = "[Bind]\nTimeout=20s\n";
  });
  initrd = summary (eval initrdModule);
  # systemd in stage 1 alone: initrd.enable follows it
  stage1 = summary (eval {
    imports = [ guideModule ];
    boot.initrd.systemd.enable = true;
  });

  # What the assertions and warnings catch.
  mistakes = summary (eval {
    services.vfio-bind.enable = true;
    services.vfio-bind.initrd.enable = true;
    boot.initrd.systemd.enable = false;
    boot.postBootCommands = ''
      echo 0 > /sys/class/vtconsole/vtcon1/bind
      echo efi-framebuffer.0 > /sys/bus/platform/drivers/efi-framebuffer/unbind
      echo vfio-pci > /sys/bus/pci/devices/0000:0f:00.0/driver_override
    '';
  });
  # the scripted initrd: stage 1 cannot bind, so initrd GPU drivers are warned about
  scripted = summary (eval {
    imports = [ guideModule ];
    boot.initrd.systemd.enable = false;
  });
  gpuInitrd = summary (eval {
    imports = [ guideModule ];
    boot.initrd.systemd.enable = false;
    boot.initrd.kernelModules = [
      "amdgpu"
      "nvidia-drm"
    ];
  });
  # Selectors from the kernel command line only: no assertion.
  cmdline = summary (eval {
    services.vfio-bind.enable = true;
    boot.kernelParams = [ "vfio-bind.device=0f:00.0" ];
  });
  disabled = summary (eval { services.vfio-bind.devices = [ "0f:00.0" ]; });

  lines = text: lib.filter (l: l != "") (lib.splitString "\n" text);
  # The template the package installs as lib/systemd/system/vfio-bind.service (meson fills in
  # @sbindir@ and @sysconfdir@); the derivation cannot be built here, so read its source.
  unitTemplate = lines (builtins.readFile ../../systemd/vfio-bind.service.in);
  beforeUnits = lib.concatMap (l: lib.splitString " " (lib.removePrefix "Before=" l)) (
    lib.filter (lib.hasPrefix "Before=") unitTemplate
  );
  initrdLines = lines initrd.initrdUnit;
  initrdBefore = lib.splitString " " (
    lib.removePrefix "Before=" (lib.findFirst (lib.hasPrefix "Before=") "Before=" initrdLines)
  );

  # flake.nix's outputs, called as Nix would call them, with this nixpkgs tree as the input.
  flakeResult =
    let
      nixpkgsInput = {
        inherit lib;
        legacyPackages = lib.genAttrs [ "x86_64-linux" "aarch64-linux" ] (
          s: import (nixpkgs + "/pkgs/top-level/default.nix") { localSystem.system = s; }
        );
      };
      outputs = (import ../../flake.nix).outputs {
        self = outputs;
        nixpkgs = nixpkgsInput;
      };
      overlaid = import (nixpkgs + "/pkgs/top-level/default.nix") {
        localSystem = { inherit system; };
        overlays = [ outputs.overlays.default ];
      };
    in
    {
      packages = lib.mapAttrs (_: p: lib.mapAttrs (_: d: d.drvPath) p) outputs.packages;
      checks = lib.mapAttrs (_: c: lib.mapAttrs (_: d: d.drvPath) c) outputs.checks;
      overlay = overlaid.vfio-bind.drvPath;
      module = toString outputs.nixosModules.default;
      # With the overlay applied, the module takes pkgs.vfio-bind.
      moduleWithOverlay =
        (import (nixpkgs + "/nixos/lib/eval-config.nix") {
          inherit system;
          pkgs = overlaid;
          modules = [
            base
            outputs.nixosModules.default
            guideModule
          ];
        }).config.services.vfio-bind.package.drvPath == overlaid.vfio-bind.drvPath;
    };

  earlyUnits = [
    "systemd-modules-load.service"
    "systemd-udev-trigger.service"
    "sysinit.target"
  ];

  expect = what: ok: lib.optional (!ok) what;
  has = lib.elem;
  hasAll = xs: list: lib.all (x: lib.elem x list) xs;
  hasInfixIn = infix: list: lib.any (lib.hasInfix infix) list;

  guideConf = vb.configText {
    devices = [
      "0000:0f:00.0"
      "0f:00.1"
    ];
    driver = "auto";
    group = "check";
    unbindHost = true;
    timeout = "10s";
    releaseConsole = "auto";
  };
in
{
  inherit
    guide
    initrd
    mistakes
    stage1
    scripted
    gpuInitrd
    cmdline
    disabled
    ;
  flake = flakeResult;

  failures = lib.concatLists [
    # The package's unit, as meson installs it.
    (expect "unit: Type=notify" (has "Type=notify" unitTemplate))
    (expect "unit: DefaultDependencies=no" (has "DefaultDependencies=no" unitTemplate))
    (expect "unit: Before= ${toString earlyUnits}" (hasAll earlyUnits beforeUnits))
    (expect "unit: ExecStart=@sbindir@/vfio-bindd" (has "ExecStart=@sbindir@/vfio-bindd" unitTemplate))
    (expect "package: sbindir is bin, sysconfdir /etc, unitdir in $out" (
      hasAll [
        "--sbindir=bin"
        "-Dsysconfdir=/etc"
      ] guide.packageMesonFlags
      && hasInfixIn "/lib/systemd/system" guide.packageMesonFlags
    ))
    (expect "package: the dracut module in $out, not /usr/lib/dracut (outside the store)" (
      lib.any (f: lib.hasInfix "-Ddracutmodulesdir=" f && lib.hasSuffix "/lib/dracut/modules.d" f && !lib.hasInfix "=/usr/" f)
        guide.packageMesonFlags
    ))

    # Stage 2: the package's unit enabled, not a second one written here.
    (expect "guide: /etc/vfio-bind.conf" (guide.conf == guideConf))
    (expect "guide: iommu = amd adds nothing (amd_iommu=on is no kernel option)" (
      !hasInfixIn "amd_iommu" guide.kernelParams && !has "iommu=pt" guide.kernelParams
    ))
    (expect "more: intel_iommu=on and iommu=pt" (hasAll [ "intel_iommu=on" "iommu=pt" ] more.kernelParams))
    (expect "guide: vfio modules" (
      hasAll [
        "vfio_pci"
        "vfio_iommu_type1"
        "vfio"
      ] guide.kernelModules
    ))
    (expect "guide: vfio_virqfd only before Linux 6.2" (
      has "vfio_virqfd" guide.kernelModules == lib.versionOlder guide.kernelVersion "6.2"
    ))
    (expect "guide: systemd.packages has the package" (has guide.package guide.systemdPackages))
    (expect "guide: wanted by sysinit.target" (guide.wantedBy == [ "sysinit.target" ]))
    (expect "guide: the drop-in leaves Type=, ExecStart=, DefaultDependencies= and Before= to the unit" (
      !lib.any (k: hasInfixIn k (lines guide.override)) [
        "Type="
        "ExecStart="
        "DefaultDependencies="
        "Before="
      ]
    ))
    (expect "guide: a switch neither reloads nor restarts it, and skips a start (binding waits for the boot)" (
      !lib.hasInfix "X-Reload-Triggers=" guide.override
      && hasInfixIn "X-RestartIfChanged=false" (lines guide.override)
      && lib.hasInfix "/run/booted-system -ef /run/current-system" guide.override
      && !guide.restartIfChanged
    ))
    (expect "more: applyOnSwitch reloads on a new configuration, no ExecCondition" (
      lib.hasInfix "X-Reload-Triggers=" more.override
      && !lib.hasInfix "ExecCondition=" more.override
      && more.restartIfChanged
    ))
    (expect "more: extraConfig at the end of the file, in stage 1 too" (
      lib.hasSuffix "Release=auto\n\n[Bind]\nDevice=0000:10:00.0\n" more.conf
      && (more.initrdConf == null || more.initrdConf == more.conf)
      && more.assertions == [ ]
    ))
    (expect "extraOnce: Timeout= in extraConfig fails an assertion naming services.vfio-bind.timeout" (
      lib.any (lib.hasInfix "services.vfio-bind.timeout") extraOnce.assertions
    ))
    # initrd.enable follows boot.initrd.systemd.enable, whose default depends on the nixpkgs
    # release (on since 26.05)
    (expect "guide: an initrd service exactly with systemd in stage 1" (
      if guide.initrdSystemd then
        guide.initrdUnit != null && guide.initrdConf == guide.conf
      else
        guide.initrdUnit == null && guide.initrdStorePaths == [ ] && guide.initrdConf == null
    ))
    (expect "scripted: no initrd service, initrd.enable off" (
      scripted.initrdUnit == null && scripted.initrdStorePaths == [ ] && !scripted.initrdEnable
      # (nixpkgs 26.x warns about the scripted initrd itself)
      && !hasInfixIn "vfio-bind" scripted.warnings
    ))
    (expect "guide: no assertion fails" (guide.assertions == [ ]))
    (expect "guide: no warning" (guide.warnings == [ ]))

    # Stage 1.
    (expect "initrd: the service runs vfio-bindd --once" (
      has "ExecStart=${initrd.packageOut}/bin/vfio-bindd --once" initrdLines
    ))
    (expect "initrd: DefaultDependencies off" (has "DefaultDependencies=false" initrdLines))
    (expect "initrd: Before= ${toString earlyUnits}" (hasAll earlyUnits initrdBefore))
    (expect "initrd: wanted by sysinit.target" (initrd.initrdWantedBy == [ "sysinit.target" ]))
    (expect "initrd: the program in storePaths" (
      has "${initrd.packageOut}/bin/vfio-bindd" initrd.initrdStorePaths
    ))
    (expect "initrd: the same configuration in the initrd" (
      initrd.initrdConf == initrd.conf
      && lib.hasInfix "Driver=pci-stub" initrd.conf
      && lib.hasInfix "Force=0f:00.1" initrd.conf
    ))
    (expect "initrd: Driver=pci-stub puts pci_stub in the initrd" (has "pci_stub" initrd.initrdAllModules))
    (expect "stage1: vfio modules available in the initrd" (
      hasAll [ "vfio_pci" "vfio_iommu_type1" "vfio" ] stage1.initrdModules
    ))
    (expect "stage1: initrd.enable is on by default with systemd in stage 1" stage1.initrdEnable)
    (expect "stage1: oneshot, ordered before coldplug and modules-load, after the journal socket" (
      hasAll [
        "Type=oneshot"
        "DefaultDependencies=false"
        "ConditionPathExists=/etc/initrd-release"
        "After=systemd-journald.socket"
      ] (lines stage1.initrdUnit)
      && hasAll earlyUnits (
        lib.splitString " " (
          lib.removePrefix "Before=" (lib.findFirst (lib.hasPrefix "Before=") "Before=" (lines stage1.initrdUnit))
        )
      )
    ))
    (expect "guide: initrd.enable is boot.initrd.systemd.enable" (guide.initrdEnable == guide.initrdSystemd))
    (expect "initrd: no assertion fails" (initrd.assertions == [ ]))

    # Mistakes.
    (expect "mistakes: empty devices asserted" (hasInfixIn "services.vfio-bind.devices is empty" mistakes.assertions))
    (expect "mistakes: initrd.enable with the scripted initrd warned, not asserted" (
      hasInfixIn "nothing is bound in stage 1" mistakes.warnings
      && !hasInfixIn "initrd" mistakes.assertions
    ))
    (expect "mistakes: postBootCommands warned" (
      hasInfixIn "boot.postBootCommands still writes driver_override, vtconsole, efi-framebuffer" mistakes.warnings
    ))
    (expect "gpuInitrd: initrd GPU drivers warned" (
      hasInfixIn "loads amdgpu, nvidia-drm in the initrd" gpuInitrd.warnings
    ))
    (expect "cmdline: vfio-bind.device= on the kernel command line is enough" (cmdline.assertions == [ ]))
    (expect "flake: packages and checks for both systems, the VM test on x86_64-linux" (
      lib.all (s: flakeResult.packages.${s} ? default && flakeResult.checks.${s} ? package) [
        "x86_64-linux"
        "aarch64-linux"
      ]
      && flakeResult.checks.x86_64-linux ? vm
    ))
    (expect "flake: with overlays.default the module takes pkgs.vfio-bind" flakeResult.moduleWithOverlay)
    (expect "disabled: nothing without enable" (
      disabled.conf == null && disabled.override == null && !(has disabled.package disabled.systemdPackages)
    ))
  ];

  # Must fail evaluation, naming the option.
  badDevice =
    (eval (lib.recursiveUpdate guideModule { services.vfio-bind.devices = [ "0f:00.8" ]; }))
    .environment.etc."vfio-bind.conf".source.text;
  badTimeout =
    (eval (lib.recursiveUpdate guideModule { services.vfio-bind.timeout = "5min 1s"; }))
    .environment.etc."vfio-bind.conf".source.text;
  badForce =
    (eval (lib.recursiveUpdate guideModule { services.vfio-bind.force = [ "0f:00" "05:00.0 " ]; }))
    .environment.etc."vfio-bind.conf".source.text;
  badVirtualFunctions =
    (eval (lib.recursiveUpdate guideModule { services.vfio-bind.virtualFunctions."0000:03:00.0" = 0; }))
    .environment.etc."vfio-bind.conf".source.text;
  badDriver =
    (eval (lib.recursiveUpdate guideModule { services.vfio-bind.driver = "../vfio-pci"; }))
    .environment.etc."vfio-bind.conf".source.text;

  # Whole systems and the VM test's driver: computed, not built.
  drvPaths = {
    guide = (eval guideModule).system.build.toplevel.drvPath;
    initrd = (eval initrdModule).system.build.toplevel.drvPath;
    vmTest = (pkgs.testers.runNixOSTest ../../nix/test.nix).driver.drvPath;
  };

}
