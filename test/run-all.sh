#!/usr/bin/env bash
# The whole test suite: type check, lint, unit tests, then the sandbox suites (integration and
# end-to-end) against a real kube-apiserver, kwok, moto and the EKS emulator. The sandbox's
# binaries are built on first use into a cache and reused afterwards.
set -uo pipefail
cd "$(dirname "$0")/.."
logs=$(mktemp -d)
passed=0 failed=0 status=0

count() { # adds mocha's "N passing" / "N failing" from a log to the totals
  local p f
  p=$(grep -Eo '^[[:space:]]*[0-9]+ passing' "$1" | grep -Eo '[0-9]+' | tail -1)
  f=$(grep -Eo '^[[:space:]]*[0-9]+ failing' "$1" | grep -Eo '[0-9]+' | tail -1)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
}

stage() { printf '\n==> %s\n' "$*"; }

stage "type check"
npx tsc -p tsconfig.json --noEmit || status=1

stage "lint"
npx eslint . || status=1

stage "unit tests"
npx mocha --config .mocharc.unit.json 2>&1 | tee "$logs/unit.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
count "$logs/unit.log"

stage "sandbox tests (integration and end-to-end)"
npx mocha --config .mocharc.sandbox.json 2>&1 | tee "$logs/sandbox.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
count "$logs/sandbox.log"

[ "$failed" -gt 0 ] && status=1
printf '\n%s passed, %s failed\n' "$passed" "$failed"
exit "$status"
