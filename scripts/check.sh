#!/usr/bin/env bash
# The whole test suite: unit tests (GstCheck/GstHarness), integration tests
# against s2s-emulator, the emulator's fidelity check with the official
# openai npm client, and the fuzz targets' corpora. Exits non-zero on any
# failure.
set -euo pipefail
cd "$(dirname "$0")/.."
S2S_DEPS_TESTS=1 bash scripts/deps.sh
bash scripts/build.sh

status=0
meson test -C build --print-errorlogs --num-processes 1 || status=$?

# a short libFuzzer run of every parser target under ASan+UBSan
if command -v clang >/dev/null 2>&1; then
  bash scripts/fuzz.sh "${S2S_FUZZ_SECONDS:-20}" > build/fuzz.log 2>&1 || {
    status=1
    tail -n 60 build/fuzz.log >&2
    echo "fuzz: FAILED (see build/fuzz.log)" >&2
  }
  grep -h "^Done" build/fuzz.log | sed 's/^/fuzz: /' || true
fi

# one closing line a CI log reader understands
python3 - <<'PY' || true
import json
passed = failed = skipped = 0
for line in open("build/meson-logs/testlog.json"):
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
