#!/usr/bin/env bash
# The whole suite: unit, integration (real Postgres, real gateway), e2e (Debian chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
export NEXT_TELEMETRY_DISABLED=1
if [ ! -f .next/BUILD_ID ] || [ ! -d server/generated/prisma ] || [ ! -f dist/berth-agent.mjs ]; then
  echo "[test] no build found: running npm run build first"
  npm run build
fi
npx vitest run --project unit --project integration --project e2e "$@"
