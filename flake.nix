{
  description = "The sbomify image collection: container images built with Nix from one pinned nixpkgs";

  inputs = {
    nixpkgs.url = "github:NixOS/nixpkgs/nixpkgs-unstable";
    sbomify-src = { url = "github:sbomify/sbomify/v26.1.0"; flake = false; };
    pyproject-nix = { url = "github:pyproject-nix/pyproject.nix"; inputs.nixpkgs.follows = "nixpkgs"; };
    uv2nix = { url = "github:pyproject-nix/uv2nix"; inputs.nixpkgs.follows = "nixpkgs"; inputs.pyproject-nix.follows = "pyproject-nix"; };
    pyproject-build-systems = {
      url = "github:pyproject-nix/build-system-pkgs";
      inputs.nixpkgs.follows = "nixpkgs";
      inputs.pyproject-nix.follows = "pyproject-nix";
      inputs.uv2nix.follows = "uv2nix";
    };
    bun2nix = { url = "github:nix-community/bun2nix"; inputs.nixpkgs.follows = "nixpkgs"; };
  };

  outputs = inputs@{ self, nixpkgs, ... }:
    let
      systems = [ "x86_64-linux" "aarch64-linux" ];
      collectionFor = system:
        let
          pkgs = import nixpkgs { inherit system; };
          imageLib = import ./nix { inherit pkgs; };
        in
        import ./nix/collection.nix {
          # Every folder of packages/images with an image.nix is an image.
          imagesDir = ./packages/images;
          inherit (imageLib) mkImage;
          imageArgs = { inherit pkgs imageLib inputs system; };
        };
      perSystem = f: nixpkgs.lib.genAttrs systems (system: f (collectionFor system));
    in
    {
      # packages.<system>.<name>: the image, an uncompressed docker-archive.
      packages = perSystem (images: images);

      # All images' metadata in one evaluation: version, metadata, format and
      # the SBOM input derivation (`closure`) per image.
      imageMetadata = perSystem (images: builtins.mapAttrs (_: image: image.imageMetadata) images);

      # `nix flake check` (CI, with network) builds every image and SBOM input.
      checks = perSystem (images:
        images // nixpkgs.lib.mapAttrs' (name: image: { name = "${name}-sbom-input"; value = image.closureExport; }) images);
    };
}
