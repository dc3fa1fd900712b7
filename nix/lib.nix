# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Pure helpers for module.nix and package.nix: the device selector grammar, the Timeout= and
# Driver= checks, and the text of /etc/vfio-bind.conf. Builtins only (no nixpkgs lib), so that
# tests/nix/check.sh can evaluate them with nothing but nix-instantiate.
#
# lib/selector.c, lib/config.c and lib/value.c are the authority (see vfio-bind.conf(5)); these
# functions accept exactly what they accept, so that a typo fails `nixos-rebuild` instead of the boot.
let
  hex = "[0-9a-fA-F]";
  # DDDD: (domain, optional: 1 to 8 digits, 0 to ffffffff, as lib/selector.c; Intel VMD puts
  # devices in domains 10000 and up), BB (bus), SS (slot, 00-1f), F (function, 0-7).
  domain = "(${hex}{1,8}:)?";
  bus = "${hex}{1,2}";
  slot = "[01]?${hex}";

  matches = re: s: builtins.match re s != null;

  sum = builtins.foldl' (a: b: a + b) 0;

  lines = text: builtins.filter builtins.isString (builtins.split "\n" text);

  # Microseconds per Timeout= unit (lib/value.c duration_units); a number without unit is in
  # seconds.
  timeUnits = {
    "usec" = 1;
    "us" = 1;
    "msec" = 1000;
    "ms" = 1000;
    "sec" = 1000000;
    "s" = 1000000;
    "min" = 60000000;
    "m" = 60000000;
    "h" = 3600000000;
  };
  # Longer names first, so that the regular expression does not stop at "m" in "min".
  unitAlternatives = "usec|us|msec|ms|sec|s|min|m|h";
  # One part: a number, an optional fraction, blanks, an optional unit. Parts may follow each
  # other with or without blanks ("1min 30s", "1min30s"). Blanks are spaces and tabs only.
  timePart = "([0-9]+)(\\.([0-9]+))?[ \t]*(${unitAlternatives})?";
  timeSpan = "[ \t]*(${timePart}[ \t]*)+";

  # A decimal string of digits as an integer; fromJSON alone refuses leading zeros ("05").
  toInt = s: if s == "" then 0 else builtins.fromJSON (builtins.head (builtins.match "0*([0-9]+)" s));

  chars = s: builtins.genList (i: builtins.substring i 1 s) (builtins.stringLength s);

  # The fraction as lib/value.c adds it: each digit is worth a tenth of the one before, and
  # digits finer than a microsecond are dropped.
  fractionUsec =
    unit: digits:
    (builtins.foldl'
      (
        acc: d:
        if acc.mult >= 10 then
          {
            mult = acc.mult / 10;
            usec = acc.usec + toInt d * (acc.mult / 10);
          }
        else
          acc
      )
      {
        mult = unit;
        usec = 0;
      }
      (chars digits)
    ).usec;

  # The captures of one timePart match as microseconds.
  partUsec =
    m:
    let
      unitName = builtins.elemAt m 3;
      unit = if unitName == null then timeUnits.s else timeUnits.${unitName};
      fraction = builtins.elemAt m 2;
    in
    toInt (builtins.elemAt m 0) * unit + (if fraction == null then 0 else fractionUsec unit fraction);
in
rec {
  # Regular expressions (whole string) for the three selector forms.
  selectorPatterns = {
    address = "${domain}${bus}:${slot}\\.[0-7]";
    slot = "${domain}${bus}:${slot}";
    id = "${hex}{4}:${hex}{4}";
  };

  # "address", "slot" or "id" for a valid selector, null otherwise.
  selectorKind =
    s:
    let
      kinds = builtins.filter (k: matches selectorPatterns.${k} s) [
        "address"
        "slot"
        "id"
      ];
    in
    if builtins.isString s && kinds != [ ] then builtins.head kinds else null;

  isSelector = s: selectorKind s != null;

  # VirtualFunctions=: the physical function by its full address, and a count of 1 to 65535.
  isPfAddress = s: selectorKind s == "address";
  isVfCount = n: builtins.isInt n && n >= 1 && n <= 65535;

  # StopUnits=: a unit name with its type, as vfio-bind.conf(5) accepts it (lib/config.c).
  isUnitName =
    s:
    builtins.stringLength s <= 255
    && builtins.match "[A-Za-z0-9:_\\-][A-Za-z0-9:_.\\@-]*[.](service|scope|socket|target|mount|path|timer|slice|swap|automount|device)" s != null;

  selectorDescription = "PCI device selector (address 0000:0f:00.0 or 0f:00.0, slot 0f:00, or vendor:device 10de:13c0)";

  # Driver=: the name in /sys/bus/pci/drivers/, never a path.
  isDriverName =
    s:
    builtins.isString s
    && matches "[A-Za-z0-9_.-]{1,64}" s
    && s != "."
    && s != "..";

  timeoutMaxUsec = 300 * 1000000;

  # Timeout= as microseconds: an integer of seconds, or a duration string ("10s", "500ms",
  # "1.5s", "1min 30s", "2"). null if it is neither.
  timeoutUsec =
    v:
    if builtins.isInt v then
      (if v >= 0 then v * 1000000 else null)
    else if builtins.isString v && matches timeSpan v then
      sum (map partUsec (builtins.filter builtins.isList (builtins.split timePart v)))
    else
      null;

  isTimeout =
    v:
    let
      usec = timeoutUsec v;
    in
    usec != null && usec <= timeoutMaxUsec;

  formatTimeout = v: if builtins.isInt v then "${toString v}s" else v;

  formatBool = b: if b then "yes" else "no";

  # The text of /etc/vfio-bind.conf (see vfio-bind.conf(5)). An empty value is an error there, so
  # no devices means no Device= line (the kernel command line may still add some), and no forced
  # devices no Force= line.
  configText =
    {
      devices,
      driver,
      group,
      unbindHost,
      timeout,
      releaseConsole,
      force ? [ ],
      virtualFunctions ? { },
      stopUnits ? [ ],
      extraConfig ? "",
    }:
    let
      selectors = key: list: if list == [ ] then "" else "${key}=${builtins.concatStringsSep " " list}\n";
      vfLines = builtins.concatStringsSep "" (
        map (pf: "VirtualFunctions=${pf} ${toString virtualFunctions.${pf}}\n") (builtins.attrNames virtualFunctions)
      );
    in
    ''
      # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
      [Bind]
    ''
    + selectors "Device" devices
    + selectors "Force" force
    + vfLines
    + ''
      Driver=${driver}
      Group=${group}
      UnbindHost=${formatBool unbindHost}
      Timeout=${formatTimeout timeout}

      [Console]
      Release=${releaseConsole}
    ''
    + (if stopUnits == [ ] then "" else "\n[Handoff]\n" + selectors "StopUnits" stopUnits)
    # services.vfio-bind.extraConfig: as it is, after a blank line, ending in a newline
    + (
      if extraConfig == "" then
        ""
      else
        "\n" + extraConfig + (if builtins.match ".*\n" extraConfig != null then "" else "\n")
    );

  # version : '0.1.0' from the project() call of a meson.build.
  mesonProjectVersion =
    text:
    let
      found = builtins.filter (m: m != null) (
        map (builtins.match "[[:space:]]*version[[:space:]]*:[[:space:]]*'([^']+)'.*") (lines text)
      );
    in
    if found == [ ] then throw "meson.build: no project version found" else builtins.head (builtins.head found);
}
