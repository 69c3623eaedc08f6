# The nixpkgs stand-in as a flake, for evaluating the real flake offline: the
# test puts nixpkgs' real `lib/` beside this file and passes the folder with
# `--override-input nixpkgs path:...`. `lib` is nixpkgs' lib; the packages are
# the stand-in (stand-in.nix), never built.
{
  outputs = { self }:
    let
      lib = import ./lib;
      systems = [ "x86_64-linux" "aarch64-linux" "x86_64-darwin" "aarch64-darwin" ];
    in
    {
      inherit lib;
      legacyPackages = lib.genAttrs systems (system: import ./. { inherit system; });
    };
}
