# The sbomify web application: gunicorn with uvicorn workers on :8000.
{ pkgs, imageLib, inputs, ... }:
let
  sbomify = import ../../../nix/sbomify.nix { inherit pkgs inputs; };
  built = import ./app.nix { inherit pkgs inputs sbomify; };
in
{
  version = sbomify.version;
  contents = [ built.app built.venv imageLib.busyboxMinimal pkgs.cacert pkgs.osv-scanner pkgs.cosign ];
  config = {
    Entrypoint = [ "${built.app}/bin/sbomify-web" ];
    ExposedPorts."8000/tcp" = { };
    WorkingDir = "${built.app}/app";
    Env = [
      "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt"
      "PYTHONDONTWRITEBYTECODE=1"
      "PATH=${built.venv}/bin:${imageLib.busyboxMinimal}/bin"
    ];
  };
}
