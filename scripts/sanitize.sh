#!/usr/bin/env bash
# The whole suite against an ASan+UBSan build in build-asan/. Processes the
# tests start (gst-launch-1.0, gst-inspect-1.0, node) load the instrumented
# plugin, so the sanitizer runtimes are preloaded into all of them. Leaks
# are left to valgrind and the leaks tracer (scripts/valgrind.sh).
#   bash scripts/sanitize.sh [--build-only] [MESON TEST ARGS…]
# --build-only configures and builds build-asan/ and runs nothing.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build-asan/build.ninja ]; then
  meson setup build-asan -Dtests=enabled -Db_sanitize=address,undefined \
    -Db_lundef=false
fi
ninja -C build-asan
if [ "${1:-}" = --build-only ]; then
  exit 0
fi
asan=$(gcc -print-file-name=libasan.so)
ubsan=$(gcc -print-file-name=libubsan.so)
LD_PRELOAD="$asan $ubsan" ASAN_OPTIONS=detect_leaks=0:halt_on_error=1 \
  UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 CK_TIMEOUT_MULTIPLIER=4 \
  meson test -C build-asan --print-errorlogs --timeout-multiplier 5 "$@"
