#!/usr/bin/env bash
# Starts each built sbomify image with docker, the way sbomify's compose file
# wires them, and checks that it serves: postgres answers a query, redis PING,
# minio's health endpoint, minio-init creates the buckets in that minio,
# keycloak's health endpoint, sbomify-app and caddy answer HTTP. Every failure
# names the image. Needs Nix with network and a working docker (ci.yml).
set -euo pipefail
cd "$(dirname "$0")/.."

IMAGES=(postgres redis minio sbomify-minio-init sbomify-keycloak sbomify-app sbomify-caddy-dev)
for dir in packages/images/*/; do
  name=$(basename "$dir")
  [[ " ${IMAGES[*]} " == *" $name "* ]] || { echo "sbomify-serve: no serve check for image $name: add one here" >&2; exit 2; }
done

system=$(nix eval --raw --impure --expr builtins.currentSystem)
net="sbomify-serve-$$"
failed=()
cleanup() {
  docker ps -aq --filter "label=$net" | xargs -r docker rm -f >/dev/null
  docker network rm "$net" >/dev/null 2>&1 || true
}
trap cleanup EXIT
docker network create "$net" >/dev/null

# The docker tag of a loaded image (the Nix output is a docker-archive).
declare -A TAG
for image in "${IMAGES[@]}"; do
  out=$(nix build --no-link --print-out-paths --no-update-lock-file ".#packages.$system.$image")
  TAG[$image]=$(docker load -i "$out" | sed -n 's/^Loaded image: //p' | tail -1)
  [ -n "${TAG[$image]}" ] || { echo "::error title=sbomify image $image::docker load of $out gave no image"; exit 1; }
done

# start NAME ALIAS [docker run args...] [-- command args]: detached, on the network, port published on loopback.
start() {
  local name=$1 alias=$2
  shift 2
  docker run -d --name "$net-$name" --label "$net" --network "$net" --network-alias "$alias" "$@" >/dev/null
}
hostport() { docker port "$net-$1" "$2" | head -1; }
fail() {
  echo "::error title=sbomify image $1::$2"
  docker logs "$net-$1" 2>&1 | tail -40 || true
  failed+=("$1")
}
# until TRIES CMD...: retries every 2 s.
until_ok() {
  local tries=$1
  shift
  for _ in $(seq "$tries"); do "$@" >/dev/null 2>&1 && return 0; sleep 2; done
  return 1
}
http_status() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1"; }
answers_http() { [ "$(http_status "$1")" != "000" ]; }

DB=(-e POSTGRES_USER=sbomify -e POSTGRES_PASSWORD=sbomify -e POSTGRES_DB=sbomify)
MINIO=(-e MINIO_ROOT_USER=minioadmin -e MINIO_ROOT_PASSWORD=minioadmin)
BUCKETS=(-e AWS_ENDPOINT_URL_S3=http://sbomify-minio:9000 -e AWS_MEDIA_STORAGE_BUCKET_NAME=sbomify-media -e AWS_SBOMS_STORAGE_BUCKET_NAME=sbomify-sboms)

start postgres sbomify-db "${DB[@]}" "${TAG[postgres]}"
pg_query() { [ "$(docker exec -e PGPASSWORD=sbomify "$net-postgres" psql -h 127.0.0.1 -U sbomify -d sbomify -tAc 'select 40 + 2')" = 42 ]; }
until_ok 60 pg_query && echo "postgres: answers a query" || fail postgres "psql -h 127.0.0.1 -U sbomify -d sbomify: no answer to a query"

start redis sbomify-redis "${TAG[redis]}" --protected-mode no
redis_ping() { [ "$(docker exec "$net-redis" redis-cli ping)" = PONG ]; }
until_ok 30 redis_ping && echo "redis: PONG" || fail redis "redis-cli ping: no PONG"

start minio sbomify-minio "${MINIO[@]}" -p 127.0.0.1::9000 "${TAG[minio]}" server /data
minio=$(hostport minio 9000)
minio_live() { [ "$(http_status "http://$minio/minio/health/live")" = 200 ]; }
until_ok 60 minio_live && echo "minio: healthy" || fail minio "http://$minio/minio/health/live did not answer 200"

# minio-init runs to completion against the minio above; the public bucket lists, the private one exists (403, not 404).
if docker run --rm --label "$net" --network "$net" "${MINIO[@]}" "${BUCKETS[@]}" "${TAG[sbomify-minio-init]}"; then
  media=$(http_status "http://$minio/sbomify-media/")
  sboms=$(http_status "http://$minio/sbomify-sboms/")
  if [ "$media" = 200 ] && [ "$sboms" = 403 ]; then echo "sbomify-minio-init: buckets created"; else fail sbomify-minio-init "buckets not as expected: sbomify-media answered $media (want 200), sbomify-sboms $sboms (want 403)"; fi
else
  fail sbomify-minio-init "the bucket script exited non-zero"
fi

start sbomify-keycloak keycloak -e KC_HEALTH_ENABLED=true -e KC_BOOTSTRAP_ADMIN_USERNAME=admin -e KC_BOOTSTRAP_ADMIN_PASSWORD=admin \
  -p 127.0.0.1::9000 "${TAG[sbomify-keycloak]}"
keycloak=$(hostport sbomify-keycloak 9000)
keycloak_ready() { [ "$(http_status "http://$keycloak/health/ready")" = 200 ]; }
until_ok 120 keycloak_ready && echo "sbomify-keycloak: healthy" || fail sbomify-keycloak "http://$keycloak/health/ready did not answer 200"

start sbomify-app sbomify-backend -e AM_I_IN_DOCKER_CONTAINER=1 -e DOCKER_DATABASE_HOST=sbomify-db -e DATABASE_HOST=sbomify-db \
  -e DATABASE_NAME=sbomify -e DATABASE_USER=sbomify -e DATABASE_PASSWORD=sbomify -e DATABASE_PORT=5432 \
  -e REDIS_URL=redis://sbomify-redis:6379 -e SECRET_KEY=serve-check-only -e SIGNED_URL_SALT=serve-check-only \
  -e APP_BASE_URL=http://localhost -e KEYCLOAK_SERVER_URL=http://keycloak:8080/ -e KEYCLOAK_REALM=sbomify \
  -e KEYCLOAK_CLIENT_ID=sbomify -e KEYCLOAK_CLIENT_SECRET=serve-check-only "${BUCKETS[@]}" \
  -e AWS_ACCESS_KEY_ID=minioadmin -e AWS_SECRET_ACCESS_KEY=minioadmin -e AWS_REGION=auto \
  -p 127.0.0.1::8000 "${TAG[sbomify-app]}"
app=$(hostport sbomify-app 8000)
until_ok 60 answers_http "http://$app/" && echo "sbomify-app: answers HTTP $(http_status "http://$app/")" || fail sbomify-app "http://$app/ gave no HTTP answer"

start sbomify-caddy-dev caddy -p 127.0.0.1::80 "${TAG[sbomify-caddy-dev]}"
caddy=$(hostport sbomify-caddy-dev 80)
until_ok 30 answers_http "http://$caddy/" && echo "sbomify-caddy-dev: answers HTTP $(http_status "http://$caddy/")" || fail sbomify-caddy-dev "http://$caddy/ gave no HTTP answer"

if [ ${#failed[@]} -gt 0 ]; then
  echo "sbomify-serve: not serving: ${failed[*]}" >&2
  exit 1
fi
echo "sbomify-serve: all ${#IMAGES[@]} images serve"
