# SPDX-License-Identifier: LGPL-2.1-or-later
#
# vfio-bind for nixpkgs: `pkgs.callPackage ./nix/package.nix { }`.
{
  lib,
  stdenv,
  meson,
  ninja,
  pkg-config,
  scdoc,
  systemd,
  kmod,
  libxml2,
}:

let
  vb = import ./lib.nix;
  root = ../.;

  # The sources meson needs: not the Nix files (editing the module must not rebuild the
  # package), not build directories or result links.
  src = lib.cleanSourceWith {
    name = "vfio-bind-source";
    src = lib.cleanSource root;
    filter =
      path: type:
      let
        rel = lib.removePrefix (toString root + "/") (toString path);
        base = baseNameOf path;
      in
      !(
        rel == "nix"
        || rel == "flake.nix"
        || rel == "flake.lock"
        || (type == "directory" && lib.hasPrefix "build" rel && !(lib.hasInfix "/" rel))
        || lib.hasPrefix "result" base
      );
  };
in
stdenv.mkDerivation (finalAttrs: {
  pname = "vfio-bind";
  version = vb.mesonProjectVersion (builtins.readFile (root + "/meson.build"));

  inherit src;

  strictDeps = true;

  nativeBuildInputs = [
    meson
    ninja
    pkg-config
    scdoc
  ];

  buildInputs = [
    systemd # libsystemd (sd_notify, sd-event, journal) and libudev
    kmod # libkmod
    libxml2 # libvirt's domain XML (the libvirt hook, vfio-bind check)
  ];

  mesonFlags = [
    # vfio-bindd reads /etc/vfio-bind.conf, not a file in the store.
    (lib.mesonOption "sysconfdir" "/etc")
    # One bin/ for both programs; the unit's ExecStart= follows sbindir. The meson setup hook
    # passes --sbindir=$out/sbin first; a later --sbindir wins, while -Dsbindir= beside it is
    # an error ("Got argument sbindir as both -Dsbindir and --sbindir").
    "--sbindir=bin"
    (lib.mesonOption "unitdir" "${placeholder "out"}/lib/systemd/system")
    # The dracut module otherwise goes to /usr/lib/dracut/modules.d, outside the store.
    (lib.mesonOption "dracutmodulesdir" "${placeholder "out"}/lib/dracut/modules.d")
    # The libvirt hook is not linked into /etc from the store: the NixOS module puts it into
    # virtualisation.libvirtd.hooks.qemu (services.vfio-bind.libvirtHook).
    (lib.mesonOption "libvirthooksdir" "no")
    (lib.mesonEnable "man-pages" true)
    (lib.mesonBool "tests" finalAttrs.doCheck)
    # The real-kernel tests boot QEMU guests: not inside the build sandbox.
    (lib.mesonEnable "vm-tests" false)
  ];

  # The unit tests run on fake sysfs trees with a fake kernel: no root, no /sys.
  doCheck = stdenv.buildPlatform.canExecute stdenv.hostPlatform;

  meta = {
    description = "Bind PCI devices to vfio-pci early in boot for VM passthrough";
    longDescription = ''
      vfio-bindd is an early-boot systemd service that binds selected PCI devices (by address,
      slot or vendor:device ID) to vfio-pci before udev coldplug and systemd-modules-load can
      load their host drivers, checks their IOMMU groups, releases the console framebuffer when
      the GPU owns it, and reports the outcome in its systemd status line. vfio-bind is the
      command line tool that lists IOMMU groups and checks a configuration before a reboot.
    '';
    license = lib.licenses.lgpl21Plus;
    platforms = lib.platforms.linux;
    mainProgram = "vfio-bind";
  };
})
