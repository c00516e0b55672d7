#!/bin/sh
# Fidelity check of the s2s-emulator Nova dialect against the official AWS
# SDK for JavaScript v3 (@aws-sdk/client-bedrock-runtime, pinned).
# Usage: run-fidelity-nova.sh <path-to-s2s-emulator> <certdir> [wav]
#   certdir holds ca.pem, server.pem, server-key.pem (tests/certs).
#   wav defaults to ../shared/audio/q1-weather-16k.wav from the project root.
# Exit: 0 pass, 1 fail, 77 skip (no node/npm, registry unreachable, or an
# emulator built without the Nova dialect).
set -u

emulator=${1:?usage: run-fidelity-nova.sh <s2s-emulator> <certdir> [wav]}
certdir=${2:?usage: run-fidelity-nova.sh <s2s-emulator> <certdir> [wav]}
here=$(cd "$(dirname "$0")" && pwd)
wav=${3:-$here/../../../../../shared/audio/q1-weather-16k.wav}

command -v node >/dev/null 2>&1 || { echo "SKIP: node not found"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "SKIP: npm not found"; exit 77; }
[ -f "$wav" ] || { echo "SKIP: test audio not found: $wav"; exit 77; }
"$emulator" --help 2>/dev/null | grep -q -- --nova-port ||
  { echo "SKIP: emulator built without the Nova dialect"; exit 77; }

work=${S2S_FIDELITY_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/s2s-fidelity-nova.XXXXXX")}
mkdir -p "$work"
cp "$here/package.json" "$here/package-lock.json" "$here/fidelity-nova.mjs" \
  "$work/"
emu_pid=
cleanup () {
  [ -n "$emu_pid" ] && kill "$emu_pid" 2>/dev/null && wait "$emu_pid" 2>/dev/null
  [ -z "${S2S_FIDELITY_DIR:-}" ] && rm -rf "$work"
}
trap cleanup EXIT INT TERM

. "$here/../npm-ci.sh"
npm_ci_or_skip node_modules/@aws-sdk/client-bedrock-runtime

rm -f "$work/emulator.out"
"$emulator" --tls-cert "$certdir/server.pem" --tls-key "$certdir/server-key.pem" \
  --nova-port 0 --log "$work/emulator.log" \
  >"$work/emulator.out" 2>"$work/emulator.err" &
emu_pid=$!
i=0
while ! grep -q '^nova ' "$work/emulator.out" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
url=$(sed -n 's/^nova //p' "$work/emulator.out")
port=${url##*:}
case "$url" in
  https://127.0.0.1:*) ;;
  *) echo "FAIL: emulator did not start: $(cat "$work/emulator.err")"; exit 1 ;;
esac

rc=0
NODE_EXTRA_CA_CERTS="$certdir/ca.pem" node --no-warnings \
  "$work/fidelity-nova.mjs" "$port" "$wav" || rc=1

# every event signature was checked, and the secret never reached the log
grep -q '"what":"bad-event-signature"' "$work/emulator.log" &&
  { echo "FAIL: the emulator rejected an event signature of the SDK"; rc=1; }
grep -q 'wJalrXUtnFEMI' "$work/emulator.log" &&
  { echo "FAIL: the secret key is in the emulator log"; rc=1; }
grep -q '"what":"client-goaway"' "$work/emulator.log" ||
  echo "note: the SDK sent no GOAWAY this time"
exit $rc
