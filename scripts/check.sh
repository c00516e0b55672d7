#!/usr/bin/env bash
# The whole test suite: unit tests (GstCheck/GstHarness), integration tests
# against s2s-emulator, the emulator's fidelity check with the official
# openai npm client and the fuzz targets' corpora; then the same suite
# against an ASan+UBSan build, the unit tests under valgrind, and a short
# libFuzzer run. Exits non-zero on any failure. (The steps below say which
# tests run in which build.)
#
# CI has 2 cores and 20 minutes, so the steps run in four phases of two
# jobs each, one CPU-bound job beside one that is mostly idle or a build
# (docs/testing.md, "CI layout"). Each job's output is printed whole when
# it ends; every step prints its wall time, and a closing line counts the
# tests of every meson test log.
#
# S2S_CHECK_QUICK=1 runs the plain build's meson test only.
set -uo pipefail
cd "$(dirname "$0")/.."
t0=$(date +%s)
S2S_DEPS_TESTS=1 bash scripts/deps.sh || exit 1
bash scripts/build.sh || exit 1
echo "=== deps and build: $(($(date +%s) - t0)) s"

status=0
logs=build/check-logs
rm -rf "$logs"
mkdir -p "$logs"
rm -f build/meson-logs/testlog*.json build-asan/meson-logs/testlog*.json
times=()
declare -A pid_of

# start NAME CMD…: runs CMD in the background, its output in $logs/NAME
start() {
  local name=$1
  shift
  echo "=== $name: started"
  (
    s=$(date +%s)
    "$@" >"$logs/$name.log" 2>&1
    echo "$? $(($(date +%s) - s))" >"$logs/$name.rc"
  ) &
  pid_of[$name]=$!
}

# finish NAME: waits for it, prints its output, wall time and verdict; a
# job that failed or left no exit code fails the script
finish() {
  local name=$1 rc secs
  wait "${pid_of[$name]}"
  echo "=== $name: output"
  cat "$logs/$name.log"
  if [ -f "$logs/$name.rc" ]; then
    read -r rc secs <"$logs/$name.rc"
  else
    rc=125 secs=?
  fi
  times+=("$(printf '%5s s  %s' "$secs" "$name")")
  if [ "$rc" = 0 ]; then
    echo "=== $name: OK ($secs s)"
  else
    echo "=== $name: FAILED, exit $rc ($secs s)" >&2
    status=1
  fi
}

# step NAME CMD…: in the foreground
step() {
  start "$@"
  finish "$1"
}

phase() {
  echo "=== phase $1 ($(($(date +%s) - t0)) s in)"
}

if [ "${S2S_CHECK_QUICK:-0}" = 1 ]; then
  step "test suite" meson test -C build --print-errorlogs --num-processes 1
else
  # Every test runs once against the ASan+UBSan build, except the long
  # real-time runs (suite long) and the GST_DEBUG=*:9 secrets tests (suite
  # secrets), which run once in the plain build with the unit tests and
  # fuzz corpora.
  phase "1: plain unit tests and fuzz corpora | ASan and libFuzzer builds"
  start "unit tests and fuzz corpora" meson test -C build --print-errorlogs \
    --num-processes 1 --no-suite integration --no-suite emulator
  start "ASan+UBSan and libFuzzer builds" bash -c \
    'bash scripts/sanitize.sh --build-only &&
     if command -v clang >/dev/null 2>&1; then
       bash scripts/fuzz.sh --build-only; fi'
  finish "unit tests and fuzz corpora"
  finish "ASan+UBSan and libFuzzer builds"

  phase "2: ASan+UBSan unit tests and fuzz corpora"
  step "unit tests and fuzz corpora, ASan+UBSan" bash scripts/sanitize.sh \
    --num-processes 2 --logbase testlog-unit --no-suite integration \
    --no-suite emulator --no-suite long --no-suite secrets

  phase "3: valgrind | libFuzzer"
  start "unit tests and fuzz corpora under valgrind" \
    bash scripts/valgrind.sh --num-processes 1 \
    elements/s2sopenai elements/s2s-io-pool fuzz-openai-events-corpus \
    elements/s2sgrok fuzz-grok-events-corpus \
    elements/s2sgemini fuzz-gemini-events-corpus fuzz-base64-corpus \
    transport/s2s-ws fuzz-ws-frames-corpus \
    aws/nova-aws aws/nova-protocol nova/h2client nova/emu-nova base/trace \
    fuzz-eventstream-corpus fuzz-sigv4-verify-corpus fuzz-nova-protocol-corpus
  if command -v clang >/dev/null 2>&1; then
    start "libFuzzer, ${S2S_FUZZ_SECONDS:-10} s a target" \
      bash scripts/fuzz.sh "${S2S_FUZZ_SECONDS:-10}"
  else
    echo "=== libFuzzer: no clang, not run"
  fi
  finish "unit tests and fuzz corpora under valgrind"
  if command -v clang >/dev/null 2>&1; then
    finish "libFuzzer, ${S2S_FUZZ_SECONDS:-10} s a target"
  fi

  phase "4: ASan+UBSan integration | plain long real-time and secrets"
  start "integration and emulator tests, ASan+UBSan" bash scripts/sanitize.sh \
    --num-processes 1 --logbase testlog-integration --suite integration \
    --suite emulator --no-suite long --no-suite secrets
  # (real time and mostly idle; one at a time, as every integration test
  # is is_parallel: false, so --num-processes 2 changes nothing today)
  start "long real-time and secrets tests" meson test -C build --no-rebuild \
    --print-errorlogs --num-processes 2 --suite long --suite secrets \
    --logbase testlog-long
  finish "integration and emulator tests, ASan+UBSan"
  finish "long real-time and secrets tests"
fi

echo "=== wall times"
printf '%s\n' "${times[@]}"
echo "$(($(date +%s) - t0)) s in all"
# Every failed test named again, with the lines of its output that say
# why, so that the tail of a CI log does; then one closing line a CI log
# reader understands, over every run above
python3 - <<'PY' || status=1
import glob, json
passed = failed = skipped = 0
report = []
for log in sorted(glob.glob("build/meson-logs/testlog*.json") +
                  glob.glob("build-asan/meson-logs/testlog*.json")):
    for line in open(log):
        try:
            t = json.loads(line)
            r = t["result"]
        except (ValueError, KeyError):  # a line cut short by a crash, or blank
            continue
        if r in ("OK", "EXPECTEDFAIL"):
            passed += 1
        elif r == "SKIP":
            skipped += 1
        else:
            failed += 1
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            keep = [l for l in out.splitlines()
                    if any(k in l for k in ("Assertion", "FAIL", "ERROR",
                                            "CRITICAL", "Checks", "timed out",
                                            "Sanitizer", "Timeout", "error:"))]
            report.append((log, t.get("name", "?"), r, keep[-25:],
                           out.splitlines()[-15:]))
for log, name, r, keep, tail in report:
    print(f"=== failed: {name} ({r}) in {log}")
    for l in keep:
        print("    " + l[:300])
    print("    --- last lines:")
    for l in tail:
        print("    " + l[:300])
print(f"meson: {passed} passed, {failed} failed, {skipped} skipped")
PY
exit $status
