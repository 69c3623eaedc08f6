# busybox from its minimal (allnoconfig) configuration plus only the applets
# the images' scripts use: ash (with echo/test builtins) and a small set of
# file and text tools. No networking, no package manager.
{ pkgs }:
let
  applets = [
    "ASH" "ASH_ECHO" "ASH_TEST" "SH_IS_ASH"
    "MKDIR" "CHMOD" "CHOWN" "CP" "LN" "MV" "RM" "RMDIR" "TOUCH"
    "CAT" "LS" "STAT" "ECHO" "TEST" "TRUE" "FALSE" "SLEEP" "ENV" "ID"
    "BASENAME" "DIRNAME" "HEAD" "TAIL" "WC" "SEQ" "YES"
  ];
in
pkgs.busybox.override {
  enableMinimal = true;
  extraConfig = builtins.concatStringsSep "\n" (map (a: "CONFIG_${a} y") applets) + "\nCONFIG_BASH_IS_NONE y\n";
}
