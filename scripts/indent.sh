#!/usr/bin/env bash
# GStreamer's gst-indent settings (GNU indent), applied to the given C
# files, or to every C file of the project.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v indent >/dev/null || { echo "apt-get install indent" >&2; exit 1; }
files=("$@")
[ ${#files[@]} -gt 0 ] || mapfile -t files < <(git ls-files '*.c' | grep -v '^tests/fuzz/corpus/')
for f in "${files[@]}"; do
  indent --braces-on-if-line --case-brace-indentation0 --case-indentation2 \
    --braces-after-struct-decl-line --line-length80 --no-tabs \
    --cuddle-else --dont-line-up-parentheses --continuation-indentation4 \
    --honour-newlines --tab-size8 --indent-level2 \
    --leave-preprocessor-space "$f"
  rm -f "$f~"
done
