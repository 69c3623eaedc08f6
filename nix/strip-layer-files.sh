# Deletes files from the layers of an uncompressed docker-archive and rewrites
# digests, config and manifest so the archive stays consistent.
# Inputs (environment): image = archive, stripPaths = space-separated paths
# relative to a store path, out = where to write. Needs bash, jq, GNU tar,
# coreutils, grep.
set -euo pipefail

work=$(mktemp -d)
tar -xf "$image" -C "$work"
cd "$work"

pattern=""
for p in $stripPaths; do
  pattern="$pattern${pattern:+|}${p//./\\.}"
done
pattern="^(\./)?nix/store/[^/]+/($pattern)\$"

changed=0
layers=()
diff_ids=()
for layer in $(jq -r '.[0].Layers[]' manifest.json); do
  mapfile -t hits < <(tar -tf "$layer" | grep -E "$pattern" || true)
  if [ "${#hits[@]}" -gt 0 ]; then
    echo "stripping from $layer: ${hits[*]}" >&2
    chmod u+w "$layer" "$(dirname "$layer")"
    tar --delete -f "$layer" "${hits[@]}"
    sum=$(sha256sum "$layer" | cut -d' ' -f1)
    if [ "$(dirname "$layer")" != "$sum" ]; then
      mkdir -p "$sum"
      mv "$layer" "$sum/layer.tar"
      rm -rf "$(dirname "$layer")"
    fi
    layer="$sum/layer.tar"
    changed=1
  fi
  layers+=("$layer")
  diff_ids+=("sha256:$(sha256sum "$layer" | cut -d' ' -f1)")
done

if [ "$changed" = 0 ]; then
  cp "$image" "$out"
  exit 0
fi

config=$(jq -r '.[0].Config' manifest.json)
diffs_json=$(printf '%s\n' "${diff_ids[@]}" | jq -R . | jq -s .)
layers_json=$(printf '%s\n' "${layers[@]}" | jq -R . | jq -s .)
jq -c --argjson d "$diffs_json" '.rootfs.diff_ids = $d' "$config" > config.new
config_sum=$(sha256sum config.new | cut -d' ' -f1)
chmod u+w "$config" . 2>/dev/null || true
rm -f "$config"
mv config.new "$config_sum.json"
jq -c --arg c "$config_sum.json" --argjson l "$layers_json" '.[0].Config = $c | .[0].Layers = $l' manifest.json > manifest.new
chmod u+w manifest.json 2>/dev/null || true
mv manifest.new manifest.json

tar --create --format=gnu --sort=name --mtime=@1 --owner=0 --group=0 --numeric-owner --file="$out" .
