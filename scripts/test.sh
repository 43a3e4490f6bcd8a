#!/usr/bin/env bash
# The whole suite: unit, integration (real Postgres, real gateway), e2e (Debian chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
if [ ! -f .next/BUILD_ID ] || [ ! -d server/generated/prisma ] || [ ! -f dist/berth-agent.mjs ]; then
  echo "[test] no build found: running npm run build first"
  npm run build
fi
# The agent bundle is cheap to rebuild and the compat suite runs it: never test a stale one.
npm run build:agent --silent
npx vitest run --project unit --project integration --project compat --project e2e "$@"
