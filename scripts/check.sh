#!/usr/bin/env bash
# The whole test suite: unit tests (GstCheck/GstHarness), integration tests
# against s2s-emulator, the emulator's fidelity check with the official
# openai npm client and the fuzz targets' corpora; then the same suite
# against an ASan+UBSan build, the unit tests under valgrind, and a short
# libFuzzer run. Exits non-zero on any failure. (The steps below say which
# tests run in which build.)
#
# S2S_CHECK_QUICK=1 runs the first part only.
set -uo pipefail
cd "$(dirname "$0")/.."
S2S_DEPS_TESTS=1 bash scripts/deps.sh || exit 1
bash scripts/build.sh || exit 1

status=0
step() {
  local name=$1
  shift
  echo "=== $name"
  if ! "$@"; then
    echo "=== $name: FAILED" >&2
    status=1
  fi
}

rm -f build/meson-logs/testlog*.json build-asan/meson-logs/testlog.json
if [ "${S2S_CHECK_QUICK:-0}" = 1 ]; then
  step "test suite" meson test -C build --print-errorlogs --num-processes 1
else
  # Every test runs once against the ASan+UBSan build, except the long
  # real-time runs (suite long) and the GST_DEBUG=*:9 secrets tests (suite
  # secrets), which run once in the plain build with the unit tests and
  # fuzz corpora: CI has 2 cores and 20 minutes for this.
  step "unit tests and fuzz corpora" meson test -C build --print-errorlogs \
    --num-processes 2 --no-suite integration --no-suite emulator
  # (the long runs are real-time and mostly idle: two at a time)
  step "long real-time and secrets tests" meson test -C build \
    --print-errorlogs --num-processes 2 --suite long --suite secrets \
    --logbase testlog-long
  step "test suite, ASan+UBSan" bash scripts/sanitize.sh --num-processes 1 \
    --no-suite long --no-suite secrets
  step "unit tests and fuzz corpora under valgrind" \
    bash scripts/valgrind.sh --num-processes 2 \
    elements/s2sopenai fuzz-openai-events-corpus \
    elements/s2sgrok fuzz-grok-events-corpus \
    elements/s2sgemini fuzz-gemini-events-corpus fuzz-base64-corpus \
    transport/s2s-ws fuzz-ws-frames-corpus \
    aws/nova-aws aws/nova-protocol nova/h2client nova/emu-nova \
    fuzz-eventstream-corpus fuzz-sigv4-verify-corpus fuzz-nova-protocol-corpus
  if command -v clang >/dev/null 2>&1; then
    step "libFuzzer, ${S2S_FUZZ_SECONDS:-10} s a target" \
      bash scripts/fuzz.sh "${S2S_FUZZ_SECONDS:-10}"
  else
    echo "=== libFuzzer: no clang, not run"
  fi
fi

# one closing line a CI log reader understands, over every run above
python3 - <<'PY' || true
import json, os
passed = failed = skipped = 0
for log in ("build/meson-logs/testlog.json",
            "build/meson-logs/testlog-long.json",
            "build-asan/meson-logs/testlog.json",
            "build/meson-logs/testlog-valgrind.json"):
    if not os.path.exists(log):
        continue
    for line in open(log):
        try:
            r = json.loads(line)["result"]
        except ValueError:  # a line cut short by a crash, or blank
            continue
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"meson: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
