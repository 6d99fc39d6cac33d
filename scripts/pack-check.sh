#!/usr/bin/env bash
# The package as a user gets it: npm pack, install the tarball into a fresh ESM TypeScript project next to
# effect@^3.22 (no @effect/platform, no @types/memjs), type-check an Effect program and a facade-only program with
# skipLibCheck false, run both against a real memcached started here (the Effect one also in memory), and require()
# the package from CommonJS. Then add @effect/platform and check the KeyValueStore subpath the same way, and then
# @effect/experimental for the MemcachedPersistence subpath.
# Usage: scripts/pack-check.sh   (needs the memcached binary and the npm registry)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
fixtures="$root/scripts/pack-check"
work=$(mktemp -d -t effect-memcached-pack.XXXXXX)
# shellcheck source=pack-check/memcached.sh
. "$fixtures/memcached.sh"
cleanup() {
  stop_memcached
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "pack-check: $*"; }

step "npm pack (prepack builds dist/)"
tarball=$(cd "$root" && npm pack --silent --pack-destination "$work" | tail -n 1)
tar -tzf "$work/$tarball" >"$work/contents.txt"
for required in package/dist/index.js package/dist/index.d.ts package/LICENSE package/README.md package/CHANGELOG.md; do
  grep -qx "$required" "$work/contents.txt" || { echo "pack-check: $required is not in $tarball"; exit 1; }
done
if grep -E '^package/(test|bench|scripts|examples)/' "$work/contents.txt"; then
  echo "pack-check: the tarball ships files that are not the library's"; exit 1
fi

typescript=$(node -p 'require(process.argv[1]).devDependencies.typescript' "$root/package.json")
app="$work/app"
mkdir "$app"
cp "$fixtures"/effect.ts "$fixtures"/facade.ts "$fixtures"/require.cjs "$fixtures"/tsconfig.json "$app/"
printf '{ "name": "pack-check-app", "private": true, "type": "module" }\n' >"$app/package.json"
cd "$app"
step "npm install $tarball effect@^3.22 typescript@$typescript @types/node@^20"
npm install --no-audit --no-fund --loglevel=error "$work/$tarball" "effect@^3.22" "typescript@$typescript" "@types/node@^20" >/dev/null
for absent in @effect/platform @types/memjs; do
  [ ! -e "node_modules/$absent" ] || { echo "pack-check: $absent was installed, but users should not need it"; exit 1; }
done

step "tsc (skipLibCheck false, lib ES2022 without DOM): effect.ts and facade.ts"
npx tsc -p tsconfig.json

start_memcached

step "run: effect program in memory, then both programs against memcached on 127.0.0.1:$port"
node out/effect.js
MEMCACHED_SERVERS="127.0.0.1:$port" node out/effect.js
MEMCACHED_SERVERS="127.0.0.1:$port" node out/facade.js

step "require() from CommonJS (node $(node --version))"
node require.cjs

step "KeyValueStore subpath with @effect/platform@^0.97 added"
cp "$fixtures"/key-value-store.ts "$fixtures"/tsconfig.key-value-store.json "$app/"
npm install --no-audit --no-fund --loglevel=error "@effect/platform@^0.97" >/dev/null
npx tsc -p tsconfig.key-value-store.json
MEMCACHED_SERVERS="127.0.0.1:$port" node out/key-value-store.js

step "MemcachedPersistence subpath with @effect/experimental@^0.61 added"
cp "$fixtures"/persistence.ts "$fixtures"/tsconfig.persistence.json "$app/"
npm install --no-audit --no-fund --loglevel=error "@effect/experimental@^0.61" >/dev/null
npx tsc -p tsconfig.persistence.json
MEMCACHED_SERVERS="127.0.0.1:$port" node out/persistence.js

step "passed in $SECONDS s"
