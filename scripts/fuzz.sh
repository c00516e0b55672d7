#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan into build-fuzz/
# and fuzzes each for SECONDS (default 60), starting from its seed corpus.
#   bash scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=enabled -Dtests=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
fi
targets="openai-events grok-events gemini-events"
for target in $targets; do ninja -C build-fuzz tests/fuzz/fuzz-$target; done
for target in $targets; do
  corpus=$(mktemp -d)
  cp tests/fuzz/corpus/${target%%-*}/* "$corpus"/
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    GST_REGISTRY_1_0="$corpus/registry.bin" GST_PLUGIN_PATH_1_0= \
    build-fuzz/tests/fuzz/fuzz-$target -max_total_time="$seconds" \
    -max_len=65536 -timeout=10 "$corpus"
  rm -rf "$corpus"
done
