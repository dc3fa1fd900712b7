# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Pure helpers for module.nix and package.nix: the device selector grammar, the Timeout= and
# Driver= checks, and the text of /etc/vfio-bind.conf. Builtins only (no nixpkgs lib), so that
# tests/nix/check.sh can evaluate them with nothing but nix-instantiate.
#
# lib/selector.c and lib/config.c are the authority (see vfio-bind.conf(5)); these functions
# accept exactly what they accept, so that a typo fails `nixos-rebuild` instead of the boot.
let
  hex = "[0-9a-fA-F]";
  # DDDD: (domain, optional), BB (bus), SS (slot, 00-1f), F (function, 0-7).
  domain = "(${hex}{1,4}:)?";
  bus = "${hex}{1,2}";
  slot = "[01]?${hex}";

  matches = re: s: builtins.match re s != null;

  sum = builtins.foldl' (a: b: a + b) 0;

  lines = text: builtins.filter builtins.isString (builtins.split "\n" text);

  # Microseconds per Timeout= unit; a number without unit is in seconds.
  timeUnits = {
    "us" = 1;
    "ms" = 1000;
    "" = 1000000;
    "s" = 1000000;
    "sec" = 1000000;
    "m" = 60000000;
    "min" = 60000000;
    "h" = 3600000000;
  };
  unitNames = builtins.concatStringsSep "|" (builtins.filter (u: u != "") (builtins.attrNames timeUnits));
  timePart = "([0-9]+)(\\.([0-9]+))?(${unitNames})?";

  # A decimal string of digits as an integer; fromJSON alone refuses leading zeros ("05").
  toInt = s: if s == "" then 0 else builtins.fromJSON (builtins.head (builtins.match "0*([0-9]+)" s));

  pow10 = n: if n == 0 then 1 else 10 * pow10 (n - 1);

  # One part of a duration, "1.5s", as microseconds: integer arithmetic, the fraction cut after
  # nanoseconds first so that the numbers stay small.
  partUsec =
    part:
    let
      m = builtins.match timePart part;
      whole = toInt (builtins.elemAt m 0);
      fraction = builtins.elemAt m 2;
      unit = timeUnits.${if builtins.elemAt m 3 == null then "" else builtins.elemAt m 3};
      digits = builtins.substring 0 9 (if fraction == null then "" else fraction);
    in
    whole * unit + toInt digits * unit / pow10 (builtins.stringLength digits);
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
  # "1.5s", "1min 30s", "2"), parts separated by spaces. null if it is neither.
  timeoutUsec =
    v:
    if builtins.isInt v then
      (if v >= 0 then v * 1000000 else null)
    else if builtins.isString v && matches "${timePart}( +${timePart})*" v then
      sum (map partUsec (builtins.filter builtins.isString (builtins.split " +" v)))
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
  # no devices means no Device= line (the kernel command line may still add some).
  configText =
    {
      devices,
      driver,
      group,
      unbindHost,
      timeout,
      releaseConsole,
    }:
    ''
      # Generated from the NixOS options services.vfio-bind.*; see vfio-bind.conf(5).
      [Bind]
    ''
    + (if devices == [ ] then "" else "Device=${builtins.concatStringsSep " " devices}\n")
    + ''
      Driver=${driver}
      Group=${group}
      UnbindHost=${formatBool unbindHost}
      Timeout=${formatTimeout timeout}

      [Console]
      Release=${releaseConsole}
    '';

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
