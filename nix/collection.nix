# Discovers the image packages of a collection: every directory under
# `imagesDir` holding an image.nix is an image, named by the `image.name` of
# its package.json. Adding a folder adds an image; there is no list to edit.
# Plain builtins: shared verbatim by the real collection (nix/collection.nix).
{ imagesDir, mkImage, imageArgs }:
let
  entries = builtins.readDir imagesDir;
  isImageDir = d: entries.${d} == "directory" && builtins.pathExists (imagesDir + "/${d}/image.nix");
  load = d:
    let
      pkg = builtins.fromJSON (builtins.readFile (imagesDir + "/${d}/package.json"));
      declared = builtins.removeAttrs pkg.image [ "name" "collection" ];
      # image.nix returns mkImage's arguments without name; its `metadata`
      # (e.g. a licence read from nixpkgs meta) completes package.json's.
      spec = import (imagesDir + "/${d}/image.nix") imageArgs;
    in {
      name = pkg.image.name;
      value = mkImage (spec // {
        name = pkg.image.name;
        metadata = declared // (spec.metadata or { });
      });
    };
in
builtins.listToAttrs (map load (builtins.filter isImageDir (builtins.attrNames entries)))
