# A script that sources a library and reads a data package.
{ pkgs, ... }:
{
  version = pkgs.greeter.version;
  contents = [ pkgs.greeter ];
  config = {
    Entrypoint = [ "${pkgs.greeter}/bin/greeter" ];
    Cmd = [ "world" ];
    User = "1000:1000";
  };
}
