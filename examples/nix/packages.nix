# The small packages the example images are made of. Their runtime closures
# reference each other, and they carry nixpkgs-style metadata (pname, version,
# meta.license as SPDX attrsets, a list and a plain name, homepage, src urls and
# hashes, patches) so an SBOM made from them has real data in it. Their
# scripts run with the static busybox below, so the images start with no
# other file system than their closure.
{ mkSource, mkPackage, mkHostBinary }:
rec {
  licenses = {
    cc-by-40 = { spdxId = "CC-BY-4.0"; shortName = "cc-by-40"; fullName = "Creative Commons Attribution 4.0"; url = "https://spdx.org/licenses/CC-BY-4.0.html"; free = true; };
    gpl3Plus = { spdxId = "GPL-3.0-or-later"; shortName = "gpl3Plus"; fullName = "GNU General Public License v3.0 or later"; url = "https://spdx.org/licenses/GPL-3.0-or-later.html"; free = true; };
    gpl2Only = { spdxId = "GPL-2.0-only"; shortName = "gpl2Only"; fullName = "GNU General Public License v2.0 only"; url = "https://spdx.org/licenses/GPL-2.0-only.html"; free = true; };
    mit = { spdxId = "MIT"; shortName = "mit"; fullName = "MIT License"; url = "https://spdx.org/licenses/MIT.html"; free = true; };
    asl20 = { spdxId = "Apache-2.0"; shortName = "asl20"; fullName = "Apache License 2.0"; url = "https://spdx.org/licenses/Apache-2.0.html"; free = true; };
  };

  # Debian's busybox-static (1:1.35.0-4+deb12u1+b1; scripts/setup.sh installs it).
  busybox = mkHostBinary {
    pname = "busybox";
    version = "1.35.0";
    hostPath = "/bin/busybox";
    links = [ "sh" "cat" ];
    hash = {
      x86_64-linux = "sha256-p8rR9MjfqoMOA0X/MqiTMXETQ0tY6ZLOqtGJ5IwTOSY=";
      # Not pinned yet (no arm64 machine to read it from): a build on
      # aarch64-linux fails and prints the hash to put here.
      aarch64-linux = "sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
    };
    meta = {
      description = "Tiny versions of common UNIX utilities in a single small executable (static)";
      homepage = "https://busybox.net";
      license = licenses.gpl2Only;
    };
  };
  sh = "${busybox}/bin/sh";

  greeting-data = mkPackage {
    pname = "greeting-data";
    version = "1.2.0";
    src = mkSource {
      name = "greeting-data-1.2.0.txt";
      urls = [ "https://example.org/greeting-data/greeting-data-1.2.0.txt" ];
      text = "Hello from a Nix-built image\n";
      hash = "sha256-xabZKDQOZFyaeHbQbErylb4c67fIJ6ji0UV01N4yiuk=";
    };
    build = ''
      mkdir -p $out/share/greeting
      cp $src $out/share/greeting/message.txt
    '';
    meta = {
      description = "Messages for the example greeters";
      homepage = "https://example.org/greeting-data";
      license = licenses.cc-by-40;
    };
  };

  hello = mkPackage {
    pname = "hello";
    version = "2.12.1";
    src = mkSource {
      name = "hello-2.12.1.sh";
      urls = [ "mirror://gnu/hello/hello-2.12.1.sh" "https://ftp.gnu.org/gnu/hello/hello-2.12.1.sh" ];
      text = "#!/bin/sh\ncat @data@/share/greeting/message.txt\n";
      hash = "sha256-pwy/cmmQhVWQUtkoGHoyP+uluz0oJFW9iGNVeNQHaIs=";
    };
    deps = [ greeting-data busybox ];
    patches = [ ./patches/hello-exclaim.sed ];
    build = ''
      mkdir -p $out/bin
      sed -e "s|@data@|${greeting-data}|" $src > $out/bin/hello
      for p in $patches; do sed -i -f $p $out/bin/hello; done
      # Run with the image's own shell and cat (the image has no /bin).
      sed -i -e "1s|^#!/bin/sh|#!${sh}|" -e "s|^cat |${busybox}/bin/cat |" $out/bin/hello
      chmod 555 $out/bin/hello
    '';
    meta = {
      description = "Prints a friendly greeting";
      homepage = "https://www.gnu.org/software/hello/";
      license = licenses.gpl3Plus;
      identifiers = { cpe = "cpe:2.3:a:gnu:hello:2.12.1:*:*:*:*:*:*:*"; };
    };
  };

  libgreet = mkPackage {
    pname = "libgreet";
    version = "0.3.1";
    src = mkSource {
      name = "libgreet-0.3.1.sh";
      urls = [ "https://github.com/example/libgreet/archive/v0.3.1.tar.gz" ];
      text = "greet() { printf 'Greetings, %s!\\n' \"\${1:-world}\"; }\n";
      hash = "sha256-YTxTz1dD2toJiJoQ10wPIcTl2YKNvDsnnZ6bOL1SlJU=";
    } // { owner = "example"; repo = "libgreet"; rev = "v0.3.1"; };
    build = ''
      mkdir -p $out/lib
      cp $src $out/lib/greet.sh
    '';
    meta = {
      description = "A shell function library for greetings";
      homepage = "https://github.com/example/libgreet";
      # Dual licensed: a list, as nixpkgs writes it.
      license = [ licenses.mit licenses.asl20 ];
    };
  };

  greeter = mkPackage {
    pname = "greeter";
    version = "1.0.0";
    deps = [ libgreet greeting-data busybox ];
    build = ''
      mkdir -p $out/bin
      {
        echo '#!${sh}'
        echo '. ${libgreet}/lib/greet.sh'
        echo '${busybox}/bin/cat ${greeting-data}/share/greeting/message.txt'
        echo 'greet "$@"'
      } > $out/bin/greeter
      chmod 555 $out/bin/greeter
    '';
    meta = {
      description = "Greets whoever is named on the command line";
      homepage = "https://example.org/greeter";
      license = licenses.asl20;
    };
  };

  toolbox = mkPackage {
    pname = "toolbox";
    version = "0.9";
    deps = [ hello greeter busybox ];
    build = ''
      mkdir -p $out/bin $out/share/doc/toolbox
      {
        echo '#!${sh}'
        echo 'case "''${1:-}" in'
        echo '  hello) exec ${hello}/bin/hello ;;'
        echo '  greet) shift; exec ${greeter}/bin/greeter "$@" ;;'
        echo '  *) echo "usage: toolbox hello|greet [name]" >&2; exit 2 ;;'
        echo 'esac'
      } > $out/bin/toolbox
      chmod 555 $out/bin/toolbox
      echo 'toolbox: runs the other examples' > $out/share/doc/toolbox/README
    '';
    meta = {
      description = "One entry point for the example tools";
      homepage = "https://example.org/toolbox";
      # Not an SPDX licence: a plain name, as some packages carry.
      license = "Example Tools Licence 1.0";
    };
  };
}
