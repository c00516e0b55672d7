#!/usr/bin/env bash
# The suite under valgrind memcheck (definite leaks and memory errors fail
# a test). Pass test names to run a subset, e.g. elements/s2sopenai.
# Suite 'long' (real-time tests of minutes) is left out.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "apt-get install valgrind" >&2; exit 1; }
bash scripts/build.sh >/dev/null
CK_TIMEOUT_MULTIPLIER=10 meson test -C build --print-errorlogs \
  --timeout-multiplier 10 --no-suite emulator --no-suite long \
  --wrap="valgrind --error-exitcode=1 --leak-check=full \
    --errors-for-leak-kinds=definite --num-callers=30 \
    --suppressions=/usr/share/glib-2.0/valgrind/glib.supp \
    --suppressions=$PWD/tests/valgrind.supp" "$@"
