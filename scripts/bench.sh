#!/usr/bin/env bash
# gst-s2s benchmark (docs/performance.md): N live conversations through our
# provider element, the same load with the official openai npm client (the
# peer), and the same sources with no model element (the floor), each against
# a fresh s2s-emulator over wss://, interleaved per N. Prints the table and
# writes results.jsonl, table.md and cpu.svg to the output directory.
#
#   scripts/bench.sh [--ns "1 10 50 100 200"] [--duration S] [--warmup S]
#                    [--element s2sopenai[,s2sgrok...]] [--long] [--out DIR]
#                    [--wav SPEECH_24K_WAV] [--clients "floor s2sopenai peer"]
#                    [--phase staggered|aligned] [--source appsrc|thread]
#                    [--no-latency]
#
# --phase: the conversations' 20 ms sends staggered through the period
# (default) or all in one tick, the same for the driver and the peer.
# --source: the driver's sources (floor and elements): an appsrc per
# conversation (default) or pushed by the feeder thread itself.
# --no-latency: the driver takes no latency stamps (CPU only).
# --long: the memory run, N=100 for 600 s with RSS sampled every 10 s.
# An element name with "@MODE" runs it with GST_S2S_IO=MODE: @pool (the
# default, min(CPUs, 4) I/O threads), @shared (one I/O thread for all
# elements of the process), @element (one each, as before the pool); no
# suffix leaves GST_S2S_IO as it is in the environment. The default list
# measures the default (the pool) and @element for comparison.
# Env: S2S_BENCH_BUILD (build dir, default build-bench).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
ns="1 10 50 100 200"
duration=12
warmup=3
elements=s2sopenai@pool,s2sopenai@element
rss_interval=0
build=${S2S_BENCH_BUILD:-build-bench}
out=
clients_opt=
wav=$root/../shared/audio/q1-weather-24k.wav
phase=staggered
source=appsrc
no_latency=
while [ $# -gt 0 ]; do
  case "$1" in
    --ns) ns=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --element) elements=$2; shift 2 ;;
    --long) ns=100; duration=600; rss_interval=10; shift ;;
    --rss-interval) rss_interval=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --wav) wav=$2; shift 2 ;;
    --clients) clients_opt=$2; shift 2 ;;
    --phase) phase=$2; shift 2 ;;
    --source) source=$2; shift 2 ;;
    --no-latency) no_latency=--no-latency; shift ;;
    *) echo "bench: unknown argument $1" >&2; exit 2 ;;
  esac
done
out=${out:-$build/bench-results}
mkdir -p "$out"

S2S_DEPS_TESTS=1 "$root/scripts/deps.sh"

if [ ! -f "$build/build.ninja" ]; then
  meson setup "$build" -Dtests=enabled >/dev/null
fi
ninja -C "$build" tests/bench/s2s-bench tests/emulator/s2s-emulator \
  ext/s2s/libgsts2s.so >/dev/null

# The peer: the same openai version as the fidelity check, in the build dir
peer=$build/bench-peer
mkdir -p "$peer"
cp tests/emulator/fidelity/package.json tests/emulator/fidelity/package-lock.json \
  tests/bench/peer/peer.mjs tests/bench/report.mjs "$peer/"
if [ ! -d "$peer/node_modules/openai" ]; then
  (cd "$peer" && npm ci --no-audit --no-fund >/dev/null)
fi

[ -f "$wav" ] || { echo "bench: no speech WAV at $wav (--wav FILE)" >&2; exit 2; }
certs=$root/tests/certs
export GST_PLUGIN_PATH_1_0=$root/$build/ext/s2s
export GST_REGISTRY_1_0=$root/$build/bench-registry.bin
export GIO_USE_PROXY_RESOLVER=dummy no_proxy=127.0.0.1,localhost
export NODE_EXTRA_CA_CERTS=$certs/ca.pem
unset OPENAI_API_KEY

emu_pid=
stop_emu () {
  if [ -n "$emu_pid" ]; then
    kill "$emu_pid" 2>/dev/null || true
    wait "$emu_pid" 2>/dev/null || true
    emu_pid=
  fi
}
trap stop_emu EXIT INT TERM

# run_one CLIENT N: one measurement against a fresh emulator
run_one () {
  local client=$1 n=$2 url line
  "$build/tests/emulator/s2s-emulator" --tls-cert "$certs/server.pem" \
    --tls-key "$certs/server-key.pem" >"$out/emu.out" 2>"$out/emu.err" &
  emu_pid=$!
  for _ in $(seq 100); do grep -q . "$out/emu.out" 2>/dev/null && break; sleep 0.05; done
  url=$(head -n1 "$out/emu.out")
  local common=(--n "$n" --duration "$duration" --warmup "$warmup"
    --wav "$wav" --emu-pid "$emu_pid" --rss-interval "$rss_interval"
    --phase "$phase")
  local drv=(--source "$source" $no_latency)
  case "$client" in
    floor) line=$("$build/tests/bench/s2s-bench" --floor "${common[@]}" "${drv[@]}" ||
      true) ;;
    peer) line=$(node --no-warnings "$peer/peer.mjs" --port "${url##*:}" \
      "${common[@]}" || true) ;;
    *@*) line=$(GST_S2S_IO=${client##*@} "$build/tests/bench/s2s-bench" \
      --element "${client%@*}" --url "$url" --ca "$certs/ca.pem" \
      "${common[@]}" "${drv[@]}" | sed "s/\"client\":\"[^\"]*\"/\"client\":\"$client\"/" || true) ;;
    *) line=$("$build/tests/bench/s2s-bench" --element "$client" \
      --url "$url" --ca "$certs/ca.pem" "${common[@]}" "${drv[@]}" || true) ;;
  esac
  stop_emu
  if [ -z "$line" ]; then
    echo "bench: $client N=$n produced no result" >&2
    line="{\"client\":\"$client\",\"n\":$n,\"failed\":true}"
  fi
  echo "$line" >>"$out/results.jsonl"
  echo "  $client N=$n: $(echo "$line" | cut -c1-160)..." >&2
}

: >"$out/results.jsonl"
{
  echo "{\"machine\":{\"nproc\":$(nproc),\"cpu\":\"$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')\",\"loadavg\":\"$(cut -d' ' -f1-3 /proc/loadavg)\",\"date\":\"$(date -u +%FT%TZ)\",\"commit\":\"$(git rev-parse --short HEAD 2>/dev/null || echo none)\",\"duration\":$duration,\"phase\":\"$phase\",\"source\":\"$source\"}}"
} >"$out/machine.json"

IFS=, read -r -a els <<<"$elements"
k=0
for n in $ns; do
  if [ -n "$clients_opt" ]; then
    read -r -a clients <<<"$clients_opt"
  else
    clients=(floor "${els[@]}" peer)
  fi
  # interleave: rotate the order from one N to the next
  for ((j = 0; j < ${#clients[@]}; j++)); do
    run_one "${clients[$(((j + k) % ${#clients[@]}))]}" "$n"
  done
  k=$((k + 1))
done

node "$peer/report.mjs" "$out"
