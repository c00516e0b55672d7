#!/usr/bin/env bash
# meson test --wrapper: runs the test and, while it runs, starves the test's
# own s2s-emulator (a descendant process) with SIGSTOP/SIGCONT, stopped
# STOP_MS of every PERIOD_MS (defaults 40 of 100), like a server's timer
# thread on an overloaded machine. Only descendants of the test are signalled.
# STARVE_MATCH (a grep pattern for the command line, default s2s-emulator)
# picks other descendants: test-errors starves the forked test process, so
# the element's own threads are the late ones.
#
#   STOP_MS=40 meson test -C build --wrapper "$PWD/tests/integration/starve-emulator.sh" integration-bargein
stop_ms=${STOP_MS:-40}
match=${STARVE_MATCH:-s2s-emulator}
period_ms=${PERIOD_MS:-100}
ms() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

"$@" &
top=$!
descendants() {
  local c
  for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
    echo "$c"
    descendants "$c"
  done
}
(
  # stopped at the end (the test done, or this loop killed): never leave an
  # emulator stopped
  p=
  trap 'kill -CONT "$p" 2>/dev/null; exit 0' TERM
  while kill -0 "$top" 2>/dev/null; do
    for p in $(descendants "$top"); do
      if grep -q -- "$match" /proc/"$p"/cmdline 2>/dev/null; then
        kill -STOP "$p" 2>/dev/null
        sleep "$(ms "$stop_ms")"
        kill -CONT "$p" 2>/dev/null
      fi
    done
    sleep "$(ms $((period_ms - stop_ms)))"
  done
) &
starver=$!
wait "$top"
rc=$?
kill "$starver" 2>/dev/null
exit $rc
