#!/usr/bin/env bash
# The whole test suite: unit tests (GstCheck/GstHarness), integration tests
# against s2s-emulator, the emulator's fidelity check with the official
# openai npm client and the fuzz targets' corpora; then the same suite
# against an ASan+UBSan build, the unit tests under valgrind, and a short
# libFuzzer run. Exits non-zero on any failure.
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

rm -f build-asan/meson-logs/testlog.json build/meson-logs/testlog-valgrind.json
step "test suite" meson test -C build --print-errorlogs --num-processes 1

if [ "${S2S_CHECK_QUICK:-0}" != 1 ]; then
  # the long real-time runs (suite long) go once, in the plain build
  step "test suite, ASan+UBSan" bash scripts/sanitize.sh --num-processes 1 \
    --no-suite long
  step "unit tests and fuzz corpora under valgrind" \
    bash scripts/valgrind.sh elements/s2sopenai fuzz-openai-events-corpus \
    elements/s2sgrok fuzz-grok-events-corpus \
    elements/s2sgemini fuzz-gemini-events-corpus
  if command -v clang >/dev/null 2>&1; then
    step "libFuzzer, ${S2S_FUZZ_SECONDS:-20} s a target" \
      bash scripts/fuzz.sh "${S2S_FUZZ_SECONDS:-20}"
  else
    echo "=== libFuzzer: no clang, not run"
  fi
fi

# one closing line a CI log reader understands, over every run above
python3 - <<'PY' || true
import json, os
passed = failed = skipped = 0
for log in ("build/meson-logs/testlog.json",
            "build-asan/meson-logs/testlog.json",
            "build/meson-logs/testlog-valgrind.json"):
    if not os.path.exists(log):
        continue
    for line in open(log):
        r = json.loads(line)["result"]
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
print(f"meson: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
