#!/usr/bin/env python3
# gst-s2s
# Copyright (C) 2026 gst-s2s developers
# SPDX-License-Identifier: LGPL-2.1-or-later
"""s2s-stats on a recorded tracer file.

usage: test-s2s-stats.py S2S_STATS RECORDED.jsonl

- the percentiles s2s-stats prints for a session equal the ones the tracer
  itself wrote in that session's summary line (two implementations, C and
  Python, of the same nearest-rank definition);
- the totals equal the sums over the turn lines;
- a malformed line is reported and skipped, the rest still summarised;
- --element keeps one element; a missing file exits 1;
- the --svg chart parses as XML, with one polyline per series that has
  values and one point per value.
"""

import json
import os
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
LABELS = {
    "ttfa_received_ms": "speech stopped -> first audio received",
    "ttfa_pushed_ms": "speech stopped -> first audio pushed",
    "ttfa_rendered_ms": "speech stopped -> first audio rendered",
    "provider_ttfa_ms": "response started -> first audio received",
    "in_latency_median_ms": "element in (sink pad -> transport), median",
    "out_latency_max_ms": "element out (transport -> src pad), max",
    "tool_result_ms": "tool call -> result (app)",
    "tool_audio_ms": "tool result -> first audio",
}
SERIES = ["provider_ttfa_ms", "ttfa_received_ms", "ttfa_pushed_ms",
          "ttfa_rendered_ms"]

failures = 0


def check(cond, what):
    global failures
    if not cond:
        failures += 1
        print("FAIL: " + what)


def run(stats, *args):
    p = subprocess.run([sys.executable, stats] + list(args),
                       capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def sections(out):
    """{title: [lines]} of the printed summary"""
    res, cur = {}, None
    for line in out.splitlines():
        if line and not line.startswith(" "):
            cur = line
            res[cur] = []
        elif cur is not None:
            res[cur].append(line.strip())
    return res


def row(lines, label):
    for line in lines:
        if line.startswith(label):
            return line[len(label):].split()
    return None


def main():
    stats, recorded = sys.argv[1], sys.argv[2]
    lines = [json.loads(l) for l in open(recorded, encoding="utf-8") if l.strip()]
    turns = [l for l in lines if l["type"] == "turn"]
    summaries = [l for l in lines if l["type"] == "session"]
    check(len(turns) >= 3 and len(summaries) >= 2, "fixture shape")

    rc, out, err = run(stats, recorded)
    check(rc == 0, "exit status %d: %s" % (rc, err))
    secs = sections(out)

    # per session: s2s-stats == the tracer's own summary line
    for s in summaries:
        title = "session %s (element %s, provider %s)" % (
            s["session_id"], s["element"], s["provider"])
        check(title in secs, "no section " + title)
        body = secs.get(title, [])
        check(any(("turns %d," % s["turns"]) in l for l in body),
              "%s: turns" % title)
        for field, label in LABELS.items():
            r = row(body, label)
            lat = s["latency"][field]
            check(r is not None, "%s: no row %s" % (title, label))
            if r is None:
                continue
            check(int(r[0]) == lat["n"], "%s %s: n %s != %d" % (
                title, field, r[0], lat["n"]))
            for col, key in zip(r[1:], ["p50", "p90", "p99", "max"]):
                want = "-" if lat[key] is None else "%.1f" % lat[key]
                check(col == want, "%s %s %s: %s != tracer %s" % (
                    title, field, key, col, want))

    # all sessions: totals are sums over the turn lines
    allsec = [k for k in secs if k.startswith("all sessions")]
    check(len(allsec) == 1, "no all-sessions section")
    body = secs.get(allsec[0], []) if allsec else []
    want = "turns %d, interruptions %d, tool calls %d," % (
        len(turns), sum(t["interruptions"] for t in turns),
        sum(len(t["tool_calls"]) for t in turns))
    check(any(l.startswith(want) for l in body), "totals: want " + want)
    want = "tokens: input %d, output %d," % (
        sum(t["tokens"]["input"] for t in turns),
        sum(t["tokens"]["output"] for t in turns))
    check(any(l.startswith(want) for l in body), "tokens: want " + want)

    with tempfile.TemporaryDirectory() as d:
        # a malformed line: reported, skipped, the rest summarised
        bad = os.path.join(d, "bad.jsonl")
        with open(bad, "w", encoding="utf-8") as f:
            f.write(open(recorded, encoding="utf-8").read())
            f.write('{"type":"turn", truncated\n')
        rc, out2, err2 = run(stats, bad)
        check(rc == 0, "malformed: exit %d" % rc)
        check("not JSON" in err2, "malformed: no message")
        check("1 malformed line(s) skipped" in out2, "malformed: no count")
        check(out2.startswith(out.rstrip("\n")), "malformed: summary changed")

        # --element
        element = turns[0]["element"]
        rc, out3, _ = run(stats, recorded, "--element", element)
        check(rc == 0 and "all sessions" not in out3 and
              ("element %s," % element) in out3, "--element")

        rc, _, err4 = run(stats, os.path.join(d, "missing.jsonl"))
        check(rc == 1 and "s2s-stats:" in err4, "missing file")

        # the chart
        svg = os.path.join(d, "chart.svg")
        rc, _, err5 = run(stats, recorded, "--svg", svg)
        check(rc == 0, "--svg: %s" % err5)
        root = ET.parse(svg).getroot()
        check(root.tag == SVG + "svg", "root is " + root.tag)
        series = [f for f in SERIES
                  if any(t.get(f) is not None for t in turns)]
        check(len(root.findall(SVG + "polyline")) == len(series),
              "polylines %d != %d" % (len(root.findall(SVG + "polyline")),
                                      len(series)))
        points = sum(1 for t in turns for f in SERIES if t.get(f) is not None)
        check(len(root.findall(SVG + "circle")) == points,
              "points %d != %d" % (len(root.findall(SVG + "circle")), points))

    print(out)
    if failures:
        print("%d check(s) failed" % failures)
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
