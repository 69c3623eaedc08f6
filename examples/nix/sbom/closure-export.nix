# The SBOM input of one image: a JSON file in the ClosureExport shape
# (packages/core/src/types.ts): the runtime closure of the image's contents
# (roots included) with hashes, sizes and references, plus metadata for every
# derivation in the dependency tree.
#
# exportReferencesGraph under __structuredAttrs hands the builder the closure
# with narHash and narSize (Nix 2.8 and later); the perl script only reshapes
# it. Plain builtins, shared verbatim with the example collection.
{ system, perl }:
{ name, version, metadata, roots }:
builtins.derivation {
  name = "${name}-sbom-input.json";
  inherit system;
  builder = perl;
  args = [ ./closure-export.pl ];
  __structuredAttrs = true;
  exportReferencesGraph.closure = roots;
  image = {
    inherit name version metadata;
    roots = map (r: builtins.unsafeDiscardStringContext r.outPath) roots;
  };
  derivations = import ./dependency-tree.nix roots;
}
