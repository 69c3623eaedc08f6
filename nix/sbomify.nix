# The sbomify source shared by the sbomify images: pinned by the flake input
# `sbomify-src` (tag v26.1.0); the version is the one its pyproject.toml
# declares, so it cannot drift from the source.
{ pkgs, inputs }:
let
  src = inputs.sbomify-src;
  pyproject = builtins.fromTOML (builtins.readFile "${src}/pyproject.toml");
in
{
  inherit src;
  version = pyproject.project.version;

  # A file or folder of the source, checked to exist when the image is
  # evaluated (a build script would only notice when it runs).
  file = rel:
    let p = "${src}/${rel}"; in
    if builtins.pathExists p then p else throw "the sbomify source (${src}) has no ${rel}";
}
