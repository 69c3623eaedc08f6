{
  description = "Example image collection: built with Nix alone, no nixpkgs and no network";

  # No inputs: everything is builtins.derivation with host tools, so a clone
  # builds offline in seconds (see docs/adr/0001-image-catalog-as-workspace-packages.md).
  outputs = { self }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      collectionFor = system:
        let
          lib = import ./nix { inherit system; };
          pkgs = import ./nix/packages.nix { inherit (lib) mkSource mkPackage mkHostBinary; };
        in
        import ./nix/collection.nix {
          imagesDir = ./images;
          inherit (lib) mkImage;
          imageArgs = { inherit pkgs lib system; };
        };
      perSystem = f: builtins.listToAttrs (map (system: { name = system; value = f (collectionFor system); }) systems);
    in
    {
      # packages.<system>.<name>: the image (uncompressed docker-archive).
      packages = perSystem (images: images);

      # All images' metadata in one evaluation: version, metadata, format and
      # the SBOM input derivation (`closure`) per image.
      imageMetadata = perSystem (images: builtins.mapAttrs (_: image: image.imageMetadata) images);

      # `nix flake check` builds every image and its SBOM input.
      checks = perSystem (images:
        images // builtins.listToAttrs (map (name: { name = "${name}-sbom-input"; value = images.${name}.closureExport; }) (builtins.attrNames images)));
    };
}
