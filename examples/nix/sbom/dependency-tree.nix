# Metadata of every derivation in the build-time dependency tree of `roots`,
# in the DerivationInfo shape of packages/core/src/types.ts. Data only: no
# policy (purls, licence choice, merging) is decided here.
#
# Plain builtins, no nixpkgs lib, so the example collection (which has no
# nixpkgs) uses this very file; a test keeps the two copies identical.
# Store paths lose their string context: the export must not make Nix build
# (or fetch) every build-time dependency just to name it.
roots:
let
  str = v: builtins.unsafeDiscardStringContext (toString v);
  isDrv = v: builtins.isAttrs v && (v.type or null) == "derivation";

  # A value that throws (a broken meta attribute) is treated as absent.
  try = v: let r = builtins.tryEval v; in if r.success then r.value else null;

  # Attrset without null values, so absent facts are absent keys in the JSON.
  compact = attrs: builtins.removeAttrs attrs (builtins.filter (n: attrs.${n} == null) (builtins.attrNames attrs));

  flatten = v: if builtins.isList v then builtins.concatMap flatten v else [ v ];

  # Derivations among the attribute values a derivation was built from.
  inputsOf = drv:
    builtins.concatMap (v: builtins.filter isDrv (flatten v)) (builtins.attrValues (drv.drvAttrs or { }));

  outputNames = drv: if builtins.isList (drv.outputs or null) then drv.outputs else [ "out" ];

  outputs = drv: builtins.listToAttrs (map (o: { name = o; value = str (drv.${o}.outPath or drv.outPath); }) (outputNames drv));

  license = l:
    if builtins.isString l then l
    else if builtins.isAttrs l then compact {
      spdxId = l.spdxId or null;
      shortName = l.shortName or null;
      fullName = l.fullName or null;
      url = l.url or null;
      free = l.free or null;
    }
    else null;

  licenses = l: if builtins.isList l then map license l else license l;

  stringOrNull = v: if builtins.isString v then v else null;

  identifiers = ids: if !(builtins.isAttrs ids) then null else
    let r = compact {
      cpe = stringOrNull (try (ids.cpe or null));
      purl = stringOrNull (try (ids.purl or null));
      purls = let p = try (ids.purls or null); in if builtins.isList p then builtins.filter builtins.isString p else null;
    }; in if r == { } then null else r;

  maintainers = ms: if !(builtins.isList ms) then null else
    builtins.filter (m: m != null) (map (m: if builtins.isAttrs m then m.name or m.github or null else stringOrNull m) ms);

  metaOf = drv:
    let meta = try (drv.meta or { }); m = if builtins.isAttrs meta then meta else { }; in compact {
      description = stringOrNull (try (m.description or null));
      homepage = let h = try (m.homepage or null); in if builtins.isString h || builtins.isList h then h else null;
      license = licenses (try (m.license or null));
      identifiers = identifiers (try (m.identifiers or null));
      maintainers = maintainers (try (m.maintainers or null));
    };

  srcOf = drv:
    let s = drv.src or null; in
    if !(builtins.isAttrs s) then null
    else
      let urls = s.urls or (if s ? url then [ s.url ] else null); in
      if urls == null then null else compact {
        urls = map str urls;
        hash = if s ? outputHash then str s.outputHash else null;
        rev = if s ? rev then str s.rev else null;
        owner = if s ? owner then str s.owner else null;
        repo = if s ? repo then str s.repo else null;
      };

  patchesOf = drv: let p = drv.patches or null; in if p == null then null else map str (flatten p);

  info = drv: compact {
    drvPath = str drv.drvPath;
    name = drv.name;
    pname = stringOrNull (drv.pname or null);
    version = let v = drv.version or null; in if v == null then null else toString v;
    outputs = outputs drv;
    meta = metaOf drv;
    src = try (srcOf drv);
    patches = try (patchesOf drv);
  };

  walk = builtins.genericClosure {
    startSet = map (d: { key = str d.drvPath; drv = d; }) (builtins.filter isDrv roots);
    operator = item: map (d: { key = str d.drvPath; drv = d; }) (inputsOf item.drv);
  };
in
map (item: info item.drv) walk
