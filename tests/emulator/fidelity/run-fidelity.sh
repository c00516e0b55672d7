#!/bin/sh
# Fidelity check of s2s-emulator against the official OpenAI SDK (the
# OpenAI dialect, and the Grok dialect with the SDK set up for xAI) and the
# official Google Gen AI SDK (@google/genai, Gemini Live dialect).
# Usage: run-fidelity.sh <path-to-s2s-emulator> <certdir> [wav]
#   certdir holds ca.pem, server.pem, server-key.pem (tests/certs).
#   wav defaults to ../shared/audio/q1-weather-24k.wav from the project root;
#   the Gemini check uses q1-weather-16k.wav from the same directory.
# Exit: 0 pass, 1 fail, 77 skip (no node/npm or registry unreachable).
set -u

emulator=${1:?usage: run-fidelity.sh <s2s-emulator> <certdir> [wav]}
certdir=${2:?usage: run-fidelity.sh <s2s-emulator> <certdir> [wav]}
here=$(cd "$(dirname "$0")" && pwd)
wav=${3:-$here/../../../../shared/audio/q1-weather-24k.wav}

command -v node >/dev/null 2>&1 || { echo "SKIP: node not found"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "SKIP: npm not found"; exit 77; }
[ -f "$wav" ] || { echo "SKIP: test audio not found: $wav"; exit 77; }
wav16=$(dirname "$wav")/q1-weather-16k.wav
[ -f "$wav16" ] || { echo "SKIP: test audio not found: $wav16"; exit 77; }

# Install into a private work dir so the source tree stays clean; reuse it
# between runs when S2S_FIDELITY_DIR is set.
work=${S2S_FIDELITY_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/s2s-fidelity.XXXXXX")}
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/fidelity.mjs" \
  "$here/fidelity-grok.mjs" "$here/selftest.mjs" "$here/fidelity-gemini.mjs" "$work/"
emu_pid=
cleanup () {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  [ -z "${S2S_FIDELITY_DIR:-}" ] && rm -rf "$work"
}
trap cleanup EXIT INT TERM

. "$here/npm-ci.sh"
npm_ci_or_skip node_modules/openai

# Node 20 has the WHATWG WebSocket (used by OpenAIRealtimeWebSocket) only
# behind a flag; 22+ has it by default.
node_flags=
major=$(node -p 'process.versions.node.split(".")[0]')
# (the flag exists from Node 20.10 on; older Node runs the `ws` client only)
if [ "$major" -lt 22 ] && node --experimental-websocket -e 0 2>/dev/null; then
  node_flags=--experimental-websocket
fi

# start_emulator NAME [args]: TLS emulator logging to $work/NAME.log; sets
# emu_pid and port
start_emulator () {
  name=$1; shift
  rm -f "$work/$name.out"
  "$emulator" --tls-cert "$certdir/server.pem" --tls-key "$certdir/server-key.pem" \
    --log "$work/$name.log" "$@" >"$work/$name.out" 2>"$work/$name.err" &
  emu_pid=$!
  i=0
  while ! grep -q . "$work/$name.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  url=$(head -n1 "$work/$name.out")
  port=${url##*:}
  case "$url" in
    wss://127.0.0.1:*) ;;
    *) echo "FAIL: emulator did not start: $(cat "$work/$name.err")"; exit 1 ;;
  esac
}

# stop_emulator NAME: SIGTERM, exit status 0, no key in its log
stop_emulator () {
  kill -TERM "$emu_pid"
  wait "$emu_pid"; erc=$?
  emu_pid=
  if [ $erc -ne 0 ]; then echo "FAIL: $1 emulator exit status $erc"; rc=1; fi
  if grep -q -e 'sk-emulator' -e 'xai-emulator' "$work/$1.log"; then
    echo "FAIL: API key leaked into the $1 emulator log"; rc=1
  fi
}

start_emulator emulator
rc=0
NODE_EXTRA_CA_CERTS="$certdir/ca.pem" node $node_flags --no-warnings \
  "$work/fidelity.mjs" "$port" "$wav" || rc=1
NODE_EXTRA_CA_CERTS="$certdir/ca.pem" node --no-warnings \
  "$work/selftest.mjs" "$emulator" "$certdir" "$wav" || rc=1
NODE_EXTRA_CA_CERTS="$certdir/ca.pem" node --no-warnings \
  "$work/fidelity-gemini.mjs" "$emulator" "$certdir" "$wav16" || rc=1

stop_emulator emulator

# Grok: the same SDK pointed at the Grok dialect, a 16 kHz turn
wav16=${wav%24k.wav}16k.wav
if [ -f "$wav16" ]; then
  start_emulator emulator-grok --dialect grok
  NODE_EXTRA_CA_CERTS="$certdir/ca.pem" node --no-warnings \
    "$work/fidelity-grok.mjs" "$port" "$wav16" || rc=1
  stop_emulator emulator-grok
else
  echo "FAIL: no 16 kHz test audio for Grok: $wav16"; rc=1
fi
[ $rc -eq 0 ] && echo "PASS" || { echo "--- emulator stderr"; cat "$work/emulator.err" "$work/emulator-grok.err" 2>/dev/null; }
exit $rc
