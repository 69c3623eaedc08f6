# Stand-ins for the flake inputs other than nixpkgs, where the real inputs
# are not at hand (see eval-flake.nix for the evaluation with them): the
# sbomify source is a small fixture tree; uv2nix, pyproject-nix,
# build-system-pkgs and bun2nix expose only the functions the images call,
# with the arguments they accept.
{ system, pkgs }:
let
  stub = name: builtins.derivation { inherit name system; builder = "/bin/sh"; args = [ "-c" "echo stub > $out" ]; };
  pythonPackage = name: stub name // {
    pname = name;
    passthru.format = "wheel";
    overrideAttrs = f: pythonPackage name // (f { nativeBuildInputs = [ ]; });
  };
in
{
  sbomify-src = ./sbomify-src;

  uv2nix.lib.workspace.loadWorkspace = { workspaceRoot }: {
    mkPyprojectOverlay = { sourcePreference }: assert builtins.elem sourcePreference [ "wheel" "sdist" ]; _final: _prev: { sbomify = pythonPackage "sbomify"; };
    deps.default = { sbomify = [ "dev" ]; };
  };

  pyproject-nix.build.packages = { python }: {
    overrideScope = overlay:
      let
        base = {
          psycopg2 = pythonPackage "psycopg2";
          resolveBuildSystem = spec: assert builtins.isAttrs spec; [ (stub "setuptools") ];
          resolveVirtualEnv = deps: assert builtins.isAttrs deps; [ final.sbomify final.psycopg2 ];
          mkVirtualEnv = name: deps: assert builtins.isAttrs deps; stub name;
        };
        final = base // overlay final base;
      in final;
  };

  pyproject-build-systems.overlays.default = _final: _prev: { };

  bun2nix.packages.${system}.default = stub "bun2nix" // {
    hook = stub "bun2nix-hook";
    fetchBunDeps = { bunNix, bunfigPath ? null, npmrcPath ? null, overrides ? { }, useFakeNode ? true, patchShebangs ? true, autoPatchElf ? false }:
      assert builtins.isAttrs (pkgs.callPackage bunNix { fetchurl = pkgs.fetchurl; }); stub "bun-deps";
  };
}
