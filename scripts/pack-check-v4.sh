#!/usr/bin/env bash
# The Effect 4 line (effect4/, effect-memcached 2.x) as a user gets it: npm pack (prepack builds a dist/ that carries
# the engine), then a fresh ESM TypeScript project on Node 24 that installs effect@latest and the tarball with a plain
# `npm install` (no --legacy-peer-deps; --engine-strict), type-checks with skipLibCheck false, and runs against a real
# memcached and from CommonJS. The Cache program (cache.ts) runs once the tarball has dist/Cache.js.
# Usage: scripts/pack-check-v4.sh   (needs memcached, the npm registry and `npm ci --prefix effect4`)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
effect4="$root/effect4"
fixtures="$root/scripts/pack-check-v4"
work=$(mktemp -d -t effect-memcached-pack-v4.XXXXXX)
# shellcheck source=pack-check/memcached.sh
. "$root/scripts/pack-check/memcached.sh"
cleanup() {
  stop_memcached
  rm -rf "$work"
}
trap cleanup EXIT

step() { echo "pack-check-v4: $*"; }
fail() { echo "pack-check-v4: $*" >&2; exit 1; }

# Node 24 for everything below, npm included (effect4/scripts/node.sh: npm's Node if >= 22.19, else the bundled 24).
node_bin=$("$effect4/scripts/node.sh" -p 'require("node:path").dirname(process.execPath)')
export PATH="$node_bin:$PATH"

step "npm pack effect4 (prepack builds dist/ with the engine)"
tarball=$(cd "$effect4" && npm pack --silent --pack-destination "$work" | tail -n 1)
tar -tzf "$work/$tarball" >"$work/contents.txt"
for required in package/package.json package/dist/index.js package/dist/index.d.ts package/dist/Serializer.js \
  package/dist/engine/serialization.js package/dist/engine/client.js package/LICENSE package/README.md \
  package/CHANGELOG.md; do
  grep -qx "$required" "$work/contents.txt" || fail "$required is not in $tarball"
done
if grep -E '^package/(src|test|scripts|tools|node_modules|\.build)/|\.ts$' "$work/contents.txt" | grep -v '\.d\.ts$'; then
  fail "the tarball ships files that are not the library's"
fi

typescript=$(node -p 'require(process.argv[1]).devDependencies.typescript' "$effect4/package.json")
app="$work/app"
mkdir "$app"
cp "$fixtures"/basic.ts "$fixtures"/require.cjs "$fixtures"/tsconfig.json "$app/"
printf '{ "name": "pack-check-v4-app", "private": true, "type": "module" }\n' >"$app/package.json"
cd "$app"
step "npm install --engine-strict $tarball effect@latest typescript@$typescript @types/node@^24 (node $(node --version))"
npm install --engine-strict --no-audit --no-fund --loglevel=error \
  "$work/$tarball" effect@latest "typescript@$typescript" "@types/node@^24" >/dev/null
npm ls --all >/dev/null || fail "npm ls: the installed tree has missing or invalid (peer) dependencies"

step "the installed package: its manifest, one effect (the app's), no import outside the package"
node - <<'JS'
const fs = require("node:fs")
const path = require("node:path")
const { builtinModules } = require("node:module")
const pkgDir = "node_modules/effect-memcached"
const pkg = require(`./${pkgDir}/package.json`)
const effect = require("./node_modules/effect/package.json")
const problems = []
const expect = (ok, what) => ok || problems.push(what)
expect(pkg.version.startsWith("2.") && !pkg.private, `version ${pkg.version}, private ${pkg.private}`)
expect(JSON.stringify(Object.keys(pkg.peerDependencies)) === '["effect"]', "peerDependencies: effect only")
expect(Object.keys(pkg.dependencies).join() === "memjs", "dependencies: memjs only")
expect(effect.version.startsWith("4."), `effect@latest is ${effect.version}, not 4.x`)
expect(!fs.existsSync(`${pkgDir}/node_modules/effect`), "a second copy of effect under the package")
const declared = new Set([...Object.keys(pkg.dependencies), ...Object.keys(pkg.peerDependencies)])
const files = fs.readdirSync(`${pkgDir}/dist`, { recursive: true }).filter((f) => /\.(js|d\.ts)$/.test(f))
for (const file of files) {
  const text = fs.readFileSync(path.join(pkgDir, "dist", file), "utf8")
  for (const [, spec] of text.matchAll(/(?<![.\w])(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
    if (spec.startsWith(".")) {
      const target = path.resolve(pkgDir, "dist", path.dirname(file), spec)
      const exists = fs.existsSync(target) || fs.existsSync(target.replace(/\.js$/, ".d.ts"))
      expect(exists && target.startsWith(path.resolve(pkgDir, "dist") + path.sep), `dist/${file} imports ${spec}`)
    } else {
      const name = spec.split("/").slice(0, spec.startsWith("@") ? 2 : 1).join("/")
      expect(spec.startsWith("node:") || builtinModules.includes(spec) || declared.has(name), `dist/${file}: ${spec}`)
    }
  }
}
if (problems.length > 0) {
  console.error(problems.join("\n"))
  process.exit(1)
}
console.log(`  effect-memcached ${pkg.version} (${files.length} files checked) on effect ${effect.version}`)
JS

step "tsc (skipLibCheck false, lib ES2022 without DOM): basic.ts"
npx tsc -p tsconfig.json

start_memcached
step "run on node $(node --version) against memcached on 127.0.0.1:$port"
MEMCACHED_SERVERS="127.0.0.1:$port" node out/basic.js
node require.cjs

if grep -qx package/dist/Cache.js "$work/contents.txt"; then
  step "Cache program: tsc then run (real memcached and MemcachedTest)"
  cp "$fixtures"/cache.ts "$fixtures"/tsconfig.cache.json "$app/"
  npx tsc -p tsconfig.cache.json
  MEMCACHED_SERVERS="127.0.0.1:$port" node out/cache.js
else
  step "Cache program: skipped (no dist/Cache.js in the tarball: effect4/src/Cache.ts does not exist yet)"
fi

step "passed in $SECONDS s"
