#!/usr/bin/env bash
# Prints the path of a Node 24 binary, installing it on first use. Node 24 ships OpenSSL 3.5,
# whose ML-KEM the node:crypto backend uses; test/node24, `npm run bench:sdk` (its first column)
# and the Node 24 benches run on it. The official build comes from the npm registry (package node-<platform>-<arch>) into
# .cache/, once per checkout; a host already on Node >= 24 uses its own.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(node -p 'Number(process.versions.node.split(".")[0]) >= 24')" = "true" ]; then
  command -v node
  exit 0
fi

NODE24_VERSION=24.21.0
pkg="node-$(node -p 'process.platform + "-" + process.arch')"
dir=".cache/node-$NODE24_VERSION"
bin="$dir/node_modules/$pkg/bin/node"
if [ ! -x "$bin" ]; then
  echo "Installing Node $NODE24_VERSION ($pkg) into $dir..." >&2
  npm install --prefix "$dir" --no-save --no-package-lock --no-audit --no-fund \
    "$pkg@$NODE24_VERSION" >&2
fi
echo "$PWD/$bin"
