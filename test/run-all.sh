#!/usr/bin/env bash
# The whole test suite: type check (which also compiles into .build/test), lint, unit tests, then
# the sandbox suites (integration and end-to-end) against a real kube-apiserver, kwok, moto and the
# EKS emulator. The sandbox's binaries are built on first use into a cache and reused afterwards.
# Each stage prints how long it took.
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

stage_started=$SECONDS
stage() {
  [ -n "${stage_name:-}" ] && printf '<== %s: %d s\n' "$stage_name" $((SECONDS - stage_started))
  stage_name="$*" stage_started=$SECONDS
  printf '\n==> %s\n' "$*"
}

# The one type check of the run also compiles everything into .build/test, which the sandbox
# tests start the operator and the kubectl plugin from (test/support/build.ts).
stage "type check and build"
node --import tsx test/support/build.ts || status=1

# Lint and the unit tests side by side: each is one single-threaded process, and the machine has
# two cores. Lint's output is printed after the unit tests', whole.
stage "lint and unit tests"
npx eslint . >"$logs/lint.log" 2>&1 &
lint_pid=$!
npx mocha --config .mocharc.unit.json 2>&1 | tee "$logs/unit.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
count "$logs/unit.log"
if wait "$lint_pid"; then
  printf 'lint: no problems\n'
else
  status=1
  printf 'lint failed:\n'
  cat "$logs/lint.log"
fi

# Split across lanes, each with its own sandbox (test/sandbox-lanes.ts; EKSUP_TEST_LANES, default 4).
# `npm run test:sandbox` runs the same files in one process against one sandbox.
stage "sandbox tests (integration and end-to-end)"
node --import tsx test/sandbox-lanes.ts --logs "$logs/lanes" 2>&1 | tee "$logs/sandbox.log"
[ "${PIPESTATUS[0]}" = 0 ] || status=1
for lane in "$logs"/lanes/lane-*.log; do [ -e "$lane" ] && count "$lane"; done

printf '<== %s: %d s\n' "$stage_name" $((SECONDS - stage_started))
[ "$failed" -gt 0 ] && status=1
printf '\n%s passed, %s failed, in %d s\n' "$passed" "$failed" "$SECONDS"
exit "$status"
