# The few nixpkgs lib functions the images' own code calls, for evaluating
# them where nixpkgs' lib is not at hand (a fresh clone, no network). Same
# semantics as nixpkgs' lib/attrsets.nix, lib/lists.nix, lib/strings.nix,
# lib/fixed-points.nix.
rec {
  filterAttrs = pred: set: builtins.removeAttrs set (builtins.filter (n: !(pred n set.${n})) (builtins.attrNames set));
  toList = x: if builtins.isList x then x else [ x ];
  concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
  composeExtensions = f: g: final: prev: let fApplied = f final prev; prev' = prev // fApplied; in fApplied // g final prev';
  composeManyExtensions = builtins.foldl' composeExtensions (_: _: { });
  genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
  mapAttrs' = f: set: builtins.listToAttrs (map (n: f n set.${n}) (builtins.attrNames set));
  fix = f: let x = f x; in x;
  optionalAttrs = cond: set: if cond then set else { };
  assertMsg = pred: msg: pred || builtins.throw msg;
  callPackageWith = autoArgs: fn: args:
    let f = if builtins.isFunction fn then fn else import fn;
    in f (builtins.intersectAttrs (builtins.functionArgs f) autoArgs // args);
  licenses = { asl20 = { spdxId = "Apache-2.0"; shortName = "asl20"; fullName = "Apache License 2.0"; free = true; }; };
}
