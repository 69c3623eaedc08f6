# `import nixpkgs { system }` for the stand-in flake (see flake.nix).
{ system ? builtins.currentSystem, ... }:
import ./stand-in.nix { inherit system; lib = import ./lib; traceUse = true; }
