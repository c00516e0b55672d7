#!/usr/bin/env bash
# Installs what gst-s2s needs on Debian 12 (run as root), only what is
# missing. Sourced or run by scripts/demo.sh and scripts/check.sh.
set -euo pipefail

# build and run
pkgs=(gcc pkg-config meson ninja-build gettext
  libglib2.0-dev libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev
  libsoup-3.0-dev libjson-glib-dev libnghttp2-dev libssl-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  glib-networking ca-certificates)
# tests: the fidelity check drives the emulator with the official openai npm
# package; the fuzz targets need clang's libFuzzer
if [ "${S2S_DEPS_TESTS:-0}" = 1 ]; then
  pkgs+=(clang libclang-rt-dev valgrind)
  command -v node >/dev/null 2>&1 || pkgs+=(nodejs)
  command -v npm >/dev/null 2>&1 || pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" ||
    missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  if [ "$(id -u)" != 0 ]; then
    echo "deps: run as root (or install these yourself): ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
