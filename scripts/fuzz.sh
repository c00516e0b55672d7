#!/usr/bin/env bash
# Builds the libFuzzer targets with clang, ASan and UBSan into build-fuzz/
# and fuzzes each for SECONDS (default 60), starting from its seed corpus.
#   bash scripts/fuzz.sh [SECONDS]
#   bash scripts/fuzz.sh --build-only   (builds the targets, runs nothing)
# S2S_FUZZ_TARGETS="base64:base64 ..." limits the run to those targets.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build_only=0
if [ "$seconds" = --build-only ]; then
  build_only=1
fi
if [ ! -f build-fuzz/build.ninja ]; then
  CC=clang meson setup build-fuzz -Dfuzzing=enabled -Dtests=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
fi
# target:corpus, as tests/fuzz/meson.build pairs them
targets=${S2S_FUZZ_TARGETS:-"openai-events:openai grok-events:grok
  gemini-events:gemini base64:base64 ws-frames:ws-frames eventstream:eventstream
  sigv4-verify:sigv4-verify nova-protocol:nova-protocol"}
builds=()
for t in $targets; do builds+=("tests/fuzz/fuzz-${t%%:*}"); done
ninja -C build-fuzz "${builds[@]}"
[ "$build_only" = 0 ] || exit 0
for t in $targets; do
  corpus=$(mktemp -d)
  cp "tests/fuzz/corpus/${t#*:}"/* "$corpus"/
  ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
    GST_REGISTRY_1_0="$corpus/registry.bin" GST_PLUGIN_PATH_1_0= \
    "build-fuzz/tests/fuzz/fuzz-${t%%:*}" -max_total_time="$seconds" \
    -max_len=65536 -timeout=10 "$corpus"
  rm -rf "$corpus"
done
