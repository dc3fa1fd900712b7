# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Offline evaluation of nix/lib.nix against tests/nix/cases.nix: builtins only, no nixpkgs.
#   nix-instantiate --eval --strict --json tests/nix/check.nix
# gives { failures = [ … ]; checked = N; cases = { … }; }; failures must be empty. `cases` is what
# check.sh feeds to vfio-bindd --validate.
let
  vb = import ../../nix/lib.nix;
  cases = import ./cases.nix;

  names = builtins.attrNames;
  show = builtins.toJSON;

  expect =
    what: got: want:
    if got == want then [ ] else [ "${what}: got ${show got}, want ${show want}" ];

  checks =
    map (s: expect "selector ${show s}" (vb.selectorKind s) cases.selectors.${s}) (names cases.selectors)
    ++ map (s: expect "selector ${show s} valid" (vb.isSelector s) (cases.selectors.${s} != null)) (
      names cases.selectors
    )
    ++ map (t: expect "timeout ${show t}" (
      if vb.isTimeout t then vb.timeoutUsec t else null
    ) cases.timeouts.${t}) (names cases.timeouts)
    ++ map (n: expect "timeout ${n} (integer)" (vb.isTimeout (builtins.fromJSON n)) cases.timeoutInts.${n}) (
      names cases.timeoutInts
    )
    ++ map (d: expect "driver ${show d}" (vb.isDriverName d) cases.drivers.${d}) (names cases.drivers)
    ++ map (u: expect "unit ${show u}" (vb.isUnitName u) cases.units.${u}) (names cases.units)
    ++ map (c: expect "config ${c}" (vb.configText cases.configs.${c}.options) cases.configs.${c}.text) (
      names cases.configs
    )
    ++ [
      (expect "version of meson.build" (vb.mesonProjectVersion (builtins.readFile ../../meson.build)) (
        builtins.head (builtins.match ".*project\\('vfio-bind', 'c',[[:space:]]*version : '([^']+)'.*" (
          builtins.readFile ../../meson.build
        ))
      ))
      (expect "meson version in a project() call" (vb.mesonProjectVersion ''
        project('x', 'c',
                license : 'MIT',
                version : '1.2.3',
        )
      '') "1.2.3")
      (expect "flake outputs' arguments" (builtins.functionArgs (import ../../flake.nix).outputs) {
        self = false;
        nixpkgs = false;
      })
    ];
in
{
  failures = builtins.concatLists checks;
  checked = builtins.length checks;
  # For check.sh: every case as the daemon must judge it.
  cases = {
    inherit (cases) fileSyntax;
    selectors = map (s: {
      value = s;
      valid = cases.selectors.${s} != null;
    }) (names cases.selectors);
    timeouts = map (t: {
      value = t;
      valid = cases.timeouts.${t} != null;
    }) (names cases.timeouts);
    drivers = map (d: {
      value = d;
      valid = cases.drivers.${d};
    }) (names cases.drivers);
    units = map (u: {
      value = u;
      valid = cases.units.${u};
    }) (names cases.units);
    configs = map (c: {
      name = c;
      text = cases.configs.${c}.text;
    }) (names cases.configs);
  };
}
