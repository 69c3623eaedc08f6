# Evaluates every sbomify image against the stand-ins for nixpkgs and the other
# flake inputs, through the same discovery (collection.nix) and library
# (mkImage) the flake uses, and forces what a build would need: the image and
# SBOM input derivations and the metadata the release reads.
# Run: nix-instantiate --eval --strict --json nix/tests/eval-images.nix
{ system ? "x86_64-linux" }:
let
  pkgs = import ./nixpkgs/stand-in.nix { inherit system; };
  inputs = import ./stub-inputs.nix { inherit system pkgs; };
  imageLib = import ../default.nix { inherit pkgs; };
  images = import ../collection.nix {
    imagesDir = ../../packages/images;
    inherit (imageLib) mkImage;
    imageArgs = { inherit pkgs imageLib inputs system; };
  };
in
builtins.mapAttrs (_: image: {
  drvPath = image.drvPath;
  closureDrvPath = image.closureExport.drvPath;
  inherit (image) imageMetadata;
  derivations = builtins.length image.closureExport.derivations;
}) images
