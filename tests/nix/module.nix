# SPDX-License-Identifier: LGPL-2.1-or-later
#
# nix/module.nix evaluated offline (builtins only, tests/nix/stub.nix stands in for nixpkgs' lib
# and the module system): stage 1 above all, which cannot be booted here. The dracut module's unit
# (dracut/vfio-bind-initrd.service.in), which tests/vm/two-stage.sh boots, is read too: the NixOS
# unit must order itself the same way.
#   nix-instantiate --store dummy:// --eval --strict --json tests/nix/module.nix
# gives { failures = [ … ]; checked = N; cases = { … }; }; failures must be empty.
let
  stub = import ./stub.nix;
  inherit (stub) lib;

  eval =
    config:
    stub.eval {
      module = ../../nix/module.nix;
      inherit config;
    };

  devices = {
    services.vfio-bind = {
      enable = true;
      devices = [ "0000:0f:00.0" "0f:00.1" ];
    };
  };
  withInitrd =
    extra:
    eval (
      lib.mkMerge [
        devices
        { boot.initrd.systemd.enable = true; }
        extra
      ]
    );

  systemd1 = withInitrd { };
  scripted = eval devices;
  scriptedAsked = eval (
    lib.mkMerge [
      devices
      { services.vfio-bind.initrd.enable = true; }
    ]
  );
  systemdOff = withInitrd { services.vfio-bind.initrd.enable = false; };
  pciStub = withInitrd { services.vfio-bind.driver = "pci-stub"; };
  oldKernel = withInitrd { boot.kernelPackages.kernel.version = "6.1.90"; };
  # libvirt: the hook follows virtualisation.libvirtd.enable, and can be turned off.
  withLibvirt = eval (
    lib.mkMerge [
      devices
      { virtualisation.libvirtd.enable = true; }
    ]
  );
  libvirtNoHook = eval (
    lib.mkMerge [
      devices
      {
        virtualisation.libvirtd.enable = true;
        services.vfio-bind.libvirtHook = false;
      }
    ]
  );
  hookOf = c: c.virtualisation.libvirtd.hooks.qemu.vfio-bind or null;
  disabled = eval {
    boot.initrd.systemd.enable = true;
    services.vfio-bind.devices = [ "0f:00.0" ];
  };

  # SR-IOV: VFs alone are a configuration; a bad PF name or a PF that devices selects fail an assertion.
  vfsOnly = eval {
    services.vfio-bind = {
      enable = true;
      virtualFunctions = {
        "0000:03:00.0" = 2;
        "05:00.0" = 1;
      };
    };
  };
  vfsBadPf = eval {
    services.vfio-bind = {
      enable = true;
      virtualFunctions."03:00" = 2;
    };
  };
  vfsSelectedPf = eval {
    services.vfio-bind = {
      enable = true;
      devices = [ "0000:03:00" ];
      virtualFunctions."03:00.0" = 2;
    };
  };
  failedAssertions = c: lib.filter (a: !a.assertion) c.assertions;

  # The IOMMU options: only parameters the kernel knows (there is no amd_iommu=on).
  iommuIntel = withInitrd { services.vfio-bind.iommu = "intel"; };
  iommuAmd = withInitrd { services.vfio-bind.iommu = "amd"; };
  iommuAmdPt = withInitrd {
    services.vfio-bind.iommu = "amd";
    services.vfio-bind.iommuPassthrough = true;
  };
  iommuIntelPt = withInitrd {
    services.vfio-bind.iommu = "intel";
    services.vfio-bind.iommuPassthrough = true;
  };
  knownParams = [ "intel_iommu=on" "iommu=pt" ];
  paramsOf = c: c.boot.kernelParams;

  # nixos-rebuild switch: binding waits for the next boot unless applyOnSwitch.
  stage2 = c: c.systemd.services.vfio-bind;
  applyOnSwitch = withInitrd { services.vfio-bind.applyOnSwitch = true; };
  conditionOf = c: (stage2 c).serviceConfig.ExecCondition or null;

  # extraConfig: raw lines after the generated ones, in stage 2 and in the initrd.
  extraText = "[Bind]\n# the second card\nDevice=0000:10:00.0 0000:10:00.1\nForce=0000:10:00.1";
  extra = withInitrd { services.vfio-bind.extraConfig = extraText; };
  extraDriver = withInitrd { services.vfio-bind.extraConfig = "[Bind]\n Driver = vfio-pci\n[Console]\nRelease=no\n"; };
  confText = c: c.environment.etc."vfio-bind.conf".source.text;
  endsWith =
    suffix: s:
    let
      n = builtins.stringLength s;
      k = builtins.stringLength suffix;
    in
    n >= k && builtins.substring (n - k) k s == suffix;

  # The stub keeps the names of definitions whose mkIf is false (their values are null or []),
  # where NixOS would have no such attribute: a unit without ExecStart= is no unit.
  unitOf =
    c:
    let
      u = c.boot.initrd.systemd.services.vfio-bind-initrd or null;
    in
    if u == null || (u.serviceConfig.ExecStart or null) == null then null else u;
  initrdConf = c: (c.boot.initrd.systemd.contents."/etc/vfio-bind.conf" or { }).source or null;
  unit = unitOf systemd1;

  # the dracut unit's ordering, as shipped
  dracutLines = lib.filter (l: l != "") (lib.splitString "\n" (builtins.readFile ../../dracut/vfio-bind-initrd.service.in));
  dracutWords =
    key:
    lib.concatMap (l: lib.filter (w: w != "") (lib.splitString " " (builtins.substring (builtins.stringLength key + 1) 1000 l))) (
      lib.filter (lib.hasPrefix "${key}=") dracutLines
    );
  dracutBefore = dracutWords "Before";
  dracutAfter = dracutWords "After";

  has = lib.elem;
  hasAll = xs: list: lib.all (x: lib.elem x list) xs;
  hasInfixIn = infix: list: lib.any (lib.hasInfix infix) list;
  expect = what: ok: if ok then [ ] else [ what ];

  pkg = "/nix/store/00000000000000000000000000000000-vfio-bind-0.1.0";

  checks = [
    (expect "libvirt hook: on with virtualisation.libvirtd.enable" (withLibvirt.services.vfio-bind.libvirtHook == true))
    (expect "libvirt hook: virtualisation.libvirtd.hooks.qemu.vfio-bind is the package's hook" (
      hookOf withLibvirt == "${pkg}/libexec/vfio-bind/vfio-bind-libvirt-hook"
    ))
    (expect "libvirt hook: off without libvirtd" (systemd1.services.vfio-bind.libvirtHook == false && hookOf systemd1 == null))
    (expect "libvirt hook: libvirtHook = false installs none" (hookOf libvirtNoHook == null))
    (expect "initrd unit: named vfio-bind-initrd, like the dracut module's" (
      !(systemd1.boot.initrd.systemd.services ? vfio-bind)
    ))
    (expect "initrd.enable defaults to boot.initrd.systemd.enable (on)" (systemd1.services.vfio-bind.initrd.enable == true))
    (expect "initrd.enable defaults to boot.initrd.systemd.enable (off)" (scripted.services.vfio-bind.initrd.enable == false))
    (expect "systemd stage 1: the initrd service exists" (unit != null))
    (expect "initrd unit: ExecStart=vfio-bindd --once" (unit.serviceConfig.ExecStart == "${pkg}/bin/vfio-bindd --once"))
    (expect "initrd unit: Type=oneshot (the units after it wait for the pass)" (unit.serviceConfig.Type == "oneshot"))
    (expect "initrd unit: DefaultDependencies=no" (unit.unitConfig.DefaultDependencies == false))
    (expect "initrd unit: ConditionPathExists=/etc/initrd-release" (unit.unitConfig.ConditionPathExists == "/etc/initrd-release"))
    (expect "initrd unit: before systemd-udev-trigger, systemd-modules-load, sysinit.target" (
      hasAll [ "systemd-udev-trigger.service" "systemd-modules-load.service" "sysinit.target" ] unit.before
    ))
    (expect "initrd unit: after the journal socket" (has "systemd-journald.socket" unit.after))
    (expect "initrd unit: wanted by sysinit.target" (unit.wantedBy == [ "sysinit.target" ]))
    (expect "initrd unit: the dracut unit's Before= less dracut's own dracut-pre-udev.service" (
      hasAll (lib.filter (u: u != "dracut-pre-udev.service") dracutBefore) unit.before
      && has "dracut-pre-udev.service" dracutBefore
    ))
    (expect "initrd unit: the dracut unit's After=" (dracutAfter == unit.after))
    (expect "initrd unit: the dracut unit is oneshot, DefaultDependencies=no, initrd only, vfio-bindd --once" (
      hasAll [
        "Type=oneshot"
        "DefaultDependencies=no"
        "ConditionPathExists=/etc/initrd-release"
        "ExecStart=@sbindir@/vfio-bindd --once"
      ] dracutLines
    ))
    (expect "initrd: /etc/vfio-bind.conf is the stage 2 file" (
      initrdConf systemd1 == systemd1.environment.etc."vfio-bind.conf".source
      && lib.hasInfix "Device=0000:0f:00.0 0f:00.1" systemd1.environment.etc."vfio-bind.conf".source.text
    ))
    (expect "initrd: vfio-bindd in storePaths (its libraries come as its references)" (
      systemd1.boot.initrd.systemd.storePaths == [ "${pkg}/bin/vfio-bindd" ]
    ))
    (expect "initrd: vfio_pci, vfio_iommu_type1 and vfio in availableKernelModules" (
      hasAll [ "vfio_pci" "vfio_iommu_type1" "vfio" ] systemd1.boot.initrd.availableKernelModules
    ))
    (expect "initrd: no vfio_virqfd for Linux 6.2 and later" (!has "vfio_virqfd" systemd1.boot.initrd.availableKernelModules))
    (expect "initrd: vfio_virqfd for Linux before 6.2" (has "vfio_virqfd" oldKernel.boot.initrd.availableKernelModules))
    (expect "initrd: Driver=pci-stub puts pci_stub in the initrd, no vfio modules" (
      pciStub.boot.initrd.availableKernelModules == [ "pci_stub" ]
    ))
    (expect "virtualFunctions alone: no failed assertion, a VirtualFunctions= line per PF" (
      failedAssertions vfsOnly == [ ]
      && lib.hasInfix "VirtualFunctions=0000:03:00.0 2\nVirtualFunctions=05:00.0 1\n"
        vfsOnly.environment.etc."vfio-bind.conf".source.text
    ))
    (expect "virtualFunctions: a slot is no PF address (assertion names it)" (
      lib.any (a: lib.hasInfix "\"03:00\" is not" a.message) (failedAssertions vfsBadPf)
    ))
    (expect "virtualFunctions: a PF that devices selects (assertion names it)" (
      lib.any (a: lib.hasInfix "names 03:00.0, which" a.message) (failedAssertions vfsSelectedPf)
    ))
    (expect "systemd stage 1: no warning" (systemd1.warnings == [ ]))
    (expect "systemd stage 1: no failed assertion" (lib.all (a: a.assertion) systemd1.assertions))
    (expect "scripted initrd by default: no initrd service, no warning" (
      unitOf scripted == null && initrdConf scripted == null && scripted.warnings == [ ]
      && scripted.boot.initrd.availableKernelModules == [ ]
    ))
    (expect "scripted initrd with initrd.enable: a warning saying what is lost, no assertion" (
      unitOf scriptedAsked == null
      && hasInfixIn "nothing is bound in stage 1" scriptedAsked.warnings
      && hasInfixIn "boot.initrd.systemd.enable = true" scriptedAsked.warnings
      && lib.all (a: a.assertion) scriptedAsked.assertions
    ))
    (expect "initrd.enable = false with systemd stage 1: no initrd service" (
      unitOf systemdOff == null && systemdOff.boot.initrd.systemd.storePaths == [ ]
    ))
    (expect "not enabled: nothing in the initrd" (
      unitOf disabled == null && initrdConf disabled == null
    ))
    (expect "iommu unset: no kernel parameter" (paramsOf systemd1 == [ ]))
    (expect "iommu = intel: intel_iommu=on" (paramsOf iommuIntel == [ "intel_iommu=on" ]))
    (expect "iommu = amd: no parameter (amd_iommu=on is no kernel option; AMD-Vi follows the firmware)" (
      paramsOf iommuAmd == [ ] && !(hasInfixIn "amd_iommu" (paramsOf iommuAmd))
    ))
    (expect "iommuPassthrough: iommu=pt, with either vendor" (
      paramsOf iommuAmdPt == [ "iommu=pt" ] && hasAll [ "intel_iommu=on" "iommu=pt" ] (paramsOf iommuIntelPt)
    ))
    (expect "iommu: every parameter one the kernel accepts" (
      lib.all (p: has p knownParams) (lib.concatMap paramsOf [ iommuIntel iommuAmd iommuAmdPt iommuIntelPt ])
    ))
    (expect "applyOnSwitch defaults to false" (systemd1.services.vfio-bind.applyOnSwitch == false))
    (expect "switch, by default: no reload trigger (a changed configuration does not reload the daemon)" (
      ((stage2 systemd1).reloadTriggers or [ ]) == [ ]
    ))
    (expect "switch, by default: no restart when the unit or package changes" ((stage2 systemd1).restartIfChanged == false))
    (expect "switch, by default: a start outside the booted system is skipped (ExecCondition)" (
      conditionOf systemd1 != null && lib.hasInfix "/run/booted-system -ef /run/current-system" (conditionOf systemd1)
    ))
    (expect "applyOnSwitch = true: the configuration file reloads the daemon" (
      (stage2 applyOnSwitch).reloadTriggers == [ applyOnSwitch.environment.etc."vfio-bind.conf".source ]
    ))
    (expect "applyOnSwitch = true: restarts allowed, no ExecCondition" (
      ((stage2 applyOnSwitch).restartIfChanged or null) != false && conditionOf applyOnSwitch == null
    ))
    (expect "extraConfig: its lines at the end of /etc/vfio-bind.conf, newline-terminated" (
      endsWith "[Console]\nRelease=auto\n\n${extraText}\n" (confText extra)
    ))
    (expect "extraConfig: the initrd gets the same file" (initrdConf extra == extra.environment.etc."vfio-bind.conf".source))
    (expect "extraConfig: repeatable keys need no assertion" (failedAssertions extra == [ ]))
    (expect "extraConfig: a key an option writes (Driver=) fails an assertion naming the option" (
      lib.any (a: lib.hasInfix "sets Driver=, Release=" a.message && lib.hasInfix "services.vfio-bind.driver" a.message
        && lib.hasInfix "services.vfio-bind.releaseConsole" a.message) (failedAssertions extraDriver)
    ))
    (expect "no extraConfig: the file ends with the [Console] section" (
      endsWith "[Console]\nRelease=auto\n" (confText systemd1)
    ))
    (expect "stage 2: the package's unit wanted by sysinit.target" (
      systemd1.systemd.services.vfio-bind.wantedBy == [ "sysinit.target" ]
    ))
  ];
in
{
  failures = builtins.concatLists checks;
  checked = builtins.length checks;
  cases = {
    initrdUnit = unit;
    initrdModules = systemd1.boot.initrd.availableKernelModules;
    scriptedWarnings = scriptedAsked.warnings;
    bootOnlyCondition = conditionOf systemd1;
    inherit dracutBefore dracutAfter;
  };
}
