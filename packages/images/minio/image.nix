# MinIO server with the mc client and a minimal shell for health checks.
{ pkgs, imageLib, ... }:
{
  version = pkgs.minio.version;
  contents = [ pkgs.minio pkgs.minio-client imageLib.busyboxMinimal ];
  config = {
    Entrypoint = [ "${pkgs.minio}/bin/minio" ];
    ExposedPorts = { "9000/tcp" = { }; "9001/tcp" = { }; };
  };
  metadata.licenses = imageLib.licenseOf pkgs.minio;
}
