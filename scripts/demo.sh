#!/usr/bin/env bash
# The main job: a spoken question goes through s2sopenai to the local
# s2s-emulator (OpenAI Realtime GA protocol); the reply is written to
# reply.wav and the transcripts are printed. The emulator does no speech
# recognition: its echo reply is the user's own audio, and the transcripts
# of the demo question come from examples/data/demo-script.json.
#
#   bash scripts/demo.sh [input.wav] [reply.wav]
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD
bash scripts/deps.sh
bash scripts/build.sh >/dev/null

input=${1:-$top/examples/data/question-24k.wav}
output=${2:-$top/reply.wav}
work=$(mktemp -d)
emu_pid=
cleanup() {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

# The emulator prints its URL first, then serves until killed
build/tests/emulator/s2s-emulator --port 0 --log "$work/emulator.log" \
  --script "$top/examples/data/demo-script.json" \
  > "$work/url" 2> "$work/emulator.err" &
emu_pid=$!
for _ in $(seq 100); do [ -s "$work/url" ] && break; sleep 0.05; done
url=$(head -n 1 "$work/url")
echo "emulator: $url"

export GST_PLUGIN_PATH_1_0="$top/build/ext/s2s${GST_PLUGIN_PATH_1_0:+:$GST_PLUGIN_PATH_1_0}"
export GST_REGISTRY_1_0="$work/registry.bin"

gst-launch-1.0 -m \
  filesrc location="$input" ! wavparse ! audioconvert ! audioresample ! \
  s2sopenai url="$url" api-key=demo-key ! \
  wavenc ! filesink location="$output" > "$work/bus.log" 2>&1 || {
  cat "$work/bus.log" >&2
  exit 1
}

# print the final transcripts, in order, from the element messages
sed -n 's/.*s2s-transcript, role=(string)\([a-z]*\), text=(string)\(.*\), final=(boolean)true.*/\1: \2/p' \
  "$work/bus.log" | sed 's/\\//g; s/: "\(.*\)"$/: \1/'
grep -o 's2s-usage, [^;]*session-seconds' "$work/bus.log" |
  sed 's/s2s-usage, /usage: /; s/(gint64)//g; s/, session-seconds//' || true
echo "reply written to $output ($(stat -c %s "$output") bytes)"
