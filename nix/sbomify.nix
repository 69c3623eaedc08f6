# The sbomify source shared by sbomify-app and sbomify-minio-init: pinned by
# the flake input `sbomify-src` (tag v26.1.0); the version is the one its
# pyproject.toml declares, so it cannot drift from the source.
{ pkgs, inputs }:
let
  src = inputs.sbomify-src;
  pyproject = builtins.fromTOML (builtins.readFile "${src}/pyproject.toml");
in
{
  inherit src;
  version = pyproject.project.version;
}
