# Keycloak with the sbomify login theme (built with tailwind from the sbomify
# source's keycloak/themes) and the source's bootstrap script.
{ pkgs, imageLib, inputs, ... }:
let
  sbomify = import ../../../nix/sbomify.nix { inherit pkgs inputs; };
  keycloak = pkgs.keycloak;

  theme = pkgs.stdenvNoCC.mkDerivation {
    pname = "sbomify-keycloak-theme";
    version = sbomify.version;
    src = "${sbomify.src}/keycloak/themes";
    nativeBuildInputs = [ pkgs.tailwindcss ];
    buildPhase = ''
      runHook preBuild
      for css in $(find . -name 'tailwind.css' -o -name 'input.css'); do
        tailwindcss --input "$css" --output "$(dirname "$css")/styles.css" --minify
      done
      runHook postBuild
    '';
    installPhase = ''
      runHook preInstall
      mkdir -p $out/opt/keycloak/themes
      cp -r sbomify $out/opt/keycloak/themes/sbomify
      runHook postInstall
    '';
    meta = { description = "sbomify login theme for Keycloak"; license = pkgs.lib.licenses.asl20; };
  };

  bootstrap = pkgs.runCommand "keycloak-bootstrap" { } ''
    mkdir -p $out/opt/bin $out/opt/keycloak
    cp ${sbomify.src}/bin/keycloak-bootstrap.sh $out/opt/bin/keycloak-bootstrap.sh
    chmod 555 $out/opt/bin/keycloak-bootstrap.sh
    patchShebangs $out/opt/bin
    ln -s ${keycloak}/bin $out/opt/keycloak/bin
  '';
in
{
  version = keycloak.version;
  contents = [
    keycloak pkgs.cacert imageLib.busyboxMinimal pkgs.coreutils pkgs.gnugrep pkgs.gnused
    pkgs.findutils pkgs.curl pkgs.jq theme bootstrap
  ];
  config = {
    Entrypoint = [ "${keycloak}/bin/kc.sh" ];
    Cmd = [ "start-dev" ];
    ExposedPorts = { "8080/tcp" = { }; "8443/tcp" = { }; "9000/tcp" = { }; };
    Env = [ "KC_HOME=/opt/keycloak" "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt" ];
  };
  metadata.licenses = imageLib.licenseOf keycloak;
}
