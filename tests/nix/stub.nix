# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Just enough of nixpkgs' lib and of the NixOS module system to evaluate nix/module.nix with
# builtins only (CI has no nixpkgs): the lib functions module.nix uses, option defaults, mkIf and
# mkMerge pushed down to the leaves the way lib/modules.nix does it (so that a condition that
# reads `config` is only forced at the leaf), lists concatenated, other values taken once.
#
#   (import ./stub.nix).eval { module = ../../nix/module.nix; config = { … }; }
#
# gives the merged config. The other modules of a NixOS system are stood in for by `base`
# (defaults of the options module.nix reads: boot.initrd.systemd.enable, boot.kernelParams, …),
# which a definition of the case or of the module overrides. Types are not checked here:
# tests/nix/nixos.nix does that against a real nixpkgs.
let
  inherit (builtins)
    all
    any
    attrNames
    concatLists
    concatStringsSep
    elem
    filter
    foldl'
    genericClosure
    head
    isAttrs
    isList
    length
    listToAttrs
    map
    mapAttrs
    match
    replaceStrings
    split
    tail
    ;

  hasPrefix = p: s: builtins.substring 0 (builtins.stringLength p) s == p;
  hasInfix = infix: s: match ".*${escapeRegex infix}.*" s != null;
  escapeRegex = s: replaceStrings (map (c: c) regexChars) (map (c: "\\${c}") regexChars) s;
  regexChars = [ "\\" "[" "]" "(" ")" "{" "}" "." "*" "+" "?" "^" "$" "|" ];

  unique = foldl' (acc: x: if elem x acc then acc else acc ++ [ x ]) [ ];

  mkOption = attrs: attrs // { _type = "option"; };
  isOption = v: isAttrs v && (v._type or null) == "option";

  # a type: enough for the module to declare its options
  mkOptionType = attrs: attrs // { _type = "option-type"; };
  simpleType = name: mkOptionType { inherit name; };

  lib = {
    inherit
      all
      any
      concatStringsSep
      elem
      filter
      hasInfix
      hasPrefix
      mkOption
      mkOptionType
      replaceStrings
      unique
      ;
    concatMap = f: l: concatLists (map f l);
    literalExpression = text: {
      _type = "literalExpression";
      inherit text;
    };
    mkEnableOption = name: mkOption {
      default = false;
      type = simpleType "bool";
      description = "Whether to enable ${name}.";
    };
    mkIf = condition: content: {
      _type = "if";
      inherit condition content;
    };
    mkMerge = contents: {
      _type = "merge";
      inherit contents;
    };
    optional = c: x: if c then [ x ] else [ ];
    optionals = c: xs: if c then xs else [ ];
    versionOlder = a: b: builtins.compareVersions a b < 0;
    toLower = replaceStrings [ "A" "B" "C" "D" "E" "F" ] [ "a" "b" "c" "d" "e" "f" ];
    attrNames = builtins.attrNames;
    splitString = sep: s: filter builtins.isString (split (escapeRegex sep) s);
    options.mergeEqualOption = loc: defs: (head defs).value;
    types = {
      bool = simpleType "bool";
      str = simpleType "str";
      lines = simpleType "lines";
      package = simpleType "package";
      listOf = t: simpleType "listOf";
      attrsOf = t: simpleType "attrsOf";
      enum = values: simpleType "enum";
      nullOr = t: simpleType "nullOr";
      either = a: b: simpleType "either";
      ints.between = lo: hi: simpleType "intBetween";
    };
  };

  # pkgs: what module.nix takes from it
  fakeDrv = name: {
    type = "derivation";
    inherit name;
    outPath = "/nix/store/00000000000000000000000000000000-${name}";
  };
  pkgs = {
    vfio-bind = fakeDrv "vfio-bind-0.1.0";
    writeText = name: text: fakeDrv name // { inherit text; };
    runtimeShell = "/nix/store/00000000000000000000000000000000-bash-5.2/bin/bash";
    callPackage = f: args: fakeDrv "vfio-bind-0.1.0";
  };

  # A leaf: anything but a plain attribute set (a derivation or a literal counts as a leaf).
  isTree = v: isAttrs v && !(v ? _type && elem v._type [ "option" "literalExpression" ]) && (v.type or null) != "derivation";

  # definitions: a tree of mkIf/mkMerge/attrs → { path-leaf … } with lists of { conds; value; }
  # pushDown DEF CONDS: an attrset whose leaves are lists of definitions
  pushDown =
    conds: def:
    if isAttrs def && (def._type or null) == "if" then
      pushDown (conds ++ [ def.condition ]) def.content
    else if isAttrs def && (def._type or null) == "merge" then
      mergeTrees (map (pushDown conds) def.contents)
    else if isTree def then
      { _tree = mapAttrs (_: v: pushDown conds v) def; }
    else
      {
        _defs = [
          {
            inherit conds;
            value = def;
          }
        ];
      };

  mergeTrees =
    trees:
    let
      nodes = filter (t: t ? _tree) trees;
      leaves = filter (t: t ? _defs) trees;
      names = unique (concatLists (map (t: attrNames t._tree) nodes));
    in
    if nodes == [ ] then
      { _defs = concatLists (map (t: t._defs) leaves); }
    else
      {
        _tree = listToAttrs (
          map (n: {
            name = n;
            value = mergeTrees (map (t: t._tree.${n}) (filter (t: t._tree ? ${n}) nodes));
          }) names
        );
      };

  # the value of a merged tree; FALLBACK is the base value at this place (or null)
  valueOf =
    path: fallback: t:
    if t ? _tree then
      let
        fb = if isAttrs fallback then fallback else { };
        names = unique (attrNames t._tree ++ attrNames fb);
      in
      listToAttrs (
        map (n: {
          name = n;
          value =
            if t._tree ? ${n} then
              valueOf (path ++ [ n ]) (fb.${n} or null) t._tree.${n}
            else
              fb.${n};
        }) names
      )
    else
      let
        active = filter (d: all (c: c) d.conds) t._defs;
        values = map (d: d.value) active;
      in
      if active == [ ] then
        (if fallback != null then fallback else if all (d: isList d.value) t._defs then [ ] else null)
      else if all isList values then
        concatLists values
      else if length values == 1 || all (v: v == head values) values then
        head values
      else
        throw "stub: ${concatStringsSep "." path} is defined ${toString (length values)} times with different values";

  # the defaults of an options tree
  defaultsOf =
    opts:
    if isOption opts then
      (opts.default or null)
    else
      mapAttrs (_: defaultsOf) opts;

  # What the rest of NixOS would define, at the priority of a default.
  base = {
    assertions = [ ];
    warnings = [ ];
    boot = {
      kernelParams = [ ];
      kernelModules = [ ];
      postBootCommands = "";
      kernelPackages.kernel.version = "6.12.1";
      initrd = {
        kernelModules = [ ];
        availableKernelModules = [ ];
        systemd = {
          enable = false;
          storePaths = [ ];
          contents = { };
          services = { };
        };
      };
    };
    environment = {
      etc = { };
      systemPackages = [ ];
    };
    systemd = {
      packages = [ ];
      services = { };
    };
    virtualisation.libvirtd = {
      enable = false;
      hooks.qemu = { };
    };
  };

  eval =
    { module, config }:
    let
      m = import module {
        config = final;
        inherit lib pkgs;
      };
      declared = defaultsOf m.options;
      merged = valueOf [ ] base (
        mergeTrees [
          (pushDown [ ] config)
          (pushDown [ ] m.config)
        ]
      );
      # The case's own services.vfio-bind values win over the option defaults.
      final = merged // {
        services = merged.services // {
          vfio-bind = declared.services.vfio-bind // caseServices // {
            initrd = declared.services.vfio-bind.initrd // (caseServices.initrd or { });
          };
        };
      };
      caseServices = ((valueOf [ ] { } (pushDown [ ] config)).services or { }).vfio-bind or { };
    in
    final;
in
{
  inherit eval lib pkgs;
}
