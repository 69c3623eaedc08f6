# The sbomify application: its Python virtualenv from uv.lock (uv2nix on
# python313), its frontend built by vite from bun dependencies (bun2nix), and
# the Django app with collected static files.
{ pkgs, inputs, sbomify }:
let
  inherit (pkgs) lib;
  python = pkgs.python313;
  system = pkgs.stdenv.hostPlatform.system;

  workspace = inputs.uv2nix.lib.workspace.loadWorkspace { workspaceRoot = sbomify.src; };

  pythonSet = (pkgs.callPackage inputs.pyproject-nix.build.packages { inherit python; }).overrideScope (
    lib.composeManyExtensions [
      inputs.pyproject-build-systems.overlays.default
      (workspace.mkPyprojectOverlay { sourcePreference = "wheel"; })
    ]
  );

  # sbomify's own dependencies without its dependency groups: `deps.default`
  # would add the groups uv installs by default (dev and test tools), which
  # the production image leaves out, as its Dockerfile does (`uv sync --no-dev`).
  runtimeDeps = { sbomify = [ ]; };

  # Every package of the virtualenv but sbomify itself installs from its wheel
  # (uv2nix patches compiled wheels against nixpkgs' manylinux libraries), so
  # no build fixes are needed (docs/adr/0010). One that would build from its
  # sdist fails here by name: it needs a fix in this file first.
  fromSdist = builtins.filter (p: p.pname != "sbomify" && p.passthru.format != "wheel")
    (pythonSet.resolveVirtualEnv runtimeDeps);
  venv =
    assert lib.assertMsg (fromSdist == [ ])
      "sbomify-app: these Python packages would build from source and have no build fixes: ${toString (map (p: p.pname) fromSdist)}";
    pythonSet.mkVirtualEnv "sbomify-env-${sbomify.version}" runtimeDeps;

  bun2nix = inputs.bun2nix.packages.${system}.default;

  frontend = pkgs.stdenv.mkDerivation {
    pname = "sbomify-frontend";
    version = sbomify.version;
    src = sbomify.src;
    nativeBuildInputs = [ bun2nix.hook ];
    # bun.nix: written from the source's bun.lock by bun2nix's converter
    # (packages/release/scripts/bun-nix.mjs; a test checks it matches).
    bunDeps = bun2nix.fetchBunDeps { bunNix = ./bun.nix; };
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
