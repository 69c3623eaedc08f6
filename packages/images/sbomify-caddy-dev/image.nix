# Caddy with the development Caddyfile that fronts the sbomify stack: the
# source's Caddyfile.dev, which sbomify's own compose file mounts at the same place.
{ pkgs, imageLib, inputs, ... }:
let
  sbomify = import ../../../nix/sbomify.nix { inherit pkgs inputs; };
  caddyfile = pkgs.writeTextDir "etc/caddy/Caddyfile" (builtins.readFile (sbomify.file "Caddyfile.dev"));
in
{
  version = pkgs.caddy.version;
  contents = [ pkgs.caddy pkgs.cacert pkgs.wget caddyfile ];
  config = {
    Entrypoint = [ "${pkgs.caddy}/bin/caddy" ];
    Cmd = [ "run" "--config" "/etc/caddy/Caddyfile" "--adapter" "caddyfile" ];
    ExposedPorts."80/tcp" = { };
    Env = [ "XDG_DATA_HOME=/data" "XDG_CONFIG_HOME=/config" "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt" ];
  };
  metadata.licenses = imageLib.licenseOf pkgs.caddy;
}
