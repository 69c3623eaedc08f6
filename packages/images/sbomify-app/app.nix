# The sbomify application: its Python virtualenv from uv.lock (uv2nix on
# python313), its frontend built by vite from bun dependencies (bun2nix), and
# the Django app with collected static files.
{ pkgs, inputs, sbomify }:
let
  inherit (pkgs) lib;
  python = pkgs.python313;
  system = pkgs.stdenv.hostPlatform.system;

  workspace = inputs.uv2nix.lib.workspace.loadWorkspace { workspaceRoot = sbomify.src; };

  # psycopg2 builds from source and needs pg_config.
  buildFixes = final: prev: {
    psycopg2 = prev.psycopg2.overrideAttrs (old: {
      nativeBuildInputs = (old.nativeBuildInputs or [ ]) ++ [ pkgs.postgresql_16.pg_config ]
        ++ final.resolveBuildSystem { setuptools = [ ]; };
    });
  };

  pythonSet = (pkgs.callPackage inputs.pyproject-nix.build.packages { inherit python; }).overrideScope (
    lib.composeManyExtensions [
      inputs.pyproject-build-systems.overlays.default
      (workspace.mkPyprojectOverlay { sourcePreference = "wheel"; })
      (inputs.uv2nix-hammer-overrides.overrides pkgs)
      buildFixes
    ]
  );

  venv = pythonSet.mkVirtualEnv "sbomify-env-${sbomify.version}" workspace.deps.default;

  bun2nix = inputs.bun2nix.packages.${system}.default;

  # bun.nix is generated from the source's bun.lock by the bun2nix CLI at
  # evaluation time, so no generated file is kept in this repository.
  bunNix = pkgs.runCommand "sbomify-bun.nix" { nativeBuildInputs = [ bun2nix ]; } ''
    bun2nix --lock-file ${sbomify.src}/bun.lock --output-file $out
  '';

  frontend = pkgs.stdenv.mkDerivation {
    pname = "sbomify-frontend";
    version = sbomify.version;
    src = sbomify.src;
    nativeBuildInputs = [ bun2nix.hook ];
    bunDeps = bun2nix.fetchBunDeps { bunNix = bunNix; };
    buildPhase = ''
      runHook preBuild
      bun run build
      runHook postBuild
    '';
    installPhase = ''
      runHook preInstall
      mkdir -p $out
      cp -r sbomify/static $out/static
      runHook postInstall
    '';
    meta = { description = "sbomify frontend assets"; license = lib.licenses.asl20; };
  };

  app = pkgs.stdenv.mkDerivation {
    pname = "sbomify";
    version = sbomify.version;
    src = sbomify.src;
    nativeBuildInputs = [ venv ];
    dontConfigure = true;
    buildPhase = ''
      runHook preBuild
      cp -r ${frontend}/static/. sbomify/static/
      DJANGO_SETTINGS_MODULE=sbomify.settings SECRET_KEY=collectstatic \
        ${venv}/bin/python manage.py collectstatic --noinput
      runHook postBuild
    '';
    installPhase = ''
      runHook preInstall
      mkdir -p $out/app $out/bin
      cp -r . $out/app
      ln -s ${venv} $out/app/.venv
      cat > $out/bin/sbomify-web <<SCRIPT
      #!${pkgs.runtimeShell}
      cd $out/app
      exec ${venv}/bin/gunicorn sbomify.asgi:application \
        --bind 0.0.0.0:8000 \
        --worker-class uvicorn.workers.UvicornWorker \
        --workers "\''${GUNICORN_WORKERS:-2}" \
        --graceful-timeout 30 \
        --timeout 120
      SCRIPT
      chmod 555 $out/bin/sbomify-web
      runHook postInstall
    '';
    meta = {
      description = "sbomify: SBOM and document management";
      homepage = "https://sbomify.com";
      license = lib.licenses.asl20;
    };
  };
in
{
  inherit app venv frontend;
}
