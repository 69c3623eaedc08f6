# A shell script and the data package it reads.
{ pkgs, ... }:
{
  version = pkgs.hello.version;
  contents = [ pkgs.hello ];
  config = {
    Entrypoint = [ "${pkgs.hello}/bin/hello" ];
    Env = [ "GREETING_DIR=${pkgs.greeting-data}/share/greeting" ];
  };
}
