#!/bin/sh
# Fidelity check of s2s-emulator against the official OpenAI SDK.
# Usage: run-fidelity.sh <path-to-s2s-emulator> <certdir> [wav]
#   certdir holds ca.pem, server.pem, server-key.pem (tests/certs).
#   wav defaults to ../shared/audio/q1-weather-24k.wav from the project root.
# Exit: 0 pass, 1 fail, 77 skip (no node/npm or registry unreachable).
set -u

emulator=${1:?usage: run-fidelity.sh <s2s-emulator> <certdir> [wav]}
certdir=${2:?usage: run-fidelity.sh <s2s-emulator> <certdir> [wav]}
here=$(cd "$(dirname "$0")" && pwd)
wav=${3:-$here/../../../../shared/audio/q1-weather-24k.wav}

command -v node >/dev/null 2>&1 || { echo "SKIP: node not found"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "SKIP: npm not found"; exit 77; }
[ -f "$wav" ] || { echo "SKIP: test audio not found: $wav"; exit 77; }

# Install into a private work dir so the source tree stays clean; reuse it
# between runs when S2S_FIDELITY_DIR is set.
work=${S2S_FIDELITY_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/s2s-fidelity.XXXXXX")}
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/fidelity.mjs" \
  "$here/selftest.mjs" "$work/"
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

rm -f "$work/emulator.out"
"$emulator" --tls-cert "$certdir/server.pem" --tls-key "$certdir/server-key.pem" \
  --log "$work/emulator.log" >"$work/emulator.out" 2>"$work/emulator.err" &
emu_pid=$!
i=0
while ! grep -q . "$work/emulator.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url=$(head -n1 "$work/emulator.out")
port=${url##*:}
case "$url" in
  wss://127.0.0.1:*) ;;
  *) echo "FAIL: emulator did not start: $(cat "$work/emulator.err")"; exit 1 ;;
esac

rc=0
NODE_EXTRA_CA_CERTS="$certdir/ca.pem" node $node_flags --no-warnings \
  "$work/fidelity.mjs" "$port" "$wav" || rc=1
NODE_EXTRA_CA_CERTS="$certdir/ca.pem" node --no-warnings \
  "$work/selftest.mjs" "$emulator" "$certdir" "$wav" || rc=1

kill -TERM "$emu_pid"
wait "$emu_pid"; erc=$?
emu_pid=
if [ $erc -ne 0 ]; then echo "FAIL: emulator exit status $erc"; rc=1; fi
if grep -q 'sk-emulator' "$work/emulator.log"; then
  echo "FAIL: API key leaked into the emulator log"; rc=1
fi
[ $rc -eq 0 ] && echo "PASS" || { echo "--- emulator stderr"; cat "$work/emulator.err"; }
exit $rc
