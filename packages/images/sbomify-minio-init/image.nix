# Creates sbomify's buckets: the source's bin/create-minio-buckets.sh with the
# Debian path of mc replaced by the Nix minio-client.
{ pkgs, imageLib, inputs, ... }:
let
  sbomify = import ../../../nix/sbomify.nix { inherit pkgs inputs; };
  script = pkgs.runCommand "create-minio-buckets" { } ''
    mkdir -p $out/opt/bin
    substitute ${sbomify.file "bin/create-minio-buckets.sh"} $out/opt/bin/create-minio-buckets.sh \
      --replace-fail /usr/bin/mc ${pkgs.minio-client}/bin/mc
    chmod 555 $out/opt/bin/create-minio-buckets.sh
    patchShebangs $out/opt/bin
  '';
in
{
  version = sbomify.version;
  contents = [ pkgs.minio-client imageLib.busyboxMinimal script ];
  config.Entrypoint = [ "/opt/bin/create-minio-buckets.sh" ];
}
