# Keycloak with the sbomify login theme (built with tailwind from the sbomify
# source's keycloak/) and the source's bootstrap script.
{ pkgs, imageLib, inputs, ... }:
let
  sbomify = import ../../../nix/sbomify.nix { inherit pkgs inputs; };
  keycloak = pkgs.keycloak;

  # sbomify builds the theme's stylesheet with tailwind 3 from its
  # keycloak/ folder (package.json `build`): the same command here.
  theme = pkgs.stdenvNoCC.mkDerivation {
    pname = "sbomify-keycloak-theme";
    version = sbomify.version;
    src = sbomify.file "keycloak";
    nativeBuildInputs = [ pkgs.tailwindcss_3 ];
    css = "themes/sbomify/login/resources/css";
    buildPhase = ''
      runHook preBuild
      tailwindcss -c tailwind.config.ts -i "$css/sbomify.src.css" -o "$css/sbomify.css" --minify
      runHook postBuild
    '';
    installPhase = ''
      runHook preInstall
      mkdir -p $out/opt/keycloak/themes
      cp -r themes/sbomify $out/opt/keycloak/themes/sbomify
      runHook postInstall
    '';
    meta = { description = "sbomify login theme for Keycloak"; license = pkgs.lib.licenses.asl20; };
  };

  bootstrap = pkgs.runCommand "keycloak-bootstrap" { } ''
    mkdir -p $out/opt/bin $out/opt/keycloak
    cp ${sbomify.file "bin/keycloak-bootstrap.sh"} $out/opt/bin/keycloak-bootstrap.sh
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
