#!/usr/bin/env python3
# gst-s2s: pools several tracer-overhead runs (tests/bench/tracer-overhead.md)
#
#   tracer-pool.py [--fl] LOG...
#
# Reads the per-child rows of each log (the output of tracer-overhead),
# takes per round the mean CPU time of the slots of kind "none" and of
# kind "s2s" (labels pooled; ".alt" slots, another build, left out; ".fl"
# slots, the fixed layout, only with --fl and then alone), and prints each
# run's s2s / none and the ratio of the summed CPU times over all rounds
# of all runs, with a percentile bootstrap 95 % interval that resamples
# rounds within each run (10 000 times, fixed seed).
import random
import sys


def rounds_of(path, fl):
    rounds = {}
    with open(path) as f:
        for line in f:
            col = line.split()
            if len(col) < 11 or not col[0].isdigit():
                continue
            try:
                cpu = float(col[4])
            except ValueError:
                continue
            slot = col[2]
            if slot.endswith('.alt') or slot.endswith('.fl') != fl:
                continue
            kind = slot.split('.')[0]
            if kind in ('none', 's2s'):
                rounds.setdefault(col[0], {}).setdefault(kind, []).append(cpu)
    return [(sum(v['none']) / len(v['none']), sum(v['s2s']) / len(v['s2s']))
            for v in rounds.values() if 'none' in v and 's2s' in v]


def ratio(pairs):
    return sum(b for _, b in pairs) / sum(a for a, _ in pairs)


def main(argv):
    fl = '--fl' in argv
    paths = [a for a in argv if a != '--fl']
    if not paths:
        sys.exit('usage: tracer-pool.py [--fl] LOG...')
    runs = []
    for path in paths:
        pairs = rounds_of(path, fl)
        if not pairs:
            sys.exit('%s: no round with both kinds' % path)
        runs.append(pairs)
        print('%s: %d rounds, s2s / none %.4f' % (path, len(pairs),
                                                 ratio(pairs)))
    rng = random.Random(20261204)
    boot = []
    for _ in range(10000):
        sample = [rng.choice(r) for r in runs for _ in r]
        boot.append(ratio(sample))
    boot.sort()
    print('pooled: s2s / none %.4f, bootstrap 95 %% %.4f .. %.4f '
          '(%d rounds, %d runs)' % (ratio([p for r in runs for p in r]),
                                    boot[249], boot[9749],
                                    sum(len(r) for r in runs), len(runs)))


if __name__ == '__main__':
    main(sys.argv[1:])
