# A stand-in for the parts of nixpkgs the images use (with the real uv2nix,
# pyproject.nix and bun2nix, or their stand-ins in ../stub-inputs.nix), for
# evaluating every image offline. Only what is used exists, so a wrong
# attribute name fails the evaluation; builders take the arguments nixpkgs'
# take (no `...` where nixpkgs has none). Every attribute is listed, with its
# nixpkgs source, in docs/nixpkgs-attributes.md (a test keeps both equal).
# Nothing here is ever built: the tests only instantiate derivations.
#
# `lib` is nixpkgs' real lib where the test has it; a fresh clone without it
# gets the few functions the images' own code calls (./mini-lib.nix).
#
# `traceUse`: every attribute prints "stand-in attribute used: NAME" when it
# is first read, so a test can check that each one is used.
{ system, lib ? import ./mini-lib.nix, traceUse ? false }:
let
  # nixpkgs' platform description where lib has it.
  platform = if lib ? systems then lib.systems.elaborate system else { inherit system; };

  # Attribute values a derivation can take; the rest (functions, plain sets)
  # become JSON, as nixpkgs would pass them with __structuredAttrs.
  drvValue = v:
    if builtins.isFunction v then null
    else if builtins.isAttrs v && !(v ? outPath) then builtins.toJSON v
    else if builtins.isList v then map drvValue v
    else v;

  stubDrv = name: attrs: builtins.derivation ((builtins.mapAttrs (_: drvValue) attrs) // {
    inherit name system;
    builder = "/bin/sh";
    args = [ "-c" "echo stub > $out" ];
  });

  license = spdxId: { inherit spdxId; shortName = spdxId; fullName = spdxId; free = true; };

  # stdenv.mkDerivation: attributes or a function of the final attributes;
  # passthru and meta on the result, overrideAttrs as in nixpkgs.
  mkDerivation = fOrAttrs:
    let
      attrsOf = final: if builtins.isFunction fOrAttrs then fOrAttrs final else fOrAttrs;
      build = attrsFn:
        let
          attrs = lib.fix attrsFn;
          # nixpkgs sanitises the name (lib.strings.sanitizeDerivationName).
          name = (lib.strings.sanitizeDerivationName or (n: n)) (attrs.name or "${attrs.pname}-${attrs.version}");
          drv = stubDrv name (builtins.removeAttrs attrs [ "passthru" "meta" "name" ]);
        in
        drv // (attrs.passthru or { }) // {
          passthru = attrs.passthru or { };
          meta = attrs.meta or { };
          overrideAttrs = f: build (final:
            # f is `prev: {...}` or `final: prev: {...}`, as in nixpkgs.
            let prev = attrsFn final; g = f prev; in
            prev // (if builtins.isFunction g then f final prev else g));
        } // lib.optionalAttrs (attrs ? pname) { inherit (attrs) pname; }
          // lib.optionalAttrs (attrs ? version) { inherit (attrs) version; };
    in
    build attrsOf;

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

  stdenvFor = cc: {
    hostPlatform = platform;
    buildPlatform = platform;
    targetPlatform = platform;
    inherit (platform) isLinux isDarwin;
    inherit mkDerivation cc;
  };
  glibc = pkg "glibc" "2.40-66" "LGPL-2.1-or-later" { linuxHeaders = pkg "linux-headers" "6.16" "GPL-2.0-only" { }; };
  gcc = pkg "gcc" "14.3.0" "GPL-3.0-or-later" { libc = glibc; cc = pkg "gcc-unwrapped" "14.3.0" "GPL-3.0-or-later" { lib = pkg "gcc-unwrapped-lib" "14.3.0" "GPL-3.0-or-later" { }; }; };

  perl = pkg "perl" "5.40.0" "Artistic-1.0-Perl" { };

  # CPython 3.13 with the attributes pyproject.nix and uv2nix read.
  python = pkg "python3" "3.13.7" "Python-2.0" {
    pythonVersion = "3.13";
    passthru = { pythonVersion = "3.13"; implementation = "cpython"; sourceVersion = { major = "3"; minor = "13"; patch = "7"; suffix = ""; }; };
    sitePackages = "lib/python3.13/site-packages";
    implementation = "cpython";
    interpreter = "${python}/bin/python3.13";
    pythonOnBuildForHost = python;
    stdenv = stdenvFor gcc;
  };

  traced = set: if traceUse then builtins.mapAttrs (n: v: builtins.trace "stand-in attribute used: ${n}" v) set else set;

  pkgs = traced {
    inherit lib;
    stdenv = stdenvFor gcc;
    stdenvNoCC = stdenvFor null;
    buildPackages = pkgs;
    inherit perl;
    runtimeShell = "/nix/store/00000000000000000000000000000000-bash/bin/bash";

    # A fixed-output derivation with the file's URL and hash, as nixpkgs'.
    fetchurl = { url ? null, urls ? [ ], name ? baseNameOf (if url != null then url else builtins.head urls), hash ? null, sha256 ? null, passthru ? { }, meta ? { } }:
      stubDrv name { urls = if url != null then [ url ] else urls; outputHashMode = "flat"; outputHash = if hash != null then hash else sha256; } // { inherit passthru meta; };
    autoPatchelfHook = pkg "auto-patchelf-hook" "0" "MIT" { };
    unzip = pkg "unzip" "6.0" "Info-ZIP" { };
    # The libraries a manylinux wheel may link against (nixpkgs' python/manylinux).
    pythonManylinuxPackages = { manylinux1 = [ glibc gcc.cc.lib ]; manylinux2010 = [ glibc gcc.cc.lib ]; manylinux2014 = [ glibc gcc.cc.lib ]; };
    # Builds the bun2nix CLI (a Rust crate with its Cargo.lock).
    rustPlatform.buildRustPackage = mkDerivation;
    # bun.nix takes these as arguments too; sbomify's lock has only registry packages.
    copyPathToStore = builtins.filterSource (_: _: true);
    fetchFromGitHub = _: throw "stand-in: fetchFromGitHub is passed to bun.nix but no package uses it";
    # bun2nix's cache-entry-creator fetches its Zig dependencies with fetchgit.
    fetchgit = { url, rev ? "HEAD", hash ? "", name ? "source", fetchSubmodules ? true, ... }:
      stubDrv name { inherit url rev; outputHashMode = "recursive"; outputHash = hash; };
    linkFarm = name: entries: stubDrv name { entries = builtins.toJSON entries; };
    zig_0_15 = pkg "zig" "0.15.1" "MIT" { hook = pkg "zig-hook" "0.15.1" "MIT" { }; };
    symlinkJoin = { name, paths, postBuild ? "", ... }@args: stubDrv name { inherit paths postBuild; };
    replaceVars = src: replacements: stubDrv (baseNameOf src) { inherit src; replacements = builtins.toJSON replacements; };
    # The trivial builders are stdenv derivations in nixpkgs too (overrideAttrs, passthru).
    runCommand = name: env: script: mkDerivation ({ inherit name; buildCommand = script; } // env);
    writeShellScriptBin = name: text: mkDerivation { inherit name text; buildCommand = "write $text to bin/${name}"; meta.mainProgram = name; };
    writeShellApplication = { name, text, runtimeInputs ? [ ], runtimeEnv ? null, meta ? { }, passthru ? { }, checkPhase ? null, excludeShellChecks ? [ ], extraShellCheckFlags ? [ ], bashOptions ? [ "errexit" "nounset" "pipefail" ], derivationArgs ? { } }:
      mkDerivation { inherit name text runtimeInputs passthru; buildCommand = "write $text to bin/${name}"; meta = meta // { mainProgram = name; }; };
    writeTextDir = path: text: mkDerivation { name = baseNameOf path; inherit text path; buildCommand = "write $text to $path"; };
    callPackage = lib.callPackageWith pkgs;
    newScope = extra: lib.callPackageWith (pkgs // extra);
    inherit pkgs;
    makeSetupHook = { name, propagatedBuildInputs ? [ ], depsTargetTargetPropagated ? [ ], meta ? { }, passthru ? { }, substitutions ? { } }:
      script: stubDrv name { inherit propagatedBuildInputs script; substitutions = builtins.toJSON substitutions; } // passthru;

    dockerTools = {
      # The arguments of nixpkgs' buildLayeredImage that mkImage passes.
      buildLayeredImage =
        { name, tag ? null, contents ? [ ], config ? { }, created ? "1970-01-01T00:00:01Z", compressor ? "gz"
        , extraCommands ? "", fakeRootCommands ? "", maxLayers ? 100
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
    libarchive = pkg "libarchive" "3.8.1" "BSD-3-Clause" { };
    bun = pkg "bun" "1.2.21" "MIT" { };
    # pyproject.nix's hooks: uv builds and installs, ugrep scans dists.
    uv = pkg "uv" "0.8.17" "Apache-2.0" { };
    ugrep = pkg "ugrep" "7.5.0" "BSD-3-Clause" { meta.mainProgram = "ugrep"; };
    yq-go = pkg "yq-go" "4.47.1" "MIT" { };
    tailwindcss_3 = pkg "tailwindcss" "3.4.17" "MIT" { };
    python313 = python;
  };
in
pkgs
