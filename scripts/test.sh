#!/usr/bin/env bash
# The whole test suite from a fresh clone: installs npm dependencies when they are missing or
# stale, checks for Java (DynamoDB Local), installs a Node 24 runtime for test/node24,
# type-checks, lints, then runs vitest. The browser tests use the system Chromium when it is
# installed and otherwise the one the npm package @sparticuz/chromium ships (test/browser/chromium.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "Installing npm dependencies (npm ci)..."
  npm ci --no-audit --no-fund
fi

if ! command -v java >/dev/null 2>&1; then
  echo "error: Java 17+ is needed for DynamoDB Local in the integration tests." >&2
  echo "       Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless" >&2
  exit 1
fi

if [ ! -x /usr/bin/chromium ] && [ -z "${SEALPOST_CHROMIUM:-}" ]; then
  echo "No system Chromium: the browser tests use the one from the npm package @sparticuz/chromium."
fi

# A second runtime: test/node24 runs the SDK's crypto and protocol tests on Node 24, where the
# node:crypto backend takes OpenSSL's ML-KEM (scripts/node24.sh installs it on first use).
SEALPOST_NODE24="$(bash scripts/node24.sh)"
export SEALPOST_NODE24

export AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
npx tsc --noEmit -p tsconfig.json
npx biome check .
exec npx vitest run "$@"
