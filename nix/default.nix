# The Nix library shared by the sbomify images: mkImage on top of nixpkgs'
# dockerTools, the minimal busybox, the SBOM input (ClosureExport) and the
# layer post-processing that strips files no image may ship.
{ pkgs }:
let
  inherit (pkgs) lib;

  closureExport = import ./sbom/closure-export.nix {
    system = pkgs.stdenv.hostPlatform.system;
    perl = "${pkgs.buildPackages.perl}/bin/perl";
  };

  # glibc iconv modules hit by CVE-2026-4046 (no upstream fix): never shipped.
  strippedFiles = [ "lib/gconv/IBM1390.so" "lib/gconv/IBM1399.so" ];

  ociLabels = { metadata, version }:
    lib.filterAttrs (_: v: v != null) {
      "org.opencontainers.image.title" = metadata.title or null;
      "org.opencontainers.image.description" = metadata.description or null;
      "org.opencontainers.image.version" = version;
      "org.opencontainers.image.licenses" = metadata.licenses or null;
      "org.opencontainers.image.vendor" = metadata.vendor or null;
      "org.opencontainers.image.url" = metadata.homepage or null;
      "org.opencontainers.image.source" = metadata.source or null;
    };
in
rec {
  inherit ociLabels strippedFiles closureExport;

  busyboxMinimal = import ./busybox-minimal.nix { inherit pkgs; };

  # A package's licence as an OCI label value: SPDX ids where nixpkgs knows
  # them, the licence's name otherwise; several licences are all listed.
  licenseOf = pkg:
    let
      one = l: if builtins.isString l then l else l.spdxId or l.shortName or l.fullName;
      ls = lib.toList (pkg.meta.license or [ ]);
    in
    if ls == [ ] then null else lib.concatMapStringsSep " AND " one ls;

  # Removes `paths` (relative to every store path) from an image's layers and
  # recomputes layer digests, config and manifest. Deleting from the layer
  # itself, rather than whiting the file out in a later layer, keeps the bytes
  # out of the image entirely.
  stripLayerFiles = { image, paths ? strippedFiles }:
    pkgs.runCommand (image.name or "image.tar") {
      nativeBuildInputs = [ pkgs.jq pkgs.gnutar pkgs.coreutils pkgs.gnugrep ];
      inherit image;
      stripPaths = paths;
    } "bash ${./strip-layer-files.sh}";

  # An image: an UNCOMPRESSED docker-archive (layer digests are then a
  # function of content alone), `created` at the epoch, OCI labels, one layer
  # per store path. Returns the archive with `imageMetadata` (read by the
  # release in one `nix eval`) and `closureExport` (the SBOM input).
  mkImage =
    { name
    , version
    , metadata
    , contents
    , config ? { }
    , tag ? version
    , extraCommands ? ""
    , fakeRootCommands ? ""
    , maxLayers ? 100
    }:
    let
      layered = pkgs.dockerTools.buildLayeredImage {
        inherit name tag contents extraCommands fakeRootCommands maxLayers;
        created = "1970-01-01T00:00:01Z";
        compressor = "none";
        config = config // { Labels = ociLabels { inherit metadata version; } // (config.Labels or { }); };
      };
      image = stripLayerFiles { image = layered; };
      sbomInput = closureExport { inherit name version metadata; roots = contents; };
    in
    image // {
      closureExport = sbomInput;
      imageMetadata = {
        inherit name version metadata;
        format = "docker-archive";
        # Store paths of the image and of its SBOM input (derivations print as
        # their out paths in `nix eval --json`), to match build results.
        artifact = image;
        closure = sbomInput;
      };
    };
}
