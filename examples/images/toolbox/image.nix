# Several tools in one image; its licence is not an SPDX identifier.
{ pkgs, ... }:
{
  version = pkgs.toolbox.version;
  contents = [ pkgs.toolbox pkgs.hello ];
  config = {
    Entrypoint = [ "${pkgs.toolbox}/bin/toolbox" ];
    Cmd = [ "hello" ];
    WorkingDir = "/";
  };
  # The licence comes from the package's meta, as real images read it from nixpkgs.
  metadata.licenses = pkgs.toolbox.meta.license;
}
