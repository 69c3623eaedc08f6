# Creates sbomify's buckets: the source's bin/create-minio-buckets.sh with the
# Debian path of mc replaced by the Nix minio-client. It reads
# AWS_ENDPOINT_URL_S3, MINIO_ROOT_USER, MINIO_ROOT_PASSWORD,
# AWS_MEDIA_STORAGE_BUCKET_NAME and AWS_SBOMS_STORAGE_BUCKET_NAME.
{ pkgs, imageLib, inputs, ... }:
let
  sbomify = import ../../../nix/sbomify.nix { inherit pkgs inputs; };
  script = pkgs.runCommand "create-minio-buckets" { } ''
    mkdir -p $out/opt/bin
    substitute ${sbomify.file "bin/create-minio-buckets.sh"} $out/opt/bin/create-minio-buckets.sh \
      --replace-fail /usr/bin/mc ${pkgs.minio-client}/bin/mc
    # Its `#!/bin/sh` runs with the image's own shell (the minimal busybox's
    # ash): patchShebangs would pick the build's bash and add it to the image.
    sed -i '1s|^#!/bin/sh$|#!${imageLib.busyboxMinimal}/bin/sh|' $out/opt/bin/create-minio-buckets.sh
    chmod 555 $out/opt/bin/create-minio-buckets.sh
  '';
in
{
  version = sbomify.version;
  contents = [ pkgs.minio-client imageLib.busyboxMinimal script ];
  config.Entrypoint = [ "/opt/bin/create-minio-buckets.sh" ];
}
