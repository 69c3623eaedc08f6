# A stand-in for the parts of nixpkgs the images use, for evaluating every
# image definition offline. Only what the images touch exists, so a wrong
# attribute name fails the evaluation; builders take exactly the arguments
# nixpkgs' take (no `...`) where a typo would otherwise pass silently.
# Nothing here is ever built: the tests only instantiate derivations.
{ system }:
let
  stubDrv = name: attrs: builtins.derivation ({
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" "echo stub > $out" ];
  } // attrs);

  license = spdxId: { inherit spdxId; shortName = spdxId; fullName = spdxId; free = true; };

  # A package with the attributes images and the SBOM walk read.
  pkg = pname: version: spdx: extra:
    let
      drv = stubDrv "${pname}-${version}" { inherit pname version; };
      self = drv // {
        inherit pname version;
        meta = { description = "${pname} (stub)"; homepage = "https://example.invalid/${pname}"; license = license spdx; };
        overrideAttrs = f: self // (f self);
        override = _: self;
      } // extra;
    in self;

  lib = rec {
    filterAttrs = pred: set: builtins.removeAttrs set (builtins.filter (n: !(pred n set.${n})) (builtins.attrNames set));
    toList = x: if builtins.isList x then x else [ x ];
    concatMapStringsSep = sep: f: list: builtins.concatStringsSep sep (map f list);
    composeExtensions = f: g: final: prev: let fApplied = f final prev; prev' = prev // fApplied; in fApplied // g final prev';
    composeManyExtensions = builtins.foldl' composeExtensions (_: _: { });
    genAttrs = names: f: builtins.listToAttrs (map (n: { name = n; value = f n; }) names);
    mapAttrs' = f: set: builtins.listToAttrs (map (n: f n set.${n}) (builtins.attrNames set));
    licenses = { asl20 = license "Apache-2.0"; };
  };

  mkDerivation = { pname, version, ... }@attrs:
    stubDrv "${pname}-${version}" (builtins.removeAttrs attrs [ "meta" "passthru" "nativeBuildInputs" "buildInputs" ]
      // { nativeBuildInputs = attrs.nativeBuildInputs or [ ]; })
    // { inherit pname version; meta = attrs.meta or { }; };

  perl = pkg "perl" "5.40.0" "Artistic-1.0-Perl" { };
in
{
  inherit lib system;
  stdenv = { hostPlatform = { inherit system; }; inherit mkDerivation; };
  stdenvNoCC = { hostPlatform = { inherit system; }; inherit mkDerivation; };
  buildPackages = { inherit perl; };
  inherit perl;
  runtimeShell = "/nix/store/00000000000000000000000000000000-bash/bin/bash";

  runCommand = name: env: script: stubDrv name (env // { buildCommand = script; });
  writeShellScriptBin = name: text: stubDrv name { inherit text; };
  writeTextDir = path: text: stubDrv (baseNameOf path) { inherit text path; };
  callPackage = f: args: (if builtins.isFunction f then f else import f) args;

  dockerTools = {
    # The arguments of nixpkgs' buildLayeredImage that mkImage may pass.
    buildLayeredImage =
      { name, tag ? null, contents ? [ ], config ? { }, created ? "1970-01-01T00:00:01Z", compressor ? "gz"
      , extraCommands ? "", fakeRootCommands ? "", enableFakechroot ? false, maxLayers ? 100
      , architecture ? null, fromImage ? null, includeStorePaths ? true, uid ? 0, gid ? 0
      }:
      assert builtins.elem compressor [ "none" "gz" "zstd" ];
      stubDrv "${name}.tar${if compressor == "none" then "" else ".${compressor}"}" {
        inherit contents created extraCommands fakeRootCommands;
        config = builtins.toJSON config;
      };
  };

  busybox = pkg "busybox" "1.36.1" "GPL-2.0-only" {
    override = { enableMinimal ? false, enableStatic ? false, useMusl ? false, extraConfig ? "" }: pkg "busybox" "1.36.1" "GPL-2.0-only" { inherit extraConfig; };
  };
  postgresql_17 = pkg "postgresql" "17.5" "PostgreSQL" { };
  postgresql_16 = pkg "postgresql" "16.9" "PostgreSQL" { pg_config = pkg "pg_config" "16.9" "PostgreSQL" { }; };
  cacert = pkg "nss-cacert" "3.115" "MPL-2.0" { };
  bash = pkg "bash" "5.3" "GPL-3.0-or-later" { };
  redis = pkg "redis" "8.2.1" "AGPL-3.0-only" { };
  minio = pkg "minio" "2025-09-07T16-13-09Z" "AGPL-3.0-or-later" { };
  minio-client = pkg "minio-client" "2025-08-13T08-35-41Z" "AGPL-3.0-or-later" { };
  keycloak = pkg "keycloak" "26.3.3" "Apache-2.0" { };
  caddy = pkg "caddy" "2.10.2" "Apache-2.0" { };
  wget = pkg "wget" "1.25.0" "GPL-3.0-or-later" { };
  coreutils = pkg "coreutils" "9.7" "GPL-3.0-or-later" { };
  gnugrep = pkg "gnugrep" "3.12" "GPL-3.0-or-later" { };
  gnused = pkg "gnused" "4.9" "GPL-3.0-or-later" { };
  gnutar = pkg "gnutar" "1.35" "GPL-3.0-or-later" { };
  findutils = pkg "findutils" "4.10.0" "GPL-3.0-or-later" { };
  curl = pkg "curl" "8.15.0" "curl" { };
  jq = pkg "jq" "1.8.1" "MIT" { };
  osv-scanner = pkg "osv-scanner" "2.2.2" "Apache-2.0" { };
  cosign = pkg "cosign" "2.5.3" "Apache-2.0" { };
  tailwindcss = pkg "tailwindcss" "3.4.17" "MIT" { };
  python313 = pkg "python3" "3.13.7" "Python-2.0" { };
}
