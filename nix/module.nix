# SPDX-License-Identifier: LGPL-2.1-or-later
#
# NixOS module: services.vfio-bind binds PCI devices to vfio-pci early in boot, in place of
# boot.postBootCommands snippets that write driver_override, vtconsole and efi-framebuffer.
#
# The unit is the one the package ships (systemd/vfio-bind.service.in: Type=notify,
# DefaultDependencies=no, Before=systemd-modules-load.service systemd-udev-trigger.service
# sysinit.target display-manager.service); this module only enables it, writes
# /etc/vfio-bind.conf and, with initrd.enable (the default with systemd in stage 1), adds a
# one-shot run of vfio-bindd --once to the initrd.
{
  config,
  lib,
  pkgs,
  ...
}:

let
  inherit (lib)
    concatStringsSep
    elem
    filter
    hasInfix
    hasPrefix
    literalExpression
    mkEnableOption
    mkIf
    mkMerge
    mkOption
    optional
    replaceStrings
    types
    ;

  vb = import ./lib.nix;
  cfg = config.services.vfio-bind;

  selectorType = lib.mkOptionType {
    name = "vfio-bind-selector";
    description = vb.selectorDescription;
    descriptionClass = "noun";
    check = vb.isSelector;
    merge = lib.options.mergeEqualOption;
  };

  driverType = lib.mkOptionType {
    name = "vfio-bind-driver";
    description = "PCI driver name (letters, digits, _ . -; at most 64 characters)";
    descriptionClass = "noun";
    check = vb.isDriverName;
    merge = lib.options.mergeEqualOption;
  };

  durationType = lib.mkOptionType {
    name = "vfio-bind-duration";
    description = "duration of at most 300 s (10s, 500ms, 1.5s, 1min 30s)";
    descriptionClass = "noun";
    check = s: builtins.isString s && vb.isTimeout s;
    merge = lib.options.mergeEqualOption;
  };

  configFile = pkgs.writeText "vfio-bind.conf" (
    vb.configText {
      inherit (cfg)
        devices
        driver
        group
        unbindHost
        timeout
        releaseConsole
        force
        virtualFunctions
        stopUnits
        extraConfig
        ;
    }
  );

  # vfio_virqfd was merged into vfio in Linux 6.2; listing it there would make
  # systemd-modules-load.service fail.
  vfioModules = [
    "vfio_pci"
    "vfio_iommu_type1"
    "vfio"
  ]
  ++ optional (lib.versionOlder config.boot.kernelPackages.kernel.version "6.2") "vfio_virqfd";

  # Host GPU drivers that, loaded in the initrd, bind the card before stage 2 starts.
  gpuDrivers = [
    "nvidia"
    "nouveau"
    "amdgpu"
    "radeon"
    "i915"
    "xe"
  ];
  moduleName = m: replaceStrings [ "-" ] [ "_" ] m;
  isGpuDriver = m: elem (moduleName m) gpuDrivers || hasPrefix "nvidia_" (moduleName m);
  initrdGpuDrivers = filter isGpuDriver config.boot.initrd.kernelModules;

  # What the seed guide's postBootCommands wrote by hand; the service does it earlier.
  postBootCommands = config.boot.postBootCommands or "";
  postBootWrites = filter (w: hasInfix w postBootCommands) [
    "driver_override"
    "vtconsole"
    "efi-framebuffer"
  ];

  # virtualFunctions' names: full addresses, none also selected by address or slot in devices.
  badPfs = filter (pf: !vb.isPfAddress pf) (lib.attrNames cfg.virtualFunctions);
  canonical = a: lib.toLower (if builtins.match "[0-9a-fA-F]{1,8}:.*:.*" a != null then a else "0000:${a}");
  selectedPfs = filter (
    pf:
    vb.isPfAddress pf
    && lib.any (
      d:
      let
        kind = vb.selectorKind d;
      in
      (kind == "address" && canonical d == canonical pf)
      || (kind == "slot" && lib.hasPrefix "${canonical d}." (canonical pf))
    ) cfg.devices
  ) (lib.attrNames cfg.virtualFunctions);

  # Keys of extraConfig that an option writes already (set once in vfio-bind.conf(5)).
  onceKeys = {
    Driver = "driver";
    Group = "group";
    UnbindHost = "unbindHost";
    Timeout = "timeout";
    Release = "releaseConsole";
  };
  extraKeys = lib.concatMap (
    l:
    let
      m = builtins.match "[[:space:]]*([A-Za-z]+)[[:space:]]*=.*" l;
    in
    if m == null then [ ] else m
  ) (lib.splitString "\n" cfg.extraConfig);
  extraOnceKeys = lib.unique (filter (k: onceKeys ? ${k}) extraKeys);

  # Binding waits for the next boot (applyOnSwitch = false): a start while the running system is
  # not the booted one (a switch) is skipped. Missing links (another init) let it run.
  bootOnlyCondition = "${pkgs.runtimeShell} -c '[ ! -e /run/booted-system ] || [ ! -e /run/current-system ] || [ /run/booted-system -ef /run/current-system ]'";

  cmdlineSelects = lib.any (hasPrefix "vfio-bind.device=") config.boot.kernelParams;

  initrdBefore = [
    "systemd-udev-trigger.service"
    "systemd-modules-load.service"
    "sysinit.target"
    "shutdown.target"
  ];

  # The driver's module for the initrd: vfio-pci is module vfio_pci; the IOMMU backend
  # (vfio_iommu_type1) is only a soft dependency of vfio, so the vfio list goes in whole.
  # Another driver (pci-stub) by its module name; a built-in one needs nothing.
  # Driver=auto: vfio-pci and the variant drivers named for the initrd (its module index holds
  # only what is put in it).
  initrdModules =
    if cfg.driver == "auto" then
      lib.unique (vfioModules ++ cfg.initrd.variantModules)
    else if hasPrefix "vfio" cfg.driver then
      lib.unique (vfioModules ++ [ (moduleName cfg.driver) ])
    else
      [ (moduleName cfg.driver) ];
in
{
  options.services.vfio-bind = {
    enable = mkEnableOption "vfio-bindd, which binds PCI devices to vfio-pci early in boot for VM passthrough";

    package = mkOption {
      type = types.package;
      default = pkgs.vfio-bind or (pkgs.callPackage ./package.nix { });
      defaultText = literalExpression "pkgs.vfio-bind or (pkgs.callPackage ./package.nix { })";
      description = "The vfio-bind package to use.";
    };

    devices = mkOption {
      type = types.listOf selectorType;
      default = [ ];
      example = [
        "0000:0f:00.0"
        "0000:0f:00.1"
      ];
      description = ''
        The PCI functions to bind ({file}`/etc/vfio-bind.conf` `Device=`): full addresses
        (`0000:0f:00.0`; behind Intel VMD the domain has up to 8 digits, `10000:e1:00.0`), short
        addresses (`0f:00.0`, domain 0000), slots (`0f:00`: every function in the slot) or
        vendor:device IDs (`10de:13c0`: every card of that model, the host's too).
        Each is checked when the system is evaluated. Every endpoint of an IOMMU group must go to
        the virtual machine together: list the GPU's audio function too, or select the slot.
      '';
    };

    force = mkOption {
      type = types.listOf selectorType;
      default = [ ];
      example = [ "0000:05:00.0" ];
      description = ''
        Devices that may be bound even though the host is using them (a mounted file system or
        swap behind them, a network interface that is up with an address, the console in use with
        `releaseConsole = "no"`), which the service otherwise refuses. Written like
        {option}`services.vfio-bind.devices`; a device must be listed there as well to be bound.
      '';
    };

    virtualFunctions = mkOption {
      type = types.attrsOf (types.ints.between 1 65535);
      default = { };
      example = literalExpression ''{ "0000:03:00.0" = 4; }'';
      description = ''
        SR-IOV virtual functions to create at boot, per physical function (by its full PCI
        address), and to bind like the devices of {option}`services.vfio-bind.devices` (to
        {option}`services.vfio-bind.driver`). vfio-bindd switches the PF's
        `sriov_drivers_autoprobe` off, writes the count to `sriov_numvfs`, sets each VF's
        `driver_override` and switches autoprobe back, so that no host VF driver binds one; the PF
        keeps its host driver and must not be listed in {option}`services.vfio-bind.devices`. A PF
        that has a different number of VFs already is left alone (changing the count would
        destroy them). `vfio-bind check` shows what would be created.
      '';
    };

    driver = mkOption {
      type = driverType;
      default = "auto";
      example = "vfio-pci";
      description = ''
        The driver to bind the devices to. `auto` (the default) chooses for each device, as
        libvirt does: its modalias with `pci:` replaced by `vfio_pci:` is looked up in the kernel's
        module index, and the VFIO variant driver with the most specific alias (fewest wildcard
        fields; a tie goes to vfio-pci, else to the module name that sorts first) wins, else
        vfio-pci. Anything else names one driver as in {file}`/sys/bus/pci/drivers/`
        (`vfio-pci`, not the module name `vfio_pci`; `pci-stub`).

        NixOS keeps the modules under {file}`/run/booted-system/kernel-modules/lib/modules`, not
        {file}`/lib/modules`: the service gets `MODULE_DIR` set to that directory, which
        nixpkgs' libkmod honours, as NixOS does for its own module loading. In the initrd the
        modules are under {file}`/lib/modules`; only the variant drivers listed in
        {option}`services.vfio-bind.initrd.variantModules` are there.
      '';
    };

    group = mkOption {
      type = types.enum [
        "check"
        "take"
        "ignore"
      ];
      default = "check";
      description = ''
        The other members of a selected device's IOMMU group: `check` refuses a device whose
        group has other endpoints on host drivers, `take` binds them too, `ignore` does not look.
      '';
    };

    unbindHost = mkOption {
      type = types.bool;
      default = true;
      description = ''
        Whether a device that a host driver already holds may be taken away from it. Unbinding a
        GPU driver that drives the host's screen can hang the session; prefer
        {option}`services.vfio-bind.initrd.enable` when the host driver loads in the initrd.
      '';
    };

    releaseConsole = mkOption {
      type = types.enum [
        "auto"
        "yes"
        "no"
      ];
      default = "auto";
      description = ''
        Whether to take the text console and the firmware framebuffer (efi-framebuffer,
        simple-framebuffer, …) off the GPU before binding it: `auto` does so only when a device
        being bound owns them, `yes` whenever a device is bound, `no` never.
      '';
    };

    stopUnits = mkOption {
      type = types.listOf (
        lib.mkOptionType {
          name = "systemd unit name";
          description = "a systemd unit name with its type (display-manager.service)";
          check = x: lib.isString x && vb.isUnitName x;
        }
      );
      default = [ ];
      example = [
        "display-manager.service"
        "nvidia-persistenced.service"
      ];
      description = ''
        The units `vfio-bind bind` may stop when a process of theirs holds a device it binds (a
        display manager with the GPU's card open, an audio server, an NVIDIA persistence daemon),
        and that `vfio-bind release` starts again after giving the device and the console back:
        the single-GPU handoff, by two commands a libvirt hook can run. A unit not listed is
        never stopped; a device it holds is refused, naming it. `[Handoff] StopUnits=` in
        vfio-bind.conf(5).
      '';
    };

    timeout = mkOption {
      type = types.either (types.ints.between 0 300) durationType;
      default = "10s";
      example = "1min";
      description = ''
        How long to wait at boot for selected devices that have not appeared yet, as seconds or
        a duration (`10s`, `500ms`, `1min 30s`); at most 300 s. The service reports the missing
        ones and stays ready to bind them when they appear.
      '';
    };

    iommu = mkOption {
      type = types.nullOr (
        types.enum [
          "intel"
          "amd"
        ]
      );
      default = null;
      example = "intel";
      description = ''
        The machine's IOMMU, for the kernel command line. `"intel"` adds `intel_iommu=on` to
        {option}`boot.kernelParams` (Intel's IOMMU stays off without it unless the kernel is
        built with `INTEL_IOMMU_DEFAULT_ON`). `"amd"` adds nothing: AMD-Vi is on whenever the
        firmware enables it, and `amd_iommu=on` is not a kernel option (the kernel logs
        "AMD-Vi: Unknown option - 'on'"). Either way the IOMMU must be enabled in the firmware
        setup ("VT-d"; "IOMMU", "AMD-Vi" or "SVM"). Without an active IOMMU there are no IOMMU
        groups and nothing can be passed through. See also
        {option}`services.vfio-bind.iommuPassthrough`.
      '';
    };

    iommuPassthrough = mkOption {
      type = types.bool;
      default = false;
      example = true;
      description = ''
        Add `iommu=pt` to {option}`boot.kernelParams`, as most VFIO guides do: the IOMMU maps
        the host's own devices one to one (pass-through mode) instead of translating their DMA,
        which spares the host's I/O the cost of translation. Devices given to a guest through VFIO
        are translated and isolated either way. Works with Intel and AMD IOMMUs.
      '';
    };

    applyOnSwitch = mkOption {
      type = types.bool;
      default = false;
      example = true;
      description = ''
        Whether `nixos-rebuild switch` (or `test`) binds at once. By default it does not: the
        devices are bound at the next boot, before their host drivers load. A switch writes the
        new {file}`/etc/vfio-bind.conf`, but the running vfio-bindd is neither reloaded nor
        restarted (not when its package changes either) and keeps the configuration it started
        with; a switch that enables the service does not start it (an `ExecCondition=` skips any
        start while {file}`/run/current-system` is not the booted system, so a
        `systemctl restart vfio-bind` after a switch stops it until the next boot; use
        `systemctl reload vfio-bind` or `vfio-bind bind` to bind now).

        With `true`, a switch that changes the configuration reloads vfio-bindd (`ExecReload=`,
        SIGHUP), a changed package restarts it, and a switch that enables the service starts it:
        newly listed devices are bound right away, under the same rules as at boot. With
        {option}`services.vfio-bind.unbindHost` (the default) that unbinds a host driver from a
        device in use: the GPU that drives the desktop loses it mid-session. Devices removed from
        the list stay on their VFIO driver either way until `vfio-bind release` or the next boot.
      '';
    };

    extraConfig = mkOption {
      type = types.lines;
      default = "";
      example = ''
        [Bind]
        # a second card of the same model, kept apart for clarity
        Device=0000:10:00.0 0000:10:00.1
      '';
      description = ''
        Lines added as they are to the end of {file}`/etc/vfio-bind.conf` (and the initrd's copy),
        after what the options above write, for what they do not cover; see vfio-bind.conf(5).
        Start with a section header (`[Bind]` or `[Console]`). The keys that may be given more
        than once (`Device=`, `Force=`, `VirtualFunctions=`) add to the options' lists; the
        others (`Driver=`, `Group=`, `UnbindHost=`, `Timeout=`, `Release=`) are written from their
        options already, so setting one here fails an assertion that names the option to use.
        A line the parser rejects makes vfio-bindd refuse the whole configuration at boot:
        check the file with `vfio-bindd --validate`.
      '';
    };

    libvirtHook = mkOption {
      type = types.bool;
      default = config.virtualisation.libvirtd.enable;
      defaultText = literalExpression "config.virtualisation.libvirtd.enable";
      example = false;
      description = ''
        Whether to install vfio-bind's libvirt hook as
        {option}`virtualisation.libvirtd.hooks.qemu`'s `vfio-bind`. For a domain's PCI host
        devices with `managed='no'` it runs `vfio-bind bind` when the domain starts (a process
        that holds the GPU aborts the start with its name; [Handoff] StopUnits=, the console and
        the IOMMU group as for a bind by hand) and gives back what it took when the domain stops.
        Devices in {option}`services.vfio-bind.devices` stay on vfio-pci (vfio-bindd's), and
        `managed='yes'` devices are left to libvirt. It logs to the journal
        (`journalctl VFIO_BIND_DOMAIN=name`). See the README's "With libvirt".
      '';
    };

    initrd.variantModules = mkOption {
      type = types.listOf types.str;
      default = [ ];
      example = [ "mlx5_vfio_pci" ];
      description = ''
        VFIO variant driver modules to put in the initrd, so that `driver = "auto"` can choose
        them there (stage 2 finds every installed module through the module index). A device
        whose variant is missing from the initrd is bound to vfio-pci there and left on it in
        stage 2 (vfio-bind release, then vfio-bind bind, moves it).
      '';
    };

    initrd.enable = mkOption {
      type = types.bool;
      default = config.boot.initrd.systemd.enable;
      defaultText = literalExpression "config.boot.initrd.systemd.enable";
      example = true;
      description = ''
        Whether to run `vfio-bindd --once` in systemd stage 1 as well, before the initrd's udev
        coldplug and systemd-modules-load, so that GPU drivers loaded in the initrd (amdgpu early
        KMS, nvidia in {option}`boot.initrd.kernelModules`) never get the devices. The
        configuration file, `vfio-bindd` with its libraries and the driver's kernel modules go
        into the initrd; `vfio-bind=off` on the kernel command line disables this run too.
        On by default with {option}`boot.initrd.systemd.enable`; the scripted initrd has no
        service manager to run it in (setting it there only gives a warning).
      '';
    };
  };

  config = mkIf cfg.enable (mkMerge [
    {
      assertions = [
        {
          assertion = cfg.devices != [ ] || cfg.virtualFunctions != { } || cmdlineSelects;
          message = ''
            services.vfio-bind.enable is set but services.vfio-bind.devices is empty, so nothing
            would be bound. List the devices, for example
              services.vfio-bind.devices = [ "0000:0f:00.0" "0000:0f:00.1" ];
            (`vfio-bind groups` shows the IOMMU groups and their addresses).
          '';
        }
        {
          assertion = badPfs == [ ];
          message = ''
            services.vfio-bind.virtualFunctions: ${concatStringsSep ", " (map (k: "\"${k}\"") badPfs)} is not
            the PCI address of one physical function (like "0000:03:00.0").
          '';
        }
        {
          assertion = selectedPfs == [ ];
          message = ''
            services.vfio-bind.virtualFunctions names ${concatStringsSep ", " selectedPfs}, which
            services.vfio-bind.devices selects too: a physical function whose virtual functions are
            created keeps its host driver. Remove it from services.vfio-bind.devices.
          '';
        }
        {
          assertion = extraOnceKeys == [ ];
          message = ''
            services.vfio-bind.extraConfig sets ${
              concatStringsSep ", " (map (k: "${k}=") extraOnceKeys)
            }, which the module writes from ${
              concatStringsSep ", " (map (k: "services.vfio-bind.${onceKeys.${k}}") extraOnceKeys)
            } already (each may be set once). Set that option instead.
          '';
        }
      ];

      warnings =
        optional (initrdGpuDrivers != [ ] && !cfg.initrd.enable) ''
          boot.initrd.kernelModules loads ${concatStringsSep ", " initrdGpuDrivers} in the initrd,
          before vfio-bind.service runs in stage 2. If a device in services.vfio-bind.devices uses
          that driver, it holds the card first and must be unbound from a live GPU; set
          services.vfio-bind.initrd.enable = true (with boot.initrd.systemd.enable) to bind in
          the initrd instead.
        ''
        ++ optional (postBootWrites != [ ]) ''
          boot.postBootCommands still writes ${concatStringsSep ", " postBootWrites}: services.vfio-bind
          does this earlier and checks the result. Remove those lines from boot.postBootCommands.
        '';

      # Only what the kernel accepts: there is no amd_iommu=on (AMD-Vi follows the firmware).
      boot.kernelParams = optional (cfg.iommu == "intel") "intel_iommu=on" ++ optional cfg.iommuPassthrough "iommu=pt";
      boot.kernelModules = vfioModules;

      environment.etc."vfio-bind.conf".source = configFile;
      environment.systemPackages = [ cfg.package ];

      # The package's own unit; NixOS ignores [Install], so wantedBy stands in for it.
      systemd.packages = [ cfg.package ];
      systemd.services.vfio-bind = mkMerge [
        {
          wantedBy = [ "sysinit.target" ];
          # Where nixpkgs' libkmod finds this boot's modules (Driver=auto looks in their index).
          environment.MODULE_DIR = "/run/booted-system/kernel-modules/lib/modules";
        }
        # A switch applies the configuration at once: a changed file reloads vfio-bindd, which
        # rereads it on SIGHUP (ExecReload=) and binds what is new.
        (mkIf cfg.applyOnSwitch {
          reloadTriggers = [ configFile ];
        })
        # Binding waits for the next boot: a switch neither reloads nor restarts the daemon, and
        # a start by a switch (the service newly enabled) is skipped.
        (mkIf (!cfg.applyOnSwitch) {
          restartIfChanged = false;
          serviceConfig.ExecCondition = bootOnlyCondition;
        })
      ];
    }

    # libvirt runs every program in its qemu.d hook directory; the NixOS option links them there.
    (mkIf cfg.libvirtHook {
      virtualisation.libvirtd.hooks.qemu.vfio-bind = "${cfg.package}/libexec/vfio-bind/vfio-bind-libvirt-hook";
    })

    (mkIf (cfg.initrd.enable && !config.boot.initrd.systemd.enable) {
      warnings = [
        ''
          services.vfio-bind.initrd.enable is set, but the scripted initrd
          (boot.initrd.systemd.enable = false) has no service manager to run vfio-bindd in, so
          nothing is bound in stage 1: a driver loaded in the initrd (boot.initrd.kernelModules,
          early KMS) gets the devices first, and vfio-bind.service in stage 2 can only unbind it
          from a live device (UnbindHost=yes) or refuse. Set boot.initrd.systemd.enable = true to
          bind in the initrd.
        ''
      ];
    })

    (mkIf (cfg.initrd.enable && config.boot.initrd.systemd.enable) {
      # vfio-bindd loads the driver itself through libkmod; its module and their dependencies
      # (the closure is taken from modules.dep) must be in the initrd.
      boot.initrd.availableKernelModules = initrdModules;

      boot.initrd.systemd = {
        contents."/etc/vfio-bind.conf".source = configFile;
        # The program and, through its references, the libraries it links (libsystemd, libudev,
        # libkmod, libc).
        storePaths = [ "${cfg.package}/bin/vfio-bindd" ];

        # The name of the dracut module's unit: the journal tells the two runs apart by it.
        services.vfio-bind-initrd = {
          description = "Bind PCI devices to vfio-pci in the initrd";
          documentation = [ "man:vfio-bindd(8)" ];
          wantedBy = [ "sysinit.target" ];
          # What the dracut module's unit (dracut/vfio-bind-initrd.service.in) has, which the
          # two-stage QEMU test boots; NixOS's initrd has no dracut-pre-udev.service, and its
          # own module loading is systemd-modules-load.service.
          before = initrdBefore;
          after = [ "systemd-journald.socket" ];
          conflicts = [ "shutdown.target" ];
          unitConfig = {
            DefaultDependencies = false;
            ConditionPathExists = "/etc/initrd-release";
          };
          serviceConfig = {
            # oneshot: the units ordered after it wait until the pass is done.
            Type = "oneshot";
            ExecStart = "${cfg.package}/bin/vfio-bindd --once";
            # --once waits up to Timeout= (at most 300 s) for missing devices.
            TimeoutStartSec = "6min";
          };
        };
      };
    })
  ]);
}
