#!/usr/bin/env bash
# Configures (once) and builds gst-s2s in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  meson setup build -Dtests=enabled "$@"
fi
ninja -C build
