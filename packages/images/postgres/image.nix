# PostgreSQL 17: an entrypoint initialises $PGDATA on first start, creates the
# configured user and database, then execs postgres as uid 999.
{ pkgs, imageLib, ... }:
let
  postgresql = pkgs.postgresql_17;
  pgdata = "/var/lib/postgresql/data";

  # Written as files (not generated at run time): the image has no useradd.
  etc = pkgs.runCommand "postgres-etc" { } ''
    mkdir -p $out/etc
    echo 'root:x:0:0:root:/root:/bin/sh' > $out/etc/passwd
    echo 'postgres:x:999:999:PostgreSQL:${pgdata}:/bin/sh' >> $out/etc/passwd
    echo 'root:x:0:' > $out/etc/group
    echo 'postgres:x:999:' >> $out/etc/group
    echo 'hosts: files dns' > $out/etc/nsswitch.conf
    echo 'passwd: files' >> $out/etc/nsswitch.conf
    echo 'group: files' >> $out/etc/nsswitch.conf
  '';

  entrypoint = pkgs.writeShellScriptBin "postgres-entrypoint" ''
    set -euo pipefail
    export PATH=${postgresql}/bin:${imageLib.busyboxMinimal}/bin
    : "''${PGDATA:=${pgdata}}"
    if [ ! -s "$PGDATA/PG_VERSION" ]; then
      pwfile=""
      if [ -n "''${POSTGRES_PASSWORD:-}" ]; then
        pwfile=$(mktemp 2>/dev/null || echo /tmp/pgpass)
        printf '%s' "$POSTGRES_PASSWORD" > "$pwfile"
      fi
      initdb -D "$PGDATA" --username="''${POSTGRES_USER:-postgres}" --auth-local=trust --auth-host=scram-sha-256 \
        ''${pwfile:+--pwfile="$pwfile"}
      [ -n "$pwfile" ] && rm -f "$pwfile"
      echo "listen_addresses = '*'" >> "$PGDATA/postgresql.conf"
      echo "host all all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
      if [ -n "''${POSTGRES_DB:-}" ] && [ "''${POSTGRES_DB}" != "''${POSTGRES_USER:-postgres}" ]; then
        postgres --single -D "$PGDATA" -j postgres <<< "CREATE DATABASE \"$POSTGRES_DB\" OWNER \"''${POSTGRES_USER:-postgres}\";"
      fi
    fi
    exec postgres -D "$PGDATA" "$@"
  '';
in
{
  version = postgresql.version;
  contents = [ postgresql pkgs.cacert pkgs.bash imageLib.busyboxMinimal etc entrypoint ];
  extraCommands = ''
    mkdir -p var/lib/postgresql/data run/postgresql tmp
    chmod 1777 tmp
  '';
  fakeRootCommands = ''
    chown -R 999:999 var/lib/postgresql run/postgresql
  '';
  config = {
    Entrypoint = [ "${entrypoint}/bin/postgres-entrypoint" ];
    ExposedPorts."5432/tcp" = { };
    Env = [ "PGDATA=${pgdata}" "SSL_CERT_FILE=${pkgs.cacert}/etc/ssl/certs/ca-bundle.crt" ];
    User = "999:999";
  };
}
