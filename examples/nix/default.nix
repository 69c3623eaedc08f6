# The example collection's Nix library: the same interface as ../../nix (the
# real images) without nixpkgs. Packages are builtins.derivation built by
# /bin/sh with host tools reached through the sandbox paths of the offline
# Nix config; images are uncompressed docker-archives laid out as
# dockerTools.buildLayeredImage lays them out.
{ system }:
let
  sandboxPath = "/usr/bin:/bin";
  architecture = { x86_64-linux = "amd64"; aarch64-linux = "arm64"; }.${system} or (throw "no image architecture for ${system}");

  closureExport = import ./sbom/closure-export.nix { inherit system; perl = "/usr/bin/perl"; };

  # Only the keys OCI knows; absent facts are absent labels.
  ociLabels = { metadata, version, revision ? null }:
    let
      pairs = {
        "org.opencontainers.image.title" = metadata.title or null;
        "org.opencontainers.image.description" = metadata.description or null;
        "org.opencontainers.image.version" = version;
        "org.opencontainers.image.licenses" = metadata.licenses or null;
        "org.opencontainers.image.vendor" = metadata.vendor or null;
        "org.opencontainers.image.url" = metadata.homepage or null;
        "org.opencontainers.image.source" = metadata.source or null;
        "org.opencontainers.image.revision" = revision;
      };
    in builtins.removeAttrs pairs (builtins.filter (n: pairs.${n} == null) (builtins.attrNames pairs));
in
rec {
  inherit ociLabels;

  # A source fetched "from upstream": a fixed-output derivation whose content is
  # written locally, so it carries real urls and a real hash without network.
  mkSource = { name, urls, text, hash }:
    builtins.derivation {
      inherit name system urls text;
      builder = "/bin/sh";
      args = [ "-c" "printf '%s' \"$text\" > $out" ];
      PATH = sandboxPath;
      outputHashMode = "flat";
      outputHashAlgo = "sha256";
      outputHash = hash;
    };

  # A static binary of the build machine copied into the store, pinned by the
  # NAR hash of the result: a fixed-output derivation, so a different binary
  # (another distribution release) fails the build instead of changing the
  # images. `links` are extra names in bin/ for the same binary.
  # `hash` is per system: the binary differs by architecture.
  mkHostBinary = { pname, version, hostPath, links ? [ ], hash, meta ? { } }:
    let
      name = baseNameOf hostPath;
      drv = builtins.derivation {
        name = "${pname}-${version}";
        inherit pname version system hostPath links;
        builder = "/bin/sh";
        args = [ "-c" ''
          set -eu
          # With merged /usr (/bin a symlink) the sandbox shows /usr, not /bin: the same file is under /usr.
          src=$hostPath; [ -f "$src" ] || src=/usr$hostPath
          [ -f "$src" ] || { echo "$hostPath is missing on the build machine: install ${pname} (see scripts/setup.sh)" >&2; exit 1; }
          mkdir -p $out/bin
          cp "$src" $out/bin/${name}
          chmod 555 $out/bin/${name}
          for l in $links; do ln -s ${name} $out/bin/$l; done
        '' ];
        PATH = sandboxPath;
        outputHashMode = "recursive";
        outputHashAlgo = "sha256";
        outputHash = hash.${system} or (throw "${pname}: no pinned hash for ${system}");
      };
    in drv // { inherit meta; };

  # A package: `build` is a shell script that fills $out from $src and `deps`.
  mkPackage = { pname, version, build, src ? null, deps ? [ ], patches ? [ ], meta ? { } }:
    let
      drv = builtins.derivation ({
        name = "${pname}-${version}";
        inherit pname version system deps patches;
        builder = "/bin/sh";
        args = [ "-c" "set -eu; ${build}" ];
        PATH = sandboxPath;
      } // (if src == null then { } else { inherit src; }));
    in drv // { inherit meta; };

  # An image from `contents` (store paths whose closure makes the file system)
  # and an OCI `config`. The result is the docker-archive, with the metadata
  # the release reads (`imageMetadata`) and the SBOM input (`closureExport`).
  mkImage = { name, version, metadata, contents, config ? { }, tag ? version }:
    let
      fullMetadata = metadata;
      sbomInput = closureExport { inherit name version; metadata = fullMetadata; roots = contents; };
      image = builtins.derivation {
        name = "docker-image-${name}.tar";
        inherit system architecture contents;
        builder = "/bin/sh";
        args = [ "-c" "PATH=${sandboxPath}; export PATH; exec perl ${./docker-archive.pl}" ];
        __structuredAttrs = true;
        exportReferencesGraph.closure = contents;
        imageName = name;
        imageTag = tag;
        created = "1970-01-01T00:00:01Z";
        imageConfig = config // { Labels = ociLabels { metadata = fullMetadata; inherit version; } // (config.Labels or { }); };
      };
    in
    image // {
      closureExport = sbomInput;
      imageMetadata = {
        inherit name version;
        metadata = fullMetadata;
        format = "docker-archive";
        # Store paths of the image and of its SBOM input (derivations print as
        # their out paths in `nix eval --json`), to match build results.
        artifact = image;
        closure = sbomInput;
      };
    };
}
