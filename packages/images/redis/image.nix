# Redis server alone; its licence label comes from nixpkgs meta.
{ pkgs, imageLib, ... }:
{
  version = pkgs.redis.version;
  contents = [ pkgs.redis ];
  config = {
    Entrypoint = [ "${pkgs.redis}/bin/redis-server" ];
    ExposedPorts."6379/tcp" = { };
    Env = [ "REDIS_DATA=/data" ];
  };
  metadata.licenses = imageLib.licenseOf pkgs.redis;
}
