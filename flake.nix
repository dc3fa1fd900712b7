# SPDX-License-Identifier: LGPL-2.1-or-later
{
  description = "vfio-bind: bind PCI devices to vfio-pci early in boot for VM passthrough";

  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";

  outputs =
    { self, nixpkgs }:
    let
      systems = [
        "x86_64-linux"
        "aarch64-linux"
      ];
      forAllSystems = f: nixpkgs.lib.genAttrs systems (system: f nixpkgs.legacyPackages.${system});
    in
    {
      overlays.default = final: prev: {
        vfio-bind = final.callPackage ./nix/package.nix { };
      };

      # The module's package defaults to pkgs.vfio-bind when the overlay is applied, and to
      # nix/package.nix built with the system's nixpkgs otherwise.
      nixosModules.default = ./nix/module.nix;
      nixosModules.vfio-bind = ./nix/module.nix;

      packages = forAllSystems (pkgs: rec {
        vfio-bind = pkgs.callPackage ./nix/package.nix { };
        default = vfio-bind;
      });

      checks = forAllSystems (
        pkgs:
        {
          package = self.packages.${pkgs.stdenv.hostPlatform.system}.default;
        }
        # The test machine needs QEMU's intel-iommu, which exists for x86 guests only.
        // nixpkgs.lib.optionalAttrs pkgs.stdenv.hostPlatform.isx86_64 {
          vm = pkgs.testers.runNixOSTest ./nix/test.nix;
        }
      );
    };
}
