# Evaluates the real flake (flake.nix + flake.lock) offline, as a current Nix
# evaluates a locked flake: every locked input is fetched by `fetchTree` from
# its lock entry (found in the store when its tree was added there), inputs
# are wired as the lock says (follows included), and a flake input carries
# `_type = "flake"`. Nix 2.8's own flake evaluator cannot be used for this:
# flake-parts (bun2nix's) needs `_type` on inputs and import-tree needs
# `builtins.readFileType` (Nix 2.14), defined here from `readDir` for every
# file the flakes import.
#
#   nix-instantiate --eval --strict --json nix/tests/eval-flake.nix \
#     --arg replaced '{ nixpkgs = /path/to/stand-in; nixpkgs-lib = /path/to/lib-tree; }'
#
# `replaced`: lock nodes (by key) evaluated from another tree instead: the
# nixpkgs stand-in, and nixpkgs' lib where the locked tree is not at hand.
{ root ? ../.., replaced ? { }, system ? "x86_64-linux" }:
let
  lock = builtins.fromJSON (builtins.readFile (root + "/flake.lock"));

  # builtins with readFileType on Nix versions that lack it.
  builtins' = builtins // {
    readFileType = builtins.readFileType or (p: (builtins.readDir (dirOf p)).${baseNameOf (toString p)});
  };
  scope = { builtins = builtins'; import = scopedImport scope; };

  # The node a follows path names.
  follow = path: builtins.foldl' (key: id: nodeKey lock.nodes.${key}.inputs.${id}) lock.root path;
  nodeKey = ref: if builtins.isList ref then follow ref else ref;

  sourceOf = key: node:
    # The repository without what git ignores or keeps to itself.
    if key == lock.root then builtins.path { path = root; name = "source"; filter = p: _: !builtins.elem (baseNameOf p) [ ".git" "node_modules" "dist" ".release" "site" ]; }
    else if replaced ? ${key} then builtins.path { path = replaced.${key}; name = "source"; }
    else builtins.fetchTree node.locked;

  nodes = builtins.mapAttrs (key: node:
    let
      outPath = sourceOf key node;
      sourceInfo = (node.locked or { }) // { inherit outPath; } // (if node ? locked.rev then { shortRev = builtins.substring 0 7 node.locked.rev; } else { });
      inputs = builtins.mapAttrs (_: ref: nodes.${nodeKey ref}) (node.inputs or { });
      flake = scopedImport scope (outPath + "/flake.nix");
      outputs = flake.outputs (inputs // { self = result; });
      result = outputs // sourceInfo // { inherit inputs outputs sourceInfo; _type = "flake"; };
    in
    if node.flake or true then result else sourceInfo) lock.nodes;

  flake = nodes.${lock.root};
in
# What a build needs of every image: its derivation, its SBOM input's, and
# the metadata the release reads.
builtins.mapAttrs (_: image: {
  drvPath = image.drvPath;
  closureDrvPath = image.closureExport.drvPath;
  inherit (image) imageMetadata;
}) flake.packages.${system}
